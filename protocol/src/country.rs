//! ISO 3166-1 alpha-2 country codes.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// An ISO 3166-1 alpha-2 country code, upper case (`TH`, `KH`, `MM`…).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Country([u8; 2]);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown country code {0:?} (expected ISO 3166-1 alpha-2, e.g. TH)")]
pub struct UnknownCountry(pub String);

impl Country {
    pub fn as_str(&self) -> &str {
        // Only ever built from an ASCII code that isocountry accepted.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for Country {
    type Err = UnknownCountry;
    fn from_str(s: &str) -> Result<Self, UnknownCountry> {
        let code = isocountry::CountryCode::for_alpha2_caseless(s.trim())
            .map_err(|_| UnknownCountry(s.chars().take(16).collect()))?;
        let b = code.alpha2().as_bytes();
        Ok(Country([b[0], b[1]]))
    }
}

impl TryFrom<String> for Country {
    type Error = UnknownCountry;
    fn try_from(s: String) -> Result<Self, UnknownCountry> {
        // On the wire only the canonical upper-case form is accepted.
        let c: Country = s.parse()?;
        if c.as_str() == s { Ok(c) } else { Err(UnknownCountry(s)) }
    }
}

impl From<Country> for String {
    fn from(c: Country) -> String {
        c.as_str().to_string()
    }
}

impl fmt::Display for Country {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_case_insensitively_and_rejects_unknown() {
        assert_eq!("th".parse::<Country>().unwrap().as_str(), "TH");
        assert!("XZ".parse::<Country>().is_err());
        assert!("THA".parse::<Country>().is_err());
    }
}
