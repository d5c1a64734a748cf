//! `kawan status`: the node's agency, network, record counts and store size.

use super::Ctx;
use crate::output;

pub fn run(ctx: &Ctx) -> anyhow::Result<bool> {
    let out = ctx.client()?.get("/api/v1/status")?;
    output::json_or_text(&out, ctx.json);
    Ok(true)
}
