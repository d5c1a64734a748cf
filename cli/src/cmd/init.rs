//! `kawan init`: create a node directory.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use kawan_protocol::{Country, NetworkId};
use serde_json::json;

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Args)]
pub struct InitArgs {
    /// The agency's name, as the trust list should show it.
    #[arg(long)]
    name: String,
    /// The agency's ISO 3166-1 country (also the default phone region).
    #[arg(long)]
    country: Country,
    /// The network id to join.
    #[arg(long, default_value = "kawan-local")]
    network: NetworkId,
    /// API listen address (default 127.0.0.1:7700; port 0 picks a free one).
    #[arg(long)]
    api: Option<std::net::SocketAddr>,
    /// libp2p listen address (repeatable; default TCP on port 7701, noise + yamux).
    #[arg(long = "p2p")]
    p2p: Vec<String>,
    /// The network's genesis trust list, from its coordinators, or a chain
    /// from `kawan trust chain` (checked as `kawan trust join` checks it).
    #[arg(long)]
    genesis: Option<PathBuf>,
}

pub fn run(a: InitArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let dir = &ctx.dir;
    let made = kawan_node::daemon::init(dir, &a.name, a.country, a.network)?;
    let mut config = made.config.clone();
    if let Some(api) = a.api {
        config.api.listen = api;
    }
    if !a.p2p.is_empty() {
        config.p2p.listen = a.p2p;
    }
    config.write(dir)?;
    let joined = match a.genesis {
        Some(genesis) => Some(
            kawan_node::coordinator::join(dir, &[genesis], kawan_node::clock::Clock::system())
                .with_context(|| t!("init-not-joined", dir = dir.display().to_string()))?,
        ),
        None => None,
    };
    if ctx.json {
        output::json(
            &json!({"dir": dir, "agency_key": made.agency_key, "peer_id": made.peer_id, "operator_token": made.operator_token}),
        );
    } else {
        let dir = dir.display().to_string();
        println!("{}", t!("init-created", dir = dir.as_str()));
        println!("  {}", t!("init-key", key = made.agency_key.to_string()));
        println!("  {}", t!("init-peer", peer = made.peer_id.to_string()));
        println!("  {}", t!("init-token", dir = dir.as_str()));
        println!("    {}", made.operator_token);
        if let Some(j) = &joined {
            super::trust::joined(j, &ctx.dir);
        }
        println!("{}", t!("init-next", dir = dir.as_str()));
    }
    Ok(true)
}
