//! Deconfliction (docs/protocol.md §7): asking every member, privately,
//! whether it holds anything on values; answering partners' questions over
//! what this agency holds (records of every TLP, case values, watchlists);
//! and the follow-up contact requests. The holder learns nothing about what
//! was asked; the asker learns one bit per value and member.
//!
//! - `holder`: what this agency holds and answers
//! - `asker`: what this agency asks and hears back
//! - here: the request types, the dispatcher for partners' messages
//!   ([`Service::answer_question`]), and what both sides share

mod asker;
mod holder;

use std::sync::Arc;

use kawan_protocol::{
    AgencyKey, Kind,
    deconflict::{Refusal, Request, Response},
};
use rand_core::{OsRng, RngCore as _};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::service::{Caller, Service, ServiceError};
use crate::{
    local::deconflict::{Asked, Contact, DeconflictStoreError},
    local::watch::Alert,
    policy::{Item, Path, Policy, Recipient},
};

impl From<DeconflictStoreError> for ServiceError {
    fn from(e: DeconflictStoreError) -> ServiceError {
        match e {
            DeconflictStoreError::NotFound { .. } => ServiceError::not_found(e.to_string()),
            other => ServiceError::internal(other),
        }
    }
}

/// A value to ask about: its kind, or guessed from its form.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AskValue {
    pub kind: Option<String>,
    pub value: String,
}

/// A deconfliction question.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDeconfliction {
    /// Up to 1,000 values; with `case` and no values, the case's values.
    #[serde(default)]
    pub values: Vec<AskValue>,
    /// Why (every holder logs it with the request).
    pub purpose: String,
    /// A local case: its reference goes with the request.
    pub case: Option<u64>,
    /// Ask only this sharing group's members.
    pub group: Option<String>,
}

/// A follow-up on a hit.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewContact {
    /// The holder (agency key, hex).
    pub holder: String,
    pub kind: Option<String>,
    pub value: String,
    pub message: String,
    /// The question the hit came from (its purpose and case go along).
    pub query: Option<u64>,
}

/// A holder's answer to a contact request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactReply {
    pub accept: bool,
    /// Who the asker should talk to (defaults to the node's contact point).
    pub contact: Option<String>,
    #[serde(default)]
    pub message: String,
}

fn random_hex<const N: usize>() -> String {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

impl Service {
    /// Answers a partner's deconfliction message. Blocking. Every refusal
    /// is a clear answer; nothing here can fail the node.
    pub fn answer_question(&self, from: AgencyKey, request: Request) -> Response {
        let membership = self.data.store.membership();
        let policy = Policy::new(membership.as_deref(), self.key.public(), self.now_ms());
        let peer = Caller::peer(&self.author_name(&from, self.data.store.trust().as_deref()), Path::Deconfliction);
        let outcome = match request {
            _ if !policy.allows(Item::HitOrNot, Recipient::Peer(&from), Path::Deconfliction) => {
                Ok(Response::Refused(Refusal::NotMember))
            }
            Request::Filter if self.config.deconfliction.enabled => self.send_filter(&peer, from),
            Request::Evaluate(signed) if self.config.deconfliction.enabled => self.evaluate(&peer, from, &signed),
            Request::Filter | Request::Evaluate(_) => Ok(Response::Refused(Refusal::Disabled)),
            Request::Contact(signed) => self.receive_contact(&peer, from, &signed),
            Request::Answer(signed) => self.receive_answer(&peer, from, &signed),
        };
        let why = match outcome {
            Ok(Response::Refused(why)) => why,
            Ok(r) => return r,
            Err(e) => Refusal::BadRequest(e.message),
        };
        // Every refusal is in the audit log, with its stable code. If the
        // log cannot be written the answer is still a refusal (nothing was
        // given), and the node's log says so.
        if let Err(e) = self.audit(&peer, "deconflict.refused", &format!("{}: {why}", why.code())) {
            tracing::error!(error = %e, refusal = why.code(), "cannot write the audit entry of a deconfliction refusal");
        }
        self.metrics.deconfliction_refused();
        Response::Refused(why)
    }

    /// Tells analysts about a contact request or its answer.
    pub(super) fn contact_alert(
        &self,
        c: &Contact,
        r#type: &str,
        for_owners: Vec<String>,
    ) -> Result<Alert, ServiceError> {
        let alert = Alert {
            id: 0,
            created_ms: self.now_ms(),
            record: c.id.clone(),
            root: c.id.clone(),
            r#type: r#type.to_string(),
            author: c.peer.clone(),
            author_name: c.peer_name.clone(),
            channel: "direct".into(),
            kind: c.kind,
            value: c.value.clone(),
            watches: vec![],
            cases: c.cases.clone(),
            ours: vec![],
            for_owners,
            acknowledged_by: None,
        };
        let alert = self.data.watch.raise(alert)?;
        self.metrics.alert_raised();
        let _ = self.alerts.send(alert.clone());
        Ok(alert)
    }

    /// A value as asked: its kind given or guessed, in normal form.
    pub(super) fn asked(&self, kind: Option<&str>, raw: &str) -> Result<Asked, ServiceError> {
        let kind: Kind = match kind {
            Some(k) => ServiceError::parse("kind", k)?,
            None => kawan_protocol::normalize::guess_kind(raw).ok_or_else(|| {
                ServiceError::invalid(
                    "invalid_value",
                    format!(
                        "cannot tell what kind of value {:?} is; give its kind",
                        raw.chars().take(80).collect::<String>()
                    ),
                )
            })?,
        };
        Ok(Asked { kind, value: self.normalize(kind, raw)? })
    }

    /// Contact requests both ways, newest first.
    pub async fn contacts(self: &Arc<Self>, caller: Caller) -> Result<Vec<Contact>, ServiceError> {
        self.run(move |s| {
            s.audit_read(&caller, "contact.list", "")?;
            Ok(s.data.deconflict.contacts()?)
        })
        .await
    }

    /// Keeps a case's values out of deconfliction, or lets them in.
    pub async fn case_deconfliction(
        self: &Arc<Self>,
        caller: Caller,
        id: u64,
        opt_out: bool,
    ) -> Result<crate::local::cases::Case, ServiceError> {
        self.run(move |s| {
            let change = || {
                let case = s.data.cases.set_opt_out(id, opt_out)?;
                s.deconflict.touch();
                Ok(case)
            };
            let intent = format!("case {id} {}", if opt_out { "kept out of" } else { "open to" });
            s.audited(&caller, "case.deconfliction", &intent, change, |_| String::new())
        })
        .await
    }
}
