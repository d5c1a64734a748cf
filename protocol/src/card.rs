//! Member cards: what an agency hands its coordinators so they can list it.
//!
//! A card holds only public facts (id, name, country, public key, address
//! hints) and is signed by the key it names, so a typo or a swapped key
//! fails the check instead of entering a trust list. A card that asks to
//! replace an earlier key (a rotation) is also signed by that earlier key
//! when the agency still has it; after a theft it may not, and coordinators
//! confirm out of band (docs/operations.md, "Key compromise drill").

use serde::{Deserialize, Serialize};

use crate::{
    AgencyKey, CborError, Channel, Country, Keypair, Member, MemberId, MemberRole, Sig, cbor,
    limits::{MAX_LIST_ITEMS, MAX_SHORT_BYTES},
};

/// Domain-separation prefix of card signatures.
pub const CARD_DOMAIN: &[u8] = b"kawan/card/v1";

/// The facts on a card, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CardBody {
    pub id: MemberId,
    pub name: String,
    pub country: Country,
    pub key: AgencyKey,
    /// Multiaddr hints for reaching the agency's node.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addrs: Vec<String>,
    /// For a rotation: the key this one replaces, and how its use ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<Replaces>,
}

/// A rotation request: which key retires, from when, and where each of its
/// logs ends (so nothing it signs later, whatever time it claims, is valid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replaces {
    pub key: AgencyKey,
    /// Records the old key signed after this instant (Unix ms) are void.
    pub until_ms: u64,
    /// The last record of each of the old key's logs that stays valid.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub last_seqs: Vec<LogEnd>,
    /// The old key was stolen or lost (not a routine rotation).
    #[serde(default)]
    pub compromised: bool,
}

/// The last valid record of one of a key's logs.
///
/// With `id`, the end is anchored: the key's valid records on this channel
/// are that record and its ancestors through `prev`, and nothing else in
/// those slots, whatever it claims (docs/protocol.md §3). Without it (lists
/// made before anchoring), only the position bounds the log.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogEnd {
    pub channel: Channel,
    pub seq: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<crate::RecordId>,
}

/// A card as exchanged: the body, the signature of the key it names, and,
/// for a rotation, the replaced key's signature if the agency still has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    pub card: CardBody,
    pub sig: Sig,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_key_sig: Option<Sig>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error("the card's signature does not match its key: the card was altered or mistyped")]
    BadSignature,
    #[error("the replaced key's signature on the card does not verify")]
    BadOldKeySignature,
    #[error("the card's key is not a usable ed25519 key")]
    BadKey,
    #[error("the card's {0} is empty or too long")]
    Field(&'static str),
    #[error("cannot encode the card: {0}")]
    Encode(CborError),
}

impl CardBody {
    fn signed_bytes(&self) -> Result<Vec<u8>, CardError> {
        cbor::encode(self).map_err(CardError::Encode)
    }

    /// The trust-list entry for this agency.
    pub fn member(&self, coordinator: bool) -> Member {
        Member {
            id: self.id.clone(),
            name: self.name.clone(),
            country: self.country,
            key: self.key,
            roles: if coordinator {
                vec![MemberRole::Coordinator, MemberRole::Member]
            } else {
                vec![MemberRole::Member]
            },
            addrs: self.addrs.clone(),
            expires_ms: None,
            key_from_ms: None,
            retired_keys: vec![],
        }
    }
}

impl Card {
    /// Signs `body` with `key`, which must be the key it names, and with
    /// `old` (the replaced key) when the body asks for a rotation.
    pub fn sign(body: CardBody, key: &Keypair, old: Option<&Keypair>) -> Result<Card, CardError> {
        let bytes = body.signed_bytes()?;
        let sig = key.sign(CARD_DOMAIN, &bytes);
        let old_key_sig = old.map(|o| o.sign(CARD_DOMAIN, &bytes));
        Ok(Card { card: body, sig, old_key_sig })
    }

    /// The body, if the card is intact: well-formed fields, signed by its
    /// own key (and by the replaced key, when that signature is present).
    pub fn check(&self) -> Result<&CardBody, CardError> {
        let b = &self.card;
        if b.name.trim().is_empty() || b.name.len() > MAX_SHORT_BYTES {
            return Err(CardError::Field("name"));
        }
        if b.addrs.len() > MAX_LIST_ITEMS || b.addrs.iter().any(|a| a.len() > MAX_SHORT_BYTES) {
            return Err(CardError::Field("address list"));
        }
        if b.replaces.as_ref().is_some_and(|r| r.last_seqs.len() > MAX_LIST_ITEMS) {
            return Err(CardError::Field("log ends"));
        }
        b.key.verifying_key().map_err(|_| CardError::BadKey)?;
        let bytes = b.signed_bytes()?;
        if !b.key.verify(CARD_DOMAIN, &bytes, &self.sig) {
            return Err(CardError::BadSignature);
        }
        if let (Some(r), Some(sig)) = (&b.replaces, &self.old_key_sig)
            && !r.key.verify(CARD_DOMAIN, &bytes, sig)
        {
            return Err(CardError::BadOldKeySignature);
        }
        Ok(b)
    }

    /// Whether the replaced key signed the card too.
    pub fn signed_by_old_key(&self) -> bool {
        self.old_key_sig.is_some() && self.check().is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(key: &Keypair) -> CardBody {
        CardBody {
            id: MemberId::new("kh-acu").unwrap(),
            name: "Cambodia Anti-Cybercrime Unit".into(),
            country: "KH".parse().unwrap(),
            key: key.public(),
            addrs: vec!["/ip4/192.0.2.10/tcp/7701".into()],
            replaces: None,
        }
    }

    #[test]
    fn a_card_checks_only_as_signed() {
        let key = Keypair::from_secret_bytes([3; 32]);
        let card = Card::sign(body(&key), &key, None).unwrap();
        assert_eq!(card.check().unwrap().name, "Cambodia Anti-Cybercrime Unit");

        let mut typo = card.clone();
        typo.card.name = "Cambodia Anti-Cybercrime Unti".into();
        assert_eq!(typo.check(), Err(CardError::BadSignature));

        let other = Keypair::from_secret_bytes([4; 32]);
        let mut swapped = card.clone();
        swapped.card.key = other.public();
        assert_eq!(swapped.check(), Err(CardError::BadSignature));
    }

    #[test]
    fn a_rotation_card_is_signed_by_both_keys_when_the_old_one_is_at_hand() {
        let old = Keypair::from_secret_bytes([3; 32]);
        let new = Keypair::from_secret_bytes([5; 32]);
        let mut b = body(&new);
        b.replaces = Some(Replaces { key: old.public(), until_ms: 10, last_seqs: vec![], compromised: false });
        let card = Card::sign(b.clone(), &new, Some(&old)).unwrap();
        assert!(card.signed_by_old_key());
        let forged = Card::sign(b, &new, Some(&Keypair::from_secret_bytes([9; 32]))).unwrap();
        assert_eq!(forged.check(), Err(CardError::BadOldKeySignature));
    }
}
