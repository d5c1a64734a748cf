//! The node's application façade (docs/architecture.md, "One application
//! core"): publish, query, export, cases, trust, audit and tokens. The HTTP
//! adapters (REST, TAXII, the web
//! page) call these methods and nothing below them. The service owns the
//! rules an adapter must not have to remember:
//! - every action is written to the audit log (changes wait for the disk;
//!   reads are buffered), and an action whose entry cannot be written fails;
//! - everything shown or exported is first put to [`crate::policy`];
//! - store work runs on a blocking thread ([`Service::run`]), never on the
//!   async workers that serve every other request.

mod admin;
mod attachments;
mod bundle;
mod cases;
mod consultations;
mod deconflict;
mod error;
mod export;
mod extract;
mod home;
mod lifetime;
mod oversight;
mod permissions;
mod pins;
mod proposals;
mod publish;
mod query;
mod referrals;
mod requests;
mod tokens;
mod trust;
mod watch;

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::Instant,
};

/// Store types the adapters name (queries, cursors, stored records): the
/// adapters import them from here, never from `store`.
pub use crate::store::{BulkItem, Cursor, Query, StoredRecord};
pub use admin::{AuditVerdict, Count, DatabaseStats, KeyspaceStats, Status, StoreStats, Witness};
pub use attachments::{Fetched, NewAttachment};
pub use bundle::{BundleImported, BundleMade};
pub use deconflict::{AskValue, ContactReply, NewContact, NewDeconfliction};
pub use error::{Fault, ServiceError};
pub use export::{Taxii, TaxiiPage, TaxiiStart};
pub use extract::{Screened, Screening, TypologySignal};
pub use home::{Home, Tally, WEEKS};
pub use lifetime::{ReviewItem, Swept};
pub use oversight::{OversightReport, SignedReport, VerifyError};
pub use permissions::NewPermission;
pub use pins::NewPin;
pub use proposals::{NewProposal, ProposalView};
pub use publish::{NewIndicator, Published, group_field};
pub use query::{CheckedValue, IndicatorPage, Library, Lookup, MAX_LOOKUP_VALUES, bulk_items};
pub use referrals::{
    Filed, NewReferral, NewSubject, PackageRow, PlatformFigures, ReferralFilter, StatusUpdate, figures, month,
};
pub use requests::{Asked, NewAnswer, NewRequest, RequestScope, RequestThread, RequestUpdate, first_line};
pub use tokens::same;
pub use trust::{CardReview, OwnLogEnds, PeerState, Warning};
pub use watch::{AlertEvent, NewWatch, for_caller};

use kawan_protocol::{AgencyKey, Context, Keypair, TrustList};

use crate::{
    config::Config,
    data_dir::DataDir,
    local::tokens::Role,
    metrics::Metrics,
    net::NetHandle,
    policy::{Path, Policy, Recipient},
    store::Hit,
};

/// Who is asking, and through which adapter: the path decides what the
/// policy lets them see, and the audit log records both.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub role: Role,
    pub via: Path,
    /// Why the caller consults shared data: the purpose and case reference
    /// it stated (`Kawan-Purpose` header, `kawan --purpose`, the web page's
    /// purpose box), logged with every consultation (`consult`).
    pub purpose: Option<String>,
}

impl Caller {
    /// The node itself, doing background work for its agency (a job, or
    /// acting on what the network did): audited as "system: <job>", on the
    /// policy's `system` path, which reads like an analyst and sends nothing.
    pub fn system(job: &str) -> Caller {
        Caller { name: format!("system: {job}"), role: Role::Operator, via: Path::System, purpose: None }
    }

    /// Another agency asking this node something over `via` (a
    /// deconfliction question): audited as "peer <name>". Its role is the
    /// least there is; what it may receive is the policy's `Peer` rules.
    pub fn peer(name: &str, via: Path) -> Caller {
        Caller { name: format!("peer {name}"), role: Role::Analyst, via, purpose: None }
    }

    /// The caller with the purpose it stated (blank: none).
    /// Control and invisible format characters are dropped, and a purpose
    /// with no letter or digit (`-`, U+FFFD from a bad encoding) is none.
    pub fn with_purpose(mut self, purpose: Option<String>) -> Caller {
        let visible = |c: &char| {
            !c.is_control()
                && !matches!(*c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}')
        };
        self.purpose = purpose
            .map(|p| {
                let p: String = p.chars().filter(visible).collect();
                p.trim().chars().take(MAX_PURPOSE).collect::<String>()
            })
            .filter(|p| p.chars().any(char::is_alphanumeric));
        self
    }

    /// Refused unless the caller's role covers `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ServiceError> {
        if self.role.allows(needed) {
            Ok(())
        } else {
            Err(ServiceError::forbidden(
                "forbidden",
                format!("this needs the {} role; token {:?} is {}", needed.as_str(), self.name, self.role.as_str()),
            ))
        }
    }

    /// Who the caller is to the policy: a reader on this node (REST, web),
    /// or a tool fed through an export path.
    pub fn recipient(&self) -> Recipient<'static> {
        match self.via {
            Path::Rest | Path::Web | Path::System => Recipient::Analyst,
            _ => Recipient::Client,
        }
    }

    /// Refused unless the caller is an operator or a coordinator.
    pub fn require_admin(&self, what: &str) -> Result<(), ServiceError> {
        match self.role {
            Role::Operator | Role::Coordinator => Ok(()),
            Role::Analyst | Role::Auditor => {
                Err(ServiceError::forbidden("forbidden", format!("{what} needs an operator or coordinator token")))
            }
        }
    }
}

/// Characters of a stated purpose kept (longer ones are cut).
pub const MAX_PURPOSE: usize = 300;

/// One piece of shared knowledge as it stands, as the service shows it: the
/// store's view, the author's display name, and the local cases linking it.
#[derive(Debug, Clone)]
pub struct Found {
    pub hit: Hit,
    /// The member's name in the trust list, this agency's own name, or the
    /// key in hex: the one place an author is named for people.
    pub author: String,
    /// Local cases that link it (shown to analysts only; never shared).
    pub cases: Vec<u64>,
    /// (Indicators) its decaying score now, and why.
    pub score: Option<Score>,
}

/// An indicator's score now: computed alike on every node from replicated
/// evidence under the network's decay policy, unless this agency pinned it.
#[derive(Debug, Clone)]
pub struct Score {
    /// 0–100: the pin's if pinned, else the decayed confidence.
    pub now: u8,
    /// Below the network's floor and not pinned.
    pub decayed: bool,
    /// When it falls below the floor (Unix ms; `None`: never).
    pub decays_at_ms: Option<u64>,
    pub evidence: kawan_protocol::Evidence,
    pub half_life_days: u64,
    pub pin: Option<crate::local::pins::Pin>,
}

/// A one-time web login link: its code, the token it logs in as, and when
/// it expires.
struct LoginLink {
    code: String,
    token: String,
    expires_ms: u64,
}

pub struct Service {
    data: DataDir,
    key: Keypair,
    config: Config,
    metrics: Arc<Metrics>,
    started: Instant,
    /// Set once the network task runs.
    net: OnceLock<NetHandle>,
    login_links: Mutex<Vec<LoginLink>>,
    /// New alerts, for the server-sent-events streams open now.
    alerts: tokio::sync::broadcast::Sender<crate::local::watch::Alert>,
    /// Deconfliction's in-memory state (filters, rate limits, nonces).
    deconflict: crate::local::deconflict::State,
    /// The node directory (config, genesis), once the daemon says.
    node_dir: OnceLock<std::path::PathBuf>,
    /// Per own log a peer says is ahead of ours: our head then, and since
    /// when (publish waits for the catch-up, not for ever).
    own_log_behind: Mutex<std::collections::HashMap<kawan_protocol::Channel, (u64, u64)>>,
}

impl Service {
    /// Now, by the node's clock (the system clock in production, a manual
    /// one in tests).
    pub fn now_ms(&self) -> u64 {
        self.data.clock().now_ms()
    }

    pub fn new(data: DataDir, key: Keypair, config: Config, metrics: Arc<Metrics>) -> Service {
        let clock_start = data.clock().now_ms();
        Service {
            data,
            key,
            config,
            metrics,
            started: Instant::now(),
            net: OnceLock::new(),
            login_links: Mutex::new(Vec::new()),
            alerts: tokio::sync::broadcast::channel(256).0,
            deconflict: crate::local::deconflict::State::new(clock_start),
            node_dir: OnceLock::new(),
            own_log_behind: Mutex::new(std::collections::HashMap::new()),
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn data(&self) -> &DataDir {
        &self.data
    }

    pub fn key(&self) -> &Keypair {
        &self.key
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    /// Where the node's directory is (for backups of its config).
    pub fn set_node_dir(&self, dir: std::path::PathBuf) {
        let _ = self.node_dir.set(dir);
    }

    /// Hands the service the running network, for announcing new records
    /// and trust lists and for showing peers.
    pub fn attach_net(&self, net: NetHandle) {
        let _ = self.net.set(net);
    }

    /// Runs store work on a blocking thread. The one place the service
    /// leaves the async workers.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&Service) -> Result<T, ServiceError> + Send + 'static,
    ) -> Result<T, ServiceError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || work(&me)).await?
    }

    pub fn normalize_context(&self) -> Context {
        Context { default_region: self.config.normalize.default_region }
    }

    /// Asks the policy, over the trust list in force.
    fn allows(&self, item: crate::policy::Item, to: Recipient, path: Path) -> bool {
        let membership = self.data.store.membership();
        Policy::new(membership.as_deref(), self.key.public(), self.now_ms()).allows(item, to, path)
    }

    /// Carries out a change under the audit rule: its intent is on disk
    /// before the change happens (a change whose entry cannot be written
    /// does not happen), and its outcome follows (buffered). Nothing is
    /// announced to peers before both are written.
    fn audited<T>(
        &self,
        caller: &Caller,
        action: &str,
        intent: &str,
        change: impl FnOnce() -> Result<T, ServiceError>,
        outcome: impl FnOnce(&T) -> String,
    ) -> Result<T, ServiceError> {
        self.audit(caller, action, &format!("pending: {intent}"))?;
        match change() {
            Ok(done) => {
                if let Err(e) = self.audit_read(caller, action, &format!("done: {}", outcome(&done))) {
                    // The change happened and its intent is on record.
                    tracing::error!(error = %e, action, "writing the outcome of an audited change failed");
                }
                Ok(done)
            }
            Err(e) => {
                if let Err(a) = self.audit_read(caller, action, &format!("failed: {intent}: {}", e.code)) {
                    tracing::error!(error = %a, action, "writing the failure of an audited change failed");
                }
                Err(e)
            }
        }
    }

    /// Appends an entry and waits for the disk.
    fn audit(&self, caller: &Caller, action: &str, detail: &str) -> Result<(), ServiceError> {
        let entry = self.data.audit.append(&caller.name, action, &with_path(caller, detail))?;
        self.checkpoint_now_and_then(entry.seq)
    }

    /// Appends a read (query, lookup, record, case or export) without
    /// waiting for the disk: the daemon persists buffered writes every 500 ms.
    fn audit_read(&self, caller: &Caller, action: &str, detail: &str) -> Result<(), ServiceError> {
        let entry = self.data.audit.append_buffered(&caller.name, action, &with_path(caller, detail))?;
        self.checkpoint_now_and_then(entry.seq)
    }

    /// Every [`crate::local::audit::CHECKPOINT_EVERY`] entries the head is signed.
    fn checkpoint_now_and_then(&self, seq: u64) -> Result<(), ServiceError> {
        if seq.is_multiple_of(crate::local::audit::CHECKPOINT_EVERY) {
            self.checkpoint_audit()?;
        }
        Ok(())
    }

    /// Why a stored record is withdrawn from views, if it is: its key
    /// signed it outside the key's window, it is a fork kept as proof, or
    /// it waits for a retired key's anchored chain.
    pub fn withdrawn_reason(&self, r: &StoredRecord) -> Result<Option<String>, ServiceError> {
        Ok(self.data.store.withdrawal(r)?.map(|w| w.to_string()))
    }

    /// This agency's keys: the one it signs with now and those it retired.
    pub fn own_keys(&self) -> Vec<AgencyKey> {
        let me = self.key.public();
        let trust = self.data.store.trust();
        let retired = trust.as_ref().and_then(|t| t.member_by_key(&me)).map(|m| m.retired_keys.clone());
        std::iter::once(me).chain(retired.unwrap_or_default().into_iter().map(|r| r.key)).collect()
    }

    /// How people see an agency: its name in the trust list (under any of
    /// its keys), our own name, or its key.
    pub fn author_name(&self, key: &AgencyKey, trust: Option<&TrustList>) -> String {
        trust.and_then(|t| t.member_by_any_key(key).map(|m| m.name.clone())).unwrap_or_else(|| {
            if *key == self.key.public() { self.config.agency.name.clone() } else { key.to_string() }
        })
    }

    /// A store view as shown, with the cases linking it if asked.
    fn found(&self, hit: Hit, trust: Option<&TrustList>, with_cases: bool) -> Found {
        let cases = if with_cases { self.data.cases.cases_for(&hit.id).unwrap_or_default() } else { vec![] };
        let score = hit.evidence.map(|evidence| {
            let policy = trust.map(|t| t.decay()).unwrap_or_default();
            let now = self.now_ms();
            // Pins are the agency's own: shown where its cases are.
            let pin = if with_cases { self.data.pins.get(&hit.id.0).ok().flatten() } else { None };
            Score {
                // A retraction ends it, pinned or not.
                now: pin
                    .as_ref()
                    .filter(|_| !evidence.retracted)
                    .map_or_else(|| policy.score(&evidence, now), |p| p.score),
                decayed: pin.is_none() && hit.is_decayed(now),
                decays_at_ms: hit.decays_at_ms,
                half_life_days: policy.half_life_ms(evidence.kind) / kawan_protocol::processing::DAY_MS,
                evidence,
                pin,
            }
        });
        Found { author: self.author_name(&hit.author, trust), hit, cases, score }
    }
}

/// Web and TAXII actions say so in the audit log; REST ones need no tag.
fn with_path(caller: &Caller, detail: &str) -> String {
    match caller.via {
        Path::Rest => detail.to_string(),
        via if detail.is_empty() => format!("via {}", via.as_str()),
        via => format!("{detail} (via {})", via.as_str()),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use kawan_protocol::{Body, Indicator, IndicatorRole, Kind, NetworkId, Tlp};

    use super::{publish::OWN_LOG_WAIT_MS, *};

    pub(crate) fn service() -> Arc<Service> {
        let config = Config::new("Example Agency", "GB".parse().unwrap(), NetworkId::new("kawan-test").unwrap());
        let key = Keypair::from_secret_bytes([5; 32]);
        Arc::new(Service::new(
            DataDir::in_memory(crate::clock::Clock::system()).unwrap(),
            key,
            config,
            Arc::new(Metrics::new()),
        ))
    }

    fn analyst() -> Caller {
        Caller { name: "analyst-1".into(), role: Role::Analyst, via: Path::Rest, purpose: None }
    }

    #[tokio::test]
    async fn a_change_is_audited_before_it_happens_and_its_outcome_after() {
        let svc = service();
        let good = Body::Indicator(Indicator::new(Kind::Domain, "jobs.example", IndicatorRole::JobAd, Tlp::Green));
        let published = svc.publish(analyst(), good, None).await.unwrap();
        let red = Body::Indicator(Indicator::new(Kind::Domain, "red.example", IndicatorRole::JobAd, Tlp::Red));
        assert_eq!(svc.publish(analyst(), red, None).await.unwrap_err().code, "tlp_red");
        let log: Vec<String> =
            svc.data.audit.tail(10).unwrap().into_iter().rev().map(|e| format!("{} {}", e.action, e.detail)).collect();
        assert_eq!(
            log,
            vec![
                "publish pending: indicator".to_string(),
                format!("publish done: indicator {}", published.id),
                "publish pending: indicator".to_string(),
                "publish failed: indicator: tlp_red".to_string(),
            ]
        );
        assert_eq!(svc.data.audit.verify(&[svc.key.public()]).unwrap(), 4);
        assert_eq!(svc.data.store.len(), 1, "the refused record was not stored");
    }

    #[tokio::test]
    async fn a_peer_claiming_our_log_is_further_holds_publishing_only_while_the_log_could_catch_up() {
        let clock = crate::clock::Clock::manual(1_800_000_000_000);
        let config = Config::new("Example Agency", "GB".parse().unwrap(), NetworkId::new("kawan-test").unwrap());
        let svc = Arc::new(Service::new(
            DataDir::in_memory(clock.clone()).unwrap(),
            Keypair::from_secret_bytes([5; 32]),
            config,
            Arc::new(Metrics::new()),
        ));
        svc.attach_net(crate::net::NetHandle::detached());
        let me = svc.key.public();
        let head = kawan_protocol::Head { channel: kawan_protocol::Channel::Network, author: me, seq: 1_000_000_000 };
        svc.net
            .get()
            .unwrap()
            .peers
            .write()
            .unwrap()
            .peers
            .insert("liar".into(), crate::net::PeerInfo { heads: vec![head], ..Default::default() });
        let body = || Body::Indicator(Indicator::new(Kind::Domain, "jobs.example", IndicatorRole::JobAd, Tlp::Green));
        assert_eq!(svc.publish(analyst(), body(), None).await.unwrap_err().code, "own_log_behind");
        clock.advance(std::time::Duration::from_millis(OWN_LOG_WAIT_MS - 1000));
        assert_eq!(svc.publish(analyst(), body(), None).await.unwrap_err().code, "own_log_behind");
        // No record came while the peer kept saying so: its word is not enough.
        clock.advance(std::time::Duration::from_millis(2000));
        svc.publish(analyst(), body(), None).await.expect("published after the wait");
    }

    #[tokio::test]
    async fn a_trust_list_installed_from_a_peer_is_audited() {
        let svc = service();
        let from = Keypair::from_secret_bytes([6; 32]).public();
        svc.audit_net_event(crate::net::NetEvent::TrustInstalled { from, version: 3 }).await.unwrap();
        let last = svc.data.audit.tail(1).unwrap().remove(0);
        assert_eq!((last.action.as_str(), last.actor.as_str()), ("trust.install", "system: trust install"));
        assert!(last.detail.contains(&format!("v3 from peer {from} (via system)")), "{}", last.detail);
    }

    #[test]
    fn operators_are_warned_before_the_coordinators_run_out() {
        use kawan_protocol::{Member, MemberId, MemberRole, SignedTrustList, TrustList};
        let now = crate::clock::Clock::system().now_ms();
        let day = 24 * 60 * 60 * 1000;
        let coordinator = |expires_ms| Member {
            id: MemberId::new("agency-5").unwrap(),
            name: "Agency 5".into(),
            country: "GB".parse().unwrap(),
            key: Keypair::from_secret_bytes([5; 32]).public(),
            roles: vec![MemberRole::Coordinator],
            addrs: vec![],
            expires_ms,
            key_from_ms: None,
            retired_keys: vec![],
        };
        let warnings = |expires_ms| {
            let svc = service();
            let list = TrustList {
                attachment_max_bytes: None,
                retention: None,
                decay: None,
                network: NetworkId::new("kawan-test").unwrap(),
                version: 1,
                issued_ms: now - 20 * day,
                threshold: 1,
                members: vec![coordinator(expires_ms)],
                groups: vec![],
            };
            let mut signed = SignedTrustList::new(&list).unwrap();
            signed.sign(&Keypair::from_secret_bytes([5; 32]));
            svc.data.store.install_genesis(&signed).unwrap();
            svc.trust_warnings()
        };
        assert!(warnings(None).is_empty());
        assert!(warnings(Some(now + 90 * day)).is_empty());
        let soon = warnings(Some(now + 10 * day));
        assert!(soon.len() == 1 && soon[0].to_string().contains("expire"), "{soon:?}");
        let gone = warnings(Some(now - day));
        assert!(gone.len() == 1 && gone[0].to_string().contains("no trust-list update can be accepted"), "{gone:?}");
    }
}
