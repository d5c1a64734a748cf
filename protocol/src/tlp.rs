//! TLP 2.0 and the distribution channels it maps to (docs/protocol.md §2.6).

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// Traffic Light Protocol 2.0 label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Tlp {
    #[serde(rename = "clear")]
    Clear,
    #[serde(rename = "green")]
    Green,
    #[serde(rename = "amber")]
    Amber,
    #[serde(rename = "amber+strict")]
    AmberStrict,
    #[serde(rename = "red")]
    Red,
}

impl Tlp {
    pub const ALL: [Tlp; 5] = [Tlp::Clear, Tlp::Green, Tlp::Amber, Tlp::AmberStrict, Tlp::Red];

    /// The lower-case name used on the wire and in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Whether a record with this label may be sent on `channel`.
    ///
    /// CLEAR and GREEN go to the whole network; AMBER and AMBER+STRICT only to a
    /// sharing group; RED never leaves the node, so no channel accepts it.
    pub fn allows(self, channel: &Channel) -> bool {
        matches!(
            (self, channel),
            (Tlp::Clear | Tlp::Green, Channel::Network) | (Tlp::Amber | Tlp::AmberStrict, Channel::Group(_))
        )
    }
}

impl fmt::Display for Tlp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TLP:{}", self.as_str().to_ascii_uppercase())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown TLP label {0:?} (expected clear, green, amber, amber+strict or red)")]
pub struct UnknownTlp(pub String);

impl FromStr for Tlp {
    type Err = UnknownTlp;

    /// Accepts `amber`, `AMBER`, `TLP:AMBER`, `amber+strict`, `amber_strict`,
    /// and TLP 1.0's `white` (renamed CLEAR in 2.0).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_prefix("tlp:").unwrap_or(&t);
        match t {
            "clear" | "white" => Ok(Tlp::Clear),
            "green" => Ok(Tlp::Green),
            "amber" => Ok(Tlp::Amber),
            "amber+strict" | "amber_strict" | "amber-strict" => Ok(Tlp::AmberStrict),
            "red" => Ok(Tlp::Red),
            _ => Err(UnknownTlp(s.to_string())),
        }
    }
}

/// A lower-case slug: `[a-z0-9][a-z0-9._-]*`, at most 64 bytes. Used for
/// network, group and member ids so they are safe in topics, paths and keys.
fn check_slug(s: &str) -> Result<(), SlugError> {
    let ok_len = !s.is_empty() && s.len() <= 64;
    let mut chars = s.chars();
    let ok_first = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let ok_rest = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'));
    if ok_len && ok_first && ok_rest { Ok(()) } else { Err(SlugError(s.chars().take(80).collect())) }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid id {0:?}: use 1-64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")]
pub struct SlugError(pub String);

macro_rules! slug_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Result<Self, SlugError> {
                let s = s.into();
                check_slug(&s)?;
                Ok(Self(s))
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl TryFrom<String> for $name {
            type Error = SlugError;
            fn try_from(s: String) -> Result<Self, SlugError> {
                Self::new(s)
            }
        }
        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
        impl FromStr for $name {
            type Err = SlugError;
            fn from_str(s: &str) -> Result<Self, SlugError> {
                Self::new(s)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

slug_id!(
    /// The network a record or trust list belongs to (e.g. `asean-scam-osint`).
    NetworkId
);
slug_id!(
    /// A sharing group inside a network (e.g. `mekong`).
    GroupId
);
slug_id!(
    /// An agency's id inside a trust list (e.g. `th-tctsc`).
    MemberId
);

impl GroupId {
    /// A group as people type it in a form or request: `mekong` or
    /// `group:mekong`; blank means no group (the whole network).
    pub fn from_field(s: &str) -> Result<Option<GroupId>, SlugError> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        GroupId::new(s.strip_prefix("group:").unwrap_or(s)).map(Some)
    }
}

/// Where a record is distributed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Channel {
    /// Every member of the network (records spread peer to peer).
    Network,
    /// Members of one sharing group only (direct streams).
    Group(GroupId),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    #[error("unknown channel {0:?} (expected \"network\" or \"group:<id>\")")]
    Unknown(String),
    #[error("invalid group in channel: {0}")]
    Group(#[from] SlugError),
}

impl FromStr for Channel {
    type Err = ChannelError;
    fn from_str(s: &str) -> Result<Self, ChannelError> {
        if s == "network" {
            Ok(Channel::Network)
        } else if let Some(g) = s.strip_prefix("group:") {
            Ok(Channel::Group(GroupId::new(g)?))
        } else {
            Err(ChannelError::Unknown(s.chars().take(80).collect()))
        }
    }
}

impl TryFrom<String> for Channel {
    type Error = ChannelError;
    fn try_from(s: String) -> Result<Self, ChannelError> {
        s.parse()
    }
}

impl From<Channel> for String {
    fn from(c: Channel) -> String {
        c.to_string()
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Channel::Network => f.write_str("network"),
            Channel::Group(g) => write!(f, "group:{g}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tlp_maps_to_channels_as_designed() {
        assert_eq!(GroupId::from_field(" group:mekong ").unwrap(), GroupId::new("mekong").ok());
        assert_eq!(GroupId::from_field("mekong").unwrap(), GroupId::new("mekong").ok());
        assert_eq!(GroupId::from_field("  ").unwrap(), None, "blank means the whole network");
        assert!(GroupId::from_field("Not A Slug!").is_err());
        let group = Channel::Group(GroupId::new("mekong").unwrap());
        for tlp in Tlp::ALL {
            let (net, grp) = (tlp.allows(&Channel::Network), tlp.allows(&group));
            match tlp {
                Tlp::Clear | Tlp::Green => assert!(net && !grp, "{tlp}"),
                Tlp::Amber | Tlp::AmberStrict => assert!(!net && grp, "{tlp}"),
                Tlp::Red => assert!(!net && !grp, "RED must never be sendable"),
            }
        }
    }

    #[test]
    fn tlp_parses_common_spellings() {
        assert_eq!("TLP:AMBER+STRICT".parse::<Tlp>().unwrap(), Tlp::AmberStrict);
        assert_eq!("white".parse::<Tlp>().unwrap(), Tlp::Clear);
        assert_eq!(" Green ".parse::<Tlp>().unwrap(), Tlp::Green);
        assert!("orange".parse::<Tlp>().unwrap_err().to_string().contains("orange"));
        for t in Tlp::ALL {
            assert_eq!(t.to_string().parse::<Tlp>().unwrap(), t);
        }
    }

    #[test]
    fn channels_round_trip_and_reject_bad_ids() {
        assert_eq!("group:mekong".parse::<Channel>().unwrap().to_string(), "group:mekong");
        assert_eq!("network".parse::<Channel>().unwrap(), Channel::Network);
        assert!("group:Mekong".parse::<Channel>().is_err());
        assert!("group:".parse::<Channel>().is_err());
        assert!("everyone".parse::<Channel>().is_err());
    }
}
