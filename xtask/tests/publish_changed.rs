//! `cargo xtask publish --changed` on a throwaway git repository: it publishes what
//! `cargo xtask changed` selects for the same revisions, and skips variants that were
//! not built.

#[allow(dead_code)]
#[path = "changed/fixture.rs"]
mod fixture;
mod support;

use std::path::Path;
use std::process::{Command, Output};

use fixture::{Fixture, config};
use support::http::get;
use support::layout::{fresh_seed, write_layout};
use support::registry::{RegistrySetup, TestRegistry};
use support::require_tool;

const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `cargo xtask -C <root> publish ARGS` without signing or registry credentials.
fn publish(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root)
        .arg("publish")
        .args(args)
        .env("DOCKER_CONFIG", root.join(".docker-test"))
        .env_remove("GITHUB_ACTIONS")
        .env_remove("GITHUB_TOKEN")
        .env_remove("XTASK_REGISTRY_USERNAME")
        .env_remove("XTASK_REGISTRY_PASSWORD")
        .env_remove("RUST_LOG")
        .output()
        .expect("run xtask publish")
}

/// The fixture catalog pointed at `registry`, then a commit that changes nginx's
/// `latest` config, which both nginx variants read (`dev` includes it).
fn catalog_with_nginx_change(registry: &str) -> Fixture {
    let fixture = fixture::catalog();
    fixture.write(
        "catalog.yaml",
        &format!("registry: {registry}\nnamespace: test\narchs: [amd64, arm64]\n"),
    );
    fixture.commit("Publish to the test registry");
    fixture.write(
        "images/nginx/configs/latest.apko.yaml",
        &config("- nginx=1.24.0-r1\n    - ca-certificates-bundle"),
    );
    fixture.commit("Update nginx");
    fixture
}

#[test]
fn changed_publishes_built_and_skips_unbuilt() {
    if !require_tool("docker-registry", "docker-registry") {
        return;
    }
    let registry = TestRegistry::start(RegistrySetup::default());
    let fixture = catalog_with_nginx_change(&registry.address());
    let root = fixture.root();
    // Only nginx/latest is built; busybox is built too but did not change.
    let nginx = write_layout(
        &root.join("out/images/nginx/latest"),
        &["latest"],
        &[10_000],
        fresh_seed(),
    );
    let busybox = write_layout(
        &root.join("out/images/busybox/latest"),
        &["latest"],
        &[10_000],
        fresh_seed(),
    );

    let output = publish(root, &["--changed", "--base", "HEAD~1", "--no-sign"]);
    let stdout = text(&output.stdout);
    let stderr = text(&output.stderr);
    assert!(
        output.status.success(),
        "publish --changed failed:\n{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "{}/test/nginx@{}",
            registry.address(),
            nginx.index_digest
        )),
        "{stdout}"
    );
    assert!(
        stderr.contains("skipped nginx/dev: not built"),
        "no skip message for nginx/dev:\n{stderr}"
    );
    assert!(
        !stdout.contains("busybox"),
        "unchanged image published: {stdout}"
    );

    let pushed = get(
        registry.port,
        "/v2/test/nginx/manifests/latest",
        Some(OCI_INDEX),
    );
    assert_eq!(pushed.status, 200, "nginx:latest was not pushed");
    let unchanged = get(
        registry.port,
        &format!("/v2/test/busybox/manifests/{}", busybox.index_digest),
        Some(OCI_INDEX),
    );
    assert_eq!(
        unchanged.status, 404,
        "busybox was pushed although unchanged"
    );
}

#[test]
fn changed_without_changes_publishes_nothing() {
    let fixture = catalog_with_nginx_change("127.0.0.1:9");
    let output = publish(
        fixture.root(),
        &["--changed", "--base", "HEAD", "--no-sign"],
    );
    let stderr = text(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("no image changed"), "{stderr}");
    assert!(stderr.contains("nothing to publish"), "{stderr}");
    assert!(text(&output.stdout).is_empty(), "{}", text(&output.stdout));
}

#[test]
fn changed_dry_run_lists_selected_variants() {
    let fixture = catalog_with_nginx_change("127.0.0.1:9");
    let root = fixture.root();
    for variant in ["latest", "dev"] {
        write_layout(
            &root.join("out/images/nginx").join(variant),
            &[variant],
            &[1_000],
            fresh_seed(),
        );
    }
    let output = publish(root, &["--changed", "--base", "HEAD~1", "--dry-run"]);
    let stdout = text(&output.stdout);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(stdout.contains("nginx/latest:"), "{stdout}");
    assert!(stdout.contains("nginx/dev:"), "{stdout}");
    assert!(!stdout.contains("busybox"), "{stdout}");
}

#[test]
fn changed_conflicts_with_image_names() {
    let fixture = catalog_with_nginx_change("127.0.0.1:9");
    let output = publish(fixture.root(), &["nginx", "--changed"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("cannot be used with"),
        "{}",
        text(&output.stderr)
    );
}
