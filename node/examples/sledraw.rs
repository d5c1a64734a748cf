use std::time::Instant;
fn main() {
    for (keys, vlen, randoms) in [(5usize, 450usize, 5usize), (5, 450, 2), (5, 450, 1), (3, 450, 1)] {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).cache_capacity(256 << 20).open().unwrap();
        let t = db.open_tree("x").unwrap();
        let n = 50_000u64;
        let start = Instant::now();
        for chunk in (0..n).collect::<Vec<_>>().chunks(256) {
            let mut b = sled::Batch::default();
            for i in chunk {
                let h = blake3::hash(&i.to_be_bytes());
                for k in 0..keys {
                    let mut key = vec![b'A' + k as u8];
                    if k < randoms { key.extend_from_slice(h.as_bytes()); } else { key.extend_from_slice(&i.to_be_bytes()); }
                    let v = if k == 0 { vec![7u8; vlen] } else { vec![] };
                    b.insert(key, v);
                }
            }
            t.apply_batch(b).unwrap();
            db.flush().unwrap();
        }
        let el = start.elapsed().as_secs_f64();
        println!("{keys} keys/record ({randoms} random), value {vlen}: {:.1} us/record, {:.0} records/s, disk {} MiB", el * 1e6 / n as f64, n as f64 / el, db.size_on_disk().unwrap() >> 20);
    }
}
