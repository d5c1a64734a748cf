//! Words for people, from Project Fluent message files: the web page's
//! (`http/web/i18n/*.ftl`) and the CLI's (`cli/src/i18n/*.ftl`) are each a
//! [`Catalog`]. English is the reference and complete; Bahasa Indonesia and
//! Thai are drafts for native review (docs/localisation.md). A message
//! missing from a translation falls back to English; one missing from
//! English shows as `⟦id⟧`, which tests look for.

use fluent_bundle::{FluentArgs, FluentResource, FluentValue, concurrent::FluentBundle};
use unic_langid::LanguageIdentifier;

/// The languages Kawan speaks, in the switch's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Id,
    Th,
}

impl Lang {
    pub const ALL: [Lang; 3] = [Lang::En, Lang::Id, Lang::Th];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Id => "id",
            Lang::Th => "th",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        Lang::ALL.into_iter().find(|l| l.code() == code)
    }

    /// The best match for an HTTP `Accept-Language`, else English.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let requested = fluent_langneg::accepted_languages::parse(header.unwrap_or(""));
        Lang::best(&requested)
    }

    /// The language of a POSIX locale (`th_TH.UTF-8`, `id`, `C`), else English.
    pub fn from_locale(locale: &str) -> Lang {
        let tag = locale.split(['.', '@']).next().unwrap_or("").replace('_', "-");
        Lang::best(&tag.parse().ok().into_iter().collect::<Vec<_>>())
    }

    fn best(requested: &[fluent_langneg::LanguageIdentifier]) -> Lang {
        let available: Vec<fluent_langneg::LanguageIdentifier> =
            Lang::ALL.iter().filter_map(|l| l.code().parse().ok()).collect();
        let chosen = fluent_langneg::negotiate_languages(
            requested,
            &available,
            None,
            fluent_langneg::NegotiationStrategy::Lookup,
        );
        chosen.first().and_then(|l| Lang::from_code(&l.to_string())).unwrap_or(Lang::En)
    }
}

/// One program part's messages in every language.
pub struct Catalog {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
    files: &'static [(Lang, &'static str)],
}

impl Catalog {
    /// The message files, each `(language, text)`; they are part of the
    /// program, so a syntax error is a bug the catalog's unit test catches
    /// (what parsed is still used).
    pub fn new(files: &'static [(Lang, &'static str)]) -> Catalog {
        let bundles = files
            .iter()
            .map(|(lang, text)| {
                let id: LanguageIdentifier = lang.code().parse().unwrap_or_default();
                let mut b = FluentBundle::new_concurrent(vec![id]);
                // Plain text out: no Unicode isolation marks around arguments.
                b.set_use_isolating(false);
                let resource = FluentResource::try_new(text.to_string()).unwrap_or_else(|(partial, _)| partial);
                let _ = b.add_resource(resource);
                (*lang, b)
            })
            .collect();
        Catalog { bundles, files }
    }

    fn format(&self, lang: Lang, id: &str, args: Option<&FluentArgs>) -> Option<String> {
        let (_, b) = self.bundles.iter().find(|(l, _)| *l == lang)?;
        let pattern = b.get_message(id)?.value()?;
        let mut errors = vec![];
        Some(b.format_pattern(pattern, args, &mut errors).into_owned())
    }

    /// Whether English (the reference) has a message `id`.
    pub fn has(&self, id: &str) -> bool {
        self.bundles.iter().any(|(l, b)| *l == Lang::En && b.has_message(id))
    }

    /// The message `id` in `lang` (English if untranslated).
    pub fn t(&self, lang: Lang, id: &str) -> String {
        self.t_args(lang, id, &[])
    }

    /// The message `id` with arguments.
    pub fn t_args(&self, lang: Lang, id: &str, args: &[(&str, FluentValue)]) -> String {
        let mut a = FluentArgs::new();
        for (k, v) in args {
            a.set(*k, v.clone());
        }
        let a = (!args.is_empty()).then_some(&a);
        self.format(lang, id, a).or_else(|| self.format(Lang::En, id, a)).unwrap_or_else(|| format!("⟦{id}⟧"))
    }

    /// The message ids of one language's file.
    pub fn ids(&self, lang: Lang) -> Vec<String> {
        let text = self.files.iter().find(|(l, _)| *l == lang).map_or("", |(_, t)| t);
        text.lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k.trim()))
            .filter(|k| !k.is_empty() && !k.starts_with('#') && !k.starts_with('.'))
            .map(str::to_string)
            .collect()
    }

    /// Every file parses, and every translation has every English message:
    /// the catalogs' unit tests call this.
    pub fn check(&self) -> Result<(), String> {
        for &(lang, text) in self.files {
            if let Err((_, errors)) = FluentResource::try_new(text.to_string()) {
                return Err(format!("{}.ftl: {errors:?}", lang.code()));
            }
            let have = self.ids(lang);
            let missing: Vec<String> = self.ids(Lang::En).into_iter().filter(|id| !have.contains(id)).collect();
            if !missing.is_empty() {
                return Err(format!("{}.ftl lacks {missing:?}", lang.code()));
            }
            if let Some(id) = have.iter().find(|id| self.format(lang, id, None).is_none()) {
                return Err(format!("{}.ftl: {id} has no value", lang.code()));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_language_comes_from_the_browser_or_the_locale() {
        assert_eq!(Lang::from_accept_language(Some("th-TH,th;q=0.9,en;q=0.8")), Lang::Th);
        assert_eq!(Lang::from_accept_language(Some("id-ID,id;q=0.9")), Lang::Id);
        assert_eq!(Lang::from_accept_language(Some("vi-VN,vi;q=0.9")), Lang::En, "untranslated: English");
        assert_eq!(Lang::from_accept_language(None), Lang::En);
        assert_eq!(Lang::from_locale("th_TH.UTF-8"), Lang::Th);
        assert_eq!(Lang::from_locale("id_ID"), Lang::Id);
        assert_eq!(Lang::from_locale("C.UTF-8"), Lang::En);
        assert_eq!(Lang::from_locale(""), Lang::En);
        assert_eq!(Lang::from_locale("km_KH.UTF-8@latin"), Lang::En);
    }

    #[test]
    fn a_missing_translation_falls_back_to_english_and_a_missing_message_shows_its_id() {
        let c =
            Catalog::new(&[(Lang::En, "a = one\nb = hi { $n }\n"), (Lang::Id, "a = satu\n"), (Lang::Th, "a = หนึ่ง\n")]);
        assert_eq!(c.t(Lang::Th, "a"), "หนึ่ง");
        assert_eq!(c.t_args(Lang::Id, "b", &[("n", 2.into())]), "hi 2");
        assert_eq!(c.t(Lang::En, "zzz"), "⟦zzz⟧");
        assert!(c.check().unwrap_err().contains("id.ftl lacks [\"b\"]"));
    }
}
