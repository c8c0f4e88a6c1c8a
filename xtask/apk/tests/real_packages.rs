//! Reading, verifying and extracting real packages built by melange and abuild.

mod common;

use std::io::Read as _;
use std::path::Path;

use apk::{EntryKind, EntryOptions, Keyring, Package, Verification, read_index_file};

fn keyring_with(path: &Path) -> Keyring {
    let mut keyring = Keyring::new();
    keyring.load(path).expect("load keys");
    keyring
}

/// Reads every package of a repository folder, checks it against the index entry and
/// reads every data entry.
fn check_repository(dir: &Path, keyring: &Keyring) -> usize {
    let index_path = dir.join("APKINDEX.tar.gz");
    let index = read_index_file(&index_path, Verification::Keyring(keyring)).expect("index");
    for info in &index.index.packages {
        let path = dir.join(info.file_name());
        let package = Package::open(&path).unwrap_or_else(|e| panic!("{e}"));
        package
            .verify_signature(keyring)
            .unwrap_or_else(|e| panic!("{e}"));
        let checksum = info.checksum.expect("index has C:");
        package
            .verify_index_checksum(&checksum)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(package.pkginfo().info.name, info.name);
        assert_eq!(package.pkginfo().info.version, info.version);
        let mut files = 0;
        package
            .for_each_entry(EntryOptions::default(), |entry| {
                if entry.kind == EntryKind::File {
                    let mut content = Vec::new();
                    entry.read_to_end(&mut content)?;
                    assert_eq!(content.len() as u64, entry.size);
                    assert!(entry.checksum.is_some(), "{} has a checksum", entry.path);
                    files += 1;
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(files > 0, "{} has files", path.display());
        let root = tempfile::tempdir().expect("temp dir");
        let extracted = package
            .extract_to(root.path(), EntryOptions::default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(
            extracted
                .iter()
                .all(|p| root.path().join(p).symlink_metadata().is_ok())
        );
    }
    index.index.packages.len()
}

#[test]
fn melange_repository_packages_verify() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let keyring = keyring_with(&fixtures.join("melange-repo/melange.rsa.pub"));
    for arch in ["x86_64", "aarch64"] {
        let count = check_repository(&fixtures.join("melange-repo").join(arch), &keyring);
        assert_eq!(count, 4);
    }
}

#[test]
fn private_repository_packages_verify() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let keyring = keyring_with(&fixtures.join("private-repo/private_pkg_key.rsa.pub"));
    for arch in ["x86_64", "aarch64"] {
        let dir = fixtures.join("private-repo/packages").join(arch);
        assert_eq!(check_repository(&dir, &keyring), 2);
    }
}

#[test]
fn alpine_package_verifies_and_extracts() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let keyring = keyring_with(&fixtures.join("alpine/keys"));
    let path = fixtures.join("alpine/v3.17/main/aarch64/alpine-baselayout-3.4.0-r0.apk");
    let package = Package::open(&path).unwrap_or_else(|e| panic!("{e}"));
    package
        .verify_signature(&keyring)
        .unwrap_or_else(|e| panic!("{e}"));
    let scripts: Vec<&str> = package
        .control_files()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        scripts,
        [
            ".pre-install",
            ".pre-upgrade",
            ".post-upgrade",
            ".post-install"
        ]
    );
    let mut symlinks = Vec::new();
    package
        .for_each_entry(EntryOptions::default(), |entry| {
            if entry.kind == EntryKind::Symlink {
                symlinks.push((entry.path.clone(), entry.link_target.clone()));
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(symlinks.contains(&("var/run".to_owned(), Some("/run".to_owned()))));
}

#[test]
fn replaces_package_reads_replaces() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let package = Package::open(&fixtures.join("replaces-0.0.1-r0.apk")).expect("read");
    assert!(!package.pkginfo().info.replaces.is_empty());
}

/// Flips one byte in the middle of each gzip stream of `bytes` and returns the copies.
fn tampered_copies(bytes: &[u8]) -> Vec<Vec<u8>> {
    let members = apk::gzip::decode_all(bytes, &[1 << 30; 3]).expect("valid streams");
    members
        .iter()
        .map(|member| {
            let mut copy = bytes.to_vec();
            let offset = member.range.start + member.range.len() / 2;
            if let Some(byte) = copy.get_mut(offset) {
                *byte ^= 0x01;
            }
            copy
        })
        .collect()
}

#[test]
fn tampered_real_package_rejected() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let keyring = keyring_with(&fixtures.join("melange-repo/melange.rsa.pub"));
    let bytes = fs_err::read(fixtures.join("melange-repo/x86_64/replayout-1.0.0-r0.apk"))
        .expect("read package");
    let copies = tampered_copies(&bytes);
    assert_eq!(copies.len(), 3);
    for (stream, copy) in copies.into_iter().enumerate() {
        let result = Package::from_bytes("replayout-1.0.0-r0.apk", copy).and_then(|package| {
            package.verify_signature(&keyring)?;
            package.for_each_entry(EntryOptions::default(), |_| Ok(()))
        });
        let message = result.expect_err("tampering detected").to_string();
        assert!(message.contains("replayout-1.0.0-r0.apk"), "{message}");
        assert!(
            message.contains("check failed"),
            "stream {stream}: {message}"
        );
    }
}

#[test]
fn tampered_real_index_rejected() {
    let Some(fixtures) = common::apk_fixtures() else {
        return;
    };
    let keyring = keyring_with(&fixtures.join("alpine/keys"));
    let path = fixtures.join("alpine/v3.17/main/aarch64/APKINDEX.tar.gz");
    let bytes = fs_err::read(&path).expect("read index");
    for (stream, copy) in tampered_copies(&bytes).into_iter().enumerate() {
        let error = apk::read_index(
            "v3.17/APKINDEX.tar.gz",
            &copy,
            Verification::Keyring(&keyring),
        )
        .expect_err("tampering detected");
        let message = error.to_string();
        assert!(message.contains("v3.17/APKINDEX.tar.gz"), "{message}");
        assert!(
            message.contains("check failed"),
            "stream {stream}: {message}"
        );
    }
}
