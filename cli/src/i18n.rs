//! The CLI's words for people (`i18n/*.ftl`, a Fluent [`Catalog`]), in the
//! language of the terminal's locale: `KAWAN_LANG`, else `LC_ALL`,
//! `LC_MESSAGES`, `LANG`, as other programs read them. `--json` output and
//! `--help` stay English: programs read the first, and the second is
//! generated from the code's documentation. Times are shown in the
//! machine's time zone (`TZ`, else /etc/localtime).

use std::sync::LazyLock;

use kawan_node::i18n::{Catalog, Lang};

static CLI: LazyLock<Catalog> = LazyLock::new(|| {
    Catalog::new(&[
        (Lang::En, include_str!("i18n/en.ftl")),
        (Lang::Id, include_str!("i18n/id.ftl")),
        (Lang::Th, include_str!("i18n/th.ftl")),
    ])
});

static LANG: LazyLock<Lang> = LazyLock::new(|| {
    ["KAWAN_LANG", "LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|v| !v.is_empty())
        .map_or(Lang::En, |v| Lang::from_locale(&v))
});

/// The message `id` with its arguments, in the terminal's language.
pub fn text(id: &str, args: &[(&str, fluent_bundle::FluentValue)]) -> String {
    CLI.t_args(*LANG, id, args)
}

/// A kind of value or record as people say it ("Phone numbers"); a code
/// this version has no words for (a newer kind) as it is.
pub fn kind(code: &str) -> String {
    let id = format!("kind-{code}");
    if CLI.has(&id) { text(&id, &[]) } else { code.to_string() }
}

/// A message for people: `t!("id")` or `t!("id", name = value, …)`.
macro_rules! t {
    ($id:literal) => {
        $crate::i18n::text($id, &[])
    };
    ($id:literal, $($k:ident = $v:expr),+ $(,)?) => {
        $crate::i18n::text($id, &[$((stringify!($k), fluent_bundle::FluentValue::from($v))),+])
    };
}
pub(crate) use t;

/// The machine's time zone, looked up once per run.
static ZONE: LazyLock<jiff::tz::TimeZone> =
    LazyLock::new(|| jiff::tz::TimeZone::try_system().unwrap_or(jiff::tz::TimeZone::UTC));

/// A Unix-ms instant in the machine's time zone, for people.
pub fn time(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
        .map_or_else(|| ms.to_string(), |t| t.to_zoned(ZONE.clone()).strftime("%Y-%m-%d %H:%M:%S %Z").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_parses_and_every_translation_has_every_message() {
        CLI.check().unwrap();
    }

    #[test]
    fn times_follow_the_machine_s_zone() {
        assert!(time(0).starts_with("1970-01-01") || time(0).starts_with("1969-12-31"));
    }
}
