//! An in-process node: the whole HTTP application (`http::app`) over a
//! service on in-memory databases and a manual clock, driven with tower's
//! `oneshot`. No process, no socket, no sleeping: single-node API, web and
//! TAXII behaviour is tested here in milliseconds, and rules that depend on
//! dates are tested by moving [`App::clock`]. Real processes
//! ([`crate::TestNode`]) stay for what needs them: federation, durability,
//! the browser, the CLI end to end.

use std::sync::Arc;

use axum::{
    body::Body,
    http::{Request, StatusCode, header},
};
use kawan_node::{
    clock::Clock, config::Config, data_dir::DataDir, local::tokens::Role, metrics::Metrics, service::Service,
};
use kawan_protocol::Keypair;
use tower::ServiceExt as _;

/// When every in-process node's clock starts: 2026-01-01T00:00:00Z.
pub const START_MS: u64 = 1_767_225_600_000;

/// One node in this process. Requests run on its own runtime, so tests are
/// plain `#[test]` functions.
pub struct App {
    pub svc: Arc<Service>,
    /// The node's clock: stands still until a test moves it.
    pub clock: Clock,
    /// An operator token and an analyst token.
    pub operator: String,
    pub analyst: String,
    router: axum::Router,
    rt: tokio::runtime::Runtime,
}

/// An answer: its status and body (JSON where it is JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub body: String,
}

impl Answer {
    /// The body as JSON (panics, naming the body, if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

impl App {
    /// A node of "Example Agency" (GB) on the fixtures' network, alone.
    pub fn new() -> App {
        App::named("Example Agency", "GB", Keypair::from_secret_bytes([7; 32]))
    }

    pub fn named(name: &str, country: &str, key: Keypair) -> App {
        App::configured(name, country, key, |_| {})
    }

    /// A node whose configuration `edit` changed first.
    pub fn configured(name: &str, country: &str, key: Keypair, edit: impl FnOnce(&mut Config)) -> App {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
        let _guard = rt.enter();
        let clock = Clock::manual(START_MS);
        let mut config =
            Config::new(name, country.parse().expect("country"), crate::fixtures::NETWORK.parse().expect("network id"));
        edit(&mut config);
        let data = DataDir::in_memory(clock.clone()).expect("in-memory databases");
        let (operator, _) = data.tokens.create("operator", Role::Operator).expect("operator token");
        let (analyst, _) = data.tokens.create("analyst", Role::Analyst).expect("analyst token");
        let svc = Arc::new(Service::new(data, key, config, Arc::new(Metrics::new())));
        let router = kawan_node::http::app(svc.clone());
        App { svc, clock, operator, analyst, router, rt }
    }

    /// Sends one request with `token` (or none) and waits for the answer.
    pub fn send(&self, method: &str, path: &str, token: Option<&str>, json: Option<&serde_json::Value>) -> Answer {
        self.send_with(method, path, token, json, &[])
    }

    /// [`App::send`] with more headers (`Kawan-Purpose`, say).
    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        json: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut req = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        if let Some(t) = token {
            req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
        }
        let body = match json {
            Some(v) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let req = req.body(body).expect("request");
        self.rt.block_on(async {
            let res = self.router.clone().oneshot(req).await.expect("the router is infallible");
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() }
        })
    }

    /// A request with these headers and a raw body (a web form).
    pub fn send_raw(&self, method: &str, path: &str, headers: &[(&str, &str)], body: String) -> Answer {
        let (status, _, bytes) = self.send_bytes(method, path, headers, body.into_bytes());
        Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// A request with these headers and a binary body (a file); the answer
    /// with its headers, as bytes.
    pub fn send_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let mut req = Request::builder().method(method).uri(path);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = req.body(Body::from(body)).expect("request");
        self.rt.block_on(async {
            let res = self.router.clone().oneshot(req).await.expect("the router is infallible");
            let (status, headers) = (res.status(), res.headers().clone());
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            (status, headers, bytes.to_vec())
        })
    }

    /// `GET path` on the web page, in a session of the analyst's.
    pub fn web_get(&self, path: &str) -> Answer {
        self.web_get_as(path, &self.analyst)
    }

    /// `GET path` on the web page, in a session of `token`'s holder.
    pub fn web_get_as(&self, path: &str, token: &str) -> Answer {
        let session = self.block_on(self.svc.start_session(token.to_string())).expect("a session");
        let req = Request::builder()
            .uri(path)
            .header(header::COOKIE, format!("{}={session}", kawan_node::http::auth::COOKIE))
            .header(header::ACCEPT_LANGUAGE, "en")
            .body(Body::empty())
            .expect("request");
        self.rt.block_on(async {
            let res = self.router.clone().oneshot(req).await.expect("the router is infallible");
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), usize::MAX).await.expect("body");
            Answer { status, body: String::from_utf8_lossy(&bytes).into_owned() }
        })
    }

    /// Runs a future (a service call) on this node's runtime.
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }

    /// `GET path` as the analyst.
    pub fn get(&self, path: &str) -> Answer {
        self.send("GET", path, Some(&self.analyst), None)
    }

    /// `GET path` as the analyst, which must answer 200; the body as JSON.
    pub fn get_json(&self, path: &str) -> serde_json::Value {
        let a = self.get(path);
        assert_eq!(a.status, StatusCode::OK, "GET {path}: {}", a.body);
        a.json()
    }

    /// `POST path` with `body` as the analyst.
    pub fn post(&self, path: &str, body: serde_json::Value) -> Answer {
        self.send("POST", path, Some(&self.analyst), Some(&body))
    }

    /// `POST path` as the analyst, which must succeed (2xx); the body as JSON.
    pub fn post_ok(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let a = self.post(path, body);
        assert!(a.status.is_success(), "POST {path}: {} {}", a.status, a.body);
        a.json()
    }
}

impl Default for App {
    fn default() -> Self {
        App::new()
    }
}
