//! Mobile apps: `android:<package>` or `ios:<numeric App Store id>`, also
//! read from Play Store and App Store links. Scam "investment" apps are often
//! side-loaded, so the package name is the stable selector.

use super::{Reason, handle::strip_prefix_ci};

pub(super) fn normalize(s: &str) -> Result<String, Reason> {
    let s = s.trim();
    if let Some(pkg) = strip_prefix_ci(s, "android:") {
        return android(pkg);
    }
    if let Some(id) = strip_prefix_ci(s, "ios:") {
        return ios(id.strip_prefix("id").unwrap_or(id));
    }
    if s.contains("play.google.com/") {
        let u = url::Url::parse(s).map_err(|_| Reason::AppId("unreadable Play Store link"))?;
        let id = u.query_pairs().find(|(k, _)| k == "id").map(|(_, v)| v.into_owned());
        return android(&id.ok_or(Reason::AppId("Play Store link without id="))?);
    }
    if s.contains("apps.apple.com/") || s.contains("itunes.apple.com/") {
        let path = s.split(['?', '#']).next().unwrap_or("");
        let last = path.trim_end_matches('/').rsplit('/').next().unwrap_or("");
        let id = last.strip_prefix("id").ok_or(Reason::AppId("App Store link without /id<digits>"))?;
        return ios(id);
    }
    if let Some(id) = s.strip_prefix("id").filter(|r| r.bytes().all(|b| b.is_ascii_digit())) {
        return ios(id);
    }
    if s.contains('.') {
        return android(s);
    }
    Err(Reason::AppId("cannot tell the store"))
}

/// Android package names: two or more dot-separated segments of
/// `[A-Za-z][A-Za-z0-9_]*`. Case is kept: package names are case-sensitive.
fn android(pkg: &str) -> Result<String, Reason> {
    let segs: Vec<&str> = pkg.split('.').collect();
    let ok = segs.len() >= 2
        && pkg.len() <= 255
        && segs.iter().all(|seg| {
            seg.starts_with(|c: char| c.is_ascii_alphabetic())
                && seg.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        });
    if ok { Ok(format!("android:{pkg}")) } else { Err(Reason::AppId("bad Android package name")) }
}

fn ios(id: &str) -> Result<String, Reason> {
    let ok = (1..=12).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit()) && !id.starts_with('0');
    if ok { Ok(format!("ios:{id}")) } else { Err(Reason::AppId("App Store ids are digits")) }
}
