//! Kawan's data model and wire format: signed records, indicator
//! normalisation, TLP channels, trust lists and sync messages.
//!
//! Pure: no I/O, no async, no clock. Everything here is deterministic so that
//! two implementations (or two versions of this one) agree byte for byte;
//! docs/protocol.md is the specification and its test vectors are checked by
//! this crate's tests.
//!
//! # Layout
//!
//! - `record`: the signed envelope, header, record id, batch verification
//! - `body`: indicator, typology, technique, sighting, revision, retraction, referral
//! - `family`: the record families as one type, from which every list of
//!   families derives
//! - `cbor`: canonical CBOR with bounded decoding
//! - `limits`: every size bound untrusted bytes are held to
//! - `keys`: agency keys, signatures, record ids
//! - `normalize/`: one normal form per indicator kind (one file per family)
//! - `tlp`: TLP levels, channels, group and network ids
//! - `trust`: trust lists and the rules for accepting a new version; key
//!   windows (rotation, compromise cutoffs)
//! - `card`: member cards agencies hand their coordinators
//! - `sync`: the messages peers exchange to catch up
//! - `newer`: records of a newer kind than this node reads (kept, relayed,
//!   never interpreted)
//! - `deconflict`: private hit/no-hit between agencies (an oblivious PRF
//!   and a binary fuse filter), and the follow-up contact messages
//! - `processing`: handling codes, evaluations, review dates and the
//!   network's retention policy
//! - `country`: ISO 3166 codes

#![forbid(unsafe_code)]

pub mod attachment;
pub mod body;
pub mod bundle;
pub mod card;
pub mod cbor;
pub mod country;
pub mod decay;
pub mod deconflict;
pub mod extract;
pub mod family;
pub mod keys;
pub mod limits;
pub mod newer;
pub mod normalize;
pub mod processing;
pub mod proposal;
pub mod record;
pub mod sync;
pub mod tlp;
pub mod trust;

pub use body::{
    Answer, AuditCheckpoint, Basis, Body, Content, Difficulty, Erasure, Indicator, IndicatorRole, InfoRequest,
    NamedValue, Priority, Referral, ReferralStatus, ReferralSubject, RequestStatus, RequestType, Retraction, Revision,
    Sighting, Stage, Subject, Technique, Typology, Verdict,
};
pub use bundle::{Bundle, BundleError};
pub use card::{Card, CardBody, CardError, LogEnd, Replaces};
pub use cbor::CborError;
pub use country::{Country, UnknownCountry};
pub use decay::{DecayPolicy, Evidence};
pub use family::{Family, UnknownFamily};
pub use keys::{AgencyKey, KeyError, Keypair, RecordId, Sig};
pub use newer::{Newer, Unknown};
pub use normalize::{Context, Kind, NormalizeError, Normalized, Reason, Warning, normalize};
pub use processing::{Assessment, Evaluation, Handling, Reliability, Retention, RetentionRule};
pub use record::{Envelope, Header, RECORD_DOMAIN, Record, RecordError, Verified, open_batch};
pub use sync::{ChannelHeads, GoneSlot, Head, LogIds, Message, Want};
pub use tlp::{Channel, GroupId, MemberId, NetworkId, SlugError, Tlp};
pub use trust::{
    Group, Member, MemberRole, Membership, RetiredKey, SignedTrustList, TrustError, TrustList, Void, chain_to_bytes,
    lists_from_bytes,
};
