use super::*;

fn version(text: &str) -> Version {
    Version::parse(text).expect("valid version")
}

#[test]
fn parse_forms_round_trip() {
    let forms = [
        "busybox",
        "busybox=1.36.0-r0",
        "busybox<2",
        "busybox<=2",
        "busybox>1",
        "busybox>=1.0_rc1",
        "busybox~1.36",
        "busybox@edge",
        "busybox@edge>=1.2",
        "!busybox",
        "!busybox<1.0",
        "so:libc.musl-aarch64.so.1",
        "cmd:sh",
        "pc:zlib>=1.2",
        "/bin/sh",
        "py3.10:requests",
        "busybox><Q1abcdefghijklmnopqrstuvwxyzA=",
        "[]",
    ];
    for form in forms {
        let dependency = Dependency::parse(form).expect("valid dependency");
        assert_eq!(dependency.to_string(), form, "round trip of {form}");
    }
}

#[test]
fn parse_fields() {
    let dependency = Dependency::parse("!musl@main>=1.2.3-r4").expect("valid dependency");
    assert!(dependency.conflict);
    assert_eq!(dependency.name, "musl");
    assert_eq!(dependency.tag.as_deref(), Some("main"));
    assert_eq!(
        dependency.constraint,
        Constraint::Version {
            op: VersionOp::GreaterEqual,
            version: version("1.2.3-r4")
        }
    );
}

#[test]
fn prefix_operator_spellings() {
    for form in ["a~1.2", "a~=1.2", "a=~1.2"] {
        let dependency = Dependency::parse(form).expect("valid dependency");
        assert_eq!(dependency.to_string(), "a~1.2", "{form}");
    }
}

#[test]
fn invalid_dependencies_are_errors() {
    let invalid = [
        "", "!", ">=1.0", "a>=", "a=>1", "a<>1", "a==1", "a>=x", "a@", "@tag", "a@b@c", "a=1.0 ",
    ];
    for text in invalid {
        assert!(
            Dependency::parse(text).is_err(),
            "`{text}` must be rejected"
        );
    }
}

#[test]
fn version_operators_match() {
    let cases = [
        ("a=1.0", "1.0", true),
        ("a=1.0", "1.0-r0", false),
        ("a<1.0", "1.0_rc1", true),
        ("a<1.0", "1.0", false),
        ("a<=1.0", "1.0", true),
        ("a>1.0", "1.0_p1", true),
        ("a>1.0", "1.0", false),
        ("a>=1.0", "1.0", true),
        ("a>=1.0", "0.9", false),
        ("a~1.2", "1.2.9-r3", true),
        ("a~1.2", "1.3", false),
        ("a", "0", true),
    ];
    for (text, candidate, expected) in cases {
        let dependency = Dependency::parse(text).expect("valid dependency");
        assert_eq!(
            dependency.matches_version(&version(candidate)),
            expected,
            "{text} against {candidate}"
        );
    }
}

#[test]
fn unversioned_provide_meets_only_any() {
    let any = Dependency::parse("cmd:sh").expect("valid dependency");
    let versioned = Dependency::parse("cmd:sh>=1").expect("valid dependency");
    assert!(any.matches(None, None));
    assert!(!versioned.matches(None, None));
}

#[test]
fn checksum_constraint_matches_checksum() {
    let dependency = Dependency::parse("a><Q1abc=").expect("valid dependency");
    assert!(dependency.matches(Some(&version("1")), Some("Q1abc=")));
    assert!(!dependency.matches(Some(&version("1")), Some("Q1xyz=")));
}

#[test]
fn provide_forms() {
    let versioned = Provide::parse("so:libc.so.6=6").expect("valid provide");
    assert_eq!(versioned.name, "so:libc.so.6");
    assert_eq!(versioned.version, Some(version("6")));
    let plain = Provide::parse("/bin/sh").expect("valid provide");
    assert_eq!(plain.version, None);
    assert!(Provide::parse("a>=1").is_err());
    assert!(Provide::parse("!a").is_err());
    assert!(Provide::parse("a=").is_err());
    let odd = Provide::parse("pc:librtmp=v2.4").expect("kept as written");
    assert_eq!(odd.version, None);
    assert_eq!(odd.invalid_version.as_deref(), Some("v2.4"));
    assert_eq!(odd.to_string(), "pc:librtmp=v2.4");
    assert_eq!(versioned.to_string(), "so:libc.so.6=6");
}

#[test]
fn name_kinds() {
    assert_eq!(name_kind("busybox"), NameKind::Package);
    assert_eq!(name_kind("so:libz.so.1"), NameKind::SharedObject);
    assert_eq!(name_kind("cmd:sh"), NameKind::Command);
    assert_eq!(name_kind("pc:zlib"), NameKind::PkgConfig);
    assert_eq!(name_kind("/bin/sh"), NameKind::Path);
    assert_eq!(name_kind("so-ver:libz.so.1"), NameKind::OtherVirtual);
}

#[test]
fn list_parses_and_joins() {
    let list = Dependency::parse_list("  a b>=1\tso:c.so.1 ").expect("valid list");
    assert_eq!(list.len(), 3);
    assert_eq!(join(&list), "a b>=1 so:c.so.1");
}
