//! Phone numbers → E.164, with `rlibphonenumber` (a port of libphonenumber
//! whose compiled patterns are shared without a lock, so bulk lookups use
//! every core).

use rlibphonenumber::{NumberLengthType, PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat, enums::Region};

use super::{Context, Reason, Warning};

pub(super) fn normalize(s: &str, ctx: &Context, warnings: &mut Vec<Warning>) -> Result<String, Reason> {
    let s = clean(s);
    let region = ctx.default_region.and_then(|c| c.as_str().parse::<Region>().ok());
    if region.is_none() && !s.starts_with('+') {
        return Err(Reason::PhoneNeedsRegion);
    }
    let number = parse(region, &s)?;
    let e164 = number.format_as(PhoneNumberFormat::E164).into_owned();
    let code = u16::try_from(number.country_code).unwrap_or(0);
    if !possible(&number) {
        return Err(Reason::PhoneImpossibleLength(code));
    }
    // The normal form must read back as itself: for a few inputs (a trunk
    // prefix inside an international number) libphonenumber's E.164 output
    // re-parses differently, and such a value could never be matched. An
    // input that already was its E.164 form was just parsed as such.
    if s != e164 {
        let again = parse(None, &e164)?;
        if again.format_as(PhoneNumberFormat::E164) != e164 || !possible(&again) {
            return Err(Reason::PhoneImpossibleLength(code));
        }
    }
    if !number.is_valid() {
        warnings.push(Warning::PhoneRangeNotInService);
    }
    Ok(e164)
}

/// Third-party parser on untrusted text: contain any panic as a parse error
/// rather than trusting that every input path in it is panic-free.
fn parse(region: Option<Region>, s: &str) -> Result<PhoneNumber, Reason> {
    match std::panic::catch_unwind(|| PHONE_NUMBER_UTIL.parse(s, region)) {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(Reason::PhoneUnparsable(e.to_string())),
        Err(_) => Err(Reason::PhoneUnparsable("parser failure".into())),
    }
}

/// libphonenumber's "possible length" for the number's country, over every
/// number type: rejects numbers that cannot exist while keeping
/// unknown-but-plausible ranges (validity is only a warning). Local-only
/// lengths (dialled without an area code) are not a complete number.
fn possible(number: &PhoneNumber) -> bool {
    matches!(number.is_possible_with_reason(), Ok(NumberLengthType::IsPossible))
}

/// Click-to-chat and call links, and the number in them (docs/protocol.md
/// §2.4 lists each form). Links that carry a number without `+` (WhatsApp)
/// are international.
const LINKS: &[(&str, bool)] = &[
    ("tel:", false),
    ("callto:", false),
    ("sms:", false),
    ("https://wa.me/", true),
    ("http://wa.me/", true),
    ("wa.me/", true),
    ("https://api.whatsapp.com/send/?phone=", true),
    ("https://api.whatsapp.com/send?phone=", true),
    ("api.whatsapp.com/send?phone=", true),
    ("https://web.whatsapp.com/send?phone=", true),
    ("whatsapp://send?phone=", true),
    ("viber://chat?number=", true),
    ("viber://contact?number=", true),
    ("https://t.me/+", true),
    ("t.me/+", true),
];

/// Whether `s` is a call or click-to-chat link (a phone number, not a URL,
/// when pasted without a kind).
pub(super) fn is_link(s: &str) -> bool {
    let lower = s.trim().to_ascii_lowercase();
    LINKS.iter().any(|(p, _)| lower.starts_with(p))
}

/// The number in a click-to-chat or call link, if `s` is one.
fn from_link(s: &str) -> Option<String> {
    let lower = s.to_ascii_lowercase();
    let (prefix, international) = LINKS.iter().find(|(p, _)| lower.starts_with(p))?;
    let rest = &s[prefix.len()..];
    // Up to the next parameter (`&text=Hello…`) or path; `%2B` is a '+'.
    let rest = rest.split(['&', '?', '#', '/']).next().unwrap_or("");
    let rest = rest.replace("%2B", "+").replace("%2b", "+").replace("%20", " ");
    Some(if *international && !rest.starts_with('+') && !rest.starts_with("00") { format!("+{rest}") } else { rest })
}

/// Rewrites the spellings people paste into one the parser reads the same way:
/// call and click-to-chat links, a `00` international prefix, and the trunk
/// `(0)` written after a country code (`+44 (0)7700…`), which the parser
/// would otherwise keep as a digit. Letters are dropped with separators, so
/// `+44 7700 900123 (mobile)` still reads as the number.
fn clean(s: &str) -> String {
    let mut t = s.trim().to_string();
    if let Some(number) = from_link(&t) {
        t = number;
    }
    if let Some(rest) = t.strip_prefix("00") {
        t = format!("+{rest}");
    }
    let international = t.starts_with('+');
    if international {
        t = t.replacen("(0)", "", 1);
    }
    // Keep digits only: separators vary ("-", ".", "/", spaces, brackets) and
    // some confuse the parser; what is left is unambiguous.
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    if international { format!("+{digits}") } else { digits }
}
