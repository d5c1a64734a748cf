//! `kawan.toml`: the node's configuration, written by `kawan init` with a
//! comment on every setting and read (strictly) by `kawan run`.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use kawan_protocol::{Country, NetworkId};

use crate::node_dir;
use serde::{Deserialize, Serialize};

pub use crate::node_dir::CONFIG as FILE;

/// Where a node directory's configuration is: `$KAWAN_CONFIG` if set (the
/// Debian package keeps it in /etc/kawan/kawan.toml), else `dir/kawan.toml`.
/// Relative paths inside it are relative to the node directory either way.
pub fn path(dir: &Path) -> PathBuf {
    match std::env::var_os("KAWAN_CONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => dir.join(FILE),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub agency: Agency,
    pub api: Api,
    pub p2p: P2p,
    pub normalize: Normalize,
    pub paths: Paths,
    #[serde(default)]
    pub alerts: Alerts,
    #[serde(default)]
    pub deconfliction: Deconfliction,
    #[serde(default)]
    pub consultations: Consultations,
    #[serde(default)]
    pub publishing: Publishing,
}

/// What this agency's indicators carry unless the analyst says otherwise,
/// and its own review periods, which may be shorter than the network's
/// (never longer: the network's retention policy caps them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Publishing {
    /// Handling codes by default, comma-separated ("H2", "H1,H2"); none: H0.
    pub handling: Option<String>,
    /// The words of a default H3.
    pub handling_other: Option<String>,
    /// Evaluation by default ("B2").
    pub evaluation: Option<String>,
    /// Review periods in days, shorter than the network's: per family
    /// (`indicator`, `referral`, …) and `victim` for victim-related
    /// indicators.
    pub review_days: std::collections::BTreeMap<String, u64>,
}

impl Publishing {
    /// This agency's own review period for a family and subject, if it set one.
    pub fn review_period_ms(
        &self,
        family: kawan_protocol::Family,
        subject: Option<kawan_protocol::Subject>,
    ) -> Option<u64> {
        let days = match subject {
            Some(kawan_protocol::Subject::Victim) => {
                self.review_days.get("victim").or_else(|| self.review_days.get(family.as_str()))
            }
            _ => self.review_days.get(family.as_str()),
        };
        days.map(|d| d.saturating_mul(kawan_protocol::processing::DAY_MS))
    }

    fn check(&self) -> Result<(), String> {
        if let Some(codes) = &self.handling {
            kawan_protocol::Handling::parse(codes, self.handling_other.clone())
                .map_err(|e| format!("publishing.handling: {e}"))?;
        }
        if let Some(e) = &self.evaluation {
            e.trim()
                .to_uppercase()
                .parse::<kawan_protocol::Evaluation>()
                .map_err(|e| format!("publishing.evaluation: {e}"))?;
        }
        for (key, days) in &self.review_days {
            let known = key == "victim" || kawan_protocol::Family::knowledge().any(|f| f.as_str() == key);
            if !known {
                return Err(format!(
                    "publishing.review_days: {key:?} is not a family (indicator, typology, technique, referral) or victim"
                ));
            }
            if *days == 0 {
                return Err(format!("publishing.review_days.{key} must be at least 1"));
            }
        }
        Ok(())
    }
}

/// Consultations of shared data (Law Enforcement Directive Art. 25):
/// whether a justification is required, and how long the log is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Consultations {
    /// Refuse searches, lookups, record pages, exports and referral
    /// packages that state no purpose (`Kawan-Purpose`, `kawan --purpose`,
    /// the purpose box on the web page).
    pub require_purpose: bool,
    /// Days a consultation stays in the log before it is expired.
    pub keep_days: u64,
}

impl Default for Consultations {
    fn default() -> Consultations {
        Consultations { require_purpose: false, keep_days: 730 }
    }
}

/// What this node lets other agencies test privately (hit/no-hit), and how
/// often (docs/protocol.md §7).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Deconfliction {
    /// Answer other agencies' deconfliction requests at all.
    pub enabled: bool,
    /// This agency's own records, of every TLP (RED and withheld included).
    pub own_records: bool,
    /// Values of records linked to local cases (a case can opt out).
    pub case_values: bool,
    /// Values on analysts' watchlists.
    pub watchlist: bool,
    /// Where a partner with a hit should turn (shown to it on a hit).
    pub contact: Option<String>,
    /// Values one agency may have tested here per hour.
    pub rate_per_hour: u64,
    /// Values all agencies together may have tested here per hour (so
    /// members cannot pool their allowances).
    pub global_per_hour: u64,
    /// Filter fetches one agency may make here per hour.
    pub filters_per_hour: u64,
    /// Contact requests one agency may send here per hour.
    pub contacts_per_hour: u64,
    /// How long one OPRF key lives (filters are rebuilt per epoch).
    pub epoch_secs: u64,
}

impl Default for Deconfliction {
    fn default() -> Deconfliction {
        Deconfliction {
            enabled: true,
            own_records: true,
            case_values: true,
            watchlist: false,
            contact: None,
            rate_per_hour: 10_000,
            global_per_hour: 40_000,
            filters_per_hour: 30,
            contacts_per_hour: 20,
            epoch_secs: 86_400,
        }
    }
}

/// Where alerts go besides the API and the web page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alerts {
    /// The agency's own case system: every alert is POSTed here as JSON.
    pub webhook: Option<String>,
    /// Key of the HMAC-SHA256 signature each webhook carries.
    pub webhook_secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Agency {
    pub name: String,
    pub country: Country,
    /// The network this node belongs to (the trust list names it).
    pub network: NetworkId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Api {
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct P2p {
    /// libp2p multiaddrs to listen on.
    pub listen: Vec<String>,
    /// Multiaddrs (with /p2p/<peer id>) of peers to dial at start.
    #[serde(default)]
    pub bootstrap: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Normalize {
    /// Region for phone numbers written in national format.
    pub default_region: Option<Country>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Paths {
    /// The agency key (mode 0600), relative to the node directory.
    pub key: PathBuf,
    /// The database directory, relative to the node directory.
    pub data: PathBuf,
    /// The pinned genesis trust list, relative to the node directory.
    pub genesis: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid configuration in {path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

impl Config {
    pub fn new(name: &str, country: Country, network: NetworkId) -> Config {
        Config {
            agency: Agency { name: name.to_string(), country, network },
            api: Api { listen: SocketAddr::from(([127, 0, 0, 1], 7700)), max_body_bytes: 32 * 1024 * 1024 },
            p2p: P2p { listen: vec!["/ip4/0.0.0.0/tcp/7701".into()], bootstrap: vec![] },
            normalize: Normalize { default_region: Some(country) },
            paths: Paths {
                key: node_dir::DEFAULT_KEY.into(),
                data: node_dir::DEFAULT_DATA.into(),
                genesis: node_dir::DEFAULT_GENESIS.into(),
            },
            alerts: Alerts::default(),
            deconfliction: Deconfliction::default(),
            consultations: Consultations::default(),
            publishing: Publishing::default(),
        }
    }

    /// Reads the node directory's configuration ([`path`]); every error
    /// names the file and what is wrong.
    pub fn load(dir: &Path) -> Result<Config, ConfigError> {
        Config::load_file(&path(dir))
    }

    /// Reads one configuration file.
    pub fn load_file(path: &Path) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_owned(), source })?;
        Config::parse(&text, path)
    }

    /// Reads a configuration's text (`path` names it in errors).
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let path = path.to_owned();
        let config: Config =
            toml::from_str(text).map_err(|e| ConfigError::Invalid { path: path.clone(), message: e.to_string() })?;
        if config.api.max_body_bytes < 1024 {
            return Err(ConfigError::Invalid { path, message: "api.max_body_bytes must be at least 1024".into() });
        }
        if let Some(url) = &config.alerts.webhook {
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err(ConfigError::Invalid {
                    path,
                    message: format!("alerts.webhook {url:?} must be an http(s) URL"),
                });
            }
            if config.alerts.webhook_secret.as_deref().is_none_or(|s| s.len() < 16) {
                return Err(ConfigError::Invalid {
                    path,
                    message: "alerts.webhook needs alerts.webhook_secret, at least 16 characters".into(),
                });
            }
        }
        config.publishing.check().map_err(|message| ConfigError::Invalid { path: path.clone(), message })?;
        if config.consultations.keep_days == 0 {
            return Err(ConfigError::Invalid { path, message: "consultations.keep_days must be at least 1".into() });
        }
        let d = &config.deconfliction;
        if [d.epoch_secs, d.rate_per_hour, d.global_per_hour, d.filters_per_hour, d.contacts_per_hour].contains(&0) {
            return Err(ConfigError::Invalid {
                path,
                message: "deconfliction.epoch_secs, rate_per_hour, global_per_hour, filters_per_hour and contacts_per_hour must be at least 1".into(),
            });
        }
        Ok(config)
    }

    /// Writes the node directory's configuration ([`path`]) with a comment
    /// on each setting.
    pub fn write(&self, dir: &Path) -> Result<(), ConfigError> {
        let path = path(dir);
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let list = |v: &[String]| format!("[{}]", v.iter().map(|s| q(s)).collect::<Vec<_>>().join(", "));
        let text = format!(
            r#"# Kawan node configuration. Paths are relative to this directory.

[agency]
# The agency's name and ISO 3166-1 country, as the trust list should show them.
name = {name}
country = {country}
# The network this node belongs to; must match the trust list's network id.
network = {network}

[api]
# The HTTP API and web page. Keep it on loopback unless a reverse proxy with
# TLS sits in front of it: bearer tokens travel in clear over plain HTTP.
listen = {api}
# Largest request body accepted (bulk lookups of 100k values fit in 32 MiB).
max_body_bytes = {max_body}

[p2p]
# libp2p listen addresses: TCP only (noise + yamux); a /quic-v1 address is
# skipped with a warning.
listen = {p2p}
# Peers to dial at start: multiaddrs ending in /p2p/<peer id>.
bootstrap = {bootstrap}

[normalize]
# Region for phone numbers written in national format ("081 234 5678").
{region}

[paths]
# The agency key: the node refuses to start if others can read it.
key = {key}
# The database (records, cases, audit log, tokens).
data = {data}
# The genesis trust list pinned by this node (from the network coordinators).
genesis = {genesis}

[alerts]
# Also POST every alert as JSON to the agency's own case system, signed with
# X-Kawan-Signature: sha256=<hex HMAC-SHA256 of the body under webhook_secret>.
# Failed deliveries are retried with growing waits, then listed for operators
# (GET /api/v1/alerts/dead-letters).
{webhook}
{secret}

[deconfliction]
# Other agencies may ask, privately, whether this node holds anything on a
# value (they learn hit or no-hit, never what; no one learns the value).
enabled = {dc_enabled}
# What is deconflictable: own records of every TLP (RED included), values
# linked to local cases (a case can opt out), analysts' watchlists.
own_records = {dc_own}
case_values = {dc_cases}
watchlist = {dc_watch}
# Shown to an agency with a hit, for its follow-up.
{dc_contact}
# Values one agency may test here per hour; each request is signed, logged
# in the audit log with its purpose, and refused beyond this. The allowances
# are kept across restarts and key rotations (per member).
rate_per_hour = {dc_rate}
# Values all agencies together may test here per hour.
global_per_hour = {dc_global}
# Filter fetches and contact requests one agency may send here per hour.
filters_per_hour = {dc_filters}
contacts_per_hour = {dc_contacts}
# Lifetime of one OPRF key and filter.
epoch_secs = {dc_epoch}

[consultations]
# Every search, lookup, record page, export and referral package is logged
# with who, when, which records and the purpose the caller stated. Require a
# purpose (refuse without one) where the agency's policy says so.
require_purpose = {cs_require}
# Days a consultation stays in the log; older entries are expired daily.
keep_days = {cs_keep}

[publishing]
# What this agency's indicators carry unless the analyst gives otherwise:
# handling codes (H1 not as evidence, H2 not outside the network, without
# this agency's permission; H3 other, in handling_other) and an evaluation
# (source A/B/C/X, information 1-4).
{pb_handling}
{pb_evaluation}
# Review periods shorter than the network's, in days (never longer):
# [publishing.review_days] indicator = 180, victim = 90
{pb_review}
"#,
            name = q(&self.agency.name),
            country = q(self.agency.country.as_str()),
            network = q(self.agency.network.as_str()),
            api = q(&self.api.listen.to_string()),
            max_body = self.api.max_body_bytes,
            p2p = list(&self.p2p.listen),
            bootstrap = list(&self.p2p.bootstrap),
            region = match self.normalize.default_region {
                Some(c) => format!("default_region = {}", q(c.as_str())),
                None => "# default_region = \"TH\"".to_string(),
            },
            key = q(&self.paths.key.display().to_string()),
            data = q(&self.paths.data.display().to_string()),
            genesis = q(&self.paths.genesis.display().to_string()),
            webhook = match &self.alerts.webhook {
                Some(w) => format!("webhook = {}", q(w)),
                None => "# webhook = \"https://cases.agency.example/kawan-alerts\"".to_string(),
            },
            secret = match &self.alerts.webhook_secret {
                Some(w) => format!("webhook_secret = {}", q(w)),
                None => "# webhook_secret = \"a long random string shared with the case system\"".to_string(),
            },
            dc_enabled = self.deconfliction.enabled,
            dc_own = self.deconfliction.own_records,
            dc_cases = self.deconfliction.case_values,
            dc_watch = self.deconfliction.watchlist,
            dc_contact = match &self.deconfliction.contact {
                Some(c) => format!("contact = {}", q(c)),
                None => "# contact = \"Duty desk, +44 7700 900123, osint-desk@agency.example\"".to_string(),
            },
            dc_rate = self.deconfliction.rate_per_hour,
            dc_global = self.deconfliction.global_per_hour,
            dc_filters = self.deconfliction.filters_per_hour,
            dc_contacts = self.deconfliction.contacts_per_hour,
            dc_epoch = self.deconfliction.epoch_secs,
            cs_require = self.consultations.require_purpose,
            cs_keep = self.consultations.keep_days,
            pb_handling = match &self.publishing.handling {
                Some(h) => format!("handling = {}", q(h)),
                None => "# handling = \"H2\"".to_string(),
            } + &match &self.publishing.handling_other {
                Some(h) => format!("\nhandling_other = {}", q(h)),
                None => String::new(),
            },
            pb_evaluation = match &self.publishing.evaluation {
                Some(e) => format!("evaluation = {}", q(e)),
                None => "# evaluation = \"B2\"".to_string(),
            },
            pb_review = if self.publishing.review_days.is_empty() {
                "# review_days = { indicator = 180, victim = 90 }".to_string()
            } else {
                format!(
                    "review_days = {{ {} }}",
                    self.publishing
                        .review_days
                        .iter()
                        .map(|(k, v)| format!("{k} = {v}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        );
        crate::files::write_atomic(&path, text.as_bytes(), 0o600).map_err(|source| ConfigError::Write { path, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_config_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::new("Example Agency \"TCSD\"", "TH".parse().unwrap(), NetworkId::new("kawan-demo").unwrap());
        c.write(dir.path()).unwrap();
        assert_eq!(Config::load(dir.path()).unwrap(), c);
    }

    #[test]
    fn bad_configs_name_the_file_and_the_problem() {
        let dir = tempfile::tempdir().unwrap();
        let c = Config::new("A", "TH".parse().unwrap(), NetworkId::new("n").unwrap());
        c.write(dir.path()).unwrap();
        let path = dir.path().join(FILE);
        let text = std::fs::read_to_string(&path).unwrap().replace("127.0.0.1:7700", "not-an-address");
        std::fs::write(&path, text).unwrap();
        let err = Config::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("kawan.toml") && err.contains("listen"), "{err}");
        std::fs::write(&path, "[agency]\nname = 1\n").unwrap();
        assert!(Config::load(dir.path()).is_err());
        assert!(Config::load(&dir.path().join("missing")).unwrap_err().to_string().contains("cannot read"));
    }
}
