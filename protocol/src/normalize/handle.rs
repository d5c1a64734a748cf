//! Messaging handles and social-media profiles: strip the `@`, the link
//! prefix and the query string, then case-fold, because all of these services
//! treat handles case-insensitively.

use super::Reason;

/// Removes any of `prefixes` (case-insensitively, with or without a scheme
/// and `www.`), then a leading `@`, a query string and trailing slashes.
fn strip_link<'a>(s: &'a str, prefixes: &[&str]) -> &'a str {
    let mut t = s.trim();
    for scheme in ["https://", "http://", "www."] {
        t = strip_prefix_ci(t, scheme).unwrap_or(t);
    }
    if let Some(rest) = prefixes.iter().find_map(|p| strip_prefix_ci(t, p)) {
        t = rest;
    }
    let t = t.split(['?', '#', '&']).next().unwrap_or("");
    t.trim_end_matches('/').trim_start_matches('@')
}

/// `s` without `prefix`, compared ASCII-case-insensitively.
pub(super) fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

fn chars_ok(s: &str, extra: &[char]) -> bool {
    s.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// Telegram: 5–32 of `a-z 0-9 _`, starting with a letter.
pub(super) fn telegram(s: &str) -> Result<String, Reason> {
    let h =
        strip_link(s, &["t.me/s/", "t.me/", "telegram.me/s/", "telegram.me/", "telegram.dog/", "tg://resolve?domain="])
            .to_ascii_lowercase();
    let ok = (5..=32).contains(&h.len()) && h.starts_with(|c: char| c.is_ascii_lowercase()) && chars_ok(&h, &['_']);
    if ok { Ok(h) } else { Err(Reason::Handle("5-32 letters, digits or '_', starting with a letter")) }
}

/// LINE: up to 20 of `a-z 0-9 . _ -`. Official accounts start with `@`, which
/// is kept because `@abc` and `abc` are different LINE ids.
pub(super) fn line(s: &str) -> Result<String, Reason> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    let official = t.starts_with('@') || ["/ti/p/@", "page.line.me/"].iter().any(|p| lower.contains(p));
    let h = strip_link(
        t,
        &[
            "line.me/ti/p/~",
            "line.me/ti/p/",
            "line.me/r/ti/p/",
            "line://ti/p/",
            "page.line.me/",
            "line.me/r/home/public/main?id=",
        ],
    )
    .trim_start_matches('~')
    .trim_start_matches('@');
    let h = h.to_ascii_lowercase();
    let ok = (1..=20).contains(&h.len()) && chars_ok(&h, &['.', '_', '-']);
    match (ok, official) {
        (true, true) => Ok(format!("@{h}")),
        (true, false) => Ok(h),
        _ => Err(Reason::Handle("1-20 letters, digits, '.', '_' or '-' (official accounts start with '@')")),
    }
}

/// WeChat: 6–20 of `a-z 0-9 _ -`, starting with a letter.
pub(super) fn wechat(s: &str) -> Result<String, Reason> {
    let h = s.trim().trim_start_matches('@').to_ascii_lowercase();
    let ok =
        (6..=20).contains(&h.len()) && h.starts_with(|c: char| c.is_ascii_lowercase()) && chars_ok(&h, &['_', '-']);
    if ok { Ok(h) } else { Err(Reason::Handle("6-20 letters, digits, '_' or '-', starting with a letter")) }
}

/// Platforms whose profiles are `social_profile` indicators, with the hosts
/// their profile URLs use.
const PLATFORMS: &[(&str, &[&str])] = &[
    ("facebook", &["facebook.com/", "m.facebook.com/", "web.facebook.com/", "fb.com/", "fb.me/", "m.me/"]),
    ("instagram", &["instagram.com/", "instagr.am/"]),
    ("tiktok", &["tiktok.com/", "m.tiktok.com/"]),
    ("x", &["x.com/", "twitter.com/", "mobile.twitter.com/"]),
    ("youtube", &["youtube.com/"]),
    ("linkedin", &["linkedin.com/in/", "linkedin.com/company/"]),
    ("threads", &["threads.net/"]),
    ("reddit", &["reddit.com/user/", "reddit.com/u/"]),
    ("vk", &["vk.com/"]),
    ("zalo", &["zalo.me/"]),
    ("telegram", &["t.me/"]),
    ("whatsapp", &[]),
    ("line", &[]),
    ("wechat", &[]),
    ("kakaotalk", &[]),
    ("viber", &[]),
    ("signal", &[]),
    ("discord", &["discord.com/users/"]),
    ("snapchat", &["snapchat.com/add/"]),
    ("tinder", &[]),
    ("bumble", &[]),
    ("hinge", &[]),
    ("tantan", &[]),
    ("jobstreet", &[]),
    ("jobsdb", &[]),
    ("indeed", &[]),
];
const PLATFORM_NAMES: &str = "facebook, instagram, tiktok, x, youtube, linkedin, threads, reddit, vk, zalo, telegram, whatsapp, line, wechat, kakaotalk, viber, signal, discord, snapchat, tinder, bumble, hinge, tantan, jobstreet, jobsdb, indeed";

/// Whether `p` is a platform name this module knows.
pub fn is_platform(p: &str) -> bool {
    PLATFORMS.iter().any(|(name, _)| *name == p)
}

/// Whether `p` names a platform a referral can go to: a known platform,
/// or `other:<name>` (lower case letters, digits, '.', '_', '-').
pub fn is_referral_platform(p: &str) -> bool {
    match p.strip_prefix("other:") {
        Some(name) => {
            (1..=64).contains(&name.len())
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        }
        None => is_platform(p),
    }
}

/// The platform names a referral may use, for error messages and pickers.
pub fn platforms() -> impl Iterator<Item = &'static str> {
    PLATFORMS.iter().map(|(name, _)| *name)
}

/// `platform/handle`, from either that form or a profile URL.
pub(super) fn social_profile(s: &str) -> Result<String, Reason> {
    let (platform, rest) = match from_url(s) {
        Some(found) => found,
        None => {
            let (p, h) = s.split_once('/').ok_or(Reason::SocialFormat(PLATFORM_NAMES))?;
            let p = p.trim().to_ascii_lowercase();
            let p = if p == "twitter" { "x".to_string() } else { p };
            let name = PLATFORMS
                .iter()
                .map(|(n, _)| *n)
                .find(|n| *n == p)
                .ok_or_else(|| Reason::SocialPlatform(p.chars().take(32).collect()))?;
            (name, h.trim())
        }
    };
    let handle = profile_handle(platform, rest)?;
    Ok(format!("{platform}/{handle}"))
}

fn from_url(s: &str) -> Option<(&'static str, &str)> {
    let mut t = s.trim();
    for scheme in ["https://", "http://", "www."] {
        t = strip_prefix_ci(t, scheme).unwrap_or(t);
    }
    PLATFORMS
        .iter()
        .find_map(|(name, hosts)| hosts.iter().find_map(|h| strip_prefix_ci(t, h)).map(|rest| (*name, rest)))
}

fn profile_handle(platform: &str, rest: &str) -> Result<String, Reason> {
    // facebook.com/profile.php?id=1000… is the numeric-id form.
    let rest = rest.trim();
    // facebook.com/people/Some-Name/1000…/ names the profile by its id.
    let rest = match strip_prefix_ci(rest, "people/").filter(|_| platform == "facebook") {
        Some(p) => p.split('/').nth(1).unwrap_or(""),
        None => rest,
    };
    if let Some(id) = strip_prefix_ci(rest, "profile.php?id=").filter(|_| platform == "facebook") {
        let id: String = id.chars().take_while(char::is_ascii_digit).collect();
        return if id.is_empty() { Err(Reason::Handle("a numeric profile id")) } else { Ok(id) };
    }
    let h = rest.split(['?', '#']).next().unwrap_or("");
    let h = h.trim_end_matches('/');
    let h = h.split('/').next().unwrap_or("");
    let h = h.trim_start_matches('@').to_ascii_lowercase();
    if (1..=100).contains(&h.len()) && chars_ok(&h, &['.', '_', '-']) {
        Ok(h)
    } else {
        Err(Reason::Handle("1-100 letters, digits, '.', '_' or '-'"))
    }
}
