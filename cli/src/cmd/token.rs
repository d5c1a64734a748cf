//! `kawan token`: API tokens (operator).

use clap::Subcommand;
use serde_json::json;

use super::Ctx;
use crate::output;

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
    let out = match t {
        TokenCmd::Create { name, role } => client.post("/api/v1/tokens", &json!({"name": name, "role": role}))?,
        TokenCmd::List => client.get("/api/v1/tokens")?,
        TokenCmd::Revoke { name } => client.delete(&format!("/api/v1/tokens/{}", output::urlencode(&name)))?,
    };
    output::json_or_text(&out, ctx.json);
    Ok(true)
}
