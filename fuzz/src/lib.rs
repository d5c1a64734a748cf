//! Fuzz targets: each takes arbitrary bytes and drives one decoder or rule
//! set the way untrusted input reaches it. A target fails only by panicking
//! (or hanging, or overflowing: release builds here keep overflow checks and
//! debug assertions), so every `Err` path is a pass.
//!
//! Where a signature would stop nearly every input at the door, the target
//! has a second mode that signs the fuzzed bytes with a test key first, so
//! the rules behind the signature check are reached too. The first input
//! byte picks the mode.

use std::sync::{Arc, OnceLock};

use kawan_node::{
    interop::{import, stix},
    replica::{Config, Input, Output, Replica},
    store::Store,
};
use kawan_protocol::{
    Channel, Context, Envelope, Kind, Message, Record, SignedTrustList, TrustList, cbor, limits::Bounds,
    normalize as norm, sync,
};
use kawan_read::Format;
use kawan_tests::fixtures;

/// A store that trusts agencies 1–3 (1 coordinates), with a group of 1 and 2.
fn store() -> Store {
    let store = Store::in_memory(kawan_node::clock::Clock::system());
    // The fixture list is well formed; a failure here is a bug in the harness.
    let _ = store.install_genesis(&fixtures::trust_list(1, &[1, 2, 3], &[("ops", &[1, 2])]));
    store
}

fn genesis() -> &'static TrustList {
    static LIST: OnceLock<TrustList> = OnceLock::new();
    LIST.get_or_init(|| {
        fixtures::trust_list(1, &[1, 2, 3], &[("ops", &[1, 2])]).list().unwrap_or_else(|_| std::process::abort())
    })
}

/// Envelopes as they arrive from a peer (mode 0), or record bodies signed
/// by a member so ingest rules run (mode 1: prev links, forks, references,
/// normal forms, channel and TLP rules). Each mode ingests a batch split at
/// 0xFF 0xFF 0xFF bytes into a store that already holds a short chain.
pub fn record(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    let store = store();
    let _ = store.ingest_batch(
        &fixtures::chain(&fixtures::agency(2), 3, 1).iter().map(|v| v.envelope.to_bytes()).collect::<Vec<_>>(),
    );
    let parts: Vec<&[u8]> = rest.split(|b| *b == 0xFF).filter(|p| !p.is_empty()).take(16).collect();
    let mut batch = Vec::new();
    for part in parts {
        if mode % 2 == 0 {
            if let Ok(env) = Envelope::from_bytes(part) {
                let _ = env.peek_header();
                let _ = env.clone().open();
            }
            batch.push(part.to_vec());
        } else if let Ok(record) = cbor::decode::<Record>(part, &Bounds::RECORD) {
            let key = fixtures::agency(1 + (mode / 2) % 3);
            let mut record = record;
            record.header.author = key.public();
            if let Ok(v) = record.sign(&key) {
                batch.push(v.envelope.to_bytes());
            }
        }
    }
    for r in store.ingest_batch(&batch) {
        let _ = r.map(|i| i.id());
    }
}

/// Trust lists as received (mode 0: decode, genesis and update rules against
/// the fixture list), or list bodies signed by the coordinator (mode 1) so
/// the structural rules and the store's install path run.
pub fn trust(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else { return };
    // A chain file (`kawan trust join`) holds lists the same way.
    if mode % 4 == 2 {
        for signed in kawan_protocol::lists_from_bytes(rest).unwrap_or_default() {
            let _ = signed.verify_update(genesis(), 1_764_000_000_000);
        }
        return;
    }
    // A bundle file (`kawan bundle import`): the age seal, then the signed
    // bundle inside (also tried as the bytes themselves).
    if mode % 4 == 3 {
        let key = fixtures::agency(2);
        if let Ok(inner) = kawan_node::bundle::unseal(rest, &key) {
            let _ = kawan_protocol::Bundle::open(&inner);
        }
        let _ = kawan_protocol::Bundle::open(rest);
        return;
    }
    let signed = if mode % 2 == 0 {
        match SignedTrustList::from_bytes(rest) {
            Ok(s) => s,
            Err(_) => return,
        }
    } else {
        let Ok(list) = cbor::decode::<TrustList>(rest, &Bounds::TRUST_LIST) else { return };
        let mut s = SignedTrustList { body: list.to_bytes().unwrap_or_default(), sigs: vec![] };
        s.sign(&fixtures::agency(1));
        s
    };
    let _ = signed.verify_genesis();
    let _ = signed.verify_update(genesis(), 1_764_000_000_000);
    if let Ok(list) = signed.list() {
        let index = kawan_protocol::Membership::of(&list);
        for m in &list.members {
            let _ = index.position(&m.key);
            let _ = index.groups_of(&m.key);
        }
    }
    let _ = store().apply_trust_update(&signed);
}

/// A peer's session: the input is a sequence of sync messages, each
/// length-prefixed (u16, big-endian), fed to a replica as if agency 2 sent
/// them, with the replica's store and trust work carried out as a driver would.
pub fn sync(data: &[u8]) {
    let store = Arc::new(store());
    let peer = fixtures::agency(2).public();
    let mut replica = Replica::new(fixtures::agency(1).public(), store.clone(), Config::default(), 7);
    let mut now = 1_000;
    let mut pending = replica.handle(Input::PeerUp { peer, dialled: false }, now);
    let mut rest = data;
    while rest.len() >= 2 {
        let len = usize::from(u16::from_be_bytes([rest[0], rest[1]])).min(rest.len() - 2);
        let (frame, tail) = rest[2..].split_at(len);
        rest = tail;
        if let Ok(msg) = Message::from_bytes(frame) {
            if let Message::Have { ids } = &msg {
                let _ = sync::unpack(ids).count();
            }
            pending.extend(replica.handle(Input::Message { from: peer, msg, size: frame.len() }, now));
        }
        now += 300;
        pending.extend(replica.handle(Input::Tick, now));
        // Carry out what the replica asked of its driver (bounded: no loops).
        for out in std::mem::take(&mut pending).into_iter().take(64) {
            let input = match out {
                Output::Store { batch, records } => Input::Stored { batch, results: store.ingest_batch(&records) },
                Output::ApplyTrust { from, lists, more } => {
                    let results = lists
                        .iter()
                        .map(|l| {
                            SignedTrustList::from_bytes(l)
                                .map_err(|e| kawan_node::replica::TrustRefusal::Invalid(e.to_string()))
                                .and_then(|s| {
                                    store
                                        .apply_trust_update(&s)
                                        .map(|_| ())
                                        .map_err(|e| kawan_node::replica::TrustRefusal::Invalid(e.to_string()))
                                })
                        })
                        .collect();
                    Input::TrustApplied { from, results, more }
                }
                _ => continue,
            };
            let _ = replica.handle(input, now);
        }
    }
}

/// Every normaliser, on the input as text: the first byte picks the kind
/// (or guessing), the second the default phone region. A value that
/// normalises must be in normal form, and normalising it again must give
/// itself: the invariants the store's indexes rely on.
/// The free-text extractor: any text in any region; every hit's offsets
/// slice the input to its text, and every value is a normal form.
pub fn extract(data: &[u8]) {
    let [region, text @ ..] = data else { return };
    let text = String::from_utf8_lossy(text);
    let regions = ["TH", "MY", "ID", "KH", "PH", "GB", "AU", "VN"];
    let ctx = Context { default_region: regions[usize::from(*region) % regions.len()].parse().ok() };
    for f in kawan_protocol::extract::extract(&text, &ctx).indicators {
        assert_eq!(text.get(f.start..f.end), Some(f.text.as_str()), "offsets of {f:?}");
        assert!(norm::is_normal(f.kind, &f.value), "{f:?} is not a normal form");
    }
}

/// The file readers (web page, e-mail, CSV, WhatsApp and Telegram
/// exports), then the extractor over what they read: the first byte picks
/// the format or sniffing. Never a panic, whatever the file. PDF is not
/// fuzzed here: the PDF library's own panics are caught inside `read`, but
/// this harness aborts on any panic, caught or not.
pub fn read(data: &[u8]) {
    let [pick, file @ ..] = data else { return };
    let formats = [Format::Text, Format::Html, Format::Email, Format::Csv, Format::Whatsapp, Format::Telegram];
    let format = formats.get(usize::from(*pick)).copied();
    if format.is_none() && kawan_read::sniff(None, file) == Format::Pdf {
        return;
    }
    if let Ok(doc) = kawan_read::read(None, file, format) {
        let ctx = Context { default_region: "TH".parse().ok() };
        for f in kawan_protocol::extract::extract(&doc.text, &ctx).indicators {
            assert_eq!(doc.text.get(f.start..f.end), Some(f.text.as_str()), "offsets of {f:?}");
        }
    }
}

pub fn normalize(data: &[u8]) {
    let [k, region, text @ ..] = data else { return };
    let Ok(raw) = std::str::from_utf8(text) else { return };
    let regions = ["TH", "MY", "ID", "KH", "PH", "GB", "AU", "VN"];
    let ctx = Context { default_region: regions[usize::from(*region) % regions.len()].parse().ok() };
    let kind = match Kind::ALL.get(usize::from(*k)) {
        Some(kind) => *kind,
        None => match norm::guess_kind(raw) {
            Some(kind) => kind,
            None => return,
        },
    };
    let _ = norm::looks_like_phone(raw);
    if let Ok(n) = norm::normalize(kind, raw, &ctx) {
        assert!(norm::is_normal(kind, &n.value), "{kind:?} {raw:?} -> {:?} is not normal", n.value);
        let again = norm::normalize(kind, &n.value, &ctx).map(|m| m.value);
        assert_eq!(again.as_ref(), Ok(&n.value), "{kind:?} {raw:?}: normalising is not idempotent");
    }
}

/// Files `kawan import` reads and objects TAXII clients POST: the first byte
/// picks CSV, STIX bundle, MISP event, guessed, a bare STIX pattern, or one
/// STIX indicator object.
pub fn import(data: &[u8]) {
    let [mode, text @ ..] = data else { return };
    let Ok(text) = std::str::from_utf8(text) else { return };
    let d = import::Defaults { tlp: "green".into(), role: "recruiter_contact".into(), group: None };
    let format = match mode % 6 {
        0 => Some(import::Format::Csv),
        1 => Some(import::Format::Stix),
        2 => Some(import::Format::Misp),
        3 => None,
        4 => {
            let _ = stix::parse_pattern(text);
            return;
        }
        _ => {
            if let Ok(o) = serde_json::from_str(text) {
                let _ = stix::read_indicator(&o);
            }
            return;
        }
    };
    let _ = import::parse(text, format, &d);
}

/// Deconfliction messages as a peer sends them: requests (mode 0) opened
/// and evaluated as a holder would, responses (mode 1) checked as an asker
/// would, and bare filters (mode 2) looked up: a filter from a peer must
/// never index out of bounds. Mode 3: the file-fetch protocol's messages
/// (docs/protocol.md §8), a served manifest checked and a chunk checked
/// against it as a fetcher does.
pub fn deconflict(data: &[u8]) {
    use kawan_protocol::deconflict::{
        BOUNDS, Blinded, EvalRequest, Filter, FilterBytes, FilterNotice, HolderKey, Request, Response,
    };
    let Some((&mode, rest)) = data.split_first() else { return };
    let key = || HolderKey::derive(&[3; 32], &fixtures::network(), 7, 1);
    let look_up = |f: &Filter| (0..64u64).filter(|t| f.contains(t.wrapping_mul(0x9E37_79B9_7F4A_7C15))).count();
    match mode % 4 {
        3 => {
            use kawan_protocol::attachment::{Fetch, Served};
            let _ = Fetch::from_bytes(rest);
            if let Ok(Served::Manifest { manifest }) = Served::from_bytes(rest) {
                let _ = manifest.verify(&manifest.hash());
                for index in [0, 1, manifest.chunks.len(), usize::MAX] {
                    let _ = manifest.check_chunk(index, rest);
                }
            }
        }
        0 => {
            if let Ok(Request::Evaluate(signed)) = Request::from_bytes(rest)
                && let Ok(req) = signed.open::<EvalRequest>()
                && req.check().is_ok()
                && let Ok(key) = key()
            {
                let _ = key.evaluate(&req.blinded, &mut rand_core::OsRng);
            }
        }
        1 => match Response::from_bytes(rest) {
            Ok(Response::Filter(signed)) => {
                if let Ok(notice) = signed.open::<FilterNotice>()
                    && let Ok(f) = Filter::from_wire(&notice.filter)
                {
                    let _ = look_up(&f);
                }
            }
            Ok(Response::Evaluated { elements, proof, .. }) => {
                let inputs = vec![b"phone\0+447700900001".to_vec()];
                if let (Ok(b), Ok(key)) = (Blinded::new(&inputs, &mut rand_core::OsRng), key()) {
                    let _ = b.finish(&inputs, &elements, &proof, &key.public());
                }
            }
            _ => {}
        },
        _ => {
            if let Ok(w) = cbor::decode::<FilterBytes>(rest, &BOUNDS)
                && let Ok(f) = Filter::from_wire(&w)
            {
                let _ = look_up(&f);
            }
        }
    }
}

/// Backups as `kawan restore` reads them: a whole archive (mode 0: the tar
/// stream, manifest and signature, as anyone holding a backup file can
/// change them), or two database files sealed with a manifest signed by
/// agency 1 (mode 1: a 4-byte big-endian length, `local.kv`, then
/// `records.kv`), so what restore does behind the signature check runs too:
/// entries read, records verified, indices rebuilt, trust lists chained,
/// the audit log verified.
pub fn backup(data: &[u8]) {
    use kawan_node::backup::{self, Anchor};
    let Some((&mode, rest)) = data.split_first() else { return };
    let archive = if mode % 2 == 0 {
        rest.to_vec()
    } else {
        let Some((len, rest)) = rest.split_first_chunk::<4>() else { return };
        let (local, records) = rest.split_at((u32::from_be_bytes(*len) as usize).min(rest.len()));
        let (config, genesis) = backup_files();
        let files =
            [("kawan.toml", &config[..]), ("genesis.trust", genesis), ("local.kv", local), ("records.kv", records)];
        let Ok(archive) = backup::seal(&files, &fixtures::agency(1), 1_767_225_600_000) else { return };
        archive
    };
    let target = backup_scratch().join("restored");
    let anchor = Anchor::Keys(vec![fixtures::agency(1).public()]);
    let _ = backup::restore(archive.as_slice(), &target, kawan_node::clock::Clock::system(), &anchor);
    let _ = std::fs::remove_dir_all(&target);
}

/// A directory of this process's own for restores.
fn backup_scratch() -> &'static std::path::Path {
    static DIR: OnceLock<std::path::PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("kawan-fuzz-backup-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        dir
    })
}

/// Agency 1's kawan.toml and the fixtures' genesis, as a backup holds them.
fn backup_files() -> &'static (Vec<u8>, &'static [u8]) {
    static FILES: OnceLock<(Vec<u8>, &'static [u8])> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = backup_scratch().join("config");
        let _ = std::fs::create_dir_all(&dir);
        let config = kawan_node::config::Config::new(
            "Agency 1",
            "TH".parse().unwrap_or_else(|_| std::process::abort()),
            fixtures::network(),
        );
        let _ = config.write(&dir);
        let text = std::fs::read(kawan_node::config::path(&dir)).unwrap_or_default();
        let genesis: &'static [u8] = fixtures::trust_list(1, &[1, 2, 3], &[]).to_bytes().leak();
        (text, genesis)
    })
}

/// A real backup of a small node of agency 1 (two records, a case, audit
/// entries), and its two database files.
fn backup_seeds() -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    use kawan_node::{backup, data_dir::DataDir};
    let dir = backup_scratch().join("seed-node");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).ok()?;
    let (config_text, genesis) = backup_files();
    std::fs::write(dir.join("kawan.toml"), config_text).ok()?;
    std::fs::write(dir.join("genesis.trust"), genesis).ok()?;
    let config = kawan_node::config::Config::new("Agency 1", "TH".parse().ok()?, fixtures::network());
    let data = DataDir::open(&dir.join("data"), kawan_node::clock::Clock::system()).ok()?;
    data.store.install_genesis(&SignedTrustList::from_bytes(genesis).ok()?).ok()?;
    let key = fixtures::agency(1);
    for n in [1, 2] {
        data.store.publish(&key, &fixtures::network(), fixtures::phone_body(n), None).ok()?;
    }
    data.cases
        .create(kawan_node::local::cases::NewCase {
            reference: "OP-SEED".into(),
            title: "Seed case".into(),
            ..Default::default()
        })
        .ok()?;
    data.audit.append("analyst", "case.create", "1").ok()?;
    let work = dir.join("work");
    std::fs::create_dir_all(&work).ok()?;
    let mut archive = Vec::new();
    backup::write(&data, &dir, &config, &key, vec![key.public().to_string()], &work, &mut archive).ok()?;
    let mut files = std::collections::BTreeMap::new();
    for entry in tar::Archive::new(archive.as_slice()).entries().ok()? {
        let mut entry = entry.ok()?;
        let name = entry.path().ok()?.to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut bytes).ok()?;
        files.insert(name, bytes);
    }
    let _ = std::fs::remove_dir_all(&dir);
    Some((archive, files.remove("local.kv")?, files.remove("records.kv")?))
}

/// Seed inputs for every target: well-formed examples of what each one
/// reads, so the fuzzer starts from inputs that get past the first checks.
pub fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
    let mut out = Vec::new();
    let a2 = fixtures::agency(2);
    let chain = fixtures::chain(&a2, 5, 10);
    for (i, v) in chain.iter().enumerate() {
        out.push(("record", format!("envelope-{i}"), [&[0u8][..], &v.envelope.to_bytes()].concat()));
        out.push(("record", format!("signed-{i}"), [&[1u8][..], &v.envelope.signed].concat()));
    }
    let amber = kawan_protocol::Body::Indicator(fixtures::indicator(
        Kind::Phone,
        &fixtures::phone(7),
        kawan_protocol::Tlp::Amber,
    ));
    let group = fixtures::signed(&a2, channels()[1].clone(), 1, None, amber);
    out.push(("record", "group".into(), [&[1u8][..], &group.envelope.signed].concat()));
    let pair: Vec<u8> = [&[0u8][..], &chain[3].envelope.to_bytes(), &[0xFF], &chain[4].envelope.to_bytes()].concat();
    out.push(("record", "pair".into(), pair));

    let v2 = fixtures::trust_list(2, &[1, 2, 3, 4], &[("ops", &[1, 2, 4])]);
    out.push(("trust", "update".into(), [&[0u8][..], &v2.to_bytes()].concat()));
    out.push(("trust", "body".into(), [&[1u8][..], &v2.body].concat()));
    out.push(("trust", "genesis".into(), [&[0u8][..], &fixtures::trust_list(1, &[1, 2, 3], &[]).to_bytes()].concat()));
    let lists = kawan_protocol::chain_to_bytes(&[fixtures::trust_list(1, &[1, 2, 3], &[]), v2.clone()]);
    out.push(("trust", "chain".into(), [&[2u8][..], &lists].concat()));
    let a1 = fixtures::agency(1);
    let bundle = kawan_protocol::Bundle {
        network: fixtures::network(),
        from: a1.public(),
        to: fixtures::agency(2).public(),
        created_ms: 1_764_000_000_000,
        since_ms: None,
        lists: vec![serde_bytes::ByteBuf::from(v2.to_bytes())],
        records: chain.iter().take(2).map(|v| serde_bytes::ByteBuf::from(v.envelope.to_bytes())).collect(),
    };
    if let Ok((signed, _)) = bundle.sign(&a1)
        && let Ok(sealed) = kawan_node::bundle::seal(&signed, &fixtures::agency(2).public())
    {
        out.push(("trust", "bundle".into(), [&[3u8][..], &sealed].concat()));
        out.push(("trust", "bundle-signed".into(), [&[3u8][..], &signed].concat()));
    }

    let records: Vec<serde_bytes::ByteBuf> =
        chain.iter().map(|v| serde_bytes::ByteBuf::from(v.envelope.to_bytes())).collect();
    let messages = [
        Message::Have { ids: sync::pack(&chain.iter().map(|v| sync::short_id(&v.id)).collect::<Vec<_>>()) },
        Message::Push { records: records[..1].to_vec() },
        Message::Batch { req: 1, records, missing: sync::pack(&[[7; 8]]) },
        Message::Pull {
            req: 3,
            wants: vec![kawan_protocol::Want {
                channel: kawan_protocol::Channel::Network,
                author: chain[0].record.header.author,
                after_seq: 0,
                limit: 16,
            }],
        },
        Message::Index {
            req: 3,
            logs: vec![kawan_protocol::LogIds {
                channel: kawan_protocol::Channel::Network,
                author: chain[0].record.header.author,
                first_seq: 1,
                ids: sync::pack(&chain.iter().map(|v| sync::short_id(&v.id)).collect::<Vec<_>>()),
                gone: vec![],
            }],
            more: true,
        },
        Message::Want { req: 2, ids: sync::pack(&chain.iter().map(|v| sync::short_id(&v.id)).collect::<Vec<_>>()) },
        Message::Digest { network: fixtures::network(), digest: [7; 32], trust_version: 1 },
        Message::TrustLists { after_version: 0 },
        Message::TrustListPage { lists: vec![serde_bytes::ByteBuf::from(v2.to_bytes())], more: false },
    ];
    for (i, m) in messages.iter().enumerate() {
        let Ok(bytes) = m.to_bytes() else { continue };
        let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX).to_be_bytes();
        out.push(("sync", format!("{}-{i}", m.kind()), [&len[..], &bytes].concat()));
    }

    let values = [
        (Kind::Phone, "+66 81 234 5678"),
        (Kind::Phone, "07700 900123"),
        (Kind::Domain, "Jobs-Abroad.EXAMPLE."),
        (Kind::Url, "https://jobs.example/apply?id=7#top"),
        (Kind::Email, "Recruiter@Jobs.Example"),
        (Kind::Ip, "192.0.2.7"),
        (Kind::TelegramHandle, "@Recruiter_Bot"),
        (Kind::LineId, "recruiter.th"),
        (Kind::WechatId, "wxid_recruit01"),
        (Kind::SocialProfile, "https://www.facebook.example/jobs.abroad"),
        (Kind::TronAddress, "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8"),
        (Kind::EvmAddress, "0x52908400098527886E0F7030069857D2E4169EE7"),
        (Kind::BtcAddress, "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
        (Kind::BankAccount, "GB82 WEST 1234 5698 7654 32"),
        (Kind::CompanyName, "Golden Star Recruitment Co., Ltd."),
        (Kind::AppId, "com.example.jobs"),
        (Kind::ImageHash, "d41d8cd98f00b204e9800998ecf8427e"),
    ];
    for (i, (kind, value)) in values.iter().enumerate() {
        let k = Kind::ALL.iter().position(|x| x == kind).unwrap_or(0) as u8;
        out.push(("normalize", format!("{}-{i}", kind.as_str()), [&[k, 0][..], value.as_bytes()].concat()));
    }
    out.push(("normalize", "guess".into(), [&[255u8, 1][..], b"https://jobs.example/x"].concat()));

    let csv = "kind,value,tlp,confidence,tags\nphone,+447700900001,green,80,a;b\ndomain,jobs.example,clear,,\n";
    out.push(("import", "csv".into(), [&[0u8][..], csv.as_bytes()].concat()));
    let bundle = serde_json::json!({"type": "bundle", "id": "bundle--6f7c3f2a-8f0e-4b8e-9d3c-1a2b3c4d5e6f", "objects": [
        {"type": "indicator", "spec_version": "2.1", "id": "indicator--1b4ea4a3-2d0f-4c1e-8e1a-0c9c2f5d7a10",
         "created": "2026-01-01T00:00:00Z", "modified": "2026-01-01T00:00:00Z", "pattern_type": "stix",
         "pattern": "[domain-name:value = 'jobs.example']", "valid_from": "2026-01-01T00:00:00Z",
         "object_marking_refs": ["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}]});
    out.push(("import", "stix".into(), [&[1u8][..], bundle.to_string().as_bytes()].concat()));
    let misp = serde_json::json!({"Event": {"info": "x", "Tag": [{"name": "tlp:green"}], "Attribute": [
        {"type": "phone-number", "value": "+447700900002", "comment": ""},
        {"type": "url", "value": "https://jobs.example/a", "comment": ""},
        {"type": "vulnerability", "value": "CVE-2026-1", "comment": ""}]}});
    out.push(("import", "misp".into(), [&[2u8][..], misp.to_string().as_bytes()].concat()));
    out.push(("import", "pattern".into(), [&[4u8][..], &b"[url:value = 'https://jobs.example/a']"[..]].concat()));
    out.push(("import", "object".into(), [&[5u8][..], bundle["objects"][0].to_string().as_bytes()].concat()));

    {
        use kawan_protocol::deconflict::{
            Blinded, EvalRequest, Filter, FilterNotice, HolderKey, Request, Response, Signed, oprf_input,
        };
        if let Ok(key) = HolderKey::derive(&[3; 32], &fixtures::network(), 7, 1) {
            let inputs: Vec<Vec<u8>> = (0..3).map(|n| oprf_input(Kind::Phone, &fixtures::phone(n))).collect();
            let tags: Vec<u64> = inputs.iter().filter_map(|i| key.tag(i).ok()).collect();
            let filter = Filter::build(tags).map(|f| f.to_wire()).ok();
            if let (Some(filter), Ok(blinded)) = (filter, Blinded::new(&inputs, &mut rand_core::OsRng)) {
                let req = EvalRequest {
                    network: fixtures::network(),
                    asker: a2.public(),
                    holder: fixtures::agency(1).public(),
                    epoch: 7,
                    created_ms: 1_764_000_000_000,
                    nonce: serde_bytes::ByteBuf::from(vec![1; 16]),
                    version: 1,
                    purpose: "fuzz".into(),
                    case_tag: Some("0123456789abcdef0123456789abcdef".into()),
                    analyst: "a".into(),
                    blinded: serde_bytes::ByteBuf::from(blinded.elements.clone()),
                };
                if let Ok(signed) = Signed::sign(&req, &a2)
                    && let Ok(bytes) = Request::Evaluate(signed).to_bytes()
                {
                    out.push(("deconflict", "evaluate".into(), [&[0u8][..], &bytes].concat()));
                }
                if let Ok((elements, proof)) = key.evaluate(&blinded.elements, &mut rand_core::OsRng) {
                    let r = Response::Evaluated {
                        epoch: 7,
                        elements: serde_bytes::ByteBuf::from(elements),
                        proof: serde_bytes::ByteBuf::from(proof),
                        version: 1,
                    };
                    if let Ok(bytes) = r.to_bytes() {
                        out.push(("deconflict", "evaluated".into(), [&[1u8][..], &bytes].concat()));
                    }
                }
                let notice = FilterNotice {
                    network: fixtures::network(),
                    holder: a2.public(),
                    epoch: 7,
                    epoch_ms: 86_400_000,
                    public: serde_bytes::ByteBuf::from(key.public().to_vec()),
                    version: 1,
                    contact: "desk".into(),
                    filter: filter.clone(),
                };
                if let Ok(signed) = Signed::sign(&notice, &a2)
                    && let Ok(bytes) = Response::Filter(signed).to_bytes()
                {
                    out.push(("deconflict", "filter".into(), [&[1u8][..], &bytes].concat()));
                }
                if let Ok(bytes) = cbor::encode(&filter) {
                    out.push(("deconflict", "bare-filter".into(), [&[2u8][..], &bytes].concat()));
                }
                let mut file = kawan_protocol::attachment::Hasher::new();
                file.update(&[7; 300_000]);
                let (manifest, _) = file.finish();
                if let Ok(bytes) = (kawan_protocol::attachment::Served::Manifest { manifest }).to_bytes() {
                    out.push(("deconflict", "served-manifest".into(), [&[3u8][..], &bytes].concat()));
                }
            }
        }
    }
    for (i, text) in [
        "Contact +44 7700 900123 or t.me/kh_jobs_example, apply hxxps://jobs[.]example/form, hr[at]jobs[.]example",
        "รับสมัคร โทร 081 234 5678 ไอดีไลน์: jobs_th88 wa.me/66812345679 USDT TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
        "加微信 wx_jobs_example 0x52908400098527886E0F7030069857D2E4169EE7 192.0.2.44 recruit-portal.example 05.12.2026",
    ]
    .iter()
    .enumerate()
    {
        out.push(("extract", format!("text-{i}"), [&[i as u8][..], text.as_bytes()].concat()));
    }
    for (i, (format, file)) in read_seeds().into_iter().enumerate() {
        out.push(("read", format!("file-{i}"), [&[format][..], file.as_bytes()].concat()));
    }
    if let Some((archive, local, records)) = backup_seeds() {
        out.push(("backup", "archive".into(), [&[0u8][..], &archive].concat()));
        let len = u32::try_from(local.len()).unwrap_or(u32::MAX).to_be_bytes();
        out.push(("backup", "databases".into(), [&[1u8][..], &len[..], &local, &records].concat()));
    }
    out
}

/// A file of each format the readers take (the first byte as in [`read`]).
fn read_seeds() -> Vec<(u8, &'static str)> {
    vec![
        (0, "Call +44 7700 900123 or Telegram @kh_jobs_example"),
        (
            1,
            "<html><body><p>Apply <a href=\"https://kh-jobs.example/apply\">here</a> <a href=\"tel:+447700900123\">call</a></p><script>x</script></body></html>",
        ),
        (
            2,
            "From: HR <hr@kh-jobs.example>\r\nSubject: Offer\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nCall +44 7700 900123\r\n",
        ),
        (3, "name,phone\n\"Budi, HR\",+44 7700 900123\n"),
        (
            4,
            "[12/03/2026, 21:14] Recruiter: BCA 123 456 7890 a.n. Budi\n12/03/26 21:15 - Recruiter: wa.me/447700900124",
        ),
        (
            5,
            "{\"name\": \"HR\", \"messages\": [{\"from\": \"HR\", \"text\": [\"write \", {\"type\": \"mention\", \"text\": \"@kh_jobs_example\"}]}], \"contacts\": {\"list\": [{\"first_name\": \"A\", \"phone_number\": \"+44 7700 900125\"}]}}",
        ),
        (9, "<!DOCTYPE html><div><div><a href='mailto:hr@kh-jobs.example'>mail</a></div></div>"),
    ]
}

/// The fixtures' channels: the network, and the group `ops`.
fn channels() -> [Channel; 2] {
    [Channel::Network, Channel::Group("ops".parse().unwrap_or_else(|_| std::process::abort()))]
}

#[cfg(test)]
mod tests {
    //! A smoke run without AFL (`cd fuzz && cargo test`): every seed, and
    //! every seed with bytes flipped, goes through its target without a panic.
    use super::*;

    #[test]
    fn every_seed_and_its_mutations_pass_through_the_targets() {
        let targets: [(&str, fn(&[u8])); 9] = [
            ("record", record),
            ("trust", trust),
            ("sync", sync),
            ("normalize", normalize),
            ("extract", extract),
            ("read", read),
            ("import", import),
            ("deconflict", deconflict),
            ("backup", backup),
        ];
        for (target, name, bytes) in seeds() {
            let run = targets
                .iter()
                .find(|(t, _)| *t == target)
                .map(|(_, f)| f)
                .unwrap_or_else(|| panic!("no target {target}"));
            run(&bytes);
            // A deterministic walk of flips and truncations.
            let mut state = 0x9e37_79b9_u32;
            for _ in 0..64 {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                let mut mutated = bytes.clone();
                if mutated.is_empty() {
                    continue;
                }
                let at = state as usize % mutated.len();
                if state & 1 == 0 {
                    mutated[at] ^= (state >> 8) as u8 | 1;
                } else {
                    mutated.truncate(at);
                }
                run(&mutated);
            }
            eprintln!("{target}/{name}: ok");
        }
    }
}
