//! The trust list in force, installing updates, and the peers it names.

use std::{collections::HashMap, sync::Arc};

use axum::{extract::State, http::StatusCode};
use kawan_protocol::SignedTrustList;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{ApiError, ApiJson, AppState, Caller, records::blocking};
use crate::{clock::now_ms, identity, tokens::Role};

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

#[utoipa::path(get, path = "/api/v1/trust", tag = "trust",
    responses((status = 200, body = TrustView), (status = 404, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn get_trust(State(state): State<Arc<AppState>>, _caller: Caller) -> Result<axum::Json<TrustView>, ApiError> {
    let list = state.storage.store.trust().ok_or_else(|| ApiError::not_found("no trust list installed"))?;
    let now = now_ms();
    Ok(axum::Json(TrustView {
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
                })
            })
            .collect(),
        groups: list
            .groups
            .iter()
            .map(|g| serde_json::json!({"id": g.id, "name": g.name, "members": g.members}))
            .collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallTrust {
    /// The signed trust list (`kawan trust` files), hex.
    pub signed_list: String,
}

#[utoipa::path(post, path = "/api/v1/trust", tag = "trust", request_body = InstallTrust,
    responses((status = 200, body = TrustView), (status = 422, body = super::ErrorBody)), security(("bearer" = [])))]
pub async fn install_trust(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiJson(req): ApiJson<InstallTrust>,
) -> Result<axum::Json<TrustView>, ApiError> {
    if !matches!(caller.role, Role::Operator | Role::Coordinator) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "installing trust lists needs an operator or coordinator token",
        ));
    }
    let bytes = hex::decode(req.signed_list.trim())
        .map_err(|_| ApiError::bad_request("invalid_value", "signed_list: not hex"))?;
    let signed = SignedTrustList::from_bytes(&bytes)
        .map_err(|e| ApiError::unprocessable("invalid_trust_list", e.to_string()))?;
    let st = state.clone();
    let c = caller.clone();
    blocking(move || {
        let store = &st.storage.store;
        let result = match store.trust() {
            None => store.install_genesis(&signed),
            Some(_) => store.apply_trust_update(&signed),
        };
        let list = result.map_err(|e| ApiError::unprocessable("trust_list_refused", e.to_string()))?;
        st.audit(&c, "trust.install", &format!("{} v{}", list.network, list.version))?;
        if let Some(net) = st.net.get() {
            net.send(crate::net::Command::TrustUpdated(signed));
        }
        Ok(())
    })
    .await?;
    get_trust(State(state), caller).await
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
}

#[utoipa::path(get, path = "/api/v1/peers", tag = "trust", responses((status = 200, body = Vec<PeerView>)), security(("bearer" = [])))]
pub async fn peers(State(state): State<Arc<AppState>>, _caller: Caller) -> Result<axum::Json<Vec<PeerView>>, ApiError> {
    blocking(move || {
        let Some(list) = state.storage.store.trust() else { return Ok(axum::Json(vec![])) };
        let ours = state.storage.store.heads(None).map_err(ApiError::internal)?;
        let table =
            state.net.get().map(|n| n.peers.read().unwrap_or_else(|e| e.into_inner()).clone()).unwrap_or_default();
        let me = state.key.public();
        let now = now_ms();
        let out = list
            .members
            .iter()
            .map(|m| {
                let peer_id = identity::peer_id(&m.key).map(|p| p.to_string()).unwrap_or_default();
                let info = table.peers.get(&peer_id);
                let lag = info.map(|i| kawan_protocol::sync::lag(&ours, &i.heads)).unwrap_or_default();
                let we_lack: HashMap<String, u64> = lag.iter().map(|(c, (we, _))| (c.clone(), *we)).collect();
                let they_lack: HashMap<String, u64> = lag.into_iter().map(|(c, (_, they))| (c, they)).collect();
                PeerView {
                    id: m.id.to_string(),
                    name: m.name.clone(),
                    country: m.country.to_string(),
                    peer_id,
                    me: m.key == me,
                    active: m.is_active(now),
                    connected: info.is_some_and(|i| i.connected),
                    last_seen_ms: info.and_then(|i| i.last_seen_ms),
                    we_lack,
                    they_lack,
                }
            })
            .collect();
        Ok(axum::Json(out))
    })
    .await
}
