//! `kawan trust`: coordinator tooling over trust-list files.

use std::path::PathBuf;

use anyhow::{Context as _, bail};
use clap::Subcommand;
use kawan_node::{clock::Clock, coordinator as co};
use kawan_protocol::{Group, GroupId, MemberId, NetworkId, SignedTrustList, TrustList};
use serde_json::json;

use crate::i18n::t;

#[derive(Subcommand)]
pub enum TrustCmd {
    /// Write a genesis trust list from member cards (`kawan card`), signed
    /// with your own coordinator key if you give it.
    ///
    /// With a threshold above 1, each other coordinator then runs `kawan
    /// trust sign` with their own key. Every agency pins the result with
    /// `kawan trust join`.
    NewNetwork {
        /// The network id.
        #[arg(long)]
        network: NetworkId,
        /// Coordinator signatures needed to change the list.
        #[arg(long, default_value_t = 1)]
        threshold: u16,
        /// A coordinator's member card (repeatable).
        #[arg(long = "coordinator", required = true)]
        coordinators: Vec<PathBuf>,
        /// A member's card (repeatable).
        #[arg(long = "member")]
        members: Vec<PathBuf>,
        /// Your own coordinator key (your agency.key file, or your own node
        /// directory); never another agency's.
        #[arg(long)]
        key: Option<PathBuf>,
        /// Where to write the list.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a member from its card (next version, unsigned: then `kawan trust sign`).
    AddMember {
        file: PathBuf,
        /// The new member's card (`kawan card`).
        card: PathBuf,
        #[arg(long)]
        coordinator: bool,
    },
    /// Remove a member and its group memberships (next version, unsigned).
    RemoveMember { file: PathBuf, id: MemberId },
    /// Replace a member's key from its rotation card (`kawan key rotate`;
    /// next version, unsigned). The old key is kept as retired: what it
    /// signed before the card's cutoff stays valid, anything later is void
    /// on every node.
    RotateKey {
        file: PathBuf,
        /// The rotation card.
        card: PathBuf,
    },
    /// Sharing groups.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Sign a list with your own coordinator key (a key file or your own node directory).
    Sign {
        file: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// Show a list and who signed it.
    Show { file: PathBuf },
    /// Join a network (before the node's first run): pins the genesis and,
    /// for an agency added later, installs every later version up to the
    /// one that names it. Give the genesis file, or a chain from `kawan
    /// trust chain` (which starts with the genesis), or both. Checks the
    /// coordinators' signatures on every version, the network and that the
    /// newest list names this node; then `kawan run`.
    Join {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
    /// Write every trust list this node accepted, genesis first, to one
    /// file: what an agency added after the network was founded gives
    /// `kawan trust join`. Asks the running node (any token).
    Chain {
        #[arg(long)]
        out: PathBuf,
    },
    /// Install a signed update on the local node, which passes it on to the
    /// network. Needs a coordinator token (KAWAN_TOKEN); the genesis is never
    /// installed this way but from the file `kawan trust join` pins.
    Publish { file: PathBuf },
    /// Each member's health as this node sees it: connected or last seen,
    /// the version it runs and the families it cannot read, records it
    /// lacks, offences counted against it, key age, when its membership
    /// lapses; then the warnings a coordinator acts on (memberships
    /// expiring within 30 and 90 days, a coordinator quorum at risk).
    Health,
    /// Propose the next version of the list on your own coordinator's node
    /// (a coordinator token): one change, signed by your node and sent to
    /// the other coordinators' nodes only; they review it (`kawan trust
    /// proposals`) and sign on theirs (`kawan trust sign-proposal`). With
    /// the threshold's signatures it is installed and spreads.
    ///
    /// Example: kawan trust propose --card vn-a05.card --note "Viet Nam A05, met at the Bangkok workshop"
    Propose {
        /// A member card, or a key-rotation card: admit the agency or rotate its key.
        #[arg(long, group = "change")]
        card: Option<PathBuf>,
        /// Remove this member.
        #[arg(long, group = "change")]
        remove: Option<MemberId>,
        /// Renew this member's membership (until --until, or with no expiry).
        #[arg(long, group = "change")]
        renew: Option<MemberId>,
        /// With --renew: the last day (YYYY-MM-DD, RFC 3339, or Unix ms).
        #[arg(long, requires = "renew")]
        until: Option<String>,
        /// A sharing group to change (created if new), with --add or --drop.
        #[arg(long, group = "change")]
        group: Option<String>,
        /// With --group: the member to add.
        #[arg(long, requires = "group")]
        add: Option<MemberId>,
        /// With --group: the member to take out.
        #[arg(long, requires = "group")]
        drop: Option<MemberId>,
        /// A whole next version written with the file commands (for the
        /// threshold, retention, decay or the largest file).
        #[arg(long, group = "change")]
        list: Option<PathBuf>,
        /// Why, for the other coordinators.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Proposals this coordinator's node holds: what each changes, who
    /// signed, how many are needed, competing ones.
    Proposals,
    /// Sign a proposal on your own node (a coordinator token); takes your
    /// signature back from competing proposals for the same version.
    SignProposal { id: String },
}

#[derive(Subcommand)]
pub enum GroupCmd {
    /// Create a sharing group (next version, unsigned).
    Create {
        file: PathBuf,
        id: GroupId,
        #[arg(long)]
        name: String,
    },
    /// Add a member to a group (next version, unsigned).
    Add { file: PathBuf, group: GroupId, member: MemberId },
    /// Remove a member from a group (next version, unsigned).
    Remove { file: PathBuf, group: GroupId, member: MemberId },
}

pub fn run(cmd: TrustCmd, ctx: &super::Ctx) -> anyhow::Result<bool> {
    let json = ctx.json;
    match cmd {
        TrustCmd::NewNetwork { network, threshold, coordinators, members, key, out } => {
            let mut list = TrustList {
                attachment_max_bytes: None,
                retention: None,
                decay: None,
                network,
                version: 1,
                issued_ms: Clock::system().now_ms(),
                threshold,
                members: vec![],
                groups: vec![],
            };
            for card in &coordinators {
                list.members.push(co::member_from_card(card, true)?);
            }
            for card in &members {
                list.members.push(co::member_from_card(card, false)?);
            }
            let mut signed = SignedTrustList::new(&list)?;
            if let Some(key) = key {
                let key = co::own_key(&key)?;
                if !list.members.iter().any(|m| m.key == key.public() && m.is_coordinator()) {
                    bail!(t!("trust-key-not-coordinator"));
                }
                signed.sign(&key);
            }
            co::write(&out, &signed)?;
            let path = out.display().to_string();
            println!(
                "{}",
                t!(
                    "trust-genesis",
                    network = list.network.to_string(),
                    members = list.members.len(),
                    path = path.as_str()
                )
            );
            let missing = usize::from(threshold).saturating_sub(signed.sigs.len());
            if missing > 0 {
                println!("{}", t!("trust-needs-signatures", n = missing, path = path.as_str()));
            }
        }
        TrustCmd::AddMember { file, card, coordinator } => {
            let m = co::member_from_card(&card, coordinator)?;
            edit(&file, |l| {
                l.members.push(m);
                Ok(())
            })?;
        }
        TrustCmd::RotateKey { file, card } => {
            let card = co::read_card(&card)?;
            edit(&file, |l| co::rotate(l, &card, Clock::system().now_ms()))?;
            if card.card.replaces.as_ref().is_some_and(|r| r.compromised) || !card.signed_by_old_key() {
                println!("{}", t!("trust-confirm-compromise", name = card.card.name.as_str()));
            }
        }
        TrustCmd::RemoveMember { file, id } => edit(&file, |l| {
            let before = l.members.len();
            l.members.retain(|m| m.id != id);
            if l.members.len() == before {
                return Err(co::CoordinatorError::Invalid(format!("no member {id}")));
            }
            for g in &mut l.groups {
                g.members.retain(|m| *m != id);
            }
            Ok(())
        })?,
        TrustCmd::Group(GroupCmd::Create { file, id, name }) => edit(&file, |l| {
            l.groups.push(Group { id, name, members: vec![] });
            Ok(())
        })?,
        TrustCmd::Group(GroupCmd::Add { file, group, member }) => edit(&file, |l| {
            let g = l
                .groups
                .iter_mut()
                .find(|g| g.id == group)
                .ok_or_else(|| co::CoordinatorError::Invalid(format!("no group {group}")))?;
            g.members.push(member);
            Ok(())
        })?,
        TrustCmd::Group(GroupCmd::Remove { file, group, member }) => edit(&file, |l| {
            let g = l
                .groups
                .iter_mut()
                .find(|g| g.id == group)
                .ok_or_else(|| co::CoordinatorError::Invalid(format!("no group {group}")))?;
            g.members.retain(|m| *m != member);
            Ok(())
        })?,
        TrustCmd::Sign { file, key } => {
            let mut signed = co::read(&file)?;
            signed.sign(&co::own_key(&key)?);
            co::write(&file, &signed)?;
            println!("{}", t!("trust-signed", path = file.display().to_string(), n = signed.sigs.len()));
        }
        TrustCmd::Join { files } => joined(&co::join(&ctx.dir, &files, Clock::system())?, &ctx.dir),
        TrustCmd::Chain { out } => {
            let chain = ctx.client()?.get("/api/v1/trust/chain")?;
            let mut lists = Vec::new();
            for hex_list in chain["lists"].as_array().into_iter().flatten() {
                let bytes = hex::decode(hex_list.as_str().unwrap_or_default())?;
                lists.push(SignedTrustList::from_bytes(&bytes)?);
            }
            let newest = lists.last().map(|l| l.list()).transpose()?.map_or(0, |l| l.version);
            kawan_node::files::write_atomic(&out, &kawan_protocol::chain_to_bytes(&lists), 0o644)
                .with_context(|| t!("cannot-write", path = out.display().to_string()))?;
            println!(
                "{}",
                t!("trust-chain-written", path = out.display().to_string(), n = lists.len(), version = newest)
            );
        }
        TrustCmd::Show { file } => {
            let signed = co::read(&file)?;
            let list = signed.list()?;
            let view = json!({
                "network": list.network, "version": list.version, "threshold": list.threshold,
                "members": list.members.iter().map(|m| json!({"id": m.id, "name": m.name, "country": m.country, "key": m.key, "roles": m.roles, "addrs": m.addrs, "retired_keys": m.retired_keys.iter().map(|r| json!({"key": r.key, "until_ms": r.until_ms, "compromised": r.compromised, "last_seqs": r.last_seqs.iter().map(|e| json!({"channel": e.channel.to_string(), "seq": e.seq, "id": e.id})).collect::<Vec<_>>()})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
                "groups": list.groups.iter().map(|g| json!({"id": g.id, "name": g.name, "members": g.members})).collect::<Vec<_>>(),
                "signed_by": signed.sigs.iter().map(|s| s.key.to_string()).collect::<Vec<_>>(),
            });
            crate::output::json_or_text(&view, json);
        }
        TrustCmd::Publish { file } => {
            let bytes = std::fs::read(&file).with_context(|| t!("cannot-read", path = file.display().to_string()))?;
            let out = ctx.client()?.post("/api/v1/trust", &json!({"signed_list": hex::encode(bytes)}))?;
            if json {
                crate::output::json(&out);
            } else {
                let network = out["network"].as_str().unwrap_or("?");
                println!(
                    "{}",
                    t!("trust-installed", network = network, version = out["version"].as_u64().unwrap_or(0))
                );
            }
        }
        TrustCmd::Propose { card, remove, renew, until, group, add, drop, list, note } => {
            let mut body = json!({"note": note});
            if let Some(card) = card {
                let text = std::fs::read_to_string(&card)
                    .with_context(|| t!("attach-cannot-read", path = card.display().to_string()))?;
                body["card"] = json!(text);
            }
            if let Some(id) = remove {
                body["remove"] = json!(id.to_string());
            }
            if let Some(id) = renew {
                body["renew"] = json!(id.to_string());
                if let Some(u) = until {
                    body["until_ms"] = json!(super::key::parse_time(&u)?);
                }
            }
            if let Some(g) = group {
                body["group"] = json!(g);
                body["add"] = json!(add.map(|m| m.to_string()));
                body["drop"] = json!(drop.map(|m| m.to_string()));
            }
            if let Some(path) = list {
                let bytes = std::fs::read(&path)
                    .with_context(|| t!("attach-cannot-read", path = path.display().to_string()))?;
                body["list"] = json!(hex::encode(bytes));
            }
            let out = ctx.client()?.post("/api/v1/trust/proposals", &body)?;
            if json {
                crate::output::json(&out);
            } else {
                crate::output::proposal(&out);
            }
        }
        TrustCmd::Proposals => {
            let out = ctx.client()?.get("/api/v1/trust/proposals")?;
            if json {
                crate::output::json(&out);
            } else {
                for p in out.as_array().into_iter().flatten() {
                    crate::output::proposal(p);
                }
            }
        }
        TrustCmd::SignProposal { id } => {
            let path = format!("/api/v1/trust/proposals/{}/sign", crate::output::urlencode(&id));
            let out = ctx.client()?.post_text(&path, String::new())?;
            if json {
                crate::output::json(&out);
            } else {
                crate::output::proposal(&out);
            }
        }
        TrustCmd::Health => {
            let client = ctx.client()?;
            let peers = client.get("/api/v1/peers")?;
            let status = client.get("/api/v1/status")?;
            if json {
                crate::output::json(&json!({"members": peers, "warnings": status["warnings"]}));
            } else {
                crate::output::health(&peers, &status, crate::output::now_ms());
            }
        }
    }
    Ok(true)
}

/// Says what `kawan trust join` (or `kawan init --genesis`) installed.
pub fn joined(j: &co::Joined, dir: &std::path::Path) {
    println!(
        "{}",
        t!(
            "trust-joined",
            network = j.genesis.network.to_string(),
            version = j.current.version,
            members = j.current.members.len(),
            dir = dir.display().to_string()
        )
    );
}

fn edit(
    file: &std::path::Path,
    f: impl FnOnce(&mut TrustList) -> Result<(), co::CoordinatorError>,
) -> anyhow::Result<()> {
    let current = co::read(file)?;
    let next = co::next_version(&current, Clock::system().now_ms(), f)?;
    co::write(file, &next)?;
    println!("{}", t!("trust-edited", path = file.display().to_string(), version = next.list()?.version));
    Ok(())
}
