//! Pins: an analyst holds an indicator's score where decay would lower it
//! ("still in use: seen in case 2026/114 last week"). The pin is this
//! agency's, never shared; every change is audited.

use std::sync::Arc;

use kawan_protocol::{Content, RecordId};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::local::{pins::Pin, tokens::Role};

/// A pin as an analyst sets it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPin {
    /// The score to hold it at, 0–100 (default: its author's confidence).
    pub score: Option<u8>,
    /// Why (kept with the pin and in the audit log).
    pub note: Option<String>,
}

impl Service {
    /// Pins indicator `id` (any version of it) at a score.
    pub async fn pin(self: &Arc<Self>, caller: Caller, id: &str, new: NewPin) -> Result<Pin, ServiceError> {
        caller.require(Role::Analyst)?;
        let id: RecordId = ServiceError::parse("id", id)?;
        if new.score.is_some_and(|s| s > 100) {
            return Err(ServiceError::field("score", "a score is 0–100"));
        }
        let note = new.note.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        self.run(move |s| {
            let trust = s.data.store.trust();
            let hit = s.data.store.view(&id, trust.as_deref())?;
            let Some(Content::Indicator(i)) = hit.as_ref().map(|h| &h.content) else {
                return Err(ServiceError::not_found(format!("no indicator {id} on this node")));
            };
            let hit = hit.as_ref().expect("matched above");
            if !s.shown(&caller, &hit.channel, Some(i.tlp)) {
                return Err(ServiceError::not_found(format!("no indicator {id} on this node")));
            }
            let row = Pin {
                id: hit.id.to_string(),
                score: new.score.unwrap_or(i.confidence),
                note,
                by: caller.name.clone(),
                at_ms: s.now_ms(),
            };
            s.data.pins.pin(&hit.id.0, &row)?;
            s.audit(
                &caller,
                "pin",
                &format!(
                    "{} at {}{}",
                    row.id,
                    row.score,
                    row.note.as_ref().map_or(String::new(), |n| format!(": {n}"))
                ),
            )?;
            Ok(row)
        })
        .await
    }

    /// Removes the pin on indicator `id`: decay applies again.
    pub async fn unpin(self: &Arc<Self>, caller: Caller, id: &str) -> Result<Pin, ServiceError> {
        caller.require(Role::Analyst)?;
        let id: RecordId = ServiceError::parse("id", id)?;
        self.run(move |s| {
            let trust = s.data.store.trust();
            let root = s.data.store.view(&id, trust.as_deref())?.map_or(id, |h| h.id);
            let removed =
                s.data.pins.unpin(&root.0)?.ok_or_else(|| ServiceError::not_found(format!("no pin on {id}")))?;
            s.audit(&caller, "unpin", &removed.id)?;
            Ok(removed)
        })
        .await
    }
}
