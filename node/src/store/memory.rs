//! An engine in memory: sorted maps behind one lock. For tests and the
//! many-node simulator, where a thousand stores must fit in one process.
//! "Durable" here means committed; nothing survives the process.

use std::{
    collections::{BTreeMap, HashMap},
    sync::RwLock,
};

use super::{
    StoreError,
    engine::{Batch, Durability, Engine, EngineStats, KeyRange, Scan, Space, SpaceStats},
};

type Map = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Default)]
pub struct MemoryEngine {
    spaces: RwLock<HashMap<Space, Map>>,
}

impl MemoryEngine {
    pub fn new(spaces: &[Space]) -> MemoryEngine {
        MemoryEngine { spaces: RwLock::new(spaces.iter().map(|s| (*s, Map::new())).collect()) }
    }

    fn read<T>(&self, space: Space, f: impl FnOnce(&Map) -> T) -> Result<T, StoreError> {
        let spaces = self.spaces.read().unwrap_or_else(|e| e.into_inner());
        let map = spaces.get(space).ok_or_else(|| StoreError::Corrupt(format!("unknown keyspace {space}")))?;
        Ok(f(map))
    }
}

impl Engine for MemoryEngine {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(space, |m| m.get(key).cloned())
    }

    fn contains(&self, space: Space, key: &[u8]) -> Result<bool, StoreError> {
        self.read(space, |m| m.contains_key(key))
    }

    fn scan(&self, space: Space, range: KeyRange, reverse: bool) -> Scan<'_> {
        // A snapshot of the range: the lock is not held while the caller iterates.
        let items = self.read(space, |m| {
            let it = m.range(range).map(|(k, v)| (k.clone(), v.clone()));
            if reverse { it.rev().collect::<Vec<_>>() } else { it.collect() }
        });
        match items {
            Ok(items) => Box::new(items.into_iter().map(Ok)),
            Err(e) => Box::new(std::iter::once(Err(e))),
        }
    }

    fn dump(&self, sink: &mut crate::store::engine::Sink) -> Result<(), StoreError> {
        let spaces = self.spaces.read().unwrap_or_else(|e| e.into_inner());
        let mut names: Vec<&Space> = spaces.keys().collect();
        names.sort();
        for name in names {
            for (k, v) in &spaces[name] {
                sink(name, k, v)?;
            }
        }
        Ok(())
    }

    fn commit(&self, batch: Batch, _: Durability) -> Result<(), StoreError> {
        let mut spaces = self.spaces.write().unwrap_or_else(|e| e.into_inner());
        if let Some((space, _, _)) = batch.ops.iter().find(|(s, _, _)| !spaces.contains_key(s)) {
            return Err(StoreError::Corrupt(format!("unknown keyspace {space}")));
        }
        for (space, key, value) in batch.ops {
            let map = spaces.entry(space).or_default();
            match value {
                Some(v) => map.insert(key, v),
                None => map.remove(&key),
            };
        }
        Ok(())
    }

    fn persist(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn checkpoint(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn stats(&self) -> Result<EngineStats, StoreError> {
        let spaces = self.spaces.read().unwrap_or_else(|e| e.into_inner());
        let mut out: Vec<SpaceStats> =
            spaces.iter().map(|(&name, m)| SpaceStats { name, keys: m.len() as u64, bytes_on_disk: 0 }).collect();
        out.sort_by_key(|s| s.name);
        Ok(EngineStats { spaces: out, journal_bytes: 0, journal_files: 0, total_bytes_on_disk: 0 })
    }

    fn compact(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
