//! Bank accounts in free text. A run of digits is an account only where
//! the words before it name the bank ("BCA 123 456 7890 a.n. …", "ธนาคาร
//! กสิกรไทย เลขบัญชี 123-4-56789-0"), and then it is `CC:CODE:DIGITS`
//! with the bank's short code from [`BANKS`]; an IBAN is one anywhere its
//! checksum holds.

use crate::normalize::{Context, Kind, normalize, pasted::ascii_digit};

use super::Found;

/// Banks scam recruiters and money mules use in the region: the code Kawan
/// writes, the country, and the names people write (lower case; Latin
/// names match as whole words, other scripts as written). Reviewed like
/// code: add a bank with its common spellings.
pub const BANKS: &[(&str, &str, &[&str])] = &[
    ("BCA", "ID", &["bca", "bank central asia"]),
    ("BRI", "ID", &["bri", "bank rakyat indonesia"]),
    ("MANDIRI", "ID", &["mandiri", "bank mandiri"]),
    ("BNI", "ID", &["bni"]),
    ("BSI", "ID", &["bsi", "bank syariah indonesia"]),
    ("KBANK", "TH", &["kbank", "kasikorn", "kasikornbank", "กสิกร", "กสิกรไทย"]),
    ("SCB", "TH", &["scb", "siam commercial", "ไทยพาณิชย์"]),
    ("BBL", "TH", &["bbl", "bangkok bank", "ธนาคารกรุงเทพ"]),
    ("KTB", "TH", &["ktb", "krungthai", "krung thai", "กรุงไทย"]),
    ("BAY", "TH", &["krungsri", "กรุงศรี"]),
    ("TTB", "TH", &["ttb", "ทหารไทยธนชาต"]),
    ("GSB", "TH", &["gsb", "ออมสิน"]),
    ("MAYBANK", "MY", &["maybank"]),
    ("CIMB", "MY", &["cimb", "cimb niaga"]),
    ("PUBLICBANK", "MY", &["public bank"]),
    ("BDO", "PH", &["bdo"]),
    ("BPI", "PH", &["bpi"]),
    ("VCB", "VN", &["vietcombank", "vcb"]),
    ("TCB", "VN", &["techcombank", "tcb"]),
    ("BIDV", "VN", &["bidv"]),
    ("ACB", "VN", &["acb"]),
    ("ABA", "KH", &["aba", "aba bank"]),
    ("ACLEDA", "KH", &["acleda"]),
    ("WING", "KH", &["wing bank", "wing"]),
    ("KBZ", "MM", &["kbz", "kbzpay", "kbz bank"]),
    ("AYA", "MM", &["aya", "aya bank"]),
];

/// How far after a bank's name its account number may start: room for
/// "rekening", "a/c no.", "เลขบัญชี", "STK"…
const WINDOW_CHARS: usize = 32;

/// The only words that may stand between a bank's name and its account
/// number: anything else ("BCA, lalu hubungi 0812…") means the number is
/// something else.
const ACCOUNT_WORDS: &[&str] = &[
    "bank",
    "rekening",
    "rek",
    "norek",
    "no",
    "nomor",
    "nomer",
    "acc",
    "account",
    "a/c",
    "ac",
    "number",
    "num",
    "acct",
    "savings",
    "tabungan",
    "เลขที่บัญชี",
    "เลขบัญชี",
    "บัญชี",
    "เลขที่",
    "ธนาคาร",
    "ออมทรัพย์",
    "stk",
    "số",
    "tài",
    "khoản",
    "tk",
    "គណនី",
    "លេខ",
    "အကောင့်",
    "账号",
    "账户",
    "卡号",
    "银行",
];

/// Every bank account in `text`.
pub(super) fn accounts(text: &str, lower: &str, ctx: &Context, out: &mut Vec<Found>) {
    ibans(text, ctx, out);
    for (code, country, names) in BANKS {
        for name in *names {
            let mut from = 0;
            while let Some(at) = lower[from..].find(name) {
                let (start, end) = (from + at, from + at + name.len());
                from = end;
                if name.is_ascii() && !whole_word(lower, start, end) {
                    continue;
                }
                if let Some((s, e, digits)) = number_after(text, end) {
                    let country = match (ctx.default_region, *code) {
                        // CIMB is Malaysian and Indonesian (CIMB Niaga).
                        (Some(r), "CIMB") if r.as_str() == "ID" => "ID",
                        _ => country,
                    };
                    let value = format!("{country}:{code}:{digits}");
                    if let Ok(n) = normalize(Kind::BankAccount, &value, ctx) {
                        out.push(Found {
                            kind: Kind::BankAccount,
                            value: n.value,
                            text: text[s..e].to_string(),
                            start: s,
                            end: e,
                            defanged: false,
                        });
                    }
                }
            }
        }
    }
}

fn whole_word(lower: &str, start: usize, end: usize) -> bool {
    let before = lower[..start].chars().next_back();
    let after = lower[end..].chars().next();
    !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
}

/// The account number starting within [`WINDOW_CHARS`] of `from`: 6 to 20
/// digits (any script), grouped by single spaces, `-` or `.`; its span and
/// its digits. Not a number that is part of a word, a price (`Rp`, `$`,
/// a thousands group) or a phone number written with `+`.
fn number_after(text: &str, from: usize) -> Option<(usize, usize, String)> {
    let rest = &text[from..];
    let (offset, _) = rest.char_indices().take(WINDOW_CHARS).find(|(_, c)| digit(*c).is_some())?;
    let start = from + offset;
    if !only_account_words(&text[from..start]) {
        return None;
    }
    let before = text[..start].chars().next_back();
    if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '+' | '$' | '€' | '฿')) {
        return None;
    }
    let mut digits = String::new();
    let mut end = start;
    let mut gap = false;
    for (i, c) in text[start..].char_indices() {
        if let Some(d) = digit(c) {
            digits.push(d);
            end = start + i + c.len_utf8();
            gap = false;
        } else if matches!(c, ' ' | '-' | '.') && !gap {
            gap = true;
        } else {
            break;
        }
    }
    let after = text[end..].chars().next();
    let written = &text[start..end];
    let thousands = written.split([',', '.']).skip(1).all(|g| g.len() == 3) && written.contains(['.', ',']);
    if after.is_some_and(char::is_alphanumeric) || thousands || !(6..=20).contains(&digits.len()) {
        return None;
    }
    Some((start, end, digits))
}

fn only_account_words(between: &str) -> bool {
    let mut rest = between.to_lowercase();
    for w in ACCOUNT_WORDS.iter().filter(|w| !w.is_ascii()) {
        rest = rest.replace(w, " ");
    }
    rest.split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '/'))
        .map(|w| w.trim_matches(|c: char| c.is_ascii_punctuation()))
        .all(|w| w.is_empty() || ACCOUNT_WORDS.contains(&w))
}

fn digit(c: char) -> Option<char> {
    if c.is_ascii_digit() { Some(c) } else { ascii_digit(c) }
}

/// IBANs (`GB82 WEST 1234 5698 7654 32`, or without spaces) whose
/// checksum holds.
fn ibans(text: &str, ctx: &Context, out: &mut Vec<Found>) {
    let bytes = text.as_bytes();
    for start in 0..(bytes.len() + 1).saturating_sub(15) {
        let head = &bytes[start..start + 4];
        if !(head[0].is_ascii_uppercase()
            && head[1].is_ascii_uppercase()
            && head[2].is_ascii_digit()
            && head[3].is_ascii_digit())
        {
            continue;
        }
        // (An ASCII byte always starts a character.)
        if text[..start].chars().next_back().is_some_and(char::is_alphanumeric) {
            continue;
        }
        // Groups of letters and digits separated by single spaces, longest first.
        let mut ends = Vec::new();
        let mut len = 0;
        for (i, &b) in bytes[start..].iter().enumerate() {
            if b.is_ascii_alphanumeric() {
                len += 1;
                if len > 34 {
                    break;
                }
                let next = bytes.get(start + i + 1);
                if !next.is_some_and(u8::is_ascii_alphanumeric) {
                    ends.push(start + i + 1);
                }
            } else if b != b' ' || bytes.get(start + i + 1) == Some(&b' ') {
                break;
            }
        }
        for &end in ends.iter().rev() {
            let written = &text[start..end];
            let compact: String = written.chars().filter(|c| *c != ' ').collect();
            if compact.len() < 15 {
                break;
            }
            if let Ok(n) = normalize(Kind::BankAccount, &compact, ctx) {
                out.push(Found {
                    kind: Kind::BankAccount,
                    value: n.value,
                    text: written.to_string(),
                    start,
                    end,
                    defanged: false,
                });
                break;
            }
        }
    }
}
