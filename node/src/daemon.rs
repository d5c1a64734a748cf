//! `kawan init` and `kawan run`: creating a node directory and running the
//! node from it until SIGINT or SIGTERM.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use kawan_protocol::{Country, NetworkId, SignedTrustList};

use crate::{
    clock::Clock,
    config::{Config, ConfigError},
    data_dir::{DataDir, OpenError},
    identity::{self, IdentityError},
    local::tokens::{Role, TokenError},
    metrics::Metrics,
    node_dir,
    service::Service,
    store::TrustStoreError,
};

#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Identity(#[from] IdentityError),
    #[error("{0} already holds a Kawan node (kawan.toml exists); use another directory")]
    AlreadyInitialised(PathBuf),
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("cannot open the store: {0} (is another `kawan run` using this directory?)")]
    Store(#[from] OpenError),
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("key rotation: {0}")]
    Rotation(String),
    #[error("genesis trust list {path}: {message}")]
    Genesis { path: PathBuf, message: String },
    #[error("cannot listen on {addr}: {source} (is another process using the port? change [api] listen)")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("server error: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    #[error(
        "node directory {path} is open to other users (mode {mode:o}): it holds cases and the agency key; run: chmod 700 {path}"
    )]
    Permissions { path: PathBuf, mode: u32 },
}

/// A node directory holds cases, tokens and the agency key: only its owner
/// may enter it.
fn private_dir(dir: &Path) -> Result<(), DaemonError> {
    use std::os::unix::fs::PermissionsExt as _;
    let create = |source| DaemonError::Create { path: dir.to_owned(), source };
    let mode = std::fs::metadata(dir).map_err(create)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(DaemonError::Permissions { path: dir.to_owned(), mode });
    }
    Ok(())
}

/// What `kawan init` made.
pub struct Initialised {
    pub config: Config,
    pub operator_token: String,
    pub agency_key: String,
    pub peer_id: String,
}

/// Creates a node directory: config, agency key (0600), database and an
/// operator token (printed once by the CLI, and kept in a 0600 file so that
/// client commands on this machine can use it).
pub fn init(dir: &Path, name: &str, country: Country, network: NetworkId) -> Result<Initialised, DaemonError> {
    std::fs::create_dir_all(dir).map_err(|source| DaemonError::Create { path: dir.to_owned(), source })?;
    if crate::config::path(dir).exists() {
        return Err(DaemonError::AlreadyInitialised(dir.to_owned()));
    }
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|source| DaemonError::Create { path: dir.to_owned(), source })?;
    }
    let config = Config::new(name, country, network);
    let key = identity::create(&dir.join(&config.paths.key))?;
    let storage = DataDir::open(&dir.join(&config.paths.data), Clock::system())?;
    let (token, _) = storage.tokens.create("operator", Role::Operator)?;
    write_private(&dir.join(node_dir::OPERATOR_TOKEN), &format!("{token}\n"))?;
    config.write(dir)?;
    Ok(Initialised {
        operator_token: token,
        agency_key: key.public().to_string(),
        peer_id: identity::peer_id(&key.public()).map(|p| p.to_string()).unwrap_or_default(),
        config,
    })
}

fn write_private(path: &Path, text: &str) -> Result<(), DaemonError> {
    crate::files::create_atomic(path, text.as_bytes(), 0o600)
        .map_err(|source| DaemonError::Create { path: path.to_owned(), source })
}

/// Everything `kawan run` needs, loaded and checked before anything starts.
pub struct Node {
    pub dir: PathBuf,
    pub svc: Arc<Service>,
}

impl Node {
    /// Loads config, key, store and genesis; each failure says what to fix.
    pub fn open(dir: &Path) -> Result<Node, DaemonError> {
        private_dir(dir)?;
        let config = Config::load(dir)?;
        let key_path = dir.join(&config.paths.key);
        identity::load(&key_path)?;
        let storage = DataDir::open(&dir.join(&config.paths.data), Clock::system())?;
        let genesis = dir.join(&config.paths.genesis);
        if genesis.exists() {
            let bytes = std::fs::read(&genesis)
                .map_err(|e| DaemonError::Genesis { path: genesis.clone(), message: e.to_string() })?;
            let signed = SignedTrustList::from_bytes(&bytes)
                .map_err(|e| DaemonError::Genesis { path: genesis.clone(), message: e.to_string() })?;
            storage
                .store
                .install_genesis(&signed)
                .map_err(|e: TrustStoreError| DaemonError::Genesis { path: genesis.clone(), message: e.to_string() })?;
        }
        // A rotation the trust list has approved takes effect at start:
        // the node signs (and connects) with its new key from now on.
        let trust = storage.store.trust();
        if let Some(retired) = crate::coordinator::take_rotated_key(dir, &key_path, trust.as_deref())
            .map_err(|e| DaemonError::Rotation(e.to_string()))?
        {
            tracing::warn!(old_key = %retired.display(), "the trust list approved this agency's new key: signing with it from now on");
        }
        let key = identity::load(&key_path)?;
        let svc = Arc::new(Service::new(storage, key, config, Arc::new(Metrics::new())));
        svc.set_node_dir(dir.to_owned());
        Ok(Node { dir: dir.to_owned(), svc })
    }

    /// Serves the API until SIGINT or SIGTERM, then flushes and returns.
    pub async fn run(self) -> Result<(), DaemonError> {
        // The network first: if it cannot start, no API address is announced.
        let p2p_file = self.dir.join(node_dir::P2P_ADDR);
        let _ = std::fs::remove_file(&p2p_file);
        let net_config = crate::net::NetConfig {
            key: kawan_protocol::Keypair::from_secret_bytes(self.svc.key().secret_bytes()),
            network: self.svc.config().agency.network.clone(),
            listen: self.svc.config().p2p.listen.clone(),
            bootstrap: self.svc.config().p2p.bootstrap.clone(),
            addr_file: Some(p2p_file),
            replica: crate::replica::Config::default(),
        };
        let (net, inbox) =
            crate::net::start(net_config, self.svc.data().store.clone(), self.svc.metrics().clone()).await?;
        let crate::net::Inbox { mut events, mut questions, mut files, mut proposals } = inbox;
        self.svc.attach_net(net);
        // Partners' deconfliction questions, each answered on its own.
        let answering = {
            let svc = self.svc.clone();
            tokio::spawn(async move {
                while let Some(q) = questions.recv().await {
                    let svc = svc.clone();
                    tokio::spawn(async move {
                        let crate::net::Question { from, request, reply } = q;
                        let answer = tokio::task::spawn_blocking(move || svc.answer_question(from, request)).await;
                        let answer = answer.unwrap_or_else(|e| {
                            tracing::error!(error = %e, "answering a deconfliction question failed");
                            kawan_protocol::deconflict::Response::Refused(
                                kawan_protocol::deconflict::Refusal::BadRequest("the node could not answer".into()),
                            )
                        });
                        let _ = reply.send(answer);
                    });
                }
            })
        };
        // Members' fetches of files records carry, each served on its own,
        // at most SERVING at once: beyond that the queue fills and members
        // are told the node is busy.
        let serving = {
            const SERVING: usize = 16;
            let svc = self.svc.clone();
            let slots = Arc::new(tokio::sync::Semaphore::new(SERVING));
            tokio::spawn(async move {
                while let Some(q) = files.recv().await {
                    let svc = svc.clone();
                    let Ok(slot) = slots.clone().acquire_owned().await else { break };
                    tokio::spawn(async move {
                        let _slot = slot;
                        let crate::net::FileQuestion { from, request, reply } = q;
                        let served = tokio::task::spawn_blocking(move || svc.serve_file(from, request)).await;
                        let _ = reply.send(served.unwrap_or(kawan_protocol::attachment::Served::Busy));
                    });
                }
            })
        };
        // Coordinators' nodes' proposals, each taken in on its own.
        let proposing = {
            let svc = self.svc.clone();
            tokio::spawn(async move {
                while let Some(q) = proposals.recv().await {
                    let svc = svc.clone();
                    tokio::spawn(async move {
                        let crate::net::ProposalQuestion { from, request, reply } = q;
                        let _ = reply.send(svc.receive_proposal(from, request).await);
                    });
                }
            })
        };
        // What the network did that the audit log must show.
        let audit_events = {
            let svc = self.svc.clone();
            tokio::spawn(async move {
                while let Some(event) = events.recv().await {
                    if let Err(e) = svc.audit_net_event(event).await {
                        tracing::error!(error = %e, "auditing a network event failed");
                    }
                }
            })
        };
        // Background work: persisting buffered writes, sweeping sessions,
        // the deconfliction filter, webhook delivery (`jobs::node_jobs`).
        let jobs = crate::jobs::start(self.svc.clone(), crate::jobs::node_jobs(&self.svc));
        let addr = self.svc.config().api.listen;
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|source| DaemonError::Bind { addr, source })?;
        let bound = listener.local_addr().map_err(DaemonError::Serve)?;
        let addr_file = self.dir.join(node_dir::API_ADDR);
        crate::files::write_atomic(&addr_file, format!("{bound}\n").as_bytes(), 0o644)
            .map_err(|source| DaemonError::Create { path: addr_file.clone(), source })?;
        tracing::info!(
            api = %bound,
            agency = %self.svc.config().agency.name,
            peer_id = %identity::peer_id(&self.svc.key().public()).map(|p| p.to_string()).unwrap_or_default(),
            "kawan node running"
        );
        for warning in self.svc.trust_warnings() {
            tracing::warn!(%warning, "trust list");
        }
        let app = crate::http::app(self.svc.clone());
        axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.map_err(DaemonError::Serve)?;
        drop(jobs);
        audit_events.abort();
        answering.abort();
        serving.abort();
        proposing.abort();
        tracing::info!("shutting down: flushing the store");
        let _ = std::fs::remove_file(&addr_file);
        if let Err(e) = self.svc.checkpoint_audit_at_shutdown() {
            tracing::error!(error = %e, "signing the audit log's head failed");
        }
        if let Err(e) = self.svc.data().close() {
            tracing::error!(error = %e, "final flush failed");
        }
        Ok(())
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => return ctrl_c.await.unwrap_or(()),
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
}
