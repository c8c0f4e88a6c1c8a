//! `cargo xtask resolve` and `cargo xtask keygen` on generated, signed repositories.

mod common;

use common::{KEY_NAME, config, stderr, write, write_repository, xtask_in};

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn resolve_packages_in_install_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_repository(dir.path(), &[("app", "1.2.3-r0")]);
    let keyring = format!("keys/{KEY_NAME}");
    let args = [
        "resolve",
        "--repository",
        "./repo",
        "--keyring",
        &keyring,
        "--arch",
        "arm64",
        "-p",
        "app",
    ];
    let output = xtask_in(dir.path(), &args, &[], "");
    let text = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    let names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split(' ').next())
        .collect();
    let app = names
        .iter()
        .position(|name| *name == "app")
        .expect("app resolved");
    let base = names
        .iter()
        .position(|name| *name == "base")
        .expect("base resolved");
    assert!(base < app, "dependencies come first:\n{text}");
    assert!(text.contains("app 1.2.3-r0 "), "{text}");
    assert!(text.contains("/repo/aarch64/app-1.2.3-r0.apk"), "{text}");
}

#[test]
fn resolve_json_is_a_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_repository(dir.path(), &[("app", "1.2.3-r0")]);
    let keyring = format!("keys/{KEY_NAME}");
    let args = [
        "resolve",
        "--repository",
        "./repo",
        "--keyring",
        &keyring,
        "--json",
        "-p",
        "app=1.2.3-r0",
    ];
    let output = xtask_in(dir.path(), &args, &[], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let lock: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let app = lock
        .as_array()
        .expect("a list")
        .iter()
        .find(|entry| entry["name"] == "app")
        .expect("app in the lock");
    assert_eq!(app["version"], "1.2.3-r0");
    assert_eq!(app["arch"], "x86_64");
    assert!(
        app["checksum"]
            .as_str()
            .is_some_and(|c| c.starts_with("Q1")),
        "{app}"
    );
    assert!(
        app["url"]
            .as_str()
            .is_some_and(|u| u.ends_with("/repo/x86_64/app-1.2.3-r0.apk")),
        "{app}"
    );
}

#[test]
fn resolve_catalog_image_uses_its_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write_repository(root, &[("app", "2.0.0-r1")]);
    write(
        root,
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64]\n",
    );
    write(
        root,
        "images/app/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
    );
    write(
        root,
        "images/app/configs/latest.apko.yaml",
        &config(&["app"], ""),
    );
    write(root, "images/app/tests/run.sh", "#!/bin/sh\n");
    let output = xtask_in(root, &["resolve", "app"], &[], "");
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("app 2.0.0-r1 "),
        "{}",
        stdout(&output)
    );
}

/// An unsatisfiable world names the constraint and every rejected candidate.
#[test]
fn resolve_explains_unsatisfiable_world() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_repository(dir.path(), &[("app", "1.2.3-r0")]);
    let keyring = format!("keys/{KEY_NAME}");
    let args = [
        "resolve",
        "--repository",
        "./repo",
        "--keyring",
        &keyring,
        "-p",
        "app>2",
    ];
    let output = xtask_in(dir.path(), &args, &[], "");
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("app>2"), "{message}");
    assert!(message.contains("rejected app-1.2.3-r0"), "{message}");
}

/// An index signed by a key that is not in the keyring is rejected.
#[test]
fn resolve_rejects_unknown_signer() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_repository(dir.path(), &[]);
    let other = dir.path().join("other");
    let output = xtask_in(
        dir.path(),
        &[
            "keygen",
            "--name",
            "other",
            "--bits",
            "2048",
            "--output-dir",
            "other",
        ],
        &[],
        "mkdir other",
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let keyring = other.join("other.rsa.pub");
    let keyring = keyring.to_string_lossy();
    let args = [
        "resolve",
        "--repository",
        "./repo",
        "--keyring",
        &keyring,
        "-p",
        "base",
    ];
    let output = xtask_in(dir.path(), &args, &[], "");
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("APKINDEX"), "{message}");
}

#[test]
fn keygen_writes_private_key_privately() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = [
        "keygen",
        "--name",
        "me@example.org",
        "--bits",
        "2048",
        "--output-dir",
        ".",
    ];
    let output = xtask_in(dir.path(), &args, &[], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let private = dir.path().join("me@example.org.rsa");
    let public = dir.path().join("me@example.org.rsa.pub");
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&private)
            .expect("private key")
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let key = apk::PrivateKey::load(&private).expect("private key loads");
    let public_key = apk::PublicKey::load(&public).expect("public key loads");
    let signature =
        apk::signature::sign(&key, apk::SignatureAlgorithm::RsaSha256, b"data").expect("sign");
    let mut keyring = apk::Keyring::new();
    keyring.add(public_key);
    let signer = apk::signature::verify(&keyring, &[signature], b"data").expect("verify");
    assert_eq!(signer, "me@example.org.rsa.pub");

    let again = xtask_in(dir.path(), &args, &[], "");
    assert_eq!(again.status.code(), Some(2));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}
