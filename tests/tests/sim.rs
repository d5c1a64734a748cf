//! The seeded simulator as a test: a hundred replicas with rogue members on
//! three seeds, then a partition that heals and nodes that drop out and come
//! back. Every honest node ends with exactly what it is entitled to; no log
//! stalls; every rogue is cut off; records are downloaded once (or, across
//! a partition heal, almost always once); and the same seed gives the same
//! outcome.

use kawan_tests::sim::{Outcome, Scenario, run};

fn scenario(seed: u64) -> Scenario {
    Scenario { nodes: 100, records: 200, seed, rogues: 2, publish_per_s: 10.0, ..Scenario::default() }
}

fn check(o: &Outcome) {
    let json = o.to_json();
    assert!(o.converged, "every honest node holds what it is entitled to: {json}");
    assert_eq!(o.leaks, 0, "no group record outside its group: {json}");
    assert_eq!(o.stalled_logs, 0, "{json}");
    assert!(o.rogue_penalised, "every rogue member was cut off: {json}");
}

#[test]
fn a_hundred_replicas_with_rogues_converge_fetching_each_record_once() {
    for seed in [1, 2, 3] {
        let o = run(scenario(seed));
        check(&o);
        assert!(o.fetched_twice <= 2, "records are downloaded once: {}", o.to_json());
        assert!(o.convergence_p99_ms < 2_000, "{}", o.to_json());
    }
}

#[test]
fn a_partition_heals_and_nodes_that_were_away_catch_up() {
    let o = run(Scenario { partition: true, churn: 5, settle_ms: 120_000, ..scenario(4) });
    check(&o);
    assert!(o.fetched_twice * 100 <= o.deliveries, "under 1% downloaded twice: {}", o.to_json());
}

#[test]
fn the_same_seed_gives_the_same_outcome() {
    let quick = Scenario { nodes: 30, records: 60, ..scenario(9) };
    let (a, b) = (run(quick.clone()), run(quick));
    let deterministic = |o: &Outcome| Outcome { wall_s: 0.0, ..o.clone() };
    assert_eq!(deterministic(&a), deterministic(&b));
}

#[test]
fn silent_links_are_found_dead_and_replaced() {
    // Half-open links: messages vanish both ways and nobody is told. Each
    // end finds out (its pings fail; its messages go unacknowledged), drops
    // the link and dials another member; everyone still converges.
    let o = run(Scenario { silent_links: 30, settle_ms: 60_000, ..scenario(5) });
    check(&o);
    assert!(o.dead_links >= 30, "both ends of each silent link noticed: {}", o.to_json());
}

#[test]
fn members_that_announce_and_withhold_are_cut_off_and_slow_no_one_much() {
    let base = scenario(6);
    let without = run(base.clone());
    let with = run(Scenario { withholders: 2, ..base });
    check(&with);
    assert!(with.withholders_penalised, "each withholder is banned: {}", with.to_json());
    assert!(
        with.convergence_p99_ms as f64 <= 1.2 * without.convergence_p99_ms as f64 + 100.0,
        "p99 {} with withholders vs {} without: {}",
        with.convergence_p99_ms,
        without.convergence_p99_ms,
        with.to_json()
    );
}
