//! Publishing to a `docker-registry` with `auth: token`, where the client exchanges basic
//! credentials for a bearer token at a loopback token server: `cargo xtask publish` with
//! right and wrong passwords, and token renewal when the registry fails `GET /v2/`.

mod support;

use std::process::{Command, Output};
use std::sync::atomic::Ordering;
use std::time::Duration;

use support::layout::{catalog_for, fresh_seed, write_layout};
use support::proxy::FaultProxy;
use support::registry::{RegistrySetup, TestRegistry, TokenAuth};
use support::token::{ISSUER, SERVICE, TokenServer};
use support::{require_tool, run};
use xtask::registry::{
    ClientOptions, Credentials, LayoutImage, PushPlan, RegistryClient, Repository, RetryPolicy,
    Secret, push,
};

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

/// Starts a registry with `auth: token` that trusts `tokens`.
fn token_registry(tokens: &TokenServer) -> TestRegistry {
    TestRegistry::start(RegistrySetup {
        token: Some(TokenAuth {
            realm: tokens.realm(),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            root_cert_bundle: tokens.root_cert_bundle.clone(),
        }),
        ..RegistrySetup::default()
    })
}

/// Returns the digest of the manifest that `reference` names, read with skopeo's own
/// token flow.
fn inspect_digest(reference: &str, password: &str) -> String {
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--raw",
        "--creds",
        &format!("{USERNAME}:{password}"),
        &format!("docker://{reference}"),
    ]));
    format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw.as_bytes()))
    )
}

#[test]
fn token_auth_publish_and_wrong_password() {
    if !(require_tool("docker-registry", "docker-registry") && require_tool("skopeo", "skopeo")) {
        return;
    }
    let password = "token-flow-password-1";
    let work = tempfile::tempdir().expect("temp dir");
    let tokens = TokenServer::start(work.path(), USERNAME, password);
    let registry = token_registry(&tokens);
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
    let reference = format!("{}/test/busybox:latest", registry.address());
    assert_eq!(inspect_digest(&reference, password), layout.index_digest);

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

#[test]
fn expired_token_renewal_survives_failed_ping() {
    if !(require_tool("docker-registry", "docker-registry") && require_tool("skopeo", "skopeo")) {
        return;
    }
    let password = "renewal-password-3";
    let work = tempfile::tempdir().expect("temp dir");
    // Tokens expire one second after they are issued. oci-client 0.18 stops using a
    // cached token once `exp` has passed, but the registry accepts it for 60 s more (the
    // `Leeway` of distribution 2.8), so only the client renews tokens here.
    let tokens = TokenServer::start_with_lifetime(work.path(), USERNAME, password, 1);
    let registry = token_registry(&tokens);
    let proxy = FaultProxy::start_failing_pings(registry.port, 0);
    let mut options = ClientOptions::for_registry(&proxy.address());
    options.retry = RetryPolicy {
        max_attempts: 3,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    };
    let credentials = Credentials::Basic {
        username: USERNAME.into(),
        password: Secret::new(password),
    };
    let client = RegistryClient::new(&proxy.address(), &credentials, &options);
    let repository =
        Repository::parse(&format!("{}/test/renew", proxy.address())).expect("repository");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let push_new_layout = |name: &str| {
        let dir = work.path().join(name);
        let generated = write_layout(&dir, &["latest"], &[10_000], fresh_seed());
        let image = LayoutImage::read(&dir).expect("read layout");
        let plan = PushPlan::new(&image, repository.clone(), &[], &[]);
        let result = runtime
            .block_on(push(&client, &plan, &dir))
            .map_err(|error| format!("{:#}", anyhow::Error::from(error)));
        (generated, result)
    };

    let (_, first) = push_new_layout("first");
    first.expect("first push");
    let scopes_after_first = tokens.scopes().len();

    // Every cached token has expired, and the `GET /v2/` that oci-client sends to renew
    // one fails, so that request goes out without a token and gets 401.
    std::thread::sleep(Duration::from_millis(2_500));
    proxy.fail_next_pings(1);
    let (second_layout, second) = push_new_layout("second");
    second.expect("push after the tokens expired");
    assert_eq!(proxy.stats.ping_faults.load(Ordering::SeqCst), 1);
    assert!(
        tokens.scopes().len() > scopes_after_first,
        "no token was renewed"
    );
    let reference = format!("{}/test/renew:latest", registry.address());
    assert_eq!(
        inspect_digest(&reference, password),
        second_layout.index_digest
    );
}
