//! The holder's side of deconfliction: what this agency makes
//! deconflictable, the filter it publishes each epoch, answering a partner's
//! evaluation (blinded: the holder never learns the value) and a partner's
//! contact request, and this agency's answer to one.

use std::sync::Arc;

use kawan_protocol::{
    AgencyKey, Kind,
    deconflict::{
        self as dc, ContactAnswer, ContactRequest, EvalRequest, Filter, FilterNotice, HolderKey, Refusal, Request,
        Response, Signed, epoch_of, oprf_input,
    },
};
use rand_core::OsRng;
use serde_bytes::ByteBuf;

use super::ContactReply;
use crate::service::{Caller, Service, ServiceError};
use crate::{
    local::deconflict::{Built, Contact, ContactStatus, Direction, Spent},
    local::watch::values_of,
};

impl Service {
    pub(super) fn epoch_ms(&self) -> u64 {
        self.config.deconfliction.epoch_secs.saturating_mul(1000).max(1)
    }

    /// What this agency makes deconflictable, as the operator chose.
    pub fn deconflictable(&self) -> Result<Vec<(Kind, String)>, ServiceError> {
        let choice = &self.config.deconfliction;
        let trust = self.data.store.trust();
        let mut out = Vec::new();
        if choice.own_records {
            for author in self.own_keys() {
                for head in self.data.store.heads(None)?.into_iter().filter(|h| h.author == author) {
                    for bytes in self.data.store.log_after(&head.channel, &author, 0, usize::MAX)? {
                        let Ok(v) = kawan_protocol::Envelope::from_bytes(&bytes).and_then(|e| e.open()) else {
                            continue;
                        };
                        if v.record.body.content().is_none() {
                            continue;
                        }
                        // As it stands: the latest revision; nothing once retracted.
                        if let Some(hit) = self.data.store.view(&v.id, trust.as_deref())?
                            && hit.retracted.is_none()
                        {
                            out.extend(values_of(&crate::service::watch::content_body(hit.content)));
                        }
                    }
                }
            }
        }
        if choice.case_values {
            for case in self.data.cases.list()?.into_iter().filter(|c| !c.deconfliction_opt_out) {
                out.extend(case.values.iter().map(|v| (v.kind, v.value.clone())));
                for link in &case.links {
                    let Ok(id) = link.parse() else { continue };
                    if let Some(hit) = self.data.store.view(&id, trust.as_deref())? {
                        out.extend(values_of(&crate::service::watch::content_body(hit.content)));
                    }
                }
            }
        }
        if choice.watchlist {
            let now = self.now_ms();
            out.extend(
                self.data
                    .watch
                    .entries()?
                    .into_iter()
                    .filter(|e| e.expires_ms.is_none_or(|x| x > now))
                    .map(|e| (e.kind, e.value)),
            );
        }
        out.sort();
        out.dedup();
        Ok(out)
    }

    /// Builds this epoch's filter if none was built for it yet (the
    /// filter-rebuild job), so a partner's first question of the epoch does
    /// not wait for it.
    pub async fn rebuild_filter(self: &Arc<Self>) -> Result<(), ServiceError> {
        self.run(|s| {
            let now = s.now_ms();
            if s.deconflict.built_epoch() == Some(epoch_of(now, s.epoch_ms())) {
                return Ok(());
            }
            s.filter_notice(now).map(|_| ())
        })
        .await
    }

    /// This node's filter notice for the epoch `now` falls in: built once
    /// per epoch and whenever what is deconflictable changed.
    pub(super) fn filter_notice(&self, now: u64) -> Result<Built, ServiceError> {
        let epoch = epoch_of(now, self.epoch_ms());
        if let Some(b) = self.deconflict.built(epoch) {
            return Ok(b);
        }
        let _one_at_a_time = self.deconflict.building();
        if let Some(b) = self.deconflict.built(epoch) {
            return Ok(b);
        }
        let generation = self.deconflict.generation();
        let key = self.holder_key(epoch, generation)?;
        let values = self.deconflictable()?;
        let inputs: Vec<Vec<u8>> = values.iter().map(|(k, v)| oprf_input(*k, v)).collect();
        let tags = key.tags(&inputs).map_err(ServiceError::internal)?;
        let filter = Filter::build(tags).map_err(ServiceError::internal)?;
        let notice = FilterNotice {
            network: self.config.agency.network.clone(),
            holder: self.key.public(),
            epoch,
            epoch_ms: self.epoch_ms(),
            public: ByteBuf::from(key.public().to_vec()),
            version: generation,
            contact: self.contact_point(),
            filter: filter.to_wire(),
        };
        let notice = Signed::sign(&notice, &self.key).map_err(ServiceError::internal)?;
        let built = Built { epoch, version: generation, count: values.len(), notice: Arc::new(notice) };
        self.metrics.deconfliction_filter(values.len(), filter.size_bytes());
        self.deconflict.set_built(built.clone());
        Ok(built)
    }

    pub(super) fn holder_key(&self, epoch: u64, version: u64) -> Result<HolderKey, ServiceError> {
        let secret = self.data.deconflict.secret()?;
        HolderKey::derive(&secret, &self.config.agency.network, epoch, version).map_err(ServiceError::internal)
    }

    /// The member id an agency key belongs to (allowances are per member:
    /// a key rotation does not refill them).
    fn member_of(&self, from: &AgencyKey) -> String {
        self.data
            .store
            .trust()
            .and_then(|t| t.member_by_any_key(from).map(|m| m.id.to_string()))
            .unwrap_or_else(|| from.to_string())
    }

    /// A partner fetches this node's filter: metered and logged.
    pub(super) fn send_filter(&self, peer: &Caller, from: AgencyKey) -> Result<Response, ServiceError> {
        let per_hour = self.config.deconfliction.filters_per_hour;
        let name = format!("filter:{}", self.member_of(&from));
        if let Err((_, spent)) = self.data.deconflict.take(&[(&name, per_hour)], 1, self.now_ms())? {
            let retry_after_s = match spent {
                Spent::Wait { retry_after_s } => retry_after_s,
                Spent::Never => 3600,
            };
            return Ok(Response::Refused(Refusal::TooOften { what: "filter fetches".into(), per_hour, retry_after_s }));
        }
        let built = self.filter_notice(self.now_ms())?;
        self.audit(peer, "deconflict.filter", &format!("epoch {}, version {}", built.epoch, built.version))?;
        Ok(Response::Filter(built.notice.as_ref().clone()))
    }

    pub(super) fn contact_point(&self) -> String {
        self.config.deconfliction.contact.clone().unwrap_or_else(|| format!("{} (Kawan node)", self.config.agency.name))
    }

    pub(super) fn evaluate(&self, peer: &Caller, from: AgencyKey, signed: &Signed) -> Result<Response, ServiceError> {
        let bad = |m: String| Ok(Response::Refused(Refusal::BadRequest(m)));
        let req: EvalRequest = match signed.open() {
            Ok(r) => r,
            Err(e) => return bad(e.to_string()),
        };
        let count = match req.check() {
            Ok(n) => n,
            Err(e) => return bad(e.to_string()),
        };
        if req.asker != from {
            return bad("the request is signed by another agency than the one asking".into());
        }
        if req.holder != self.key.public() || req.network != self.config.agency.network {
            return bad("the request is addressed to another agency or network".into());
        }
        let now = self.now_ms();
        if req.created_ms.abs_diff(now) > dc::REQUEST_WINDOW_MS {
            return Ok(Response::Refused(Refusal::Stale));
        }
        // Only the current epoch, and only the current filter's key: an
        // evaluation is good for one filter, so testing values against a
        // new one means asking again (metered, logged).
        let current = epoch_of(now, self.epoch_ms());
        if req.epoch != current {
            return Ok(Response::Refused(Refusal::EpochExpired { asked: req.epoch, current }));
        }
        let built = self.filter_notice(now)?;
        if req.version != built.version {
            return Ok(Response::Refused(Refusal::FilterChanged { version: built.version }));
        }
        let nonce: [u8; 16] = req.nonce.as_slice().try_into().unwrap_or_default();
        if !self.deconflict.fresh_nonce(nonce, now + 2 * dc::REQUEST_WINDOW_MS, now) {
            return Ok(Response::Refused(Refusal::Replayed));
        }
        let d = &self.config.deconfliction;
        let (per_hour, global) = (d.rate_per_hour, d.global_per_hour);
        let mine = format!("evaluate:{}", self.member_of(&from));
        match self.data.deconflict.take(&[(&mine, per_hour), ("evaluate:*", global)], count as u64, now)? {
            Ok(()) => {}
            Err((_, Spent::Never)) => {
                return Ok(Response::Refused(Refusal::TooLarge {
                    count: count as u64,
                    per_hour: per_hour.min(global),
                }));
            }
            Err((0, Spent::Wait { retry_after_s })) => {
                return Ok(Response::Refused(Refusal::RateLimited { per_hour, retry_after_s }));
            }
            Err((_, Spent::Wait { retry_after_s })) => return Ok(Response::Refused(Refusal::Busy { retry_after_s })),
        }
        // The request as Prüm asks: who, why, how many — never what (the
        // holder cannot know), nor the asker's case (only its keyed tag).
        let detail = format!(
            "{count} value(s) from analyst {:?}, purpose {:?}{}, epoch {}, version {}, nonce {}",
            req.analyst,
            req.purpose,
            req.case_tag.as_deref().map(|c| format!(", case tag {c}")).unwrap_or_default(),
            req.epoch,
            req.version,
            hex::encode(&req.nonce),
        );
        self.audit(peer, "deconflict.evaluate", &detail)?;
        let key = self.holder_key(req.epoch, built.version)?;
        let (elements, proof) = match key.evaluate(&req.blinded, &mut OsRng) {
            Ok(x) => x,
            Err(e) => return bad(e.to_string()),
        };
        self.metrics.deconfliction_evaluated(count);
        Ok(Response::Evaluated {
            epoch: req.epoch,
            elements: ByteBuf::from(elements),
            proof: ByteBuf::from(proof),
            version: built.version,
        })
    }

    pub(super) fn receive_contact(
        &self,
        peer: &Caller,
        from: AgencyKey,
        signed: &Signed,
    ) -> Result<Response, ServiceError> {
        let bad = |m: String| Ok(Response::Refused(Refusal::BadRequest(m)));
        let req: ContactRequest = match signed.open() {
            Ok(r) => r,
            Err(e) => return bad(e.to_string()),
        };
        if let Err(e) = req.check() {
            return bad(e.to_string());
        }
        if req.asker != from || req.holder != self.key.public() || req.network != self.config.agency.network {
            return bad("the contact request is not from the asking agency to this one".into());
        }
        if self.data.deconflict.has_contact(&req.id)? {
            return Ok(Response::Received);
        }
        let per_hour = self.config.deconfliction.contacts_per_hour;
        let name = format!("contact:{}", self.member_of(&from));
        if let Err((_, spent)) = self.data.deconflict.take(&[(&name, per_hour)], 1, self.now_ms())? {
            let retry_after_s = match spent {
                Spent::Wait { retry_after_s } => retry_after_s,
                Spent::Never => 3600,
            };
            return Ok(Response::Refused(Refusal::TooOften {
                what: "contact requests".into(),
                per_hour,
                retry_after_s,
            }));
        }
        let value = match self.normalize(req.kind, &req.value) {
            Ok(v) => v,
            Err(e) => return bad(e.message),
        };
        let cases = self.cases_holding(req.kind, &value)?;
        let trust = self.data.store.trust();
        let contact = Contact {
            id: req.id.clone(),
            direction: Direction::Incoming,
            peer: from.to_string(),
            peer_name: self.author_name(&from, trust.as_deref()),
            kind: req.kind,
            value,
            purpose: req.purpose,
            case_ref: req.case_ref,
            analyst: req.analyst,
            message: req.message,
            created_ms: self.now_ms(),
            status: ContactStatus::Pending,
            answer_contact: None,
            answer_message: None,
            answered_by: None,
            answered_ms: None,
            cases,
        };
        self.audit(peer, "contact.received", &format!("{} about {} {}", contact.id, contact.kind, contact.value))?;
        self.data.deconflict.put_contact(&contact)?;
        self.contact_alert(&contact, "contact_request", vec![])?;
        Ok(Response::Received)
    }

    /// Local cases holding a value (themselves, or through linked records).
    pub(super) fn cases_holding(&self, kind: Kind, value: &str) -> Result<Vec<u64>, ServiceError> {
        let mut cases = self.data.cases.cases_with_value(kind, value)?;
        for rid in self.data.store.ids_with_value(kind, value)? {
            for c in self.data.cases.cases_for(&rid)? {
                if !cases.contains(&c) {
                    cases.push(c);
                }
            }
        }
        Ok(cases)
    }

    /// The holder's analyst accepts or declines a partner's contact request.
    pub async fn answer_contact(
        self: &Arc<Self>,
        caller: Caller,
        id: String,
        reply: ContactReply,
    ) -> Result<Contact, ServiceError> {
        let mut contact = {
            let id = id.clone();
            self.run(move |s| Ok(s.data.deconflict.contact(&id)?)).await?
        };
        if contact.direction != Direction::Incoming {
            return Err(ServiceError::invalid("not_incoming", "only a request from a partner can be answered here"));
        }
        if contact.status != ContactStatus::Pending {
            return Err(ServiceError::new(
                crate::service::Fault::Conflict,
                "already_answered",
                format!("contact request {id} was already {}", contact.status.label()),
            ));
        }
        let asker: AgencyKey = ServiceError::parse("peer", &contact.peer)?;
        let contact_point = reply.accept.then(|| reply.contact.clone().unwrap_or_else(|| self.contact_point()));
        let ans = ContactAnswer {
            network: self.config.agency.network.clone(),
            holder: self.key.public(),
            asker,
            request: id,
            created_ms: self.now_ms(),
            accepted: reply.accept,
            contact: contact_point.clone(),
            message: reply.message.clone(),
            analyst: caller.name.clone(),
        };
        ans.check().map_err(|e| ServiceError::field("message", e))?;
        contact.status = if reply.accept { ContactStatus::Accepted } else { ContactStatus::Declined };
        contact.answer_contact = contact_point;
        contact.answer_message = Some(reply.message);
        contact.answered_by = Some(caller.name.clone());
        contact.answered_ms = Some(ans.created_ms);
        let signed = Signed::sign(&ans, &self.key).map_err(ServiceError::internal)?;
        self.send_direct(&caller, asker, Request::Answer(signed), "contact.answer", &contact).await?;
        Ok(contact)
    }
}
