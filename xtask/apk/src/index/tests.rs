use super::*;
use crate::package_info::PackageInfo;
use crate::signature::SignatureAlgorithm;
use crate::test_support;
use crate::version::Version;

const SAMPLE: &str = "\
C:Q1tduNGDYV/KwvztK0sMium7UfSj0=
P:nasm-doc
V:2.15.05-r1
A:aarch64
S:8948
I:32768
T:80x86 assembler (documentation)
U:https://www.nasm.us
L:BSD-2-Clause
o:nasm
m:Natanael Copa <ncopa@alpinelinux.org>
t:1666619671
c:c57128b0e49d551220aff88af0f1487d80cdccf8
k:10
D:nasm !nasm-old so:libc.musl-aarch64.so.1 /bin/sh
p:cmd:nasm=2.15.05-r1 so:libnasm.so.1=1 nasm-any
i:docs nasm=2.15.05-r1
r:nasm-old
q:5
Z:future field
Z:repeated

C:Q1p+yzm3aTQjUnlVQmw2xD/d+LGz0=
P:tiny
V:1.0
A:noarch
S:1
I:2
T:
U:
L:
";

fn sample_index() -> Index {
    Index {
        description: "v3.17.3-test".to_owned(),
        packages: Index::parse_text(SAMPLE).expect("valid sample"),
    }
}

#[test]
fn text_parses_every_field() {
    let packages = Index::parse_text(SAMPLE).expect("valid sample");
    assert_eq!(packages.len(), 2);
    let nasm = &packages[0];
    assert_eq!(nasm.name, "nasm-doc");
    assert_eq!(nasm.version, Version::parse("2.15.05-r1").expect("valid"));
    assert_eq!(nasm.arch, "aarch64");
    assert_eq!(nasm.size, 8948);
    assert_eq!(nasm.installed_size, 32768);
    assert_eq!(nasm.url, "https://www.nasm.us");
    assert_eq!(nasm.license, "BSD-2-Clause");
    assert_eq!(nasm.origin.as_deref(), Some("nasm"));
    assert_eq!(nasm.build_time, Some(1666619671));
    assert_eq!(nasm.provider_priority, Some(10));
    assert_eq!(nasm.depends.len(), 4);
    assert!(nasm.depends[1].conflict);
    assert_eq!(nasm.provides.len(), 3);
    assert_eq!(nasm.install_if.len(), 2);
    assert_eq!(nasm.replaces.len(), 1);
    assert_eq!(nasm.replaces_priority, Some(5));
    assert_eq!(
        nasm.unknown,
        vec![
            ('Z', "future field".to_owned()),
            ('Z', "repeated".to_owned())
        ]
    );
    assert_eq!(packages[1].description, "");
}

#[test]
fn text_round_trips_exactly() {
    let index = sample_index();
    let text = index.to_text();
    assert_eq!(text, format!("{SAMPLE}\n"));
}

#[test]
fn text_errors_name_the_line() {
    let cases = [
        ("P:a\nV:1\nS:x\n", "line 3"),
        ("P:a\nV:1.0_bad\n", "line 2"),
        ("P:a\nV:1\nP:b\n", "line 3"),
        ("P:a\n\nP:b\nV:1\n", "line 1"),
        ("P:a\nV:1\nnot a field\n", "line 3"),
        ("P:a\nV:1\nD:a>=\n", "line 3"),
    ];
    for (text, expected) in cases {
        let error = Index::parse_text(text).expect_err("invalid text");
        assert!(error.to_string().contains(expected), "{text:?}: {error}");
    }
}

#[test]
fn unsigned_index_round_trips() {
    let index = sample_index();
    let bytes = write_index(&index, None, 0).expect("write index");
    let read = read_index("test", &bytes, Verification::TrustedUnsigned).expect("read");
    assert_eq!(read.index, index);
    assert!(read.signatures.is_empty());
}

#[test]
fn unsigned_index_rejected_with_keyring() {
    let bytes = write_index(&sample_index(), None, 0).expect("write index");
    let keyring = test_support::keyring();
    let error = read_index(
        "repo/x86_64/APKINDEX.tar.gz",
        &bytes,
        Verification::Keyring(&keyring),
    )
    .expect_err("unsigned");
    let message = error.to_string();
    assert!(message.contains("repo/x86_64/APKINDEX.tar.gz"), "{message}");
    assert!(message.contains("no signature"), "{message}");
}

#[test]
fn signed_index_round_trips_both_algorithms() {
    let key = test_support::private_key();
    let keyring = test_support::keyring();
    for algorithm in [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256] {
        let index = sample_index();
        let bytes = write_index(&index, Some((&key, algorithm)), 1_700_000_000).expect("write");
        let read = read_index("test", &bytes, Verification::Keyring(&keyring)).expect("verify");
        assert_eq!(read.index, index);
        assert_eq!(read.verified_by.as_deref(), Some("test.rsa.pub"));
        assert_eq!(read.signatures[0].algorithm, algorithm);
    }
}

#[test]
fn index_writer_is_deterministic() {
    let key = test_support::private_key();
    let signer = Some((&key, SignatureAlgorithm::RsaSha256));
    let first = write_index(&sample_index(), signer, 5).expect("write");
    let second = write_index(&sample_index(), signer, 5).expect("write");
    assert_eq!(first, second);
}

#[test]
fn tampered_index_rejected() {
    let key = test_support::private_key();
    let keyring = test_support::keyring();
    let bytes = write_index(
        &sample_index(),
        Some((&key, SignatureAlgorithm::RsaSha256)),
        0,
    )
    .expect("write");
    let first_len = crate::gzip::decode_member(&bytes, 0, 0, 1 << 20)
        .expect("signature member")
        .range
        .end;
    // One byte inside the deflate data of each stream.
    for offset in [first_len / 2, first_len + (bytes.len() - first_len) / 2] {
        let mut tampered = bytes.clone();
        tampered[offset] ^= 0x01;
        let error = read_index(
            "tampered.tar.gz",
            &tampered,
            Verification::Keyring(&keyring),
        )
        .expect_err("tampered index");
        let message = error.to_string();
        assert!(message.contains("tampered.tar.gz"), "{message}");
        assert!(
            message.contains("check failed") || message.contains("invalid"),
            "offset {offset}: {message}"
        );
    }
}

#[test]
fn wrong_key_rejected() {
    let key = test_support::private_key();
    let bytes = write_index(
        &sample_index(),
        Some((&key, SignatureAlgorithm::RsaSha1)),
        0,
    )
    .expect("write");
    let mut impostor = crate::key::Keyring::new();
    impostor.add(test_support::impostor_key());
    let error =
        read_index("test", &bytes, Verification::Keyring(&impostor)).expect_err("wrong key");
    assert!(error.to_string().contains("does not match"), "{error}");
    let empty = crate::key::Keyring::new();
    let error = read_index("test", &bytes, Verification::Keyring(&empty)).expect_err("no key");
    assert!(
        error.to_string().contains("untrusted key (test.rsa.pub)"),
        "{error}"
    );
}

#[test]
fn sort_orders_by_name_then_version() {
    let mut index = Index::default();
    for (name, version) in [("b", "1.0"), ("a", "2.0"), ("a", "1.10"), ("a", "1.9")] {
        let version = Version::parse(version).expect("valid");
        index
            .packages
            .push(PackageInfo::new(name, version, "x86_64"));
    }
    index.sort();
    let order: Vec<String> = index
        .packages
        .iter()
        .map(PackageInfo::name_version)
        .collect();
    assert_eq!(order, ["a-1.9", "a-1.10", "a-2.0", "b-1.0"]);
}
