//! The release path end to end on this repository's own catalog: `cargo xtask release
//! --changed` in a clone of the repository, in the offline profile, against Debian's
//! `docker-registry` on loopback, signing with a cosign key made for the run. Then every
//! pushed image is checked from the outside: `skopeo inspect` of both platforms,
//! `openssl` over each signature payload, `pyspdxtools` on each SBOM, and `cargo xtask
//! readme --check` on the updated README. The amd64 images' tests run again on Docker.
//!
//! It builds the offline images' packages from source and takes minutes, so it is
//! ignored by default; `.ci/run` runs it with `--ignored`.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use support::http::get;
use support::registry::{RegistrySetup, TestRegistry};
use support::{assert_success, require_tool, run, text};

/// The images that `packages/` can build; the offline profile skips the others.
const OFFLINE_IMAGES: [&str; 6] = [
    "busybox",
    "git",
    "hello-world",
    "musl-dynamic",
    "nginx",
    "static",
];

/// `namespace` in catalog.yaml: images are pushed to `<registry>/<namespace>/<image>`.
const NAMESPACE: &str = "example-org/images";

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const PASSWORD: &str = "end-to-end test password";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

fn xtask(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.arg("-C").arg(root).args(args);
    for (name, value) in env {
        command.env(name, value);
    }
    command
        .env_remove("GITHUB_ACTIONS")
        .env_remove("XTASK_PROFILE")
        .output()
        .expect("run xtask")
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).expect("JSON document")
}

/// Checks the cosign signature of `digest` with `openssl`: the `.sig` manifest's first
/// layer is the payload, its annotation the DER signature.
fn check_signature(port: u16, repository: &str, digest: &str, key: &Path, work: &Path) {
    let hex = digest.trim_start_matches("sha256:");
    let path = format!("/v2/{repository}/manifests/sha256-{hex}.sig");
    let manifest = get(port, &path, Some(OCI_MANIFEST));
    assert_eq!(manifest.status, 200, "{path}: {}", text(&manifest.body));
    let layer = json(&manifest.body)["layers"][0].clone();
    let blob_digest = layer["digest"].as_str().expect("payload digest");
    let payload = get(port, &format!("/v2/{repository}/blobs/{blob_digest}"), None);
    assert_eq!(payload.status, 200, "payload of {repository}@{digest}");
    let signature = layer["annotations"]["dev.cosignproject.cosign/signature"]
        .as_str()
        .expect("signature annotation");
    let signature = STANDARD.decode(signature).expect("base64 signature");
    std::fs::write(work.join("payload"), &payload.body).expect("write payload");
    std::fs::write(work.join("signature"), signature).expect("write signature");
    let verified = Command::new("openssl")
        .args(["dgst", "-sha256", "-verify"])
        .arg(key)
        .arg("-signature")
        .arg(work.join("signature"))
        .arg(work.join("payload"))
        .output()
        .expect("run openssl");
    assert!(
        verified.status.success(),
        "openssl rejected the signature of {repository}@{digest}: {}",
        text(&verified.stderr)
    );
    let payload = json(&payload.body);
    assert_eq!(
        payload["critical"]["image"]["docker-manifest-digest"], digest,
        "payload of {repository}@{digest} names another digest"
    );
}

/// Checks one pushed image with skopeo and openssl; returns its index digest.
fn check_pushed_image(registry: &TestRegistry, image: &str, key: &Path, work: &Path) {
    let repository = format!("{NAMESPACE}/{image}");
    let reference = format!("docker://{}/{repository}:latest", registry.address());
    let raw =
        run(Command::new("skopeo").args(["inspect", "--tls-verify=false", "--raw", &reference]));
    let index = json(raw.as_bytes());
    assert_eq!(index["mediaType"], OCI_INDEX, "{image}: not an image index");
    let manifests = index["manifests"].as_array().expect("index manifests");
    let mut platforms: Vec<&str> = manifests
        .iter()
        .filter_map(|manifest| manifest["platform"]["architecture"].as_str())
        .collect();
    platforms.sort_unstable();
    assert_eq!(
        platforms,
        ["amd64", "arm64"],
        "{image}: platforms of the index"
    );

    for arch in ["amd64", "arm64"] {
        let inspected = run(Command::new("skopeo").args([
            "inspect",
            "--tls-verify=false",
            "--override-os",
            "linux",
            "--override-arch",
            arch,
            &reference,
        ]));
        assert_eq!(
            json(inspected.as_bytes())["Architecture"],
            arch,
            "{image}: skopeo inspect for {arch}"
        );
    }

    let index_digest = get(
        registry.port,
        &format!("/v2/{repository}/manifests/latest"),
        Some(OCI_INDEX),
    )
    .header("Docker-Content-Digest")
    .expect("index digest header")
    .to_owned();
    check_signature(registry.port, &repository, &index_digest, key, work);
    for manifest in manifests {
        let digest = manifest["digest"].as_str().expect("manifest digest");
        check_signature(registry.port, &repository, digest, key, work);
    }
}

#[test]
#[ignore = "builds the offline images' packages from source; .ci/run runs it with --ignored"]
fn release_changed_offline_to_loopback() {
    let tools = [
        ("git", "git"),
        ("docker-registry", "docker-registry"),
        ("skopeo", "skopeo"),
        ("openssl", "openssl"),
        ("pyspdxtools", "spdx-tools (PyPI), as .ci/setup installs it"),
        ("bwrap", "bubblewrap"),
        ("qemu-aarch64-static", "qemu-user-static"),
        ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu"),
        ("docker", "docker.io"),
    ];
    if !tools
        .iter()
        .all(|(tool, package)| require_tool(tool, package))
    {
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let clone = work.path().join("catalog");
    run(Command::new("git")
        .args(["clone", "--quiet"])
        .arg(workspace_root())
        .arg(&clone));
    // An all-zero base is what GitHub sends for a new branch: every image changed.
    let base = "0".repeat(40);

    let keys = work.path().join("keys");
    let password = [("COSIGN_PASSWORD", PASSWORD)];
    let keygen = xtask(
        &clone,
        &[
            "keygen",
            "--cosign",
            "--output-dir",
            keys.to_str().expect("UTF-8 path"),
        ],
        &password,
    );
    assert_success(&keygen, "keygen --cosign");

    // The recipe tests, when they ran first in this target folder, built the same
    // packages with the ephemeral key of their cache. With that cache and a copy of
    // their repository, the release finds the packages up to date and compiles none.
    // Without them it builds everything itself.
    let recipe_scratch = Path::new(env!("CARGO_TARGET_TMPDIR")).join("package-recipes");
    let package_cache = std::env::var_os("XTASK_RECIPE_TEST_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| recipe_scratch.join("cache"));
    let built_packages = recipe_scratch.join("out");
    if built_packages.is_dir() {
        std::fs::create_dir_all(clone.join("out")).expect("create out");
        run(Command::new("cp")
            .arg("-a")
            .arg(&built_packages)
            .arg(clone.join("out/packages")));
    }
    let package_cache = package_cache.to_str().expect("UTF-8 path");

    let registry = TestRegistry::start(RegistrySetup::default());
    let address = registry.address();
    let key = keys.join("cosign.key");
    let release = xtask(
        &clone,
        &[
            "release",
            "--changed",
            "--base",
            &base,
            "--registry",
            &address,
            "--signing-mode",
            "key",
            "--key",
            key.to_str().expect("UTF-8 path"),
        ],
        &[
            ("COSIGN_PASSWORD", PASSWORD),
            ("XTASK_OFFLINE", "1"),
            ("XTASK_CACHE_DIR", package_cache),
        ],
    );
    assert_success(&release, "release --changed");
    let summary = text(&release.stdout);
    for image in OFFLINE_IMAGES {
        assert!(
            summary.contains(&format!("{image}:latest released")),
            "{image} missing from the release summary:\n{summary}"
        );
    }

    let public_key = keys.join("cosign.pub");
    for image in OFFLINE_IMAGES {
        check_pushed_image(&registry, image, &public_key, work.path());
        let layout = clone.join("out/images").join(image).join("latest");
        let sboms: Vec<PathBuf> = std::fs::read_dir(&layout)
            .expect("layout folder")
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.to_string_lossy().ends_with(".spdx.json"))
            .collect();
        assert_eq!(
            sboms.len(),
            3,
            "{image}: one SBOM per arch and one for the index"
        );
        for sbom in sboms {
            run(Command::new("pyspdxtools").arg("-i").arg(&sbom));
        }
    }

    // The release ran the tests in bwrap; the amd64 images also run on Docker, which
    // has no arm64 emulation here.
    let mut docker_args = vec!["test", "--runtime", "docker", "--arch", "amd64"];
    docker_args.extend(OFFLINE_IMAGES);
    let docker = xtask(&clone, &docker_args, &[]);
    assert_success(&docker, "test --runtime docker");

    let check = xtask(&clone, &["readme", "--check"], &[]);
    assert_success(&check, "readme --check after the release");
    let readme = std::fs::read_to_string(clone.join("README.md")).expect("README.md");
    for image in OFFLINE_IMAGES {
        let row = readme
            .lines()
            .find(|line| line.starts_with(&format!("| [{image}](")))
            .unwrap_or_else(|| panic!("{image} has no README row"));
        assert!(
            !row.contains("not released"),
            "{image}: README row not updated: {row}"
        );
    }
}
