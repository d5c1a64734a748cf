//! Indicators in free text (`kawan extract`): what an analyst pastes — a
//! job ad, a chat, a report — read for every value Kawan can share, each
//! with its kind, normal form, the text as written and its byte offsets.
//! Pure: no I/O, time or randomness, so the node, the CLI and the fuzz
//! target run the same code.
//!
//! # How
//! - **Phone numbers** come from libphonenumber's matcher over the text
//!   (not whitespace tokens), with the region as the hint for national
//!   numbers: `+62 812-3456-7890`, `081 234 5678`, `wa.me/…` links.
//! - **Everything else** is read token by token (split on whitespace and
//!   the brackets and quotes that wrap values), refanged (`hxxp`, `[.]`,
//!   `(dot)`, `[at]`…), and kept only where its kind normalises: a wrong
//!   checksum is not a wallet, a file name is not a domain, a platform's own
//!   host is not an indicator.
//! - Hits are merged by (kind, normal form); the first spelling is kept.
//!
//! - **Messaging ids** by the words before them (`LINE: …`, `Telegram
//!   @…`, `微信 …`) and by their links (`t.me/…`, `line.me/ti/p/~…`,
//!   `wa.me/…`).
//!
//! - **Social profiles** from profile links (`facebook.com/some.name`,
//!   `tiktok.com/@name`) and after `FB`/`IG`/`TikTok`; a group, post or
//!   page of the platform stays a link.
//! - **Bank accounts** where the words before the digits name the bank
//!   ([`bank`]), and IBANs anywhere their checksum holds.
//! - **Domains** only with a real public suffix (or a special-use one such
//!   as `.example`): `tinggi.Hubungi` and `Mr.Smith` are words.
//! - **Red flags** from the reviewed phrase list ([`flags`]).
//!
//! # Layout
//! - `mod.rs`: the passes and how their hits are merged.
//! - `bank.rs`: banks by name, account numbers, IBANs.
//! - `flags.rs`: phrase lists (red flags, typology signals).
//! - `read.rs`: files analysts receive, read as text.

use rlibphonenumber::{
    PHONE_NUMBER_UTIL, PhoneNumberFormat,
    enums::Region,
    phonenumber_matcher::{Leniency, PHONE_MATCHER_FACTORY},
};
use serde::Serialize;

use crate::normalize::{Context, Kind, normalize, pasted::ascii_digit};

mod bank;
pub mod flags;

pub use bank::BANKS;
pub use flags::{Flagged, PhraseSet, red_flags};

/// Most bytes one call reads: larger inputs are read up to here.
pub const MAX_TEXT: usize = 16 * 1024 * 1024;

/// One indicator found in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    pub kind: Kind,
    /// The normal form: what Kawan stores and looks up.
    pub value: String,
    /// The text as written.
    pub text: String,
    /// Byte offsets of `text` in the input: `input[start..end] == text`.
    pub start: usize,
    pub end: usize,
    /// Whether it was written defanged (`hxxp`, `[.]`, `[at]`…).
    pub defanged: bool,
}

/// What a text holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Extraction {
    pub indicators: Vec<Found>,
    /// Phrases of the reviewed red-flag list, with their spans.
    pub red_flags: Vec<Flagged>,
}

/// Hosts of the platforms themselves: links to them are where indicators
/// live (`t.me/name`), never indicators of their own.
const PLATFORM_HOSTS: &[&str] = &[
    "facebook.com",
    "fb.com",
    "fb.me",
    "m.facebook.com",
    "instagram.com",
    "tiktok.com",
    "t.me",
    "telegram.me",
    "telegram.org",
    "wa.me",
    "whatsapp.com",
    "line.me",
    "wechat.com",
    "weixin.qq.com",
    "x.com",
    "twitter.com",
    "youtube.com",
    "youtu.be",
    "linkedin.com",
    "google.com",
    "gmail.com",
    // Link shorteners: a short link (with its path) is an indicator, the
    // service is not.
    "bit.ly",
    "tinyurl.com",
    "s.id",
    "cutt.ly",
    "shorturl.at",
    "t.co",
    "goo.gl",
    "rebrand.ly",
    "ow.ly",
    "is.gd",
];

/// First path segments that name a platform's own pages and features
/// (`facebook.com/groups/…`, `instagram.com/p/…`): such a link is a link,
/// not somebody's profile. (The normaliser itself keeps its older rule:
/// normal forms cannot change without breaking nodes that store them.)
const NOT_PROFILES: &[&str] = &[
    "groups",
    "group",
    "share",
    "sharer",
    "sharer.php",
    "posts",
    "events",
    "watch",
    "marketplace",
    "photo.php",
    "photo",
    "photos",
    "permalink.php",
    "story.php",
    "stories",
    "pages",
    "reel",
    "reels",
    "p",
    "tv",
    "explore",
    "hashtag",
    "tag",
    "search",
    "home",
    "login",
    "signup",
    "intent",
    "settings",
    "help",
    "privacy",
    "policies",
    "policy",
    "legal",
    "about",
    "ads",
    "business",
    "gaming",
    "video",
    "videos",
    "discover",
    "music",
    "live",
    "messages",
    "notifications",
    "i",
    "status",
    "jobs",
    "feed",
    "company",
    "in",
    "user",
    "u",
    "users",
    "add",
    "s",
    "joinchat",
    "watch?v",
    "channel",
    "c",
    "shorts",
    "results",
    "dialog",
    "plugins",
    "l.php",
    "hashtags",
];

/// Endings of file names, which read like domains.
const FILE_ENDINGS: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "json", "xml", "jpg", "jpeg", "png", "gif",
    "webp", "mp3", "mp4", "mov", "avi", "zip", "rar", "7z", "exe", "apk", "dll", "js", "py", "html", "htm", "php",
    "eml", "msg",
];

/// The indicators in `text`, national phone numbers read in
/// `ctx.default_region`.
pub fn extract(text: &str, ctx: &Context) -> Extraction {
    let text = cut(text, MAX_TEXT);
    let mut accounts: Vec<Found> = Vec::new();
    bank::accounts(text, &text.to_ascii_lowercase(), ctx, &mut accounts);
    let mut found = Vec::new();
    phones(text, ctx, &mut found);
    tokens(text, ctx, &mut found);
    spaced_emails(text, ctx, &mut found);
    // Digits a bank's name claims are its account, not a phone number.
    // (Sorted spans and the furthest end so far: linear, whatever the text.)
    accounts.sort_by_key(|a| a.start);
    let reach: Vec<usize> = accounts
        .iter()
        .scan(0, |far, a| {
            *far = a.end.max(*far);
            Some(*far)
        })
        .collect();
    found.retain(|f| {
        let before = accounts.partition_point(|a| a.start < f.end);
        !(before > 0 && reach[before - 1] > f.start)
    });
    found.extend(accounts);
    found.sort_by_key(|f| (f.start, std::cmp::Reverse(f.end)));
    // One hit per value; a value inside another hit's span (a phone number
    // in a URL) is the other hit's: sorted by start, that is one whose end
    // is within the furthest end kept so far.
    let mut out: Vec<Found> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut furthest = None;
    for f in found {
        if furthest.is_some_and(|end| f.end <= end) || seen.contains(&(f.kind, f.value.clone())) {
            continue;
        }
        furthest = Some(furthest.map_or(f.end, |e: usize| e.max(f.end)));
        seen.insert((f.kind, f.value.clone()));
        out.push(f);
    }
    Extraction { indicators: out, red_flags: red_flags(text) }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn phones(text: &str, ctx: &Context, out: &mut Vec<Found>) {
    let region = ctx.default_region.and_then(|c| c.as_str().parse::<Region>().ok());
    // Digits of every script read as ASCII (the matcher knows some, not
    // Burmese), with each folded offset's place in the original.
    let (folded, origin) = fold_digits(text);
    let at = |i: usize| origin.as_ref().map_or(i, |o| o[i]);
    // One factory for the process: it compiles the matcher's expressions.
    let factory = &*PHONE_MATCHER_FACTORY;
    let mut last_end = None;
    // Possible, not valid: reserved fictional ranges (and numbers newer
    // than the library's metadata) must be found; Kawan's own normaliser
    // then decides.
    // The matcher's expressions are costly per byte: it reads only the
    // stretches where enough digits stand close together to be a number.
    for (w_start, w_end) in digit_windows(&folded) {
        let window = &folded[w_start..w_end];
        for m in factory.matcher_builder(window).preferred_region(region).leniency(Leniency::Possible).build() {
            let (fstart, fend) = (w_start + m.start, w_start + m.end());
            if folded.get(fstart..fend) != Some(m.raw_string)
                || !plausible_phone(&folded, fstart, fend, last_end, &m.number)
            {
                continue;
            }
            let e164 = PHONE_NUMBER_UTIL.format(&m.number, PhoneNumberFormat::E164).to_string();
            let Ok(n) = normalize(Kind::Phone, &e164, ctx) else { continue };
            last_end = Some(fend);
            let (start, end) = (at(fstart), at(fend));
            out.push(Found {
                kind: Kind::Phone,
                value: n.value,
                text: text[start..end].to_string(),
                start,
                end,
                defanged: false,
            });
        }
    }
}

/// Stretches of `text` where a phone number may be: runs of digits and the
/// characters numbers are written with, holding at least 7 digits, with
/// room around them for a `+`, `tel:` or a closing bracket; merged where
/// they meet.
fn digit_windows(text: &str) -> Vec<(usize, usize)> {
    const MARGIN: usize = 24;
    let mut windows: Vec<(usize, usize)> = Vec::new();
    let push = |start: usize, end: usize, windows: &mut Vec<(usize, usize)>| {
        let mut s = start.saturating_sub(MARGIN);
        while !text.is_char_boundary(s) {
            s -= 1;
        }
        let mut e = (end + MARGIN).min(text.len());
        while !text.is_char_boundary(e) {
            e += 1;
        }
        match windows.last_mut() {
            Some(last) if last.1 >= s => last.1 = last.1.max(e),
            _ => windows.push((s, e)),
        }
    };
    let mut run: Option<(usize, usize)> = None;
    let mut digits = 0;
    for (i, c) in text.char_indices() {
        let numeric = c.is_ascii_digit();
        let joins = matches!(c, ' ' | '-' | '.' | '(' | ')' | '+' | '/' | '–' | '\u{a0}');
        match (numeric || joins, run) {
            (true, None) => {
                run = Some((i, i + c.len_utf8()));
                digits = usize::from(numeric);
            }
            (true, Some((s, _))) => {
                run = Some((s, i + c.len_utf8()));
                digits += usize::from(numeric);
            }
            (false, Some((s, e))) => {
                if digits >= 7 {
                    push(s, e, &mut windows);
                }
                run = None;
            }
            (false, None) => {}
        }
    }
    if let Some((s, e)) = run
        && digits >= 7
    {
        push(s, e, &mut windows);
    }
    windows
}

/// `text` with every decimal digit of another script written in ASCII,
/// and, if anything changed, the original offset of each folded offset.
fn fold_digits(text: &str) -> (std::borrow::Cow<'_, str>, Option<Vec<usize>>) {
    // Full-width forms too: `０１／０１／２０２７` is a date.
    let fold = |c: char| match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0),
        _ => ascii_digit(c),
    };
    if !text.chars().any(|c| !c.is_ascii() && fold(c).is_some()) {
        return (std::borrow::Cow::Borrowed(text), None);
    }
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len() + 1);
    for (i, c) in text.char_indices() {
        let c = fold(c).unwrap_or(c);
        origin.extend(std::iter::repeat_n(i, c.len_utf8()));
        folded.push(c);
    }
    origin.push(text.len());
    (std::borrow::Cow::Owned(folded), Some(origin))
}

/// Whether a number the matcher found reads as a phone number here and
/// not as a price, a date, or digits inside another value (a wallet, an
/// id): nothing alphanumeric touches it, no `/`, no thousands groups, and
/// a number written without its country code starts with its trunk `0` or
/// is valid in its region.
fn plausible_phone(
    text: &str,
    start: usize,
    end: usize,
    last_end: Option<usize>,
    number: &rlibphonenumber::PhoneNumber,
) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    // Letters of scripts written without spaces (โทร0812…) may touch it;
    // Latin letters and digits may not. A `/` may stand between two
    // numbers (`0812…/0812…`), not before a number in a path.
    let touches = |c: char| c.is_ascii_alphanumeric() || c.is_numeric() || c == '_';
    let joined = before == Some('/') && last_end == Some(start - 1);
    if before.is_some_and(|c| touches(c) || (c == '/' && !joined)) || after.is_some_and(touches) {
        return false;
    }
    // Digits just before or after, past one separator: a longer number
    // (an account, an IBAN, an id) of which this is a piece.
    let mut back = text[..start].chars().rev();
    let mut ahead = text[end..].chars();
    let digit_beyond = |first: Option<char>, second: Option<char>| {
        first.is_some_and(|c| matches!(c, ' ' | '-' | '.')) && second.is_some_and(|c| c.is_ascii_digit())
    };
    let (b1, b2, a1, a2) = (back.next(), back.next(), ahead.next(), ahead.next());
    // A time after it (`2026 16:20`): the end of a date and an hour.
    let time_after = a1 == Some(':') && a2.is_some_and(|c| c.is_ascii_digit());
    if digit_beyond(b1, b2) || digit_beyond(a1, a2) || time_after {
        return false;
    }
    let raw = &text[start..end];
    let international = raw.starts_with('+') || raw.starts_with("00") || raw.starts_with('＋');
    if !international && labelled_not_phone(&text[..start]) {
        return false;
    }
    // An IPv4 address, a decimal (`16.6930`, a coordinate).
    let dots: Vec<&str> = raw.split('.').collect();
    let all_digits = |p: &&str| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit());
    let ipv4 = dots.len() == 4 && dots.iter().all(|p| all_digits(p) && p.len() <= 3);
    let decimal = dots.len() == 2 && dots.iter().all(all_digits) && !raw.starts_with('0');
    if ipv4 || decimal {
        return false;
    }
    if raw.contains('/') {
        return false;
    }
    let groups: Vec<&str> = raw.split(['.', ',']).collect();
    let thousands = groups.len() >= 2
        && groups[0].len() <= 3
        && groups.iter().all(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_digit()))
        && groups[1..].iter().all(|g| g.len() == 3);
    // A range of round amounts (`1500-3000`): a salary.
    let round_range = raw.split_once('-').is_some_and(|(a, b)| {
        [a.trim(), b.trim()].iter().all(|p| p.len() >= 3 && p.ends_with("00") && p.chars().all(|c| c.is_ascii_digit()))
    });
    if thousands || round_range || is_date(raw) || is_time_range(raw) {
        return false;
    }
    international || raw.trim_start_matches('(').starts_with('0') || PHONE_NUMBER_UTIL.is_valid_number(number)
}

/// Words that say the number after them is something else (an id, a tax
/// or tracking number, an order), unless a word that says "phone" is
/// nearer (`LINE ID: 0812…`, `No. HP 0812…`).
const NOT_PHONE_WORDS: &[&str] = &[
    "id",
    "nik",
    "npwp",
    "ktp",
    "resi",
    "awb",
    "invoice",
    "inv",
    "order",
    "ref",
    "reference",
    "tracking",
    "passport",
    "paspor",
    "case",
    "ticket",
    "transaction",
    "txn",
    "trx",
    "serial",
    "imei",
    "induk",
    "kode",
    "code",
    "booking",
    "pnr",
    "account",
    "acc",
    "rekening",
    "norek",
    "a/c",
    "receipt",
    "bill",
    "policy",
    "claim",
    "member",
];
const PHONE_WORDS: &[&str] = &[
    "hp",
    "wa",
    "whatsapp",
    "tel",
    "telp",
    "phone",
    "mobile",
    "call",
    "sms",
    "hubungi",
    "line",
    "zalo",
    "viber",
    "sdt",
    "sđt",
    "gọi",
    "contact",
    "kontak",
    "telegram",
    "signal",
    "โทร",
    "เบอร์",
    "ติดต่อ",
    "电话",
    "手机",
    "ဖုန်း",
    "ទូរស័ព្ទ",
];

fn labelled_not_phone(before: &str) -> bool {
    let words: Vec<String> = before
        .rsplit(|c: char| c.is_whitespace() || matches!(c, ':' | '：' | '.' | '#' | '(' | ')' | '|' | ','))
        .filter(|w| !w.is_empty())
        .take(2)
        .map(str::to_lowercase)
        .collect();
    if words.iter().any(|w| PHONE_WORDS.iter().any(|p| w == p || (!w.is_ascii() && w.ends_with(p)))) {
        return false;
    }
    words.first().is_some_and(|w| NOT_PHONE_WORDS.contains(&w.as_str()))
}

/// A date written with `.`, `-` or `/` (`05.12.2026`, `2026-11-03`,
/// `12-01-27`): never a phone number.
fn is_date(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split(['.', '-', '/']).collect();
    if parts.len() != 3 || !parts.iter().all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit())) {
        return false;
    }
    let lens: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    matches!(lens.as_slice(), [1 | 2, 1 | 2, 2 | 4] | [4, 1 | 2, 1 | 2])
}

/// Office hours (`08.00-17.00`, `08.30 - 16.00`): never a phone number.
fn is_time_range(raw: &str) -> bool {
    let parts: Vec<&str> = raw.split(['-', '–', ' ']).filter(|p| !p.is_empty()).collect();
    parts.len() == 2
        && parts.iter().all(|p| {
            p.split_once(['.', ':']).is_some_and(|(h, m)| {
                (1..=2).contains(&h.len())
                    && m.len() == 2
                    && h.chars().chain(m.chars()).all(|c| c.is_ascii_digit())
                    && h.parse::<u8>().is_ok_and(|h| h < 25)
                    && m.parse::<u8>().is_ok_and(|m| m < 60)
            })
        })
}

/// Characters that end a token (besides whitespace): what wraps values in
/// prose and markup. `[`/`(` stay inside when they defang (`[.]`, `(dot)`).
fn splits(c: char) -> bool {
    c.is_whitespace()
        || matches!(c, '"' | '\'' | '<' | '>' | '“' | '”' | '‘' | '’' | '«' | '»' | '「' | '」' | '|' | ',' | ';' | '`')
}

/// Words that say which messaging service the next value belongs to.
fn service_of(word: &str) -> Option<Service> {
    // (Thai marks are not alphanumeric: trim punctuation only.)
    let w = word.trim_matches(|c: char| c.is_ascii_punctuation() || matches!(c, '：' | '，' | '。')).to_lowercase();
    if let Some(found) = named_service(&w) {
        return Some(found);
    }
    // Thai and Chinese glue the service's name to the words before it
    // (`ส่งสลิปมาที่ไลน์`, `通过微信`).
    if !w.is_ascii() {
        for name in [
            "ไอดีไลน์",
            "ไลน์ไอดี",
            "แอดไลน์",
            "ไลน์",
            "เทเลแกรม",
            "เทเล",
            "加微信",
            "微信号",
            "微信",
            "飞机",
            "电报",
            "纸飞机",
        ] {
            if w.contains(name) {
                return named_service(name);
            }
        }
    }
    None
}

fn named_service(w: &str) -> Option<Service> {
    match w {
        "telegram" | "tg" | "tele" | "เทเลแกรม" | "เทเลแกรมไอดี" | "เทเล" | "飞机" | "纸飞机" | "电报" => {
            Some(Service::Id(Kind::TelegramHandle))
        }
        "line" | "lineid" | "line-id" | "ไลน์" | "ไอดีไลน์" | "ไลน์ไอดี" | "แอดไลน์" => {
            Some(Service::Id(Kind::LineId))
        }
        "wechat" | "weixin" | "微信" | "微信号" | "加微信" | "wx" | "vx" => Some(Service::Id(Kind::WechatId)),
        "facebook" | "fb" => Some(Service::Profile("facebook")),
        "instagram" | "ig" | "insta" => Some(Service::Profile("instagram")),
        "tiktok" => Some(Service::Profile("tiktok")),
        "twitter" => Some(Service::Profile("x")),
        _ => None,
    }
}

/// What the words before a value say it is.
#[derive(Clone, Copy)]
enum Service {
    /// A messaging id of this kind.
    Id(Kind),
    /// A profile on this platform.
    Profile(&'static str),
}

fn tokens(text: &str, ctx: &Context, out: &mut Vec<Found>) {
    let mut start = None;
    // The service named by the last word or two (`Telegram:`, `LINE ID`).
    let mut service: Option<(Service, usize)> = None;
    let mut n = 0usize;
    let mut prev_ascii = true;
    for (i, c) in text.char_indices().chain(std::iter::once((text.len(), ' '))) {
        // Thai and Chinese write values against their words
        // (`ไลน์:job.home99`, `加微信：kh_hr888`): a change between ASCII
        // and another script ends a token too.
        let script_change = start.is_some() && c.is_ascii() != prev_ascii && !splits(c);
        prev_ascii = c.is_ascii();
        if let Some(s) = start.filter(|_| splits(c) || script_change) {
            n += 1;
            let word = &text[s..i];
            let near = service.filter(|(_, at)| n - at <= 2).map(|(k, _)| k);
            if let Some(kind) = service_of(word) {
                service = Some((kind, n));
            } else if handle(text, s, i, near, ctx, out) {
                // A label names one value: the next column is not its id.
                service = None;
            } else {
                token(text, s, i, ctx, out);
            }
            start = None;
        }
        if start.is_none() && !splits(c) {
            start = Some(i);
        }
    }
}

/// A messaging id the words before it name (`LINE: jobs_th`, `Telegram
/// @recruit`, `微信 wx_jobs`), or a LINE link; true if one was taken.
fn handle(text: &str, start: usize, end: usize, service: Option<Service>, ctx: &Context, out: &mut Vec<Found>) -> bool {
    let raw = &text[start..end];
    let lead = raw.len() - raw.trim_start_matches([':', '：', '-', '(', '[']).len();
    let trail = raw.len() - raw.trim_end_matches(['.', ',', ')', ']', '!', '?']).len();
    if lead + trail >= raw.len() {
        return false;
    }
    let (start, end) = (start + lead, end - trail);
    let written = &text[start..end];
    let lower = written.to_ascii_lowercase();
    let (kind, value) = if let Some(id) = lower
        .split_once("line.me/ti/p/~")
        .map(|(_, id)| id)
        .or_else(|| lower.split_once("line.me/r/ti/p/~").map(|(_, id)| id))
    {
        (Kind::LineId, id.split(['/', '?']).next().unwrap_or_default().to_string())
    } else if let Some(service) = service {
        // An id, not the next word of a sentence ("in line with…"): it has
        // a digit, `_`, `.` or a leading `@`.
        let id_like = written.starts_with('@') || written.chars().any(|c| c.is_ascii_digit() || c == '_' || c == '.');
        if !id_like || written.contains('/') || !written.is_ascii() {
            return false;
        }
        match service {
            // An id has a letter: `LINE Pay 500`, `line 42` are not ids.
            Service::Id(_) if !written.chars().any(|c| c.is_ascii_alphabetic()) => return false,
            Service::Id(kind) => (kind, written.to_string()),
            // A profile name is not a number ("Facebook 2026") nor a host.
            Service::Profile(platform) => {
                let name = written.trim_start_matches('@');
                if name.chars().all(|c| c.is_ascii_digit()) || looks_like_domain(&name.to_ascii_lowercase()) {
                    return false;
                }
                (Kind::SocialProfile, format!("{platform}/{name}"))
            }
        }
    } else {
        return false;
    };
    match normalize(kind, &value, ctx) {
        Ok(n) => {
            out.push(Found { kind, value: n.value, text: written.to_string(), start, end, defanged: false });
            true
        }
        Err(_) => false,
    }
}

/// One token at `text[start..end]`: trimmed of the punctuation prose puts
/// around values, refanged, and kept if a kind normalises it.
fn token(text: &str, start: usize, end: usize, ctx: &Context, out: &mut Vec<Found>) {
    // A Markdown link `[words](target)`: the target.
    let start = text[start..end].find("](").map_or(start, |i| start + i + 2);
    let raw = &text[start..end];
    let lead = raw.len() - raw.trim_start_matches(['(', '[', '{', '*', '_', ':']).len();
    let trail = raw.len() - raw.trim_end_matches(['.', ':', '!', '?', ')', ']', '}', '*', '_', '。', '、']).len();
    if lead + trail >= raw.len() {
        return;
    }
    let (start, end) = (start + lead, end - trail);
    let written = &text[start..end];
    if written.len() < 4 {
        return;
    }
    let refanged = refang(written);
    let defanged = refanged != written;
    let lower = refanged.to_ascii_lowercase();
    let found = |kind: Kind, value: String| Found { kind, value, text: written.to_string(), start, end, defanged };
    let ok = |kind: Kind| normalize(kind, &refanged, ctx).ok().map(|n| n.value);

    // A link to a messaging account (with or without its scheme) is that
    // account; the phone pass does not read a number inside a link.
    let account = telegram_of(&lower)
        .map(|handle| (Kind::TelegramHandle, handle))
        .or_else(|| whatsapp_of(&lower).map(|number| (Kind::Phone, number)));
    if let Some((kind, raw)) = account {
        if let Ok(n) = normalize(kind, &raw, ctx) {
            out.push(found(kind, n.value));
        }
        return;
    }
    // A profile link is the profile (`facebook.com/some.name`); a group,
    // post or page of the platform stays a link.
    let linkish = refanged.split('/').next().is_some_and(|host| host.contains('.')) || lower.contains("://");
    if linkish
        && let Some(v) = ok(Kind::SocialProfile)
        && !v.split_once('/').is_some_and(|(_, name)| NOT_PROFILES.contains(&name))
    {
        out.push(found(Kind::SocialProfile, v));
        return;
    }
    let schemeless_link = lower.split_once('/').is_some_and(|(host, path)| {
        !path.is_empty() && !lower.contains("://") && looks_like_domain(host) && !host.contains('@')
    });
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("www.") || schemeless_link {
        let url = if lower.contains("://") { refanged.clone() } else { format!("https://{refanged}") };
        if let Ok(n) = normalize(Kind::Url, &url, ctx)
            && !is_platform_root(&lower)
        {
            out.push(found(Kind::Url, n.value));
        }
        return;
    }
    if refanged.contains('@') && !refanged.starts_with('@') {
        if let Some(v) = ok(Kind::Email) {
            out.push(found(Kind::Email, v));
        }
        return;
    }
    for kind in [Kind::EvmAddress, Kind::TronAddress, Kind::BtcAddress, Kind::Ip] {
        if let Some(v) = ok(kind) {
            out.push(found(kind, v));
            return;
        }
    }
    if looks_like_domain(&lower)
        && let Some(v) = ok(Kind::Domain)
        && !PLATFORM_HOSTS.contains(&v.as_str())
    {
        out.push(found(Kind::Domain, v));
    }
}

/// Endings reserved for examples and tests (RFC 2606, RFC 6761): not in
/// the public suffix list, but where fictional and test values live.
const SPECIAL_USE: &[&str] = &["example", "test", "invalid", "localhost", "onion"];

/// A host name whose ending is a real public suffix (Mozilla's list) or a
/// special-use one, and not a file's: `now.call`, `Mr.Smith` and
/// `report.pdf` are not domains.
fn looks_like_domain(s: &str) -> bool {
    let Some((name, tld)) = s.rsplit_once('.') else { return false };
    let known = SPECIAL_USE.contains(&tld) || psl::suffix(s.as_bytes()).is_some_and(|suffix| suffix.is_known());
    !name.is_empty()
        && known
        && (2..=24).contains(&tld.len())
        && tld.chars().all(|c| c.is_ascii_alphabetic())
        && !FILE_ENDINGS.contains(&tld)
        && s.chars().all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        && !s.starts_with('.')
        && !s.contains("..")
}

/// A URL at a platform's front page, not at an account on it.
fn is_platform_root(lower: &str) -> bool {
    let rest = lower.split_once("://").map_or(lower, |(_, r)| r);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host = host.strip_prefix("www.").unwrap_or(host);
    PLATFORM_HOSTS.contains(&host) && path.trim_matches('/').is_empty()
}

/// The handle a `t.me/NAME` (or `t.me/s/NAME`, `telegram.me/NAME`) link names.
fn telegram_of(lower: &str) -> Option<String> {
    let rest = lower.split_once("://").map_or(lower, |(_, r)| r);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let path = rest.strip_prefix("t.me/").or_else(|| rest.strip_prefix("telegram.me/"))?;
    let path = path.strip_prefix("s/").unwrap_or(path);
    let name = path.split(['/', '?', '#']).next()?;
    (name.len() >= 5 && !name.starts_with('+') && name != "joinchat").then(|| format!("@{name}"))
}

/// The number a `wa.me/NUMBER` link names.
fn whatsapp_of(lower: &str) -> Option<String> {
    let rest = lower.split_once("://").map_or(lower, |(_, r)| r);
    let rest = rest.strip_prefix("www.").unwrap_or(rest);
    let path = rest.strip_prefix("wa.me/").or_else(|| rest.strip_prefix("api.whatsapp.com/send?phone="))?;
    let digits: String = path.chars().take_while(|c| c.is_ascii_digit()).collect();
    (digits.len() >= 8).then(|| format!("+{digits}"))
}

/// E-mail defanged with spaces (`compliance (at) settle (dot) example`),
/// which the token pass sees as five words.
fn spaced_emails(text: &str, ctx: &Context, out: &mut Vec<Found>) {
    const AT: [&str; 4] = [" (at) ", " [at] ", " (@) ", " [@] "];
    const DOT: [&str; 6] = [" (dot) ", " [dot] ", "(dot)", "[dot]", "[.]", "."];
    let lower = text.to_ascii_lowercase();
    let local_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-');
    let label_len = |s: &str| s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(s.len());
    for marker in AT {
        let mut from = 0;
        while let Some(i) = lower[from..].find(marker) {
            let at = from + i;
            from = at + marker.len();
            let local_start =
                text[..at].char_indices().rev().take_while(|(_, c)| local_char(*c)).last().map(|(j, _)| j);
            let Some(local_start) = local_start else { continue };
            let mut domain = String::new();
            let mut pos = at + marker.len();
            loop {
                let n = label_len(&text[pos..]);
                if n == 0 {
                    break;
                }
                domain.push_str(&text[pos..pos + n]);
                pos += n;
                let Some(sep) = DOT.iter().find(|d| lower[pos..].starts_with(*d)) else { break };
                let after = pos + sep.len();
                if label_len(&text[after..]) == 0 {
                    break;
                }
                domain.push('.');
                pos = after;
            }
            let end = pos;
            let candidate = format!("{}@{domain}", &text[local_start..at]);
            if !domain.contains('.') {
                continue;
            }
            if let Ok(n) = normalize(Kind::Email, &candidate, ctx) {
                out.push(Found {
                    kind: Kind::Email,
                    value: n.value,
                    text: text[local_start..end].to_string(),
                    start: local_start,
                    end,
                    defanged: true,
                });
            }
        }
    }
}

/// Undoes the common defangings.
fn refang(s: &str) -> String {
    let mut t = s.to_string();
    for (from, to) in [
        ("[.]", "."),
        ("(.)", "."),
        ("[dot]", "."),
        ("(dot)", "."),
        ("{.}", "."),
        ("[at]", "@"),
        ("(at)", "@"),
        ("[@]", "@"),
        ("(@)", "@"),
        ("[:]", ":"),
        ("[://]", "://"),
    ] {
        if t.contains(from) {
            t = t.replace(from, to);
        }
    }
    for (from, to) in
        [("hxxps://", "https://"), ("hxxp://", "http://"), ("hXXps://", "https://"), ("hXXp://", "http://")]
    {
        if let Some(rest) = t.strip_prefix(from) {
            t = format!("{to}{rest}");
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(region: &str) -> Context {
        Context { default_region: Some(region.parse().unwrap()) }
    }

    fn kinds(text: &str, region: &str) -> Vec<(Kind, String)> {
        extract(text, &ctx(region)).indicators.into_iter().map(|f| (f.kind, f.value)).collect()
    }

    #[test]
    fn offsets_slice_the_input_to_the_text_as_written() {
        let text = "งานด่วน! โทร 081 234 5678 หรือ LINE ไอดี, เว็บ hxxps://jobs-abroad[.]example/apply เงินดี";
        let got = extract(text, &ctx("TH"));
        assert!(!got.indicators.is_empty());
        for f in &got.indicators {
            assert_eq!(&text[f.start..f.end], f.text, "{f:?}");
        }
        let url = got.indicators.iter().find(|f| f.kind == Kind::Url).expect("the URL");
        assert!(url.defanged && url.value.starts_with("https://jobs-abroad.example"), "{url:?}");
    }

    #[test]
    fn a_job_ad_gives_its_phone_handle_link_and_wallet_and_no_dates_or_prices() {
        let text = "Lowongan kerja di Kamboja, gaji 15.000.000 per bulan, mulai 12/01/2026 jam 09:30. \
                    Hubungi +44 7700 900123 atau t.me/recruit_desk_example, daftar di https://jobs.example/form \
                    atau email hr@jobs.example. Deposit ke 0x52908400098527886E0F7030069857D2E4169EE7.";
        let got = kinds(text, "ID");
        assert!(got.contains(&(Kind::Phone, "+447700900123".into())), "{got:?}");
        assert!(got.contains(&(Kind::TelegramHandle, "recruit_desk_example".into())), "{got:?}");
        let wa = kinds("ติดต่อ wa.me/66812345679 ด่วน", "TH");
        assert_eq!(wa, vec![(Kind::Phone, "+66812345679".to_string())]);
        assert!(got.iter().any(|(k, v)| *k == Kind::Url && v.contains("jobs.example/form")), "{got:?}");
        assert!(got.contains(&(Kind::Email, "hr@jobs.example".into())), "{got:?}");
        assert!(got.iter().any(|(k, _)| *k == Kind::EvmAddress), "{got:?}");
        assert!(!got.iter().any(|(_, v)| v.contains("15000000") || v.contains("2026")), "{got:?}");
    }

    #[test]
    fn a_wrong_checksum_a_file_name_and_a_platform_host_are_not_indicators() {
        let got = kinds(
            "see report.pdf on facebook.com, wallet 0x52908400098527886e0F7030069857D2E4169EE7 (bad checksum)",
            "TH",
        );
        assert!(
            !got.iter().any(|(k, _)| matches!(k, Kind::Domain | Kind::EvmAddress)),
            "nothing here is an indicator: {got:?}"
        );
    }

    #[test]
    fn messaging_ids_are_read_by_the_words_before_them() {
        let got =
            kinds("สมัครงาน แอดไลน์ ไอดีไลน์: jobs_th88 หรือ Telegram @recruit_desk_example 加微信 wx_jobs_example", "TH");
        assert!(got.iter().any(|(k, v)| *k == Kind::LineId && v == "jobs_th88"), "{got:?}");
        assert!(got.iter().any(|(k, _)| *k == Kind::TelegramHandle), "{got:?}");
        assert!(got.iter().any(|(k, v)| *k == Kind::WechatId && v == "wx_jobs_example"), "{got:?}");
        let got = kinds("add me https://line.me/ti/p/~jobs_th88 now", "TH");
        assert!(got.iter().any(|(k, v)| *k == Kind::LineId && v == "jobs_th88"), "{got:?}");
        // Without a word naming the service, a bare word is nothing; after
        // one, only what looks like an id.
        assert!(kinds("hello jobs_th88 there", "TH").is_empty());
        assert!(kinds("this is in line with our policy", "TH").is_empty());
    }

    #[test]
    fn bank_accounts_are_read_where_the_bank_is_named_and_ibans_by_their_checksum() {
        let got = kinds("Transfer ke BCA 123 456 7890 a.n. Budi, atau rekening BRI 0123-01-012345-50-1", "ID");
        assert!(got.contains(&(Kind::BankAccount, "ID:BCA:1234567890".into())), "{got:?}");
        assert!(got.contains(&(Kind::BankAccount, "ID:BRI:012301012345501".into())), "{got:?}");
        assert!(!got.iter().any(|(k, _)| *k == Kind::Phone), "an account is not a phone number: {got:?}");
        let got = kinds("โอนเข้าธนาคารกสิกรไทย เลขบัญชี 123-4-56789-0 ชื่อบัญชี สมชาย", "TH");
        assert_eq!(got, vec![(Kind::BankAccount, "TH:KBANK:1234567890".to_string())]);
        let got = kinds("IBAN GB82 WEST 1234 5698 7654 32 please", "GB");
        assert_eq!(got, vec![(Kind::BankAccount, "GB82WEST12345698765432".to_string())]);
        // Another word between the bank and the number: not its account.
        let got = kinds("Bayar via BCA, lalu hubungi 0812-3456-7890", "ID");
        assert_eq!(got, vec![(Kind::Phone, "+6281234567890".to_string())]);
        // A wrong IBAN checksum, a salary after a bank's name: nothing.
        assert!(kinds("IBAN GB83 WEST 1234 5698 7654 32", "GB").is_empty());
        assert!(kinds("gaji BCA Rp 15.000.000", "ID").is_empty());
    }

    #[test]
    fn profile_links_are_profiles_and_words_joined_by_a_dot_are_not_domains() {
        let got = kinds(
            "FB: https://www.facebook.com/jobs.abroad.th, group facebook.com/groups/kerja.kamboja, \
             tiktok.com/@kh_jobs_example and IG @jobs.th88",
            "TH",
        );
        assert!(got.contains(&(Kind::SocialProfile, "facebook/jobs.abroad.th".into())), "{got:?}");
        assert!(got.contains(&(Kind::SocialProfile, "tiktok/kh_jobs_example".into())), "{got:?}");
        assert!(got.contains(&(Kind::SocialProfile, "instagram/jobs.th88".into())), "{got:?}");
        assert!(got.contains(&(Kind::Url, "https://facebook.com/groups/kerja.kamboja".into())), "{got:?}");
        assert!(kinds("Gaji tinggi.Hubungi kami, Mr.Smith said so", "ID").is_empty());
        assert_eq!(
            kinds("see kh-jobs.example/apply now", "TH"),
            vec![(Kind::Url, "https://kh-jobs.example/apply".into())]
        );
    }

    /// Text made of the pieces values and traps are made of, in any order.
    fn texty() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = prop::sample::select(vec![
            " ",
            "\n",
            "+44 7700 900123",
            "081 234 5678",
            "๐๘๑",
            "０８１",
            "t.me/",
            "wa.me/",
            "@",
            "[.]",
            "(at)",
            " (dot) ",
            "hxxps://",
            "kh-jobs",
            ".example",
            "/apply",
            "BCA ",
            "เลขบัญชี ",
            "ไลน์",
            "微信",
            "：",
            "LINE ",
            "Telegram ",
            "12/01/2026",
            "08.00-17.00",
            "0x52908400098527886E0F7030069857D2E4169EE7",
            "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
            "GB82 WEST",
            " 1234 5698 7654 32",
            "](",
            "`",
            "-",
            ".",
            "/",
            "é",
            "🙂",
            "1",
            "0",
            "IG ",
            "facebook.com/",
        ]);
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    proptest::proptest! {
        #[test]
        fn any_text_gives_hits_whose_offsets_slice_it_and_whose_values_are_normal(text in texty()) {
            let ctx = ctx("TH");
            for f in extract(&text, &ctx).indicators {
                proptest::prop_assert_eq!(&text[f.start..f.end], f.text.as_str());
                let again = normalize(f.kind, &f.value, &ctx).map(|n| n.value);
                proptest::prop_assert_eq!(again.as_deref(), Ok(f.value.as_str()), "{:?} is not a fixed point", f);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let text = String::from_utf8_lossy(&bytes);
            for f in extract(&text, &ctx("ID")).indicators {
                proptest::prop_assert_eq!(&text[f.start..f.end], f.text.as_str());
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_and_offsets_stay_on_boundaries() {
        for text in ["", "[", "@", "hxxp://", "t.me/", "wa.me/", "+", "０８１ ２３４ ５６７８", "a.b", "🙂.example ✓"]
        {
            for f in extract(text, &ctx("TH")).indicators {
                assert_eq!(&text[f.start..f.end], f.text);
            }
        }
    }
}
