//! The home page below the search box: what changed since the analyst's
//! last visit, what waits for them, the network's health, and the last
//! weeks drawn as charts (each with its numbers as a table).

use maud::{Markup, PreEscaped, html};

use super::{
    Session,
    charts::{Series, bars},
    layout::{date, hits_table},
};
use crate::service::{Home, Tally};

/// An indicator kind or record type as people say it.
pub(super) fn kind_label(k: &str) -> String {
    match k {
        "phone" => "Phone numbers",
        "email" => "Email addresses",
        "url" => "URLs",
        "domain" => "Domains",
        "ip" => "IP addresses",
        "telegram_handle" => "Telegram handles",
        "line_id" => "LINE ids",
        "wechat_id" => "WeChat ids",
        "social_profile" => "Social media profiles",
        "tron_address" => "TRON wallets",
        "evm_address" => "Ethereum-style wallets",
        "btc_address" => "Bitcoin wallets",
        "bank_account" => "Bank accounts",
        "company_name" => "Company names",
        "app_id" => "Apps",
        "image_hash" => "Image hashes",
        "typology" => "Typologies",
        "technique" => "Techniques",
        "referral" => "Referrals",
        other => return other.to_string(),
    }
    .to_string()
}

/// One value's kind as people say it, for pickers: "Phone number".
pub(super) fn kind_name(k: &str) -> String {
    let plural = kind_label(k);
    match plural.as_str() {
        "Email addresses" => "Email address".into(),
        "IP addresses" => "IP address".into(),
        "Apps" => "App".into(),
        "Image hashes" => "Image hash".into(),
        p => p.strip_suffix('s').unwrap_or(p).to_string(),
    }
}

/// A channel as people say it.
fn channel_label(c: &str) -> String {
    match c.strip_prefix("group:") {
        Some(g) => format!("Sharing group {g}"),
        None if c == "network" => "Whole network".into(),
        None => c.to_string(),
    }
}

fn tally_list(t: &Tally, label: impl Fn(&str) -> String) -> Markup {
    html! { ul.tally { @for (name, n) in t { li { (label(name)) ": " strong { (n) } } } } }
}

/// The top entries of a weekly series map as chart series (the rest summed).
fn top_series(
    m: &std::collections::BTreeMap<String, Vec<u64>>,
    label: impl Fn(&str) -> String,
) -> Vec<(String, Vec<f64>)> {
    let mut all: Vec<(&String, &Vec<u64>)> = m.iter().collect();
    all.sort_by_key(|(_, v)| std::cmp::Reverse(v.iter().sum::<u64>()));
    let mut out: Vec<(String, Vec<f64>)> =
        all.iter().take(4).map(|(k, v)| (label(k), v.iter().map(|x| *x as f64).collect())).collect();
    if all.len() > 4 {
        let mut rest = vec![0.0; crate::service::WEEKS];
        for (_, v) in &all[4..] {
            for (r, x) in rest.iter_mut().zip(v.iter()) {
                *r += *x as f64;
            }
        }
        out.push(("Others".into(), rest));
    }
    out
}

fn weekly_chart(title: &str, weeks: &[u64], series: &[(String, Vec<f64>)]) -> Markup {
    let labels: Vec<String> = weeks.iter().map(|w| date(Some(*w))[5..].to_string()).collect();
    let s: Vec<Series> = series.iter().map(|(n, v)| Series { name: n, values: v.clone() }).collect();
    html! {
        figure {
            @if let Some(svg) = bars(title, &labels, &s, "records") { (PreEscaped(svg)) }
            figcaption { (title) }
            table.figures {
                thead { tr { th { "Week of" } @for l in &labels { th { (l) } } } }
                tbody { @for (name, values) in series { tr { th { (name) } @for v in values { td { (v) } } } } }
            }
        }
    }
}

fn top_chart(title: &str, t: &Tally, label: impl Fn(&str) -> String) -> Markup {
    let labels: Vec<String> = t.iter().map(|(n, _)| label(n)).collect();
    let values = t.iter().map(|(_, n)| *n as f64).collect();
    html! {
        figure {
            @if let Some(svg) = bars(title, &labels, &[Series { name: "indicators", values }], "indicators") { (PreEscaped(svg)) }
            figcaption { (title) }
            @if t.is_empty() { p.muted { "None yet." } }
        }
    }
}

pub(super) fn dashboard(s: &Session, h: &Home) -> Markup {
    html! {
        section.home {
            h2 { @match h.last_visit_ms { Some(t) => { "Since your last visit (" (date(Some(t))) ")" }, None => "In the last day" } }
            @if h.new_total == 0 { p.muted { "No new records from partners." } } @else {
                p { strong { (h.new_total) } " new record(s) from partners." }
                div.columns {
                    div { h3 { "By agency" } (tally_list(&h.new_by_agency, str::to_string)) }
                    div { h3 { "By kind" } (tally_list(&h.new_by_kind, kind_label)) }
                    div { h3 { "By channel" } (tally_list(&h.new_by_channel, channel_label)) }
                }
            }
            h2 { "Waiting for you" }
            ul {
                li { a href="/alerts" { (h.unread_alerts.len()) " unread alert(s)" } @if let Some(a) = h.unread_alerts.first() { " — latest: " (a.author_name) " published " code { (a.value) } } }
                li { a href="/deconflict" { (h.pending_contacts) " contact request(s) from partners" } " to answer" }
                li { (h.expired.len()) " of this agency's indicator(s) past their validity: re-check or retract" }
                li { (h.revised.len()) " record(s) your cases use were revised by their authors" }
            }
            @if !h.expired.is_empty() { h3 { "Past their validity" } (hits_table(&h.expired)) }
            @if !h.revised.is_empty() { h3 { "Revised since you last looked" } (hits_table(&h.revised)) }
            h2 { "Network" }
            p { (h.connected) " of " (h.members.saturating_sub(1)) " partner node(s) connected"
                @if s.caller.role == crate::tokens::Role::Operator { " — " a href="/network" { "details" } } }
            h2 { "The last " (crate::service::WEEKS) " weeks" }
            div.charts {
                (weekly_chart("Records per week, by kind", &h.weeks, &top_series(&h.weekly_by_kind, kind_label)))
                (weekly_chart("Records per week, by agency", &h.weeks, &top_series(&h.weekly_by_agency, str::to_string)))
                (top_chart("Top platforms", &h.top_platforms, str::to_string))
                (top_chart("Top countries", &h.top_countries, str::to_string))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_has_a_name_for_people() {
        for k in kawan_protocol::Kind::ALL {
            let (one, many) = (super::kind_name(k.as_str()), super::kind_label(k.as_str()));
            assert!(one != k.as_str() && many != k.as_str() && !one.contains('_'), "{k}: {one} / {many}");
            assert!(!one.ends_with("hashe") && !one.ends_with("addresse"), "{one}");
        }
    }
}
