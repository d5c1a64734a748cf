//! Files analysts receive, read as text for the extractor: a web page
//! saved from a job site, an e-mail from a bank, a platform's PDF, a CSV,
//! a WhatsApp "Export chat" file, a Telegram Desktop `result.json` export.
//! Pure: bytes in, text out; no I/O, so the CLI, the node and the fuzz
//! targets run the same code.
//!
//! The text keeps what an analyst would read and adds what the file hides:
//! a link's target after its words, an e-mail's headers, the phone number
//! of a shared Telegram contact. Indicators' offsets are offsets in this
//! text, which is returned with them.
//!
//! # Layout
//! - `lib.rs`: formats, sniffing, the reader per format.
//! - `html.rs`: markup to text with link targets.
//! - `telegram.rs`: Telegram Desktop JSON exports.

use mail_parser::MimeHeaders as _;
use serde::Serialize;

mod html;
mod telegram;

/// Largest file read, in bytes.
pub const MAX_FILE: usize = 64 * 1024 * 1024;

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Text,
    Html,
    Email,
    Pdf,
    Csv,
    /// WhatsApp's "Export chat" text file.
    Whatsapp,
    /// Telegram Desktop's `result.json`.
    Telegram,
}

impl Format {
    pub const ALL: [Format; 7] =
        [Format::Text, Format::Html, Format::Email, Format::Pdf, Format::Csv, Format::Whatsapp, Format::Telegram];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Html => "html",
            Format::Email => "email",
            Format::Pdf => "pdf",
            Format::Csv => "csv",
            Format::Whatsapp => "whatsapp",
            Format::Telegram => "telegram",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = ReadError;
    fn from_str(s: &str) -> Result<Format, ReadError> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == s.to_ascii_lowercase())
            .ok_or_else(|| ReadError::UnknownFormat(s.chars().take(32).collect()))
    }
}

/// A file read as text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Document {
    pub format: Format,
    pub text: String,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReadError {
    #[error("the file is {0} bytes; at most {MAX_FILE} are read")]
    TooLarge(usize),
    #[error("unknown format {0:?}: text, html, email, pdf, csv, whatsapp or telegram")]
    UnknownFormat(String),
    #[error("{0}: not text in UTF-8")]
    NotText(&'static str),
    #[error("not an e-mail message (RFC 5322)")]
    Email,
    #[error("not a readable PDF: {0}")]
    Pdf(String),
    #[error("CSV row {row}: {reason}")]
    Csv { row: usize, reason: String },
    #[error("not a Telegram export: {0}")]
    Telegram(String),
}

/// What `bytes` are, by the file's name if given, else by their content.
pub fn sniff(name: Option<&str>, bytes: &[u8]) -> Format {
    let ext = name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("html" | "htm" | "xhtml") => return Format::Html,
        Some("eml") => return Format::Email,
        Some("pdf") => return Format::Pdf,
        Some("csv") => return Format::Csv,
        Some("json") if telegram::looks_like(bytes) => return Format::Telegram,
        _ => {}
    }
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_string();
    let trimmed = head.trim_start_matches('\u{feff}').trim_start();
    let lower = trimmed.to_ascii_lowercase();
    if bytes.starts_with(b"%PDF-") {
        Format::Pdf
    } else if lower.starts_with("<!doctype html") || lower.starts_with("<html") {
        Format::Html
    } else if trimmed.starts_with('{') && telegram::looks_like(bytes) {
        Format::Telegram
    } else if is_email_head(trimmed) {
        Format::Email
    } else if trimmed.lines().take(5).any(is_whatsapp_line) {
        Format::Whatsapp
    } else {
        Format::Text
    }
}

/// The file as text, in `format` (sniffed when `None`).
pub fn read(name: Option<&str>, bytes: &[u8], format: Option<Format>) -> Result<Document, ReadError> {
    if bytes.len() > MAX_FILE {
        return Err(ReadError::TooLarge(bytes.len()));
    }
    let format = format.unwrap_or_else(|| sniff(name, bytes));
    let text = match format {
        Format::Text => utf8(bytes, "the text")?.to_string(),
        Format::Whatsapp => whatsapp(utf8(bytes, "the WhatsApp export")?),
        Format::Html => html::to_text(utf8(bytes, "the web page")?),
        Format::Email => email(bytes)?,
        Format::Pdf => pdf(bytes)?,
        Format::Csv => csv_text(bytes)?,
        Format::Telegram => telegram::read(bytes)?,
    };
    Ok(Document { format, text })
}

/// UTF-8 text, a byte-order mark dropped.
fn utf8<'a>(bytes: &'a [u8], what: &'static str) -> Result<&'a str, ReadError> {
    let s = std::str::from_utf8(bytes).map_err(|_| ReadError::NotText(what))?;
    Ok(s.trim_start_matches('\u{feff}'))
}

fn is_email_head(s: &str) -> bool {
    let names = ["from:", "received:", "return-path:", "delivered-to:", "message-id:", "mime-version:", "date:"];
    let mut headers = 0;
    for line in s.lines().take(30) {
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if names.iter().any(|n| lower.starts_with(n)) {
            headers += 1;
        }
    }
    headers >= 2
}

/// `[12/03/2026, 21:14] Name: …` (iOS) or `12/03/26 21:14 - Name: …`
/// (Android), in any of the date orders and separators WhatsApp uses.
fn is_whatsapp_line(line: &str) -> bool {
    let line = line.trim_start_matches(['\u{200e}', '\u{feff}']).trim_start_matches('[');
    let date: String = line.chars().take_while(|c| c.is_ascii_digit() || matches!(c, '/' | '.' | '-')).collect();
    let parts = date.split(['/', '.', '-']).filter(|p| !p.is_empty()).count();
    let rest = &line[date.len()..];
    parts == 3
        && (rest.starts_with(", ") || rest.starts_with(' '))
        && rest.trim_start_matches([',', ' ']).chars().next().is_some_and(|c| c.is_ascii_digit())
}

/// A WhatsApp export is text; only the invisible direction marks WhatsApp
/// puts around names and attachments go (they would split values).
fn whatsapp(s: &str) -> String {
    s.chars().filter(|c| !matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}' | '\u{202c}')).collect()
}

/// Headers that trace the sender (from, reply-to, sender) and the subject, then every text
/// body, HTML bodies as text, and the names of attachments.
fn email(bytes: &[u8]) -> Result<String, ReadError> {
    let message = mail_parser::MessageParser::default().parse(bytes).ok_or(ReadError::Email)?;
    if message.from().is_none() && message.subject().is_none() && message.date().is_none() {
        return Err(ReadError::Email);
    }
    let mut out = String::new();
    let addresses = |label: &str, a: Option<&mail_parser::Address>, out: &mut String| {
        for addr in a.into_iter().flat_map(|a| a.iter()) {
            let name = addr.name().unwrap_or("");
            let address = addr.address().unwrap_or("");
            out.push_str(&format!("{label}: {name} <{address}>\n"));
        }
    };
    addresses("From", message.from(), &mut out);
    addresses("Reply-To", message.reply_to(), &mut out);
    // Not `To`: the recipient is the victim or the analyst, not the sender's trace.
    addresses("Sender", message.sender(), &mut out);
    if let Some(subject) = message.subject() {
        out.push_str(&format!("Subject: {subject}\n"));
    }
    out.push('\n');
    for i in 0..message.text_body_count() {
        if let Some(body) = message.body_text(i) {
            out.push_str(&body);
            out.push('\n');
        }
    }
    for i in 0..message.html_body_count() {
        if let Some(body) = message.body_html(i) {
            out.push_str(&html::to_text(&body));
            out.push('\n');
        }
    }
    for part in message.attachments() {
        if let Some(name) = part.attachment_name() {
            out.push_str(&format!("[attachment: {name}]\n"));
        }
        if let Some(text) = part.text_contents() {
            out.push_str(text);
            out.push('\n');
        }
    }
    Ok(out)
}

/// The PDF's text layer. The PDF library can panic on hostile files: a
/// panic is a refusal here, never the caller's crash.
fn pdf(bytes: &[u8]) -> Result<String, ReadError> {
    if !bytes.starts_with(b"%PDF-") {
        return Err(ReadError::Pdf("it does not start with %PDF-".into()));
    }
    // The PDF library parses nested arrays and dictionaries by recursion
    // with no depth limit (RUSTSEC-2026-0187, fixed in a lopdf that
    // pdf-extract does not take yet): a deep nesting would overflow the
    // stack, which no `catch_unwind` stops. Refuse it before parsing. (Nesting
    // hidden in a compressed object stream is not seen here.)
    if nesting(bytes) > MAX_PDF_NESTING {
        return Err(ReadError::Pdf(format!("objects nested more than {MAX_PDF_NESTING} deep")));
    }
    // (The panic hook is left alone: it is the process's, shared by threads.)
    let read = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes));
    match read {
        Ok(Ok(text)) => Ok(text),
        Ok(Err(e)) => Err(ReadError::Pdf(e.to_string().chars().take(200).collect())),
        Err(_) => Err(ReadError::Pdf("the file is malformed".into())),
    }
}

/// Deepest nesting of PDF arrays and dictionaries read.
const MAX_PDF_NESTING: usize = 64;

/// How deep `[` and `<<` nest in the raw file (strings aside is not
/// attempted: an estimate that only errs high).
fn nesting(bytes: &[u8]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'[', _) => depth += 1,
            (b'<', Some(b'<')) => {
                depth += 1;
                i += 1;
            }
            (b']', _) => depth = depth.saturating_sub(1),
            (b'>', Some(b'>')) => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => {}
        }
        deepest = deepest.max(depth);
        i += 1;
    }
    deepest
}

/// One line per row, cells separated by ` | ` (quoted cells kept whole).
fn csv_text(bytes: &[u8]) -> Result<String, ReadError> {
    let text = utf8(bytes, "the CSV file")?;
    let mut out = String::new();
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    for (i, row) in reader.records().enumerate() {
        let row = row.map_err(|e| ReadError::Csv { row: i + 1, reason: e.to_string() })?;
        let cells: Vec<&str> = row.iter().collect();
        out.push_str(&cells.join(" | "));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_sniffed_by_name_and_by_content() {
        assert_eq!(sniff(Some("ad.HTML"), b"x"), Format::Html);
        assert_eq!(sniff(None, b"%PDF-1.4\n"), Format::Pdf);
        assert_eq!(sniff(None, b"  <!DOCTYPE html><p>x"), Format::Html);
        assert_eq!(sniff(None, b"From: a@b.example\nDate: Mon, 1 Dec 2026 10:00:00 +0000\n\nhi"), Format::Email);
        assert_eq!(sniff(None, "[12/03/2026, 21:14] Rec: hi".as_bytes()), Format::Whatsapp);
        assert_eq!(sniff(None, b"12/03/26 21:14 - Rec: hi"), Format::Whatsapp);
        assert_eq!(sniff(None, br#"{"name": "x", "type": "personal_chat", "messages": []}"#), Format::Telegram);
        assert_eq!(sniff(None, b"just words"), Format::Text);
    }

    #[test]
    fn bad_files_are_refused_with_what_was_wrong() {
        assert!(matches!(read(None, b"%PDF-1.4 garbage", None), Err(ReadError::Pdf(_))));
        assert!(matches!(read(Some("x.pdf"), b"not a pdf", None), Err(ReadError::Pdf(_))));
        let deep = [&b"%PDF-1.4\n1 0 obj\n"[..], &b"[".repeat(100_000)].concat();
        assert_eq!(read(None, &deep, None), Err(ReadError::Pdf("objects nested more than 64 deep".into())));
        assert_eq!(read(None, &[0xff, 0xfe, 0x00], Some(Format::Text)), Err(ReadError::NotText("the text")));
        assert!(matches!(read(None, b"{\"messages\": 5}", Some(Format::Telegram)), Err(ReadError::Telegram(_))));
        assert!(matches!(read(None, b"a,\"b\nc", Some(Format::Csv)), Ok(_) | Err(ReadError::Csv { .. })));
        assert_eq!("docx".parse::<Format>(), Err(ReadError::UnknownFormat("docx".into())));
    }

    #[test]
    fn csv_cells_stay_whole() {
        let d = read(Some("x.csv"), b"name,phone\n\"Budi, HR\",+44 7700 900123\n", None).unwrap();
        assert_eq!(d.text, "name | phone\nBudi, HR | +44 7700 900123\n");
    }

    #[test]
    fn an_email_gives_its_senders_subject_and_bodies() {
        let eml =
            b"From: Recruiter <hr@kh-jobs.example>\r\nReply-To: desk@kh-jobs.example\r\nTo: victim@mail.example\r\n\
Subject: Job offer\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\nCall +44 7700 900123\r\n--b\r\nContent-Type: text/html\r\n\r\n\
<p>Apply at <a href=\"https://kh-jobs.example/apply\">our site</a></p>\r\n--b--\r\n";
        let d = read(Some("offer.eml"), eml, None).unwrap();
        assert_eq!(d.format, Format::Email);
        for want in [
            "hr@kh-jobs.example",
            "desk@kh-jobs.example",
            "Job offer",
            "+44 7700 900123",
            "https://kh-jobs.example/apply",
        ] {
            assert!(d.text.contains(want), "{want} in {}", d.text);
        }
        assert_eq!(read(None, b"no headers at all", Some(Format::Email)), Err(ReadError::Email));
    }
}
