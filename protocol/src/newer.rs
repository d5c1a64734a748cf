//! Records written by newer nodes (docs/protocol.md, "Evolving the
//! protocol"). A node keeps, relays and serves a correctly signed record it
//! cannot fully read, exactly as signed, and never interprets it: its body
//! becomes [`Body::Unknown`] and nothing else about it (indexes, exports,
//! views) is derived from fields this node does not know.
//!
//! What may arrive without a version bump: a new body family, new optional
//! fields at the top level of a known family's body, new enum values. What
//! needs one: anything older nodes must not route as they do today; such a
//! record carries header `v` > 1 and keeps the v1 header fields, which older
//! nodes still read to place it in its log and channel.

use ciborium::Value;
use serde::{
    Deserialize, Serialize,
    de::{self, Visitor},
    forward_to_deserialize_any,
};

use crate::{
    Body, Family, Header, Record, Retraction, Revision, Sighting, Technique, Typology, cbor, limits::Bounds,
    record::VERSION,
};

/// What a node that does not know a record's family, fields or values keeps
/// of its body: the family's name, and what was newer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    pub family: String,
    pub newer: Newer,
}

/// Why a record is of a newer kind than this node reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Newer {
    /// A body family this node does not know.
    Family,
    /// Fields this node does not know in a family it does.
    Fields(Vec<String>),
    /// A value of an enumeration this node does not know.
    Value,
    /// A record version above the one this node reads.
    Version(u8),
}

impl std::fmt::Display for Newer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Newer::Family => f.write_str("a record family this node does not know"),
            Newer::Fields(fields) => write!(f, "fields this node does not know ({})", fields.join(", ")),
            Newer::Value => f.write_str("a value this node does not know"),
            Newer::Version(v) => write!(f, "record version {v} (this node reads {VERSION})"),
        }
    }
}

/// What a node tells its peers it is (libp2p identify's agent version):
/// `kawan/<software> (protocol <v>; reads <family>,<family>…)`.
pub fn agent(software: &str) -> String {
    format!("kawan/{software} (protocol {VERSION}; reads {})", Family::ALL.map(Family::as_str).join(","))
}

/// The families a peer's agent string says it reads (`None`: not a Kawan
/// agent string, or one from before families were announced).
pub fn families_read(agent: &str) -> Option<Vec<&str>> {
    let reads = agent.split("reads ").nth(1)?.trim_end_matches(')');
    Some(reads.split(',').map(str::trim).filter(|f| !f.is_empty()).collect())
}

/// The wire frame of any record, newer or not.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Frame {
    header: Value,
    body: Value,
}

/// The v1 header fields, which every later version keeps.
#[derive(Deserialize)]
struct AnyHeader {
    v: u8,
    network: crate::NetworkId,
    channel: crate::Channel,
    author: crate::AgencyKey,
    seq: u64,
    prev: Option<crate::RecordId>,
    created_ms: u64,
}

/// Reads `signed` as a record of a newer kind, after a strict decode
/// failed with `strict`. `None`: not a newer record but a malformed one.
pub fn read(signed: &[u8], strict: &cbor::CborError) -> Option<Record> {
    // Canonical in the generic sense (preferred serialisation, definite
    // lengths), checked by re-encoding, like every accepted record.
    let frame: Frame = cbor::decode(signed, &Bounds::RECORD).ok()?;
    let h: AnyHeader = frame.header.deserialized().ok()?;
    if h.v == 0 {
        return None;
    }
    let header = Header {
        v: h.v,
        network: h.network,
        channel: h.channel,
        author: h.author,
        seq: h.seq,
        prev: h.prev,
        created_ms: h.created_ms,
    };
    if h.v == VERSION && frame.header.deserialized::<Header>().is_err() {
        return None; // a v1 header must be exactly v1
    }
    let Value::Map(entries) = frame.body else { return None };
    let [(Value::Text(family), fields)] = entries.as_slice() else { return None };
    let newer = if h.v > VERSION {
        Newer::Version(h.v)
    } else if let Ok(known) = family.parse::<Family>() {
        known_family(known, fields, strict)?
    } else {
        Newer::Family
    };
    Some(Record { header, body: Body::Unknown(Unknown { family: family.clone(), newer }) })
}

/// A known family that did not decode: newer if it only adds top-level
/// fields (and reads without them) or uses an enum value this node lacks.
fn known_family(family: Family, fields: &Value, strict: &cbor::CborError) -> Option<Newer> {
    let Value::Map(entries) = fields else { return None };
    let known = fields_of(family);
    let (ours, theirs): (Vec<_>, Vec<_>) =
        entries.iter().cloned().partition(|(k, _)| matches!(k, Value::Text(k) if known.contains(&k.as_str())));
    if theirs.is_empty() {
        let unknown_value = matches!(strict, cbor::CborError::Shape(m) if m.contains("unknown variant"));
        return unknown_value.then_some(Newer::Value);
    }
    let names = theirs.iter().map(|(k, _)| k.as_text().map_or_else(|| "?".to_string(), String::from)).collect();
    // Without the newer fields it must be a well-formed body of its family.
    let reduced = cbor::encode(&Value::Map(vec![(Value::Text(family.as_str().into()), Value::Map(ours))])).ok()?;
    cbor::decode::<Body>(&reduced, &Bounds::RECORD).ok()?;
    Some(Newer::Fields(names))
}

/// The top-level field names of a known family's body.
fn fields_of(family: Family) -> &'static [&'static str] {
    match family {
        Family::Indicator => struct_fields::<crate::Indicator>(),
        Family::Typology => struct_fields::<Typology>(),
        Family::Technique => struct_fields::<Technique>(),
        Family::Sighting => struct_fields::<Sighting>(),
        Family::Revision => struct_fields::<Revision>(),
        Family::Retraction => struct_fields::<Retraction>(),
        Family::Referral => struct_fields::<crate::Referral>(),
        Family::Request => struct_fields::<crate::InfoRequest>(),
        Family::Answer => struct_fields::<crate::Answer>(),
        Family::Checkpoint => struct_fields::<crate::AuditCheckpoint>(),
        Family::Erasure => struct_fields::<crate::Erasure>(),
    }
}

/// The field names serde expects for the struct `T`, asked of its
/// `Deserialize` impl (which names them when it asks for a struct).
fn struct_fields<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    let _ = T::deserialize(FieldNames(&mut fields));
    fields
}

struct FieldNames<'a>(&'a mut &'static [&'static str]);

impl<'de> de::Deserializer<'de> for FieldNames<'_> {
    type Error = de::value::Error;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(de::Error::custom("field names only"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = fields;
        Err(de::Error::custom("field names only"))
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_string_says_which_families_a_node_reads() {
        let agent = agent("0.1.0");
        assert_eq!(
            agent,
            "kawan/0.1.0 (protocol 1; reads indicator,typology,technique,sighting,revision,retraction,referral,checkpoint,erasure,request,answer)"
        );
        assert_eq!(families_read(&agent).unwrap(), Family::ALL.map(Family::as_str).to_vec());
        // An older node's string, and something that is not Kawan at all.
        assert_eq!(families_read("kawan/0.0.9 (protocol 1; reads indicator)").unwrap(), vec!["indicator"]);
        assert_eq!(families_read("rust-libp2p/0.57"), None);
    }

    #[test]
    fn every_family_names_its_fields() {
        for f in Family::ALL {
            assert!(!fields_of(f).is_empty(), "{f}: no fields");
        }
    }
}
