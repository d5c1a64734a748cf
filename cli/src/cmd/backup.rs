//! `kawan backup` and `kawan restore`: a consistent copy of a running node,
//! and a new node directory from one (docs/operations.md).

use std::{
    io::{BufRead as _, BufReader, Read, Write},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, bail};
use clap::Args;

use super::Ctx;
use crate::{i18n::t, output};

/// How an encrypted backup is protected: a passphrase, or age recipients.
#[derive(Args)]
pub struct Secret {
    /// Encrypt with the passphrase on the first line of FILE (age, scrypt).
    #[arg(long, value_name = "FILE", conflicts_with = "recipient")]
    passphrase_file: Option<PathBuf>,
    /// Encrypt to an age recipient (`age1…`; repeatable).
    #[arg(long, value_name = "AGE_RECIPIENT")]
    recipient: Vec<String>,
}

#[derive(Args)]
pub struct BackupArgs {
    /// Where to write the backup (created mode 0600; must not exist).
    #[arg(long)]
    out: PathBuf,
    /// Include the agency key (and the operator token file).
    #[arg(long)]
    include_key: bool,
    #[command(flatten)]
    secret: Secret,
    /// Write the backup unencrypted. It holds cases, contacts, watchlists
    /// and the audit log in the clear: only for a medium that is itself
    /// encrypted and never leaves the agency.
    #[arg(long)]
    unencrypted_i_understand: bool,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// The backup file (age-encrypted, or plain if written with
    /// --unencrypted-i-understand).
    file: PathBuf,
    /// The agency key that signed the backup (hex; `kawan backup` prints
    /// it, `kawan status` shows the node's). Repeatable.
    #[arg(long, value_name = "KEY")]
    signer: Vec<String>,
    /// Or: the network's genesis trust list, from your own copy (not the
    /// backup's), with --agency: the backup must be signed by that member's
    /// current key in the trust lists that chain from it.
    #[arg(long, value_name = "FILE", requires = "agency", conflicts_with = "signer")]
    genesis: Option<PathBuf>,
    /// With --genesis: the agency's member id in the trust list.
    #[arg(long, value_name = "ID", requires = "genesis")]
    agency: Option<String>,
    /// Restore a backup that is not encrypted (written with
    /// --unencrypted-i-understand); without it an unencrypted file is
    /// refused, so no one can swap one in for an encrypted backup.
    #[arg(long)]
    unencrypted_i_understand: bool,
    /// For an encrypted backup: the passphrase on the first line of FILE.
    #[arg(long, value_name = "FILE")]
    passphrase_file: Option<PathBuf>,
    /// For an encrypted backup: an age identity file (`AGE-SECRET-KEY-1…`).
    #[arg(long, value_name = "FILE")]
    identity: Option<PathBuf>,
}

fn passphrase(path: &Path) -> anyhow::Result<age::secrecy::SecretString> {
    let file = std::fs::File::open(path).with_context(|| t!("cannot-read", path = path.display().to_string()))?;
    let line = BufReader::new(file).lines().next().transpose()?.unwrap_or_default();
    if line.trim().len() < 12 {
        bail!(t!("backup-short-passphrase", path = path.display().to_string()));
    }
    Ok(age::secrecy::SecretString::from(line.trim().to_string()))
}

pub fn backup(a: BackupArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let encrypt = a.secret.passphrase_file.is_some() || !a.secret.recipient.is_empty();
    if !encrypt && (a.include_key || !a.unencrypted_i_understand) {
        bail!(t!("backup-needs-encryption"));
    }
    let encryptor = if encrypt {
        Some(match &a.secret.passphrase_file {
            Some(p) => age::Encryptor::with_user_passphrase(passphrase(p)?),
            None => {
                let recipients = a
                    .secret
                    .recipient
                    .iter()
                    .map(|r| {
                        r.parse::<age::x25519::Recipient>().map_err(|e| {
                            anyhow::anyhow!(t!("backup-bad-recipient", recipient = r.as_str(), error = e.to_string()))
                        })
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?;
                age::Encryptor::with_recipients(recipients.iter().map(|r| r as &dyn age::Recipient))?
            }
        })
    } else {
        None
    };
    let key = if a.include_key {
        let config = kawan_node::config::Config::load(&ctx.dir)?;
        Some(std::fs::read(ctx.dir.join(&config.paths.key)).context(t!("backup-cannot-read-key"))?)
    } else {
        None
    };
    // The node's archive is streamed straight into the (encrypted) output:
    // nothing of it is written anywhere else, nor held in memory.
    let client = ctx.client()?;
    let archive = client.get_reader("/api/v1/backup")?;
    // Written beside the target and renamed when complete: a backup that
    // failed half-way is never mistaken for one.
    if a.out.exists() {
        bail!(t!("backup-cannot-create", path = a.out.display().to_string()));
    }
    let partial = a.out.with_file_name(format!(
        ".{}.partial",
        a.out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
    ));
    let out = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode_0600()
        .open(&partial)
        .with_context(|| t!("backup-cannot-create", path = partial.display().to_string()))?;
    let sink = match encryptor {
        Some(e) => Sink::Age(e.wrap_output(std::io::BufWriter::new(out))?),
        None => Sink::Plain(std::io::BufWriter::new(out)),
    };
    let written = repack(archive, sink, key.as_deref(), &ctx.dir).and_then(|m| {
        if a.out.exists() {
            bail!(t!("backup-cannot-create", path = a.out.display().to_string()));
        }
        std::fs::rename(&partial, &a.out)?;
        Ok(m)
    });
    let manifest = match written {
        Ok(m) => m,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
    };
    if ctx.json {
        output::json(&manifest);
    } else {
        let records = manifest["entries"]["records/records"].as_u64().unwrap_or(0);
        let audit = manifest["entries"]["local/audit"].as_u64().unwrap_or(0);
        let agency = manifest["agency"].as_str().unwrap_or("?");
        let out = a.out.display().to_string();
        println!("{}", t!("backup-done", agency = agency, path = out, records = records, audit = audit));
        if a.include_key {
            println!("{}", t!("backup-with-key"));
        }
        println!("{}", if encrypt { t!("backup-encrypted") } else { t!("backup-not-encrypted") });
        println!("{}", t!("backup-signed", signer = manifest["signer"].as_str().unwrap_or("?")));
    }
    Ok(true)
}

/// Copies the node's archive entry by entry into `sink` (the manifest read
/// on the way, for the summary), adds the key and operator token if asked,
/// and finishes the file. Returns the manifest.
fn repack(archive: impl Read, sink: Sink, key: Option<&[u8]>, dir: &Path) -> anyhow::Result<serde_json::Value> {
    let mut tar = tar::Builder::new(sink);
    let mut manifest = serde_json::Value::Null;
    let mut archive = tar::Archive::new(archive);
    for entry in archive.entries()? {
        let mut entry = entry?;
        let name = entry.path()?.to_string_lossy().into_owned();
        let mut header = entry.header().clone();
        if name == "manifest.json" {
            let mut bytes = Vec::new();
            (&mut entry).take(4 << 20).read_to_end(&mut bytes)?;
            manifest = serde_json::from_slice(&bytes).unwrap_or_default();
            tar.append_data(&mut header, &name, bytes.as_slice())?;
        } else {
            tar.append_data(&mut header, &name, &mut entry)?;
        }
    }
    if let Some(key) = key {
        // A key that is not the signer's would make the backup refuse to
        // restore, found only on the day it is needed.
        let public = std::str::from_utf8(key).ok().and_then(kawan_node::identity::from_text).map(|k| k.public());
        if public.map(|p| p.to_string()).as_deref() != manifest["signer"].as_str() {
            bail!(t!("backup-key-not-signer"));
        }
        let now_s = kawan_node::clock::Clock::system().now_ms() / 1000;
        kawan_node::backup::append_bytes(&mut tar, "agency.key", key, now_s)?;
        if let Ok(token) = std::fs::read(dir.join(kawan_node::node_dir::OPERATOR_TOKEN)) {
            kawan_node::backup::append_bytes(&mut tar, kawan_node::node_dir::OPERATOR_TOKEN, &token, now_s)?;
        }
    }
    tar.into_inner()?.finish()?;
    Ok(manifest)
}

pub fn restore(a: RestoreArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let Some(target) = &ctx.dir_given else {
        bail!(t!("restore-where"));
    };
    let mut file = BufReader::new(
        std::fs::File::open(&a.file).with_context(|| t!("cannot-read", path = a.file.display().to_string()))?,
    );
    let encrypted = file.fill_buf()?.starts_with(b"age-encryption.org/v1");
    if !encrypted && (a.passphrase_file.is_some() || a.identity.is_some() || !a.unencrypted_i_understand) {
        bail!(t!("restore-not-encrypted", path = a.file.display().to_string()));
    }
    let reader: Box<dyn Read> = if encrypted {
        let decryptor = age::Decryptor::new_buffered(file).context(t!("restore-not-age"))?;
        let stream = match (&a.passphrase_file, &a.identity) {
            (Some(p), _) => {
                decryptor.decrypt(std::iter::once(&age::scrypt::Identity::new(passphrase(p)?) as &dyn age::Identity))
            }
            (None, Some(i)) => {
                let text =
                    std::fs::read_to_string(i).with_context(|| t!("cannot-read", path = i.display().to_string()))?;
                let id = text
                    .lines()
                    .find(|l| l.starts_with("AGE-SECRET-KEY-"))
                    .and_then(|l| l.trim().parse::<age::x25519::Identity>().ok())
                    .with_context(|| t!("restore-no-identity", path = i.display().to_string()))?;
                decryptor.decrypt(std::iter::once(&id as &dyn age::Identity))
            }
            (None, None) => bail!(t!("restore-encrypted", path = a.file.display().to_string())),
        };
        Box::new(stream.context(t!("restore-cannot-decrypt"))?)
    } else {
        Box::new(file)
    };
    let anchor = match (&a.genesis, a.signer.is_empty()) {
        (Some(path), true) => {
            let bytes = std::fs::read(path).with_context(|| t!("cannot-read", path = path.display().to_string()))?;
            let genesis = kawan_protocol::SignedTrustList::from_bytes(&bytes)
                .with_context(|| t!("restore-bad-genesis", path = path.display().to_string()))?;
            let id = a.agency.clone().unwrap_or_default();
            let member = kawan_protocol::MemberId::new(id.clone())
                .map_err(|_| anyhow::anyhow!(t!("restore-bad-agency", id = id.as_str())))?;
            kawan_node::backup::Anchor::Genesis { genesis: Box::new(genesis), member }
        }
        (None, false) => kawan_node::backup::Anchor::Keys(
            a.signer
                .iter()
                .map(|k| k.parse().map_err(|_| anyhow::anyhow!(t!("restore-bad-signer", key = k.as_str()))))
                .collect::<anyhow::Result<_>>()?,
        ),
        _ => bail!(t!("restore-needs-anchor")),
    };
    let r = kawan_node::backup::restore(reader, target, kawan_node::clock::Clock::system(), &anchor)?;
    if ctx.json {
        output::json(&serde_json::to_value(&r)?);
    } else {
        let dir = target.display().to_string();
        println!("{}", t!("restore-done", agency = r.manifest.agency.as_str(), dir = dir.as_str()));
        println!(
            "  {}",
            t!("restore-made", time = crate::i18n::time(r.manifest.created_ms), signer = r.manifest.signer.as_str())
        );
        println!("  {}", t!("restore-records", n = r.records));
        println!("  {}", t!("restore-audit", n = r.audit_entries));
        println!("  {}", t!("restore-cases", n = r.cases));
        println!("  {}", t!("restore-trust", n = r.trust_lists, version = r.trust_version.unwrap_or(0)));
        println!("  {}", t!("restore-tokens", n = r.tokens));
        if r.key_restored {
            println!("  {}", t!("restore-key", dir = dir.as_str()));
        } else {
            let key = kawan_node::config::Config::load_file(&target.join(kawan_node::node_dir::CONFIG))
                .map(|c| c.paths.key.display().to_string())
                .unwrap_or_else(|_| kawan_node::node_dir::DEFAULT_KEY.to_string());
            println!("  {}", t!("restore-no-key", dir = dir.as_str(), key = key.as_str()));
        }
        if r.operator_token_restored {
            println!("  {}", t!("restore-operator-token", dir = dir.as_str()));
        } else {
            println!("  {}", t!("restore-no-operator-token", dir = dir.as_str()));
        }
    }
    Ok(true)
}

/// Where the archive goes: the file, or an age stream into it (which must
/// be finished to write its last chunk).
enum Sink {
    Plain(std::io::BufWriter<std::fs::File>),
    Age(age::stream::StreamWriter<std::io::BufWriter<std::fs::File>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Plain(w) => w.write(buf),
            Sink::Age(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Plain(w) => w.flush(),
            Sink::Age(w) => w.flush(),
        }
    }
}

impl Sink {
    fn finish(self) -> std::io::Result<()> {
        let mut file = match self {
            Sink::Plain(w) => w,
            Sink::Age(w) => w.finish()?,
        };
        file.flush()?;
        file.get_ref().sync_all()
    }
}

/// `OpenOptions::mode(0o600)`, spelled once.
trait Private {
    fn mode_0600(&mut self) -> &mut Self;
}

impl Private for std::fs::OpenOptions {
    fn mode_0600(&mut self) -> &mut Self {
        use std::os::unix::fs::OpenOptionsExt as _;
        self.mode(0o600)
    }
}
