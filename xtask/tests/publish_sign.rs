//! `keygen --cosign`, `publish` and `verify` run as a user would, against a loopback
//! `docker-registry`, with signatures checked independently by `openssl`.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use support::http::get;
use support::layout::{GeneratedLayout, fresh_seed, write_layout};
use support::registry::{RegistrySetup, TestRegistry};
use support::{assert_success, require_tool, text};

const PASSWORD: &str = "test-cosign-password-1234";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

const APKO_CONFIG: &str = "\
contents:
  repositories: [https://packages.wolfi.dev/os]
  keyring: [https://packages.wolfi.dev/os/wolfi-signing.rsa.pub]
  packages: [busybox]
accounts:
  groups:
    - groupname: nonroot
      gid: 65532
  users:
    - username: nonroot
      uid: 65532
      gid: 65532
  run-as: nonroot
";

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
    std::fs::write(path, text).expect("write file");
}

/// A catalog with one image, `busybox`, publishing to `registry` with key signing.
fn catalog(registry: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let catalog = format!(
        "registry: {registry}\nnamespace: test\narchs: [amd64, arm64]\nsigning:\n  mode: key\n  public-key: cosign.pub\n"
    );
    write(dir.path(), "catalog.yaml", &catalog);
    write(
        dir.path(),
        "images/busybox/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
    );
    write(
        dir.path(),
        "images/busybox/configs/latest.apko.yaml",
        APKO_CONFIG,
    );
    write(dir.path(), "images/busybox/tests/run.sh", "#!/bin/sh\n");
    let script = dir.path().join("images/busybox/tests/run.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    dir
}

fn xtask(root: &Path, args: &[&str]) -> Output {
    let docker_config = root.join(".docker-test");
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root)
        .args(args)
        .env("COSIGN_PASSWORD", PASSWORD)
        .env("DOCKER_CONFIG", docker_config)
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_TOKEN")
        .env_remove("XTASK_REGISTRY_USERNAME")
        .env_remove("XTASK_REGISTRY_PASSWORD")
        .env_remove("RUST_LOG")
        .output()
        .expect("run xtask")
}

fn hex(digest: &str) -> &str {
    &digest["sha256:".len()..]
}

/// Fetches the manifest under `tag` and its first layer: `(layer JSON, blob bytes)`.
fn first_layer(port: u16, repository: &str, tag: &str) -> (serde_json::Value, Vec<u8>) {
    let manifest = get(
        port,
        &format!("/v2/{repository}/manifests/{tag}"),
        Some(OCI_MANIFEST),
    );
    assert_eq!(
        manifest.status,
        200,
        "manifest {tag}: {}",
        text(&manifest.body)
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest.body).expect("manifest JSON");
    let layer = manifest["layers"][0].clone();
    let digest = layer["digest"].as_str().expect("layer digest");
    let blob = get(port, &format!("/v2/{repository}/blobs/{digest}"), None);
    assert_eq!(blob.status, 200);
    (layer, blob.body)
}

fn layer_count(port: u16, repository: &str, tag: &str) -> usize {
    let manifest = get(
        port,
        &format!("/v2/{repository}/manifests/{tag}"),
        Some(OCI_MANIFEST),
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest.body).expect("manifest JSON");
    manifest["layers"].as_array().map_or(0, Vec::len)
}

/// `openssl dgst -sha256 -verify <key> -signature <sig> <message>`.
fn openssl_verifies(work: &Path, key: &Path, signature: &[u8], message: &[u8]) -> bool {
    std::fs::write(work.join("sig.der"), signature).expect("write signature");
    std::fs::write(work.join("message"), message).expect("write message");
    Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(key)
        .arg("-signature")
        .arg(work.join("sig.der"))
        .arg(work.join("message"))
        .output()
        .is_ok_and(|output| output.status.success())
}

struct Published {
    registry: TestRegistry,
    root: tempfile::TempDir,
    layout: GeneratedLayout,
}

fn publish_signed() -> Option<Published> {
    if !(require_tool("docker-registry", "docker-registry") && require_tool("openssl", "openssl")) {
        return None;
    }
    let registry = TestRegistry::start(RegistrySetup::default());
    let root = catalog(&registry.address());
    let keygen = xtask(root.path(), &["keygen", "--cosign"]);
    assert_success(&keygen, "keygen --cosign");
    let key = std::fs::read_to_string(root.path().join("cosign.key")).expect("cosign.key");
    assert!(key.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));

    let layout_dir = root.path().join("out/images/busybox/latest");
    let layout = write_layout(&layout_dir, &["latest"], &[100_000, 10_000], fresh_seed());
    let key_path = root
        .path()
        .join("cosign.key")
        .to_string_lossy()
        .into_owned();
    let output = xtask(
        root.path(),
        &["-v", "publish", "busybox", "--key", &key_path],
    );
    assert_success(&output, "publish");
    assert!(
        text(&output.stdout).contains(&layout.index_digest),
        "{}",
        text(&output.stdout)
    );
    assert!(!text(&output.stderr).contains(PASSWORD), "password in log");
    let records =
        std::fs::read_to_string(root.path().join("releases.json")).expect("releases.json");
    let records: serde_json::Value = serde_json::from_str(&records).expect("records JSON");
    let record = &records["images"]["busybox"]["latest"];
    assert_eq!(record["digest"], layout.index_digest.as_str());
    assert_eq!(record["archs"], serde_json::json!(["amd64", "arm64"]));
    assert_eq!(record["tags"], serde_json::json!(["latest"]));
    let signature = format!(
        "{}/test/busybox:sha256-{}.sig",
        registry.address(),
        hex(&layout.index_digest)
    );
    assert_eq!(record["signature"], signature.as_str());
    Some(Published {
        registry,
        root,
        layout,
    })
}

#[test]
fn publish_signs_verifiable_by_openssl() {
    let Some(published) = publish_signed() else {
        return;
    };
    let port = published.registry.port;
    let key = published.root.path().join("cosign.pub");
    let work = tempfile::tempdir().expect("temp dir");
    let mut digests = vec![published.layout.index_digest.clone()];
    digests.extend(
        published
            .layout
            .manifests
            .iter()
            .map(|(_, digest)| digest.clone()),
    );

    for digest in &digests {
        let (layer, payload) =
            first_layer(port, "test/busybox", &format!("sha256-{}.sig", hex(digest)));
        assert_eq!(
            layer["mediaType"],
            "application/vnd.dev.cosign.simplesigning.v1+json"
        );
        let signature = layer["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .expect("signature annotation");
        let signature = STANDARD.decode(signature).expect("base64 signature");
        assert!(
            openssl_verifies(work.path(), &key, &signature, &payload),
            "openssl rejected {digest}"
        );
        let payload: serde_json::Value = serde_json::from_slice(&payload).expect("payload JSON");
        assert_eq!(
            payload["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );
        assert_eq!(
            payload["critical"]["type"],
            "cosign container image signature"
        );
        assert_eq!(
            payload["critical"]["identity"]["docker-reference"],
            format!("{}/test/busybox", published.registry.address())
        );
    }
}

#[test]
fn publish_attests_sboms_in_dsse() {
    let Some(published) = publish_signed() else {
        return;
    };
    let port = published.registry.port;
    let key = published.root.path().join("cosign.pub");
    let work = tempfile::tempdir().expect("temp dir");
    let digest = &published.layout.manifests[0].1;

    let (layer, blob) = first_layer(port, "test/busybox", &format!("sha256-{}.att", hex(digest)));
    assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert_eq!(
        layer["annotations"]["predicateType"],
        "https://spdx.dev/Document"
    );
    let envelope: serde_json::Value = serde_json::from_slice(&blob).expect("envelope JSON");
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    let statement = STANDARD
        .decode(envelope["payload"].as_str().expect("payload"))
        .expect("base64");
    let signature = STANDARD
        .decode(envelope["signatures"][0]["sig"].as_str().expect("sig"))
        .expect("base64");
    let mut pae = format!(
        "DSSEv1 28 application/vnd.in-toto+json {} ",
        statement.len()
    )
    .into_bytes();
    pae.extend_from_slice(&statement);
    assert!(
        openssl_verifies(work.path(), &key, &signature, &pae),
        "openssl rejected the DSSE signature"
    );

    let statement: serde_json::Value = serde_json::from_slice(&statement).expect("statement JSON");
    assert_eq!(statement["subject"][0]["digest"]["sha256"], hex(digest));
    assert_eq!(statement["predicate"]["spdxVersion"], "SPDX-2.3");
}

#[test]
fn verify_accepts_published_and_rejects_others() {
    let Some(published) = publish_signed() else {
        return;
    };
    let root = published.root.path();
    let address = published.registry.address();
    let reference = format!("{address}/test/busybox:latest");

    let public_key = root.join("cosign.pub").to_string_lossy().into_owned();
    let verified = xtask(root, &["verify", &reference, "--key", &public_key]);
    assert_success(&verified, "verify");
    assert!(text(&verified.stdout).contains(&published.layout.index_digest));

    let other_keys = tempfile::tempdir().expect("temp dir");
    let output_dir = other_keys.path().to_string_lossy().into_owned();
    assert_success(
        &xtask(root, &["keygen", "--cosign", "--output-dir", &output_dir]),
        "second keygen",
    );
    let other_key = other_keys
        .path()
        .join("cosign.pub")
        .to_string_lossy()
        .into_owned();
    let rejected = xtask(root, &["verify", &reference, "--key", &other_key]);
    assert_eq!(
        rejected.status.code(),
        Some(1),
        "{}",
        text(&rejected.stderr)
    );
    assert!(
        text(&rejected.stderr).contains("does not verify"),
        "{}",
        text(&rejected.stderr)
    );

    // The index signature copied under a platform manifest's tag verifies with the key
    // but names the wrong digest.
    let port = published.registry.port;
    let index_sig = get(
        port,
        &format!(
            "/v2/test/busybox/manifests/sha256-{}.sig",
            hex(&published.layout.index_digest)
        ),
        Some(OCI_MANIFEST),
    );
    let platform_digest = &published.layout.manifests[0].1;
    put_manifest(
        port,
        &format!(
            "/v2/test/busybox/manifests/sha256-{}.sig",
            hex(platform_digest)
        ),
        &index_sig.body,
    );
    let mismatch = xtask(
        root,
        &[
            "verify",
            &format!("{address}/test/busybox@{platform_digest}"),
            "--key",
            &public_key,
        ],
    );
    assert_eq!(
        mismatch.status.code(),
        Some(1),
        "{}",
        text(&mismatch.stderr)
    );
    assert!(
        text(&mismatch.stderr).contains("the payload signs digest"),
        "{}",
        text(&mismatch.stderr)
    );

    let unsigned = xtask(
        root,
        &[
            "verify",
            &format!("{address}/test/busybox:missing"),
            "--key",
            &public_key,
        ],
    );
    assert_eq!(
        unsigned.status.code(),
        Some(2),
        "{}",
        text(&unsigned.stderr)
    );
    assert!(
        text(&unsigned.stderr).contains("not found"),
        "{}",
        text(&unsigned.stderr)
    );
}

#[test]
fn republish_pushes_and_signs_nothing_new() {
    let Some(published) = publish_signed() else {
        return;
    };
    let root = published.root.path();
    let records_before = std::fs::read(root.join("releases.json")).expect("releases.json");
    let key_path = root.join("cosign.key").to_string_lossy().into_owned();
    let output = xtask(root, &["publish", "busybox", "--key", &key_path]);
    assert_success(&output, "second publish");
    let log = text(&output.stderr);
    assert!(log.contains("blob already present"), "{log}");
    assert!(!log.contains("blob uploaded"), "{log}");
    assert!(log.contains("signature already present"), "{log}");
    assert!(log.contains("attestation already present"), "{log}");
    let tag = format!("sha256-{}.sig", hex(&published.layout.index_digest));
    assert_eq!(
        layer_count(published.registry.port, "test/busybox", &tag),
        1
    );
    let records_after = std::fs::read(root.join("releases.json")).expect("releases.json");
    assert_eq!(
        records_after, records_before,
        "an unchanged release rewrote its record"
    );
}

#[test]
fn dry_run_prints_plan_without_registry() {
    let root = catalog("127.0.0.1:9");
    write(root.path(), "cosign.pub", "not read by a dry run\n");
    let layout = write_layout(
        &root.path().join("out/images/busybox/latest"),
        &["latest"],
        &[1_000],
        fresh_seed(),
    );
    let output = xtask(root.path(), &["publish", "busybox", "--dry-run"]);
    assert_success(&output, "publish --dry-run");
    let plan = text(&output.stdout);
    assert!(
        plan.contains(&format!(
            "tag 127.0.0.1:9/test/busybox:latest -> {}",
            layout.index_digest
        )),
        "{plan}"
    );
    assert!(
        plan.contains(&format!(
            "sign 127.0.0.1:9/test/busybox@{}",
            layout.index_digest
        )),
        "{plan}"
    );
    for (platform, digest) in &layout.manifests {
        assert!(
            plan.contains(&format!("manifest {digest} ({platform})")),
            "{plan}"
        );
    }
}

fn put_manifest(port: u16, path: &str, body: &[u8]) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let head = format!(
        "PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: {OCI_MANIFEST}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).expect("send");
    stream.write_all(body).expect("send body");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("read reply");
    assert!(reply.starts_with("HTTP/1.1 201"), "{reply}");
}

#[test]
fn wrong_registry_password_stays_secret() {
    if !(require_tool("docker-registry", "docker-registry")
        && require_tool("htpasswd", "apache2-utils"))
    {
        return;
    }
    let registry = TestRegistry::start(RegistrySetup {
        htpasswd: Some(("publisher".into(), "right-password".into())),
        ..RegistrySetup::default()
    });
    let root = catalog(&registry.address());
    write(root.path(), "cosign.pub", "not read without signing\n");
    write_layout(
        &root.path().join("out/images/busybox/latest"),
        &["latest"],
        &[1_000],
        fresh_seed(),
    );
    let wrong = "wrong-password-5f1d";
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root.path())
        .args([
            "-v",
            "publish",
            "busybox",
            "--no-sign",
            "--max-attempts",
            "2",
        ])
        .env("XTASK_REGISTRY_USERNAME", "publisher")
        .env("XTASK_REGISTRY_PASSWORD", wrong)
        .env("DOCKER_CONFIG", root.path().join(".docker-test"))
        .env_remove("GITHUB_ACTIONS")
        .env_remove("RUST_LOG")
        .output()
        .expect("run xtask");
    let log = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(log.contains("authentication failed"), "{log}");
    assert!(!log.contains(wrong), "password in output: {log}");
    let encoded = STANDARD.encode(format!("publisher:{wrong}"));
    assert!(!log.contains(&encoded), "encoded password in output: {log}");
}
