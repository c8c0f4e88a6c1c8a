//! Pushing through faults: a proxy that returns 500 and 429 and cuts connections, a
//! registry whose storage fills up, and a registry that goes away.

mod support;

use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::Duration;

use support::layout::{catalog_for, fresh_seed, write_layout};
use support::proxy::FaultProxy;
use support::registry::{RegistrySetup, TestRegistry};
use support::{require_tool, run};
use xtask::registry::{
    ClientOptions, Credentials, LayoutImage, PushPlan, PushReport, RegistryClient, Repository,
    RetryPolicy, Secret, push,
};

fn push_layout(
    address: &str,
    repository: &str,
    dir: &std::path::Path,
    max_attempts: u32,
) -> Result<PushReport, String> {
    push_layout_as(
        address,
        repository,
        dir,
        max_attempts,
        &Credentials::Anonymous,
    )
}

fn push_layout_as(
    address: &str,
    repository: &str,
    dir: &std::path::Path,
    max_attempts: u32,
    credentials: &Credentials,
) -> Result<PushReport, String> {
    let mut options = ClientOptions::for_registry(address);
    options.retry = RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    };
    options.read_timeout = Duration::from_secs(20);
    let client = RegistryClient::new(address, credentials, &options);
    let image = LayoutImage::read(dir).expect("read layout");
    let plan = PushPlan::new(
        &image,
        Repository::parse(repository).expect("repository"),
        &[],
        &[],
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(push(&client, &plan, dir))
        .map_err(|error| format!("{:#}", anyhow::Error::from(error)))
}

fn sorted_blob_digests(dir: &std::path::Path) -> Vec<String> {
    let mut digests: Vec<String> = std::fs::read_dir(dir.join("blobs/sha256"))
        .expect("read blobs")
        .map(|entry| {
            format!(
                "sha256:{}",
                entry.expect("entry").file_name().to_string_lossy()
            )
        })
        .collect();
    digests.sort();
    digests
}

#[test]
fn faulty_proxy_push_completes_intact() {
    if !(require_tool("docker-registry", "docker-registry") && require_tool("skopeo", "skopeo")) {
        return;
    }
    let registry = TestRegistry::start(RegistrySetup::default());
    let proxy = FaultProxy::start(registry.port, 3, 40);
    let work = tempfile::tempdir().expect("temp dir");
    let layout = work.path().join("layout");
    write_layout(
        &layout,
        &["latest", "1"],
        &[200_000, 30_000, 5_000],
        fresh_seed(),
    );

    let path = "test/faulty";
    let report = push_layout(
        &proxy.address(),
        &format!("{}/{path}", proxy.address()),
        &layout,
        8,
    )
    .expect("push through faults");
    assert!(
        proxy.stats.faults.load(Ordering::SeqCst) > 0,
        "no fault was injected"
    );
    assert_eq!(report.tags_set, 2);

    // Each tag must name complete content: skopeo copies everything it points at,
    // straight from the registry, and every digest matches the layout.
    for tag in ["latest", "1"] {
        let copy = work.path().join(format!("copy-{tag}"));
        run(Command::new("skopeo").args([
            "copy",
            "--all",
            "--preserve-digests",
            "--dest-oci-accept-uncompressed-layers",
            "--src-tls-verify=false",
            &format!("docker://{}/{path}:{tag}", registry.address()),
            &format!("oci:{}:{tag}", copy.display()),
        ]));
        assert_eq!(
            sorted_blob_digests(&copy),
            sorted_blob_digests(&layout),
            "tag {tag}"
        );
    }
}

#[test]
fn failed_auth_ping_push_recovers() {
    if !(require_tool("docker-registry", "docker-registry")
        && require_tool("skopeo", "skopeo")
        && require_tool("htpasswd", "apache2-utils"))
    {
        return;
    }
    let password = "ping-fault-password";
    let registry = TestRegistry::start(RegistrySetup {
        htpasswd: Some(("publisher".into(), password.into())),
        ..RegistrySetup::default()
    });
    // The client sends `GET /v2/` to read the auth challenge before the first request of
    // each repository and operation. The first three get 500, 429 and a closed connection.
    let proxy = FaultProxy::start_failing_pings(registry.port, 3);
    let work = tempfile::tempdir().expect("temp dir");
    let layout = write_layout(work.path(), &["latest"], &[20_000, 3_000], fresh_seed());
    let repository = format!("{}/test/ping", proxy.address());

    let right = Credentials::Basic {
        username: "publisher".into(),
        password: Secret::new(password),
    };
    let report =
        push_layout_as(&proxy.address(), &repository, work.path(), 6, &right).expect("push");
    assert_eq!(report.tags_set, 1);
    assert!(
        proxy.stats.pings.load(Ordering::SeqCst) > 3,
        "no `GET /v2/` passed the proxy after the failed ones"
    );
    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--raw",
        "--creds",
        &format!("publisher:{password}"),
        &format!("docker://{}/test/ping:latest", registry.address()),
    ]));
    let inspected = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw.as_bytes()))
    );
    assert_eq!(inspected, layout.index_digest);

    // A wrong password still fails as an authentication error, not after the retries.
    let wrong_password = "wrong-ping-password";
    let wrong = Credentials::Basic {
        username: "publisher".into(),
        password: Secret::new(wrong_password),
    };
    let error = push_layout_as(&proxy.address(), &repository, work.path(), 6, &wrong)
        .expect_err("push with a wrong password");
    assert!(error.contains("authentication failed"), "{error}");
    assert!(
        !error.contains(wrong_password),
        "password in error: {error}"
    );
}

#[test]
fn full_registry_storage_fails_without_tag() {
    if !require_tool("docker-registry", "docker-registry") {
        return;
    }
    // The registry's storage is a 512 KiB tmpfs, so a 2 MB layer cannot be stored.
    let storage = tempfile::tempdir().expect("temp dir");
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=512k", "tmpfs"])
        .arg(storage.path())
        .status()
        .is_ok_and(|status| status.success());
    if !mounted {
        eprintln!(
            "skipped: mounting a tmpfs is not permitted here, so a full disk cannot be simulated"
        );
        return;
    }
    let _unmount = Unmount(storage.path().to_owned());
    let registry = TestRegistry::start(RegistrySetup {
        storage: Some(storage.path().join("registry")),
        ..RegistrySetup::default()
    });
    let work = tempfile::tempdir().expect("temp dir");
    write_layout(work.path(), &["latest"], &[2_000_000], fresh_seed());
    let repository = format!("{}/test/full", registry.address());

    let error =
        push_layout(&registry.address(), &repository, work.path(), 2).expect_err("disk full");
    assert!(error.contains("uploading blob"), "{error}");
    let tag = support::http::get(
        registry.port,
        "/v2/test/full/manifests/latest",
        Some("application/vnd.oci.image.index.v1+json"),
    );
    assert_eq!(
        tag.status, 404,
        "the tag exists although its content is missing"
    );
}

struct Unmount(std::path::PathBuf);

impl Drop for Unmount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

#[test]
fn rate_limited_push_waits_retry_after() {
    if !require_tool("docker-registry", "docker-registry") {
        return;
    }
    let registry = TestRegistry::start(RegistrySetup::default());
    let proxy = FaultProxy::start_rate_limited(registry.port, 2);
    let work = tempfile::tempdir().expect("temp dir");
    write_layout(work.path(), &["latest"], &[10_000], fresh_seed());

    // The backoff is 20 ms, so a push that takes a second waited for `Retry-After: 1`.
    let start = std::time::Instant::now();
    let repository = format!("{}/test/limited", proxy.address());
    let report = push_layout(&proxy.address(), &repository, work.path(), 4).expect("push");
    assert_eq!(report.tags_set, 1);
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "push took {:?}, shorter than Retry-After",
        start.elapsed()
    );
    assert!(proxy.stats.rate_limited.load(Ordering::SeqCst) >= 2);
}

#[test]
fn publish_command_logs_each_retry() {
    if !require_tool("docker-registry", "docker-registry") {
        return;
    }
    let registry = TestRegistry::start(RegistrySetup::default());
    // Every request gets 429 with `Retry-After: 1` for one second from the fifth on.
    // oci-client ignores a 429 on its `/v2/` ping, so only the registry operations in
    // that second are retried and logged.
    let proxy = FaultProxy::start_rate_limited(registry.port, 5);
    let root = catalog_for(&proxy.address());
    let layout = write_layout(
        &root.path().join("out/images/busybox/latest"),
        &["latest"],
        &[50_000, 5_000],
        fresh_seed(),
    );

    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root.path())
        .args(["publish", "busybox", "--no-sign", "--max-attempts", "8"])
        .env("DOCKER_CONFIG", root.path().join(".docker-test"))
        .env_remove("GITHUB_ACTIONS")
        .env_remove("XTASK_REGISTRY_USERNAME")
        .env_remove("XTASK_REGISTRY_PASSWORD")
        .env_remove("RUST_LOG")
        .output()
        .expect("run xtask publish");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "publish failed:\n{stderr}");
    assert!(proxy.stats.rate_limited.load(Ordering::SeqCst) > 0);
    let retries: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("retrying registry request"))
        .collect();
    assert!(!retries.is_empty(), "no retry logged:\n{stderr}");
    for line in &retries {
        assert!(
            line.contains("retrying registry request after HTTP 429"),
            "retry without its reason: {line}"
        );
        assert!(line.contains("attempt="), "retry without attempt: {line}");
        assert!(
            line.contains("operation="),
            "retry without operation: {line}"
        );
    }

    // The tag names the pushed index, and the registry has everything it points at.
    let tag = support::http::get(
        registry.port,
        "/v2/test/busybox/manifests/latest",
        Some("application/vnd.oci.image.index.v1+json"),
    );
    assert_eq!(tag.status, 200);
    assert_eq!(
        tag.header("Docker-Content-Digest"),
        Some(layout.index_digest.as_str())
    );
    for digest in &layout.blobs {
        let blob = support::http::get(
            registry.port,
            &format!("/v2/test/busybox/blobs/{digest}"),
            None,
        );
        assert_eq!(blob.status, 200, "blob {digest} missing");
    }
}
