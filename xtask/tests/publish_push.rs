//! Pushing OCI layouts to a real `docker-registry` on loopback, checked with skopeo.

mod support;

use std::process::Command;
use std::time::Duration;

use support::layout::{fresh_seed, write_layout};
use support::registry::{RegistrySetup, TestRegistry};
use support::{require_tool, run};
use xtask::registry::{
    ClientOptions, Credentials, LayoutImage, PushPlan, PushReport, RegistryClient, Repository,
    RetryPolicy, Secret, push,
};

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn fast_retries(max_attempts: u32) -> ClientOptions {
    let mut options = ClientOptions::for_registry("127.0.0.1");
    options.retry = RetryPolicy {
        max_attempts,
        base_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
    };
    options.read_timeout = Duration::from_secs(20);
    options
}

fn client(address: &str, credentials: &Credentials, options: &ClientOptions) -> RegistryClient {
    RegistryClient::new(address, credentials, options)
}

fn push_layout(
    client: &RegistryClient,
    repository: &str,
    dir: &std::path::Path,
) -> Result<PushReport, String> {
    let image = LayoutImage::read(dir).expect("read layout");
    let repository = Repository::parse(repository).expect("repository");
    let plan = PushPlan::new(&image, repository, &[], &[]);
    runtime()
        .block_on(push(client, &plan, dir))
        .map_err(|error| format!("{:#}", anyhow::Error::from(error)))
}

fn tools_present() -> bool {
    require_tool("docker-registry", "docker-registry") && require_tool("skopeo", "skopeo")
}

/// Digests of the index, manifests and blobs of the layout `skopeo copy` wrote.
fn copied_digests(dir: &std::path::Path) -> Vec<String> {
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
fn push_matches_skopeo_copy() {
    if !tools_present() {
        return;
    }
    let registry = TestRegistry::start(RegistrySetup::default());
    let work = tempfile::tempdir().expect("temp dir");
    let layout_dir = work.path().join("layout");
    let generated = write_layout(
        &layout_dir,
        &["latest", "1.0"],
        &[300_000, 40_000],
        fresh_seed(),
    );
    let repository = format!("{}/test/busybox", registry.address());
    let client = client(
        &registry.address(),
        &Credentials::Anonymous,
        &fast_retries(3),
    );

    let first = push_layout(&client, &repository, &layout_dir).expect("first push");
    assert_eq!(first.blobs_uploaded, generated.blobs.len());
    assert_eq!(first.manifests_pushed, 3);
    assert_eq!(first.tags_set, 2);

    let raw = run(Command::new("skopeo").args([
        "inspect",
        "--tls-verify=false",
        "--raw",
        &format!("docker://{repository}:1.0"),
    ]));
    let inspected = format!(
        "sha256:{}",
        hex::encode(<sha2::Sha256 as sha2::Digest>::digest(raw.as_bytes()))
    );
    assert_eq!(inspected, generated.index_digest);

    let copy = work.path().join("copy");
    run(Command::new("skopeo").args([
        "copy",
        "--all",
        "--preserve-digests",
        "--dest-oci-accept-uncompressed-layers",
        "--src-tls-verify=false",
        &format!("docker://{repository}:latest"),
        &format!("oci:{}:latest", copy.display()),
    ]));
    let mut expected: Vec<String> = generated.blobs.clone();
    expected.push(generated.index_digest.clone());
    expected.extend(generated.manifests.iter().map(|(_, digest)| digest.clone()));
    expected.sort();
    assert_eq!(copied_digests(&copy), expected);

    let second = push_layout(&client, &repository, &layout_dir).expect("second push");
    assert_eq!(second.bytes_uploaded, 0);
    assert_eq!(second.blobs_uploaded, 0);
    assert_eq!(second.blobs_present, generated.blobs.len());
    assert_eq!(second.manifests_present, 3);
    assert_eq!(second.tags_unchanged, 2);
}

#[test]
fn push_mounts_from_sibling_repository() {
    if !tools_present() {
        return;
    }
    let registry = TestRegistry::start(RegistrySetup::default());
    let work = tempfile::tempdir().expect("temp dir");
    let generated = write_layout(work.path(), &["latest"], &[50_000], fresh_seed());
    let client = client(
        &registry.address(),
        &Credentials::Anonymous,
        &fast_retries(3),
    );
    let source =
        Repository::parse(&format!("{}/test/base", registry.address())).expect("repository");
    let target = source.sibling("test/derived");
    push_layout(&client, &source.to_string(), work.path()).expect("push source");

    let image = LayoutImage::read(work.path()).expect("read layout");
    let plan = PushPlan::new(&image, target, &[], &[source]);
    let report = runtime()
        .block_on(push(&client, &plan, work.path()))
        .expect("push target");
    assert_eq!(report.blobs_mounted, generated.blobs.len());
    assert_eq!(report.bytes_uploaded, 0);
}

#[test]
fn htpasswd_registry_accepts_right_password() {
    if !(tools_present() && require_tool("htpasswd", "apache2-utils")) {
        return;
    }
    let password = "correct-horse-battery";
    let registry = TestRegistry::start(RegistrySetup {
        htpasswd: Some(("publisher".into(), password.into())),
        ..RegistrySetup::default()
    });
    let work = tempfile::tempdir().expect("temp dir");
    write_layout(work.path(), &["latest"], &[20_000], fresh_seed());
    let repository = format!("{}/test/auth", registry.address());

    let anonymous = client(
        &registry.address(),
        &Credentials::Anonymous,
        &fast_retries(2),
    );
    let error = push_layout(&anonymous, &repository, work.path()).expect_err("anonymous push");
    assert!(error.contains("authentication failed"), "{error}");

    let wrong_password = "wrong-password-value";
    let wrong = Credentials::Basic {
        username: "publisher".into(),
        password: Secret::new(wrong_password),
    };
    let wrong_client = client(&registry.address(), &wrong, &fast_retries(2));
    let error = push_layout(&wrong_client, &repository, work.path()).expect_err("wrong password");
    assert!(error.contains("authentication failed"), "{error}");
    assert!(
        !error.contains(wrong_password),
        "password in error: {error}"
    );
    assert!(!format!("{wrong_client:?}").contains(wrong_password));

    let right = Credentials::Basic {
        username: "publisher".into(),
        password: Secret::new(password),
    };
    let right_client = client(&registry.address(), &right, &fast_retries(2));
    let report = push_layout(&right_client, &repository, work.path()).expect("push with password");
    assert_eq!(report.tags_set, 1);
}

#[test]
fn registry_down_fails_after_retries() {
    let port = support::free_port();
    let work = tempfile::tempdir().expect("temp dir");
    write_layout(work.path(), &["latest"], &[1_000], fresh_seed());
    let address = format!("127.0.0.1:{port}");
    let client = client(&address, &Credentials::Anonymous, &fast_retries(3));
    let error = push_layout(&client, &format!("{address}/test/down"), work.path())
        .expect_err("registry down");
    assert!(error.contains("after 3 attempt(s)"), "{error}");
    assert!(error.contains(&address), "{error}");
}
