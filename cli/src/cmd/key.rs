//! `kawan key`: the agency key's lifecycle (rotation, compromise recovery).

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use kawan_node::{clock::Clock, coordinator, service::OwnLogEnds};
use kawan_protocol::MemberId;

use super::Ctx;
use crate::i18n::t;

#[derive(Subcommand)]
pub enum KeyCmd {
    /// Step 1 of a rotation: make the next key and the card that asks the
    /// coordinators to list it.
    ///
    /// The node keeps running and signing with its current key. The card
    /// names the current key's end: now for a routine rotation, or the
    /// moment of a theft with --compromised-at; each of the key's logs ends
    /// at the last record this node published with it by then, named by
    /// number and id, so nothing signed later (whatever time it claims) and
    /// no other record in those places (a thief's fork) is valid. Step 2: a coordinator runs `kawan
    /// trust rotate-key LIST CARD`, signs and publishes. Step 3: once the
    /// node has the new list (`kawan status` says so), restart it: it signs
    /// and connects with the new key, and keeps the old one as
    /// agency.key.retired-<key prefix>.
    Rotate {
        /// When the key was stolen or lost (RFC 3339, e.g.
        /// 2026-11-20T08:00:00Z): everything it signed after is void, and
        /// the card is not co-signed by it (it proves nothing any more).
        #[arg(long)]
        compromised_at: Option<String>,
        /// Write the card to FILE instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

pub fn run(cmd: KeyCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let KeyCmd::Rotate { compromised_at, out } = cmd;
    let until_ms = match &compromised_at {
        Some(t) => parse_time(t)?,
        None => Clock::system().now_ms(),
    };
    let ends: OwnLogEnds = serde_json::from_value(
        ctx.client()?
            .get(&format!("/api/v1/keys/log-ends?until_ms={until_ms}&compromised={}", compromised_at.is_some()))
            .context(t!("asking-the-node"))?,
    )?;
    let Some(member) = ends.member.clone() else {
        bail!(t!("key-not-listed", key = ends.key.to_string()));
    };
    let card = coordinator::rotation_card(
        &ctx.dir,
        &MemberId::clone(&member),
        until_ms,
        ends.ends.clone(),
        compromised_at.is_some(),
    )?;
    let text = serde_json::to_string_pretty(&card)? + "\n";
    match &out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| t!("cannot-write", path = path.display().to_string()))?
        }
        None => print!("{text}"),
    }
    eprintln!(
        "{}",
        t!(
            "key-saved",
            key = card.card.key.to_string(),
            path = ctx.dir.join(kawan_node::node_dir::NEXT_KEY).display().to_string()
        )
    );
    for e in &ends.ends {
        let id = e.id.map_or_else(|| "-".to_string(), |id| id.to_string());
        eprintln!("  {}", t!("key-log-end", channel = e.channel.to_string(), seq = e.seq, id = id));
    }
    if compromised_at.is_some() {
        eprintln!("{}", t!("key-compromised-card"));
    }
    eprintln!("{}", t!("key-next-steps"));
    Ok(true)
}

/// An RFC 3339 time, a date (midnight UTC), or Unix milliseconds.
pub(crate) fn parse_time(t: &str) -> anyhow::Result<u64> {
    if let Ok(ms) = t.parse::<u64>() {
        return Ok(ms);
    }
    let full = if t.len() == 10 { format!("{t}T00:00:00Z") } else { t.to_string() };
    let at = time::OffsetDateTime::parse(&full, &time::format_description::well_known::Rfc3339)
        .with_context(|| t!("key-bad-time", time = t))?;
    u64::try_from(at.unix_timestamp_nanos() / 1_000_000).context(t!("key-before-1970"))
}
