//! The web page's words (`i18n/*.ftl`, a [`Catalog`]) and how a browser's
//! language is chosen: the `kawan_lang` cookie (the switch in the header
//! sets it), else `Accept-Language`, else English.

use std::sync::LazyLock;

use fluent_bundle::FluentValue;

use crate::i18n::Catalog;
pub use crate::i18n::Lang;

/// The cookie that remembers a browser's choice.
pub const COOKIE: &str = "kawan_lang";

static WEB: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::new(&[
        (Lang::En, include_str!("i18n/en.ftl")),
        (Lang::Id, include_str!("i18n/id.ftl")),
        (Lang::Th, include_str!("i18n/th.ftl")),
    ])
});

/// The choice in `cookie`, else the best match for `accept_language`.
pub fn negotiate(cookie: Option<&str>, accept_language: Option<&str>) -> Lang {
    cookie.and_then(Lang::from_code).unwrap_or_else(|| Lang::from_accept_language(accept_language))
}

/// Whether English (the reference) has a message `id`.
pub fn has(id: &str) -> bool {
    WEB.has(id)
}

/// The message `id` in `lang` (English if untranslated).
pub fn t(lang: Lang, id: &str) -> String {
    WEB.t(lang, id)
}

/// The message `id` with arguments.
pub fn t_args(lang: Lang, id: &str, args: &[(&str, FluentValue)]) -> String {
    WEB.t_args(lang, id, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_every_translation_has_every_message() {
        WEB.check().unwrap();
        assert_eq!(t_args(Lang::Th, "home-unread", &[("n", 3.into())]), "การแจ้งเตือนที่ยังไม่อ่าน 3 รายการ");
    }

    /// Every record family has a name for people (a new family without
    /// one fails here, not on a live alert).
    #[test]
    fn every_family_has_words() {
        for f in kawan_protocol::Family::ALL {
            for lang in [Lang::En, Lang::Id, Lang::Th] {
                let word = t(lang, &format!("alerts-type-{f}"));
                assert!(!word.starts_with('⟦'), "no alerts-type-{f} in {lang:?}");
            }
        }
    }

    #[test]
    fn the_switch_wins_over_the_browser() {
        assert_eq!(negotiate(Some("id"), Some("th")), Lang::Id);
        assert_eq!(negotiate(Some("xx"), Some("th")), Lang::Th);
        assert_eq!(negotiate(Some("xx"), None), Lang::En);
    }
}
