//! Files records carry (docs/architecture.md, "Attachments"): uploads,
//! the check that a record only names files this node holds, serving
//! members that ask (only where a record naming the file may go to them),
//! fetching from members chunk by chunk, and the sweep that removes files
//! no stored record names any more (so a file goes with its record's
//! expiry or erasure).

use std::sync::Arc;

use futures::{Stream, StreamExt as _};
use kawan_protocol::{
    AgencyKey, Body, Channel, RecordId, Tlp,
    attachment::{Attachment, AttachmentError, Fetch, FileHash, MEDIA_TYPES, Served},
};
use serde::Serialize;

use super::{Caller, Service, ServiceError};
use crate::{
    attachments::{FileError, PENDING_MS},
    local::tokens::Role,
    policy::{Item, Onward, Path, Policy, Recipient},
};

/// Chunks asked of one member at a time: enough to keep a loopback link
/// busy, little enough that memory stays a few MB.
const WINDOW: usize = 8;

/// What an analyst says about a file being uploaded.
#[derive(Debug, Clone, Default)]
pub struct NewAttachment {
    pub name: String,
    /// Declared type; when absent, read from the file's first bytes or
    /// its name's extension.
    pub media_type: Option<String>,
    /// When the content was captured (Unix ms).
    pub captured_ms: Option<u64>,
}

/// A record naming a file, as it stands.
struct Naming {
    /// The record (a piece of knowledge's original id, or a sighting's).
    id: RecordId,
    author: AgencyKey,
    channel: Channel,
    /// The content's TLP (none for a sighting: its channel decides).
    tlp: Option<Tlp>,
    reference: Attachment,
}

/// A file to read, with what this node computed of it.
pub struct HeldFile {
    /// The name and type a record gives it.
    pub reference: Attachment,
    pub size: u64,
    /// Computed here as the file was written.
    pub sha256: kawan_protocol::attachment::Sha256,
    /// Every record naming the file gives that SHA-256.
    pub verified: bool,
    pub file: std::fs::File,
}

/// How a fetch went: who served it, and who was passed over and why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Fetched {
    /// Hex file hash.
    pub hash: String,
    /// Whether it was already here.
    pub held: bool,
    /// Members (keys, hex) that served chunks.
    pub from: Vec<String>,
    /// Members passed over: "<key>: <why>" (not reachable, does not hold
    /// it, a chunk that did not match).
    pub passed_over: Vec<String>,
}

impl From<FileError> for ServiceError {
    fn from(e: FileError) -> ServiceError {
        match e {
            FileError::Refused(AttachmentError::TooLarge { .. }) => {
                ServiceError::new(super::Fault::TooLarge, "too_large", e.to_string())
            }
            FileError::Refused(a) => ServiceError::invalid("bad_attachment", a.to_string()),
            FileError::Io { .. } => ServiceError::internal(e),
        }
    }
}

/// The type a file's first bytes say it is, if they say.
fn sniff(head: &[u8]) -> Option<&'static str> {
    const MAGIC: [(&[u8], &str); 6] = [
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF87a", "image/gif"),
        (b"GIF89a", "image/gif"),
        (b"%PDF-", "application/pdf"),
        (b"RIFF", "image/webp"),
    ];
    MAGIC
        .iter()
        .find(|(m, _)| head.starts_with(m))
        .map(|(_, t)| *t)
        .filter(|t| *t != "image/webp" || head.get(8..12) == Some(b"WEBP"))
}

/// The type a file name's extension names.
fn by_extension(name: &str) -> Option<&'static str> {
    let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "pdf" => "application/pdf",
        "txt" | "text" | "log" => "text/plain",
        "csv" => "text/csv",
        _ => return None,
    })
}

impl Service {
    /// The largest file this network takes.
    fn attachment_max(&self) -> u64 {
        self.data.store.trust().map_or(kawan_protocol::attachment::DEFAULT_MAX_BYTES, |t| t.attachment_max())
    }

    /// Stores an uploaded file (streamed: one piece in memory at a time)
    /// and returns the reference a record carries. Until a record names
    /// it the file is pending, and the sweep removes it after a day.
    pub async fn attach_file<S, B, E>(
        self: &Arc<Self>,
        caller: Caller,
        new: NewAttachment,
        mut body: S,
    ) -> Result<Attachment, ServiceError>
    where
        S: Stream<Item = Result<B, E>> + Unpin,
        B: AsRef<[u8]>,
        E: std::fmt::Display,
    {
        caller.require(Role::Analyst)?;
        let name = new.name.trim().to_string();
        // The name is checked before anything is read (its type after).
        let probe = Attachment {
            hash: FileHash([0; 32]),
            size: 1,
            name: name.clone(),
            media_type: MEDIA_TYPES[0].into(),
            sha256: kawan_protocol::attachment::Sha256([0; 32]),
            captured_ms: None,
        };
        probe.validate(u64::MAX).map_err(FileError::Refused)?;
        let max = self.attachment_max();
        let mut import = self.data.attachments.import(max)?;
        let mut head = Vec::new();
        while let Some(piece) = body.next().await {
            let piece =
                piece.map_err(|e| ServiceError::bad_request("upload_failed", format!("the upload broke off: {e}")))?;
            let piece = piece.as_ref();
            if head.len() < 16 {
                head.extend(piece.iter().take(16 - head.len()));
            }
            import.write(piece)?;
        }
        let sniffed = sniff(&head);
        let media_type = match new.media_type.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            Some(declared) => {
                let declared = declared.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
                // Images and PDFs say what they are in their first bytes;
                // text has no such mark (and must not carry one).
                let text = declared.starts_with("text/");
                if MEDIA_TYPES.contains(&declared.as_str()) && sniffed != (!text).then_some(declared.as_str()) {
                    let found = sniffed.unwrap_or("no known type");
                    return Err(ServiceError::invalid(
                        "media_type_mismatch",
                        format!("the file says it is {declared} but its first bytes are those of {found}"),
                    ));
                }
                declared
            }
            None => sniffed.or_else(|| by_extension(&name)).map(str::to_string).ok_or_else(|| {
                ServiceError::invalid(
                    "media_type",
                    format!("cannot tell the type of {name:?}: give one of {}", MEDIA_TYPES.join(", ")),
                )
            })?,
        };
        let imported = import.finish(self.now_ms())?;
        let (hash, size, sha256) = (imported.hash, imported.size, imported.sha256);
        let attachment = Attachment { hash, size, name, media_type, sha256, captured_ms: new.captured_ms };
        let named = !self.data.store.naming_file(&hash)?.is_empty();
        if let Err(e) = attachment.validate(max) {
            // Keep nothing a record could not carry (unless the same bytes
            // were here before: another upload, or a record's).
            if !imported.already && !named {
                self.data.attachments.remove(&hash)?;
            }
            return Err(FileError::Refused(e).into());
        }
        if named {
            self.data.attachments.named(&hash);
        }
        self.audit(&caller, "attach", &format!("file {hash} ({size} bytes, {})", attachment.media_type))?;
        Ok(attachment)
    }

    /// Refuses a body naming a file this node does not hold whole, one
    /// larger than the network takes, or with another SHA-256 than the
    /// file's: every member fetches what the author holds.
    pub(super) fn check_attachments(&self, body: &Body) -> Result<(), ServiceError> {
        let max = self.attachment_max();
        for a in body.attachments() {
            a.validate(max).map_err(|e| ServiceError::invalid("bad_attachment", format!("{}: {e}", a.name)))?;
            let held = self.data.attachments.manifest(&a.hash)?;
            let sha = self.data.attachments.sha256(&a.hash)?;
            match (held, sha) {
                (Some(m), Some(sha)) if m.size == a.size && sha == a.sha256 => {}
                (Some(_), _) => {
                    return Err(ServiceError::invalid(
                        "bad_attachment",
                        format!("{}: its size or SHA-256 is not the file's {}", a.name, a.hash),
                    ));
                }
                (None, _) => {
                    return Err(ServiceError::invalid(
                        "attachment_not_held",
                        format!("{}: file {} is not on this node: upload it first (kawan attach)", a.name, a.hash),
                    ));
                }
            }
        }
        Ok(())
    }

    /// A published record names these files: no longer pending.
    pub(super) fn attachments_named(&self, body: &Body) {
        for a in body.attachments() {
            self.data.attachments.named(&a.hash);
        }
    }

    /// The records that name the file as they stand now: each piece of
    /// knowledge by its current version (an older version that carried
    /// the file does not count once a revision dropped it; an expired or
    /// erased one not at all), each sighting as it is.
    fn naming(&self, hash: &FileHash) -> Result<Vec<Naming>, ServiceError> {
        let trust = self.data.store.trust();
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::new();
        for r in self.data.store.naming_file(hash)? {
            let h = &r.record.header;
            if let Body::Sighting(sighting) = &r.record.body {
                if let Some(a) = sighting.attachments.iter().find(|a| a.hash == *hash) {
                    let reference = a.clone();
                    out.push(Naming { id: r.id, author: h.author, channel: h.channel.clone(), tlp: None, reference });
                }
                continue;
            }
            let root = match &r.record.body {
                Body::Revision(x) => x.supersedes,
                _ => r.id,
            };
            if !seen.insert(root) {
                continue;
            }
            let Some(hit) = self.data.store.view(&root, trust.as_deref())? else { continue };
            if let Some(a) = hit.content.attachments().iter().find(|a| a.hash == *hash) {
                let (reference, tlp) = (a.clone(), Some(hit.content.tlp()));
                out.push(Naming { id: root, author: hit.author, channel: hit.channel, tlp, reference });
            }
        }
        Ok(out)
    }

    /// Whether the file may go to `to` (the policy's `attachment` path):
    /// every record naming it must be one that may go to `to`. A file goes
    /// no further than its narrowest record, so nobody widens who gets a
    /// group's file by naming its hash in a record of their own.
    fn may_serve(&self, naming: &[Naming], to: &AgencyKey) -> bool {
        let trust = self.data.store.membership();
        let policy = Policy::new(trust.as_deref(), self.key.public(), self.now_ms());
        !naming.is_empty()
            && naming.iter().all(|n| {
                let item = Item::Record { channel: &n.channel, tlp: n.tlp, onward: Onward::Free };
                policy.allows(item, Recipient::Peer(to), Path::Attachment)
            })
    }

    /// A member's fetch: served only if this node holds the file and every
    /// record naming it may go to that member. One answer for both
    /// refusals, so a refusal says nothing about what is kept here.
    pub fn serve_file(&self, from: AgencyKey, fetch: Fetch) -> Served {
        let hash = match &fetch {
            Fetch::Manifest { hash } | Fetch::Chunk { hash, .. } => *hash,
        };
        let naming = match self.naming(&hash) {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e.message, "reading the records naming a file failed");
                return Served::Busy;
            }
        };
        if !self.may_serve(&naming, &from) {
            tracing::info!(%from, %hash, "a member asked for a file not every record naming it may go to: refused");
            return Served::Unavailable;
        }
        let served = match fetch {
            Fetch::Manifest { hash } => {
                self.data.attachments.manifest(&hash).map(|m| m.map(|manifest| Served::Manifest { manifest }))
            }
            Fetch::Chunk { hash, index } => {
                self.data.attachments.chunk(&hash, index as usize).map(|c| c.map(|bytes| Served::Chunk { bytes }))
            }
        };
        match served {
            Ok(Some(s)) => s,
            Ok(None) => Served::Unavailable,
            Err(e) => {
                tracing::error!(error = %e, "reading a file to serve failed");
                Served::Busy
            }
        }
    }

    /// The records naming `hash` (404 when none does).
    fn named_by(&self, hash: &FileHash) -> Result<Vec<Naming>, ServiceError> {
        let naming = self.naming(hash)?;
        if naming.is_empty() {
            return Err(ServiceError::not_found(format!("no record stored here carries file {hash}")));
        }
        Ok(naming)
    }

    /// Members that may hold the file, most likely first: the authors of
    /// the records naming it, then every other member that may see one of
    /// those records' channels (in trust-list order); connected ones before
    /// those that would have to be dialled.
    fn file_holders(&self, naming: &[Naming]) -> Vec<AgencyKey> {
        let me = self.key.public();
        let (Some(membership), Some(list)) = (self.data.store.membership(), self.data.store.trust()) else {
            return vec![];
        };
        let policy = Policy::new(Some(&membership), me, self.now_ms());
        let channels: Vec<&Channel> = naming.iter().map(|n| &n.channel).collect();
        let mut keys: Vec<AgencyKey> = naming.iter().map(|n| n.author).collect();
        keys.extend(list.members.iter().map(|m| m.key));
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| *k != me && seen.insert(*k) && policy.channels_of(k).iter().any(|c| channels.contains(&c)));
        let connected = |k: &AgencyKey| {
            self.net.get().is_some_and(|n| {
                n.peers.read().unwrap_or_else(|e| e.into_inner()).peers.get(&k.to_string()).is_some_and(|p| p.connected)
            })
        };
        let (mut first, rest): (Vec<_>, Vec<_>) = keys.into_iter().partition(connected);
        first.extend(rest);
        first
    }

    /// Fetches a file a stored record names from the members that may hold
    /// it: the manifest checked against the hash, every chunk against the
    /// manifest before it is written; a member that serves a bad chunk, or
    /// none, is passed over for the next. Already held: nothing to do.
    pub async fn fetch_file(self: &Arc<Self>, caller: &Caller, hash: FileHash) -> Result<Fetched, ServiceError> {
        caller.require(Role::Analyst)?;
        let naming = self.named_by(&hash)?;
        let mut fetched = Fetched { hash: hash.to_string(), held: true, from: vec![], passed_over: vec![] };
        if self.data.attachments.has(&hash) {
            return Ok(fetched);
        }
        fetched.held = false;
        let max = self.attachment_max();
        let net = self.net.get().cloned().ok_or_else(|| {
            ServiceError::new(super::Fault::Conflict, "network_not_running", "the network is not running here")
        })?;
        let mut holders = self.file_holders(&naming).into_iter();
        let mut current = None;
        let mut writing = None;
        loop {
            let Some(member) = current.or_else(|| holders.next()) else {
                return Err(ServiceError::new(
                    super::Fault::Conflict,
                    "file_unavailable",
                    format!(
                        "no member that may share file {hash} could provide it now ({})",
                        if fetched.passed_over.is_empty() {
                            "no member to ask".into()
                        } else {
                            fetched.passed_over.join("; ")
                        }
                    ),
                ))
                .map_err(|e| e.with_details(serde_json::json!({ "passed_over": fetched.passed_over })));
            };
            current = Some(member);
            let pass = |why: String, fetched: &mut Fetched| {
                tracing::info!(%member, %hash, why, "passing over a member for a file");
                fetched.passed_over.push(format!("{member}: {why}"));
            };
            if writing.is_none() {
                match net.fetch(member, Fetch::Manifest { hash }).await {
                    // The hash commits to the size: a record that gives
                    // another size is wrong, not the file.
                    Ok(Served::Manifest { manifest }) => match manifest.verify(&hash) {
                        Ok(()) if manifest.size <= max => {
                            writing = Some(self.data.attachments.fetching(hash, manifest)?);
                        }
                        Ok(()) => {
                            let size = manifest.size;
                            return Err(FileError::Refused(AttachmentError::TooLarge { size, max }).into());
                        }
                        Err(e) => pass(e.to_string(), &mut fetched),
                    },
                    Ok(other) => pass(describe(&other), &mut fetched),
                    Err(e) => pass(e, &mut fetched),
                }
                if writing.is_none() {
                    current = None;
                    continue;
                }
            }
            let Some(file) = writing.as_mut() else { continue };
            let Some(start) = file.next() else { break };
            let end = (start + WINDOW).min(file.manifest().chunks.len());
            let asks = (start..end).map(|index| net.fetch(member, Fetch::Chunk { hash, index: index as u32 }));
            let answers = futures::future::join_all(asks).await;
            let mut moved_on = false;
            for (index, answer) in (start..end).zip(answers) {
                let why = match answer {
                    Ok(Served::Chunk { bytes }) => match file.write(index, &bytes) {
                        Ok(()) => continue,
                        Err(e) => e.to_string(),
                    },
                    Ok(other) => describe(&other),
                    Err(e) => e,
                };
                pass(why, &mut fetched);
                moved_on = true;
                break;
            }
            if moved_on {
                current = None;
            } else if !fetched.from.contains(&member.to_string()) {
                fetched.from.push(member.to_string());
            }
        }
        let file = writing.ok_or_else(|| ServiceError::internal("a fetch ended without a file"))?;
        let size = file.manifest().size;
        file.finish()?;
        let sha = self.data.attachments.sha256(&hash)?;
        if naming.iter().any(|n| Some(n.reference.sha256) != sha) {
            tracing::warn!(%hash, "a record gives another SHA-256 than its file's");
        }
        self.audit_read(caller, "fetch file", &format!("file {hash} ({size} bytes) from {}", fetched.from.join(", ")))?;
        Ok(fetched)
    }

    /// A file for an analyst to read (fetched first if need be), with the
    /// reference its record gives; the consultation is logged against the
    /// records naming it.
    pub async fn read_file(self: &Arc<Self>, caller: &Caller, hash: FileHash) -> Result<HeldFile, ServiceError> {
        self.fetch_file(caller, hash).await?;
        let naming = self.named_by(&hash)?;
        self.consult_ids(caller, "read a file", naming.iter().map(|n| (n.id.to_string(), false)))?;
        let missing = || ServiceError::not_found(format!("file {hash} is not here"));
        let sha256 = self.data.attachments.sha256(&hash)?.ok_or_else(missing)?;
        let size = self.data.attachments.manifest(&hash)?.ok_or_else(missing)?.size;
        let file = self.data.attachments.open_file(&hash)?.ok_or_else(missing)?;
        // The name and type shown: a record that gives this file's SHA-256.
        let reference =
            naming.iter().map(|n| &n.reference).find(|r| r.sha256 == sha256).unwrap_or(&naming[0].reference).clone();
        let verified = naming.iter().all(|n| n.reference.sha256 == sha256);
        Ok(HeldFile { reference, size, sha256, verified, file })
    }

    /// Removes files no stored record names (their records expired or were
    /// erased), and uploads no record named within a day. Returns how many
    /// files went.
    pub fn sweep_attachments(&self) -> Result<usize, ServiceError> {
        let now = self.now_ms();
        let mut removed = 0;
        for (hash, pending) in self.data.attachments.held()? {
            if !self.naming(&hash)?.is_empty() {
                if pending.is_some() {
                    self.data.attachments.named(&hash);
                }
                continue;
            }
            if pending == Some(u64::MAX) {
                // A marker cut short (a crash as it was written): a new day.
                self.data.attachments.mark_pending(&hash, now)?;
                continue;
            }
            if pending.is_some_and(|since| now.saturating_sub(since) < PENDING_MS) {
                continue;
            }
            self.data.attachments.remove(&hash)?;
            removed += 1;
        }
        if removed > 0 {
            tracing::info!(removed, "files no stored record names were removed");
        }
        Ok(removed)
    }
}

fn describe(served: &Served) -> String {
    match served {
        Served::Unavailable => "does not serve it (not held, or no record it may share names it)".into(),
        Served::Busy => "busy".into(),
        Served::Manifest { .. } => "answered a chunk with a manifest".into(),
        Served::Chunk { .. } => "answered with a chunk when asked for the manifest".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_type_is_read_from_its_first_bytes_or_its_name() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None);
        assert_eq!(sniff(b"hello"), None);
        assert_eq!(by_extension("Reply from platform.PDF"), Some("application/pdf"));
        assert_eq!(by_extension("notes.exe"), None);
    }
}
