//! The trust list in force, installing updates, and the peers it names.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use axum::extract::State;
use kawan_protocol::TrustList;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    http::{ApiError, ApiJson},
    identity,
    service::{Caller, NewProposal, ProposalView, Service},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct TrustView {
    pub network: String,
    pub version: u64,
    pub threshold: u16,
    #[schema(value_type = Vec<Object>)]
    pub members: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub groups: Vec<serde_json::Value>,
}

impl TrustView {
    fn of(list: &TrustList, now: u64) -> TrustView {
        TrustView {
            network: list.network.to_string(),
            version: list.version,
            threshold: list.threshold,
            members: list
                .members
                .iter()
                .map(|m| {
                    serde_json::json!({
                        "id": m.id, "name": m.name, "country": m.country, "key": m.key,
                        "peer_id": identity::peer_id(&m.key).map(|p| p.to_string()).unwrap_or_default(),
                        "roles": m.roles, "addrs": m.addrs, "expires_ms": m.expires_ms, "active": m.is_active(now),
                        "key_from_ms": m.key_from_ms,
                        "retired_keys": m.retired_keys.iter().map(|r| serde_json::json!({
                            "key": r.key, "from_ms": r.from_ms, "until_ms": r.until_ms, "compromised": r.compromised,
                            "last_seqs": r.last_seqs.iter().map(|e| serde_json::json!({"channel": e.channel.to_string(), "seq": e.seq, "id": e.id})).collect::<Vec<_>>(),
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect(),
            groups: list
                .groups
                .iter()
                .map(|g| serde_json::json!({"id": g.id, "name": g.name, "members": g.members}))
                .collect(),
        }
    }
}

#[utoipa::path(get, path = "/api/v1/trust", tag = "trust",
    responses((status = 200, body = TrustView), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn get_trust(State(svc): State<Arc<Service>>, _caller: Caller) -> Result<axum::Json<TrustView>, ApiError> {
    Ok(axum::Json(TrustView::of(svc.trust()?.as_ref(), svc.now_ms())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrustChain {
    /// Every signed list this node accepted, oldest (the genesis) first, hex.
    pub lists: Vec<String>,
}

#[utoipa::path(get, path = "/api/v1/trust/chain", tag = "trust",
    responses((status = 200, body = TrustChain), (status = 404, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn trust_chain(State(svc): State<Arc<Service>>, _caller: Caller) -> Result<axum::Json<TrustChain>, ApiError> {
    Ok(axum::Json(TrustChain { lists: svc.trust_chain()?.iter().map(hex::encode).collect() }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallTrust {
    /// The signed trust list (`kawan trust` files), hex.
    pub signed_list: String,
}

#[utoipa::path(post, path = "/api/v1/trust", tag = "trust", request_body = InstallTrust,
    responses((status = 200, body = TrustView), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn install_trust(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    ApiJson(req): ApiJson<InstallTrust>,
) -> Result<axum::Json<TrustView>, ApiError> {
    Ok(axum::Json(TrustView::of(svc.install_trust(caller, &req.signed_list).await?.as_ref(), svc.now_ms())))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PeerView {
    pub id: String,
    pub name: String,
    pub country: String,
    pub peer_id: String,
    /// This node itself.
    pub me: bool,
    pub active: bool,
    pub connected: bool,
    pub last_seen_ms: Option<u64>,
    /// Records the peer had, at the last heads exchange, that this node lacks, per channel.
    pub we_lack: HashMap<String, u64>,
    /// Records this node has that the peer lacked, per channel it may see.
    pub they_lack: HashMap<String, u64>,
    /// What the peer says it runs: `kawan/<version> (protocol <v>; reads <families>)`.
    pub agent: Option<String>,
    /// Record families stored here that the peer cannot read (it relays them
    /// and shows them as "of a newer kind"): it should upgrade.
    pub cannot_read: Vec<String>,
    /// coordinator, analyst…, as the trust list says.
    pub roles: Vec<String>,
    /// When the membership lapses (Unix ms), if it does.
    pub expires_ms: Option<u64>,
    /// When the member's current key took effect (Unix ms; none: since it
    /// joined), and how many keys it signed with before.
    pub key_from_ms: Option<u64>,
    pub retired_keys: usize,
    /// Offences this node counted against the member's node since it
    /// started (`bad_signature`, `malformed`, `withholding`…).
    pub offences: BTreeMap<String, u64>,
}

#[utoipa::path(get, path = "/api/v1/peers", tag = "trust", responses((status = 200, body = Vec<PeerView>)), security(("bearer" = [])))]
pub async fn peers(State(svc): State<Arc<Service>>, _caller: Caller) -> Result<axum::Json<Vec<PeerView>>, ApiError> {
    let peers = svc.peers().await?;
    Ok(axum::Json(
        peers
            .into_iter()
            .map(|p| PeerView {
                id: p.member.id.to_string(),
                name: p.member.name.clone(),
                country: p.member.country.to_string(),
                peer_id: p.peer_id,
                me: p.me,
                active: p.active,
                connected: p.connected,
                last_seen_ms: p.last_seen_ms,
                we_lack: p.lag.iter().map(|(c, (we, _))| (c.clone(), *we)).collect(),
                they_lack: p.lag.iter().map(|(c, (_, they))| (c.clone(), *they)).collect(),
                agent: p.agent,
                cannot_read: p.cannot_read,
                roles: p
                    .member
                    .roles
                    .iter()
                    .map(|r| {
                        serde_json::to_value(r).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
                    })
                    .collect(),
                expires_ms: p.member.expires_ms,
                key_from_ms: p.member.key_from_ms,
                retired_keys: p.member.retired_keys.len(),
                offences: p.offences,
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct LogEndsParams {
    /// The instant (Unix ms) the current key's validity should end.
    pub until_ms: u64,
    /// The key was stolen: count only records this node published itself,
    /// whose whole chain is its own.
    #[serde(default)]
    pub compromised: bool,
}

#[utoipa::path(get, path = "/api/v1/keys/log-ends", tag = "trust", params(LogEndsParams),
    responses((status = 200, body = crate::service::OwnLogEnds, description = "per channel, the last record (seq and id) this agency's key signed at or before until_ms (for `kawan key rotate`); with compromised=true, only records this node published itself, whose whole chain is its own")),
    security(("bearer" = [])))]
pub async fn log_ends(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    axum::extract::Query(p): axum::extract::Query<LogEndsParams>,
) -> Result<axum::Json<crate::service::OwnLogEnds>, ApiError> {
    Ok(axum::Json(svc.own_log_ends(caller, p.until_ms, p.compromised).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CardCheck {
    /// The card as `kawan card` (or `kawan key rotate`) wrote it.
    #[schema(value_type = Object)]
    pub card: serde_json::Value,
}

/// A checked card and the next version of the trust list it makes.
#[derive(Debug, Serialize, ToSchema)]
pub struct CardReviewView {
    pub id: String,
    pub name: String,
    pub country: String,
    pub key: String,
    pub rotation: bool,
    pub changes: Vec<String>,
    pub version: u64,
    /// The next version, unsigned, hex: `kawan trust sign` it.
    pub next: String,
}

#[utoipa::path(post, path = "/api/v1/trust/cards/check", tag = "trust", request_body = CardCheck,
    description = "Checks a member or key-rotation card against the list in force (signature, a key no member ever \
        used, a free member id, the key a rotation replaces) and returns the next version it makes, unsigned. \
        Coordinators and operators. Changes nothing.",
    responses((status = 200, body = CardReviewView), (status = 422, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn check_card(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    ApiJson(req): ApiJson<CardCheck>,
) -> Result<axum::Json<CardReviewView>, ApiError> {
    let r = svc.review_card(&caller, &req.card.to_string())?;
    Ok(axum::Json(CardReviewView {
        id: r.id,
        name: r.name,
        country: r.country,
        key: r.key,
        rotation: r.rotation,
        changes: r.changes,
        version: r.version,
        next: hex::encode(r.next.to_bytes()),
    }))
}

#[utoipa::path(get, path = "/api/v1/trust/proposals", tag = "trust",
    description = "Trust-list proposals this coordinator's node holds: pending ones with what they change against \
        the list in force, who signed, how many signatures are needed, and competing proposals for the same \
        version; installed and outdated ones as a record. Coordinators and operators.",
    responses((status = 200, body = Vec<ProposalView>), (status = 403, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn proposals(
    State(svc): State<Arc<Service>>,
    caller: Caller,
) -> Result<axum::Json<Vec<ProposalView>>, ApiError> {
    Ok(axum::Json(svc.proposals(&caller)?))
}

#[utoipa::path(post, path = "/api/v1/trust/proposals", tag = "trust", request_body = NewProposal,
    description = "Proposes the next version of the list (a coordinator token, on a coordinator's own node): one \
        change (a card, a removal, a renewal, a group change, or a whole edited list), signed by this node's \
        coordinator and sent to the other coordinators' nodes only. With the threshold's signatures any \
        coordinator's node installs it and it spreads. Proposing takes this coordinator's signature back from \
        competing proposals.",
    responses((status = 201, body = ProposalView), (status = 400, body = crate::http::ErrorBody),
        (status = 403, body = crate::http::ErrorBody), (status = 422, body = crate::http::ErrorBody)),
    security(("bearer" = [])))]
pub async fn propose(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    ApiJson(req): ApiJson<NewProposal>,
) -> Result<(axum::http::StatusCode, axum::Json<ProposalView>), ApiError> {
    Ok((axum::http::StatusCode::CREATED, axum::Json(svc.propose(caller, req).await?)))
}

#[utoipa::path(post, path = "/api/v1/trust/proposals/{id}/sign", tag = "trust",
    params(("id" = String, Path, description = "the proposal's id (hex)")),
    description = "Signs a pending proposal with this node's coordinator key (a coordinator token), taking this \
        coordinator's signature back from competing proposals; installs the list if that makes the threshold.",
    responses((status = 200, body = ProposalView), (status = 404, body = crate::http::ErrorBody),
        (status = 409, body = crate::http::ErrorBody)), security(("bearer" = [])))]
pub async fn sign_proposal(
    State(svc): State<Arc<Service>>,
    caller: Caller,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<axum::Json<ProposalView>, ApiError> {
    Ok(axum::Json(svc.sign_proposal(caller, &id).await?))
}
