//! Requests for information and their answers: asking the members of a
//! channel a question (after checking privately who already holds the
//! values it names, so a value goes only to those who hold it), answering
//! on a channel of one's own choosing, moving a request's status and
//! marking answers useful (its author's agency, by revision), and the lists
//! an analyst works from: open requests to us, ours with their answers,
//! the overdue.

use std::sync::Arc;

use kawan_protocol::{
    Answer, Body, Channel, Content, Family, GroupId, InfoRequest, NamedValue, Priority, RecordId, RequestStatus,
    Revision, Subject, Tlp, normalize,
};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{AskValue, Caller, Found, NewDeconfliction, Published, Service, ServiceError, group_field};
use crate::{local::deconflict::Query as Check, store::Query};

/// A request as an analyst writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    pub question: String,
    /// Values it is about (kind optional: guessed from the value).
    #[serde(default)]
    pub values: Vec<AskValue>,
    /// Records it is about (a typology, a technique, an indicator), by id.
    #[serde(default)]
    pub records: Vec<String>,
    /// A platform it is about (facebook, telegram, jobstreet, … or other:<name>).
    pub platform: Option<String>,
    /// routine (default), high or urgent
    pub priority: Option<String>,
    /// clear, green, amber, amber+strict
    pub tlp: String,
    /// The sharing group to ask (required for AMBER); the whole network otherwise.
    pub group: Option<String>,
    /// When the answer is needed by (Unix ms).
    pub deadline_ms: Option<u64>,
    pub review_ms: Option<u64>,
    /// The private check (`GET /api/v1/deconflict` question id) this
    /// request's values already had: given, the values are broadcast even
    /// though members hold some of them.
    pub checked: Option<u64>,
    /// Files to carry, as `POST /api/v1/attachments` (or `kawan attach`)
    /// returned them.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<kawan_protocol::attachment::Attachment>,
}

/// What became of a new request.
#[derive(Debug)]
pub enum Asked {
    Published(Published),
    /// Members hold some of its values, or could not be asked: nothing was
    /// broadcast. The private check says who (`hits`, `error`); a contact
    /// request to a holder discloses a value to the holder alone.
    Held(Check),
}

/// How long a private check stands for a request that names its values.
pub const CHECK_GOOD_FOR_MS: u64 = 24 * 60 * 60 * 1000;

/// An answer as an analyst writes it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAnswer {
    pub text: String,
    #[serde(default)]
    pub values: Vec<AskValue>,
    /// Records the answer rests on, by id.
    #[serde(default)]
    pub cites: Vec<String>,
    /// clear, green, amber, amber+strict (default: the request's)
    pub tlp: Option<String>,
    /// The request's audience by default; or a sharing group within it
    /// that includes the asking agency (an answer for fewer eyes).
    pub group: Option<String>,
    pub review_ms: Option<u64>,
    /// Files to carry, as `POST /api/v1/attachments` (or `kawan attach`)
    /// returned them.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub attachments: Vec<kawan_protocol::attachment::Attachment>,
}

/// A status change or answers marked useful, by the request's author.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestUpdate {
    /// open, answered or closed
    pub status: Option<String>,
    /// Answers (ids) the asker found useful.
    #[serde(default)]
    pub useful: Vec<String>,
}

/// Which requests to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequestScope {
    /// Every request the caller may see.
    #[default]
    All,
    /// This agency's own.
    Ours,
    /// Other agencies', still open.
    ToUs,
}

/// A request with the answers the caller may see.
#[derive(Debug, Clone)]
pub struct RequestThread {
    pub request: Found,
    pub answers: Vec<Found>,
    /// Open, past its deadline, and without an answer the caller can see.
    pub overdue: bool,
}

impl Service {
    /// Publishes a request to its channel, unless members already hold
    /// values it names (then nothing is sent: the check says who). A
    /// victim's value is never broadcast.
    pub async fn create_request(self: &Arc<Self>, caller: Caller, new: NewRequest) -> Result<Asked, ServiceError> {
        let question = new.question.trim().to_string();
        if question.is_empty() {
            return Err(ServiceError::field("question", "ask a question"));
        }
        let priority = match new.priority.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            None => Priority::Routine,
            Some(p) => Priority::ALL.into_iter().find(|x| x.as_str() == p).ok_or_else(|| {
                ServiceError::field("priority", format!("unknown priority {p:?}: routine, high or urgent"))
            })?,
        };
        let platform = new.platform.as_deref().map(str::trim).filter(|p| !p.is_empty()).map(str::to_lowercase);
        if let Some(p) = &platform
            && !normalize::is_referral_platform(p)
        {
            let known: Vec<&str> = normalize::platforms().collect();
            return Err(ServiceError::invalid(
                "unknown_platform",
                format!("unknown platform {p:?}: use one of {} or other:<name>", known.join(", ")),
            )
            .with_details(serde_json::json!({"field": "platform"})));
        }
        let mut values = Vec::new();
        for v in &new.values {
            let a = self.asked(v.kind.as_deref(), &v.value)?;
            let named = NamedValue { kind: a.kind, value: a.value };
            if !values.contains(&named) {
                values.push(named);
            }
        }
        let records =
            new.records.iter().map(|r| ServiceError::parse::<RecordId>("records", r)).collect::<Result<Vec<_>, _>>()?;
        let group = group_field(new.group.as_deref())?;
        let tlp = ServiceError::parse::<Tlp>("tlp", &new.tlp)?;
        // A victim's value goes to no one: not in a request, whatever its TLP.
        self.refuse_victims(&values, "a request").await?;
        // Check before asking: who already holds the values, privately.
        if !values.is_empty() && self.data.store.trust().is_none() {
            return Err(ServiceError::invalid(
                "no_trust_list",
                "a request's values are first checked privately with the network's members, and this node has no \
                 trust list yet (join a network: kawan trust join)",
            ));
        }
        if !values.is_empty() {
            match new.checked {
                Some(id) => {
                    let check = self.run(move |s| Ok(s.data.deconflict.query(id)?)).await?;
                    let covered =
                        values.iter().all(|v| check.values.iter().any(|a| a.kind == v.kind && a.value == v.value));
                    let audience = group.as_ref().map(|g| g.as_str().to_string());
                    let fresh = self.now_ms().saturating_sub(check.created_ms) <= CHECK_GOOD_FOR_MS;
                    if check.analyst != caller.name || !covered || check.group != audience || !fresh {
                        return Err(ServiceError::field(
                            "checked",
                            format!(
                                "private check {id} was not yours, did not ask every value of this request of its \
                                 audience, or is more than a day old: check again"
                            ),
                        ));
                    }
                }
                None => {
                    let ask = NewDeconfliction {
                        values: values
                            .iter()
                            .map(|v| AskValue { kind: Some(v.kind.to_string()), value: v.value.clone() })
                            .collect(),
                        // Holders log the purpose: not the question, which
                        // may repeat the values.
                        purpose: "check before a request for information".to_string(),
                        case: None,
                        group: group.as_ref().map(|g| g.as_str().to_string()),
                    };
                    let check = self.deconflict(caller.clone(), ask).await?;
                    // A member that could not be asked may hold them too:
                    // the check fails closed.
                    if check.answers.iter().any(|a| !a.hits.is_empty() || a.error.is_some()) {
                        return Ok(Asked::Held(check));
                    }
                }
            }
        }
        let request = InfoRequest {
            question,
            values,
            records,
            platform,
            priority,
            status: RequestStatus::Open,
            tlp,
            deadline_ms: new.deadline_ms,
            useful: vec![],
            review_ms: new.review_ms,
            handling: None,
            attachments: new.attachments,
        };
        Ok(Asked::Published(self.publish(caller, Body::Request(request), group).await?))
    }

    /// Answers a request the caller can see and that is not closed.
    pub async fn answer_request(
        self: &Arc<Self>,
        caller: Caller,
        request: &str,
        new: NewAnswer,
    ) -> Result<Published, ServiceError> {
        let text = new.text.trim().to_string();
        if text.is_empty() {
            return Err(ServiceError::field("text", "write the answer"));
        }
        let (thread, _) = self.request_thread(caller.clone(), request).await?;
        let Content::Request(r) = &thread.request.hit.content else {
            return Err(ServiceError::invalid("not_a_request", format!("record {request} is not a request")));
        };
        if r.status == RequestStatus::Closed || thread.request.hit.retracted.is_some() {
            return Err(ServiceError::new(
                super::Fault::Conflict,
                "request_closed",
                format!("request {request} is closed or withdrawn"),
            ));
        }
        let mut values = Vec::new();
        for v in &new.values {
            let a = self.asked(v.kind.as_deref(), &v.value)?;
            values.push(NamedValue { kind: a.kind, value: a.value });
        }
        self.refuse_victims(&values, "an answer").await?;
        let group = self.answer_audience(&thread.request, new.group.as_deref())?;
        let tlp = match new.tlp.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(t) => ServiceError::parse::<Tlp>("tlp", t)?,
            None => r.tlp,
        };
        let cites =
            new.cites.iter().map(|c| ServiceError::parse::<RecordId>("cites", c)).collect::<Result<Vec<_>, _>>()?;
        let answer = Answer {
            request: thread.request.hit.id,
            text,
            cites,
            values,
            tlp,
            review_ms: new.review_ms,
            handling: None,
            evaluation: None,
            attachments: new.attachments,
        };
        self.publish(caller, Body::Answer(answer), group).await
    }

    /// Moves a request's status or marks answers useful: a revision by the
    /// request's own agency, on the request's channel.
    pub async fn update_request(
        self: &Arc<Self>,
        caller: Caller,
        id: &str,
        update: RequestUpdate,
    ) -> Result<Published, ServiceError> {
        let (thread, mine) = self.request_thread(caller.clone(), id).await?;
        if !mine {
            return Err(ServiceError::forbidden(
                "not_author",
                format!("only the agency that asked request {id} changes it; answer it instead"),
            ));
        }
        let Content::Request(mut r) = thread.request.hit.content.clone() else {
            return Err(ServiceError::invalid("not_a_request", format!("record {id} is not a request")));
        };
        if thread.request.hit.retracted.is_some() {
            return Err(ServiceError::new(
                super::Fault::Conflict,
                "request_closed",
                format!("request {id} is withdrawn"),
            ));
        }
        if let Some(st) = update.status.as_deref() {
            r.status = RequestStatus::ALL.into_iter().find(|x| x.as_str() == st).ok_or_else(|| {
                ServiceError::field("status", format!("unknown status {st:?}: open, answered or closed"))
            })?;
        }
        for u in &update.useful {
            let a: RecordId = ServiceError::parse("useful", u)?;
            let Some(answer) = thread.answers.iter().find(|f| f.hit.id == a) else {
                return Err(ServiceError::field("useful", format!("{a} is not an answer to request {id}")));
            };
            // The mark travels with the request: an answer for fewer eyes
            // is not named to the request's whole audience.
            if answer.hit.channel != thread.request.hit.channel {
                return Err(ServiceError::field(
                    "useful",
                    format!("answer {a} went to fewer members than the request: it cannot be marked on the request"),
                ));
            }
            if !r.useful.contains(&a) {
                r.useful.push(a);
            }
            if r.status == RequestStatus::Open {
                r.status = RequestStatus::Answered;
            }
        }
        let group = match &thread.request.hit.channel {
            Channel::Group(g) => Some(g.clone()),
            Channel::Network => None,
        };
        let body = Body::Revision(Revision { supersedes: thread.request.hit.id, content: Content::Request(r) });
        self.publish(caller, body, group).await
    }

    /// One request with the answers the caller may see, and whether it is
    /// this agency's own.
    pub async fn request_thread(
        self: &Arc<Self>,
        caller: Caller,
        id: &str,
    ) -> Result<(RequestThread, bool), ServiceError> {
        let id: RecordId = ServiceError::parse("id", id)?;
        let me = self.key.public();
        self.run(move |s| {
            let trust = s.data.store.trust();
            let hit = s.data.store.view(&id, trust.as_deref())?;
            let hit = hit.filter(|h| matches!(h.content, Content::Request(_)));
            let found = hit.map(|h| s.visible(&caller, vec![h], trust.as_deref())).unwrap_or_default();
            let Some(request) = found.into_iter().next() else {
                return Err(ServiceError::not_found(format!("no request {id}")));
            };
            let mine =
                s.data.store.membership().map_or(request.hit.author == me, |t| t.same_agency(&request.hit.author, &me));
            let thread = s.thread(&caller, request, trust.as_deref())?;
            s.audit_read(&caller, "request.show", &id.to_string())?;
            s.consult(
                &caller,
                "request",
                std::iter::once(&thread.request.hit).chain(thread.answers.iter().map(|a| &a.hit)),
            )?;
            Ok((thread, mine))
        })
        .await
    }

    /// Requests the caller may see, newest first, each with its answers.
    pub async fn requests(
        self: &Arc<Self>,
        caller: Caller,
        scope: RequestScope,
        status: Option<RequestStatus>,
    ) -> Result<Vec<RequestThread>, ServiceError> {
        let me = self.key.public();
        self.run(move |s| {
            let q = Query { family: Some(Family::Request), limit: 10_000, ..Query::default() };
            let hits = s.data.store.search(&q, &s.normalize_context())?.unwrap_or_default();
            let trust = s.data.store.trust();
            let ours =
                |f: &Found| s.data.store.membership().map_or(f.hit.author == me, |t| t.same_agency(&f.hit.author, &me));
            let mut out = Vec::new();
            for f in s.visible(&caller, hits, trust.as_deref()) {
                let Content::Request(r) = &f.hit.content else { continue };
                let keep = f.hit.retracted.is_none()
                    && status.is_none_or(|st| st == r.status)
                    && match scope {
                        RequestScope::All => true,
                        RequestScope::Ours => ours(&f),
                        RequestScope::ToUs => !ours(&f) && r.status == RequestStatus::Open,
                    };
                if keep {
                    out.push(s.thread(&caller, f, trust.as_deref())?);
                }
            }
            s.audit_read(&caller, "query", &format!("requests {scope:?} {status:?}"))?;
            s.consult(
                &caller,
                "requests",
                out.iter().flat_map(|t| std::iter::once(&t.request.hit).chain(t.answers.iter().map(|a| &a.hit))),
            )?;
            Ok(out)
        })
        .await
    }

    /// Refuses `values` if this node records any as a victim's: in an
    /// indicator about a victim, or in a case kept out of deconfliction
    /// (where a victim's number goes).
    async fn refuse_victims(self: &Arc<Self>, values: &[NamedValue], what: &'static str) -> Result<(), ServiceError> {
        let values = values.to_vec();
        let victims = self
            .run(move |s| {
                let trust = s.data.store.trust();
                let mut victims = Vec::new();
                for v in &values {
                    let mut victim = false;
                    for id in s.data.store.ids_with_value(v.kind, &v.value)? {
                        let hit = s.data.store.view(&id, trust.as_deref())?;
                        victim |= hit.is_some_and(|h| h.content.subject() == Some(Subject::Victim));
                    }
                    for case in s.data.cases.cases_with_value(v.kind, &v.value)? {
                        victim |= s.data.cases.get(case).is_ok_and(|c| c.deconfliction_opt_out);
                    }
                    if victim {
                        victims.push(v.value.clone());
                    }
                }
                Ok(victims)
            })
            .await?;
        if victims.is_empty() {
            return Ok(());
        }
        Err(ServiceError::invalid(
            "victim_value",
            format!(
                "{} is recorded here as a victim's (an indicator about a victim, or a case kept out of \
                 deconfliction): {what} would broadcast it. Ask privately (deconfliction) instead",
                victims.join(", ")
            ),
        )
        .with_details(serde_json::json!({"field": "values", "values": victims})))
    }

    /// The channel an answer goes on: the request's, or a sharing group
    /// within the request's audience that includes the asking agency.
    fn answer_audience(&self, request: &Found, group: Option<&str>) -> Result<Option<GroupId>, ServiceError> {
        let asked_in = match &request.hit.channel {
            Channel::Group(g) => Some(g.clone()),
            Channel::Network => None,
        };
        let Some(g) = group_field(group)? else { return Ok(asked_in) };
        if asked_in.as_ref() == Some(&g) {
            return Ok(Some(g));
        }
        let trust = self
            .data
            .store
            .trust()
            .ok_or_else(|| ServiceError::invalid("no_trust_list", "this node has no trust list yet"))?;
        let members = |id: &GroupId| trust.groups.iter().find(|x| x.id == *id).map(|x| x.members.clone());
        let within = members(&g).ok_or_else(|| ServiceError::field("group", format!("no sharing group {g:?}")))?;
        let asker = trust.member_by_any_key(&request.hit.author).map(|m| m.id.clone());
        let inside = match &asked_in {
            None => true,
            Some(rg) => members(rg).is_some_and(|outer| within.iter().all(|m| outer.contains(m))),
        };
        if !inside || asker.is_none_or(|a| !within.contains(&a)) {
            return Err(ServiceError::field(
                "group",
                format!(
                    "group {g} is not within the request's audience ({}) or does not include the asking agency",
                    request.hit.channel
                ),
            ));
        }
        Ok(Some(g))
    }

    fn thread(
        &self,
        caller: &Caller,
        request: Found,
        trust: Option<&kawan_protocol::TrustList>,
    ) -> Result<RequestThread, ServiceError> {
        let answers = self.data.store.answers_to(&request.hit.id, trust)?;
        // Answers signed after the request was closed are not part of it.
        let closed_ms = match &request.hit.content {
            Content::Request(r) if r.status == RequestStatus::Closed => Some(request.hit.updated_ms),
            _ => None,
        };
        let answers: Vec<Found> = self
            .visible(caller, answers, trust)
            .into_iter()
            .filter(|a| a.hit.retracted.is_none() && closed_ms.is_none_or(|c| a.hit.created_ms <= c))
            .collect();
        let overdue = match &request.hit.content {
            Content::Request(r) => {
                r.status == RequestStatus::Open
                    && answers.is_empty()
                    && r.deadline_ms.is_some_and(|d| d < self.now_ms())
            }
            _ => false,
        };
        Ok(RequestThread { request, answers, overdue })
    }
}

/// A title for free text (a question, an answer): its first line, at most
/// 120 characters.
pub fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut out: String = line.chars().take(120).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}
