//! `cargo xtask publish` to a `docker-registry` with `auth: token`, where the client
//! exchanges basic credentials for a bearer token at a loopback token server.

mod support;

use std::process::{Command, Output};
use std::sync::atomic::Ordering;

use support::layout::{catalog_for, fresh_seed, write_layout};
use support::registry::{RegistrySetup, TestRegistry, TokenAuth};
use support::token::{ISSUER, SERVICE, TokenServer};
use support::{require_tool, run};

const USERNAME: &str = "publisher";

/// Runs `xtask publish busybox --no-sign` in `root` with the given credentials.
fn publish(root: &std::path::Path, password: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root)
        .args(["publish", "busybox", "--no-sign", "--max-attempts", "2"])
        .env("DOCKER_CONFIG", root.join(".docker-test"))
        .env("XTASK_REGISTRY_USERNAME", USERNAME)
        .env("XTASK_REGISTRY_PASSWORD", password)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_TOKEN")
        .env_remove("RUST_LOG")
        .output()
        .expect("run xtask publish")
}

#[test]
fn token_auth_publish_and_wrong_password() {
    if !(require_tool("docker-registry", "docker-registry") && require_tool("skopeo", "skopeo")) {
        return;
    }
    let password = "token-flow-password-1";
    let work = tempfile::tempdir().expect("temp dir");
    let tokens = TokenServer::start(work.path(), USERNAME, password);
    let registry = TestRegistry::start(RegistrySetup {
        token: Some(TokenAuth {
            realm: tokens.realm(),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            root_cert_bundle: tokens.root_cert_bundle.clone(),
        }),
        ..RegistrySetup::default()
    });
    let root = catalog_for(&registry.address());
    let layout = write_layout(
        &root.path().join("out/images/busybox/latest"),
        &["latest"],
        &[30_000, 4_000],
        fresh_seed(),
    );

    // Wrong password: the token server rejects it, and the push fails with a message
    // that names the problem and does not contain the password.
    let wrong_password = "wrong-token-password-2";
    let output = publish(root.path(), wrong_password);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "publish succeeded:\n{stderr}");
    assert!(
        stderr.contains("authentication failed"),
        "no authentication error:\n{stderr}"
    );
    assert!(
        stderr.contains(&registry.address()),
        "error does not name the registry:\n{stderr}"
    );
    assert!(
        !stderr.contains(wrong_password),
        "password in stderr:\n{stderr}"
    );
    assert!(
        !stdout.contains(wrong_password),
        "password in stdout:\n{stdout}"
    );
    assert!(
        tokens.rejected.load(Ordering::SeqCst) > 0,
        "the token server never saw the wrong password"
    );
    assert!(
        tokens.scopes().is_empty(),
        "a token was issued for a wrong password: {:?}",
        tokens.scopes()
    );

    // Right password: every registry request carries a token from the token server.
    let output = publish(root.path(), password);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "publish failed:\n{stderr}");
    assert!(!stderr.contains(password), "password in stderr:\n{stderr}");
    assert!(!stdout.contains(password), "password in stdout:\n{stdout}");
    let scopes = tokens.scopes();
    assert!(
        scopes.contains(&"repository:test/busybox:pull,push".to_owned()),
        "no push scope requested: {scopes:?}"
    );

    // The registry serves the index under the tag, read with skopeo's own token flow.
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--raw",
        "--creds",
        &format!("{USERNAME}:{password}"),
        &format!("docker://{}/test/busybox:latest", registry.address()),
    ]));
    let inspected = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw.as_bytes()))
    );
    assert_eq!(inspected, layout.index_digest);

    // Without credentials the registry rejects the read, so the token flow was needed.
    let anonymous = support::http::get(
        registry.port,
        "/v2/test/busybox/manifests/latest",
        Some("application/vnd.oci.image.index.v1+json"),
    );
    assert_eq!(anonymous.status, 401);
    let challenge = anonymous.header("WWW-Authenticate").unwrap_or_default();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains(&tokens.realm()),
        "unexpected challenge: {challenge}"
    );
}
