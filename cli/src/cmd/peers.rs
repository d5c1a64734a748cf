//! `kawan peers`: every member, connected or not, and how far behind.

use super::Ctx;
use crate::output;

pub fn run(ctx: &Ctx) -> anyhow::Result<bool> {
    let out = ctx.client()?.get("/api/v1/peers")?;
    if ctx.json {
        output::json(&out);
    } else {
        output::peers(&out);
    }
    Ok(true)
}
