//! A web page as the text a reader sees, each link's target written after
//! its words (`our site <https://kh-jobs.example/apply>`), `mailto:` and
//! `tel:` targets as the address or number; scripts and styles dropped.

use ego_tree::iter::Edge;
use scraper::{Html, Node};

/// Elements that start a new line.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
    "hr",
];

/// Elements whose content is not text.
const SKIPPED: &[&str] = &["script", "style", "noscript", "template", "svg", "head"];

/// Deepest nesting the HTML parser is given: its cost grows with depth
/// times tags, so a hostile page nested 100,000 deep would take minutes.
/// Deeper pages are read by [`strip_tags`].
const MAX_DEPTH: usize = 256;

pub(crate) fn to_text(html: &str) -> String {
    if rough_depth(html) > MAX_DEPTH {
        return strip_tags(html);
    }
    let doc = Html::parse_document(html);
    let mut out = String::new();
    // Iterative, so a hostile nesting depth cannot overflow the stack.
    let mut skip = 0usize;
    // Each open link's target, and where its words start in `out`.
    let mut links: Vec<(Option<String>, usize)> = Vec::new();
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(el) => {
                    let name = el.name();
                    // Inside a skipped element, count depth until it closes.
                    if skip > 0 || SKIPPED.contains(&name) {
                        skip += 1;
                        continue;
                    }
                    if BLOCKS.contains(&name) && !out.ends_with('\n') && !out.is_empty() {
                        out.push('\n');
                    }
                    if name == "a" {
                        links.push((el.attr("href").map(target), out.len()));
                    }
                    if name == "img"
                        && let Some(alt) = el.attr("alt")
                    {
                        out.push_str(alt);
                        out.push(' ');
                    }
                }
                Node::Text(t) if skip == 0 => out.push_str(t),
                _ => {}
            },
            Edge::Close(node) => {
                if let Node::Element(el) = node.value() {
                    let name = el.name();
                    if skip > 0 {
                        skip -= 1;
                        continue;
                    }
                    if name == "a"
                        && let Some((Some(href), from)) = links.pop()
                        && !href.is_empty()
                    {
                        // The target only where the link's words do not already say it.
                        let shown = out.get(from..).unwrap_or("");
                        if !shown.contains(href.as_str()) {
                            out.push_str(&format!(" <{href}>"));
                        }
                    }
                    if BLOCKS.contains(&name) && !out.ends_with('\n') {
                        out.push('\n');
                    }
                }
            }
        }
    }
    out
}

/// How deep the page nests, counting opening and closing tags (void
/// elements and self-closing tags aside); an estimate, never below the
/// parser's own depth by much.
fn rough_depth(html: &str) -> usize {
    const VOID: &[&str] =
        &["br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "source", "wbr"];
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        rest = &rest[at + 1..];
        // Past each tag: a text of unclosed `<` is read once, not once per `<`.
        let Some(end) = rest.find('>') else { break };
        let tag = &rest[..end];
        rest = &rest[end + 1..];
        if let Some(closing) = tag.strip_prefix('/') {
            if !closing.is_empty() {
                depth = depth.saturating_sub(1);
            }
        } else if tag.starts_with(|c: char| c.is_ascii_alphabetic()) {
            // (`<div/>` stays open in HTML: only void elements close themselves.)
            let name: String =
                tag.chars().take_while(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase();
            if !VOID.contains(&name.as_str()) {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
    }
    deepest
}

/// The text between tags, and `href` targets, without a parser.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        out.push_str(&rest[..at]);
        rest = &rest[at + 1..];
        let end = rest.find('>').unwrap_or(rest.len());
        let tag = &rest[..end];
        if let Some((_, after)) = tag.split_once("href=") {
            let quoted = after.trim_start_matches(['"', '\'']);
            let href: String = quoted.chars().take_while(|c| !matches!(c, '"' | '\'' | ' ')).collect();
            let href = target(&href);
            if !href.is_empty() {
                out.push_str(&format!(" <{href}> "));
            }
        }
        out.push(' ');
        rest = &rest[(end + 1).min(rest.len())..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
}

/// A link's target as a value: `mailto:` and `tel:` dropped; fragments
/// and scripts are no target.
fn target(href: &str) -> String {
    let href = href.trim();
    let lower = href.to_ascii_lowercase();
    if lower.starts_with("javascript:") || href.starts_with('#') {
        return String::new();
    }
    for scheme in ["mailto:", "tel:", "callto:"] {
        if lower.starts_with(scheme) {
            return href[scheme.len()..].split('?').next().unwrap_or("").to_string();
        }
    }
    href.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_with_link_targets_and_without_scripts() {
        let t = to_text(
            "<html><head><title>Jobs</title><style>p{}</style></head><body>\
             <p>Apply at <a href=\"https://kh-jobs.example/apply\">our site</a> or \
             <a href=\"mailto:hr@kh-jobs.example?subject=x\">e-mail</a>, \
             <a href=\"tel:+447700900123\">+44 7700 900123</a></p>\
             <script>var x = \"evil.example\";</script><div>Telegram @kh_jobs_example</div></body></html>",
        );
        assert!(t.contains("our site <https://kh-jobs.example/apply>"), "{t}");
        assert!(t.contains("<hr@kh-jobs.example>"), "{t}");
        assert!(t.contains("+44 7700 900123"), "{t}");
        assert!(!t.contains("evil.example"), "{t}");
        assert!(t.contains("\nTelegram @kh_jobs_example"), "{t}");
    }

    #[test]
    fn deep_nesting_does_not_overflow() {
        let html = "<div>".repeat(100_000) + "<a href=\"https://kh-jobs.example/a\">x</a>";
        let t = to_text(&html);
        assert!(t.contains('x') && t.contains("<https://kh-jobs.example/a>"), "{t}");
    }
}
