//! Local cases: only this agency's analysts see them (the policy says so for
//! every path), and every access is audited.

use std::sync::Arc;

use kawan_protocol::RecordId;

use super::{Caller, Found, Service, ServiceError};
use crate::{
    local::cases::{Case, NewCase},
    policy::Item,
};

impl Service {
    /// Refused unless the caller's path may show case data.
    fn may_see_cases(&self, caller: &Caller) -> Result<(), ServiceError> {
        if self.allows(Item::Case, caller.recipient(), caller.via) {
            Ok(())
        } else {
            Err(ServiceError::forbidden("forbidden", "cases never leave this node through an export"))
        }
    }

    pub async fn create_case(self: &Arc<Self>, caller: Caller, new: NewCase) -> Result<Case, ServiceError> {
        self.may_see_cases(&caller)?;
        self.run(move |s| {
            s.audited(&caller, "case.create", "", || Ok(s.data.cases.create(new)?), |case| case.id.to_string())
        })
        .await
    }

    pub async fn cases(self: &Arc<Self>, caller: Caller) -> Result<Vec<Case>, ServiceError> {
        self.may_see_cases(&caller)?;
        self.run(move |s| {
            let cases = s.data.cases.list()?;
            s.audit_read(&caller, "case.list", &format!("{} cases", cases.len()))?;
            Ok(cases)
        })
        .await
    }

    /// A case and the shared knowledge it links.
    pub async fn case(self: &Arc<Self>, caller: Caller, id: u64) -> Result<(Case, Vec<Found>), ServiceError> {
        self.may_see_cases(&caller)?;
        self.run(move |s| {
            let case = s.data.cases.get(id)?;
            s.audit_read(&caller, "case.read", &id.to_string())?;
            let trust = s.data.store.trust();
            let mut hits = Vec::new();
            for link in case.links.iter().filter_map(|l| l.parse::<RecordId>().ok()) {
                hits.extend(s.data.store.view(&link, trust.as_deref())?);
            }
            let found = s.visible(&caller, hits, trust.as_deref());
            s.consult(&caller, "case.read", found.iter().map(|f| &f.hit))?;
            Ok((case, found))
        })
        .await
    }

    /// Adds a value the case holds locally (normalised; never shared).
    pub async fn add_case_value(
        self: &Arc<Self>,
        caller: Caller,
        id: u64,
        kind: Option<String>,
        value: String,
    ) -> Result<Case, ServiceError> {
        self.may_see_cases(&caller)?;
        let asked = self.asked(kind.as_deref(), &value)?;
        self.run(move |s| {
            let what = format!("{id} {} {}", asked.kind, asked.value);
            let add = || Ok(s.data.cases.add_value(id, asked.kind, &asked.value)?);
            let case = s.audited(&caller, "case.add_value", &what, add, |_| String::new())?;
            s.deconflict.touch();
            Ok(case)
        })
        .await
    }

    /// Links a shared record to a case.
    pub async fn link_case(self: &Arc<Self>, caller: Caller, id: u64, record: &str) -> Result<Case, ServiceError> {
        self.may_see_cases(&caller)?;
        let record: RecordId = ServiceError::parse("record", record)?;
        self.run(move |s| {
            if !s.data.store.contains(&record)? {
                return Err(ServiceError::not_found(format!("no record {record}")));
            }
            let what = format!("{id} {record}");
            let case =
                s.audited(&caller, "case.link", &what, || Ok(s.data.cases.link(id, &record)?), |_| what.clone())?;
            s.deconflict.touch();
            Ok(case)
        })
        .await
    }
}
