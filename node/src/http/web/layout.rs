//! What every page shares: the frame and navigation, TLP badges, flags,
//! dates and the table of hits.

use jiff::tz::TimeZone;
use kawan_protocol::{Content, Tlp};
use maud::{DOCTYPE, Markup, html};

use super::{Session, i18n::Lang};
use crate::{
    local::tokens::Role,
    service::{Fault, Found, Service, ServiceError, Warning},
};

/// A whole page: header with navigation (when logged in), title, body.
pub(super) fn page(svc: &Service, s: Option<&Session>, title: &str, body: Markup) -> Markup {
    frame(svc, s.map_or(Lang::En, |s| s.lang), s, title, body)
}

/// A page for a browser not logged in, in the language it asks for.
pub(super) fn public_page(svc: &Service, lang: Lang, title: &str, body: Markup) -> Markup {
    frame(svc, lang, None, title, body)
}

fn frame(svc: &Service, lang: Lang, s: Option<&Session>, title: &str, body: Markup) -> Markup {
    let t = |id: &str| super::i18n::t(lang, id);
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Kawan" }
                link rel="stylesheet" href="/static/style.css";
            }
            body {
                header {
                    strong { "Kawan" }
                    @if let Some(s) = s {
                        a href="/" { (t("nav-home")) }
                        a href="/screen" { (t("nav-screen")) }
                        a href="/bulk" { (t("nav-bulk")) }
                        a href="/publish" { (t("nav-publish")) }
                        a href="/library" { (t("nav-library")) }
                        a href="/requests" { (t("nav-requests")) }
                        a href="/referrals" { (t("nav-referrals")) }
                        a href="/alerts" { (t("nav-alerts")) }
                        a href="/deconflict" { (t("nav-deconflict")) }
                        a href="/cases" { (t("nav-cases")) }
                        @if matches!(s.caller.role, Role::Operator | Role::Coordinator) { a href="/network" { (t("nav-network")) } }
                        form.purpose method="post" action="/purpose" {
                            input type="hidden" name="csrf" value=(s.csrf);
                            label {
                                (t("purpose-label")) " "
                                input type="text" name="purpose" maxlength="300" size="28"
                                    value=(s.caller.purpose.as_deref().unwrap_or(""))
                                    placeholder=(t("purpose-placeholder"));
                            }
                            " " button type="submit" { (t("purpose-set")) }
                        }
                        span.who {
                            (svc.config().agency.name) " · " (s.caller.name)
                            form method="post" action="/logout" style="display:inline" {
                                input type="hidden" name="csrf" value=(s.csrf);
                                " " button type="submit" { (t("log-out")) }
                            }
                        }
                        nav.languages aria-label=(t("language")) {
                            @for l in Lang::ALL {
                                @if l == lang { strong lang=(l.code()) { (super::i18n::t(l, "lang-name")) } }
                                @else { a href=(format!("/lang/{}", l.code())) hreflang=(l.code()) lang=(l.code()) { (super::i18n::t(l, "lang-name")) } }
                            }
                        }
                    }
                }
                main { h1 { (title) } (body) }
                @if let Some(s) = s {
                    footer.muted { (super::i18n::t_args(lang, "times-in", &[("zone", s.zone.iana_name().unwrap_or("UTC").into())])) }
                }
                script src="/static/zone.js" {}
            }
        }
    }
}

pub(super) fn tlp_badge(tlp: Tlp) -> Markup {
    html! { span class={"tlp tlp-" (tlp.as_str())} { (tlp) } }
}

pub(super) fn flags(lang: Lang, f: &Found) -> Markup {
    let h = &f.hit;
    let t = |id: &str| super::i18n::t(lang, id);
    let n = |id: &str, n: usize| super::i18n::t_args(lang, id, &[("n", n.into())]);
    html! {
        @if h.retracted.is_some() { span.flag { (t("flag-retracted")) } }
        @if h.revisions > 0 { span.flag { (n("flag-revised", h.revisions as usize)) } }
        @if h.author_revoked { span.flag { (t("flag-revoked")) } }
        @if h.author_equivocating { span.flag { (t("flag-equivocating")) } }
        @if !h.false_positive_by.is_empty() { span.flag { (n("flag-false-positive", h.false_positive_by.len())) } }
        (processing(lang, &h.content))
    }
}

/// A record's handling codes (H1–H3; nothing for H0) and evaluation
/// ("B2"), each with what it means on hover.
pub(super) fn processing(lang: Lang, content: &Content) -> Markup {
    let t = |id: &str| super::i18n::t(lang, id);
    let codes: Vec<&str> = content.handling().map(|h| h.codes()).unwrap_or_default();
    html! {
        @for code in codes.iter().filter(|c| **c != "H0") {
            span.flag title=(t(&format!("hnd-{}", code.to_lowercase()))) { (code) } " "
        }
        @if let Some(e) = content.evaluation() { span.flag title=(t("ind-evaluation")) { (e.to_string()) } }
    }
}

/// The files a record carries: images shown, other files offered as
/// downloads; each with its SHA-256 and, for evidence, when it was
/// captured. Fetched from members when first opened (`/files/{hash}`).
pub(super) fn files(lang: Lang, zone: &TimeZone, files: &[kawan_protocol::attachment::Attachment]) -> Markup {
    let t = |id: &str| super::i18n::t(lang, id);
    let kb = |n: u64| format!("{:.0} KB", (n as f64 / 1024.0).ceil());
    html! {
        @if !files.is_empty() {
            ul.files aria-label=(t("file-list")) {
                @for a in files {
                    li {
                        @let href = format!("/files/{}", a.hash);
                        @if a.media_type.starts_with("image/") {
                            figure {
                                a href=(href) { img src=(href) alt=(a.name) loading="lazy"; }
                                figcaption { (a.name) " (" (kb(a.size)) ")" }
                            }
                        } @else {
                            a href=(href) download=(a.name) { (a.name) } " (" (a.media_type) ", " (kb(a.size)) ")"
                        }
                        br;
                        small {
                            "SHA-256 " code { (a.sha256.to_string()) }
                            @if let Some(c) = a.captured_ms { " · " (t("file-captured")) " " (time(zone, c)) }
                        }
                    }
                }
            }
        }
    }
}

/// One value's kind as people say it ("Phone number").
pub(super) fn kind_one(lang: Lang, k: kawan_protocol::Kind) -> String {
    super::i18n::t(lang, &format!("kind1-{}", k.as_str()))
}

/// An agency's name; a bare key is cut to something a table can hold.
pub(super) fn agency(f: &Found) -> String {
    if f.author == f.hit.author.to_string() { format!("{}…", &f.author[..12]) } else { f.author.clone() }
}

/// A day in the reader's time zone (`2026-11-26`), or a dash.
pub(super) fn date(zone: &TimeZone, ms: Option<u64>) -> String {
    ms.and_then(|m| zoned(zone, m)).map_or_else(|| "—".into(), |z| z.strftime("%Y-%m-%d").to_string())
}

/// A moment in the reader's time zone (`2026-11-26 14:05 +07`).
pub(super) fn time(zone: &TimeZone, ms: u64) -> String {
    zoned(zone, ms).map_or_else(|| "—".into(), |z| z.strftime("%Y-%m-%d %H:%M %Z").to_string())
}

fn zoned(zone: &TimeZone, ms: u64) -> Option<jiff::Zoned> {
    let ms = i64::try_from(ms).ok()?;
    Some(jiff::Timestamp::from_millisecond(ms).ok()?.to_zoned(zone.clone()))
}

pub(super) fn hits_table(s: &Session, hits: &[Found]) -> Markup {
    let lang = s.lang;
    let t = |id: &str| super::i18n::t(lang, id);
    html! {
        table {
            thead { tr { th { (t("col-value")) } th { (t("col-tlp")) } th { (t("col-agency")) } th { (t("col-confidence")) } th { (t("col-seen")) } th { (t("col-sightings")) } th { (t("col-flags")) } } }
            tbody {
                @for f in hits {
                    @if let Content::Indicator(i) = &f.hit.content {
                        tr {
                            td { a href={"/indicator/" (f.hit.id)} { code { (i.value) } } br; span.muted { (kind_one(lang, i.kind)) } }
                            td { (tlp_badge(i.tlp)) }
                            td { (agency(f)) }
                            td { (i.confidence) }
                            td { (date(&s.zone, i.first_seen)) " / " (date(&s.zone, i.last_seen)) }
                            td { (f.hit.sighted_by.len()) " ✓ · " (f.hit.false_positive_by.len()) " ✗" }
                            td { (flags(lang, f)) }
                        }
                    }
                }
            }
        }
    }
}

/// A refusal in the reader's language: a sentence for its code (or, for a
/// code without one, its kind of fault), then the node's own detail, which
/// names the field or value and stays English (marked so).
pub(super) fn refusal(lang: Lang, e: &ServiceError) -> Markup {
    let code = format!("err-{}", e.code.replace('_', "-"));
    let headline =
        if super::i18n::has(&code) { super::i18n::t(lang, &code) } else { super::i18n::t(lang, fault_id(e.fault)) };
    html! {
        div.error role="alert" {
            (headline)
            @if lang != Lang::En || headline != e.message { br; span.muted { (super::i18n::t(lang, "err-detail")) " " span lang="en" { (e.message) } } }
        }
    }
}

fn fault_id(f: Fault) -> &'static str {
    match f {
        Fault::BadRequest => "err-fault-bad-request",
        Fault::Invalid => "err-fault-invalid",
        Fault::Unauthorized => "err-fault-unauthorized",
        Fault::Forbidden => "err-fault-forbidden",
        Fault::NotFound => "err-fault-not-found",
        Fault::Conflict => "err-fault-conflict",
        Fault::TooLarge => "err-fault-too-large",
        Fault::UnsupportedMediaType => "err-fault-unsupported-media-type",
        Fault::Internal => "err-fault-internal",
    }
}

/// Something the operator must act on, in the reader's language.
pub(super) fn warning(s: &Session, w: &Warning) -> String {
    let t = |id: &str, args: &[(&str, fluent_bundle::FluentValue)]| super::i18n::t_args(s.lang, id, args);
    match w {
        Warning::KeyRetired { name } => {
            t("warn-key-retired", &[("name", name.clone().into()), ("file", crate::node_dir::NEXT_KEY.into())])
        }
        Warning::TooFewCoordinators { active, needed } => {
            t("warn-too-few-coordinators", &[("active", (*active).into()), ("needed", (*needed).into())])
        }
        Warning::CoordinatorsExpiring { from_ms, needed } => {
            t("warn-coordinators-expiring", &[("date", time(&s.zone, *from_ms).into()), ("needed", (*needed).into())])
        }
        Warning::NewerRecords { count } => t("warn-newer-records", &[("count", (*count).into())]),
    }
}

/// A warning about a value (it stays valid), in the reader's language.
pub(super) fn value_warning(lang: Lang, w: &kawan_protocol::normalize::Warning) -> String {
    use kawan_protocol::normalize::Warning as W;
    super::i18n::t(
        lang,
        match w {
            W::PhoneRangeNotInService => "value-warn-phone-range",
            W::EvmNoChecksum => "value-warn-evm-checksum",
        },
    )
}
