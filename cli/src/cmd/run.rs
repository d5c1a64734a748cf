//! `kawan run`: the node, until SIGINT or SIGTERM.

use anyhow::Context as _;
use clap::{Args, ValueEnum};

use super::Ctx;
use crate::i18n::t;

#[derive(Args)]
pub struct RunArgs {
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Human,
    Json,
}

pub fn run(a: RunArgs, ctx: &Ctx) -> anyhow::Result<bool> {
    init_tracing(a.log_format);
    let node = kawan_node::daemon::Node::open(&ctx.dir)?;
    let runtime = tokio::runtime::Runtime::new().context(t!("run-no-runtime"))?;
    runtime.block_on(node.run())?;
    Ok(true)
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Human => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}
