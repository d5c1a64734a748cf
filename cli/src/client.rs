//! A small blocking client for the local node's API. The node's address and
//! operator token come from its directory (`--dir` or `KAWAN_DIR`); a token
//! can also be given with `KAWAN_TOKEN`.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow, bail};
use kawan_node::{config::Config, node_dir};
use serde_json::Value;

use crate::i18n::t;

pub struct Client {
    base: String,
    token: String,
    /// The `Kawan-Purpose` header: the purpose given with `--justify` or
    /// `KAWAN_PURPOSE`, percent-encoded (empty: none stated).
    purpose: String,
    agent: ureq::Agent,
}

/// The purpose `--justify` gave, for every request of this run.
static PURPOSE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Sets the purpose stated with every request (`--justify`).
pub fn state_purpose(purpose: String) {
    let _ = PURPOSE.set(purpose);
}

fn purpose_header() -> String {
    let purpose = PURPOSE.get().cloned().or_else(|| std::env::var("KAWAN_PURPOSE").ok()).unwrap_or_default();
    // Non-ASCII bytes are always encoded; so are controls and `%` itself.
    const SET: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS.add(b'%');
    percent_encoding::utf8_percent_encode(purpose.trim(), SET).to_string()
}

impl Client {
    pub fn from_dir(dir: &Path) -> anyhow::Result<Client> {
        let addr = match std::fs::read_to_string(dir.join(node_dir::API_ADDR)) {
            Ok(a) => a.trim().to_string(),
            Err(_) => {
                let config = Config::load(dir)?;
                config.api.listen.to_string()
            }
        };
        let token = match std::env::var("KAWAN_TOKEN") {
            Ok(t) => t,
            Err(_) => std::fs::read_to_string(dir.join(node_dir::OPERATOR_TOKEN))
                .with_context(|| t!("client-no-token", dir = dir.display().to_string()))?
                .trim()
                .to_string(),
        };
        let agent = ureq::Agent::config_builder().http_status_as_error(false).build().new_agent();
        Ok(Client { base: format!("http://{addr}"), token, purpose: purpose_header(), agent })
    }

    /// A GET with the token, answered or not.
    fn fetch(&self, path: &str) -> anyhow::Result<ureq::http::Response<ureq::Body>> {
        self.agent
            .get(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Kawan-Purpose", &self.purpose)
            .call()
            .map_err(|e| self.unreachable(e))
    }

    pub fn get(&self, path: &str) -> anyhow::Result<Value> {
        answer(self.fetch(path)?)
    }

    /// A binary answer (a backup), as a stream.
    pub fn get_reader(&self, path: &str) -> anyhow::Result<Box<dyn std::io::Read + Send>> {
        let resp = self.fetch(path)?;
        if !resp.status().is_success() {
            answer(resp)?;
            anyhow::bail!("{path}: the node gave no answer");
        }
        Ok(Box::new(resp.into_body().into_with_config().limit(u64::MAX).reader()))
    }

    /// A non-JSON answer (CSV), as text.
    pub fn get_text(&self, path: &str) -> anyhow::Result<String> {
        let mut resp = self.fetch(path)?;
        if !resp.status().is_success() {
            return Err(anyhow!(t!("client-http", status = resp.status().as_u16(), path = path)));
        }
        Ok(resp.body_mut().read_to_string()?)
    }

    pub fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Kawan-Purpose", &self.purpose)
            .send_json(body)
            .map_err(|e| self.unreachable(e))?;
        answer(resp)
    }

    pub fn post_text(&self, path: &str, body: String) -> anyhow::Result<Value> {
        let resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Kawan-Purpose", &self.purpose)
            .header("Content-Type", "text/plain")
            .send(body)
            .map_err(|e| self.unreachable(e))?;
        answer(resp)
    }

    /// Posts JSON and takes a binary answer (a bundle) with its headers.
    pub fn post_for_bytes(&self, path: &str, body: &Value) -> anyhow::Result<(Vec<u8>, ureq::http::HeaderMap)> {
        let mut resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Kawan-Purpose", &self.purpose)
            .send_json(body)
            .map_err(|e| self.unreachable(e))?;
        if !resp.status().is_success() {
            answer(resp)?;
            anyhow::bail!("{path}: the node gave no answer");
        }
        let headers = resp.headers().clone();
        Ok((resp.body_mut().with_config().limit(u64::MAX).read_to_vec()?, headers))
    }

    /// Posts a file's bytes as `application/octet-stream`.
    pub fn post_bytes(&self, path: &str, body: &[u8]) -> anyhow::Result<Value> {
        let resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Kawan-Purpose", &self.purpose)
            .header("Content-Type", "application/octet-stream")
            .send(body)
            .map_err(|e| self.unreachable(e))?;
        answer(resp)
    }

    /// Streams a file as the body (its type named, or left to the node).
    pub fn post_file(&self, path: &str, mut file: std::fs::File, media_type: Option<&str>) -> anyhow::Result<Value> {
        let resp = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Kawan-Purpose", &self.purpose)
            .header("Content-Type", media_type.unwrap_or("application/octet-stream"))
            .send(ureq::SendBody::from_reader(&mut file))
            .map_err(|e| self.unreachable(e))?;
        answer(resp)
    }

    /// A binary answer as a stream, with its headers.
    pub fn get_reader_with_headers(
        &self,
        path: &str,
    ) -> anyhow::Result<(Box<dyn std::io::Read + Send>, ureq::http::HeaderMap)> {
        let resp = self.fetch(path)?;
        if !resp.status().is_success() {
            answer(resp)?;
            anyhow::bail!("{path}: the node gave no answer");
        }
        let headers = resp.headers().clone();
        Ok((Box::new(resp.into_body().into_with_config().limit(u64::MAX).reader()), headers))
    }

    pub fn delete(&self, path: &str) -> anyhow::Result<Value> {
        let resp = self
            .agent
            .delete(format!("{}{path}", self.base))
            .header("Authorization", &format!("Bearer {}", self.token))
            .header("Kawan-Purpose", &self.purpose)
            .call()
            .map_err(|e| self.unreachable(e))?;
        answer(resp)
    }

    fn unreachable(&self, e: ureq::Error) -> anyhow::Error {
        anyhow!(t!("client-unreachable", url = self.base.as_str(), error = e.to_string()))
    }
}

/// The JSON body of a 2xx answer, or the API's error message.
fn answer(mut resp: ureq::http::Response<ureq::Body>) -> anyhow::Result<Value> {
    let status = resp.status();
    let text = resp.body_mut().with_config().limit(512 * 1024 * 1024).read_to_string().unwrap_or_default();
    let json: Value =
        if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::String(text)) };
    if status.is_success() {
        return Ok(json);
    }
    match (json.get("code").and_then(Value::as_str), json.get("message").and_then(Value::as_str)) {
        (Some(code), Some(message)) => Err(Refused {
            status: status.as_u16(),
            code: code.to_string(),
            message: message.to_string(),
            details: json.get("details").cloned().unwrap_or(Value::Null),
        }
        .into()),
        _ => bail!(t!("client-http-body", status = status.as_u16(), body = json.to_string())),
    }
}

/// The API refused a call, with its code and details (a command that can
/// do something with a particular refusal downcasts to it: `details_of`).
#[derive(Debug)]
pub struct Refused {
    pub status: u16,
    pub code: String,
    pub message: String,
    pub details: Value,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (message, code) = (self.message.as_str(), self.code.as_str());
        f.write_str(&t!("client-refused", message = message, code = code, status = self.status))
    }
}

impl std::error::Error for Refused {}

/// The details of a refusal with this code, if `e` is one.
pub fn details_of(e: &anyhow::Error, code: &str) -> Option<Value> {
    e.downcast_ref::<Refused>().filter(|r| r.code == code).map(|r| r.details.clone())
}

/// The node directory: `--dir`, else `KAWAN_DIR`, else `.`.
pub fn node_dir(dir: Option<PathBuf>) -> PathBuf {
    dir.or_else(|| std::env::var_os("KAWAN_DIR").map(PathBuf::from)).unwrap_or_else(|| PathBuf::from("."))
}
