//! Signed envelopes, headers and the rules a record must satisfy.
//!
//! Wire form (docs/protocol.md): `Envelope = CBOR { "signed": bstr, "sig": bstr(64) }`,
//! `signed = CBOR { "header": Header, "body": Body }`, the signature is
//! Ed25519 over `b"kawan/record/v1" || signed`, and `RecordId = BLAKE3(signed)`.
//! Receivers verify over the bytes they received and keep those bytes.

use serde::{Deserialize, Serialize};

use crate::{
    AgencyKey, Body, CborError, Channel, Content, Keypair, NetworkId, RecordId, Sig, Subject, Tlp, cbor,
    limits::{Bounds, MAX_LIST_ITEMS, MAX_SHORT_BYTES, MAX_TEXT_BYTES},
    normalize,
};

/// Domain-separation prefix of record signatures.
pub const RECORD_DOMAIN: &[u8] = b"kawan/record/v1";
/// The only header version this implementation reads and writes.
pub const VERSION: u8 = 1;

/// Who wrote a record, where it goes, and its place in the author's log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Header {
    pub v: u8,
    pub network: NetworkId,
    pub channel: Channel,
    pub author: AgencyKey,
    /// Position in the author's log for this channel, from 1.
    pub seq: u64,
    /// Id of record `seq - 1` of the same log; null exactly when `seq` is 1.
    pub prev: Option<RecordId>,
    pub created_ms: u64,
}

/// What is signed: a header and a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub header: Header,
    pub body: Body,
}

/// What travels and what is stored: the signed bytes exactly as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(with = "serde_bytes")]
    pub signed: Vec<u8>,
    pub sig: Sig,
}

/// A record whose signature and rules have been checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub id: RecordId,
    pub record: Record,
    pub envelope: Envelope,
}

/// Why a record was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("envelope: {0}")]
    Envelope(CborError),
    #[error("signed part: {0}")]
    Signed(CborError),
    #[error("bad signature (or author key is not a valid ed25519 key)")]
    BadSignature,
    #[error("attachments: {0}")]
    Attachment(crate::attachment::AttachmentError),
    #[error("unsupported record version {0} (this node reads version {VERSION})")]
    Version(u8),
    #[error("seq must start at 1")]
    ZeroSeq,
    #[error("prev must be null exactly when seq is 1")]
    PrevMismatch,
    #[error("TLP {tlp} may not be sent on channel {channel}")]
    TlpChannel { tlp: Tlp, channel: Channel },
    #[error("TLP RED never leaves the node")]
    Red,
    #[error("indicator value is not in normal form: {0}")]
    NotNormal(String),
    #[error("confidence {0} is over 100")]
    Confidence(u8),
    #[error("first_seen is after last_seen")]
    SeenOrder,
    #[error("an indicator about a victim must be TLP AMBER or stricter")]
    VictimNotAmber,
    #[error("field {field} is {len} bytes, over the limit of {max}")]
    FieldTooLong { field: &'static str, len: usize, max: usize },
    #[error("list {field} has {len} items, over the limit of {max}")]
    ListTooLong { field: &'static str, len: usize, max: usize },
    #[error("field {0} must not be empty")]
    EmptyField(&'static str),
    #[error("unknown platform {0:?} (see docs/protocol.md for the list, or write other:<name>)")]
    Platform(String),
    #[error("a referral's status cannot date from before its submission")]
    StatusBeforeSubmission,
    #[error("cannot encode: {0}")]
    Encode(CborError),
    #[error("records of the newer kind {0:?} are relayed as received, never signed here")]
    Newer(String),
}

impl Record {
    /// Checks everything a receiver checks, except the signature.
    pub fn validate(&self) -> Result<(), RecordError> {
        let h = &self.header;
        // A newer version is read only as far as its header (see `newer`).
        if h.v != VERSION && !matches!(self.body, Body::Unknown(_)) {
            return Err(RecordError::Version(h.v));
        }
        if h.seq == 0 {
            return Err(RecordError::ZeroSeq);
        }
        if (h.seq == 1) != h.prev.is_none() {
            return Err(RecordError::PrevMismatch);
        }
        if let Some(tlp) = self.body.tlp() {
            if tlp == Tlp::Red {
                return Err(RecordError::Red);
            }
            if !tlp.allows(&h.channel) {
                return Err(RecordError::TlpChannel { tlp, channel: h.channel.clone() });
            }
        }
        crate::attachment::validate_all(self.body.attachments()).map_err(RecordError::Attachment)?;
        match &self.body {
            Body::Sighting(s) => {
                opt_text("comment", &s.comment, MAX_TEXT_BYTES)?;
                list("countries", &s.countries)
            }
            Body::Retraction(r) => text("reason", &r.reason, MAX_TEXT_BYTES),
            Body::Erasure(e) => {
                if e.targets.is_empty() {
                    return Err(RecordError::EmptyField("targets"));
                }
                list("targets", &e.targets)?;
                text("reason", &e.reason, MAX_TEXT_BYTES)
            }
            Body::Checkpoint(c) => {
                let hex = c.hash.len() == 64 && c.hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if c.seq == 0 || !hex {
                    return Err(RecordError::NotNormal(
                        "an audit checkpoint names an entry and its 64-hex-digit hash".into(),
                    ));
                }
                if h.channel != crate::Channel::Network {
                    return Err(RecordError::NotNormal("an audit checkpoint goes to the whole network".into()));
                }
                Ok(())
            }
            _ => match self.body.content() {
                Some(c) => validate_content(&c),
                None => Ok(()),
            },
        }
    }

    /// Encodes the signed part canonically.
    pub fn to_signed_bytes(&self) -> Result<Vec<u8>, RecordError> {
        cbor::encode(self).map_err(RecordError::Encode)
    }

    /// Validates, encodes and signs. The key must be the header's author.
    pub fn sign(&self, key: &Keypair) -> Result<Verified, RecordError> {
        if key.public() != self.header.author {
            return Err(RecordError::BadSignature);
        }
        if let Body::Unknown(u) = &self.body {
            return Err(RecordError::Newer(u.family.chars().take(64).collect()));
        }
        self.validate()?;
        let signed = self.to_signed_bytes()?;
        let sig = key.sign(RECORD_DOMAIN, &signed);
        Ok(Verified { id: RecordId::of(&signed), record: self.clone(), envelope: Envelope { signed, sig } })
    }
}

fn validate_content(c: &Content) -> Result<(), RecordError> {
    if let Some(h) = c.handling() {
        if h.is_open() {
            // Nothing restricted is said by leaving the field out.
            return Err(RecordError::EmptyField("handling"));
        }
        opt_text("handling.other", &h.other, MAX_TEXT_BYTES)?;
    }
    match c {
        Content::Indicator(i) => {
            if !normalize::is_normal(i.kind, &i.value) {
                return Err(RecordError::NotNormal(i.value.chars().take(120).collect()));
            }
            if i.confidence > 100 {
                return Err(RecordError::Confidence(i.confidence));
            }
            if let (Some(a), Some(b)) = (i.first_seen, i.last_seen)
                && a > b
            {
                return Err(RecordError::SeenOrder);
            }
            if i.subject == Subject::Victim && i.tlp < Tlp::Amber {
                return Err(RecordError::VictimNotAmber);
            }
            if let Some(p) = &i.platform
                && !normalize::is_platform(p)
            {
                return Err(RecordError::Platform(p.chars().take(32).collect()));
            }
            opt_text("description", &i.description, MAX_TEXT_BYTES)?;
            list("countries", &i.countries)?;
            list("typologies", &i.typologies)?;
            short_list("tags", &i.tags)
        }
        Content::Typology(t) => {
            text("title", &t.title, MAX_SHORT_BYTES)?;
            text("summary", &t.summary, MAX_TEXT_BYTES)?;
            short_list("aliases", &t.aliases)?;
            text_list("lures", &t.lures)?;
            short_list("platforms", &t.platforms)?;
            text_list("control_methods", &t.control_methods)?;
            list("route", &t.route)?;
            text_list("red_flags", &t.red_flags)?;
            short_list("mappings", &t.mappings)?;
            text_list("references", &t.references)
        }
        Content::Referral(r) => {
            if !normalize::is_referral_platform(&r.platform) {
                return Err(RecordError::Platform(r.platform.chars().take(32).collect()));
            }
            if r.subjects.is_empty() {
                return Err(RecordError::EmptyField("subjects"));
            }
            list("subjects", &r.subjects)?;
            if let Some(s) = r.subjects.iter().find(|s| !normalize::is_normal(s.kind, &s.value)) {
                return Err(RecordError::NotNormal(s.value.chars().take(120).collect()));
            }
            if r.status_ms.is_some_and(|t| t < r.submitted_ms) {
                return Err(RecordError::StatusBeforeSubmission);
            }
            opt_text("reference", &r.reference, MAX_SHORT_BYTES)?;
            opt_text("portal", &r.portal, MAX_SHORT_BYTES)?;
            opt_text("legal_basis", &r.legal_basis, MAX_TEXT_BYTES)?;
            opt_text("note", &r.note, MAX_TEXT_BYTES)
        }
        Content::Request(r) => {
            text("question", &r.question, MAX_TEXT_BYTES)?;
            named_values(&r.values)?;
            list("records", &r.records)?;
            if let Some(p) = &r.platform
                && !normalize::is_referral_platform(p)
            {
                return Err(RecordError::Platform(p.chars().take(32).collect()));
            }
            list("useful", &r.useful)
        }
        Content::Answer(a) => {
            text("text", &a.text, MAX_TEXT_BYTES)?;
            named_values(&a.values)?;
            list("cites", &a.cites)
        }
        Content::Technique(t) => {
            text("title", &t.title, MAX_SHORT_BYTES)?;
            text("objective", &t.objective, MAX_TEXT_BYTES)?;
            list("applies_to", &t.applies_to)?;
            text_list("steps", &t.steps)?;
            short_list("tools", &t.tools)?;
            text_list("requirements", &t.requirements)?;
            for (field, v) in [
                ("limitations", &t.limitations),
                ("legal_notes", &t.legal_notes),
                ("ethical_notes", &t.ethical_notes),
                ("opsec_risks", &t.opsec_risks),
                ("evidence_handling", &t.evidence_handling),
            ] {
                opt_text(field, v, MAX_TEXT_BYTES)?;
            }
            Ok(())
        }
    }
}

/// Values a request or an answer names: each in its normal form.
fn named_values(values: &[crate::NamedValue]) -> Result<(), RecordError> {
    list("values", values)?;
    match values.iter().find(|v| !normalize::is_normal(v.kind, &v.value)) {
        Some(v) => Err(RecordError::NotNormal(v.value.chars().take(120).collect())),
        None => Ok(()),
    }
}

fn text(field: &'static str, s: &str, max: usize) -> Result<(), RecordError> {
    if s.trim().is_empty() {
        return Err(RecordError::EmptyField(field));
    }
    if s.len() > max {
        return Err(RecordError::FieldTooLong { field, len: s.len(), max });
    }
    Ok(())
}

fn opt_text(field: &'static str, s: &Option<String>, max: usize) -> Result<(), RecordError> {
    s.as_deref().map_or(Ok(()), |s| text(field, s, max))
}

fn list<T>(field: &'static str, items: &[T]) -> Result<(), RecordError> {
    if items.len() > MAX_LIST_ITEMS {
        return Err(RecordError::ListTooLong { field, len: items.len(), max: MAX_LIST_ITEMS });
    }
    Ok(())
}

fn short_list(field: &'static str, items: &[String]) -> Result<(), RecordError> {
    list(field, items)?;
    items.iter().try_for_each(|s| text(field, s, MAX_SHORT_BYTES))
}

fn text_list(field: &'static str, items: &[String]) -> Result<(), RecordError> {
    list(field, items)?;
    items.iter().try_for_each(|s| text(field, s, MAX_TEXT_BYTES))
}

impl Envelope {
    /// Decodes the framing only; nothing is verified yet.
    pub fn from_bytes(bytes: &[u8]) -> Result<Envelope, RecordError> {
        cbor::decode(bytes, &Bounds::ENVELOPE).map_err(RecordError::Envelope)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        // Encoding a byte string and a fixed-size array into a Vec cannot fail.
        cbor::encode(self).unwrap_or_default()
    }

    pub fn id(&self) -> RecordId {
        RecordId::of(&self.signed)
    }

    /// The header alone, unverified: which channel and log a received record
    /// claims, to route it before the store verifies it. The body is skipped,
    /// not built; nothing read here may be trusted beyond routing.
    pub fn peek_header(&self) -> Result<Header, RecordError> {
        #[derive(Deserialize)]
        struct Peek {
            header: Header,
            #[serde(rename = "body")]
            _body: serde::de::IgnoredAny,
        }
        cbor::peek::<Peek>(&self.signed, &Bounds::RECORD).map(|p| p.header).map_err(RecordError::Signed)
    }

    /// Decodes the signed part without verifying the signature. Only for
    /// records already verified once (e.g. read back from the store).
    /// A record of a newer kind than this node reads comes back with a
    /// [`Body::Unknown`] body (docs/protocol.md, "Evolving the protocol").
    pub fn record_unverified(&self) -> Result<Record, RecordError> {
        match cbor::decode(&self.signed, &Bounds::RECORD) {
            Ok(record) => Ok(record),
            Err(strict) => crate::newer::read(&self.signed, &strict).ok_or(RecordError::Signed(strict)),
        }
    }

    /// Verifies the signature over the received bytes, then decodes and
    /// validates. The order matters: nothing unsigned is ever parsed deeply.
    pub fn open(self) -> Result<Verified, RecordError> {
        let record = self.record_unverified()?;
        if !record.header.author.verify(RECORD_DOMAIN, &self.signed, &self.sig) {
            return Err(RecordError::BadSignature);
        }
        record.validate()?;
        Ok(Verified { id: self.id(), record, envelope: self })
    }
}

/// Decodes and verifies many envelopes at once. Signatures are checked with
/// ed25519 batch verification (about twice as fast per signature); if the
/// batch fails, each is checked on its own so that one bad record never
/// poisons the others. Results are in input order.
///
/// Batch verification uses the cofactored equation and single verification
/// the strict one; they differ only on signatures an author deliberately built
/// with torsion components, which can only make that author's own record be
/// accepted by some nodes and refused by others. Weak keys are refused either way.
pub fn open_batch(envelopes: Vec<Envelope>) -> Vec<Result<Verified, RecordError>> {
    // Decompressing a public key costs a third of a verification; a batch
    // usually holds many records of few authors.
    let mut vks = std::collections::HashMap::new();
    let decoded: Vec<Result<(Record, ed25519_dalek::VerifyingKey), RecordError>> = envelopes
        .iter()
        .map(|env| {
            let record = env.record_unverified()?;
            let author = record.header.author;
            let vk = match vks.get(&author) {
                Some(vk) => *vk,
                None => {
                    let vk = author.verifying_key().map_err(|_| RecordError::BadSignature)?;
                    vks.insert(author, vk);
                    vk
                }
            };
            Ok((record, vk))
        })
        .collect();
    // Envelopes verified moments ago (the same bytes offered by several
    // peers at once) need no second verification: it is a pure function of
    // the bytes, remembered exactly (signed bytes and signature).
    let seen: Vec<Option<[u8; 32]>> = envelopes.iter().map(verified_before).collect();
    let mut msgs = Vec::with_capacity(envelopes.len());
    let mut sigs = Vec::with_capacity(envelopes.len());
    let mut keys = Vec::with_capacity(envelopes.len());
    for ((env, dec), seen) in envelopes.iter().zip(&decoded).zip(&seen) {
        if let (Ok((_, vk)), Some(_)) = (dec, seen) {
            msgs.push(crate::keys::prefixed(RECORD_DOMAIN, &env.signed));
            sigs.push(ed25519_dalek::Signature::from_bytes(&env.sig.0));
            keys.push(*vk);
        }
    }
    let refs: Vec<&[u8]> = msgs.iter().map(Vec::as_slice).collect();
    let batch_ok = refs.is_empty() || ed25519_dalek::verify_batch(&refs, &sigs, &keys).is_ok();
    envelopes
        .into_iter()
        .zip(decoded)
        .zip(seen)
        .map(|((env, dec), seen)| {
            let (record, _) = dec?;
            if let Some(digest) = seen {
                if !batch_ok && !record.header.author.verify(RECORD_DOMAIN, &env.signed, &env.sig) {
                    return Err(RecordError::BadSignature);
                }
                remember_verified(digest);
            }
            record.validate()?;
            Ok(Verified { id: env.id(), record, envelope: env })
        })
        .collect()
}

/// Envelopes whose signatures verified lately, by BLAKE3 of signed bytes
/// and signature. Bounded; cleared when full.
static VERIFIED: std::sync::Mutex<Option<std::collections::HashSet<[u8; 32]>>> = std::sync::Mutex::new(None);
const VERIFIED_MAX: usize = 65_536;

/// `None` if this exact envelope verified lately; else its digest, to
/// remember once it verifies.
fn verified_before(env: &Envelope) -> Option<[u8; 32]> {
    let mut h = blake3::Hasher::new();
    h.update(&env.signed);
    h.update(&env.sig.0);
    let digest = *h.finalize().as_bytes();
    let cache = VERIFIED.lock().unwrap_or_else(|e| e.into_inner());
    if cache.as_ref().is_some_and(|c| c.contains(&digest)) { None } else { Some(digest) }
}

fn remember_verified(digest: [u8; 32]) {
    let mut cache = VERIFIED.lock().unwrap_or_else(|e| e.into_inner());
    let cache = cache.get_or_insert_with(Default::default);
    if cache.len() >= VERIFIED_MAX {
        cache.clear();
    }
    cache.insert(digest);
}
