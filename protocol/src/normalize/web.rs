//! URLs, domains, email addresses and IPs.

use std::net::IpAddr;

use super::{Reason, refang};

/// WHATWG URL (`url` crate): lower-case IDNA host, default port dropped,
/// no fragment. Only http(s): other schemes are not web indicators.
pub(super) fn url(s: &str) -> Result<String, Reason> {
    let s = refang(s);
    if !s.contains("://") {
        return Err(Reason::UrlNoScheme);
    }
    let mut u = url::Url::parse(&s).map_err(|e| Reason::UrlUnparsable(e.to_string()))?;
    if !matches!(u.scheme(), "http" | "https") {
        return Err(Reason::UrlScheme(u.scheme().chars().take(16).collect()));
    }
    let host = u.host_str().ok_or(Reason::UrlNoHost)?.to_string();
    // One trailing dot is the root and is dropped; an empty label anywhere
    // else is no host name (and dropping dots one at a time would make
    // normalising a normal form change it again: found by fuzzing).
    let host = host.strip_suffix('.').unwrap_or(&host);
    if matches!(u.host(), Some(url::Host::Domain(_))) && host.split('.').any(str::is_empty) {
        return Err(Reason::UrlUnparsable("the host name has an empty label (two dots in a row)".into()));
    }
    if host.len() != u.host_str().map_or(0, str::len) {
        let host = host.to_string();
        u.set_host(Some(&host)).map_err(|e| Reason::UrlUnparsable(e.to_string()))?;
    }
    u.set_fragment(None);
    Ok(u.to_string())
}

/// UTS-46 ASCII (`idna`), lower case, no trailing dot.
pub(super) fn domain(s: &str) -> Result<String, Reason> {
    let s = refang(s);
    if s.contains("://") || s.contains('/') {
        return Err(Reason::DomainIsUrl);
    }
    let s = s.strip_suffix('.').unwrap_or(&s);
    let ascii = idna::domain_to_ascii(s).map_err(|_| Reason::Domain("IDNA conversion failed"))?;
    check_domain(&ascii)?;
    Ok(ascii)
}

fn check_domain(d: &str) -> Result<(), Reason> {
    if d.len() > 253 {
        return Err(Reason::Domain("longer than 253 characters"));
    }
    let labels: Vec<&str> = d.split('.').collect();
    if labels.len() < 2 {
        return Err(Reason::Domain("needs at least two labels"));
    }
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return Err(Reason::Domain("empty or over-long label"));
        }
        if l.starts_with('-') || l.ends_with('-') {
            return Err(Reason::Domain("label starts or ends with '-'"));
        }
        if !l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_') {
            return Err(Reason::Domain("character not allowed in a host name"));
        }
    }
    if d.parse::<IpAddr>().is_ok() || labels.iter().all(|l| l.bytes().all(|b| b.is_ascii_digit())) {
        return Err(Reason::Domain("this is an IP address; use kind ip"));
    }
    Ok(())
}

/// Local part kept as written (it may be case-sensitive), domain normalised.
pub(super) fn email(s: &str) -> Result<String, Reason> {
    let s = refang(s);
    let s = s.strip_prefix("mailto:").unwrap_or(&s);
    let (local, host) = s.rsplit_once('@').ok_or(Reason::Email("no '@'"))?;
    if local.is_empty() || local.len() > 64 {
        return Err(Reason::Email("local part empty or longer than 64"));
    }
    if local.chars().any(|c| c.is_whitespace() || c == '@' || c == '<' || c == '>') {
        return Err(Reason::Email("local part has spaces or '@<>'"));
    }
    let host = domain(host).map_err(|_| Reason::Email("domain part is not a valid domain"))?;
    Ok(format!("{local}@{host}"))
}

/// Canonical text form of the address (RFC 5952 for IPv6).
pub(super) fn ip(s: &str) -> Result<String, Reason> {
    let s = refang(s);
    let s = s.trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = s.parse().map_err(|_| Reason::Ip)?;
    Ok(ip.to_string())
}
