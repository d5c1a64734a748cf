//! TAXII 2.1 (read side) at `/taxii2/`: discovery, the API root, one
//! collection per channel the caller's node may read, objects with
//! `added_after` / `limit` / `next` / `match[...]`, one object, its versions,
//! and the manifest. Objects are the STIX 2.1 mapping of `interop::stix`.
//! Pagination follows the store's receive-order cursor, never row skipping.
//! AMBER+STRICT (and RED, which is never stored) is never served.

use std::{collections::HashMap, sync::Arc};

use axum::{
    Router,
    extract::{FromRequestParts, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use kawan_protocol::{Body, Channel, Tlp};
use serde_json::{Value, json};

use super::{AppState, records::blocking};
use crate::{
    interop::stix,
    store::{Cursor, StoredRecord},
};

const TAXII: &str = "application/taxii+json;version=2.1";
const STIX: &str = "application/stix+json;version=2.1";

/// A TAXII error: the spec's error body and media type.
pub struct TaxiiError(StatusCode, String);

impl TaxiiError {
    pub fn new(status: StatusCode, description: impl Into<String>) -> TaxiiError {
        TaxiiError(status, description.into())
    }
}

impl IntoResponse for TaxiiError {
    fn into_response(self) -> Response {
        let body = json!({"title": self.0.canonical_reason().unwrap_or("error"), "description": self.1, "http_status": self.0.as_u16().to_string()});
        (self.0, [(header::CONTENT_TYPE, HeaderValue::from_static(TAXII))], body.to_string()).into_response()
    }
}

fn taxii(value: Value) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(TAXII))], value.to_string()).into_response()
}

/// A caller authenticated by bearer token or HTTP Basic (the password is the
/// token; TAXII clients usually speak Basic).
pub struct TaxiiCaller(super::Caller);

impl FromRequestParts<Arc<AppState>> for TaxiiCaller {
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, TaxiiError> {
        super::Caller::from_headers(&parts.headers, state).map(TaxiiCaller).map_err(|e| {
            TaxiiError(e.status, format!("{} (bearer token, or HTTP Basic with the token as password)", e.body.message))
        })
    }
}

/// TAXII 2.1 content negotiation: every response is
/// `application/taxii+json;version=2.1`, so a request that accepts none of it
/// gets 406, and a POST whose body is not it gets 415.
async fn negotiate(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    match refuse(req.headers(), req.method() == axum::http::Method::POST) {
        Some(refusal) => refusal.into_response(),
        None => next.run(req).await,
    }
}

fn refuse(headers: &HeaderMap, is_post: bool) -> Option<TaxiiError> {
    let header_of = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    if let Some(accept) = header_of(header::ACCEPT)
        && !accept.split(',').any(|range| is_taxii(range, true))
    {
        let msg = format!("Accept: {accept:?}; this server answers {TAXII}");
        return Some(TaxiiError(StatusCode::NOT_ACCEPTABLE, msg));
    }
    if is_post && !header_of(header::CONTENT_TYPE).is_some_and(|ct| is_taxii(ct, false)) {
        return Some(TaxiiError(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("Content-Type must be {TAXII}")));
    }
    None
}

/// Whether a media range names TAXII 2.1 (`version` absent means the latest);
/// with `wildcards`, `*/*` and `application/*` too.
fn is_taxii(range: &str, wildcards: bool) -> bool {
    let mut parts = range.split(';').map(str::trim);
    let media = parts.next().unwrap_or("").to_ascii_lowercase();
    let version = parts.find_map(|p| p.strip_prefix("version=")).map(|v| v.trim().trim_matches('"'));
    match media.as_str() {
        "*/*" | "application/*" => wildcards,
        "application/taxii+json" => version.is_none_or(|v| v == "2.1"),
        _ => false,
    }
}

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/taxii2/api/", get(api_root))
        .route("/taxii2/api/collections/", get(collections))
        .route("/taxii2/api/collections/{collection}/", get(collection))
        .route("/taxii2/api/collections/{collection}/objects/", get(objects).post(add_objects))
        .route("/taxii2/api/status/{status}/", get(status))
        .route("/taxii2/api/collections/{collection}/objects/{object}/", get(object))
        .route("/taxii2/api/collections/{collection}/objects/{object}/versions/", get(versions))
        .route("/taxii2/api/collections/{collection}/manifest/", get(manifest))
        .layer(axum::middleware::from_fn(negotiate))
}

async fn discovery(_c: TaxiiCaller) -> Response {
    taxii(json!({
        "title": "Kawan node", "description": "Shared counter-scam-centre knowledge as STIX 2.1",
        "default": "/taxii2/api/", "api_roots": ["/taxii2/api/"],
    }))
}

async fn api_root(State(state): State<Arc<AppState>>, _c: TaxiiCaller) -> Response {
    taxii(json!({
        "title": format!("Kawan — {}", state.config.agency.name),
        "versions": [TAXII], "max_content_length": state.config.api.max_body_bytes,
    }))
}

/// Collections: the network channel, and each sharing group this node is in.
fn channels(state: &AppState) -> Vec<Channel> {
    let mut out = vec![Channel::Network];
    if let Some(list) = state.storage.store.trust() {
        out.extend(list.groups_of(&state.key.public()).into_iter().map(|g| Channel::Group(g.clone())));
    }
    out
}

fn collection_id(channel: &Channel) -> String {
    stix::derived_id("x", channel.to_string().as_bytes()).trim_start_matches("x--").to_string()
}

fn collection_view(channel: &Channel) -> Value {
    json!({
        "id": collection_id(channel), "title": format!("Kawan channel {channel}"),
        "description": match channel {
            Channel::Network => "CLEAR and GREEN knowledge shared with the whole network".to_string(),
            Channel::Group(g) => format!("AMBER knowledge of sharing group {g} (AMBER+STRICT is never exported)"),
        },
        "can_read": true, "can_write": false, "media_types": [STIX],
    })
}

fn find(state: &AppState, id: &str) -> Result<Channel, TaxiiError> {
    channels(state)
        .into_iter()
        .find(|c| collection_id(c) == id)
        .ok_or_else(|| TaxiiError(StatusCode::NOT_FOUND, format!("no collection {id}")))
}

fn can_write(c: &super::Caller) -> bool {
    matches!(c.role, crate::tokens::Role::Operator | crate::tokens::Role::Coordinator)
}

async fn collections(State(state): State<Arc<AppState>>, TaxiiCaller(c): TaxiiCaller) -> Response {
    let views: Vec<Value> = channels(&state)
        .iter()
        .map(|ch| {
            let mut v = collection_view(ch);
            v["can_write"] = can_write(&c).into();
            v
        })
        .collect();
    taxii(json!({ "collections": views }))
}

async fn collection(
    State(state): State<Arc<AppState>>,
    TaxiiCaller(c): TaxiiCaller,
    Path(id): Path<String>,
) -> Result<Response, TaxiiError> {
    let mut v = collection_view(&find(&state, &id)?);
    v["can_write"] = can_write(&c).into();
    Ok(taxii(v))
}

/// `POST` objects (operators): STIX indicators with a single-comparison
/// pattern are published as this agency; everything else is reported as a
/// failure in the status resource. TLP comes from the object's markings
/// (AMBER only into a group's collection; RED and AMBER+STRICT are refused).
async fn add_objects(
    State(state): State<Arc<AppState>>,
    TaxiiCaller(caller): TaxiiCaller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, TaxiiError> {
    let channel = find(&state, &id)?;
    if !can_write(&caller) {
        return Err(TaxiiError(StatusCode::FORBIDDEN, "adding objects needs an operator or coordinator token".into()));
    }
    let bad = |m: String| TaxiiError(StatusCode::BAD_REQUEST, m);
    let envelope: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("not a TAXII envelope: {e}")))?;
    let objects = envelope["objects"].as_array().cloned().ok_or_else(|| bad("envelope has no objects".into()))?;
    let st = state.clone();
    let c = caller.clone();
    let (successes, failures) = blocking(move || {
        // Objects become bodies first; the valid ones are published in one
        // durable write.
        let bodies: Vec<Result<(Body, Option<kawan_protocol::GroupId>), String>> =
            objects.iter().map(|o| stix_body(&st, &channel, o)).collect();
        let items: Vec<_> = bodies.iter().filter_map(|b| b.as_ref().ok().cloned()).collect();
        let mut published = st.publish_many(&c, items)?.into_iter();
        let mut ok = Vec::new();
        let mut failed = Vec::new();
        for (o, body) in objects.iter().zip(bodies) {
            let entry = json!({"id": o["id"], "version": o["modified"]});
            let outcome = body.and_then(|_| match published.next() {
                Some(Ok(_)) => Ok(()),
                Some(Err(e)) => Err(e.body.message),
                None => Err("not published".to_string()),
            });
            match outcome {
                Ok(()) => ok.push(entry),
                Err(message) => {
                    let mut e = entry;
                    e["message"] = message.into();
                    failed.push(e);
                }
            }
        }
        Ok((ok, failed))
    })
    .await
    .map_err(|e| TaxiiError(e.status, e.body.message))?;
    let now = crate::clock::now_ms();
    let status_id = stix::derived_id("x", format!("{id}{now}{}", successes.len()).as_bytes());
    let status_id = status_id.trim_start_matches("x--").to_string();
    let status = json!({
        "id": status_id, "status": "complete", "request_timestamp": stix::timestamp(now),
        "total_count": successes.len() + failures.len(), "success_count": successes.len(),
        "failure_count": failures.len(), "pending_count": 0, "successes": successes, "failures": failures,
    });
    let mut recent = state.taxii_status.lock().unwrap_or_else(|e| e.into_inner());
    recent.push_back((status_id, status.clone()));
    while recent.len() > 1000 {
        recent.pop_front();
    }
    Ok((StatusCode::ACCEPTED, taxii(status)).into_response())
}

/// The Kawan body (and group) a STIX object becomes, or why it cannot.
fn stix_body(
    state: &AppState,
    channel: &Channel,
    o: &Value,
) -> Result<(Body, Option<kawan_protocol::GroupId>), String> {
    let incoming = stix::read_indicator(o)?;
    let value = kawan_protocol::normalize(incoming.kind, &incoming.value, &state.normalize_context())
        .map_err(|e| e.to_string())?
        .value;
    let default_tlp = if *channel == Channel::Network { Tlp::Green } else { Tlp::Amber };
    let role = incoming.role.unwrap_or(kawan_protocol::Role::RecruiterContact);
    let mut indicator = kawan_protocol::Indicator::new(incoming.kind, value, role, incoming.tlp.unwrap_or(default_tlp));
    if let Some(subject) = incoming.subject {
        indicator.subject = subject;
    }
    if let Some(basis) = incoming.basis {
        indicator.basis = basis;
    }
    indicator.confidence = incoming.confidence.unwrap_or(50);
    indicator.tags = incoming.tags;
    indicator.description = incoming.description;
    let group = match channel {
        Channel::Group(g) => Some(g.clone()),
        Channel::Network => None,
    };
    Ok((Body::Indicator(indicator), group))
}

async fn status(
    State(state): State<Arc<AppState>>,
    _c: TaxiiCaller,
    Path(id): Path<String>,
) -> Result<Response, TaxiiError> {
    let recent = state.taxii_status.lock().unwrap_or_else(|e| e.into_inner());
    recent
        .iter()
        .find(|(s, _)| *s == id)
        .map(|(_, v)| taxii(v.clone()))
        .ok_or_else(|| TaxiiError(StatusCode::NOT_FOUND, format!("no status {id}")))
}

/// One page: at most `limit` STIX objects, the receive time of each, and
/// the `next` token to continue from.
struct Page {
    objects: Vec<(Value, u64)>,
    next: Option<String>,
    more: bool,
}

/// Where a page starts: inside the collection's preamble (offset), or in the
/// records, after a cursor (none: from the first).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Start {
    Preamble(usize),
    Records(Option<Cursor>),
}

/// `next` tokens: `p<offset>` inside the preamble, else a record cursor.
impl std::str::FromStr for Start {
    type Err = String;
    fn from_str(s: &str) -> Result<Start, String> {
        match s.strip_prefix('p') {
            Some(n) => n.parse().map(Start::Preamble).map_err(|_| format!("invalid next token {s:?}")),
            None => s.parse().map(|c| Start::Records(Some(c))),
        }
    }
}

fn page(state: &AppState, channel: &Channel, start: Start, limit: usize) -> Result<Page, TaxiiError> {
    let internal = |e: crate::store::StoreError| TaxiiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string());
    let store = &state.storage.store;
    let trust = store.trust();
    let mut objects = Vec::new();
    let (after, room) = match start {
        Start::Records(after) => (after, limit),
        Start::Preamble(offset) => {
            // Every collection starts with the Kawan identity, extension
            // definition, TLP markings and the agencies' identities; they
            // count against the page's limit like any object.
            let mut preamble: Vec<Value> = stix::preamble();
            if let Some(list) = &trust {
                preamble.extend(list.members.iter().map(|m| stix::identity(&m.key, &m.name, Some(m.country.as_str()))));
            }
            let end = (offset + limit).min(preamble.len());
            objects.extend(preamble.into_iter().take(end).skip(offset).map(|o| (o, 0)));
            let room = limit - objects.len();
            if room == 0 {
                return Ok(Page { objects, next: Some(format!("p{end}")), more: true });
            }
            (None, room)
        }
    };
    let (records, next) = store.added_after(after, Some(channel), room).map_err(internal)?;
    let more = records.len() == room;
    let next = next.map(|c| c.to_string());
    let mut seen = std::collections::HashSet::new();
    for r in records {
        if let Some(o) = to_stix(state, &r, trust.as_deref()).map_err(internal)?
            && seen.insert((o["id"].to_string(), o["modified"].to_string()))
        {
            objects.push((o, r.added_ms));
        }
    }
    Ok(Page { objects, next, more })
}

/// The STIX object a stored record contributes, if it may be exported.
fn to_stix(
    state: &AppState,
    r: &StoredRecord,
    trust: Option<&kawan_protocol::TrustList>,
) -> Result<Option<Value>, crate::store::StoreError> {
    let store = &state.storage.store;
    let target = match &r.record.body {
        Body::Sighting(s) => {
            let Some(hit) = store.view(&s.target, trust)? else { return Ok(None) };
            if !exportable(hit.content.tlp()) {
                return Ok(None);
            }
            return Ok(Some(stix::sighting(
                &r.id,
                &hit,
                &r.record.header.author,
                s.verdict,
                r.record.header.created_ms,
            )));
        }
        Body::Retraction(x) => x.target,
        _ => r.id,
    };
    // Content, revisions and retractions all export the knowledge as it
    // stands, once: at the record that made it so (the latest version, or the
    // retraction), so a full walk holds each object once, in its final state,
    // and an incremental walk receives each change when it arrives.
    let Some(hit) = store.view(&target, trust)? else { return Ok(None) };
    let is_latest = match &r.record.body {
        Body::Retraction(_) => hit.retracted.is_some(),
        _ => hit.version == r.id && hit.retracted.is_none(),
    };
    Ok((is_latest && exportable(hit.content.tlp())).then(|| stix::object(&hit)))
}

fn exportable(tlp: Tlp) -> bool {
    tlp.exportable()
}

/// `match[type]`, `match[id]` and `match[version]` filters.
struct Filters {
    types: Vec<String>,
    ids: Vec<String>,
    versions: Vec<String>,
}

fn filters(q: &HashMap<String, String>) -> Filters {
    let list = |k: &str| q.get(k).map(|v| v.split(',').map(|s| s.trim().to_string()).collect()).unwrap_or_default();
    Filters { types: list("match[type]"), ids: list("match[id]"), versions: list("match[version]") }
}

fn keep(o: &Value, f: &Filters) -> bool {
    // Collections hold one version per object (the current one), so "last",
    // "first" and "all" all select it; a timestamp selects it if it matches.
    let version_ok = f.versions.is_empty()
        || f.versions.iter().any(|v| matches!(v.as_str(), "last" | "first" | "all") || o["modified"] == v.as_str());
    (f.types.is_empty() || f.types.iter().any(|t| o["type"] == t.as_str()))
        && (f.ids.is_empty() || f.ids.iter().any(|i| o["id"] == i.as_str()))
        && version_ok
}

fn start(q: &HashMap<String, String>) -> Result<Start, TaxiiError> {
    let bad = |m: String| TaxiiError(StatusCode::BAD_REQUEST, m);
    if let Some(n) = q.get("next") {
        return n.parse().map_err(bad);
    }
    match q.get("added_after") {
        Some(t) => {
            let dt = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|e| bad(format!("added_after: {e}")))?;
            Ok(Start::Records(Some(Cursor::after_ms((dt.unix_timestamp_nanos() / 1_000_000).max(0) as u64))))
        }
        None => Ok(Start::Preamble(0)),
    }
}

fn limit(q: &HashMap<String, String>) -> Result<usize, TaxiiError> {
    match q.get("limit") {
        Some(l) => l
            .parse::<usize>()
            .map(|l| l.clamp(1, 1000))
            .map_err(|_| TaxiiError(StatusCode::BAD_REQUEST, format!("limit: {l:?} is not a number"))),
        None => Ok(100),
    }
}

fn date_headers(objects: &[(Value, u64)]) -> HeaderMap {
    let mut h = HeaderMap::new();
    let added: Vec<u64> = objects.iter().map(|(_, a)| *a).filter(|a| *a > 0).collect();
    if let (Some(first), Some(last)) = (added.iter().min(), added.iter().max())
        && let (Ok(f), Ok(l)) =
            (HeaderValue::from_str(&stix::timestamp(*first)), HeaderValue::from_str(&stix::timestamp(*last)))
    {
        h.insert("X-TAXII-Date-Added-First", f);
        h.insert("X-TAXII-Date-Added-Last", l);
    }
    h
}

/// The page a GET of objects or the manifest asks for, and its filters.
async fn requested_page(
    state: &Arc<AppState>,
    collection: &str,
    q: &HashMap<String, String>,
) -> Result<(Page, Filters), TaxiiError> {
    let channel = find(state, collection)?;
    let (after, limit) = (start(q)?, limit(q)?);
    let st = state.clone();
    let page = blocking(move || page(&st, &channel, after, limit).map_err(|e| super::ApiError::internal(e.1)))
        .await
        .map_err(|e| TaxiiError(e.status, e.body.message))?;
    Ok((page, filters(q)))
}

async fn objects(
    State(state): State<Arc<AppState>>,
    TaxiiCaller(caller): TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, TaxiiError> {
    let (page, f) = requested_page(&state, &id, &q).await?;
    let _ = state.audit_read(&caller, "export.taxii", &format!("collection {id}, {} objects", page.objects.len()));
    let headers = date_headers(&page.objects);
    let objects: Vec<Value> = page.objects.into_iter().map(|(o, _)| o).filter(|o| keep(o, &f)).collect();
    let mut body = json!({"more": page.more, "objects": objects});
    if page.more
        && let Some(n) = page.next
    {
        body["next"] = n.into();
    }
    Ok((headers, taxii(body)).into_response())
}

/// All objects of a collection (for lookups by id; collections are bounded
/// by what one node stores).
fn all(state: &AppState, channel: &Channel) -> Result<Vec<(Value, u64)>, TaxiiError> {
    let mut out = Vec::new();
    let mut start = Start::Preamble(0);
    loop {
        let p = page(state, channel, start, 1000)?;
        out.extend(p.objects);
        match p.next.filter(|_| p.more) {
            Some(next) => start = next.parse().map_err(|e| TaxiiError(StatusCode::INTERNAL_SERVER_ERROR, e))?,
            None => return Ok(out),
        }
    }
}

async fn object(
    State(state): State<Arc<AppState>>,
    _c: TaxiiCaller,
    Path((id, object)): Path<(String, String)>,
) -> Result<Response, TaxiiError> {
    let channel = find(&state, &id)?;
    let st = state.clone();
    let found: Vec<Value> = blocking(move || all(&st, &channel).map_err(|e| super::ApiError::internal(e.1)))
        .await
        .map_err(|e| TaxiiError(e.status, e.body.message))?
        .into_iter()
        .map(|(o, _)| o)
        .filter(|o| o["id"] == object.as_str())
        .collect();
    if found.is_empty() {
        return Err(TaxiiError(StatusCode::NOT_FOUND, format!("no object {object} in this collection")));
    }
    let latest = found.into_iter().max_by_key(|o| o["modified"].as_str().unwrap_or("").to_string());
    Ok(taxii(json!({"more": false, "objects": latest.into_iter().collect::<Vec<_>>()})))
}

async fn versions(
    State(state): State<Arc<AppState>>,
    _c: TaxiiCaller,
    Path((id, object)): Path<(String, String)>,
) -> Result<Response, TaxiiError> {
    let channel = find(&state, &id)?;
    let st = state.clone();
    let mut v: Vec<String> = blocking(move || all(&st, &channel).map_err(|e| super::ApiError::internal(e.1)))
        .await
        .map_err(|e| TaxiiError(e.status, e.body.message))?
        .into_iter()
        .filter(|(o, _)| o["id"] == object.as_str())
        .filter_map(|(o, _)| o["modified"].as_str().map(String::from))
        .collect();
    v.sort();
    v.dedup();
    if v.is_empty() {
        return Err(TaxiiError(StatusCode::NOT_FOUND, format!("no object {object} in this collection")));
    }
    Ok(taxii(json!({"more": false, "versions": v})))
}

async fn manifest(
    State(state): State<Arc<AppState>>,
    _c: TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, TaxiiError> {
    let (page, f) = requested_page(&state, &id, &q).await?;
    let objects: Vec<Value> = page
        .objects
        .iter()
        .filter(|(o, _)| keep(o, &f))
        .map(|(o, added)| {
            json!({"id": o["id"], "date_added": stix::timestamp((*added).max(1)), "version": o["modified"], "media_type": STIX})
        })
        .collect();
    let mut body = json!({"more": page.more, "objects": objects});
    if page.more
        && let Some(n) = page.next
    {
        body["next"] = n.into();
    }
    Ok(taxii(body))
}
