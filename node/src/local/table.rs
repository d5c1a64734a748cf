//! One typed table over a keyspace of the local database, and the one rule
//! for what a stored row is: JSON of its type, written whole in a batch. A
//! row that does not read back is [`StoreError::Corrupt`] naming the
//! keyspace and the key — never treated as missing — and a row that cannot
//! be encoded fails the write instead of storing empty bytes.
//!
//! Each store declares its keyspaces once, as constants
//! (`const TOKENS: Table<TokenInfo> = Table::new("tokens");`), so the row type
//! of a keyspace is written in one place.

use std::marker::PhantomData;

use serde::{Serialize, de::DeserializeOwned};

use super::LocalDb;
use crate::store::{
    StoreError,
    engine::{Batch, Space},
};

/// The rows of type `T` in keyspace `space`.
pub struct Table<T> {
    space: Space,
    row: PhantomData<fn() -> T>,
}

impl<T> Clone for Table<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Table<T> {}

impl<T: Serialize + DeserializeOwned + 'static> Table<T> {
    pub const fn new(space: Space) -> Table<T> {
        Table { space, row: PhantomData }
    }

    pub fn space(&self) -> Space {
        self.space
    }

    /// The row at `key`, if there is one.
    pub fn get(&self, db: &LocalDb, key: &[u8]) -> Result<Option<T>, StoreError> {
        db.get(self.space, key)?.map(|v| self.decode(key, &v)).transpose()
    }

    /// The rows whose keys start with `prefix`, in key order (or reversed).
    pub fn scan<'a>(
        &self,
        db: &'a LocalDb,
        prefix: &[u8],
        reverse: bool,
    ) -> impl Iterator<Item = Result<(Vec<u8>, T), StoreError>> + 'a {
        let table = *self;
        db.scan_prefix(self.space, prefix, reverse).map(move |item| {
            let (k, v) = item?;
            let row = table.decode(&k, &v)?;
            Ok((k, row))
        })
    }

    /// Stages `row` at `key` in `batch`.
    pub fn put(&self, batch: &mut Batch, key: Vec<u8>, row: &T) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(row).map_err(|e| {
            StoreError::Write(format!("cannot encode a row of {} ({}): {e}", self.space, hex::encode(&key)))
        })?;
        batch.insert(self.space, key, bytes);
        Ok(())
    }

    /// Stages the removal of the row at `key`.
    pub fn remove(&self, batch: &mut Batch, key: Vec<u8>) {
        batch.remove(self.space, key);
    }

    /// A row read some other way (a raw scan), under the same rule.
    pub fn decode(&self, key: &[u8], bytes: &[u8]) -> Result<T, StoreError> {
        serde_json::from_slice(bytes).map_err(|e| corrupt(self.space, key, &e))
    }
}

/// The error for a row of `space` at `key` that does not read.
pub fn corrupt(space: Space, key: &[u8], why: &dyn std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("keyspace {space}, key {} ({why})", printable(key)))
}

/// A key as people can read it: text if it is text, else hex.
fn printable(key: &[u8]) -> String {
    match std::str::from_utf8(key) {
        Ok(s) if s.chars().all(|c| c.is_ascii_graphic()) => format!("{s:?}"),
        _ => hex::encode(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::Clock;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Row {
        n: u32,
    }

    const ROWS: Table<Row> = Table::new("watch");

    #[test]
    fn a_row_that_does_not_read_is_an_error_naming_keyspace_and_key() {
        let db = LocalDb::in_memory(Clock::manual(0));
        let mut batch = Batch::default();
        ROWS.put(&mut batch, b"good".to_vec(), &Row { n: 1 }).unwrap();
        batch.insert("watch", b"bad".to_vec(), b"{not json".to_vec());
        db.commit(batch).unwrap();
        assert_eq!(ROWS.get(&db, b"good").unwrap(), Some(Row { n: 1 }));
        assert_eq!(ROWS.get(&db, b"none").unwrap(), None);
        let e = ROWS.get(&db, b"bad").unwrap_err().to_string();
        assert!(e.contains("keyspace watch") && e.contains("\"bad\""), "{e}");
        let scanned: Vec<_> = ROWS.scan(&db, &[], false).collect();
        assert_eq!(scanned.len(), 2);
        assert!(scanned[0].is_err(), "the corrupt row is reported, not skipped");
        assert_eq!(scanned[1].as_ref().unwrap().1, Row { n: 1 });
    }
}
