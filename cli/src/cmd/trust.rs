//! `kawan trust`: coordinator tooling over trust-list files.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Subcommand;
use kawan_node::{clock::now_ms, coordinator as co};
use kawan_protocol::{Group, GroupId, MemberId, NetworkId, SignedTrustList, TrustList};
use serde_json::json;

#[derive(Subcommand)]
pub enum TrustCmd {
    /// Write a genesis trust list, signed by every coordinator given.
    NewNetwork {
        /// The network id.
        #[arg(long)]
        network: NetworkId,
        /// Coordinator signatures needed to change the list.
        #[arg(long, default_value_t = 1)]
        threshold: u16,
        /// A coordinator's node directory, as ID=DIR (repeatable).
        #[arg(long = "coordinator", required = true)]
        coordinators: Vec<String>,
        /// A member's node directory, as ID=DIR (repeatable).
        #[arg(long = "member")]
        members: Vec<String>,
        /// Where to write the list.
        #[arg(long)]
        out: PathBuf,
    },
    /// Add a member (next version, unsigned: then `kawan trust sign`).
    AddMember {
        file: PathBuf,
        /// ID=DIR of the new member's node directory.
        member: String,
        #[arg(long)]
        coordinator: bool,
        /// Address hint (multiaddr ending in /p2p/<peer id>; repeatable).
        #[arg(long = "addr")]
        addrs: Vec<String>,
    },
    /// Remove a member and its group memberships (next version, unsigned).
    RemoveMember { file: PathBuf, id: MemberId },
    /// Sharing groups.
    #[command(subcommand)]
    Group(GroupCmd),
    /// Sign a list with a coordinator key (a node directory or a key file).
    Sign {
        file: PathBuf,
        #[arg(long)]
        key: PathBuf,
    },
    /// Show a list and who signed it.
    Show { file: PathBuf },
    /// Install a signed update on the local node, which passes it on to the
    /// network. Needs a coordinator token (KAWAN_TOKEN); the genesis is never
    /// installed this way but from the file `kawan init --genesis` pins.
    Publish { file: PathBuf },
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

fn id_dir(spec: &str) -> anyhow::Result<(String, PathBuf)> {
    let (id, dir) = spec.split_once('=').with_context(|| format!("{spec:?}: write ID=DIR"))?;
    Ok((id.to_string(), PathBuf::from(dir)))
}

pub fn run(cmd: TrustCmd, ctx: &super::Ctx) -> anyhow::Result<bool> {
    let json = ctx.json;
    match cmd {
        TrustCmd::NewNetwork { network, threshold, coordinators, members, out } => {
            let mut list =
                TrustList { network, version: 1, issued_ms: now_ms(), threshold, members: vec![], groups: vec![] };
            let mut keys = Vec::new();
            for spec in &coordinators {
                let (id, dir) = id_dir(spec)?;
                list.members.push(co::member_from_dir(&dir, &id, true, &[])?);
                keys.push(co::key_of(&dir)?);
            }
            for spec in &members {
                let (id, dir) = id_dir(spec)?;
                list.members.push(co::member_from_dir(&dir, &id, false, &[])?);
            }
            let mut signed = SignedTrustList::new(&list)?;
            for k in &keys {
                signed.sign(k);
            }
            signed.verify_genesis()?;
            co::write(&out, &signed)?;
            println!("wrote genesis of {} (v1, {} members) to {}", list.network, list.members.len(), out.display());
        }
        TrustCmd::AddMember { file, member, coordinator, addrs } => {
            let (id, dir) = id_dir(&member)?;
            let m = co::member_from_dir(&dir, &id, coordinator, &addrs)?;
            edit(&file, |l| {
                l.members.push(m);
                Ok(())
            })?;
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
            signed.sign(&co::key_of(&key)?);
            co::write(&file, &signed)?;
            println!("signed {} ({} signature(s))", file.display(), signed.sigs.len());
        }
        TrustCmd::Show { file } => {
            let signed = co::read(&file)?;
            let list = signed.list()?;
            let view = json!({
                "network": list.network, "version": list.version, "threshold": list.threshold,
                "members": list.members.iter().map(|m| json!({"id": m.id, "name": m.name, "country": m.country, "key": m.key, "roles": m.roles, "addrs": m.addrs})).collect::<Vec<_>>(),
                "groups": list.groups.iter().map(|g| json!({"id": g.id, "name": g.name, "members": g.members})).collect::<Vec<_>>(),
                "signed_by": signed.sigs.iter().map(|s| s.key.to_string()).collect::<Vec<_>>(),
            });
            crate::output::json_or_text(&view, json);
        }
        TrustCmd::Publish { file } => {
            let bytes = std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let out = ctx.client()?.post("/api/v1/trust", &json!({"signed_list": hex::encode(bytes)}))?;
            if json {
                crate::output::json(&out);
            } else {
                println!(
                    "installed {} version {} on the node; it passes it on to the network",
                    out["network"], out["version"]
                );
            }
        }
    }
    Ok(true)
}

fn edit(
    file: &std::path::Path,
    f: impl FnOnce(&mut TrustList) -> Result<(), co::CoordinatorError>,
) -> anyhow::Result<()> {
    let current = co::read(file)?;
    let next = co::next_version(&current, now_ms(), f)?;
    co::write(file, &next)?;
    println!(
        "{} is now version {} (unsigned: run `kawan trust sign` with enough coordinator keys)",
        file.display(),
        next.list()?.version
    );
    Ok(())
}
