//! Phone numbers → E.164, with `phonenumber` (a port of libphonenumber).

use phonenumber::{Mode, metadata::DATABASE};

use super::{Context, Reason, Warning};

pub(super) fn normalize(s: &str, ctx: &Context, warnings: &mut Vec<Warning>) -> Result<String, Reason> {
    let s = clean(s);
    let region = match ctx.default_region {
        Some(c) => c.as_str().parse::<phonenumber::country::Id>().ok(),
        None => None,
    };
    if region.is_none() && !s.starts_with('+') {
        return Err(Reason::PhoneNeedsRegion);
    }
    let number = parse(region, &s)?;
    let e164 = number.format().mode(Mode::E164).to_string();
    let code = number.code().value();
    let national_len = e164.len().saturating_sub(1 + code.to_string().len());
    if !possible_length(code, national_len) {
        return Err(Reason::PhoneImpossibleLength(code));
    }
    // The normal form must read back as itself: for a few inputs (a trunk
    // prefix inside an international number) libphonenumber's E.164 output
    // re-parses differently, and such a value could never be matched. An
    // input that already was its E.164 form was just parsed as such.
    if s != e164 {
        let again = parse(None, &e164)?;
        let stable = again.format().mode(Mode::E164).to_string() == e164
            && possible_length(again.code().value(), e164.len().saturating_sub(1 + code.to_string().len()));
        if !stable {
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
fn parse(region: Option<phonenumber::country::Id>, s: &str) -> Result<phonenumber::PhoneNumber, Reason> {
    let s = s.to_string();
    match std::panic::catch_unwind(move || phonenumber::parse(region, s)) {
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) => Err(Reason::PhoneUnparsable(e.to_string())),
        Err(_) => Err(Reason::PhoneUnparsable("parser failure".into())),
    }
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

/// libphonenumber's "possible lengths" for the country code, over every
/// number type an indicator can be: rejects numbers that cannot exist while
/// keeping unknown-but-plausible ranges. (The general descriptor alone is
/// often empty in the metadata, so the typed descriptors are consulted too.)
fn possible_length(code: u16, national_len: usize) -> bool {
    let Some(metas) = DATABASE.by_code(&code) else {
        return false;
    };
    let lengths: Vec<u16> = metas
        .iter()
        .flat_map(|m| {
            let d = m.descriptors();
            [
                Some(d.general()),
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            .flat_map(|desc| desc.possible_length().iter().copied())
            .collect::<Vec<_>>()
        })
        .collect();
    national_len <= 15 && (lengths.is_empty() || lengths.contains(&(national_len as u16)))
}
