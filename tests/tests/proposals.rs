//! Trust-list proposals (issue #29): a coordinator proposes the next
//! version on its own node, another reviews and signs on its own, the list
//! installs everywhere, and proposals never reach a node that is not a
//! coordinator's. Real processes; forged, replayed and competing proposals
//! in process.

use kawan_tests::{TestNetwork, TestNode, kawan, run_ok};
use serde_json::{Value, json};

fn trust_version(node: &TestNode) -> u64 {
    node.request("GET", "/api/v1/trust", Some(&node.token)).call().json()["version"].as_u64().unwrap_or(0)
}

fn cli_as(node: &TestNode, token: &str, args: &[&str]) -> (bool, String, String) {
    let out = node.cli().env("KAWAN_TOKEN", token).args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into(), String::from_utf8_lossy(&out.stderr).into())
}

fn proposals(node: &TestNode, token: &str) -> Value {
    let r = node.request("GET", "/api/v1/trust/proposals", Some(token)).call();
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[test]
fn two_of_three_coordinators_admit_an_agency_from_its_card_each_on_their_own_node() {
    let logs = tempfile::tempdir().unwrap();
    let log_of = |i: usize| logs.path().join(format!("wire-{i}.bin"));
    // Agencies 0–2 coordinate (two sign each version); agency 3 is a member.
    let net = TestNetwork::start_governed(4, &[], (3, 2), |i| vec![("KAWAN_WIRE_LOG", log_of(i))], |_, _| {});
    net.wait_for(30, "all connected", |net| (0..4).all(|i| net.node(i).connected_peers() >= 3));
    let tokens: Vec<String> = (0..3).map(|i| net.node(i).new_token("coordinator")).collect();

    // A new agency sends its card; coordinator 0 proposes it from the terminal.
    let files = tempfile::tempdir().unwrap();
    let newcomer = kawan_tests::init_dir("Agency 9", kawan_tests::free_port());
    let card = files.path().join("agency-9.card");
    run_ok(kawan().arg("--dir").arg(newcomer.path()).args(["card", "--id", "agency-9", "--out"]).arg(&card));
    // Coordinator 0 admits it from the Network page: paste the card, check
    // it (what the next version changes), propose it: three steps.
    let web = kawan_tests::web::Browser::login_as(net.node(0), &tokens[0]);
    let csrf = web.csrf();
    let card_text = std::fs::read_to_string(&card).unwrap();
    let (status, page) = web.post("/network/card", &[("csrf", &csrf), ("card", &card_text)]);
    assert!(status == 200 && page.contains("adds Agency 9 (agency-9") && page.contains("Propose version 2"), "{page}");
    let (status, page) = web.post(
        "/network/proposals",
        &[("csrf", &csrf), ("card", &card_text), ("note", "PROPOSAL-MARKER: met at the workshop")],
    );
    assert!(status == 200 && page.contains("Version 2 proposed: 1 of 2 signatures"), "{page}");
    assert!(page.contains("waiting for signatures") && page.contains("PROPOSAL-MARKER"), "{page}");

    // Coordinator 1's node has it, with what it changes; one signature
    // installs nothing.
    let at_1 = |net: &TestNetwork| proposals(net.node(1), &tokens[1]);
    net.wait_for(30, "coordinator 1's node has the proposal", |net| at_1(net).as_array().is_some_and(|a| a.len() == 1));
    let p = at_1(&net)[0].clone();
    assert_eq!((p["status"].as_str(), p["needed"].as_u64()), (Some("pending"), Some(2)), "{p}");
    assert_eq!(p["signers"], json!(["Agency 0"]), "{p}");
    assert!(p["changes"][0].as_str().unwrap().starts_with("adds Agency 9 (agency-9"), "{p}");
    assert!((0..4).all(|i| trust_version(net.node(i)) == 1), "one signature of two installs nothing");
    // A member's node holds none, and a member's token sees none.
    let member_operator = net.node(3).token.clone();
    assert_eq!(proposals(net.node(3), &member_operator), json!([]));

    // Coordinator 1 reviews it and signs on its own node: installed, and
    // it spreads to every node.
    let (ok, out, err) = cli_as(net.node(1), &tokens[1], &["trust", "proposals"]);
    assert!(ok && out.contains("adds Agency 9") && out.contains("PROPOSAL-MARKER"), "{out}{err}");
    let id = p["id"].as_str().unwrap();
    let (ok, out, err) = cli_as(net.node(1), &tokens[1], &["trust", "sign-proposal", id]);
    assert!(ok, "{err}");
    assert!(out.contains("(installed)"), "{out}");
    net.wait_for(30, "version 2 everywhere", |net| (0..4).all(|i| trust_version(net.node(i)) == 2));

    // The page shows it installed; a coordinator proposes the next change
    // from the terminal.
    assert!(web.get("/network").1.contains("installed"));
    let (ok, out, err) =
        cli_as(net.node(2), &tokens[2], &["trust", "propose", "--renew", "agency-3", "--until", "2027-12-31"]);
    assert!(ok && out.contains("1 of 2 signatures") && out.contains("membership runs until 2027-12-31"), "{out}{err}");

    // The new agency joins from the chain and connects.
    let chain = files.path().join("network.trust");
    run_ok(net.node(3).cli().args(["trust", "chain", "--out"]).arg(&chain));
    run_ok(kawan().arg("--dir").arg(newcomer.path()).args(["trust", "join"]).arg(&chain));
    let newcomer = TestNode::run(newcomer);
    net.wait_for(30, "the new agency is connected", |_| newcomer.connected_peers() >= 1);

    // The member's node never received the proposal: its wire log (every
    // question-and-answer message it received) has no trace of the note,
    // while coordinator 2's, sent the same proposal, has.
    net.wait_for(30, "coordinator 2 received the proposal", |_| {
        std::fs::read(log_of(2)).unwrap_or_default().windows(15).any(|w| w == b"PROPOSAL-MARKER")
    });
    let member = std::fs::read(log_of(3)).unwrap_or_default();
    assert!(!member.windows(15).any(|w| w == b"PROPOSAL-MARKER"), "a member's node received a proposal");
}

mod in_process {
    //! Forged, replayed and competing proposals, given to a coordinator's
    //! node as a peer's node would give them.

    use kawan_protocol::{
        Keypair, MemberId, TrustList,
        proposal::{Proposal, Reply},
    };
    use kawan_tests::{app::App, fixtures};
    use serde_json::json;

    /// Agency 2's node in a network coordinated by agencies 1–4, three of
    /// whom sign each version; agency 5 is a member.
    fn coordinator_node() -> (App, TrustList) {
        let app = App::named("Agency 2", "TH", fixtures::agency(2));
        let signed = fixtures::trust_list(1, &[1, 2, 3, 4, 5], &[]);
        let mut list = signed.list().unwrap();
        for m in &mut list.members {
            if m.id.as_str() != "agency-5" {
                m.roles = vec![kawan_protocol::MemberRole::Coordinator];
            }
        }
        list.threshold = 3;
        let mut genesis = kawan_protocol::SignedTrustList::new(&list).unwrap();
        for n in [1, 2, 3] {
            genesis.sign(&fixtures::agency(n));
        }
        app.svc.data().store.install_genesis(&genesis).expect("genesis");
        (app, list)
    }

    fn next(list: &TrustList, f: impl FnOnce(&mut TrustList)) -> TrustList {
        let mut next = list.clone();
        next.version += 1;
        f(&mut next);
        next
    }

    fn receive(app: &App, from: &Keypair, p: Proposal) -> Reply {
        app.block_on(app.svc.receive_proposal(from.public(), p))
    }

    #[test]
    fn a_forged_replayed_or_outsiders_proposal_is_refused_clearly() {
        let (app, list) = coordinator_node();
        let removal = next(&list, |l| l.members.retain(|m| m.id.as_str() != "agency-5"));
        let (one, five) = (fixtures::agency(1), fixtures::agency(5));
        // A member's node, or a proposal a member made.
        let by_member = Proposal::new(&removal, &five, "", 1).unwrap();
        let refused = |r: Reply| match r {
            Reply::Refused(why) => why,
            Reply::Received => panic!("taken"),
        };
        assert!(refused(receive(&app, &five, by_member.clone())).contains("only coordinators"));
        assert!(refused(receive(&app, &one, by_member)).contains("not an active coordinator"));
        // A coordinator named as proposer who did not sign.
        let mut forged = Proposal::new(&removal, &five, "", 1).unwrap();
        forged.proposer = one.public();
        assert!(refused(receive(&app, &one, forged)).contains("signature does not verify"));
        // A version that is not the next, or a replay of the list in force.
        let stale = Proposal::new(&list, &one, "", 1).unwrap();
        assert!(refused(receive(&app, &one, stale)).contains("next version is 2"));
        // A signature replayed from another proposal counts for nothing.
        let other = next(&list, |l| l.threshold = 2);
        let mut theirs = Proposal::new(&other, &one, "", 1).unwrap();
        theirs.sign(&fixtures::agency(3));
        let mut ours = Proposal::new(&removal, &one, "", 1).unwrap();
        ours.list.sigs.extend(theirs.list.sigs.iter().filter(|s| s.key == fixtures::agency(3).public()).cloned());
        assert_eq!(receive(&app, &one, ours), Reply::Received);
        let held = app.send("GET", "/api/v1/trust/proposals", Some(&app.operator), None).json();
        assert_eq!(held[0]["signers"], json!(["Agency 1"]), "{held}");
        // A coordinator flooding proposals: a bounded number per version
        // (agency 1 has one pending already).
        for n in 0..7u64 {
            let p = Proposal::new(&next(&list, |l| l.issued_ms = 1000 + n), &one, "", n).unwrap();
            assert_eq!(receive(&app, &one, p), Reply::Received, "proposal {n}");
        }
        let ninth = Proposal::new(&next(&list, |l| l.issued_ms = 2000), &one, "", 9).unwrap();
        assert!(refused(receive(&app, &one, ninth)).contains("at most 8"));
        // Analysts do not read proposals; only a coordinator token signs.
        assert_eq!(app.get("/api/v1/trust/proposals").status.as_u16(), 403);
        let id = held[0]["id"].as_str().unwrap();
        let r = app.send("POST", &format!("/api/v1/trust/proposals/{id}/sign"), Some(&app.operator), None);
        assert_eq!(r.status.as_u16(), 403, "{}", r.body);
    }

    #[test]
    fn competing_proposals_are_shown_side_by_side_and_signing_one_withdraws_from_the_other() {
        let (app, list) = coordinator_node();
        let (coordinator, _) =
            app.svc.data().tokens.create("coord", kawan_node::local::tokens::Role::Coordinator).expect("a token");
        let (one, three) = (fixtures::agency(1), fixtures::agency(3));
        let remove_5 =
            Proposal::new(&next(&list, |l| l.members.retain(|m| m.id.as_str() != "agency-5")), &one, "", 1).unwrap();
        let renew_5 = Proposal::new(
            &next(&list, |l| {
                if let Some(m) = l.members.iter_mut().find(|m| m.id == MemberId::new("agency-5").unwrap()) {
                    m.expires_ms = Some(1_800_000_000_000);
                }
            }),
            &three,
            "keep them a year more",
            2,
        )
        .unwrap();
        assert_eq!(receive(&app, &one, remove_5.clone()), Reply::Received);
        assert_eq!(receive(&app, &three, renew_5.clone()), Reply::Received);
        let listed = app.send("GET", "/api/v1/trust/proposals", Some(&coordinator), None).json();
        assert_eq!(listed.as_array().unwrap().len(), 2);
        for p in listed.as_array().unwrap() {
            assert_eq!(p["competing"].as_array().unwrap().len(), 1, "{p}");
        }
        let sign = |id: &kawan_protocol::RecordId| {
            let r = app.send("POST", &format!("/api/v1/trust/proposals/{id}/sign"), Some(&coordinator), None);
            assert_eq!(r.status.as_u16(), 200, "{}", r.body);
            r.json()
        };
        let signed = sign(&remove_5.id());
        assert_eq!(signed["signers"].as_array().unwrap().len(), 2, "{signed}");
        assert!(signed["signed_here"].as_bool().unwrap());
        // Agency 2 changes its mind: its signature moves to the renewal.
        let renewed = sign(&renew_5.id());
        assert_eq!(renewed["signers"].as_array().unwrap().len(), 2, "{renewed}");
        let removal = app.send("GET", "/api/v1/trust/proposals", Some(&coordinator), None).json();
        let removal =
            removal.as_array().unwrap().iter().find(|p| p["id"] == remove_5.id().to_string()).unwrap().clone();
        assert_eq!(removal["signers"].as_array().unwrap().len(), 1, "{removal}");
        assert_eq!(removal["withdrawn"].as_array().unwrap().len(), 1, "{removal}");
        // Signing the removal again would count nowhere the withdrawal went.
        let r = app.send("POST", &format!("/api/v1/trust/proposals/{}/sign", remove_5.id()), Some(&coordinator), None);
        assert_eq!((r.status.as_u16(), r.json()["code"].as_str()), (409, Some("signature_withdrawn")), "{}", r.body);
        // Agency 4 signs the renewal on its node; its copy arrives: three
        // of three needed, installed; the removal is outdated.
        let mut at_4 = renew_5.clone();
        at_4.sign(&fixtures::agency(4));
        assert_eq!(receive(&app, &fixtures::agency(4), at_4), Reply::Received);
        assert_eq!(app.svc.trust().unwrap().version, 2);
        let after = app.send("GET", "/api/v1/trust/proposals", Some(&coordinator), None).json();
        let status = |id: String| after.as_array().unwrap().iter().find(|p| p["id"] == id).unwrap()["status"].clone();
        assert_eq!(status(renew_5.id().to_string()), "installed");
        assert_eq!(status(remove_5.id().to_string()), "outdated");
    }

    #[test]
    fn coordinators_see_memberships_expiring_and_a_quorum_at_risk_where_they_look() {
        use kawan_tests::app::START_MS;
        let app = App::named("Agency 2", "TH", fixtures::agency(2));
        let mut list = fixtures::trust_list(1, &[1, 2, 3, 4, 5], &[]).list().unwrap();
        let day = 86_400_000;
        for m in &mut list.members {
            match m.id.as_str() {
                "agency-5" => m.expires_ms = Some(START_MS + 20 * day),
                "agency-1" | "agency-3" => {
                    m.roles = vec![kawan_protocol::MemberRole::Coordinator];
                    m.expires_ms = Some(START_MS + 25 * day);
                }
                _ => m.roles = vec![kawan_protocol::MemberRole::Coordinator],
            }
        }
        list.threshold = 3;
        let mut genesis = kawan_protocol::SignedTrustList::new(&list).unwrap();
        for n in [1, 2, 4] {
            genesis.sign(&fixtures::agency(n));
        }
        app.svc.data().store.install_genesis(&genesis).expect("genesis");
        // Two of four coordinators lapse within 30 days, and three must sign.
        let warnings = app.svc.trust_warnings();
        assert!(
            matches!(warnings.as_slice(), [kawan_node::service::Warning::CoordinatorsExpiring { needed: 3, .. }]),
            "{warnings:?}"
        );
        let (coordinator, _) =
            app.svc.data().tokens.create("coord", kawan_node::local::tokens::Role::Coordinator).expect("a token");
        let page = app.web_get_as("/network", &coordinator);
        assert_eq!(page.status.as_u16(), 200);
        assert!(
            page.body.contains("coordinator memberships expire") || page.body.contains("Coordinator memberships"),
            "{}",
            page.body
        );
        assert!(
            page.body.matches("class=\"flag\"").count() >= 3,
            "the three memberships expiring within 30 days are flagged"
        );
        let health = app.send("GET", "/api/v1/status", Some(&coordinator), None).json();
        assert!(health["warnings"].to_string().contains("coordinator memberships expire"), "{health}");
    }
}
