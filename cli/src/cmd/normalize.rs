//! `kawan normalize`: normal forms, offline (no node needed).

use std::io::Read as _;

use anyhow::Context as _;
use clap::Args;
use kawan_protocol::{Context, Country, Kind, normalize};
use serde_json::json;

use super::Ctx;
use crate::i18n::t;

#[derive(Args)]
pub struct NormalizeArgs {
    /// Indicator kind: phone, email, url, domain, ip, telegram_handle,
    /// line_id, wechat_id, social_profile, tron_address, evm_address,
    /// btc_address, bank_account, company_name, app_id, image_hash.
    kind: Kind,
    /// Values to normalise (default: read stdin).
    values: Vec<String>,
    /// Region for phone numbers in national format (ISO 3166-1, e.g. TH).
    #[arg(long)]
    region: Option<Country>,
}

pub fn run(a: NormalizeArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    let values = if a.values.is_empty() {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context(t!("reading-stdin"))?;
        text.lines().map(String::from).collect()
    } else {
        a.values
    };
    let kind = a.kind;
    let norm_ctx = Context { default_region: a.region };
    let mut all_ok = true;
    for raw in values.iter().filter(|v| !v.trim().is_empty()) {
        let result = normalize(kind, raw, &norm_ctx);
        if ctx.json {
            let line = match &result {
                Ok(n) => json!({
                    "input": raw, "kind": kind, "value": n.value,
                    "warnings": n.warnings.iter().map(ToString::to_string).collect::<Vec<_>>(),
                }),
                Err(e) => json!({ "input": raw, "kind": kind, "error": e.reason.to_string() }),
            };
            println!("{line}");
        } else {
            match &result {
                Ok(n) => {
                    println!("{}", n.value);
                    for w in &n.warnings {
                        eprintln!("{}", t!("normalize-warning", value = n.value.as_str(), warning = w.to_string()));
                    }
                }
                Err(e) => eprintln!("{}", t!("error", error = e.to_string())),
            }
        }
        all_ok &= result.is_ok();
    }
    Ok(all_ok)
}
