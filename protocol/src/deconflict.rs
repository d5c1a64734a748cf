//! Deconfliction: private hit/no-hit between agencies (docs/protocol.md §7).
//!
//! A holder keeps an oblivious-PRF key per epoch (RFC 9497, VOPRF mode,
//! ristretto255) and publishes, signed, a binary fuse filter of the PRF
//! outputs of the values it makes deconflictable. An asker blinds a value,
//! the holder evaluates the blinded element (and proves it used the key
//! named in its filter notice), the asker unblinds and looks the output up
//! in the filter. The holder sees only uniformly random group elements; the
//! asker learns one bit per value, and can test no value without asking
//! (the filter holds PRF outputs, not values), so every test is one signed,
//! rate-limited, audited evaluation at the holder.
//!
//! A hit is followed up in the open: a signed [`ContactRequest`] names the
//! value, and the holder's analysts answer with a signed [`ContactAnswer`].
//!
//! Pure: the caller supplies randomness and the time.

use rand_core::{CryptoRng, RngCore};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_bytes::ByteBuf;
use voprf::{BlindedElement, EvaluationElement, Group as _, Proof, Ristretto255, VoprfClient, VoprfServer};
use xorf::{BinaryFuse16, Descriptor, Filter as _};

use crate::{
    AgencyKey, CborError, Keypair, Kind, NetworkId, Sig, cbor,
    limits::{Bounds, MAX_SHORT_BYTES, MAX_TEXT_BYTES},
};

/// Domain-separation prefixes of the signed messages.
pub const FILTER_DOMAIN: &[u8] = b"kawan/deconflict/filter/v1";
pub const EVAL_DOMAIN: &[u8] = b"kawan/deconflict/eval/v1";
pub const CONTACT_DOMAIN: &[u8] = b"kawan/deconflict/contact/v1";
pub const ANSWER_DOMAIN: &[u8] = b"kawan/deconflict/answer/v1";
/// The OPRF key's derivation label (with the network and the epoch).
const KEY_INFO: &[u8] = b"kawan/deconflict/key/v1";

/// Values in one evaluation request: a case's worth.
pub const MAX_VALUES_PER_REQUEST: usize = 1_000;
/// A ristretto255 element, as sent.
pub const ELEMENT_BYTES: usize = 32;
/// A filter's fingerprints: room for 1.3 M values at 16 bits each.
pub const MAX_FILTER_BYTES: usize = 3 * 1024 * 1024;
/// One deconfliction message.
pub const MAX_MESSAGE_BYTES: usize = 4 * 1024 * 1024;
/// How far a request's time may be from the holder's clock.
pub const REQUEST_WINDOW_MS: u64 = 5 * 60 * 1000;

/// Bounds for every deconfliction message and signed body.
pub const BOUNDS: Bounds =
    Bounds { max_bytes: MAX_MESSAGE_BYTES, max_string: MAX_FILTER_BYTES, max_items: 64, max_depth: 6 };

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeconflictError {
    #[error("malformed deconfliction message: {0}")]
    Cbor(#[from] CborError),
    #[error("the signature does not verify: the message was altered or not signed by {0}")]
    BadSignature(&'static str),
    #[error("the OPRF rejected its input: {0}")]
    Oprf(String),
    #[error("{count} values in one request; at most {MAX_VALUES_PER_REQUEST}")]
    TooManyValues { count: usize },
    #[error("blinded or evaluated elements must be a whole number of {ELEMENT_BYTES}-byte elements")]
    Elements,
    #[error("the evaluation's proof does not verify against the holder's published key")]
    Proof,
    #[error("malformed filter: {0}")]
    Filter(&'static str),
    #[error("{0} is empty or too long")]
    Field(&'static str),
}

/// The epoch an instant falls in.
pub fn epoch_of(now_ms: u64, epoch_ms: u64) -> u64 {
    now_ms / epoch_ms.max(1)
}

/// What the PRF is computed over: the kind and the normal form, so a phone
/// number and a handle with the same characters never meet.
pub fn oprf_input(kind: Kind, normal: &str) -> Vec<u8> {
    let mut v = Vec::with_capacity(kind.as_str().len() + 1 + normal.len());
    v.extend_from_slice(kind.as_str().as_bytes());
    v.push(0);
    v.extend_from_slice(normal.as_bytes());
    v
}

/// A PRF output, reduced to the 64-bit key a filter holds.
fn tag_of(output: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&output[..8]);
    u64::from_le_bytes(b)
}

fn oprf(e: voprf::Error) -> DeconflictError {
    DeconflictError::Oprf(format!("{e:?}"))
}

/// A holder's OPRF key for one filter: one epoch and one version of what
/// it holds, derived from the holder's secret. Nothing per key needs
/// storing; and because a new filter version has a new key, an asker's
/// evaluated values from before say nothing about the new filter: to test
/// them again it must ask again, metered and in the holder's log (it
/// cannot watch a holder open a case on a number unseen).
pub struct HolderKey(VoprfServer<Ristretto255>);

impl HolderKey {
    pub fn derive(
        secret: &[u8; 32],
        network: &NetworkId,
        epoch: u64,
        version: u64,
    ) -> Result<HolderKey, DeconflictError> {
        let mut info = KEY_INFO.to_vec();
        info.extend_from_slice(network.as_str().as_bytes());
        info.push(0);
        info.extend_from_slice(&epoch.to_be_bytes());
        info.extend_from_slice(&version.to_be_bytes());
        VoprfServer::new_from_seed(secret, &info).map(HolderKey).map_err(oprf)
    }

    /// The public key the holder's evaluations are proved against.
    pub fn public(&self) -> [u8; ELEMENT_BYTES] {
        Ristretto255::serialize_elem(self.0.get_public_key()).into()
    }

    /// The filter key of one of the holder's own values.
    pub fn tag(&self, input: &[u8]) -> Result<u64, DeconflictError> {
        self.0.evaluate(input).map(|o| tag_of(&o)).map_err(oprf)
    }

    /// The filter keys of many values, on every core (a filter of a million
    /// values costs a million PRF evaluations).
    pub fn tags(&self, inputs: &[Vec<u8>]) -> Result<Vec<u64>, DeconflictError> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(16);
        if inputs.len() < 1024 || threads == 1 {
            return inputs.iter().map(|i| self.tag(i)).collect();
        }
        let chunk = inputs.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let parts: Vec<_> = inputs
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(|i| self.tag(i)).collect::<Result<Vec<_>, _>>()))
                .collect();
            let mut out = Vec::with_capacity(inputs.len());
            for p in parts {
                out.extend(p.join().map_err(|_| DeconflictError::Oprf("a worker panicked".into()))??);
            }
            Ok(out)
        })
    }

    /// Evaluates blinded elements (concatenated) and proves it used this key.
    pub fn evaluate<R: RngCore + CryptoRng>(
        &self,
        blinded: &[u8],
        rng: &mut R,
    ) -> Result<(Vec<u8>, Vec<u8>), DeconflictError> {
        let elements = split(blinded)?
            .map(|b| BlindedElement::<Ristretto255>::deserialize(b).map_err(oprf))
            .collect::<Result<Vec<_>, _>>()?;
        let result = self.0.batch_blind_evaluate(rng, &elements).map_err(oprf)?;
        let mut out = Vec::with_capacity(blinded.len());
        for m in &result.messages {
            out.extend_from_slice(&m.serialize());
        }
        Ok((out, result.proof.serialize().to_vec()))
    }
}

fn split(bytes: &[u8]) -> Result<std::slice::ChunksExact<'_, u8>, DeconflictError> {
    if bytes.is_empty() || !bytes.len().is_multiple_of(ELEMENT_BYTES) {
        return Err(DeconflictError::Elements);
    }
    let count = bytes.len() / ELEMENT_BYTES;
    if count > MAX_VALUES_PER_REQUEST {
        return Err(DeconflictError::TooManyValues { count });
    }
    Ok(bytes.chunks_exact(ELEMENT_BYTES))
}

/// The asker's half: values blinded for one holder (fresh blinds per
/// holder, so two holders cannot link one question).
pub struct Blinded {
    states: Vec<VoprfClient<Ristretto255>>,
    /// The blinded elements, concatenated, as sent.
    pub elements: Vec<u8>,
}

impl Blinded {
    pub fn new<R: RngCore + CryptoRng>(inputs: &[Vec<u8>], rng: &mut R) -> Result<Blinded, DeconflictError> {
        if inputs.len() > MAX_VALUES_PER_REQUEST {
            return Err(DeconflictError::TooManyValues { count: inputs.len() });
        }
        let mut states = Vec::with_capacity(inputs.len());
        let mut elements = Vec::with_capacity(inputs.len() * ELEMENT_BYTES);
        for input in inputs {
            let b = VoprfClient::<Ristretto255>::blind(input, rng).map_err(oprf)?;
            elements.extend_from_slice(&b.message.serialize());
            states.push(b.state);
        }
        Ok(Blinded { states, elements })
    }

    /// Unblinds the holder's answer (after checking its proof against the
    /// holder's published key) into the filter keys of `inputs`.
    pub fn finish(
        &self,
        inputs: &[Vec<u8>],
        evaluated: &[u8],
        proof: &[u8],
        public: &[u8],
    ) -> Result<Vec<u64>, DeconflictError> {
        let messages = split(evaluated)?
            .map(|e| EvaluationElement::<Ristretto255>::deserialize(e).map_err(oprf))
            .collect::<Result<Vec<_>, _>>()?;
        if messages.len() != self.states.len() || inputs.len() != self.states.len() {
            return Err(DeconflictError::Elements);
        }
        let proof = Proof::<Ristretto255>::deserialize(proof).map_err(|_| DeconflictError::Proof)?;
        let pk = Ristretto255::deserialize_elem(public).map_err(|_| DeconflictError::Proof)?;
        let inputs: Vec<&[u8]> = inputs.iter().map(Vec::as_slice).collect();
        let outputs = VoprfClient::batch_finalize(&inputs, &self.states, &messages, &proof, pk)
            .map_err(|_| DeconflictError::Proof)?;
        outputs.map(|o| o.map(|o| tag_of(&o)).map_err(|_| DeconflictError::Proof)).collect()
    }
}

/// A set of PRF outputs, as a binary fuse filter with 16-bit fingerprints
/// (~18 bits a value, a false hit 1 in 65,536).
#[derive(Debug, Clone)]
pub enum Filter {
    Empty,
    Fuse16(BinaryFuse16),
}

/// A filter as sent. Every field is checked before a lookup can index
/// with it (a peer's filter must not be able to panic the node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterBytes {
    /// 0 (empty) or 16 (8-bit filters are refused: too many false hits).
    pub bits: u8,
    pub seed: u64,
    pub segment_length: u32,
    pub segment_length_mask: u32,
    pub segment_count_length: u32,
    pub fingerprints: ByteBuf,
}

impl Filter {
    /// Builds the filter of `tags` (duplicates allowed).
    pub fn build(mut tags: Vec<u64>) -> Result<Filter, DeconflictError> {
        tags.sort_unstable();
        tags.dedup();
        if tags.is_empty() {
            return Ok(Filter::Empty);
        }
        // 16-bit fingerprints at every size: a false hit (1 in 65,536 per
        // value) leads an analyst to a contact request that discloses the
        // value to an agency that holds nothing, so 8 bits (1 in 256) is
        // never worth the smaller filter.
        BinaryFuse16::try_from(&tags).map(Filter::Fuse16).map_err(DeconflictError::Filter)
    }

    pub fn contains(&self, tag: u64) -> bool {
        match self {
            Filter::Empty => false,
            Filter::Fuse16(f) => f.contains(&tag),
        }
    }

    /// Bytes of fingerprints (what the filter costs to send).
    pub fn size_bytes(&self) -> usize {
        match self {
            Filter::Empty => 0,
            Filter::Fuse16(f) => f.fingerprints.len() * 2,
        }
    }

    pub fn to_wire(&self) -> FilterBytes {
        let (bits, d, fingerprints) = match self {
            Filter::Empty => (0, None, vec![]),
            Filter::Fuse16(f) => {
                (16, Some(&f.descriptor), f.fingerprints.iter().flat_map(|x| x.to_le_bytes()).collect())
            }
        };
        FilterBytes {
            bits,
            seed: d.map_or(0, |d| d.seed),
            segment_length: d.map_or(0, |d| d.segment_length),
            segment_length_mask: d.map_or(0, |d| d.segment_length_mask),
            segment_count_length: d.map_or(0, |d| d.segment_count_length),
            fingerprints: ByteBuf::from(fingerprints),
        }
    }

    /// Reads a peer's filter. A lookup touches fingerprints at
    /// `h0 < segment_count_length` and at most two segments beyond it, so
    /// those bounds are what is checked.
    pub fn from_wire(w: &FilterBytes) -> Result<Filter, DeconflictError> {
        let width = match w.bits {
            0 if w.fingerprints.is_empty() => return Ok(Filter::Empty),
            16 => 2usize,
            _ => return Err(DeconflictError::Filter("fingerprints must be 16 bits")),
        };
        let (len, count_len) = (w.segment_length, w.segment_count_length);
        if !len.is_power_of_two() || len > 1 << 18 || w.segment_length_mask != len - 1 {
            return Err(DeconflictError::Filter("segment length"));
        }
        if count_len == 0 || !count_len.is_multiple_of(len) {
            return Err(DeconflictError::Filter("segment count"));
        }
        let slots = w.fingerprints.len() / width;
        if !w.fingerprints.len().is_multiple_of(width)
            || (count_len as u64 + 2 * len as u64) > slots as u64
            || count_len as u64 + 3 * len as u64 > u32::MAX as u64
        {
            return Err(DeconflictError::Filter("fingerprints do not cover the segments"));
        }
        let descriptor = Descriptor {
            seed: w.seed,
            segment_length: len,
            segment_length_mask: w.segment_length_mask,
            segment_count_length: count_len,
        };
        let fingerprints = w.fingerprints.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect();
        Ok(Filter::Fuse16(BinaryFuse16 { descriptor, fingerprints }))
    }
}

/// A body and its signer's signature over `domain || body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signed {
    pub body: ByteBuf,
    pub sig: Sig,
}

/// A body that names the key that must have signed it.
pub trait SignedBody: Serialize + DeserializeOwned {
    const DOMAIN: &'static [u8];
    fn signer(&self) -> AgencyKey;
}

impl Signed {
    pub fn sign<T: SignedBody>(body: &T, key: &Keypair) -> Result<Signed, DeconflictError> {
        let bytes = cbor::encode(body)?;
        Ok(Signed { sig: key.sign(T::DOMAIN, &bytes), body: ByteBuf::from(bytes) })
    }

    /// The body, if well-formed and signed by the key it names.
    pub fn open<T: SignedBody>(&self) -> Result<T, DeconflictError> {
        let body: T = cbor::decode(&self.body, &BOUNDS)?;
        if !body.signer().verify(T::DOMAIN, &self.body, &self.sig) {
            return Err(DeconflictError::BadSignature(std::any::type_name::<T>().rsplit("::").next().unwrap_or("")));
        }
        Ok(body)
    }
}

/// What a holder publishes for an epoch: its OPRF public key and filter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterNotice {
    pub network: NetworkId,
    pub holder: AgencyKey,
    pub epoch: u64,
    /// The epoch's length, so the asker knows when to fetch again.
    pub epoch_ms: u64,
    pub public: ByteBuf,
    /// Grows whenever the deconflictable set changes.
    pub version: u64,
    /// Where a follow-up goes (a duty desk, an address): shown on a hit.
    pub contact: String,
    pub filter: FilterBytes,
}

impl SignedBody for FilterNotice {
    const DOMAIN: &'static [u8] = FILTER_DOMAIN;
    fn signer(&self) -> AgencyKey {
        self.holder
    }
}

/// "Evaluate these blinded values for me", signed by the asking agency,
/// with why, so the holder can bound and log it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalRequest {
    pub network: NetworkId,
    pub asker: AgencyKey,
    pub holder: AgencyKey,
    pub epoch: u64,
    pub created_ms: u64,
    /// Random; a holder refuses a nonce it has seen (replay).
    pub nonce: ByteBuf,
    /// The version of the holder's filter the asker holds: the holder
    /// evaluates only with the key of its current version.
    pub version: u64,
    pub purpose: String,
    /// The asker's case reference as a keyed hash for this holder (hex):
    /// the asker can match the holder's log to its case later, the holder
    /// learns no reference, and two holders cannot link their logs by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_tag: Option<String>,
    /// The asking analyst (token name), for the holder's log.
    pub analyst: String,
    pub blinded: ByteBuf,
}

impl SignedBody for EvalRequest {
    const DOMAIN: &'static [u8] = EVAL_DOMAIN;
    fn signer(&self) -> AgencyKey {
        self.asker
    }
}

impl EvalRequest {
    /// Field checks (the signature is checked by [`Signed::open`]).
    pub fn check(&self) -> Result<usize, DeconflictError> {
        field("purpose", &self.purpose, MAX_SHORT_BYTES)?;
        field("analyst", &self.analyst, MAX_SHORT_BYTES)?;
        if self.case_tag.as_ref().is_some_and(|c| c.len() != 32 || !c.bytes().all(|b| b.is_ascii_hexdigit())) {
            return Err(DeconflictError::Field("case tag"));
        }
        if self.nonce.len() != 16 {
            return Err(DeconflictError::Field("nonce"));
        }
        Ok(split(&self.blinded)?.len())
    }
}

fn field(name: &'static str, v: &str, max: usize) -> Result<(), DeconflictError> {
    if v.trim().is_empty() || v.len() > max { Err(DeconflictError::Field(name)) } else { Ok(()) }
}

/// A follow-up on a hit: the asker discloses the value and asks to talk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactRequest {
    pub network: NetworkId,
    pub asker: AgencyKey,
    pub holder: AgencyKey,
    /// Random, hex; the answer names it.
    pub id: String,
    pub created_ms: u64,
    pub kind: Kind,
    pub value: String,
    pub purpose: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_ref: Option<String>,
    pub analyst: String,
    pub message: String,
}

impl SignedBody for ContactRequest {
    const DOMAIN: &'static [u8] = CONTACT_DOMAIN;
    fn signer(&self) -> AgencyKey {
        self.asker
    }
}

impl ContactRequest {
    pub fn check(&self) -> Result<(), DeconflictError> {
        field("id", &self.id, 64)?;
        field("value", &self.value, MAX_SHORT_BYTES * 8)?;
        field("purpose", &self.purpose, MAX_SHORT_BYTES)?;
        field("analyst", &self.analyst, MAX_SHORT_BYTES)?;
        if self.message.len() > MAX_TEXT_BYTES {
            return Err(DeconflictError::Field("message"));
        }
        Ok(())
    }
}

/// The holder's answer to a contact request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactAnswer {
    pub network: NetworkId,
    pub holder: AgencyKey,
    pub asker: AgencyKey,
    pub request: String,
    pub created_ms: u64,
    pub accepted: bool,
    /// Who to talk to (accepted only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    pub message: String,
    pub analyst: String,
}

impl SignedBody for ContactAnswer {
    const DOMAIN: &'static [u8] = ANSWER_DOMAIN;
    fn signer(&self) -> AgencyKey {
        self.holder
    }
}

impl ContactAnswer {
    pub fn check(&self) -> Result<(), DeconflictError> {
        field("request", &self.request, 64)?;
        field("analyst", &self.analyst, MAX_SHORT_BYTES)?;
        if self.message.len() > MAX_TEXT_BYTES || self.contact.as_ref().is_some_and(|c| c.len() > MAX_TEXT_BYTES) {
            return Err(DeconflictError::Field("message"));
        }
        Ok(())
    }
}

/// What an asker sends a holder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// The holder's filter notice for its current epoch.
    Filter,
    /// A signed [`EvalRequest`].
    Evaluate(Signed),
    /// A signed [`ContactRequest`].
    Contact(Signed),
    /// A signed [`ContactAnswer`] (holder to asker).
    Answer(Signed),
}

/// What comes back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    /// A signed [`FilterNotice`].
    Filter(Signed),
    Evaluated {
        epoch: u64,
        elements: ByteBuf,
        proof: ByteBuf,
        /// The holder's filter version now: newer than the asker's copy
        /// means fetch the filter again before looking up.
        version: u64,
    },
    /// A contact request or answer was received and kept.
    Received,
    Refused(Refusal),
}

/// Why a holder did not answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum Refusal {
    #[error("this agency does not answer deconfliction requests")]
    Disabled,
    #[error("the asker is not an active member of the network")]
    NotMember,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("this request was already answered (replayed)")]
    Replayed,
    #[error("the request's time is more than 5 minutes from the holder's clock")]
    Stale,
    #[error("epoch {asked} has ended (now {current}): fetch the filter again")]
    EpochExpired { asked: u64, current: u64 },
    #[error("rate limit: at most {per_hour} values an hour from one agency; try again in {retry_after_s} s")]
    RateLimited { per_hour: u64, retry_after_s: u64 },
    #[error(
        "a question of {count} values is more than this holder answers from one agency in an hour ({per_hour}): split it"
    )]
    TooLarge { count: u64, per_hour: u64 },
    #[error(
        "this holder is answering all the values an hour it answers from all members together; try again in {retry_after_s} s"
    )]
    Busy { retry_after_s: u64 },
    #[error("the holder's filter changed (now version {version}): fetch it again")]
    FilterChanged { version: u64 },
    #[error("rate limit: at most {per_hour} {what} an hour from one agency; try again in {retry_after_s} s")]
    TooOften { what: String, per_hour: u64, retry_after_s: u64 },
}

impl Refusal {
    /// A short, stable code: the holder's audit entries start with it
    /// (docs/protocol.md §7).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Disabled => "disabled",
            Refusal::NotMember => "not_member",
            Refusal::BadRequest(_) => "bad_request",
            Refusal::Replayed => "replayed",
            Refusal::Stale => "stale",
            Refusal::EpochExpired { .. } => "epoch_expired",
            Refusal::RateLimited { .. } => "rate_limited",
            Refusal::TooLarge { .. } => "too_large",
            Refusal::Busy { .. } => "busy",
            Refusal::FilterChanged { .. } => "filter_changed",
            Refusal::TooOften { .. } => "too_often",
        }
    }
}

impl Request {
    pub fn to_bytes(&self) -> Result<Vec<u8>, DeconflictError> {
        Ok(cbor::encode(self)?)
    }
    pub fn from_bytes(bytes: &[u8]) -> Result<Request, DeconflictError> {
        Ok(cbor::decode(bytes, &BOUNDS)?)
    }
}

impl Response {
    pub fn to_bytes(&self) -> Result<Vec<u8>, DeconflictError> {
        Ok(cbor::encode(self)?)
    }
    pub fn from_bytes(bytes: &[u8]) -> Result<Response, DeconflictError> {
        Ok(cbor::decode(bytes, &BOUNDS)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic RNG for tests (not for use anywhere else).
    struct Counter(u64);
    impl RngCore for Counter {
        fn next_u32(&mut self) -> u32 {
            self.next_u64() as u32
        }
        fn next_u64(&mut self) -> u64 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            self.0
        }
        fn fill_bytes(&mut self, dest: &mut [u8]) {
            for chunk in dest.chunks_mut(8) {
                let v = self.next_u64().to_le_bytes();
                chunk.copy_from_slice(&v[..chunk.len()]);
            }
        }
        fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
            self.fill_bytes(dest);
            Ok(())
        }
    }
    impl CryptoRng for Counter {}

    fn network() -> NetworkId {
        NetworkId::new("asean-scam-osint").unwrap()
    }

    fn input(v: &str) -> Vec<u8> {
        oprf_input(Kind::Phone, v)
    }

    #[test]
    fn an_asker_finds_exactly_the_values_the_holder_put_in_its_filter() {
        let key = HolderKey::derive(&[7; 32], &network(), 20_000, 1).unwrap();
        let held = ["+447700900123", "+447700900124"];
        let filter = Filter::build(held.iter().map(|v| key.tag(&input(v)).unwrap()).collect()).unwrap();
        let filter = Filter::from_wire(&filter.to_wire()).unwrap();
        let asked: Vec<Vec<u8>> = ["+447700900124", "+447700900999"].iter().map(|v| input(v)).collect();
        let mut rng = Counter(1);
        let blinded = Blinded::new(&asked, &mut rng).unwrap();
        let (evaluated, proof) = key.evaluate(&blinded.elements, &mut rng).unwrap();
        let tags = blinded.finish(&asked, &evaluated, &proof, &key.public()).unwrap();
        assert_eq!(tags.iter().map(|t| filter.contains(*t)).collect::<Vec<_>>(), [true, false]);
    }

    #[test]
    fn an_evaluation_under_another_key_fails_its_proof() {
        let key = HolderKey::derive(&[7; 32], &network(), 20_000, 1).unwrap();
        let other = HolderKey::derive(&[7; 32], &network(), 20_001, 1).unwrap();
        assert_ne!(key.public(), other.public(), "each epoch has its own key");
        let next = HolderKey::derive(&[7; 32], &network(), 20_000, 2).unwrap();
        assert_ne!(key.public(), next.public(), "and each filter version");
        let asked = vec![input("+447700900124")];
        assert_ne!(
            key.tag(&asked[0]).unwrap(),
            next.tag(&asked[0]).unwrap(),
            "old evaluations say nothing of a new filter"
        );
        let mut rng = Counter(2);
        let blinded = Blinded::new(&asked, &mut rng).unwrap();
        let (evaluated, proof) = other.evaluate(&blinded.elements, &mut rng).unwrap();
        assert_eq!(blinded.finish(&asked, &evaluated, &proof, &key.public()), Err(DeconflictError::Proof));
    }

    #[test]
    fn blinded_elements_do_not_depend_on_the_value_alone() {
        let asked = vec![input("+447700900124")];
        let a = Blinded::new(&asked, &mut Counter(3)).unwrap();
        let b = Blinded::new(&asked, &mut Counter(4)).unwrap();
        assert_ne!(a.elements, b.elements);
    }

    #[test]
    fn malformed_filters_and_elements_are_refused_not_indexed() {
        let key = HolderKey::derive(&[1; 32], &network(), 1, 1).unwrap();
        let good = Filter::build((0..100).map(|i| key.tag(&input(&format!("+4477009001{i:02}"))).unwrap()).collect())
            .unwrap()
            .to_wire();
        let mut short = good.clone();
        short.fingerprints = ByteBuf::from(good.fingerprints[..good.fingerprints.len() / 2].to_vec());
        let mut odd_len = good.clone();
        odd_len.segment_length = 3;
        let mut huge = good.clone();
        huge.segment_count_length = u32::MAX - 1;
        let mut bits = good.clone();
        bits.bits = 12;
        let mut eight = good.clone();
        eight.bits = 8;
        for bad in [short, odd_len, huge, bits, eight] {
            assert!(matches!(Filter::from_wire(&bad), Err(DeconflictError::Filter(_))), "{bad:?}");
        }
        assert_eq!(key.evaluate(&[1; 33], &mut Counter(5)).unwrap_err(), DeconflictError::Elements);
        assert!(matches!(key.evaluate(&[0xff; 32], &mut Counter(5)), Err(DeconflictError::Oprf(_))));
        let too_many = vec![0u8; (MAX_VALUES_PER_REQUEST + 1) * ELEMENT_BYTES];
        assert!(matches!(key.evaluate(&too_many, &mut Counter(5)), Err(DeconflictError::TooManyValues { .. })));
    }

    #[test]
    fn a_signed_request_altered_after_signing_is_refused() {
        let asker = Keypair::from_secret_bytes([9; 32]);
        let req = EvalRequest {
            network: network(),
            asker: asker.public(),
            holder: Keypair::from_secret_bytes([8; 32]).public(),
            epoch: 3,
            created_ms: 1,
            nonce: ByteBuf::from(vec![0; 16]),
            version: 1,
            purpose: "case deconfliction".into(),
            case_tag: Some("0123456789abcdef0123456789abcdef".into()),
            analyst: "ana".into(),
            blinded: ByteBuf::from(vec![0; 32]),
        };
        let mut signed = Signed::sign(&req, &asker).unwrap();
        assert_eq!(signed.open::<EvalRequest>().unwrap(), req);
        let mut forged = req.clone();
        forged.purpose = "fishing".into();
        signed.body = ByteBuf::from(cbor::encode(&forged).unwrap());
        assert!(matches!(signed.open::<EvalRequest>(), Err(DeconflictError::BadSignature(_))));
    }
}
