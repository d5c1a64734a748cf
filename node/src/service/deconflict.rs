//! Deconfliction (docs/protocol.md §7): asking every member, privately,
//! whether it holds anything on values; answering partners' questions over
//! what this agency holds (records of every TLP, case values, watchlists);
//! and the follow-up contact requests. The holder learns nothing about what
//! was asked; the asker learns one bit per value and member.

use std::{collections::HashSet, sync::Arc};

use kawan_protocol::{
    AgencyKey, Kind,
    deconflict::{
        self as dc, Blinded, ContactAnswer, ContactRequest, EvalRequest, Filter, FilterNotice, HolderKey,
        MAX_VALUES_PER_REQUEST, Refusal, Request, Response, Signed, epoch_of, oprf_input,
    },
};
use rand_core::{OsRng, RngCore as _};
use serde::Deserialize;
use serde_bytes::ByteBuf;
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::{
    local::deconflict::{
        Asked, Built, Contact, ContactStatus, DeconflictStoreError, Direction, MemberAnswer, Query, Remote,
    },
    local::watch::{Alert, values_of},
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
    fn epoch_ms(&self) -> u64 {
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
                            out.extend(values_of(&super::watch::content_body(hit.content)));
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
                        out.extend(values_of(&super::watch::content_body(hit.content)));
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
    fn filter_notice(&self, now: u64) -> Result<Built, ServiceError> {
        let epoch = epoch_of(now, self.epoch_ms());
        if let Some(b) = self.deconflict.built(epoch) {
            return Ok(b);
        }
        let _one_at_a_time = self.deconflict.building();
        if let Some(b) = self.deconflict.built(epoch) {
            return Ok(b);
        }
        let generation = self.deconflict.generation();
        let key = self.holder_key(epoch)?;
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

    fn holder_key(&self, epoch: u64) -> Result<HolderKey, ServiceError> {
        let secret = self.data.deconflict.secret()?;
        HolderKey::derive(&secret, &self.config.agency.network, epoch).map_err(ServiceError::internal)
    }

    fn contact_point(&self) -> String {
        self.config.deconfliction.contact.clone().unwrap_or_else(|| format!("{} (Kawan node)", self.config.agency.name))
    }

    /// Answers a partner's deconfliction message. Blocking. Every refusal
    /// is a clear answer; nothing here can fail the node.
    pub fn answer_question(&self, from: AgencyKey, request: Request) -> Response {
        let membership = self.data.store.membership();
        let policy = Policy::new(membership.as_deref(), self.key.public(), self.now_ms());
        if !policy.allows(Item::HitOrNot, Recipient::Peer(&from), Path::Deconfliction) {
            return Response::Refused(Refusal::NotMember);
        }
        let peer = Caller::peer(&self.author_name(&from, self.data.store.trust().as_deref()), Path::Deconfliction);
        let outcome = match request {
            Request::Filter if self.config.deconfliction.enabled => {
                self.filter_notice(self.now_ms()).map(|b| Response::Filter(b.notice.as_ref().clone()))
            }
            Request::Evaluate(signed) if self.config.deconfliction.enabled => self.evaluate(&peer, from, &signed),
            Request::Filter | Request::Evaluate(_) => Ok(Response::Refused(Refusal::Disabled)),
            Request::Contact(signed) => self.receive_contact(&peer, from, &signed),
            Request::Answer(signed) => self.receive_answer(&peer, from, &signed),
        };
        match outcome {
            Ok(Response::Refused(why)) => {
                let _ = self.audit(&peer, "deconflict.refused", &why.to_string());
                self.metrics.deconfliction_refused();
                Response::Refused(why)
            }
            Ok(r) => r,
            Err(e) => Response::Refused(Refusal::BadRequest(e.message)),
        }
    }

    fn evaluate(&self, peer: &Caller, from: AgencyKey, signed: &Signed) -> Result<Response, ServiceError> {
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
        let current = epoch_of(now, self.epoch_ms());
        if req.epoch + 1 < current || req.epoch > current + 1 {
            return Ok(Response::Refused(Refusal::EpochExpired { asked: req.epoch, current }));
        }
        let nonce: [u8; 16] = req.nonce.as_slice().try_into().unwrap_or_default();
        if !self.deconflict.fresh_nonce(nonce, now + 2 * dc::REQUEST_WINDOW_MS, now) {
            return Ok(Response::Refused(Refusal::Replayed));
        }
        let per_hour = self.config.deconfliction.rate_per_hour;
        if let Err(retry_after_s) = self.deconflict.take(from, count, per_hour, now) {
            return Ok(Response::Refused(Refusal::RateLimited { per_hour, retry_after_s }));
        }
        // The request as Prüm asks: who, why, how many — never what (the
        // holder cannot know).
        let detail = format!(
            "{count} value(s) from analyst {:?}, purpose {:?}{}, epoch {}, nonce {}",
            req.analyst,
            req.purpose,
            req.case_ref.as_deref().map(|c| format!(", case {c:?}")).unwrap_or_default(),
            req.epoch,
            hex::encode(&req.nonce),
        );
        self.audit(peer, "deconflict.evaluate", &detail)?;
        let key = self.holder_key(req.epoch)?;
        let (elements, proof) = match key.evaluate(&req.blinded, &mut OsRng) {
            Ok(x) => x,
            Err(e) => return bad(e.to_string()),
        };
        self.metrics.deconfliction_evaluated(count);
        let version = self.filter_notice(now).map(|b| b.version).unwrap_or_default();
        Ok(Response::Evaluated {
            epoch: req.epoch,
            elements: ByteBuf::from(elements),
            proof: ByteBuf::from(proof),
            version,
        })
    }

    fn receive_contact(&self, peer: &Caller, from: AgencyKey, signed: &Signed) -> Result<Response, ServiceError> {
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

    fn receive_answer(&self, peer: &Caller, from: AgencyKey, signed: &Signed) -> Result<Response, ServiceError> {
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

    /// Local cases holding a value (themselves, or through linked records).
    fn cases_holding(&self, kind: Kind, value: &str) -> Result<Vec<u64>, ServiceError> {
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

    /// Tells analysts about a contact request or its answer.
    fn contact_alert(&self, c: &Contact, r#type: &str, for_owners: Vec<String>) -> Result<Alert, ServiceError> {
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
            for_owners,
            acknowledged_by: None,
        };
        let alert = self.data.watch.raise(alert)?;
        self.metrics.alert_raised();
        let _ = self.alerts.send(alert.clone());
        Ok(alert)
    }

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
                            for (kind, value) in values_of(&super::watch::content_body(hit.content)) {
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

    /// Who to ask: active members other than this agency (or a group's).
    fn holders(&self, group: Option<&str>) -> Result<Vec<(AgencyKey, String)>, ServiceError> {
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
    async fn ask_one(
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
                purpose: purpose.clone(),
                case_ref: case_ref.clone(),
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
                Response::Refused(Refusal::EpochExpired { .. }) if attempt == 0 => {
                    remote = self.fetch_filter(&net, holder).await?;
                }
                Response::Refused(why) => return Err(why.to_string()),
                other => return Err(format!("unexpected answer: {other:?}")),
            }
        }
        Err("the holder's epoch kept changing; ask again".into())
    }

    /// Fetches and checks a member's filter notice.
    async fn fetch_filter(&self, net: &crate::net::NetHandle, holder: AgencyKey) -> Result<Remote, String> {
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
                super::Fault::Conflict,
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

    /// Sends a contact request or answer, audited; keeps it only once the
    /// other agency has it.
    async fn send_direct(
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
            .ok_or_else(|| ServiceError::new(super::Fault::Internal, "network_down", "the network is not running"))?
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
                    super::Fault::Conflict,
                    "not_delivered",
                    format!("{} did not receive it: {e}; try again", contact.peer_name),
                ))
            }
        })
        .await
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
