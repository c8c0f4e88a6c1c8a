//! Reading and verifying real indexes: Alpine (RSA/SHA-1) and melange (RSA/SHA-256).

mod common;

use apk::{Keyring, Verification, read_index_file};

#[test]
fn alpine_index_verifies_with_alpine_key() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let mut keyring = Keyring::new();
    keyring
        .load_dir(&fixtures.join("alpine/keys"))
        .expect("load Alpine keys");
    let path = fixtures.join("alpine/v3.17/main/aarch64/APKINDEX.tar.gz");
    let file = read_index_file(&path, Verification::Keyring(&keyring)).expect("verify index");
    assert_eq!(file.index.packages.len(), 5004);
    assert_eq!(
        file.verified_by.as_deref(),
        Some("alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub")
    );
    let text = file.index.to_text();
    let reparsed = apk::Index::parse_text(&text).expect("reparse written text");
    assert_eq!(reparsed, file.index.packages);
}

#[test]
fn alpine_316_index_verifies() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let mut keyring = Keyring::new();
    keyring
        .load_dir(&fixtures.join("alpine/keys"))
        .expect("load Alpine keys");
    let path = fixtures.join("alpine/v3.16/main/x86_64/APKINDEX.tar.gz");
    let file = read_index_file(&path, Verification::Keyring(&keyring)).expect("verify index");
    assert_eq!(file.index.packages.len(), 4929);
}

#[test]
fn alpine_index_rejected_by_other_key() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let mut keyring = Keyring::new();
    keyring
        .load_file(&fixtures.join("melange-repo/melange.rsa.pub"))
        .expect("load melange key");
    let path = fixtures.join("alpine/v3.17/main/aarch64/APKINDEX.tar.gz");
    let error = read_index_file(&path, Verification::Keyring(&keyring)).expect_err("untrusted");
    let message = error.to_string();
    assert!(message.contains("APKINDEX.tar.gz"), "{message}");
    assert!(message.contains("untrusted key"), "{message}");
}

#[test]
fn melange_and_private_indexes_verify() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let repos = [
        ("melange-repo", "melange-repo/melange.rsa.pub", 4),
        (
            "private-repo/packages",
            "private-repo/private_pkg_key.rsa.pub",
            2,
        ),
    ];
    for (repo, key, count) in repos {
        let mut keyring = Keyring::new();
        keyring.load_file(&fixtures.join(key)).expect("load key");
        for arch in ["x86_64", "aarch64"] {
            let path = fixtures.join(repo).join(arch).join("APKINDEX.tar.gz");
            let file = read_index_file(&path, Verification::Keyring(&keyring))
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(file.index.packages.len(), count, "{}", path.display());
        }
    }
}
