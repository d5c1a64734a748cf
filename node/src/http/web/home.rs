//! The home page below the search box: what changed since the analyst's
//! last visit, what waits for them, the network's health, and the last
//! weeks drawn as charts (each with its numbers as a table).

use maud::{Markup, PreEscaped, html};

use super::{
    Session,
    charts::{Series, bars},
    i18n::{self, Lang},
    layout::{date, hits_table},
};
use crate::service::{Home, Tally};

/// An indicator kind or record type as people say it, in `lang`.
pub(super) fn kind_label(lang: Lang, k: &str) -> String {
    let id = format!("kind-{k}");
    if i18n::has(&id) { i18n::t(lang, &id) } else { k.to_string() }
}

/// A channel as people say it.
pub(super) fn channel_label(lang: Lang, c: &str) -> String {
    match c.strip_prefix("group:") {
        Some(g) => i18n::t_args(lang, "channel-group", &[("group", g.to_string().into())]),
        None if c == "network" => i18n::t(lang, "channel-network"),
        None => c.to_string(),
    }
}

fn tally_list(t: &Tally, label: impl Fn(&str) -> String) -> Markup {
    html! { ul.tally { @for (name, n) in t { li { (label(name)) ": " strong { (n) } } } } }
}

/// The top entries of a weekly series map as chart series (the rest summed).
fn top_series(
    m: &std::collections::BTreeMap<String, Vec<u64>>,
    others: String,
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
        out.push((others, rest));
    }
    out
}

fn weekly_chart(s: &Session, title: &str, weeks: &[u64], series: &[(String, Vec<f64>)]) -> Markup {
    let lang = s.lang;
    let labels: Vec<String> = weeks.iter().map(|w| date(&s.zone, Some(*w))[5..].to_string()).collect();
    let s: Vec<Series> = series.iter().map(|(n, v)| Series { name: n, values: v.clone() }).collect();
    html! {
        figure {
            @if let Some(svg) = bars(title, &labels, &s, &i18n::t(lang, "chart-records")) { (PreEscaped(svg)) }
            figcaption { (title) }
            table.figures {
                thead { tr { th { (i18n::t(lang, "chart-week-of")) } @for l in &labels { th { (l) } } } }
                tbody { @for (name, values) in series { tr { th { (name) } @for v in values { td { (v) } } } } }
            }
        }
    }
}

fn top_chart(lang: Lang, title: &str, t: &Tally, label: impl Fn(&str) -> String) -> Markup {
    let labels: Vec<String> = t.iter().map(|(n, _)| label(n)).collect();
    let values = t.iter().map(|(_, n)| *n as f64).collect();
    html! {
        figure {
            @if let Some(svg) = bars(title, &labels, &[Series { name: &i18n::t(lang, "chart-indicators"), values }], &i18n::t(lang, "chart-indicators")) { (PreEscaped(svg)) }
            figcaption { (title) }
            @if t.is_empty() { p.muted { (i18n::t(lang, "none-yet")) } }
        }
    }
}

pub(super) fn dashboard(s: &Session, h: &Home) -> Markup {
    let lang = s.lang;
    let t = |id: &str| i18n::t(lang, id);
    let n = |id: &str, n: usize| i18n::t_args(lang, id, &[("n", n.into())]);
    let kind = |k: &str| kind_label(lang, k);
    let channel = |c: &str| channel_label(lang, c);
    html! {
        section.home {
            h2 { @match h.last_visit_ms {
                Some(v) => (i18n::t_args(lang, "home-since", &[("date", date(&s.zone, Some(v)).into())])),
                None => (t("home-last-day")),
            } }
            @if h.new_total == 0 { p.muted { (t("home-no-new")) } } @else {
                p { (n("home-new", h.new_total as usize)) }
                div.columns {
                    div { h3 { (t("home-by-agency")) } (tally_list(&h.new_by_agency, str::to_string)) }
                    div { h3 { (t("home-by-kind")) } (tally_list(&h.new_by_kind, kind)) }
                    div { h3 { (t("home-by-channel")) } (tally_list(&h.new_by_channel, channel)) }
                }
            }
            h2 { (t("home-waiting")) }
            ul {
                li { a href="/alerts" { (n("home-unread", h.unread_alerts.len())) }
                     @if let Some(a) = h.unread_alerts.first() { " — " (i18n::t_args(lang, "home-latest", &[("agency", a.author_name.clone().into())])) " " code { (a.value) } } }
                li { a href="/deconflict" { (n("home-contacts", h.pending_contacts)) } " " (t("home-to-answer")) }
                li { (n("home-review-due", h.review_due.len())) }
                li { (n("home-expired", h.expired.len())) }
                li { (n("home-revised", h.revised.len())) }
                li { a href="/requests" { (n("home-requests-to-us", h.requests_to_us.len())) } }
                li { a href="/requests" { (n("home-requests-answered", h.answered.len())) } @if h.overdue > 0 { " — " (n("home-requests-overdue", h.overdue)) } }
            }
            @if !h.requests_to_us.is_empty() || !h.answered.is_empty() {
                h3 { (t("home-requests-title")) }
                ul.requests {
                    @for th in h.requests_to_us.iter().take(10) {
                        @if let kawan_protocol::Content::Request(r) = &th.request.hit.content {
                            li { (th.request.author) ": " a href=(format!("/requests/{}", th.request.hit.id)) { (r.question.lines().next().unwrap_or("")) } }
                        }
                    }
                    @for (th, new) in &h.answered {
                        @if let kawan_protocol::Content::Request(r) = &th.request.hit.content {
                            li { a href=(format!("/requests/{}", th.request.hit.id)) { (r.question.lines().next().unwrap_or("")) } " — " (n("home-new-answers", *new)) }
                        }
                    }
                }
            }
            @if !h.review_due.is_empty() {
                h3 { (t("home-review-title")) }
                p.muted { (t("home-review-how")) }
                table {
                    @for r in &h.review_due {
                        tr { td { (date(&s.zone, Some(r.due_ms))) } td { (kind_label(lang, &r.r#type)) } td { a href=(format!("/record/{}", r.id)) { (r.label) } } }
                    }
                }
            }
            @if !h.expired.is_empty() { h3 { (t("home-past-validity")) } (hits_table(s, &h.expired)) }
            @if !h.revised.is_empty() { h3 { (t("home-revised-title")) } (hits_table(s, &h.revised)) }
            h2 { (t("home-network")) }
            p { (i18n::t_args(lang, "home-connected", &[("n", h.connected.into()), ("m", h.members.saturating_sub(1).into())]))
                @if s.caller.role == crate::local::tokens::Role::Operator { " — " a href="/network" { (t("home-details")) } } }
            h2 { (n("home-weeks", crate::service::WEEKS)) }
            div.charts {
                (weekly_chart(s, &t("chart-weekly-kind"), &h.weeks, &top_series(&h.weekly_by_kind, t("chart-others"), kind)))
                (weekly_chart(s, &t("chart-weekly-agency"), &h.weeks, &top_series(&h.weekly_by_agency, t("chart-others"), str::to_string)))
                (top_chart(lang, &t("chart-top-platforms"), &h.top_platforms, str::to_string))
                (top_chart(lang, &t("chart-top-countries"), &h.top_countries, str::to_string))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_has_a_name_for_people_in_every_language() {
        for k in kawan_protocol::Kind::ALL {
            for lang in super::Lang::ALL {
                let name = super::kind_label(lang, k.as_str());
                assert!(name != k.as_str() && !name.contains('_'), "{k} in {lang:?}: {name}");
            }
        }
    }
}
