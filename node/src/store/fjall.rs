//! The production engine: fjall, an LSM-tree with one write-ahead journal
//! shared by all keyspaces, so a batch across keyspaces is atomic.

use std::{collections::HashMap, path::Path};

use fjall::{CompressionType, Database, Keyspace, KeyspaceCreateOptions, PersistMode, config::CompressionPolicy};

use super::{
    StoreError,
    engine::{Batch, Durability, Engine, EngineStats, KeyRange, Scan, Space, SpaceStats},
};

/// Whether table blocks are LZ4-compressed (docs/benchmarks.md measures both).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// fjall's default: the two smallest levels plain, deeper levels LZ4.
    Default,
    /// Every level LZ4.
    Lz4,
    None,
}

pub struct FjallEngine {
    db: Database,
    spaces: HashMap<Space, Keyspace>,
}

impl FjallEngine {
    /// Opens (or creates) the database in `path` with the given keyspaces.
    /// Fails with [`StoreError::Locked`] if another process has it open.
    pub fn open(path: &Path, spaces: &[Space], compression: Compression) -> Result<FjallEngine, StoreError> {
        let db = Database::builder(path).open().map_err(|e| match e {
            fjall::Error::Locked => StoreError::Locked(path.display().to_string()),
            other => StoreError::Engine(other),
        })?;
        let policy = match compression {
            Compression::Default => None,
            Compression::Lz4 => Some(CompressionPolicy::all(CompressionType::Lz4)),
            Compression::None => Some(CompressionPolicy::disabled()),
        };
        let mut handles = HashMap::new();
        for &name in spaces {
            let options = || {
                let o = KeyspaceCreateOptions::default();
                match &policy {
                    Some(p) => o.data_block_compression_policy(p.clone()),
                    None => o,
                }
            };
            handles.insert(name, db.keyspace(name, options)?);
        }
        Ok(FjallEngine { db, spaces: handles })
    }

    fn space(&self, name: Space) -> Result<&Keyspace, StoreError> {
        self.spaces.get(name).ok_or_else(|| StoreError::Corrupt(format!("unknown keyspace {name}")))
    }
}

impl Engine for FjallEngine {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.space(space)?.get(key)?.map(|v| v.to_vec()))
    }

    fn contains(&self, space: Space, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.space(space)?.contains_key(key)?)
    }

    fn scan(&self, space: Space, range: KeyRange, reverse: bool) -> Scan<'_> {
        let ks = match self.space(space) {
            Ok(ks) => ks,
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        let pair = |g: fjall::Guard| g.into_inner().map(|(k, v)| (k.to_vec(), v.to_vec())).map_err(StoreError::from);
        let iter = ks.range(range);
        if reverse { Box::new(iter.rev().map(pair)) } else { Box::new(iter.map(pair)) }
    }

    fn commit(&self, batch: Batch, durability: Durability) -> Result<(), StoreError> {
        if batch.is_empty() {
            return Ok(());
        }
        // With a durability mode, fjall writes and syncs the journal *before*
        // applying the batch to the memtables: nothing is readable early.
        let mode = match durability {
            Durability::Sync => Some(PersistMode::SyncData),
            Durability::Buffered => None,
        };
        let mut b = self.db.batch().durability(mode);
        for (space, key, value) in batch.ops {
            let ks = self.space(space)?;
            match value {
                Some(v) => b.insert(ks, key, v),
                None => b.remove(ks, key),
            }
        }
        Ok(b.commit()?)
    }

    fn persist(&self) -> Result<(), StoreError> {
        Ok(self.db.persist(PersistMode::SyncData)?)
    }

    fn dump(&self, sink: &mut crate::store::engine::Sink) -> Result<(), StoreError> {
        use fjall::Readable as _;
        let snapshot = self.db.snapshot();
        let mut names: Vec<&Space> = self.spaces.keys().collect();
        names.sort();
        for name in names {
            for guard in snapshot.iter(&self.spaces[name]) {
                let (k, v) = guard.into_inner()?;
                sink(name, &k, &v)?;
            }
        }
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        self.persist()?;
        for ks in self.spaces.values() {
            ks.rotate_memtable_and_wait()?;
        }
        Ok(())
    }

    fn stats(&self) -> Result<EngineStats, StoreError> {
        let mut spaces: Vec<SpaceStats> = self
            .spaces
            .iter()
            .map(|(&name, ks)| SpaceStats { name, keys: ks.approximate_len() as u64, bytes_on_disk: ks.disk_space() })
            .collect();
        spaces.sort_by_key(|s| s.name);
        Ok(EngineStats {
            spaces,
            journal_bytes: self.db.journal_disk_space()?,
            journal_files: self.db.journal_count() as u64,
            total_bytes_on_disk: self.db.disk_space()?,
        })
    }

    fn compact(&self) -> Result<(), StoreError> {
        for ks in self.spaces.values() {
            // Memtables first, so that compaction sees everything written.
            ks.rotate_memtable_and_wait()?;
            ks.major_compact()?;
        }
        Ok(())
    }
}
