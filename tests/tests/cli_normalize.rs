//! `kawan normalize`, run as a real process.

use std::{io::Write as _, process::Stdio};

use kawan_tests::kawan;

#[test]
fn normalises_arguments_to_the_stored_form() {
    let out = kawan().args(["normalize", "phone", "+44 (0)7700 900123", "0044 7700-900-124"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "+447700900123\n+447700900124\n");
}

#[test]
fn reads_stdin_and_reports_invalid_values_with_exit_status_1() {
    let mut child = kawan()
        .args(["normalize", "domain"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"Jobs-Abroad[.]EXAMPLE\nnot_a_domain\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "jobs-abroad.example\n");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("invalid domain") && err.contains("not_a_domain"), "{err}");
}

#[test]
fn json_output_names_errors_per_value() {
    let out = kawan()
        .args(["normalize", "--json", "evm_address", "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"])
        .output()
        .unwrap();
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(line["kind"], "evm_address");
    assert!(line["error"].as_str().unwrap().contains("EIP-55"));
}

#[test]
fn an_unknown_kind_is_a_usage_error() {
    let out = kawan().args(["normalize", "fax", "123"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown indicator kind"));
}
