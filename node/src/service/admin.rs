//! The node's health: status, store statistics and compaction, the audit
//! log's integrity, Prometheus metrics.

use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::{local::tokens::Role, store::EngineStats};

#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub version: &'static str,
    pub agency: String,
    pub country: String,
    /// The agency key (hex), which is also the node's libp2p identity.
    pub agency_key: String,
    pub peer_id: String,
    pub network: String,
    pub trust_version: Option<u64>,
    pub members: usize,
    pub records: u64,
    pub records_by_type: Vec<Count>,
    pub store_bytes: u64,
    pub uptime_s: u64,
    pub equivocating_authors: usize,
    /// BLAKE3 over every log head this node holds (and the record at it):
    /// two nodes with the same digest hold the same logs.
    pub heads_digest: String,
    /// Whether the network task runs (false while the supervisor restarts
    /// it, or before it started), and how often it was restarted.
    pub network_running: bool,
    pub network_restarts: u64,
    /// What an operator must act on (e.g. coordinators about to expire).
    pub warnings: Vec<String>,
}

/// What `kawan audit verify` reports.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuditVerdict {
    /// Entries in the log, if it verifies.
    pub entries: u64,
    /// Where and why it does not.
    pub error: Option<String>,
    /// The newest checkpoint this agency published to the network (which
    /// its partners keep): the log up to there is witnessed.
    pub witnessed: Option<Witness>,
}

/// A published audit checkpoint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Witness {
    pub seq: u64,
    pub hash: String,
    /// The record that carries it.
    pub record: String,
    pub time_ms: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Count {
    pub r#type: String,
    pub channel: String,
    pub records: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatabaseStats {
    /// `records` (shared records) or `local` (cases, tokens, audit).
    pub database: &'static str,
    pub keyspaces: Vec<KeyspaceStats>,
    /// Write-ahead journal not yet folded into tables.
    pub journal_bytes: u64,
    pub journal_files: u64,
    pub bytes_on_disk: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyspaceStats {
    pub name: &'static str,
    /// Approximate: the engine counts without reading every key.
    pub keys: u64,
    pub bytes_on_disk: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreStats {
    /// Records stored (exact, from the store's counters).
    pub records: u64,
    pub databases: Vec<DatabaseStats>,
}

impl DatabaseStats {
    fn of(database: &'static str, s: EngineStats) -> DatabaseStats {
        DatabaseStats {
            database,
            keyspaces: s
                .spaces
                .into_iter()
                .map(|k| KeyspaceStats { name: k.name, keys: k.keys, bytes_on_disk: k.bytes_on_disk })
                .collect(),
            journal_bytes: s.journal_bytes,
            journal_files: s.journal_files,
            bytes_on_disk: s.total_bytes_on_disk,
        }
    }
}

impl Service {
    pub async fn status(self: &Arc<Self>) -> Result<Status, ServiceError> {
        self.run(|s| {
            let store = &s.data.store;
            let counts = store.counts()?;
            let trust = store.trust();
            // The records at the heads count too: two nodes holding
            // different records in one slot have different digests.
            let mut heads = Vec::new();
            for head in store.heads(None)? {
                if let Some(id) = store.log_slot(&head.channel, &head.author, head.seq)? {
                    heads.push((head, id));
                }
            }
            let digest = kawan_protocol::sync::digest(&heads);
            let warnings = s.warnings()?.iter().map(ToString::to_string).collect();
            Ok(Status {
                version: env!("CARGO_PKG_VERSION"),
                agency: s.config.agency.name.clone(),
                country: s.config.agency.country.to_string(),
                agency_key: s.key.public().to_string(),
                peer_id: crate::identity::peer_id(&s.key.public()).map(|p| p.to_string()).unwrap_or_default(),
                network: s.config.agency.network.to_string(),
                trust_version: trust.as_ref().map(|t| t.version),
                members: trust.as_ref().map_or(0, |t| t.members.len()),
                records: counts.iter().map(|(_, _, n)| n).sum(),
                records_by_type: counts
                    .into_iter()
                    .map(|(t, channel, records)| Count { r#type: t, channel, records })
                    .collect(),
                store_bytes: store.size_on_disk()?,
                uptime_s: s.started.elapsed().as_secs(),
                equivocating_authors: store.equivocators()?.len(),
                heads_digest: hex::encode(digest),
                network_running: s.net.get().is_some_and(|n| n.health.running()),
                network_restarts: s.net.get().map_or(0, |n| n.health.restarts()),
                warnings,
            })
        })
        .await
    }

    /// What an operator must act on: the trust list's warnings, and
    /// records of a newer kind than this node reads.
    pub fn warnings(&self) -> Result<Vec<super::Warning>, ServiceError> {
        let mut warnings = self.trust_warnings();
        let counts = self.data.store.counts()?;
        let newer: u64 = counts.iter().filter(|(t, _, _)| t == "newer").map(|(_, _, n)| n).sum();
        if newer > 0 {
            warnings.push(super::Warning::NewerRecords { count: newer });
        }
        Ok(warnings)
    }

    /// Checks the audit log's hash chain (operators): its length, or where
    /// it breaks.
    pub async fn verify_audit(self: &Arc<Self>, caller: Caller) -> Result<AuditVerdict, ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            let witnesses = s.witnesses()?;
            let mut verdict = match s.data.audit.verify(&s.own_keys()) {
                Ok(entries) => AuditVerdict { entries, error: None, witnessed: witnesses.first().cloned() },
                Err(e) => AuditVerdict { entries: 0, error: Some(e.to_string()), witnessed: witnesses.first().cloned() },
            };
            // The log must still hold every entry as its partners saw it.
            if verdict.error.is_none() {
                for w in &witnesses {
                    let held = s.data.audit.entry(w.seq).map_err(ServiceError::internal)?;
                    if held.is_none_or(|e| e.hash != w.hash) {
                        verdict.error = Some(format!(
                            "audit log broken at entry {}: it differs from the checkpoint this agency published on {} (record {}), which its partners keep: the log was rewritten or rolled back",
                            w.seq, w.time_ms, w.record
                        ));
                        break;
                    }
                }
            }
            s.audit_read(&caller, "audit.verify", "")?;
            Ok(verdict)
        })
        .await
    }

    /// A backup of the running node (operators): both databases as they
    /// stand now, with the config and genesis, as a tar archive in an
    /// already-unlinked scratch file (so nothing is left behind on disk).
    pub async fn backup(
        self: &Arc<Self>,
        caller: Caller,
    ) -> Result<(std::fs::File, crate::backup::Manifest), ServiceError> {
        caller.require(Role::Operator)?;
        let dir = self
            .node_dir
            .get()
            .cloned()
            .ok_or_else(|| ServiceError::invalid("no_node_dir", "this node was not started from a directory"))?;
        self.run(move |s| {
            s.audit(&caller, "backup", "pending")?;
            let work = tempfile::tempdir_in(&dir).map_err(ServiceError::internal)?;
            let path = work.path().join("backup.tar");
            let file = std::fs::File::create(&path).map_err(ServiceError::internal)?;
            let keys = s.own_keys().iter().map(|k| k.to_string()).collect();
            let manifest = crate::backup::write(
                &s.data,
                &dir,
                &s.config,
                &s.key,
                keys,
                work.path(),
                std::io::BufWriter::new(file),
            )
            .map_err(ServiceError::internal)?;
            let file = std::fs::File::open(&path).map_err(ServiceError::internal)?;
            drop(work);
            let records = manifest.count("records", "records");
            s.audit_read(&caller, "backup", &format!("done: {records} records"))?;
            Ok((file, manifest))
        })
        .await
    }

    /// The newest audit entries (operators), newest first; with `action`,
    /// only actions starting with it (e.g. `deconflict`).
    pub async fn audit_entries(
        self: &Arc<Self>,
        caller: Caller,
        limit: usize,
        action: Option<String>,
    ) -> Result<Vec<crate::local::audit::Entry>, ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            let limit = limit.clamp(1, 10_000);
            let scan = if action.is_some() { 100_000 } else { limit };
            let entries = s.data.audit.tail(scan)?;
            s.audit_read(&caller, "audit.read", action.as_deref().unwrap_or(""))?;
            Ok(entries
                .into_iter()
                .filter(|e| action.as_deref().is_none_or(|a| e.action.starts_with(a)))
                .take(limit)
                .collect())
        })
        .await
    }

    /// Signs the audit log's head now (operators) and returns the newest
    /// checkpoint: keep a copy off the node to detect a rolled-back log.
    pub async fn audit_checkpoint(
        self: &Arc<Self>,
        caller: Caller,
    ) -> Result<crate::local::audit::Checkpoint, ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            s.audit(&caller, "audit.sign", "")?;
            s.checkpoint_audit()?;
            s.data.audit.checkpoints()?.pop().ok_or_else(|| ServiceError::internal("no checkpoint after signing one"))
        })
        .await
    }

    /// Buffered writes (read audit entries, session touches) to disk: the
    /// persist job's work.
    pub async fn persist(self: &Arc<Self>) -> Result<(), ServiceError> {
        self.run(|s| Ok(s.data.flush()?)).await
    }

    /// Removes expired web sessions: the session sweep's work. Audited
    /// (as the system caller, intent first) when there are any.
    pub async fn sweep_sessions(self: &Arc<Self>, caller: Caller) -> Result<usize, ServiceError> {
        self.run(move |s| {
            let expired = s.data.sessions.expired()?;
            if expired.is_empty() {
                return Ok(0);
            }
            let intent = format!("{} expired session(s)", expired.len());
            s.audited(
                &caller,
                "session.sweep",
                &intent,
                || Ok(s.data.sessions.remove_expired(expired)?),
                |n| format!("{n} expired session(s) removed"),
            )
        })
        .await
    }

    /// Signs the audit log's head (every 1,000 entries, hourly, on
    /// request) and, if that made a new checkpoint, publishes it to the
    /// network as a witness (`publish_checkpoint`).
    pub fn checkpoint_audit(&self) -> Result<(), ServiceError> {
        if let Some(c) = self.data.audit.checkpoint(&self.key)? {
            self.publish_checkpoint(c.seq, &c.hash);
        }
        Ok(())
    }

    /// Signs the audit log's head at shutdown, without publishing: the
    /// network is going away, and a record signed now would reach partners
    /// only after the restart (the next hourly checkpoint publishes it).
    pub fn checkpoint_audit_at_shutdown(&self) -> Result<(), ServiceError> {
        self.data.audit.checkpoint(&self.key)?;
        Ok(())
    }

    /// The audit checkpoint job's work (off the async workers).
    pub async fn run_checkpoint(self: &Arc<Self>) -> Result<(), ServiceError> {
        self.run(|s| s.checkpoint_audit()).await
    }

    /// Publishes a checkpoint's (entry, hash) as a record every member
    /// keeps: the witnesses `verify_audit` compares the log with. A node
    /// outside a network (or whose key was retired) has no witnesses; that
    /// is logged, and the local checkpoint stands.
    fn publish_checkpoint(&self, seq: u64, hash: &str) {
        let body = kawan_protocol::Body::Checkpoint(kawan_protocol::AuditCheckpoint { seq, hash: hash.to_string() });
        let me = self.key.public();
        if !self.data.store.membership().is_some_and(|m| m.is_active(&me, self.now_ms())) {
            return;
        }
        if let Err(e) = self.data.store.publish(&self.key, &self.config.agency.network, body, None) {
            tracing::warn!(error = %e, seq, "the audit checkpoint could not be published to the network");
        }
    }

    /// The checkpoints this agency published (under any of its keys) that
    /// this node holds, newest first: its partners hold them too.
    pub(super) fn witnesses(&self) -> Result<Vec<Witness>, ServiceError> {
        let keys = self.own_keys();
        let mut out = Vec::new();
        for r in self.data.store.checkpoints()? {
            if let kawan_protocol::Body::Checkpoint(c) = &r.record.body
                && keys.contains(&r.record.header.author)
            {
                out.push(Witness {
                    seq: c.seq,
                    hash: c.hash.clone(),
                    record: r.id.to_string(),
                    time_ms: r.record.header.created_ms,
                });
            }
        }
        out.sort_by_key(|w| std::cmp::Reverse(w.seq));
        Ok(out)
    }

    pub async fn store_stats(self: &Arc<Self>, caller: Caller) -> Result<StoreStats, ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            let stats = s.stats_now()?;
            s.audit_read(&caller, "store.stats", "")?;
            Ok(stats)
        })
        .await
    }

    /// Compacts both databases (operators); the sizes after.
    pub async fn compact(self: &Arc<Self>, caller: Caller) -> Result<StoreStats, ServiceError> {
        caller.require(Role::Operator)?;
        self.run(move |s| {
            let compact = || -> Result<(), ServiceError> {
                s.data.store.compact()?;
                Ok(s.data.local().compact()?)
            };
            s.audited(&caller, "store.compact", "", compact, |_| String::new())?;
            s.stats_now()
        })
        .await
    }

    fn stats_now(&self) -> Result<StoreStats, ServiceError> {
        let store = &self.data.store;
        Ok(StoreStats {
            records: store.counts()?.iter().map(|(_, _, n)| n).sum(),
            databases: vec![
                DatabaseStats::of("records", store.stats()?),
                DatabaseStats::of("local", self.data.local().stats()?),
            ],
        })
    }

    /// Prometheus text.
    pub async fn metrics_text(self: &Arc<Self>) -> Result<String, ServiceError> {
        self.run(|s| Ok(s.metrics.render(&s.data.store)?)).await
    }
}
