//! `kawan token`: API tokens (operator).

use clap::Subcommand;
use serde_json::{Value, json};

use super::Ctx;
use crate::{i18n::t, output};

#[derive(Subcommand)]
pub enum TokenCmd {
    /// Create a token; it is printed once.
    Create {
        name: String,
        /// analyst, operator or coordinator
        #[arg(long, default_value = "analyst")]
        role: String,
    },
    /// List tokens (names and roles, never secrets).
    List,
    /// Revoke a token.
    Revoke { name: String },
}

pub fn run(t: TokenCmd, ctx: &Ctx) -> anyhow::Result<bool> {
    let client = ctx.client()?;
    let out = match &t {
        TokenCmd::Create { name, role } => client.post("/api/v1/tokens", &json!({"name": name, "role": role}))?,
        TokenCmd::List => client.get("/api/v1/tokens")?,
        TokenCmd::Revoke { name } => client.delete(&format!("/api/v1/tokens/{}", output::urlencode(name)))?,
    };
    if ctx.json {
        output::json(&out);
        return Ok(true);
    }
    let s = |v: &Value, k: &str| v[k].as_str().unwrap_or("").to_string();
    match t {
        TokenCmd::Create { .. } => {
            println!("{}", t!("token-created", name = s(&out, "name"), role = s(&out, "role")));
            println!("  {}", s(&out, "token"));
        }
        TokenCmd::List => {
            println!(
                "{} {} {}",
                output::pad(&t!("col-name"), 24),
                output::pad(&t!("token-col-role"), 12),
                t!("token-col-created")
            );
            for tok in out.as_array().into_iter().flatten() {
                let created = crate::i18n::time(tok["created_ms"].as_u64().unwrap_or(0));
                println!("{} {} {created}", output::pad(&s(tok, "name"), 24), output::pad(&s(tok, "role"), 12));
            }
        }
        TokenCmd::Revoke { name } => println!("{}", t!("token-revoked", name = name)),
    }
    Ok(true)
}
