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

/// Rewrites the spellings people paste into one the parser reads the same way:
/// `tel:` and `wa.me/` links, a `00` international prefix, and the trunk
/// `(0)` written after a country code (`+44 (0)7700…`), which the parser
/// would otherwise keep as a digit. Letters are dropped with separators, so
/// `+44 7700 900123 (mobile)` still reads as the number.
fn clean(s: &str) -> String {
    let mut t = s.trim().to_string();
    for prefix in ["tel:", "https://wa.me/", "http://wa.me/", "wa.me/", "https://api.whatsapp.com/send?phone="] {
        if t.to_ascii_lowercase().starts_with(prefix) {
            t = t[prefix.len()..].to_string();
            if prefix.contains("wa") && !t.starts_with('+') {
                t.insert(0, '+'); // wa.me links are always international, without '+'.
            }
            break;
        }
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
