//! Telegram Desktop's JSON export (`result.json`): one chat ("Export chat
//! history") or the whole account (`chats.list`), with the contact list.
//! Each message becomes a line `sender: text`; a mention is written as
//! its `t.me/` link and a hidden link's target follows its words, so the
//! extractor knows them for what they are; a shared contact's and a
//! listed contact's phone numbers are lines of their own. The exporting
//! account's own details (`personal_information`: often the victim's)
//! are not read.

use serde_json::Value;

use crate::ReadError;

/// Whether `bytes` look like a Telegram export: a JSON object with
/// `messages`, `chats` or `personal_information` anywhere (a whole-account
/// export lists the account and its contacts first, so the chats may come
/// megabytes in; read as plain text, it would give the exporter's own
/// number away).
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64)]);
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    head.trim_start_matches('\u{feff}').trim_start().starts_with('{')
        && (has(b"\"messages\"") || has(b"\"chats\"") || has(b"\"personal_information\""))
}

pub(crate) fn read(bytes: &[u8]) -> Result<String, ReadError> {
    let root: Value = serde_json::from_slice(bytes).map_err(|e| ReadError::Telegram(e.to_string()))?;
    let mut out = String::new();
    let mut chats = Vec::new();
    if root.get("messages").is_some() {
        chats.push(&root);
    }
    if let Some(list) = root.pointer("/chats/list").and_then(Value::as_array) {
        chats.extend(list.iter());
    }
    if let Some(list) = root.pointer("/left_chats/list").and_then(Value::as_array) {
        chats.extend(list.iter());
    }
    let contacts = root.pointer("/contacts/list").and_then(Value::as_array);
    if chats.is_empty() && contacts.is_none() {
        return Err(ReadError::Telegram("no messages, chats or contacts".into()));
    }
    for contact in contacts.into_iter().flatten() {
        contact_line(contact, &mut out);
    }
    for chat in chats {
        let Some(messages) = chat.get("messages").and_then(Value::as_array) else {
            return Err(ReadError::Telegram("messages is not a list".into()));
        };
        if let Some(name) = chat.get("name").and_then(Value::as_str) {
            out.push_str(&format!("== {name}\n"));
        }
        for m in messages {
            message_line(m, &mut out);
        }
    }
    Ok(out)
}

fn contact_line(c: &Value, out: &mut String) {
    let field = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
    let phone = field("phone_number");
    if phone.is_empty() {
        return;
    }
    let name = format!("{} {}", field("first_name"), field("last_name"));
    out.push_str(&format!("contact {}: {phone}\n", name.trim()));
}

fn message_line(m: &Value, out: &mut String) {
    let sender = m.get("from").and_then(Value::as_str).or_else(|| m.get("actor").and_then(Value::as_str));
    let mut line = String::new();
    match m.get("text") {
        Some(Value::String(s)) => line.push_str(s),
        Some(Value::Array(parts)) => {
            for part in parts {
                match part {
                    Value::String(s) => line.push_str(s),
                    Value::Object(_) => entity(part, &mut line),
                    _ => {}
                }
            }
        }
        _ => {}
    }
    if let Some(c) = m.get("contact_information") {
        let mut shared = String::new();
        contact_line(c, &mut shared);
        line.push(' ');
        line.push_str(shared.trim_end());
    }
    for key in ["file_name", "title", "performer"] {
        if let Some(v) = m.get(key).and_then(Value::as_str) {
            line.push_str(&format!(" [{v}]"));
        }
    }
    let line = line.trim();
    if line.is_empty() {
        return;
    }
    match sender {
        Some(s) => out.push_str(&format!("{s}: {line}\n")),
        None => out.push_str(&format!("{line}\n")),
    }
}

/// One formatted piece of a message's text.
fn entity(part: &Value, line: &mut String) {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
    let text = part.get("text").and_then(Value::as_str).unwrap_or("");
    match kind {
        // `@name` in a Telegram message is a Telegram account.
        "mention" => line.push_str(&format!("t.me/{}", text.trim_start_matches('@'))),
        "text_link" => {
            line.push_str(text);
            if let Some(href) = part.get("href").and_then(Value::as_str) {
                line.push_str(&format!(" <{href}>"));
            }
        }
        "mention_name" => {
            line.push_str(text);
        }
        _ => line.push_str(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_mentions_links_and_contacts() {
        let json = br#"{"name": "HR Desk", "type": "personal_chat", "id": 1, "messages": [
            {"id": 1, "type": "message", "from": "HR Desk", "text": "hello"},
            {"id": 2, "type": "message", "from": "HR Desk", "text": ["write to ", {"type": "mention", "text": "@kh_jobs_example"},
                " or ", {"type": "text_link", "text": "apply here", "href": "https://kh-jobs.example/apply"}]},
            {"id": 3, "type": "message", "from": "HR Desk", "text": "", "contact_information": {"first_name": "Agent", "phone_number": "+44 7700 900123"}}
        ], "personal_information": {"phone_number": "+44 7700 900999"}}"#;
        let t = read(json).unwrap();
        assert!(
            t.contains("HR Desk: write to t.me/kh_jobs_example or apply here <https://kh-jobs.example/apply>"),
            "{t}"
        );
        assert!(t.contains("contact Agent: +44 7700 900123"), "{t}");
        assert!(!t.contains("900999"), "the exporter's own number is not read: {t}");
        assert!(matches!(read(b"[1, 2]"), Err(ReadError::Telegram(_))));
        assert!(matches!(read(b"{\"messages\": {}}"), Err(ReadError::Telegram(_))));
    }
}
