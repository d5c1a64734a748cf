use kawan_protocol::*;
use std::time::Instant;
fn main() {
    let k = Keypair::from_secret_bytes([1; 32]);
    let mut prev = None;
    let mut recs = Vec::new();
    for i in 0..20000u64 {
        let ind = Indicator {
            kind: Kind::Domain,
            value: format!("recruit-{i}.jobs-abroad.example"),
            role: Role::JobAd,
            subject: Subject::Suspect,
            confidence: 60,
            basis: Basis::Fact,
            tlp: Tlp::Green,
            first_seen: Some(1),
            last_seen: None,
            valid_until: None,
            platform: None,
            countries: vec!["KH".parse().unwrap()],
            typologies: vec![],
            tags: vec!["fake-job".into()],
            description: None,
        };
        let r = Record {
            header: Header {
                v: 1,
                network: NetworkId::new("bench").unwrap(),
                channel: Channel::Network,
                author: k.public(),
                seq: i + 1,
                prev,
                created_ms: 1 + i,
            },
            body: Body::Indicator(ind),
        };
        let v = r.sign(&k).unwrap();
        prev = Some(v.id);
        recs.push(v.envelope.to_bytes());
    }
    let n = recs.len() as f64;
    let t = Instant::now();
    let envs: Vec<Envelope> = recs.iter().map(|b| Envelope::from_bytes(b).unwrap()).collect();
    println!("envelope decode  {:.2} us", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    let rs: Vec<Record> = envs.iter().map(|e| e.record_unverified().unwrap()).collect();
    println!("signed decode    {:.2} us", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    for r in &rs {
        r.validate().unwrap();
    }
    println!("validate         {:.2} us", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    for r in &rs {
        let _ = kawan_protocol::cbor::encode(r).unwrap();
    }
    println!("re-encode record {:.2} us", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    for e in &envs {
        let _ = e.id();
    }
    println!("blake3 id        {:.2} us", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    for c in envs.chunks(256) {
        let _ = open_batch(c.to_vec());
    }
    println!("open_batch       {:.2} us", t.elapsed().as_secs_f64() * 1e6 / n);
    let dir = tempfile::tempdir().unwrap();
    let st = kawan_node::storage::Storage::open(dir.path()).unwrap();
    let list = TrustList {
        network: NetworkId::new("bench").unwrap(),
        version: 1,
        issued_ms: 0,
        threshold: 1,
        members: vec![Member {
            id: MemberId::new("a").unwrap(),
            name: "A".into(),
            country: "TH".parse().unwrap(),
            key: k.public(),
            roles: vec![MemberRole::Coordinator],
            addrs: vec![],
            expires_ms: None,
        }],
        groups: vec![],
    };
    let mut s = SignedTrustList::new(&list).unwrap();
    s.sign(&k);
    st.store.install_genesis(&s).unwrap();
    let t = Instant::now();
    for c in recs.chunks(256) {
        for r in st.store.ingest_batch(c) {
            r.unwrap();
        }
    }
    println!("ingest_batch     {:.2} us", t.elapsed().as_secs_f64() * 1e6 / n);
    let t = Instant::now();
    for _ in 0..100 {
        st.store.size_on_disk().unwrap();
    }
    let t2 = Instant::now();
    println!("size {:?}", t2 - t);
}
