//! Group commit. Writers queue their work; whoever holds the writer lock
//! stages every queued job into one batch, commits it with one sync, and
//! hands each job its result. While one batch syncs, the next one fills, so
//! two peers syncing, an import and the API share one fsync instead of
//! queueing for one each.
//!
//! A job stages against the store *and* the batch so far (`Pending`), so
//! later jobs see earlier ones: no seq is reused, no duplicate slips in.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
};

use kawan_protocol::{AgencyKey, Channel, RecordId};

use super::{LogState, Store, StoreError, engine::Batch, engine::Durability, keys};

/// Writes staged for one commit, readable by later jobs of the same commit.
pub(super) struct Pending {
    batch: Batch,
    /// Keys staged so far: a value, or `None` where one is removed.
    written: HashMap<Vec<u8>, Option<Vec<u8>>>,
    pub ids: HashSet<RecordId>,
    /// Logs touched; their `H` keys are written once, at the end.
    pub logs: HashMap<(Channel, AgencyKey), LogState>,
    /// Records added (or removed, negative) per (type, channel) count key.
    pub counts: HashMap<Vec<u8>, i64>,
    /// Ids new in this commit, in order: one `A` key for all of them.
    pub added: Vec<u8>,
    pub added_ms: u64,
    /// References staged in this batch (target → (ref type, referring id)):
    /// index keys are written blind (`index`), and erasure and cascades
    /// must see what an earlier record of the same batch refers to.
    pub refs: HashMap<RecordId, Vec<(u8, RecordId)>>,
}

impl Pending {
    fn new(added_ms: u64) -> Pending {
        Pending {
            batch: Batch::default(),
            written: HashMap::new(),
            ids: HashSet::new(),
            logs: HashMap::new(),
            counts: HashMap::new(),
            added: Vec::new(),
            added_ms,
            refs: HashMap::new(),
        }
    }

    /// Stages a key that later records of the batch may read back.
    pub fn insert(&mut self, k: Vec<u8>, v: Vec<u8>) {
        self.batch.insert(keys::space_of(&k), k.clone(), v.clone());
        self.written.insert(k, Some(v));
    }

    /// Stages the removal of a key (a void record's keys).
    pub fn remove(&mut self, k: Vec<u8>) {
        self.batch.remove(keys::space_of(&k), k.clone());
        self.written.insert(k, None);
    }

    /// Stages an index key nothing reads during ingest.
    pub fn index(&mut self, k: Vec<u8>) {
        self.batch.insert(keys::space_of(&k), k, Vec::new());
    }

    /// What the batch says of `k`: `None` if it does not touch it,
    /// `Some(None)` if it removes it.
    pub fn staged(&self, k: &[u8]) -> Option<Option<&Vec<u8>>> {
        self.written.get(k).map(Option::as_ref)
    }

    /// Keys with this prefix the batch writes or removes (rare checks only:
    /// it scans).
    pub fn staged_with_prefix(&self, prefix: &[u8]) -> Vec<(Vec<u8>, bool)> {
        self.written.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, v)| (k.clone(), v.is_some())).collect()
    }
}

/// What runs once the batch is committed (or failed): hands the job its result.
type Finish = Box<dyn FnOnce(Option<&StoreError>) + Send>;
type Job = Box<dyn FnOnce(&Store, &mut Pending) -> Finish + Send>;

pub(super) struct GroupCommit {
    queue: Mutex<Vec<Job>>,
    /// The writer lock; holds the number of the next batch (`A` keys).
    writer: Mutex<u64>,
}

impl GroupCommit {
    pub fn new(next_batch: u64) -> GroupCommit {
        GroupCommit { queue: Mutex::new(Vec::new()), writer: Mutex::new(next_batch) }
    }

    /// Runs `f` alone: no batch commits meanwhile (trust list changes).
    pub fn locked<T>(&self, f: impl FnOnce() -> T) -> T {
        let _writer = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        f()
    }
}

impl Store {
    /// A key as the store will hold it once `p` commits.
    pub(super) fn read(&self, p: &Pending, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        match p.staged(k) {
            Some(v) => Ok(v.cloned()),
            None => self.get_key(k),
        }
    }

    /// Whether a key will exist once `p` commits (without reading its value).
    pub(super) fn will_contain(&self, p: &Pending, k: &[u8]) -> Result<bool, StoreError> {
        match p.staged(k) {
            Some(v) => Ok(v.is_some()),
            None => self.contains_key(k),
        }
    }

    /// Stages `stage` into the next group commit and returns its output once
    /// that commit is durable, or the commit's error.
    pub(super) fn group_commit<T: Send + 'static>(
        &self,
        stage: impl FnOnce(&Store, &mut Pending) -> T + Send + 'static,
    ) -> Result<T, StoreError> {
        let slot: Arc<Mutex<Option<Result<T, StoreError>>>> = Arc::new(Mutex::new(None));
        let out = slot.clone();
        let job: Job = Box::new(move |store, pending| {
            let staged = stage(store, pending);
            Box::new(move |failed| {
                let result = match failed {
                    None => Ok(staged),
                    Some(e) => Err(StoreError::Write(e.to_string())),
                };
                *out.lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
            })
        });
        self.commit.queue.lock().unwrap_or_else(|e| e.into_inner()).push(job);

        let mut next_batch = self.commit.writer.lock().unwrap_or_else(|e| e.into_inner());
        // An earlier leader may have committed this job while we waited.
        if let Some(done) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
            return done;
        }
        let jobs = std::mem::take(&mut *self.commit.queue.lock().unwrap_or_else(|e| e.into_inner()));
        let mut pending = Pending::new(self.now_ms());
        let finishers: Vec<Finish> = jobs.into_iter().map(|job| job(self, &mut pending)).collect();
        let result = self.commit_pending(pending, *next_batch);
        if result.is_ok() {
            *next_batch += 1;
        }
        for finish in finishers {
            finish(result.as_ref().err());
        }
        drop(next_batch);
        let done = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        done.unwrap_or_else(|| Err(StoreError::Write("the write was lost by the group commit".into())))
    }

    /// Adds the per-batch keys (heads, counts, receive order), then commits
    /// and syncs.
    fn commit_pending(&self, mut p: Pending, batch_no: u64) -> Result<(), StoreError> {
        for ((channel, author), state) in &p.logs {
            p.batch.insert(keys::space(keys::HEAD), keys::head(channel, author), state.to_bytes().to_vec());
        }
        for (key, n) in &p.counts {
            let before = self.get_key(key)?.and_then(|v| keys::u64_be(&v)).unwrap_or(0);
            let after = before.saturating_add_signed(*n);
            p.batch.insert(keys::space_of(key), key.clone(), after.to_be_bytes().to_vec());
        }
        if !p.added.is_empty() {
            p.batch.insert(keys::space(keys::ADDED), keys::added(p.added_ms, batch_no), std::mem::take(&mut p.added));
        }
        self.engine.commit(p.batch, Durability::Sync)
    }
}
