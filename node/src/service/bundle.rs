//! Sync over a file (docs/operations.md, "Air-gapped nodes"): a bundle is
//! what sync would send one member, sealed to that member's key; importing
//! one is ingesting it as sync would.
//!
//! Export asks the policy on the `bundle` path for each log, as a pull
//! answer asks on its own: only channels both nodes may see, only logs
//! whose authors the recipient would accept, each retired key's log only
//! up to where the trust list ends it. Import opens the seal with the
//! node's key, checks the bundle's signature, the network, the recipient
//! and that it was not imported before; applies the trust lists it carries
//! (each checked as from a peer), then checks its maker is an active
//! member, and ingests its records in batches (each record verified, forks
//! and void records handled as sync handles them).

use std::sync::Arc;

use kawan_protocol::{
    Bundle, BundleError, Channel, Membership, TrustError,
    bundle::{MAX_BUNDLE_BYTES, MAX_BUNDLE_RECORDS},
};
use serde::Serialize;
use serde_bytes::ByteBuf;

use super::{Caller, Fault, Service, ServiceError};
use crate::{
    bundle::BundleFileError,
    local::bundles::Imported,
    net::Command,
    policy::{Item, Onward, Path, Policy, Recipient},
    store::{Ingested, TrustStoreError},
};

/// Records handed to the store at once on import.
const INGEST_BATCH: usize = 1024;

/// Held while a bundle is imported.
static IMPORTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A bundle made for a member.
#[derive(Debug)]
pub struct BundleMade {
    /// The sealed file.
    pub file: Vec<u8>,
    pub id: String,
    pub member: String,
    pub records: usize,
    pub lists: usize,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct BundleImported {
    /// The bundle's id (BLAKE3 of its signed body), hex.
    pub id: String,
    /// The member that made it.
    pub from: String,
    pub created_ms: u64,
    /// Trust lists newer than this node's that it installed.
    pub trust_lists: usize,
    /// Records new here, already held, and refused (with the first reasons).
    pub new: u64,
    pub duplicates: u64,
    pub refused: u64,
    pub reasons: Vec<String>,
}

fn file_error(e: BundleFileError) -> ServiceError {
    let code = match e {
        BundleFileError::NotForUs => "bundle_not_for_us",
        BundleFileError::TooLarge => "bundle_too_large",
        BundleFileError::NotAge(_) | BundleFileError::Damaged(_) => "bundle_damaged",
        BundleFileError::BadKey(_) | BundleFileError::Seal(_) => "bundle_damaged",
    };
    ServiceError::invalid(code, e.to_string())
}

/// Whether a log's records are ones the recipient accepts: its author is an
/// active member allowed on its channel (what a pull answer serves).
fn eligible(trust: &Membership, channel: &Channel, author: &kawan_protocol::AgencyKey, now: u64) -> bool {
    trust.agency_key(author).is_some_and(|agency| trust.is_active(agency, now))
        && match channel {
            Channel::Network => true,
            Channel::Group(g) => trust.in_group(g, author),
        }
}

impl Service {
    /// Makes a bundle for member `member` (operators and coordinators):
    /// every record it may receive (created at or after `since_ms`, if
    /// given) and the trust-list chain, signed by this node and sealed to
    /// the member's key. Audited.
    pub async fn export_bundle(
        self: &Arc<Self>,
        caller: Caller,
        member: String,
        since_ms: Option<u64>,
    ) -> Result<BundleMade, ServiceError> {
        caller.require_admin("export a bundle")?;
        self.run(move |s| {
            let list = s.trust()?;
            let trust = s.data.store.membership().ok_or_else(|| ServiceError::not_found("no trust list installed"))?;
            let m = list
                .members
                .iter()
                .find(|m| m.id.as_str() == member)
                .ok_or_else(|| ServiceError::not_found(format!("no member {member} in the trust list")))?;
            let (to, me, now) = (m.key, s.key.public(), s.now_ms());
            if to == me {
                return Err(ServiceError::invalid("bundle_for_self", "a bundle is for another member's node"));
            }
            let policy = Policy::new(Some(&trust), me, now);
            if !policy.admits(&to) {
                return Err(ServiceError::invalid(
                    "not_active_member",
                    format!("{member} is not an active member: nothing may be sent to it"),
                ));
            }
            let shared = policy.shared_channels(&to);
            let (mut records, mut bytes) = (Vec::new(), 0usize);
            for head in s.data.store.heads(Some(&shared))? {
                let (channel, author) = (&head.channel, &head.author);
                if !eligible(&trust, channel, author, now)
                    || !policy.allows(Item::Record { channel, tlp: None, onward: Onward::Free }, Recipient::Peer(&to), Path::Bundle)
                {
                    continue;
                }
                let end = head.seq.min(trust.log_end(author, channel));
                let limit = usize::try_from(end).unwrap_or(usize::MAX);
                for (added, envelope) in s.data.store.log_entries_after(channel, author, 0, limit)? {
                    // Received since, not created since: a record signed
                    // long ago but stored here yesterday still goes.
                    if since_ms.is_none_or(|since| added >= since) {
                        bytes += envelope.len() + 8;
                        records.push(ByteBuf::from(envelope));
                    }
                }
                if records.len() > MAX_BUNDLE_RECORDS || bytes > MAX_BUNDLE_BYTES - (1 << 20) {
                    return Err(ServiceError::invalid(
                        "bundle_too_large",
                        format!(
                            "more than {MAX_BUNDLE_RECORDS} records or {MAX_BUNDLE_BYTES} bytes for {member}: export in parts with --since"
                        ),
                    ));
                }
            }
            let lists: Vec<ByteBuf> = s.data.store.trust_lists_after(0)?.into_iter().map(ByteBuf::from).collect();
            let bundle =
                Bundle { network: list.network.clone(), from: me, to, created_ms: now, since_ms, lists, records };
            let (signed, id) = bundle.sign(&s.key).map_err(ServiceError::internal)?;
            let file = crate::bundle::seal(&signed, &to).map_err(file_error)?;
            let made = BundleMade {
                file,
                id: id.to_string(),
                member: m.name.clone(),
                records: bundle.records.len(),
                lists: bundle.lists.len(),
            };
            let since = since_ms.map(|t| format!(", created since {t}")).unwrap_or_default();
            s.audit(
                &Caller { via: Path::Bundle, ..caller },
                "bundle.export",
                &format!(
                    "for {member}: {} records{since}, {} trust lists; bundle {}",
                    made.records, made.lists, made.id
                ),
            )?;
            Ok(made)
        })
        .await
    }

    /// Imports a bundle file made for this node (operators and
    /// coordinators), one at a time. Audited under the audit rule (intent,
    /// then outcome or the refusal's code); a bundle already imported is
    /// refused. Nothing is written unless the whole bundle checks out: its
    /// seal, signature, network and recipient, every trust list it carries
    /// (checked in memory first), its maker an active member of the newest.
    pub async fn import_bundle(
        self: &Arc<Self>,
        caller: Caller,
        file: Vec<u8>,
    ) -> Result<BundleImported, ServiceError> {
        caller.require_admin("import a bundle")?;
        // One at a time: the replay check and its row are one step, and a
        // node never holds two bundles' worth of memory.
        let _one = IMPORTING.lock().await;
        let (imported, fresh, installed) = self
            .run(move |s| {
                let caller = Caller { via: Path::Bundle, ..caller };
                let intent = format!("{} bytes", file.len());
                let mut installed = false;
                let result = s.audited(
                    &caller,
                    "bundle.import",
                    &intent,
                    || s.take_in(file, &mut installed),
                    |(i, _)| {
                        format!(
                            "bundle {} from {}: {} new, {} held, {} refused, {} trust lists",
                            i.id, i.from, i.new, i.duplicates, i.refused, i.trust_lists
                        )
                    },
                );
                result.map(|(imported, fresh)| (imported, fresh, installed))
            })
            .await?;
        if let Some(net) = self.net.get()
            && installed
        {
            net.send(Command::TrustUpdated);
        }
        if !fresh.is_empty() {
            self.deconflict.touch();
            // Watchlists look at what is new as at records from peers: after
            // the answer, as the network task's stored records are.
            let ids = fresh.iter().map(|(id, _)| *id).collect();
            let svc = self.clone();
            tokio::spawn(async move {
                if let Err(e) = svc.audit_net_event(crate::net::NetEvent::Stored(ids)).await {
                    tracing::warn!(error = %e, "alerts on imported records");
                }
            });
            let bytes: Vec<Vec<u8>> = fresh.into_iter().map(|(_, bytes)| bytes).collect();
            if let Some(net) = self.net.get()
                && !net.send(Command::Imported(bytes))
            {
                tracing::warn!("network busy: imported records will reach peers by sync");
            }
        }
        Ok(imported)
    }

    /// The checks and writes of an import; `installed` says whether a trust
    /// list was installed (so the network hears of it even if a later
    /// step fails).
    #[allow(clippy::type_complexity)]
    fn take_in(
        &self,
        file: Vec<u8>,
        installed: &mut bool,
    ) -> Result<(BundleImported, Vec<(kawan_protocol::RecordId, Vec<u8>)>), ServiceError> {
        let started = std::time::Instant::now();
        let signed = crate::bundle::unseal(&file, &self.key).map_err(file_error)?;
        drop(file);
        let (bundle, id) = Bundle::open(&signed).map_err(|e| match e {
            BundleError::BadSignature => ServiceError::invalid("bundle_tampered", e.to_string()),
            e => ServiceError::invalid("bundle_damaged", e.to_string()),
        })?;
        drop(signed);
        let opened_ms = started.elapsed().as_millis() as u64;
        let (me, now) = (self.key.public(), self.now_ms());
        let list = self.trust()?;
        if bundle.network != list.network {
            return Err(ServiceError::invalid(
                "wrong_network",
                format!("the bundle is for network {}, this node is in {}", bundle.network, list.network),
            ));
        }
        if bundle.to != me {
            return Err(ServiceError::invalid(
                "bundle_not_for_us",
                "the bundle names another agency's key as its recipient",
            ));
        }
        if let Some(prev) = self.data.bundles.imported(&id.0)? {
            return Err(ServiceError::new(
                Fault::Conflict,
                "bundle_replayed",
                format!(
                    "this bundle (made by {} at {}) was already imported at {} ({} new records then): nothing to do",
                    prev.from,
                    crate::clock::utc(prev.created_ms),
                    crate::clock::utc(prev.imported_ms),
                    prev.new
                ),
            ));
        }
        // Trust lists: the records' authors may be members only a newer list
        // names. Each is checked, in memory, as an update from a peer would
        // be; the maker must be an active member of the newest; only then is
        // anything written (and the store checks each list once more).
        let mut newest = (*list).clone();
        let mut updates = Vec::new();
        for (i, bytes) in bundle.lists.iter().enumerate() {
            let refused = |e: &dyn std::fmt::Display| {
                ServiceError::invalid(
                    "bundle_trust_refused",
                    format!("trust list {} of the bundle was refused: {e}", i + 1),
                )
            };
            let signed = kawan_protocol::SignedTrustList::from_bytes(bytes).map_err(|e| refused(&e))?;
            match signed.verify_update(&newest, now) {
                Ok(next) => {
                    newest = next;
                    updates.push(signed);
                }
                Err(TrustError::NotNewer { .. }) => {}
                Err(e) => return Err(refused(&e)),
            }
        }
        let maker = newest.member_by_key(&bundle.from).filter(|m| m.is_active(now)).ok_or_else(|| {
            ServiceError::forbidden(
                "bundle_not_from_member",
                format!("the bundle was made by key {}, which is no active member's", bundle.from),
            )
        })?;
        let from = maker.name.clone();
        for signed in &updates {
            match self.data.store.apply_trust_update(signed) {
                Ok(list) => {
                    *installed = true;
                    let detail = format!("{} v{} from a bundle by {from}", list.network, list.version);
                    self.audit(&Caller::system("trust install"), "trust.install", &detail)?;
                }
                Err(TrustStoreError::Trust(TrustError::NotNewer { .. })) => {}
                Err(e) => return Err(ServiceError::invalid("bundle_trust_refused", e.to_string())),
            }
        }
        // Records: only of channels the maker and this node may both see
        // (what sync accepts from a peer); each verified by the store.
        let trust = self.data.store.membership().ok_or_else(|| ServiceError::not_found("no trust list installed"))?;
        let shared = Policy::new(Some(&trust), me, now).shared_channels(&bundle.from);
        let (mut new, mut duplicates, mut refused, mut reasons) = (0u64, 0u64, 0u64, Vec::new());
        let mut refuse = |why: String, refused: &mut u64| {
            *refused += 1;
            if reasons.len() < 5 {
                reasons.push(why);
            }
        };
        let mut records: Vec<Vec<u8>> = bundle.records.into_iter().map(|b| b.into_vec()).collect();
        let not_shared = |h: &kawan_protocol::Header| {
            (!shared.contains(&h.channel))
                .then(|| format!("a record of channel {} the maker and this node do not share", h.channel))
        };
        let mut fresh = Vec::new();
        for chunk in records.chunks_mut(INGEST_BATCH) {
            let results = self.data.store.ingest_batch_where(chunk, not_shared);
            for (bytes, result) in chunk.iter_mut().zip(results) {
                match result {
                    Ok(Ingested::New(id) | Ingested::Equivocation(id)) => {
                        new += 1;
                        fresh.push((id, std::mem::take(bytes)));
                    }
                    Ok(_) => duplicates += 1,
                    Err(e) => refuse(e.to_string(), &mut refused),
                }
            }
        }
        tracing::info!(from = %from, new, duplicates, refused, opened_ms, took_ms = started.elapsed().as_millis() as u64, "bundle imported");
        let row = Imported {
            imported_ms: self.now_ms(),
            from: from.clone(),
            created_ms: bundle.created_ms,
            new,
            duplicates,
            refused,
        };
        self.data.bundles.record(&id.0, &row)?;
        let imported = BundleImported {
            id: id.to_string(),
            from,
            created_ms: bundle.created_ms,
            trust_lists: updates.len(),
            new,
            duplicates,
            refused,
            reasons,
        };
        Ok((imported, fresh))
    }
}
