//! The web page's words, from Project Fluent message files (`i18n/*.ftl`):
//! English (the reference, complete), Bahasa Indonesia and Thai (drafts for
//! native review, docs/localisation.md). The language comes from the
//! `kawan_lang` cookie (the switch in the header sets it), else from the
//! browser's `Accept-Language`, else English. A message missing from a
//! translation falls back to English; one missing from English shows as
//! `⟦id⟧`, which tests look for.

use std::sync::LazyLock;

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use unic_langid::LanguageIdentifier;

/// The languages the page speaks, in the switch's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Id,
    Th,
}

/// The cookie that remembers a browser's choice.
pub const COOKIE: &str = "kawan_lang";

const FILES: [(Lang, &str, &str); 3] = [
    (Lang::En, "en", include_str!("i18n/en.ftl")),
    (Lang::Id, "id", include_str!("i18n/id.ftl")),
    (Lang::Th, "th", include_str!("i18n/th.ftl")),
];

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Id, Lang::Th];

    pub fn code(self) -> &'static str {
        FILES.iter().find(|(l, _, _)| *l == self).map_or("en", |(_, c, _)| c)
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        FILES.iter().find(|(_, c, _)| *c == code).map(|(l, _, _)| *l)
    }

    /// The choice in `cookie`, else the best match for `accept_language`.
    pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
        if let Some(l) = cookie.and_then(Lang::from_code) {
            return l;
        }
        let requested = fluent_langneg::accepted_languages::parse(accept_language.unwrap_or(""));
        let available: Vec<fluent_langneg::LanguageIdentifier> =
            FILES.iter().filter_map(|(_, c, _)| c.parse().ok()).collect();
        let chosen = fluent_langneg::negotiate_languages(
            &requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen.first().and_then(|l| Lang::from_code(&l.to_string())).unwrap_or(Lang::En)
    }
}

fn bundle(code: &str, text: &str) -> FluentBundle<FluentResource> {
    let id: LanguageIdentifier = code.parse().unwrap_or_default();
    let mut b = FluentBundle::new_concurrent(vec![id]);
    // Plain text into HTML: no Unicode isolation marks around arguments.
    b.set_use_isolating(false);
    // The message files are part of the program; a syntax error in one is
    // a bug that the unit test below catches. What parsed is still used.
    let resource = FluentResource::try_new(text.to_string()).unwrap_or_else(|(partial, _)| partial);
    let _ = b.add_resource(resource);
    b
}

static BUNDLES: LazyLock<Vec<(Lang, FluentBundle<FluentResource>)>> =
    LazyLock::new(|| FILES.iter().map(|(l, code, text)| (*l, bundle(code, text))).collect());

fn format(lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<String> {
    let (_, b) = BUNDLES.iter().find(|(l, _)| *l == lang)?;
    let pattern = b.get_message(id)?.value()?;
    let mut errors = vec![];
    Some(b.format_pattern(pattern, args, &mut errors).into_owned())
}

/// Whether English (the reference) has a message `id`.
pub fn has(id: &str) -> bool {
    BUNDLES.iter().any(|(l, b)| *l == Lang::En && b.has_message(id))
}

/// The message `id` in `lang` (English if untranslated).
pub fn t(lang: Lang, id: &str) -> String {
    format(lang, id, None).or_else(|| format(Lang::En, id, None)).unwrap_or_else(|| format!("⟦{id}⟧"))
}

/// The message `id` with arguments.
pub fn t_args(lang: Lang, id: &str, args: &[(&str, FluentValue)]) -> String {
    let mut a = FluentArgs::new();
    for (k, v) in args {
        a.set(*k, v.clone());
    }
    format(lang, id, Some(&a)).or_else(|| format(Lang::En, id, Some(&a))).unwrap_or_else(|| format!("⟦{id}⟧"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Message ids of one language's file.
    pub fn ids(lang: Lang) -> Vec<String> {
        let text = FILES.iter().find(|(l, _, _)| *l == lang).map_or("", |(_, _, t)| t);
        text.lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
            .filter(|k| !k.is_empty() && !k.starts_with('#'))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn every_file_parses_and_every_translation_has_every_message() {
        for (lang, code, text) in FILES {
            assert!(FluentResource::try_new(text.to_string()).is_ok(), "{code}.ftl has a syntax error");
            let missing: Vec<String> = ids(Lang::En).into_iter().filter(|id| !ids(lang).contains(id)).collect();
            assert!(missing.is_empty(), "{code}.ftl lacks {missing:?}");
            for id in ids(lang) {
                assert!(!t(lang, &id).contains('⟦'), "{code}: {id}");
            }
        }
        assert_eq!(t_args(Lang::Th, "home-unread", &[("n", 3.into())]), "การแจ้งเตือนที่ยังไม่อ่าน 3 รายการ");
    }

    #[test]
    fn the_language_follows_the_switch_then_the_browser() {
        assert_eq!(Lang::negotiate(None, Some("th-TH,th;q=0.9,en;q=0.8")), Lang::Th);
        assert_eq!(Lang::negotiate(None, Some("id-ID,id;q=0.9")), Lang::Id);
        assert_eq!(Lang::negotiate(None, Some("vi-VN,vi;q=0.9")), Lang::En, "untranslated languages get English");
        assert_eq!(Lang::negotiate(Some("id"), Some("th")), Lang::Id, "the switch wins");
        assert_eq!(Lang::negotiate(Some("xx"), None), Lang::En);
    }
}
