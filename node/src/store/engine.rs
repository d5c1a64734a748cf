//! The storage engine under the node's databases: named keyspaces of ordered
//! byte keys, read one key or one range at a time, written in atomic batches.
//!
//! The record store's logic (verification rules, log heads, views) sits on
//! top of this trait, so production ([`FjallEngine`](super::fjall::FjallEngine)),
//! tests and the simulator ([`MemoryEngine`](super::memory::MemoryEngine)) run
//! the very same rules; only where the bytes live differs.

use std::ops::Bound;

use super::StoreError;

/// A keyspace's name. Each database declares its keyspaces when it opens.
pub type Space = &'static str;

/// A key range in one keyspace.
pub type KeyRange = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Key–value pairs of a scan, in key order (or reverse order).
pub type Scan<'a> = Box<dyn Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + Send + 'a>;

/// Receives each pair of a [`Engine::dump`].
pub type Sink<'a> = dyn FnMut(Space, &[u8], &[u8]) -> Result<(), StoreError> + 'a;

/// Writes that become visible together or not at all.
#[derive(Debug, Default)]
pub struct Batch {
    pub(crate) ops: Vec<(Space, Vec<u8>, Option<Vec<u8>>)>,
}

impl Batch {
    pub fn insert(&mut self, space: Space, key: Vec<u8>, value: Vec<u8>) {
        self.ops.push((space, key, Some(value)));
    }

    pub fn remove(&mut self, space: Space, key: Vec<u8>) {
        self.ops.push((space, key, None));
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

/// How long a committed batch may wait before it reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// On disk before `commit` returns, and readable only from then on.
    Sync,
    /// Handed to the operating system (survives a crash of the process, not
    /// of the machine) until the next [`Engine::persist`].
    Buffered,
}

/// Space used by one keyspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceStats {
    pub name: Space,
    /// Keys, approximately (an LSM engine counts without reading every key).
    pub keys: u64,
    pub bytes_on_disk: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineStats {
    pub spaces: Vec<SpaceStats>,
    /// Write-ahead journal not yet folded into the keyspaces' tables.
    pub journal_bytes: u64,
    pub journal_files: u64,
    pub total_bytes_on_disk: u64,
}

pub trait Engine: Send + Sync {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    fn contains(&self, space: Space, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.get(space, key)?.is_some())
    }

    /// Pairs in `range`, in key order, or reverse key order if `reverse`.
    fn scan(&self, space: Space, range: KeyRange, reverse: bool) -> Scan<'_>;

    /// Applies every write of `batch` atomically: after a crash, all of them
    /// are there or none is.
    fn commit(&self, batch: Batch, durability: Durability) -> Result<(), StoreError>;

    /// Waits until everything committed so far is on disk.
    fn persist(&self) -> Result<(), StoreError>;

    /// Moves what is only in the journal into tables, so that the next open
    /// has no journal to replay (a clean shutdown).
    fn checkpoint(&self) -> Result<(), StoreError>;

    fn stats(&self) -> Result<EngineStats, StoreError>;

    /// Rewrites the keyspaces' tables to drop overwritten and deleted data.
    fn compact(&self) -> Result<(), StoreError>;

    /// Every pair of every keyspace as of one instant (a consistent
    /// snapshot across keyspaces, while writes go on), handed to `sink`.
    fn dump(&self, sink: &mut Sink) -> Result<(), StoreError>;
}

/// Every key that starts with `prefix`.
pub fn prefix_range(prefix: &[u8]) -> KeyRange {
    // The first key after the prefix: drop trailing 0xff bytes, then add one
    // to the last byte. All 0xff (or empty): no upper bound.
    let mut end = prefix.to_vec();
    while end.last() == Some(&0xff) {
        end.pop();
    }
    let upper = match end.last_mut() {
        Some(last) => {
            *last += 1;
            Bound::Excluded(end)
        }
        None => Bound::Unbounded,
    };
    (Bound::Included(prefix.to_vec()), upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_ranges_end_after_the_last_key_with_the_prefix() {
        assert_eq!(prefix_range(b"ab"), (Bound::Included(b"ab".to_vec()), Bound::Excluded(b"ac".to_vec())));
        assert_eq!(prefix_range(&[1, 0xff]), (Bound::Included(vec![1, 0xff]), Bound::Excluded(vec![2])));
        assert_eq!(prefix_range(&[0xff]), (Bound::Included(vec![0xff]), Bound::Unbounded));
    }
}
