//! The normalisation table: tricky spellings of every indicator kind, the one
//! value each must become, and the values that must be refused.

use kawan_protocol::{Context, Country, Kind, Warning, normalize, normalize::hamming_distance};

/// `Some(expected)`: must normalise to exactly this. `None`: must be refused.
type Case = (Kind, &'static str, Option<&'static str>);

fn generated_tron() -> String {
    let mut payload = vec![0x41];
    payload.extend([0x5a; 20]);
    bs58::encode(payload).with_check().into_string()
}

fn generated_btc_base58() -> String {
    bs58::encode([0u8; 21]).with_check().into_string()
}

fn generated_btc_bech32() -> String {
    bech32::segwit::encode(bech32::hrp::BC, bech32::segwit::VERSION_0, &[0x11; 20]).unwrap()
}

/// Flips the case of the first letter after `skip` characters: a one-character typo.
fn typo(s: &str, skip: usize) -> String {
    let mut done = false;
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if !done && i >= skip && c.is_ascii_alphabetic() {
                done = true;
                if c.is_ascii_lowercase() { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }
            } else {
                c
            }
        })
        .collect()
}

const TABLE: &[Case] = &[
    // phone: international, national, spaced, dashed, "(0)", 00 prefix, links.
    (Kind::Phone, "+44 7700 900123", Some("+447700900123")),
    (Kind::Phone, "+44 (0)7700 900123", Some("+447700900123")),
    (Kind::Phone, "+44(0)7700-900-123", Some("+447700900123")),
    (Kind::Phone, "0044 7700 900123", Some("+447700900123")),
    (Kind::Phone, "+44.7700.900.123", Some("+447700900123")),
    (Kind::Phone, "tel:+44-7700-900123", Some("+447700900123")),
    (Kind::Phone, "https://wa.me/447700900123", Some("+447700900123")),
    (Kind::Phone, "  +61 491 570 156  ", Some("+61491570156")),
    (Kind::Phone, "+61 (0)491 570 156", Some("+61491570156")),
    (Kind::Phone, "+61-491-570-110", Some("+61491570110")),
    (Kind::Phone, "0491 570 156", None), // national format, no region given
    (Kind::Phone, "+44 7700 900123 4567 89", None),
    (Kind::Phone, "+66 12", None),
    (Kind::Phone, "call me", None),
    (Kind::Phone, "+999 1234 5678", None),
    // email: domain lower-cased and IDNA'd, local part kept, defanged forms.
    (Kind::Email, "Recruiter.Jobs@Mail.Example", Some("Recruiter.Jobs@mail.example")),
    (Kind::Email, "hr[@]jobs-abroad[.]example", Some("hr@jobs-abroad.example")),
    (Kind::Email, "mailto:hr@JOBS.example", Some("hr@jobs.example")),
    (Kind::Email, "hr@bücher.example", Some("hr@xn--bcher-kva.example")),
    (Kind::Email, "no-at-sign.example", None),
    (Kind::Email, "@jobs.example", None),
    (Kind::Email, "hr@localhost", None),
    // url: WHATWG, host case and IDNA, default port, fragment, defanged.
    (Kind::Url, "HTTPS://Jobs.Example/Apply?ref=fb#top", Some("https://jobs.example/Apply?ref=fb")),
    (Kind::Url, "https://jobs.example:443/apply", Some("https://jobs.example/apply")),
    (Kind::Url, "http://jobs.example:80", Some("http://jobs.example/")),
    (Kind::Url, "http://jobs.example:8080/x", Some("http://jobs.example:8080/x")),
    (Kind::Url, "hxxps://jobs[.]example/apply", Some("https://jobs.example/apply")),
    (Kind::Url, "https://bücher.example/stellen", Some("https://xn--bcher-kva.example/stellen")),
    (Kind::Url, "https://jobs.example./a", Some("https://jobs.example/a")),
    (Kind::Url, "https://jobs.example/a b", Some("https://jobs.example/a%20b")),
    (Kind::Url, "jobs.example/apply", None),
    (Kind::Url, "ftp://files.example/x", None),
    (Kind::Url, "https://", None),
    // domain: UTS-46, case, trailing dot, defanged.
    (Kind::Domain, "Jobs-Abroad.EXAMPLE", Some("jobs-abroad.example")),
    (Kind::Domain, "jobs-abroad.example.", Some("jobs-abroad.example")),
    (Kind::Domain, "jobs-abroad[.]example", Some("jobs-abroad.example")),
    (Kind::Domain, "BÜCHER.example", Some("xn--bcher-kva.example")),
    (Kind::Domain, "xn--bcher-kva.example", Some("xn--bcher-kva.example")),
    (Kind::Domain, "https://jobs.example/", None),
    (Kind::Domain, "localhost", None),
    (Kind::Domain, "-bad-.example", None),
    (Kind::Domain, "192.0.2.1", None),
    // ip: canonical text, defanged.
    (Kind::Ip, "192.0.2.10", Some("192.0.2.10")),
    (Kind::Ip, "198[.]51[.]100[.]7", Some("198.51.100.7")),
    (Kind::Ip, "2001:DB8:0:0:0:0:0:1", Some("2001:db8::1")),
    (Kind::Ip, "[2001:db8::1]", Some("2001:db8::1")),
    (Kind::Ip, "203.0.113.300", None),
    (Kind::Ip, "192.0.2.1:443", None),
    // telegram: @, t.me links, case.
    (Kind::TelegramHandle, "@Jobs_Thailand_HR", Some("jobs_thailand_hr")),
    (Kind::TelegramHandle, "https://t.me/Jobs_Thailand_HR", Some("jobs_thailand_hr")),
    (Kind::TelegramHandle, "t.me/jobs_thailand_hr/", Some("jobs_thailand_hr")),
    (Kind::TelegramHandle, "telegram.me/jobs_thailand_hr?start=1", Some("jobs_thailand_hr")),
    (Kind::TelegramHandle, "@abc", None),
    (Kind::TelegramHandle, "@1jobs_hr", None),
    (Kind::TelegramHandle, "@jobs-hr", None),
    // line and wechat.
    (Kind::LineId, "Hr.Recruit88", Some("hr.recruit88")),
    (Kind::LineId, "@JobsAgency", Some("@jobsagency")),
    (Kind::LineId, "https://line.me/ti/p/~hr.recruit88", Some("hr.recruit88")),
    (Kind::LineId, "way_too_long_line_id_here", None),
    (Kind::WechatId, "HR_Recruit_2024", Some("hr_recruit_2024")),
    (Kind::WechatId, "abc", None),
    (Kind::WechatId, "9starts_with_digit", None),
    // social profiles: platform/handle or profile URLs.
    (Kind::SocialProfile, "https://www.facebook.com/Thai.Jobs.Abroad/", Some("facebook/thai.jobs.abroad")),
    (Kind::SocialProfile, "https://facebook.com/profile.php?id=100012345678901", Some("facebook/100012345678901")),
    (Kind::SocialProfile, "https://twitter.com/JobsAbroad?lang=en", Some("x/jobsabroad")),
    (Kind::SocialProfile, "https://www.tiktok.com/@easy.money.jobs", Some("tiktok/easy.money.jobs")),
    (Kind::SocialProfile, "Instagram/@Easy.Jobs", Some("instagram/easy.jobs")),
    (Kind::SocialProfile, "myspace/someone", None),
    (Kind::SocialProfile, "just-a-handle", None),
    // bank accounts.
    (Kind::BankAccount, "GB82 WEST 1234 5698 7654 32", Some("GB82WEST12345698765432")),
    (Kind::BankAccount, "gb82west12345698765432", Some("GB82WEST12345698765432")),
    (Kind::BankAccount, "GB82 WEST 1234 5698 7654 33", None),
    (Kind::BankAccount, "th:kbank:123-4-56789-0", Some("TH:KBANK:1234567890")),
    (Kind::BankAccount, "TH:KBANK", None),
    (Kind::BankAccount, "XX:BANK:12345678", None),
    // company names.
    (Kind::CompanyName, "  Golden   Bridge  Recruitment  Co., Ltd. ", Some("golden bridge recruitment co., ltd.")),
    (Kind::CompanyName, "ＧＯＬＤＥＮ Bridge", Some("golden bridge")),
    (Kind::CompanyName, "Golden\u{00A0}Bridge", Some("golden bridge")),
    // app ids.
    (
        Kind::AppId,
        "https://play.google.com/store/apps/details?id=com.example.invest&hl=en",
        Some("android:com.example.invest"),
    ),
    (Kind::AppId, "com.example.invest", Some("android:com.example.invest")),
    (Kind::AppId, "https://apps.apple.com/th/app/example-invest/id1234567890", Some("ios:1234567890")),
    (Kind::AppId, "id1234567890", Some("ios:1234567890")),
    (Kind::AppId, "android:1bad.package", None),
    // image hashes.
    (Kind::ImageHash, "D1C3B5A7E9F10203", Some("d1c3b5a7e9f10203")),
    (Kind::ImageHash, "d1c3b5a7e9f1020", None),
    // evm (EIP-55 test vectors from the EIP).
    (
        Kind::EvmAddress,
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        Some("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
    ),
    (
        Kind::EvmAddress,
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        Some("0xfb6916095ca1df60bb79ce92ce3ea74c37c5d359"),
    ),
    (
        Kind::EvmAddress,
        "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed",
        Some("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
    ),
    (Kind::EvmAddress, "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", None),
    (Kind::EvmAddress, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1bea", None),
    (Kind::EvmAddress, "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", None),
];

#[test]
fn every_case_in_the_table_normalises_as_specified() {
    let ctx = Context::default();
    let mut failures = Vec::new();
    for (kind, input, expected) in TABLE {
        let got = normalize(*kind, input, &ctx).map(|n| n.value);
        match (expected, &got) {
            (Some(want), Ok(have)) if want == have => {}
            (None, Err(e)) => assert!(e.to_string().contains(kind.as_str()), "error must name the kind: {e}"),
            _ => failures.push(format!("{kind} {input:?}: expected {expected:?}, got {got:?}")),
        }
    }
    assert!(TABLE.len() >= 60, "the table keeps at least 60 cases");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn normal_forms_are_fixed_points() {
    let ctx = Context::default();
    for (kind, _, expected) in TABLE {
        if let Some(v) = expected {
            assert_eq!(normalize(*kind, v, &ctx).unwrap().value, *v, "{kind} {v}");
            assert!(kawan_protocol::normalize::is_normal(*kind, v));
        }
    }
}

#[test]
fn national_format_phones_use_the_default_region() {
    let au = Context { default_region: Some("AU".parse::<Country>().unwrap()) };
    assert_eq!(normalize(Kind::Phone, "0491 570 156", &au).unwrap().value, "+61491570156");
    let gb = Context { default_region: Some("GB".parse::<Country>().unwrap()) };
    assert_eq!(normalize(Kind::Phone, "07700 900123", &gb).unwrap().value, "+447700900123");
    // An explicit country code wins over the default region.
    assert_eq!(normalize(Kind::Phone, "+61 491 570 156", &gb).unwrap().value, "+61491570156");
}

#[test]
fn reserved_demo_ranges_are_accepted_with_a_warning_not_rejected() {
    // Ofcom's drama range 07700 900xxx is not "in service" for libphonenumber:
    // it must still be accepted, with the warning attached.
    let n = normalize(Kind::Phone, "07700 900123", &Context { default_region: "GB".parse().ok() }).unwrap();
    assert_eq!(n.value, "+447700900123");
    assert_eq!(n.warnings, vec![Warning::PhoneRangeNotInService]);
    // An in-service range carries no warning.
    let n = normalize(Kind::Phone, "+61 491 570 156", &Context::default()).unwrap();
    assert!(n.warnings.is_empty(), "{:?}", n.warnings);
}

#[test]
fn crypto_addresses_verify_their_checksums() {
    let ctx = Context::default();
    let tron = generated_tron();
    assert_eq!(normalize(Kind::TronAddress, &tron, &ctx).unwrap().value, tron);
    let mut hex_form = String::from("41");
    hex_form.push_str(&"5a".repeat(20));
    assert_eq!(normalize(Kind::TronAddress, &hex_form, &ctx).unwrap().value, tron, "hex form converts");
    let err = normalize(Kind::TronAddress, &typo(&tron, 5), &ctx).unwrap_err();
    assert!(err.to_string().contains("tron_address") && err.to_string().contains("checksum"), "{err}");
    // A valid base58check payload with the wrong version byte (a BTC address).
    assert!(normalize(Kind::TronAddress, &generated_btc_base58(), &ctx).is_err());

    let b58 = generated_btc_base58();
    assert_eq!(normalize(Kind::BtcAddress, &b58, &ctx).unwrap().value, b58);
    assert!(normalize(Kind::BtcAddress, &typo(&b58, 22), &ctx).is_err());
    let bech = generated_btc_bech32();
    assert_eq!(normalize(Kind::BtcAddress, &bech.to_uppercase(), &ctx).unwrap().value, bech, "bech32 lower-cased");
    let mut broken = bech.clone();
    broken.replace_range(10..11, if &bech[10..11] == "q" { "p" } else { "q" });
    assert!(normalize(Kind::BtcAddress, &broken, &ctx).is_err(), "bech32 checksum");
    let testnet = bech32::segwit::encode(bech32::hrp::TB, bech32::segwit::VERSION_0, &[0x11; 20]).unwrap();
    assert!(normalize(Kind::BtcAddress, &testnet, &ctx).unwrap_err().to_string().contains("mainnet"));
}

#[test]
fn evm_addresses_without_checksum_carry_a_warning() {
    let n = normalize(Kind::EvmAddress, "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", &Context::default()).unwrap();
    assert_eq!(n.warnings, vec![Warning::EvmNoChecksum]);
}

#[test]
fn errors_name_the_kind_and_the_value() {
    let err = normalize(Kind::Phone, "+44 12", &Context::default()).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("phone") && msg.contains("+44 12"), "{msg}");
    let err = normalize(Kind::Domain, "", &Context::default()).unwrap_err();
    assert!(err.to_string().contains("empty"));
    let long = "a".repeat(5000);
    assert!(normalize(Kind::CompanyName, &long, &Context::default()).is_err());
}

#[test]
fn image_hashes_match_by_hamming_distance() {
    assert_eq!(hamming_distance("d1c3b5a7e9f10203", "d1c3b5a7e9f10203"), Some(0));
    assert_eq!(hamming_distance("d1c3b5a7e9f10203", "d1c3b5a7e9f10202"), Some(1));
    assert_eq!(hamming_distance("ff00ff00ff00ff00", "00ff00ff00ff00ff"), Some(64));
    assert_eq!(hamming_distance("d1c3b5a7e9f10203", &"0".repeat(64)), None, "different hash sizes");
}

mod no_panics {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_text_never_panics(kind_ix in 0usize..16, s in ".{0,80}") {
            let _ = normalize(Kind::ALL[kind_ix], &s, &Context { default_region: "TH".parse().ok() });
        }

        #[test]
        fn phone_like_text_never_panics_and_results_are_fixed_points(s in "[+0-9 ()\\-.]{0,30}") {
            if let Ok(n) = normalize(Kind::Phone, &s, &Context::default()) {
                prop_assert_eq!(normalize(Kind::Phone, &n.value, &Context::default()).unwrap().value, n.value);
            }
        }

        #[test]
        fn every_accepted_value_is_a_fixed_point(kind_ix in 0usize..16, s in "[a-zA-Z0-9@:/._+\\-]{1,40}") {
            let kind = Kind::ALL[kind_ix];
            if let Ok(n) = normalize(kind, &s, &Context::default()) {
                let again = normalize(kind, &n.value, &Context::default());
                prop_assert_eq!(again.map(|a| a.value), Ok(n.value));
            }
        }
    }
}

#[test]
fn unambiguous_kinds_are_guessed_and_the_rest_are_not() {
    use kawan_protocol::normalize::guess_kind;
    let cases = [
        ("hxxps://jobs[.]example/apply", Some(Kind::Url)),
        ("+44 7700 900123", Some(Kind::Phone)),
        ("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", Some(Kind::EvmAddress)),
        ("hr@jobs.example", Some(Kind::Email)),
        ("198.51.100.7", Some(Kind::Ip)),
        ("jobs-abroad.example", Some(Kind::Domain)),
        ("GB82 WEST 1234 5698 7654 32", Some(Kind::BankAccount)),
        ("Golden Bridge Recruitment", None),
        ("jobs_thailand_hr", None),
    ];
    for (raw, kind) in cases {
        assert_eq!(guess_kind(raw), kind, "{raw}");
    }
    assert_eq!(guess_kind(&generated_tron()), Some(Kind::TronAddress));
    assert_eq!(guess_kind(&generated_btc_bech32()), Some(Kind::BtcAddress));
}

#[test]
fn a_phone_whose_e164_form_reads_back_differently_is_refused() {
    // Found by the property test: "+430089" re-parses with its "0" taken as a
    // trunk prefix. Whatever is accepted must be a fixed point.
    for raw in ["+430089", "+43 0089", "+43 (0)089"] {
        if let Ok(n) = normalize(Kind::Phone, raw, &Context::default()) {
            assert_eq!(
                normalize(Kind::Phone, &n.value, &Context::default()).map(|n| n.value),
                Ok(n.value.clone()),
                "{raw}"
            );
        }
    }
}

/// Inputs the coverage-guided fuzzer (scripts/fuzz) found to break an
/// invariant, each kept as a regression test.
mod fuzz_findings {
    use super::*;

    /// A URL host with empty labels lost one trailing dot per pass, so its
    /// "normal form" changed when normalised again (and `is_normal` said no).
    #[test]
    fn url_hosts_with_empty_labels_are_refused_not_half_trimmed() {
        let ctx = Context::default();
        for raw in [
            "https://jobs..........",
            "https://jobs.example...........lq...../x",
            "https://jobs.........://jobs.3..............exampke/apply?io=7#top",
            "https://jobV.............#t....#top",
        ] {
            assert!(normalize(Kind::Url, raw, &ctx).is_err(), "{raw}");
        }
        let n = normalize(Kind::Url, "https://Jobs.Example./a", &ctx).unwrap();
        assert_eq!(n.value, "https://jobs.example/a", "one trailing dot is the root and goes");
        assert!(kawan_protocol::normalize::is_normal(Kind::Url, &n.value));
    }
}

/// Values as the region types and pastes them (issue #16): digits of any
/// script, the invisible marks copy-paste carries, and every public link
/// form a platform uses for a number or a handle (docs/protocol.md §2.4).
const PASTED: &[Case] = &[
    // Digits of the region's scripts.
    (Kind::Phone, "+๔๔ ๗๗๐๐ ๙๐๐๑๒๓", Some("+447700900123")), // Thai
    (Kind::Phone, "+໔໔ ໗໗໐໐ ໙໐໐໑໒໓", Some("+447700900123")), // Lao
    (Kind::Phone, "+៤៤ ៧៧០០ ៩០០១២៣", Some("+447700900123")), // Khmer
    (Kind::Phone, "+၄၄ ၇၇၀၀ ၉၀၀၁၂၃", Some("+447700900123")), // Myanmar
    (Kind::Phone, "＋４４ ７７００ ９００１２３", Some("+447700900123")), // full-width
    (Kind::Phone, "+٤٤ ٧٧٠٠ ٩٠٠١٢٣", Some("+447700900123")), // Arabic-Indic
    (Kind::Phone, "+۴۴ ۷۷۰۰ ۹۰۰۱۲۳", Some("+447700900123")), // Extended Arabic-Indic
    (Kind::Phone, "+४४ ७७०० ९००१२३", Some("+447700900123")), // Devanagari
    (Kind::Phone, "+๖๑ ๔๙๑ ๕๗๐ ๑๕๖", Some("+61491570156")),
    (Kind::Phone, "+44 7700 ๙๐๐ 123", Some("+447700900123")), // mixed
    // Invisible marks.
    (Kind::Phone, "\u{200B}+44 7700 900123\u{200B}", Some("+447700900123")),
    (Kind::Phone, "\u{FEFF}+447700900123", Some("+447700900123")),
    (Kind::Phone, "\u{202A}+44 7700 900123\u{202C}", Some("+447700900123")),
    (Kind::Phone, "\u{2066}+44\u{2069} 7700\u{200E} 900123\u{200F}", Some("+447700900123")),
    (Kind::Phone, "+44 77\u{00AD}00 900\u{2060}123", Some("+447700900123")),
    (Kind::TelegramHandle, "@recruiter\u{200B}_bot", Some("recruiter_bot")),
    (Kind::Domain, "jobs\u{200B}-abroad.example\u{FEFF}", Some("jobs-abroad.example")),
    (Kind::Email, "\u{200E}hr@jobs.example\u{200F}", Some("hr@jobs.example")),
    (Kind::Ip, "１９２.０.２.７", Some("192.0.2.7")),
    (Kind::Ip, "๑๙๒.๐.๒.๗", Some("192.0.2.7")),
    (Kind::BankAccount, "GB82 WEST ๑๒๓๔ ๕๖๙๘ ๗๖๕๔ ๓๒", Some("GB82WEST12345698765432")),
    (Kind::LineId, "recruiter.\u{200C}th", Some("recruiter.th")),
    // Call and click-to-chat links.
    (Kind::Phone, "tel:+447700900123", Some("+447700900123")),
    (Kind::Phone, "callto:+447700900123", Some("+447700900123")),
    (Kind::Phone, "sms:+447700900123", Some("+447700900123")),
    (Kind::Phone, "https://wa.me/447700900123?text=Hello%20job", Some("+447700900123")),
    (Kind::Phone, "wa.me/447700900123", Some("+447700900123")),
    (Kind::Phone, "https://api.whatsapp.com/send?phone=447700900123&text=Hi", Some("+447700900123")),
    (Kind::Phone, "https://api.whatsapp.com/send/?phone=447700900123&text&type=phone_number", Some("+447700900123")),
    (Kind::Phone, "whatsapp://send?phone=447700900123", Some("+447700900123")),
    (Kind::Phone, "https://web.whatsapp.com/send?phone=61491570156", Some("+61491570156")),
    (Kind::Phone, "viber://chat?number=%2B447700900123", Some("+447700900123")),
    (Kind::Phone, "viber://contact?number=447700900123", Some("+447700900123")),
    (Kind::Phone, "https://t.me/+447700900123", Some("+447700900123")),
    (Kind::Phone, "https://wa.me/๔๔๗๗๐๐๙๐๐๑๒๓", Some("+447700900123")),
    // Handle and profile links.
    (Kind::TelegramHandle, "https://t.me/recruiter_bot", Some("recruiter_bot")),
    (Kind::TelegramHandle, "https://t.me/s/jobs_abroad_th", Some("jobs_abroad_th")), // channel preview
    (Kind::TelegramHandle, "tg://resolve?domain=Recruiter_Bot&start=1", Some("recruiter_bot")),
    (Kind::TelegramHandle, "telegram.me/recruiter_bot", Some("recruiter_bot")),
    (Kind::LineId, "https://line.me/ti/p/~recruiter.th", Some("recruiter.th")), // add friend
    (Kind::LineId, "line://ti/p/~recruiter.th", Some("recruiter.th")),
    (Kind::LineId, "https://line.me/R/ti/p/@jobsabroad", Some("@jobsabroad")), // official account
    (Kind::LineId, "https://page.line.me/jobsabroad", Some("@jobsabroad")),
    (Kind::SocialProfile, "https://m.me/jobs.abroad.th", Some("facebook/jobs.abroad.th")), // Messenger
    (Kind::SocialProfile, "https://fb.me/jobs.abroad.th", Some("facebook/jobs.abroad.th")),
    (Kind::SocialProfile, "https://web.facebook.com/jobs.abroad.th/?_rdc=1", Some("facebook/jobs.abroad.th")),
    (Kind::SocialProfile, "https://www.facebook.com/profile.php?id=100012345678", Some("facebook/100012345678")),
    (Kind::SocialProfile, "https://www.facebook.com/people/Jobs-Abroad/100012345678/", Some("facebook/100012345678")),
    (Kind::SocialProfile, "https://instagr.am/jobs.abroad", Some("instagram/jobs.abroad")),
    (Kind::SocialProfile, "https://www.tiktok.com/@jobs.abroad?lang=th", Some("tiktok/jobs.abroad")),
    (Kind::SocialProfile, "https://x.com/jobs_abroad/status/1", Some("x/jobs_abroad")),
    (Kind::SocialProfile, "https://zalo.me/84912345678", Some("zalo/84912345678")),
];

#[test]
fn values_pasted_in_the_regions_scripts_and_link_forms_normalise() {
    let ctx = Context::default();
    let mut failures = Vec::new();
    for (kind, input, expected) in PASTED {
        let got = normalize(*kind, input, &ctx).map(|n| n.value);
        if got.as_ref().ok() != expected.map(str::to_string).as_ref() {
            failures.push(format!("{kind} {input:?}: expected {expected:?}, got {got:?}"));
        }
    }
    assert!(PASTED.len() >= 40, "the table keeps at least 40 cases");
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn pasted_values_are_guessed_as_what_they_are() {
    for (raw, kind) in [
        ("+๔๔ ๗๗๐๐ ๙๐๐๑๒๓", Kind::Phone),
        ("\u{200B}+447700900123", Kind::Phone),
        ("https://wa.me/447700900123", Kind::Phone),
        ("whatsapp://send?phone=447700900123", Kind::Phone),
        ("๑๙๒.๐.๒.๗", Kind::Ip),
        ("https://jobs.example/apply", Kind::Url),
    ] {
        assert_eq!(kawan_protocol::normalize::guess_kind(raw), Some(kind), "{raw:?}");
    }
}
