//! The oversight report: what this agency shared and received, who
//! consulted what and why, what left the network, what was erased or
//! expired, whether anything is held past its review date, and whether the
//! audit log verifies — over a period, for its data-protection officer and
//! supervisory authority (`kawan oversight report`). Signed by the node's
//! key over its canonical JSON, so `kawan oversight verify F` shows that
//! nobody changed a figure; the HTML form embeds that JSON and is itself
//! rendered from it, so an edited page no longer matches.

use std::{collections::BTreeMap, sync::Arc};

use kawan_protocol::{AgencyKey, Body, Keypair, Sig, Subject};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Caller, Service, ServiceError};
use crate::i18n::Lang;

/// Victim-related consultations listed one by one, at most.
const MAX_VICTIM_LISTED: usize = 1000;

/// Counts of records by family, kind, TLP, subject and handling code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    pub total: u64,
    pub by_family: BTreeMap<String, u64>,
    pub by_kind: BTreeMap<String, u64>,
    pub by_tlp: BTreeMap<String, u64>,
    pub by_subject: BTreeMap<String, u64>,
    pub by_handling: BTreeMap<String, u64>,
    /// By channel: the network, or a sharing group (who could receive it).
    pub by_channel: BTreeMap<String, u64>,
    /// By the agency that wrote it (received records only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_agency: BTreeMap<String, u64>,
}

/// Counts one more of `key` (allocating the key only the first time).
fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    match map.get_mut(key) {
        Some(n) => *n += 1,
        None => {
            map.insert(key.to_string(), 1);
        }
    }
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.total += other.total;
        for (mine, theirs) in [
            (&mut self.by_family, other.by_family),
            (&mut self.by_kind, other.by_kind),
            (&mut self.by_tlp, other.by_tlp),
            (&mut self.by_subject, other.by_subject),
            (&mut self.by_handling, other.by_handling),
            (&mut self.by_channel, other.by_channel),
            (&mut self.by_agency, other.by_agency),
        ] {
            for (k, n) in theirs {
                *mine.entry(k).or_default() += n;
            }
        }
    }

    fn add(&mut self, r: &kawan_protocol::Record, agency: Option<&str>) {
        self.total += 1;
        let Some(content) = r.body.content() else {
            bump(&mut self.by_family, r.body.type_name());
            return;
        };
        bump(&mut self.by_family, content.family().as_str());
        if let Body::Indicator(i) = &r.body {
            bump(&mut self.by_kind, i.kind.as_str());
        }
        bump(&mut self.by_tlp, content.tlp().as_str());
        if let Some(subject) = content.subject() {
            let name = match subject {
                Subject::Suspect => "suspect",
                Subject::Victim => "victim",
                Subject::Unknown => "unknown",
            };
            bump(&mut self.by_subject, name);
        }
        match content.handling() {
            Some(h) => h.codes().into_iter().for_each(|code| bump(&mut self.by_handling, code)),
            None => bump(&mut self.by_handling, "H0"),
        }
        match &r.header.channel {
            kawan_protocol::Channel::Network => bump(&mut self.by_channel, "network"),
            other => bump(&mut self.by_channel, &other.to_string()),
        }
        if let Some(agency) = agency {
            bump(&mut self.by_agency, agency);
        }
    }
}

/// Who consulted shared data, and why.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsultationFigures {
    pub total: u64,
    /// Records disclosed in all.
    pub records: u64,
    pub by_user: BTreeMap<String, u64>,
    pub by_purpose: BTreeMap<String, u64>,
    pub by_action: BTreeMap<String, u64>,
    /// Consultations that stated no purpose.
    pub without_purpose: u64,
    /// Consultations that disclosed victim-related records, one by one.
    pub victim: Vec<crate::local::consultations::Consultation>,
}

/// What the audit log says about the period, and whether it verifies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditFigures {
    /// Entries in the period, by action.
    pub by_action: BTreeMap<String, u64>,
    /// Entries in the whole log, if it verifies.
    pub entries: u64,
    pub verifies: bool,
    pub error: Option<String>,
    /// The newest checkpoint published to the network (partners keep it).
    pub last_witnessed_seq: Option<u64>,
    pub last_witnessed_ms: Option<u64>,
}

/// The report's figures, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OversightReport {
    pub agency: String,
    pub agency_key: String,
    pub network: String,
    pub from_ms: u64,
    pub until_ms: u64,
    pub generated_ms: u64,
    /// The language of the HTML form ("en", "id", "th").
    pub lang: String,
    /// Records this agency published in the period.
    pub shared: Tally,
    /// Records this node received from other agencies in the period.
    pub received: Tally,
    /// Who may receive what this agency shares: each channel's members.
    pub recipients: BTreeMap<String, Vec<String>>,
    pub consultations: ConsultationFigures,
    /// Deconfliction questions this agency asked, and partners' questions
    /// it answered (from the audit log).
    pub deconfliction_asked: u64,
    pub deconfliction_answered: u64,
    /// Referrals this agency filed with platforms in the period.
    pub referrals_filed: u64,
    /// Exports into other tools (TAXII, MISP, CSV, STIX) in the period.
    pub exports: u64,
    /// Referral packages taken for platforms in the period.
    pub referral_packages: u64,
    /// Dissemination permissions recorded and revoked.
    pub permissions_granted: u64,
    pub permissions_revoked: u64,
    /// Records this node erased on request, and expired, in the period
    /// (its tombstones: what went with them counts, and so does a record
    /// that arrived already gone).
    pub erased: u64,
    pub expired: u64,
    /// Knowledge held past its review date and the grace now, still in no
    /// view but not yet swept (the sweep runs every minute): must be 0.
    pub past_review: u64,
    pub audit: AuditFigures,
}

/// The report with its signature: what `kawan oversight verify` checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedReport {
    pub report: OversightReport,
    /// The node's agency key (hex) and its Ed25519 signature (hex) over the
    /// report's canonical JSON.
    pub signer: String,
    pub signature: String,
}

/// Why a report does not verify.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("not an oversight report: {0}")]
    Malformed(String),
    #[error("the signature does not match the report: it was changed after it was signed")]
    BadSignature,
    #[error("the file differs from the report it carries as signed: it was edited")]
    EditedPage,
}

/// The report's words, in each language (`*.ftl` beside this file).
static WORDS: std::sync::LazyLock<crate::i18n::Catalog> = std::sync::LazyLock::new(|| {
    crate::i18n::Catalog::new(&[
        (Lang::En, include_str!("en.ftl")),
        (Lang::Id, include_str!("id.ftl")),
        (Lang::Th, include_str!("th.ftl")),
    ])
});

/// The signature domain of oversight reports.
pub const REPORT_DOMAIN: &[u8] = b"kawan/oversight-report/v1";

/// Where the signed JSON sits in the HTML form.
const EMBED_OPEN: &str = "<script type=\"application/json\" id=\"kawan-oversight\">";
const EMBED_CLOSE: &str = "</script>";

impl SignedReport {
    fn sign(report: OversightReport, key: &Keypair) -> Result<SignedReport, ServiceError> {
        let bytes = serde_json::to_vec(&report).map_err(ServiceError::internal)?;
        Ok(SignedReport {
            signer: key.public().to_string(),
            signature: hex::encode(key.sign(REPORT_DOMAIN, &bytes).0),
            report,
        })
    }

    /// Checks the signature against the key the report names. (Whether
    /// that key is the agency's is for the reader to compare with the
    /// trust list: `kawan oversight verify` prints it.)
    pub fn verify(&self) -> Result<(), VerifyError> {
        let key: AgencyKey = self.signer.parse().map_err(|_| VerifyError::Malformed("signer".into()))?;
        if self.report.agency_key != self.signer {
            return Err(VerifyError::BadSignature);
        }
        let sig = hex::decode(&self.signature)
            .ok()
            .and_then(|b| <[u8; 64]>::try_from(b).ok())
            .map(Sig)
            .ok_or_else(|| VerifyError::Malformed("signature".into()))?;
        let bytes = serde_json::to_vec(&self.report).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        if key.verify(REPORT_DOMAIN, &bytes, &sig) { Ok(()) } else { Err(VerifyError::BadSignature) }
    }

    /// Reads and verifies a report file: its JSON form, or its HTML form
    /// (the embedded JSON verifies, and the page is exactly what that JSON
    /// renders to).
    pub fn verify_file(bytes: &[u8]) -> Result<SignedReport, VerifyError> {
        let text = std::str::from_utf8(bytes).map_err(|_| VerifyError::Malformed("not UTF-8 text".into()))?;
        let trimmed = text.trim_start();
        if trimmed.starts_with('{') {
            let signed: SignedReport = serde_json::from_str(text).map_err(|e| VerifyError::Malformed(e.to_string()))?;
            signed.verify()?;
            // Exactly as issued: a repeated key or an added field would
            // read differently to a person than to the check.
            if serde_json::to_string(&signed).ok().as_deref() != Some(text.trim()) {
                return Err(VerifyError::EditedPage);
            }
            return Ok(signed);
        }
        let start = text.find(EMBED_OPEN).ok_or_else(|| VerifyError::Malformed("no embedded report".into()))?;
        let rest = &text[start + EMBED_OPEN.len()..];
        let end = rest.find(EMBED_CLOSE).ok_or_else(|| VerifyError::Malformed("embedded report not closed".into()))?;
        let signed: SignedReport =
            serde_json::from_str(&rest[..end]).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        signed.verify()?;
        if signed.to_html() != text {
            return Err(VerifyError::EditedPage);
        }
        Ok(signed)
    }

    /// The report as one self-contained HTML page in its language, with
    /// the signed JSON embedded.
    pub fn to_html(&self) -> String {
        let r = &self.report;
        let lang = Lang::from_code(&r.lang).unwrap_or(Lang::En);
        let t = |id: &str| WORDS.t(lang, id);
        let date = |ms: u64| {
            jiff::Timestamp::from_millisecond(i64::try_from(ms).unwrap_or(i64::MAX))
                .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        };
        // No `<` inside the script element at all (JSON reads \u003c back).
        let json = serde_json::to_string(self).unwrap_or_default().replace('<', "\\u003c");
        let table = |title: String, map: &BTreeMap<String, u64>| {
            let total: u64 = map.values().sum::<u64>().max(1);
            maud::html! {
                h3 { (title) }
                @if map.is_empty() { p { "—" } } @else {
                    table { @for (k, v) in map {
                        tr { td { (k) } td.n { (v) }
                             td { span.bar style=(format!("width:{}px", v * 200 / total)) {} } }
                    } }
                }
            }
        };
        let tally = |title: String, x: &Tally| {
            maud::html! {
                h2 { (title) " — " (x.total) }
                (table(t("ov-by-family"), &x.by_family))
                (table(t("ov-by-kind"), &x.by_kind))
                (table(t("ov-by-tlp"), &x.by_tlp))
                (table(t("ov-by-subject"), &x.by_subject))
                (table(t("ov-by-handling"), &x.by_handling))
                (table(t("ov-by-channel"), &x.by_channel))
                @if !x.by_agency.is_empty() { (table(t("ov-by-agency"), &x.by_agency)) }
            }
        };
        let c = &r.consultations;
        let figure = |label: String, n: u64| maud::html! { tr { td { (label) } td.n { (n) } } };
        let page = maud::html! {
            (maud::DOCTYPE)
            html lang=(r.lang) {
                head {
                    meta charset="utf-8";
                    title { (t("ov-title")) " — " (r.agency) }
                    style { "body{font-family:sans-serif;max-width:60em;margin:2em auto;color:#222}td{padding:.2em .6em}td.n{text-align:right}.bar{display:inline-block;height:.8em;background:#4a78a8}.bad{color:#b00;font-weight:bold}.good{color:#070}" }
                }
                body {
                    h1 { (t("ov-title")) }
                    p { (r.agency) " · " (r.network) " · " (date(r.from_ms)) " – " (date(r.until_ms)) }
                    p { (t("ov-generated")) " " (date(r.generated_ms)) " · " (t("ov-signed-by")) " " code { (self.signer) } }
                    h2 { (t("ov-compliance")) }
                    table {
                        tr { td { (t("ov-past-review")) } td class=(if r.past_review == 0 { "n good" } else { "n bad" }) { (r.past_review) } }
                        tr { td { (t("ov-audit-verifies")) } td class=(if r.audit.verifies { "n good" } else { "n bad" }) {
                            (if r.audit.verifies { t("ov-yes") } else { t("ov-no") }) } }
                        @if let Some(e) = &r.audit.error { tr { td colspan="2" .bad { (e) } } }
                        (figure(t("ov-audit-entries"), r.audit.entries))
                        @if let (Some(seq), Some(ms)) = (r.audit.last_witnessed_seq, r.audit.last_witnessed_ms) {
                            tr { td { (t("ov-last-witnessed")) } td.n { (seq) " · " (date(ms)) } }
                        }
                    }
                    (tally(t("ov-shared"), &r.shared))
                    h3 { (t("ov-recipients")) }
                    table { @for (channel, members) in &r.recipients { tr { td { (channel) } td { (members.join(", ")) } } } }
                    (tally(t("ov-received"), &r.received))
                    h2 { (t("ov-consultations")) " — " (c.total) }
                    table {
                        (figure(t("ov-records-disclosed"), c.records))
                        (figure(t("ov-without-purpose"), c.without_purpose))
                    }
                    (table(t("ov-by-user"), &c.by_user))
                    (table(t("ov-by-purpose"), &c.by_purpose))
                    (table(t("ov-by-action"), &c.by_action))
                    h3 { (t("ov-victim-consultations")) " — " (c.victim.len()) }
                    table { @for v in &c.victim {
                        tr { td { (date(v.at_ms)) } td { (v.user) } td { (v.action) } td { (v.purpose.as_deref().unwrap_or("—")) } td.n { (v.count) } }
                    } }
                    h2 { (t("ov-disclosures")) }
                    table {
                        (figure(t("ov-deconfliction-asked"), r.deconfliction_asked))
                        (figure(t("ov-deconfliction-answered"), r.deconfliction_answered))
                        (figure(t("ov-referrals-filed"), r.referrals_filed))
                        (figure(t("ov-exports"), r.exports))
                        (figure(t("ov-referral-packages"), r.referral_packages))
                        (figure(t("ov-permissions-granted"), r.permissions_granted))
                        (figure(t("ov-permissions-revoked"), r.permissions_revoked))
                        (figure(t("ov-erased"), r.erased))
                        (figure(t("ov-expired"), r.expired))
                    }
                    (table(t("ov-audit-actions"), &r.audit.by_action))
                    p { (t("ov-verify-hint")) }
                    (maud::PreEscaped(format!("{EMBED_OPEN}{json}{EMBED_CLOSE}")))
                }
            }
        };
        page.into_string()
    }
}

impl Service {
    /// The oversight report over `[from_ms, until_ms)`, signed (operators
    /// and auditors). Reading it is audited.
    pub async fn oversight_report(
        self: &Arc<Self>,
        caller: Caller,
        from_ms: u64,
        until_ms: u64,
        lang: Lang,
    ) -> Result<SignedReport, ServiceError> {
        caller.require_oversight()?;
        if until_ms <= from_ms {
            return Err(ServiceError::bad_request("invalid_value", "to: must be after from"));
        }
        self.run(move |s| {
            let report = s.build_report(from_ms, until_ms, lang)?;
            s.audit_read(&caller, "oversight.report", &format!("{from_ms}..{until_ms}"))?;
            SignedReport::sign(report, &s.key)
        })
        .await
    }

    fn build_report(&self, from_ms: u64, until_ms: u64, lang: Lang) -> Result<OversightReport, ServiceError> {
        let store = &self.data.store;
        let trust = store.trust();
        let membership = store.membership();
        let me = self.key.public();
        let mine = |a: &AgencyKey| membership.as_deref().map_or(*a == me, |m| m.same_agency(a, &me));

        // Shared and received: the receive-order feed over the period,
        // walked on a thread of its own while the logs are read here (the
        // two scans are most of the report's cost).
        // The records are read in id order, one sequential scan per part
        // of the id space, a part per core (a walk of the receive-order
        // feed would fetch each record by its key).
        let parts = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
        let width = 256 / parts;
        let bounds: Vec<(u8, u8)> = (0..parts)
            .map(|i| {
                let last = if i + 1 == parts { 255 } else { (i + 1) * width - 1 };
                ((i * width) as u8, last as u8)
            })
            .collect();
        std::thread::scope(|scope| {
            let walks: Vec<_> = bounds
                .iter()
                .map(|&(a, b)| {
                    let (mine, trust) = (&mine, trust.as_deref());
                    scope.spawn(move || self.tally(a, b, from_ms, until_ms, mine, trust))
                })
                .collect();
            let mut report = self.figures(from_ms, until_ms, lang, &mine, trust.as_deref())?;
            for walk in walks {
                let (shared, received) =
                    walk.join().map_err(|_| ServiceError::internal("the report's walk failed"))??;
                report.shared.merge(shared);
                report.received.merge(received);
            }
            Ok(report)
        })
    }

    /// Records (ids starting `first..=last`) this node took in during
    /// `[from_ms, until_ms)`: this agency's, and others'.
    fn tally(
        &self,
        first: u8,
        last: u8,
        from_ms: u64,
        until_ms: u64,
        mine: &(dyn Fn(&AgencyKey) -> bool + Sync),
        trust: Option<&kawan_protocol::TrustList>,
    ) -> Result<(Tally, Tally), ServiceError> {
        let (mut shared, mut received) = (Tally::default(), Tally::default());
        let mut names: std::collections::HashMap<AgencyKey, String> = std::collections::HashMap::new();
        for r in self.data.store.records_by_id(first, last) {
            let r = r?;
            if !(from_ms..until_ms).contains(&r.added_ms) {
                continue;
            }
            let author = &r.record.header.author;
            if mine(author) {
                shared.add(&r.record, None);
            } else {
                let name = names.entry(*author).or_insert_with(|| self.author_name(author, trust));
                received.add(&r.record, Some(name));
            }
        }
        Ok((shared, received))
    }

    /// Everything in the report but the record tallies.
    fn figures(
        &self,
        from_ms: u64,
        until_ms: u64,
        lang: Lang,
        mine: &(dyn Fn(&AgencyKey) -> bool + Sync),
        trust: Option<&kawan_protocol::TrustList>,
    ) -> Result<OversightReport, ServiceError> {
        let store = &self.data.store;
        let me = self.key.public();
        let mut recipients = BTreeMap::new();
        if let Some(list) = trust {
            recipients.insert(
                kawan_protocol::Channel::Network.to_string(),
                list.members.iter().filter(|m| m.key != me).map(|m| m.name.clone()).collect(),
            );
            for g in &list.groups {
                if list.in_group(&g.id, &me) {
                    let names = g.members.iter().filter_map(|id| list.member(id)).filter(|m| m.key != me);
                    recipients.insert(
                        kawan_protocol::Channel::Group(g.id.clone()).to_string(),
                        names.map(|m| m.name.clone()).collect(),
                    );
                }
            }
        }

        let mut consultations = ConsultationFigures::default();
        self.data.consultations.each_between(from_ms, until_ms, |c| {
            consultations.total += 1;
            consultations.records += c.count;
            *consultations.by_user.entry(c.user.clone()).or_default() += 1;
            *consultations.by_action.entry(c.action.clone()).or_default() += 1;
            match &c.purpose {
                Some(p) => *consultations.by_purpose.entry(p.clone()).or_default() += 1,
                None => consultations.without_purpose += 1,
            }
            if c.victim && consultations.victim.len() < MAX_VICTIM_LISTED {
                consultations.victim.push(c);
            }
        })?;

        // The audit log over the period: what was done, by action.
        let mut audit = AuditFigures::default();
        let mut deconfliction_asked = 0;
        for e in self.data.audit.between(from_ms, until_ms).map_err(ServiceError::internal)? {
            // A question is audited when it is asked ("pending"), and again
            // when it is done.
            if e.action == "deconflict" && e.detail.starts_with("pending") {
                deconfliction_asked += 1;
            }
            *audit.by_action.entry(e.action.clone()).or_default() += 1;
        }
        let count = |prefix: &str| audit.by_action.iter().filter(|(a, _)| a.starts_with(prefix)).map(|(_, n)| n).sum();
        let deconfliction_answered: u64 = count("deconflict.evaluate");
        let exports: u64 = count("export.");
        let referral_packages: u64 = count("referral.package");
        let permissions_granted: u64 = count("permission.grant");
        let permissions_revoked: u64 = count("permission.revoke");
        match self.data.audit.verify(&self.own_keys()) {
            Ok(entries) => (audit.entries, audit.verifies) = (entries, true),
            Err(e) => audit.error = Some(e.to_string()),
        }
        if let Some(w) = self.witnesses()?.first() {
            (audit.last_witnessed_seq, audit.last_witnessed_ms) = (Some(w.seq), Some(w.time_ms));
        }

        // Referrals filed by this agency in the period.
        let mut referrals_filed = 0;
        let q = crate::store::Query {
            family: Some(kawan_protocol::Family::Referral),
            limit: 100_000,
            ..Default::default()
        };
        for h in store.search(&q, &self.normalize_context())?.unwrap_or_default() {
            if mine(&h.author) && (from_ms..until_ms).contains(&h.created_ms) {
                referrals_filed += 1;
            }
        }

        let (mut erased, mut expired) = (0, 0);
        for stone in store.tombstones(usize::MAX)? {
            if (from_ms..until_ms).contains(&stone.at_ms) {
                match stone.gone {
                    crate::store::Gone::Erased { .. } => erased += 1,
                    crate::store::Gone::Expired => expired += 1,
                    crate::store::Gone::Claimed { .. } => {}
                }
            }
        }
        let now = self.now_ms();
        // Due keys past the grace whose knowledge is still held and due
        // (a spent key of an extended version does not count).
        let mut past_review = 0;
        for (_, id) in store.due_between(0, now.saturating_sub(crate::store::EXPIRY_GRACE_MS), usize::MAX)? {
            if let Some(r) = store.get(&id)?
                && store.view(&id, trust)?.is_none()
                && !store.is_withdrawn(&r)?
            {
                past_review += 1;
            }
        }

        Ok(OversightReport {
            agency: self.config().agency.name.clone(),
            agency_key: me.to_string(),
            network: self.config().agency.network.to_string(),
            from_ms,
            until_ms,
            generated_ms: now,
            lang: lang.code().to_string(),
            shared: Tally::default(),
            received: Tally::default(),
            recipients,
            consultations,
            deconfliction_asked,
            deconfliction_answered,
            referrals_filed,
            exports,
            referral_packages,
            permissions_granted,
            permissions_revoked,
            erased,
            expired,
            past_review,
            audit,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_language_has_every_word() {
        super::WORDS.check().unwrap();
        for lang in crate::i18n::Lang::ALL {
            assert_eq!(super::WORDS.ids(lang).len(), super::WORDS.ids(crate::i18n::Lang::En).len(), "{lang:?}");
        }
    }
}
