//! Permissions to disseminate an H2 record outside the network (exports,
//! platform referral packages), recorded by this agency, and the one
//! question every export path asks: may this record leave?
//!
//! A permission is what the record's provider answered when asked (a SIENA
//! message, an e-mail), copied in as free text. A signed request/answer
//! between agencies, carried by the network, will replace `granted_by` and
//! `reference`; it is not built yet.

use std::sync::Arc;

use kawan_protocol::RecordId;
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::{
    local::permissions::{Permission, Scope},
    policy::{Onward, Path},
    store::Hit,
};

/// A permission as an analyst records it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPermission {
    /// The record (any version of it; the permission is kept for the
    /// knowledge's original).
    pub id: String,
    /// Who at the author's agency agreed.
    pub granted_by: String,
    /// Their message or SIENA reference.
    pub reference: String,
    /// export, referral or all (default all).
    pub scope: Option<String>,
    pub note: Option<String>,
}

impl Service {
    /// Records the provider's permission to pass an H2 record outside the
    /// network. Refused (400) unless the record exists here and its latest
    /// version carries H2.
    pub async fn grant_permission(
        self: &Arc<Self>,
        caller: Caller,
        new: NewPermission,
    ) -> Result<Permission, ServiceError> {
        let id: RecordId = ServiceError::parse("id", &new.id)?;
        let scope = match new.scope.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            Some(s) => ServiceError::parse::<Scope>("scope", s)?,
            None => Scope::All,
        };
        let granted_by = new.granted_by.trim().to_string();
        if granted_by.is_empty() {
            return Err(ServiceError::field("granted_by", "name who at the author's agency gave permission"));
        }
        let reference = new.reference.trim().to_string();
        if reference.is_empty() {
            return Err(ServiceError::field("reference", "give the provider's message or SIENA reference"));
        }
        let note = new.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        self.run(move |s| {
            let trust = s.data.store.trust();
            let hit = s
                .data
                .store
                .view(&id, trust.as_deref())?
                .ok_or_else(|| ServiceError::bad_request("not_found", format!("no record {id} on this node")))?;
            if !hit.content.handling().is_some_and(|h| h.no_onward) {
                return Err(ServiceError::bad_request(
                    "not_h2",
                    format!("record {id} does not carry handling code H2: it needs no permission to leave the network"),
                )
                .with_details(serde_json::json!({"field": "id"})));
            }
            let row = Permission {
                id: hit.id.to_string(),
                granted_by,
                reference,
                scope,
                note,
                recorded_by: caller.name.clone(),
                at_ms: s.now_ms(),
            };
            let what = format!("{} scope {} by {:?} ref {:?}", row.id, scope.as_str(), row.granted_by, row.reference);
            s.audited(
                &caller,
                "permission.grant",
                &what,
                || {
                    s.data.permissions.grant(&hit.id.0, &row)?;
                    Ok(row.clone())
                },
                |_| what.clone(),
            )
        })
        .await
    }

    /// Removes the permission recorded for a record: it is withheld from
    /// exports again.
    pub async fn revoke_permission(self: &Arc<Self>, caller: Caller, id: String) -> Result<Permission, ServiceError> {
        let id: RecordId = ServiceError::parse("id", &id)?;
        self.run(move |s| {
            // A version's id names its knowledge's permission too.
            let trust = s.data.store.trust();
            let root = s.data.store.view(&id, trust.as_deref())?.map_or(id, |h| h.id);
            let what = root.to_string();
            s.audited(
                &caller,
                "permission.revoke",
                &what,
                || {
                    s.data
                        .permissions
                        .revoke(&root.0)?
                        .ok_or_else(|| ServiceError::not_found(format!("no permission recorded for {root}")))
                },
                |p| format!("{} (granted by {:?}, ref {:?})", p.id, p.granted_by, p.reference),
            )
        })
        .await
    }

    /// Every permission recorded, newest first.
    pub async fn permissions(self: &Arc<Self>, caller: Caller) -> Result<Vec<Permission>, ServiceError> {
        self.run(move |s| {
            let list = s.data.permissions.list()?;
            s.audit_read(&caller, "permission.list", &format!("{} permissions", list.len()))?;
            Ok(list)
        })
        .await
    }

    /// Whether `hit` may leave the network over `path`: withheld if its
    /// latest version carries H2 and no permission recorded covers `path`.
    ///
    /// A referral carries its subjects' values: it is withheld too when a
    /// subject is a shared indicator that may not leave (its value would
    /// go out in the referral's text and signed envelope).
    pub(super) fn onward(&self, hit: &Hit, path: Path) -> Result<Onward, ServiceError> {
        if self.own_onward(hit, path)? == Onward::Withheld {
            return Ok(Onward::Withheld);
        }
        if let kawan_protocol::Content::Referral(r) = &hit.content {
            let trust = self.data.store.trust();
            for id in r.subjects.iter().filter_map(|s| s.record) {
                if let Some(subject) = self.data.store.view(&id, trust.as_deref())?
                    && self.own_onward(&subject, path)? == Onward::Withheld
                {
                    return Ok(Onward::Withheld);
                }
            }
        }
        Ok(Onward::Free)
    }

    /// The handling of `hit` itself and the permissions recorded for it.
    fn own_onward(&self, hit: &Hit, path: Path) -> Result<Onward, ServiceError> {
        if !hit.content.handling().is_some_and(|h| h.no_onward) || self.data.permissions.covers(&hit.id.0, path)? {
            Ok(Onward::Free)
        } else {
            Ok(Onward::Withheld)
        }
    }
}
