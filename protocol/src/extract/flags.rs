//! Red flags in free text: the recruitment patterns of the reviewed phrase
//! list (`protocol/data/red_flags.tsv`: "no experience needed", "tanpa
//! pengalaman", "ไม่ต้องมีประสบการณ์", free visa and flight, the compound
//! towns…), and any other phrase set (a typology's lures and red flags),
//! each hit with its span.
//!
//! Matching ignores case (also in Vietnamese and other cased scripts);
//! a Latin-script phrase matches whole words only, a Thai, Khmer, Burmese
//! or Chinese phrase wherever it occurs, as those scripts write words
//! without spaces.

use std::sync::LazyLock;

use aho_corasick::{AhoCorasick, MatchKind};
use serde::Serialize;

/// The reviewed phrase list, compiled into every node alike.
const RED_FLAGS_TSV: &str = include_str!("../../data/red_flags.tsv");

/// One phrase found in the text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flagged {
    /// What the phrase signals: a red flag's name (`no_experience`,
    /// `free_travel`…) or the label the phrase set was built with.
    pub flag: String,
    /// The phrase's language (ISO 639-1), if the list says.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub lang: String,
    /// The phrase as listed.
    pub phrase: String,
    /// The text as written, and its byte offsets in the input.
    pub text: String,
    pub start: usize,
    pub end: usize,
}

/// Phrases to find, each with its label and language.
pub struct PhraseSet {
    matcher: Option<AhoCorasick>,
    phrases: Vec<(String, String, String)>,
}

/// A malformed line of a phrase list.
#[derive(Debug, thiserror::Error)]
#[error("line {line}: {reason}")]
pub struct PhraseError {
    pub line: usize,
    pub reason: &'static str,
}

impl PhraseSet {
    /// A set of `(label, lang, phrase)`; empty phrases are skipped.
    pub fn new(phrases: impl IntoIterator<Item = (String, String, String)>) -> PhraseSet {
        let phrases: Vec<(String, String, String)> = phrases
            .into_iter()
            .map(|(label, lang, phrase)| (label, lang, fold(phrase.trim())))
            .filter(|(_, _, p)| !p.is_empty())
            .collect();
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(phrases.iter().map(|(_, _, p)| p.as_str()))
            .ok();
        PhraseSet { matcher, phrases }
    }

    /// A list in the red-flag file's format: `flag<TAB>lang<TAB>phrase`
    /// per line, `#` comments and blank lines skipped.
    pub fn parse_tsv(tsv: &str) -> Result<PhraseSet, PhraseError> {
        let mut phrases = Vec::new();
        for (i, line) in tsv.lines().enumerate() {
            let line = line.trim_end_matches('\r');
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split('\t');
            let (Some(flag), Some(lang), Some(phrase), None) = (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(PhraseError { line: i + 1, reason: "expected flag<TAB>lang<TAB>phrase" });
            };
            if flag.is_empty() || phrase.trim().is_empty() {
                return Err(PhraseError { line: i + 1, reason: "an empty flag or phrase" });
            }
            phrases.push((flag.to_string(), lang.to_string(), phrase.to_string()));
        }
        Ok(PhraseSet::new(phrases))
    }

    pub fn len(&self) -> usize {
        self.phrases.len()
    }

    pub fn is_empty(&self) -> bool {
        self.phrases.is_empty()
    }

    /// Every phrase in `text`, leftmost-longest, without overlaps.
    pub fn find(&self, text: &str) -> Vec<Flagged> {
        let Some(matcher) = &self.matcher else { return Vec::new() };
        let folded = fold(text);
        debug_assert_eq!(folded.len(), text.len());
        let mut out = Vec::new();
        for m in matcher.find_iter(&folded) {
            let (start, end) = (m.start(), m.end());
            let (label, lang, phrase) = &self.phrases[m.pattern().as_usize()];
            if !text.is_char_boundary(start) || !text.is_char_boundary(end) {
                continue;
            }
            // Latin phrases are words: "visa" is not in "visaged".
            let latin_start = phrase.chars().next().is_some_and(|c| c.is_alphanumeric() && (c as u32) < 0x0250);
            let latin_end = phrase.chars().next_back().is_some_and(|c| c.is_alphanumeric() && (c as u32) < 0x0250);
            let before = text[..start].chars().next_back();
            let after = text[end..].chars().next();
            if (latin_start && before.is_some_and(char::is_alphanumeric))
                || (latin_end && after.is_some_and(char::is_alphanumeric))
            {
                continue;
            }
            out.push(Flagged {
                flag: label.clone(),
                lang: lang.clone(),
                phrase: phrase.clone(),
                text: text[start..end].to_string(),
                start,
                end,
            });
        }
        out
    }
}

/// The red flags of the reviewed list in `text`.
pub fn red_flags(text: &str) -> Vec<Flagged> {
    RED_FLAGS.find(text)
}

/// The reviewed list (a test checks that it parses).
pub static RED_FLAGS: LazyLock<PhraseSet> =
    LazyLock::new(|| PhraseSet::parse_tsv(RED_FLAGS_TSV).unwrap_or_else(|_| PhraseSet::new([])));

/// Lower case, character by character where that keeps the character's
/// length in bytes, so offsets in the folded text are offsets in the
/// original.
fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(l), None) if l.len_utf8() == c.len_utf8() => out.push(l),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reviewed_list_parses_and_has_every_language() {
        let set = PhraseSet::parse_tsv(RED_FLAGS_TSV).expect("red_flags.tsv parses");
        assert!(set.len() > 200, "{} phrases", set.len());
        for lang in ["en", "id", "th", "vi", "km", "my", "zh"] {
            assert!(set.phrases.iter().any(|(_, l, _)| l == lang), "no phrase in {lang}");
        }
    }

    #[test]
    fn phrases_are_found_with_their_spans_in_any_case_and_script() {
        let text = "URGENT! No Experience Needed, FREE VISA and flight to Sihanoukville. \
                    Lowongan tanpa pengalaman. รับสมัครด่วน ไม่ต้องมีประสบการณ์ Không cần kinh nghiệm";
        let got = red_flags(text);
        for f in &got {
            assert_eq!(&text[f.start..f.end], f.text);
        }
        let flags: Vec<&str> = got.iter().map(|f| f.flag.as_str()).collect();
        assert!(flags.iter().filter(|f| **f == "no_experience").count() >= 4, "{got:#?}");
        assert!(flags.contains(&"destination"), "{got:#?}");
        assert!(red_flags("The visaged admirers met at the station at 9.").is_empty());
    }

    #[test]
    fn a_phrase_set_of_labels_finds_whole_words_and_bad_lines_are_named() {
        let set = PhraseSet::new([("typology:t1".into(), String::new(), "Typing Job".into())]);
        assert_eq!(set.find("a typing job abroad")[0].flag, "typology:t1");
        assert!(set.find("a typing jobs abroad").is_empty());
        let err = PhraseSet::parse_tsv("# c\nflag\tphrase only\n").err().expect("refused");
        assert_eq!(err.line, 2);
    }
}
