//! Prometheus metrics (`/metrics`): what the node stores, what it accepted
//! and refused, and how its API performs.

use std::sync::Mutex;

use kawan_protocol::{Body, Channel};
use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};

use crate::store::{IngestError, Ingested, Store, StoreError, type_label};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TypeChannel {
    r#type: String,
    channel: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Outcome {
    result: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Request {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Decision {
    path: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Kind {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Offence {
    offence: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobRun {
    job: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot encode the metrics: {0}")]
    Encode(std::fmt::Error),
}

pub struct Metrics {
    registry: Mutex<Registry>,
    records: Family<TypeChannel, Gauge>,
    store_bytes: Gauge,
    ingest: Family<Outcome, Counter>,
    published: Family<TypeChannel, Counter>,
    requests: Family<Request, Counter>,
    latency: Family<Route, Histogram>,
    decisions: Family<Decision, Counter>,
    sync_sent: Family<Kind, Counter>,
    sync_received: Family<Kind, Counter>,
    sync_received_bytes: Family<Kind, Counter>,
    penalties: Family<Offence, Counter>,
    net_up: Gauge,
    net_restarts: Counter,
    alerts: Counter,
    deconflict_evaluated: Counter,
    deconflict_refused: Counter,
    deconflict_values: Gauge,
    deconflict_filter_bytes: Gauge,
    job_runs: Family<JobRun, Counter>,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Mutex::new(Registry::with_prefix("kawan")),
            records: Family::default(),
            store_bytes: Gauge::default(),
            ingest: Family::default(),
            published: Family::default(),
            requests: Family::default(),
            latency: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            decisions: Family::default(),
            sync_sent: Family::default(),
            sync_received: Family::default(),
            sync_received_bytes: Family::default(),
            penalties: Family::default(),
            net_up: Gauge::default(),
            net_restarts: Counter::default(),
            alerts: Counter::default(),
            deconflict_evaluated: Counter::default(),
            deconflict_refused: Counter::default(),
            deconflict_values: Gauge::default(),
            deconflict_filter_bytes: Gauge::default(),
            job_runs: Family::default(),
        };
        {
            let mut r = m.registry.lock().unwrap_or_else(|e| e.into_inner());
            r.register("records", "Records stored, by kind (or body type) and channel", m.records.clone());
            r.register("store_bytes", "Bytes the database uses on disk", m.store_bytes.clone());
            r.register("ingest", "Records received from peers, by result and refusal reason", m.ingest.clone());
            r.register("published", "Records this agency published, by type and channel", m.published.clone());
            r.register("api_requests", "API requests by method, route and status", m.requests.clone());
            r.register("api_request_duration_seconds", "API request latency by route", m.latency.clone());
            r.register(
                "policy_decisions",
                "Outbound-data policy decisions, by output path and outcome (allowed or refused)",
                m.decisions.clone(),
            );
            r.register("sync_sent", "Sync messages sent to peers, by kind", m.sync_sent.clone());
            r.register("sync_received", "Sync messages received from peers, by kind", m.sync_received.clone());
            r.register(
                "sync_received_bytes",
                "Bytes of sync messages received, by kind",
                m.sync_received_bytes.clone(),
            );
            r.register("peer_penalties", "Penalties given to misbehaving peers, by offence", m.penalties.clone());
            r.register("net_up", "1 while the network task runs", m.net_up.clone());
            r.register("net_restarts", "Times the supervisor restarted a failed network task", m.net_restarts.clone());
            r.register(
                "alerts",
                "Alerts raised: a new record matched a watched or case-linked value",
                m.alerts.clone(),
            );
            r.register(
                "deconfliction_evaluations",
                "Values other agencies tested here (blinded: this node never sees them)",
                m.deconflict_evaluated.clone(),
            );
            r.register(
                "deconfliction_refusals",
                "Deconfliction requests refused (rate limit, replay, bad signature, not a member…)",
                m.deconflict_refused.clone(),
            );
            r.register(
                "deconfliction_values",
                "Values in this node's deconfliction filter",
                m.deconflict_values.clone(),
            );
            r.register(
                "deconfliction_filter_bytes",
                "Size of this node's deconfliction filter",
                m.deconflict_filter_bytes.clone(),
            );
            r.register("job_runs", "Runs of each background job, by outcome (ok, error, panic)", m.job_runs.clone());
        }
        m
    }

    pub fn published(&self, body: &Body, channel: &Channel) {
        let labels = TypeChannel { r#type: type_label(body).to_string(), channel: channel.to_string() };
        self.published.get_or_create(&labels).inc();
    }

    pub fn sync_sent(&self, kind: &str) {
        self.sync_sent.get_or_create(&Kind { kind: kind.into() }).inc();
    }

    pub fn sync_received(&self, kind: &str, bytes: usize) {
        self.sync_received.get_or_create(&Kind { kind: kind.into() }).inc();
        self.sync_received_bytes.get_or_create(&Kind { kind: kind.into() }).inc_by(bytes as u64);
    }

    pub fn penalised(&self, offence: &str) {
        self.penalties.get_or_create(&Offence { offence: offence.into() }).inc();
    }

    pub fn net_up(&self, up: bool) {
        self.net_up.set(i64::from(up));
    }

    /// A background job ran once, with this outcome.
    pub fn job_ran(&self, job: &str, outcome: &str) {
        self.job_runs.get_or_create(&JobRun { job: job.into(), outcome: outcome.into() }).inc();
    }

    pub fn net_restarted(&self) {
        self.net_restarts.inc();
    }

    pub fn alert_raised(&self) {
        self.alerts.inc();
    }

    pub fn deconfliction_evaluated(&self, values: usize) {
        self.deconflict_evaluated.inc_by(values as u64);
    }

    pub fn deconfliction_refused(&self) {
        self.deconflict_refused.inc();
    }

    pub fn deconfliction_filter(&self, values: usize, bytes: usize) {
        self.deconflict_values.set(values as i64);
        self.deconflict_filter_bytes.set(bytes as i64);
    }

    pub fn publish_failed(&self) {
        self.ingest.get_or_create(&Outcome { result: "refused".into(), reason: "local_publish".into() }).inc();
    }

    /// Counts one ingest result under a stable reason label.
    pub fn ingested(&self, r: &Result<Ingested, IngestError>) {
        let (result, reason) = match r {
            Ok(Ingested::New(_)) => ("accepted", ""),
            Ok(Ingested::Duplicate(_)) => ("duplicate", ""),
            Ok(Ingested::Equivocation(_)) => ("accepted", "equivocation"),
            Ok(Ingested::Ignored(_)) => ("ignored", "further_fork"),
            Ok(Ingested::Waiting(_)) => ("waiting", "unchecked_retired_key"),
            Ok(Ingested::Gone(_)) => ("gone", "erased_or_past_review"),
            Err(e) => ("refused", e.reason()),
        };
        self.ingest.get_or_create(&Outcome { result: result.into(), reason: reason.into() }).inc();
    }

    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let labels = Request { method: method.into(), route: route.into(), status: status.to_string() };
        self.requests.get_or_create(&labels).inc();
        self.latency.get_or_create(&Route { route: route.into() }).observe(seconds);
    }

    /// The Prometheus text exposition, with store gauges read now.
    pub fn render(&self, store: &Store) -> Result<String, MetricsError> {
        for (t, channel, n) in store.counts()? {
            self.records.get_or_create(&TypeChannel { r#type: t, channel }).set(n as i64);
        }
        self.store_bytes.set(store.size_on_disk()? as i64);
        for (path, allowed, refused) in crate::policy::decisions() {
            for (outcome, n) in [("allowed", allowed), ("refused", refused)] {
                let counter =
                    self.decisions.get_or_create(&Decision { path: path.as_str().into(), outcome: outcome.into() });
                counter.inc_by(n.saturating_sub(counter.get()));
            }
        }
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        prometheus_client::encoding::prometheus_text::encode(&mut out, &registry).map_err(MetricsError::Encode)?;
        Ok(out)
    }
}
