//! Consultations (Law Enforcement Directive Art. 25; UK DPA 2018 s.62):
//! every time shared data is shown to one of this agency's people or fed
//! to one of its tools — a record page, a search, a lookup, a bulk check,
//! the library, a case's linked records, an export, a referral package,
//! the alerts list and stream, a webhook alert — who it was, when, which
//! records, and why: the purpose and case reference the caller stated.
//! (Partners' deconfliction questions disclose no record: they are in the
//! audit log, with the purpose each asker signed.)
//! Where the agency requires one (`[consultations] require_purpose`), a
//! consultation without a purpose is refused before anything is shown.
//! The log is kept `keep_days` and expired by the review sweep.

use std::sync::Arc;

use kawan_protocol::{Subject, processing::DAY_MS};

use super::{Caller, Service, ServiceError};
use crate::{
    local::{
        consultations::{Consultation, MAX_IDS},
        tokens::Role,
    },
    policy::Path,
    store::Hit,
};

impl Service {
    /// Refused when the agency requires a purpose and a caller of its own
    /// (a person, a tool's token) stated none. Partners' questions and the
    /// node's own jobs state theirs elsewhere (signed, or by job name).
    pub(super) fn require_purpose(&self, caller: &Caller) -> Result<(), ServiceError> {
        let own = !matches!(caller.via, Path::System | Path::Deconfliction);
        if own && self.config().consultations.require_purpose && caller.purpose.is_none() {
            return Err(ServiceError::forbidden(
                "purpose_required",
                "this agency requires a purpose for consulting shared data: state it with the Kawan-Purpose \
                 header, `kawan --purpose \"…\"`, or the purpose box on the web page",
            ));
        }
        Ok(())
    }

    /// Logs that `caller` was shown `hits` through `action` (refused, and
    /// nothing shown, where a purpose is required and none was stated).
    pub(super) fn consult<'a>(
        &self,
        caller: &Caller,
        action: &str,
        hits: impl IntoIterator<Item = &'a Hit>,
    ) -> Result<(), ServiceError> {
        let hits = hits.into_iter().map(|h| (h.id.to_string(), h.content.subject() == Some(Subject::Victim)));
        self.consult_ids(caller, action, hits)
    }

    /// [`Service::consult`] by record id (hex) and whether each is
    /// victim-related. The node's own jobs consult nothing: they show no
    /// one anything.
    pub(super) fn consult_ids(
        &self,
        caller: &Caller,
        action: &str,
        ids: impl IntoIterator<Item = (String, bool)>,
    ) -> Result<(), ServiceError> {
        self.require_purpose(caller)?;
        if caller.via == Path::System {
            return Ok(());
        }
        let (mut records, mut count, mut victim) = (Vec::new(), 0u64, false);
        for (id, about_victim) in ids {
            count += 1;
            victim |= about_victim;
            if records.len() < MAX_IDS {
                records.push(id);
            }
        }
        self.data.consultations.log(&Consultation {
            at_ms: self.now_ms(),
            user: caller.name.clone(),
            via: caller.via.as_str().to_string(),
            purpose: caller.purpose.clone(),
            action: action.to_string(),
            records,
            count,
            victim,
        })?;
        Ok(())
    }

    /// The consultation log in `[from_ms, until_ms)`, oldest first, at most
    /// `limit` (operators and auditors). Reading it is audited.
    pub async fn consultations(
        self: &Arc<Self>,
        caller: Caller,
        from_ms: u64,
        until_ms: u64,
        limit: usize,
    ) -> Result<Vec<Consultation>, ServiceError> {
        caller.require_oversight()?;
        self.run(move |s| {
            let out = s.data.consultations.between(from_ms, until_ms, limit)?;
            s.audit_read(&caller, "consultations.read", &format!("{} entries", out.len()))?;
            Ok(out)
        })
        .await
    }

    /// Removes consultations older than the configured period; returns how
    /// many (the review sweep calls it).
    pub(super) fn expire_consultations(&self) -> Result<usize, ServiceError> {
        let keep = self.config().consultations.keep_days.saturating_mul(DAY_MS);
        Ok(self.data.consultations.expire(self.now_ms().saturating_sub(keep))?)
    }
}

impl Caller {
    /// Refused unless the caller may read the oversight material
    /// (consultations, the report): an operator or an auditor.
    pub fn require_oversight(&self) -> Result<(), ServiceError> {
        match self.role {
            Role::Operator | Role::Auditor => Ok(()),
            _ => Err(ServiceError::forbidden(
                "forbidden",
                format!("this needs an operator or auditor token; token {:?} is {}", self.name, self.role.as_str()),
            )),
        }
    }
}
