//! `kawan-sim`: runs the seeded many-node simulator and prints, as its last
//! line, one JSON object with what happened (see `kawan_tests::sim`).
//!
//!     cargo run --release -p kawan-tests --bin kawan-sim -- --nodes 500 --seed 7

use clap::Parser;
use kawan_tests::sim::{Scenario, run};

/// Simulate a network of Kawan replicas.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Honest nodes.
    #[arg(long, default_value_t = 500)]
    nodes: usize,
    /// Records published by the honest nodes.
    #[arg(long, default_value_t = 1000)]
    records: usize,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// One-way link latency (ms); jitter adds up to 10 ms.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Share of messages lost.
    #[arg(long, default_value_t = 0.01)]
    loss: f64,
    /// Rogue members.
    #[arg(long, default_value_t = 1)]
    rogues: usize,
    /// Split the network in two for the middle of the publishing window.
    #[arg(long)]
    partition: bool,
    /// Nodes that go offline for 10-20 s during the publishing window.
    #[arg(long, default_value_t = 0)]
    churn: usize,
    /// Links that go silent (half-open) a third into the publishing window.
    #[arg(long, default_value_t = 0)]
    silent_links: usize,
    /// Members that announce what they store but never answer asks or pulls.
    #[arg(long, default_value_t = 0)]
    withholders: usize,
    /// Silent members that keep dialling node 1 to crowd out its honest peers.
    #[arg(long, default_value_t = 0)]
    eclipse: usize,
    /// Records published per simulated second, network-wide.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Simulated seconds after the last publish before the outcome is judged.
    #[arg(long, default_value_t = 40)]
    settle_s: u64,
    /// Connections each replica keeps.
    #[arg(long, default_value_t = kawan_node::replica::Config::default().fanout)]
    fanout: usize,
}

fn main() {
    let a = Args::parse();
    let scenario = Scenario {
        nodes: a.nodes.max(2),
        records: a.records,
        seed: a.seed,
        latency_ms: a.latency_ms,
        loss: a.loss.clamp(0.0, 1.0),
        rogues: a.rogues,
        partition: a.partition,
        churn: a.churn,
        silent_links: a.silent_links,
        withholders: a.withholders,
        eclipse: a.eclipse,
        publish_per_s: a.rate.max(0.1),
        fanout: a.fanout.max(1),
        settle_ms: a.settle_s * 1000,
        ..Scenario::default()
    };
    println!("{}", run(scenario).to_json());
}
