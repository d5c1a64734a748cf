//! Bank accounts: `CC:BANKCODE:ACCOUNT` (country, bank code, account number)
//! or an IBAN, checked with `iban_validate` and stored in electronic form.

use iban::IbanLike as _;

use super::Reason;
use crate::Country;

pub(super) fn normalize(s: &str) -> Result<String, Reason> {
    if !s.contains(':') {
        let iban: iban::Iban =
            s.to_ascii_uppercase().parse().map_err(|e: iban::ParseIbanError| Reason::Iban(e.to_string()))?;
        return Ok(iban.electronic_str().to_string());
    }
    let mut parts = s.split(':');
    let (Some(cc), Some(bank), Some(account), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(Reason::Bank("expected exactly three ':'-separated parts"));
    };
    let country: Country = cc.parse().map_err(|_| Reason::Bank("unknown country code"))?;
    let bank = compact(bank).ok_or(Reason::Bank("bank code must be letters and digits"))?;
    let account = compact(account).ok_or(Reason::Bank("account must be letters and digits"))?;
    if bank.len() > 16 || !(4..=34).contains(&account.len()) {
        return Err(Reason::Bank("bank code up to 16, account 4-34 characters"));
    }
    Ok(format!("{country}:{bank}:{account}"))
}

/// Removes spaces, dashes and dots; upper-cases; `None` if anything else is
/// not alphanumeric or nothing is left.
fn compact(s: &str) -> Option<String> {
    let t: String = s.chars().filter(|c| !matches!(c, ' ' | '-' | '.')).collect::<String>().to_ascii_uppercase();
    (!t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric())).then_some(t)
}
