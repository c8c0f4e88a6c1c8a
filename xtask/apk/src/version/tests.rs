use super::*;

/// Pairs `(smaller, larger)` under apk-tools 2.14 ordering.
const ORDERED: &[(&str, &str)] = &[
    // Numeric components.
    ("0", "1"),
    ("1", "2"),
    ("9", "10"),
    ("99", "100"),
    ("1.0", "1.1"),
    ("1.1", "1.2"),
    ("1.9", "1.10"),
    ("1.10", "1.11"),
    ("1.2", "1.10"),
    ("1.0", "1.0.1"),
    ("1.0.1", "1.0.2"),
    ("1.0.9", "1.0.10"),
    ("1.0.1", "1.1"),
    ("1.1", "1.1.0"),
    ("1", "1.0"),
    ("2.0", "10.0"),
    ("1.2.3", "1.2.3.4"),
    ("1.2.3.4", "1.2.4"),
    ("1.99.99", "2"),
    ("20230201", "20230202"),
    ("20221231", "20230101"),
    ("0.0.1", "0.1"),
    ("3.9.9", "3.10"),
    ("18446744073709551615", "18446744073709551616"),
    ("1.18446744073709551616", "1.18446744073709551617"),
    // Leading zeros in `.` components compare as strings.
    ("1.01", "1.1"),
    ("1.001", "1.01"),
    ("1.01", "1.010"),
    ("1.05", "1.5"),
    ("1.0", "1.00"),
    ("1.00", "1.001"),
    ("1.09", "1.1"),
    ("2023.01.05", "2023.1.4"),
    // Letters.
    ("1.0", "1.0a"),
    ("1.0a", "1.0b"),
    ("1.0b", "1.0z"),
    ("1.0z", "1.1"),
    ("1a", "1b"),
    ("1.0a", "1.0.1"),
    ("1.2a", "1.2.0"),
    ("1.0a", "1.0a-r1"),
    ("1.0a_p1", "1.0b"),
    ("1.0a_rc1", "1.0a"),
    ("0.99f", "0.99f7"),
    ("0.99f7", "0.99f8"),
    ("0.99f7-r1", "0.99g"),
    ("0.99f7", "0.99.1"),
    // Pre-release suffixes sort below the release.
    ("1.0_alpha", "1.0"),
    ("1.0_beta", "1.0"),
    ("1.0_pre", "1.0"),
    ("1.0_rc", "1.0"),
    ("1.0_rc1", "1.0"),
    ("1.0_rc99", "1.0"),
    ("1.0_alpha", "1.0_beta"),
    ("1.0_beta", "1.0_pre"),
    ("1.0_pre", "1.0_rc"),
    ("1.0_alpha9", "1.0_beta1"),
    ("1.0_beta9", "1.0_pre1"),
    ("1.0_pre9", "1.0_rc1"),
    ("1.0_alpha", "1.0_alpha1"),
    ("1.0_alpha1", "1.0_alpha2"),
    ("1.0_alpha2", "1.0_alpha10"),
    ("1.0_rc1", "1.0_rc2"),
    ("1.0_rc2", "1.0_rc10"),
    ("1.0_rc1", "1.0-r0"),
    ("1.0_rc1-r5", "1.0-r0"),
    ("1.0_rc1", "1.0_rc1-r1"),
    ("0.9", "1.0_alpha"),
    ("0.9.9", "1.0_rc1"),
    ("1.0_alpha_beta", "1.0_alpha"),
    ("1.0_alpha", "1.0_alpha_p"),
    ("1.0_alpha_p1", "1.0_beta"),
    ("1.0_rc1", "1.0_rc1_p1"),
    // Post-release suffixes sort above the release.
    ("1.0", "1.0_cvs"),
    ("1.0", "1.0_svn"),
    ("1.0", "1.0_git"),
    ("1.0", "1.0_hg"),
    ("1.0", "1.0_p"),
    ("1.0", "1.0_p1"),
    ("1.0_cvs", "1.0_svn"),
    ("1.0_svn", "1.0_git"),
    ("1.0_git", "1.0_hg"),
    ("1.0_hg", "1.0_p"),
    ("1.0_p", "1.0_p1"),
    ("1.0_p1", "1.0_p2"),
    ("1.0_p2", "1.0_p10"),
    ("1.0_git20230101", "1.0_git20230102"),
    ("1.0_p1", "1.0a"),
    ("1.0_p1", "1.0.1"),
    ("1.0_p99", "1.0.0"),
    ("1.0_p1", "1.0_p1-r1"),
    ("1.0_p1-r9", "1.0_p2"),
    ("1.0_git1", "1.0_p0"),
    ("1.0_p1", "1.0_p1_p1"),
    ("1.0_p1_rc1", "1.0_p1"),
    // Revisions.
    ("1.0", "1.0-r0"),
    ("1.0-r0", "1.0-r1"),
    ("1.0-r1", "1.0-r2"),
    ("1.0-r9", "1.0-r10"),
    ("1.0-r99", "1.0.1"),
    ("1.0-r99", "1.0a"),
    ("1.0-r99", "1.0_p1"),
    ("1.0-r99", "1.1-r0"),
    ("1.0.1-r5", "1.0.2-r0"),
    ("2.41-r54", "2.41-r55"),
    ("3.4.0-r0", "3.4.0-r1"),
    ("1.36.1-r29", "1.37.0-r0"),
    ("20230201-r23", "20230201-r24"),
    // Chain from the apk documentation examples.
    ("1.0_rc1", "1.0"),
    ("1.0", "1.0_p1"),
    ("1.0_p1", "1.0a"),
    ("1.0a", "1.0.1"),
    // Real package versions.
    ("3.0.7-r0", "3.0.8-r0"),
    ("1.1.1s-r0", "1.1.1t-r0"),
    ("1.1.1t-r0", "3.0.0-r0"),
    ("7.87.0-r1", "7.88.1-r0"),
    ("2.38.4-r1", "2.39.2-r0"),
    ("3.10.9-r1", "3.11.1-r0"),
    ("1.22.1-r0", "1.23.3-r0"),
    ("0.3.0-r0", "0.3.0_git20200107-r0"),
];

#[test]
fn ordered_pairs_compare_both_ways() {
    assert!(ORDERED.len() >= 100, "table has {} pairs", ORDERED.len());
    for (smaller, larger) in ORDERED {
        let a = Version::parse(smaller).expect("valid version in table");
        let b = Version::parse(larger).expect("valid version in table");
        assert_eq!(a.cmp(&b), Ordering::Less, "{smaller} < {larger}");
        assert_eq!(b.cmp(&a), Ordering::Greater, "{larger} > {smaller}");
        assert_ne!(a, b, "{smaller} != {larger}");
    }
}

#[test]
fn equal_spellings_compare_equal() {
    let equal = [
        ("1.0", "1.0"),
        ("01", "1"),
        ("1.0_p01", "1.0_p1"),
        ("1.0-r01", "1.0-r1"),
        ("1.0_rc001", "1.0_rc1"),
        ("007.1", "7.1"),
    ];
    for (a, b) in equal {
        let va = Version::parse(a).expect("valid version");
        let vb = Version::parse(b).expect("valid version");
        assert_eq!(va.cmp(&vb), Ordering::Equal, "{a} == {b}");
        let hash = |v: &Version| {
            let mut hasher = std::hash::DefaultHasher::new();
            v.hash(&mut hasher);
            hasher.finish()
        };
        assert_eq!(hash(&va), hash(&vb), "hash of {a} and {b}");
    }
}

#[test]
fn sort_is_total_over_table() {
    let mut versions: Vec<Version> = ORDERED
        .iter()
        .flat_map(|(a, b)| [a, b])
        .map(|v| Version::parse(v).expect("valid version in table"))
        .collect();
    versions.sort();
    for pair in versions.windows(2) {
        if let [a, b] = pair {
            assert!(a <= b, "{a} <= {b} after sort");
        }
    }
}

#[test]
fn invalid_versions_are_errors() {
    let invalid = [
        "",
        "a",
        ".1",
        "1.",
        "1..2",
        "1.0ab",
        "1.0A",
        "1.0_",
        "1.0_foo",
        "1.0_rc_",
        "1.0-",
        "1.0-r",
        "1.0-1",
        "1.0-r1-r2",
        "1.0-r1a",
        "1.0-r1_p1",
        "1.0-r1.2",
        "1.0 ",
        " 1.0",
        "1.0~abc",
        "1.0+git",
        "v1.0",
        "1.0_p1a",
        "1.0a.1b",
        "1.0a.1",
        "1.0_p1.1",
        "1,0",
        "1.0\n",
        "1.0é",
    ];
    for text in invalid {
        assert!(Version::parse(text).is_err(), "`{text}` must be rejected");
    }
}

#[test]
fn error_names_version_and_offset() {
    let error = Version::parse("1.0_foo").expect_err("unknown suffix");
    let message = error.to_string();
    assert!(message.contains("`1.0_foo`"), "{message}");
    assert!(message.contains("byte 3"), "{message}");
}

#[test]
fn prefix_match_is_token_based() {
    let cases = [
        ("1.2.3", "1.2", true),
        ("1.2", "1.2", true),
        ("1.2.3-r1", "1.2.3", true),
        ("1.2_rc1", "1.2", true),
        ("1.20", "1.2", false),
        ("1.2", "1.2.3", false),
        ("1.3", "1.2", false),
    ];
    for (version, prefix, expected) in cases {
        let v = Version::parse(version).expect("valid version");
        let p = Version::parse(prefix).expect("valid version");
        assert_eq!(v.has_prefix(&p), expected, "{version} ~ {prefix}");
    }
}

#[test]
fn display_keeps_spelling() {
    let version = Version::parse("01.0_p01-r02").expect("valid version");
    assert_eq!(version.to_string(), "01.0_p01-r02");
}
