//! `kawan demo` works from nothing: five nodes, records flow, the group stays closed.

use kawan_tests::kawan;

#[test]
fn the_demo_runs_and_shows_records_flowing_and_the_group_closed() {
    let dir = tempfile::tempdir().unwrap();
    // `--dir` (every command's node directory) is honoured as `--data`.
    let data = dir.path().join("demo");
    let out = kawan().args(["demo", "--exit", "--dir"]).arg(&data).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains(&format!("data in {}", data.display())) && data.is_dir(), "{text}");
    assert!(text.contains("5 nodes running and connected"), "{text}");
    assert_eq!(text.matches(" after ").count(), 4, "the record reached all four other nodes: {text}");
    assert!(text.contains("at KH: yes, at PH: no, at AU: no"), "{text}");
    assert!(text.contains("token  kawan_"), "{text}");
    assert!(text.contains("no one learns it); hit at: Philippine Cyber Fraud Unit"), "{text}");
}

#[test]
fn the_demo_refuses_two_different_data_directories() {
    let out = kawan().args(["demo", "--exit", "--data", "/tmp/a", "--dir", "/tmp/b"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("disagree"), "{}", String::from_utf8_lossy(&out.stderr));
}
