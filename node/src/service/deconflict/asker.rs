//! The asker's side of deconfliction: asking every member (or a group's)
//! privately about values, fetching and checking their filters, the
//! questions asked and their answers, contact requests sent and the
//! holders' answers to them.

use std::{collections::HashSet, sync::Arc};

use kawan_protocol::{
    AgencyKey,
    deconflict::{
        Blinded, ContactAnswer, ContactRequest, EvalRequest, Filter, FilterNotice, MAX_VALUES_PER_REQUEST, Refusal,
        Request, Response, Signed, epoch_of, oprf_input,
    },
};
use rand_core::{OsRng, RngCore as _};
use serde_bytes::ByteBuf;

use crate::service::{Caller, Service, ServiceError};
use crate::{
    local::deconflict::{Asked, Contact, ContactStatus, Direction, MemberAnswer, Query, Remote},
    local::watch::values_of,
};

use super::{NewContact, NewDeconfliction, random_hex};

impl Service {
    /// Asks the members (or a group's) whether they hold anything on the
    /// values; returns and keeps each member's hits.
    pub async fn deconflict(self: &Arc<Self>, caller: Caller, ask: NewDeconfliction) -> Result<Query, ServiceError> {
        let purpose = ask.purpose.trim().to_string();
        if purpose.is_empty() || purpose.len() > kawan_protocol::limits::MAX_SHORT_BYTES {
            return Err(ServiceError::field("purpose", "say why you ask (at most 256 bytes); holders log it"));
        }
        let mut values = Vec::new();
        for v in &ask.values {
            values.push(self.asked(v.kind.as_deref(), &v.value)?);
        }
        let group = ask.group.clone().filter(|g| !g.trim().is_empty());
        let (values, case_ref, holders) = self
            .run(move |s| {
                let case = ask.case.map(|id| s.data.cases.get(id)).transpose()?;
                if values.is_empty()
                    && let Some(case) = &case
                {
                    values.extend(case.values.iter().map(|v| Asked { kind: v.kind, value: v.value.clone() }));
                    let trust = s.data.store.trust();
                    for link in &case.links {
                        let Ok(id) = link.parse() else { continue };
                        if let Some(hit) = s.data.store.view(&id, trust.as_deref())? {
                            for (kind, value) in values_of(&crate::service::watch::content_body(hit.content)) {
                                values.push(Asked { kind, value });
                            }
                        }
                    }
                }
                let mut seen = HashSet::new();
                values.retain(|v| seen.insert((v.kind, v.value.clone())));
                Ok((values, case.map(|c| c.reference), s.holders(ask.group.as_deref())?))
            })
            .await?;
        if values.is_empty() {
            return Err(ServiceError::field("values", "give at least one value (or a case with linked records)"));
        }
        if values.len() > MAX_VALUES_PER_REQUEST {
            return Err(ServiceError::field(
                "values",
                format!("{} values; at most {MAX_VALUES_PER_REQUEST} in one question", values.len()),
            ));
        }
        let intent = format!(
            "{} value(s) of {} member(s), purpose {purpose:?}{}",
            values.len(),
            holders.len(),
            case_ref.as_deref().map(|c| format!(", case {c:?}")).unwrap_or_default()
        );
        let svc = self.clone();
        self.run({
            let caller = caller.clone();
            move |s| s.audit(&caller, "deconflict", &format!("pending: {intent}"))
        })
        .await?;
        let inputs: Arc<Vec<Vec<u8>>> = Arc::new(values.iter().map(|v| oprf_input(v.kind, &v.value)).collect());
        let asks = holders.into_iter().map(|(key, name)| {
            let (svc, inputs, purpose, case_ref, analyst) =
                (svc.clone(), inputs.clone(), purpose.clone(), case_ref.clone(), caller.name.clone());
            async move {
                let mut answer =
                    MemberAnswer { member: key.to_string(), name, hits: vec![], contact: None, error: None };
                match svc.ask_one(key, inputs, purpose, case_ref, analyst).await {
                    Ok((hits, contact)) => {
                        answer.hits = hits;
                        answer.contact = (!answer.hits.is_empty()).then_some(contact);
                    }
                    Err(e) => answer.error = Some(e),
                }
                answer
            }
        });
        let answers = futures::future::join_all(asks).await;
        let query = Query {
            id: 0,
            created_ms: self.now_ms(),
            analyst: caller.name.clone(),
            purpose,
            case_ref,
            group,
            values,
            answers,
        };
        self.run(move |s| {
            let hits: usize = query.answers.iter().map(|a| a.hits.len()).sum();
            let query = s.data.deconflict.add_query(query)?;
            s.audit_read(&caller, "deconflict", &format!("done: question {}: {hits} hit(s)", query.id))?;
            Ok(query)
        })
        .await
    }

    /// Who to ask: active members other than this agency (or a group's).
    pub(super) fn holders(&self, group: Option<&str>) -> Result<Vec<(AgencyKey, String)>, ServiceError> {
        let trust = self
            .data
            .store
            .trust()
            .ok_or_else(|| ServiceError::invalid("no_trust_list", "this node has no trust list yet"))?;
        let now = self.now_ms();
        let me = self.key.public();
        let members: Vec<_> = match group {
            None => trust.members.iter().collect(),
            Some(g) => {
                let group =
                    trust.groups.iter().find(|x| x.id.as_str() == g).ok_or_else(|| {
                        ServiceError::field("group", format!("no sharing group {g:?} in the trust list"))
                    })?;
                trust.members.iter().filter(|m| group.members.contains(&m.id)).collect()
            }
        };
        Ok(members
            .into_iter()
            .filter(|m| m.key != me && m.expires_ms.is_none_or(|e| e > now))
            .map(|m| (m.key, m.name.clone()))
            .collect())
    }

    /// One member: its filter (cached per epoch), one signed evaluation of
    /// every value, the lookups. Returns the hit indexes and its contact.
    pub(super) async fn ask_one(
        self: &Arc<Self>,
        holder: AgencyKey,
        inputs: Arc<Vec<Vec<u8>>>,
        purpose: String,
        case_ref: Option<String>,
        analyst: String,
    ) -> Result<(Vec<usize>, String), String> {
        let net = self.net.get().ok_or("the network is not running")?.clone();
        let mut remote = match self.deconflict.remote(&holder) {
            Some(r) if epoch_of(self.now_ms(), r.epoch_ms) == r.epoch => r,
            _ => self.fetch_filter(&net, holder).await?,
        };
        // One retry: the holder's epoch may turn during the question.
        for attempt in 0..2 {
            let blinded = {
                let inputs = inputs.clone();
                tokio::task::spawn_blocking(move || Blinded::new(&inputs, &mut OsRng))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?
            };
            let mut nonce = [0u8; 16];
            OsRng.fill_bytes(&mut nonce);
            let req = EvalRequest {
                network: self.config.agency.network.clone(),
                asker: self.key.public(),
                holder,
                epoch: remote.epoch,
                created_ms: self.now_ms(),
                nonce: ByteBuf::from(nonce.to_vec()),
                version: remote.version,
                purpose: purpose.clone(),
                case_tag: case_ref
                    .as_deref()
                    .map(|c| self.case_tag(&holder, c))
                    .transpose()
                    .map_err(|e| e.to_string())?,
                analyst: analyst.clone(),
                blinded: ByteBuf::from(blinded.elements.clone()),
            };
            let signed = Signed::sign(&req, &self.key).map_err(|e| e.to_string())?;
            match net.ask(holder, Request::Evaluate(signed)).await? {
                Response::Evaluated { epoch, elements, proof, version } => {
                    if epoch != remote.epoch || version != remote.version {
                        remote = self.fetch_filter(&net, holder).await?;
                        if epoch != remote.epoch {
                            continue;
                        }
                    }
                    let (inputs, public, filter) = (inputs.clone(), remote.public.clone(), remote.filter.clone());
                    let hits = tokio::task::spawn_blocking(move || {
                        blinded.finish(&inputs, &elements, &proof, &public).map(|tags| {
                            tags.iter().enumerate().filter(|(_, t)| filter.contains(**t)).map(|(i, _)| i).collect()
                        })
                    })
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| e.to_string())?;
                    return Ok((hits, remote.contact));
                }
                Response::Refused(Refusal::EpochExpired { .. } | Refusal::FilterChanged { .. }) if attempt == 0 => {
                    remote = self.fetch_filter(&net, holder).await?;
                }
                Response::Refused(why) => return Err(why.to_string()),
                other => return Err(format!("unexpected answer: {other:?}")),
            }
        }
        Err("the holder's epoch kept changing; ask again".into())
    }

    /// The case reference as one holder sees it: a keyed hash, different
    /// for each holder, that only this node can recompute (to match a
    /// holder's log to its case); the reference itself stays here.
    pub fn case_tag(&self, holder: &AgencyKey, case_ref: &str) -> Result<String, ServiceError> {
        let key = blake3::derive_key("kawan deconfliction case tag v1", &self.data.deconflict.secret()?);
        let mut h = blake3::Hasher::new_keyed(&key);
        h.update(&holder.0);
        h.update(case_ref.as_bytes());
        Ok(hex::encode(&h.finalize().as_bytes()[..16]))
    }

    /// Fetches and checks a member's filter notice.
    pub(super) async fn fetch_filter(&self, net: &crate::net::NetHandle, holder: AgencyKey) -> Result<Remote, String> {
        let signed = match net.ask(holder, Request::Filter).await? {
            Response::Filter(s) => s,
            Response::Refused(why) => return Err(why.to_string()),
            other => return Err(format!("unexpected answer: {other:?}")),
        };
        let notice: FilterNotice = signed.open().map_err(|e| format!("its filter notice: {e}"))?;
        if notice.holder != holder || notice.network != self.config.agency.network {
            return Err("its filter notice names another agency or network".into());
        }
        let filter = Filter::from_wire(&notice.filter).map_err(|e| format!("its filter: {e}"))?;
        let remote = Remote {
            epoch: notice.epoch,
            version: notice.version,
            epoch_ms: notice.epoch_ms.max(1),
            public: notice.public.into_vec(),
            contact: notice.contact,
            filter: Arc::new(filter),
        };
        self.deconflict.set_remote(holder, remote.clone());
        Ok(remote)
    }

    /// Questions this agency asked, newest first.
    pub async fn deconflictions(self: &Arc<Self>, caller: Caller, limit: usize) -> Result<Vec<Query>, ServiceError> {
        self.run(move |s| {
            s.audit_read(&caller, "deconflict.list", "")?;
            Ok(s.data.deconflict.queries(limit.clamp(1, 1000))?)
        })
        .await
    }

    pub async fn deconfliction(self: &Arc<Self>, caller: Caller, id: u64) -> Result<Query, ServiceError> {
        self.run(move |s| {
            s.audit_read(&caller, "deconflict.read", &id.to_string())?;
            Ok(s.data.deconflict.query(id)?)
        })
        .await
    }

    /// Sends a contact request for a hit: discloses the value to that holder.
    pub async fn request_contact(self: &Arc<Self>, caller: Caller, new: NewContact) -> Result<Contact, ServiceError> {
        let holder: AgencyKey = ServiceError::parse("holder", &new.holder)?;
        let asked = self.asked(new.kind.as_deref(), &new.value)?;
        if new.message.len() > kawan_protocol::limits::MAX_TEXT_BYTES {
            return Err(ServiceError::field("message", "at most 8 KiB"));
        }
        let (purpose, case_ref, peer_name) = self
            .run(move |s| {
                let q = new.query.map(|id| s.data.deconflict.query(id)).transpose()?;
                let trust = s.data.store.trust();
                if trust.as_ref().is_none_or(|t| t.member_by_key(&holder).is_none()) {
                    return Err(ServiceError::field("holder", "not a member of the network"));
                }
                let (purpose, case_ref) = q.map(|q| (q.purpose, q.case_ref)).unwrap_or(("follow-up".into(), None));
                Ok((purpose, case_ref, s.author_name(&holder, trust.as_deref())))
            })
            .await?;
        let req = ContactRequest {
            network: self.config.agency.network.clone(),
            asker: self.key.public(),
            holder,
            id: random_hex::<16>(),
            created_ms: self.now_ms(),
            kind: asked.kind,
            value: asked.value.clone(),
            purpose,
            case_ref,
            analyst: caller.name.clone(),
            message: new.message,
        };
        let contact = Contact {
            id: req.id.clone(),
            direction: Direction::Outgoing,
            peer: holder.to_string(),
            peer_name,
            kind: req.kind,
            value: req.value.clone(),
            purpose: req.purpose.clone(),
            case_ref: req.case_ref.clone(),
            analyst: caller.name.clone(),
            message: req.message.clone(),
            created_ms: req.created_ms,
            status: ContactStatus::Pending,
            answer_contact: None,
            answer_message: None,
            answered_by: None,
            answered_ms: None,
            cases: vec![],
        };
        let signed = Signed::sign(&req, &self.key).map_err(ServiceError::internal)?;
        self.send_direct(&caller, holder, Request::Contact(signed), "contact.request", &contact).await?;
        Ok(contact)
    }

    /// Sends a contact request or answer, audited; keeps it only once the
    /// other agency has it.
    pub(super) async fn send_direct(
        self: &Arc<Self>,
        caller: &Caller,
        to: AgencyKey,
        request: Request,
        action: &'static str,
        contact: &Contact,
    ) -> Result<(), ServiceError> {
        let net = self
            .net
            .get()
            .ok_or_else(|| {
                ServiceError::new(crate::service::Fault::Internal, "network_down", "the network is not running")
            })?
            .clone();
        let intent = format!("{} {} {} to {}", contact.id, contact.kind, contact.value, contact.peer_name);
        {
            let (caller, intent) = (caller.clone(), intent.clone());
            self.run(move |s| s.audit(&caller, action, &format!("pending: {intent}"))).await?;
        }
        let outcome = match net.ask(to, request).await {
            Ok(Response::Received) => Ok(()),
            Ok(Response::Refused(why)) => Err(why.to_string()),
            Ok(other) => Err(format!("unexpected answer: {other:?}")),
            Err(e) => Err(e),
        };
        let (caller, contact) = (caller.clone(), contact.clone());
        self.run(move |s| match outcome {
            Ok(()) => {
                s.data.deconflict.put_contact(&contact)?;
                s.audit_read(&caller, action, &format!("done: {intent}"))?;
                Ok(())
            }
            Err(e) => {
                s.audit_read(&caller, action, &format!("failed: {intent}: {e}"))?;
                Err(ServiceError::new(
                    crate::service::Fault::Conflict,
                    "not_delivered",
                    format!("{} did not receive it: {e}; try again", contact.peer_name),
                ))
            }
        })
        .await
    }

    pub(super) fn receive_answer(
        &self,
        peer: &Caller,
        from: AgencyKey,
        signed: &Signed,
    ) -> Result<Response, ServiceError> {
        let bad = |m: String| Ok(Response::Refused(Refusal::BadRequest(m)));
        let ans: ContactAnswer = match signed.open() {
            Ok(r) => r,
            Err(e) => return bad(e.to_string()),
        };
        if let Err(e) = ans.check() {
            return bad(e.to_string());
        }
        let mine = self.data.deconflict.contact(&ans.request).ok();
        let Some(mut contact) = mine.filter(|c| c.direction == Direction::Outgoing && c.peer == from.to_string())
        else {
            return bad(format!("no contact request {} to this agency", ans.request));
        };
        if ans.holder != from || ans.asker != self.key.public() {
            return bad("the answer is not from the holder to this agency".into());
        }
        if contact.status != ContactStatus::Pending {
            return Ok(Response::Received);
        }
        contact.status = if ans.accepted { ContactStatus::Accepted } else { ContactStatus::Declined };
        contact.answer_contact = ans.contact;
        contact.answer_message = Some(ans.message);
        contact.answered_by = Some(ans.analyst);
        contact.answered_ms = Some(self.now_ms());
        self.audit(peer, "contact.answered", &format!("{} {}", contact.id, contact.status.label()))?;
        self.data.deconflict.put_contact(&contact)?;
        let analyst = contact.analyst.clone();
        self.contact_alert(&contact, "contact_answer", vec![analyst])?;
        Ok(Response::Received)
    }
}
