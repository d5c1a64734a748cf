//! TAXII 2.1 (read side) at `/taxii2/`: discovery, the API root, one
//! collection per channel the caller's node may read, objects with
//! `added_after` / `limit` / `next` / `match[...]`, one object, its versions,
//! and the manifest. Objects are the STIX 2.1 mapping of `interop::stix`.
//! Pagination follows the store's receive-order cursor, never row skipping.
//! AMBER+STRICT (and RED, which is never stored) is never served.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
};

use axum::{
    Router,
    extract::{FromRef, FromRequestParts, Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Response},
    routing::get,
};
use kawan_protocol::Channel;
use serde_json::{Value, json};

use super::{
    auth,
    error::{TAXII, TaxiiError},
};
use crate::{
    interop::stix,
    policy,
    service::{Caller, Cursor, Service, Taxii, TaxiiPage, TaxiiStart},
};

const STIX: &str = "application/stix+json;version=2.1";

/// Status resources of recent `POST`s, by id (the newest 1000).
#[derive(Default)]
pub struct Statuses(Mutex<VecDeque<(String, Value)>>);

type Svc = State<Arc<Service>>;

fn taxii(value: Value) -> Response {
    ([(header::CONTENT_TYPE, HeaderValue::from_static(TAXII))], value.to_string()).into_response()
}

/// A caller authenticated by bearer token or HTTP Basic (the password is the
/// token; TAXII clients usually speak Basic).
pub struct TaxiiCaller(Caller);

impl<S> FromRequestParts<S> for TaxiiCaller
where
    Arc<Service>: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = TaxiiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, TaxiiError> {
        let svc = Arc::<Service>::from_ref(state);
        auth::caller(&parts.headers, &svc, policy::Path::Taxii).await.map(TaxiiCaller).map_err(|mut e| {
            e.message = format!("{} (bearer token, or HTTP Basic with the token as password)", e.message);
            e.into()
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
        return Some(TaxiiError::new(StatusCode::NOT_ACCEPTABLE, msg));
    }
    if is_post && !header_of(header::CONTENT_TYPE).is_some_and(|ct| is_taxii(ct, false)) {
        return Some(TaxiiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, format!("Content-Type must be {TAXII}")));
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

pub fn routes() -> Router<super::AppState> {
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

async fn api_root(State(svc): Svc, _c: TaxiiCaller) -> Response {
    taxii(json!({
        "title": format!("Kawan — {}", svc.config().agency.name),
        "versions": [TAXII], "max_content_length": svc.config().api.max_body_bytes,
    }))
}

fn collection_view(channel: &Channel) -> Value {
    json!({
        "id": Taxii::collection_id(channel), "title": format!("Kawan channel {channel}"),
        "description": match channel {
            Channel::Network => "CLEAR and GREEN knowledge shared with the whole network".to_string(),
            Channel::Group(g) => format!("AMBER knowledge of sharing group {g} (AMBER+STRICT is never exported)"),
        },
        "can_read": true, "can_write": false, "media_types": [STIX],
    })
}

fn can_write(c: &Caller) -> bool {
    c.require_admin("adding objects").is_ok()
}

async fn collections(State(svc): Svc, TaxiiCaller(c): TaxiiCaller) -> Response {
    let views: Vec<Value> = svc
        .collections()
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
    State(svc): Svc,
    TaxiiCaller(c): TaxiiCaller,
    Path(id): Path<String>,
) -> Result<Response, TaxiiError> {
    let mut v = collection_view(&svc.collection(&id)?);
    v["can_write"] = can_write(&c).into();
    Ok(taxii(v))
}

/// `POST` objects (operators): STIX indicators with a single-comparison
/// pattern are published as this agency; everything else is reported as a
/// failure in the status resource. TLP comes from the object's markings
/// (AMBER only into a group's collection; RED and AMBER+STRICT are refused).
async fn add_objects(
    State(svc): Svc,
    State(statuses): State<Arc<Statuses>>,
    TaxiiCaller(caller): TaxiiCaller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, TaxiiError> {
    let channel = svc.collection(&id)?;
    caller.require_admin("adding objects")?;
    let bad = |m: String| TaxiiError::new(StatusCode::BAD_REQUEST, m);
    let envelope: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("not a TAXII envelope: {e}")))?;
    let objects = envelope["objects"].as_array().cloned().ok_or_else(|| bad("envelope has no objects".into()))?;
    // Objects become bodies first; the valid ones are published in one
    // durable write.
    let bodies: Vec<_> = objects.iter().map(|o| svc.body_from_stix(&channel, o)).collect();
    let items: Vec<_> = bodies.iter().filter_map(|b| b.as_ref().ok().cloned()).collect();
    let mut published = svc.publish_many(caller, items).await?.into_iter();
    let (mut successes, mut failures) = (Vec::new(), Vec::new());
    for (o, body) in objects.iter().zip(bodies) {
        let entry = json!({"id": o["id"], "version": o["modified"]});
        let outcome = body.and_then(|_| match published.next() {
            Some(Ok(_)) => Ok(()),
            Some(Err(e)) => Err(e.message),
            None => Err("not published".to_string()),
        });
        match outcome {
            Ok(()) => successes.push(entry),
            Err(message) => {
                let mut e = entry;
                e["message"] = message.into();
                failures.push(e);
            }
        }
    }
    let now = svc.now_ms();
    let status_id = stix::derived_id("x", format!("{id}{now}{}", successes.len()).as_bytes());
    let status_id = status_id.trim_start_matches("x--").to_string();
    let status = json!({
        "id": status_id, "status": "complete", "request_timestamp": stix::timestamp(now),
        "total_count": successes.len() + failures.len(), "success_count": successes.len(),
        "failure_count": failures.len(), "pending_count": 0, "successes": successes, "failures": failures,
    });
    let mut recent = statuses.0.lock().unwrap_or_else(|e| e.into_inner());
    recent.push_back((status_id, status.clone()));
    while recent.len() > 1000 {
        recent.pop_front();
    }
    Ok((StatusCode::ACCEPTED, taxii(status)).into_response())
}

async fn status(
    State(statuses): State<Arc<Statuses>>,
    _c: TaxiiCaller,
    Path(id): Path<String>,
) -> Result<Response, TaxiiError> {
    let recent = statuses.0.lock().unwrap_or_else(|e| e.into_inner());
    recent
        .iter()
        .find(|(s, _)| *s == id)
        .map(|(_, v)| taxii(v.clone()))
        .ok_or_else(|| TaxiiError::new(StatusCode::NOT_FOUND, format!("no status {id}")))
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

fn start(q: &HashMap<String, String>) -> Result<TaxiiStart, TaxiiError> {
    let bad = |m: String| TaxiiError::new(StatusCode::BAD_REQUEST, m);
    if let Some(n) = q.get("next") {
        return n.parse().map_err(bad);
    }
    match q.get("added_after") {
        Some(t) => {
            let dt = time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
                .map_err(|e| bad(format!("added_after: {e}")))?;
            Ok(TaxiiStart::Records(Some(Cursor::after_ms((dt.unix_timestamp_nanos() / 1_000_000).max(0) as u64))))
        }
        None => Ok(TaxiiStart::Preamble(0)),
    }
}

fn limit(q: &HashMap<String, String>) -> Result<usize, TaxiiError> {
    match q.get("limit") {
        Some(l) => l
            .parse::<usize>()
            .map(|l| l.clamp(1, 1000))
            .map_err(|_| TaxiiError::new(StatusCode::BAD_REQUEST, format!("limit: {l:?} is not a number"))),
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
    svc: &Arc<Service>,
    caller: Caller,
    collection: String,
    q: &HashMap<String, String>,
) -> Result<(TaxiiPage, Filters), TaxiiError> {
    let page = svc.taxii_page(caller, collection, start(q)?, limit(q)?).await?;
    Ok((page, filters(q)))
}

async fn objects(
    State(svc): Svc,
    TaxiiCaller(caller): TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, TaxiiError> {
    let (page, f) = requested_page(&svc, caller, id, &q).await?;
    let headers = date_headers(&page.objects);
    let objects: Vec<Value> = page.objects.iter().map(|(o, _)| o).filter(|o| keep(o, &f)).cloned().collect();
    Ok((headers, taxii(paged(&page, objects))).into_response())
}

/// A page's envelope: its objects, `more`, and `next` when there is more.
fn paged(page: &TaxiiPage, objects: Vec<Value>) -> Value {
    let mut body = json!({"more": page.more, "objects": objects});
    if page.more
        && let Some(n) = &page.next
    {
        body["next"] = n.as_str().into();
    }
    body
}

/// Every version of one object in a collection; not found if none.
async fn versions_of(
    svc: &Arc<Service>,
    caller: Caller,
    collection: String,
    object: &str,
) -> Result<Vec<Value>, TaxiiError> {
    let found = svc.taxii_object(caller, collection, object.to_string()).await?;
    if found.is_empty() {
        return Err(TaxiiError::new(StatusCode::NOT_FOUND, format!("no object {object} in this collection")));
    }
    Ok(found)
}

async fn object(
    State(svc): Svc,
    TaxiiCaller(caller): TaxiiCaller,
    Path((id, object)): Path<(String, String)>,
) -> Result<Response, TaxiiError> {
    let found = versions_of(&svc, caller, id, &object).await?;
    let latest = found.into_iter().max_by_key(|o| o["modified"].as_str().unwrap_or("").to_string());
    Ok(taxii(json!({"more": false, "objects": latest.into_iter().collect::<Vec<_>>()})))
}

async fn versions(
    State(svc): Svc,
    TaxiiCaller(caller): TaxiiCaller,
    Path((id, object)): Path<(String, String)>,
) -> Result<Response, TaxiiError> {
    let mut v: Vec<String> = versions_of(&svc, caller, id, &object)
        .await?
        .into_iter()
        .filter_map(|o| o["modified"].as_str().map(String::from))
        .collect();
    v.sort();
    v.dedup();
    Ok(taxii(json!({"more": false, "versions": v})))
}

async fn manifest(
    State(svc): Svc,
    TaxiiCaller(caller): TaxiiCaller,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, TaxiiError> {
    let (page, f) = requested_page(&svc, caller, id, &q).await?;
    let objects: Vec<Value> = page
        .objects
        .iter()
        .filter(|(o, _)| keep(o, &f))
        .map(|(o, added)| {
            json!({"id": o["id"], "date_added": stix::timestamp((*added).max(1)), "version": o["modified"], "media_type": STIX})
        })
        .collect();
    Ok(taxii(paged(&page, objects)))
}
