//! Normalisation of indicator values: one canonical string per real-world
//! value, so that a phone number pasted three different ways by three agencies
//! matches as one selector. It happens once, at the edge, before signing; a
//! received record whose value is not already in normal form is refused.

mod app;
mod bank;
mod company;
mod crypto;
mod handle;
mod image;
pub(crate) mod pasted;
mod phone;
mod web;

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

pub use handle::{is_platform, is_referral_platform, platforms};
pub use image::hamming_distance;

use crate::Country;

/// Indicator kinds, by the exact names of docs/protocol.md §2.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Phone,
    Email,
    Url,
    Domain,
    Ip,
    TelegramHandle,
    LineId,
    WechatId,
    SocialProfile,
    TronAddress,
    EvmAddress,
    BtcAddress,
    BankAccount,
    CompanyName,
    AppId,
    ImageHash,
}

impl Kind {
    pub const ALL: [Kind; 16] = [
        Kind::Phone,
        Kind::Email,
        Kind::Url,
        Kind::Domain,
        Kind::Ip,
        Kind::TelegramHandle,
        Kind::LineId,
        Kind::WechatId,
        Kind::SocialProfile,
        Kind::TronAddress,
        Kind::EvmAddress,
        Kind::BtcAddress,
        Kind::BankAccount,
        Kind::CompanyName,
        Kind::AppId,
        Kind::ImageHash,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Phone => "phone",
            Kind::Email => "email",
            Kind::Url => "url",
            Kind::Domain => "domain",
            Kind::Ip => "ip",
            Kind::TelegramHandle => "telegram_handle",
            Kind::LineId => "line_id",
            Kind::WechatId => "wechat_id",
            Kind::SocialProfile => "social_profile",
            Kind::TronAddress => "tron_address",
            Kind::EvmAddress => "evm_address",
            Kind::BtcAddress => "btc_address",
            Kind::BankAccount => "bank_account",
            Kind::CompanyName => "company_name",
            Kind::AppId => "app_id",
            Kind::ImageHash => "image_hash",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown indicator kind {0:?} (expected one of: phone, email, url, domain, ip, telegram_handle, line_id, wechat_id, social_profile, tron_address, evm_address, btc_address, bank_account, company_name, app_id, image_hash)"
)]
pub struct UnknownKind(pub String);

impl FromStr for Kind {
    type Err = UnknownKind;
    fn from_str(s: &str) -> Result<Self, UnknownKind> {
        let t = s.trim().to_ascii_lowercase().replace('-', "_");
        Kind::ALL.into_iter().find(|k| k.as_str() == t).ok_or_else(|| UnknownKind(s.chars().take(64).collect()))
    }
}

/// What normalisation needs beyond the value itself.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Region for phone numbers written in national format (`081 234 5678`).
    pub default_region: Option<Country>,
}

/// A normalised value, and anything worth telling the analyst about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Normalized {
    pub value: String,
    pub warnings: Vec<Warning>,
}

/// Things that do not make a value wrong but that an analyst should see.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Warning {
    /// libphonenumber does not know the range as in service. New, virtual and
    /// reserved (demo) ranges land here; they are still valid selectors.
    PhoneRangeNotInService,
    /// An EVM address without a mixed-case checksum could not be checked.
    EvmNoChecksum,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Warning::PhoneRangeNotInService => "number is not in a range known to be in service",
            Warning::EvmNoChecksum => "address has no EIP-55 checksum to verify",
        })
    }
}

/// A value that could not be normalised, naming the kind and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind} {value:?}: {reason}")]
pub struct NormalizeError {
    pub kind: Kind,
    pub value: String,
    pub reason: Reason,
}

/// Why a value is not a valid indicator of its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Reason {
    #[error("empty")]
    Empty,
    #[error("longer than {0} bytes")]
    TooLong(usize),
    #[error("cannot parse as a phone number ({0})")]
    PhoneUnparsable(String),
    #[error("no region to read a national-format number; write it as +<country code>… or set a default region")]
    PhoneNeedsRegion,
    #[error("impossible length for country code +{0}")]
    PhoneImpossibleLength(u16),
    #[error("cannot parse as a URL ({0})")]
    UrlUnparsable(String),
    #[error("only http and https URLs are indicators (got {0:?})")]
    UrlScheme(String),
    #[error("URL has no host")]
    UrlNoHost,
    #[error("missing scheme: write http:// or https:// in front")]
    UrlNoScheme,
    #[error("not a valid domain name ({0})")]
    Domain(&'static str),
    #[error("this is a URL; use kind url, or give only the host")]
    DomainIsUrl,
    #[error("not an email address ({0})")]
    Email(&'static str),
    #[error("not an IPv4 or IPv6 address")]
    Ip,
    #[error("handle must be {0}")]
    Handle(&'static str),
    #[error("social profiles are written platform/handle or as a profile URL (known platforms: {0})")]
    SocialFormat(&'static str),
    #[error("unknown social platform {0:?}")]
    SocialPlatform(String),
    #[error("base58check decoding failed (bad character or checksum)")]
    Base58Check,
    #[error("wrong version byte or length for this address type")]
    AddressVersion,
    #[error("EIP-55 checksum does not match")]
    Eip55Checksum,
    #[error("must be 0x followed by 40 hex digits")]
    EvmFormat,
    #[error("bech32 decoding failed ({0})")]
    Bech32(String),
    #[error("not a Bitcoin mainnet address")]
    BtcNetwork,
    #[error("write bank accounts as CC:BANKCODE:ACCOUNT or as an IBAN ({0})")]
    Bank(&'static str),
    #[error("invalid IBAN ({0})")]
    Iban(String),
    #[error("app ids are android:<package> or ios:<numeric id>, or a store URL ({0})")]
    AppId(&'static str),
    #[error("image hashes are 16 (pHash) or 64 (PDQ) hex digits")]
    ImageHash,
    #[error("contains control characters")]
    Control,
}

/// The longest raw value accepted for normalisation.
pub const MAX_RAW_VALUE: usize = 1024;

/// Normalises `raw` as an indicator of `kind`.
pub fn normalize(kind: Kind, raw: &str, ctx: &Context) -> Result<Normalized, NormalizeError> {
    let err = |reason| NormalizeError { kind, value: raw.chars().take(120).collect(), reason };
    if raw.len() > MAX_RAW_VALUE {
        return Err(err(Reason::TooLong(MAX_RAW_VALUE)));
    }
    // Names on the web keep their own digits (IDNA decides); everything
    // else is written with ASCII digits, whatever script it was pasted in.
    let digits = !matches!(kind, Kind::Url | Kind::Domain | Kind::Email);
    let pasted = pasted::clean(raw, digits);
    let s = pasted.trim();
    if s.is_empty() {
        return Err(err(Reason::Empty));
    }
    if s.chars().any(char::is_control) {
        return Err(err(Reason::Control));
    }
    let mut warnings = Vec::new();
    let value = match kind {
        Kind::Phone => phone::normalize(s, ctx, &mut warnings),
        Kind::Email => web::email(s),
        Kind::Url => web::url(s),
        Kind::Domain => web::domain(s),
        Kind::Ip => web::ip(s),
        Kind::TelegramHandle => handle::telegram(s),
        Kind::LineId => handle::line(s),
        Kind::WechatId => handle::wechat(s),
        Kind::SocialProfile => handle::social_profile(s),
        Kind::TronAddress => crypto::tron(s),
        Kind::EvmAddress => crypto::evm(s, &mut warnings),
        Kind::BtcAddress => crypto::btc(s),
        Kind::BankAccount => bank::normalize(s),
        Kind::CompanyName => company::normalize(s),
        Kind::AppId => app::normalize(s),
        Kind::ImageHash => image::normalize(s),
    }
    .map_err(err)?;
    if value.len() > crate::limits::MAX_SHORT_BYTES {
        return Err(err(Reason::TooLong(crate::limits::MAX_SHORT_BYTES)));
    }
    Ok(Normalized { value, warnings })
}

/// Whether `value` is already the normal form of a `kind` indicator: what a
/// receiver checks, so every node indexes the same string for the same thing.
pub fn is_normal(kind: Kind, value: &str) -> bool {
    // National-format phones need a region, and the normal form never does.
    normalize(kind, value, &Context::default()).is_ok_and(|n| n.value == value)
}

/// Undoes the usual "defanging" of indicators in reports: `hxxp`, `[.]`,
/// `(.)`, `[dot]`, `[:]`, `[@]`, `[at]`.
pub(crate) fn refang(s: &str) -> String {
    let mut t = s.to_string();
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("{.}", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("[:]", ":"),
        ("[://]", "://"),
        ("[@]", "@"),
        ("[at]", "@"),
        ("(at)", "@"),
    ] {
        t = t.replace(from, to);
    }
    let lower = t.to_ascii_lowercase();
    for (from, to) in [("hxxps://", "https://"), ("hxxp://", "http://"), ("hxxps[:]//", "https://")] {
        if lower.starts_with(from) {
            t = format!("{to}{}", &t[from.len()..]);
            break;
        }
    }
    t
}

/// An international number spelled with separators (`+44 7700-900 123`,
/// `0044 (0)7700 900123`): a phone number and nothing else.
pub fn looks_like_phone(raw: &str) -> bool {
    let s = raw.trim();
    (s.starts_with('+') || s.starts_with("00"))
        && s.len() > 4
        && s.chars().all(|c| c.is_ascii_digit() || " +-./()".contains(c))
}

/// Guesses the kind of a value pasted without one (bulk lookups of mixed
/// lists). Only unambiguous shapes are guessed; anything else is `None`, and
/// the caller must say which kind it is. A guessed kind still has to normalise.
pub fn guess_kind(raw: &str) -> Option<Kind> {
    let s = refang(pasted::clean(raw, false).trim());
    // A value written in another script's digits is one of the digit kinds.
    if s.chars().any(|c| pasted::ascii_digit(c).is_some()) {
        let ascii = pasted::clean(&s, true);
        return guess_kind(&ascii).filter(|k| !matches!(k, Kind::Url | Kind::Domain | Kind::Email));
    }
    let lower = s.to_ascii_lowercase();
    let is = |kind| normalize(kind, &s, &Context::default()).is_ok();
    if phone::is_link(&s) && is(Kind::Phone) {
        return Some(Kind::Phone);
    }
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return Some(Kind::Url);
    }
    // Ask the (slow) phone parser once instead of trying every kind.
    if looks_like_phone(&s) {
        return is(Kind::Phone).then_some(Kind::Phone);
    }
    if s.contains(char::is_whitespace) && !s.starts_with('+') && !s.starts_with("00") {
        // Only phone numbers and IBANs are written with spaces; names are ambiguous.
        return is(Kind::BankAccount).then_some(Kind::BankAccount);
    }
    [Kind::EvmAddress, Kind::TronAddress, Kind::BtcAddress, Kind::Ip, Kind::Email, Kind::BankAccount, Kind::Domain]
        .into_iter()
        .find(|k| is(*k))
        .or_else(|| (s.starts_with('+') || s.starts_with("00")).then_some(Kind::Phone).filter(|k| is(*k)))
}
