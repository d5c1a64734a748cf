//! `kawan card`: this agency's public member card, for its coordinators.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use kawan_node::coordinator;

use super::Ctx;
use crate::i18n::t;

#[derive(Args)]
pub struct CardArgs {
    /// The agency's id in the trust list (default: from its name, e.g.
    /// "Cambodia ACU" → cambodia-acu).
    #[arg(long)]
    id: Option<String>,
    /// Address hint others dial, a multiaddr (repeatable; default: where the
    /// node listened when it last ran, or its configured listen addresses).
    #[arg(long = "addr")]
    addrs: Vec<String>,
    /// Write the card to FILE instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn run(a: CardArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let card = coordinator::own_card(&ctx.dir, a.id.as_deref(), &a.addrs)?;
    let text = serde_json::to_string_pretty(&card)? + "\n";
    match a.out {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| t!("cannot-write", path = path.display().to_string()))?;
            let path = path.display().to_string();
            eprintln!(
                "{}",
                t!("card-written", name = card.card.name.as_str(), id = card.card.id.to_string(), path = path)
            );
        }
        None => print!("{text}"),
    }
    Ok(true)
}
