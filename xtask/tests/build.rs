//! `cargo xtask build` on repositories generated in temporary folders: contents of the
//! image, reproducibility, lock files and rejected input.

mod common;

use std::path::Path;

use common::{build, config, layer_files, manifest, stderr, write_repository, xtask_in};
use xtask::oci::{ImageConfig, LayoutReader};

fn project(config_text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write_repository(dir.path(), &[]);
    std::fs::write(dir.path().join("config.apko.yaml"), config_text).expect("write config");
    dir
}

fn assert_success(output: &std::process::Output) {
    assert!(output.status.success(), "build failed:\n{}", stderr(output));
}

/// Returns every file under the layout with its bytes, for whole-output comparisons.
fn output_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).expect("read folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(dir)
                    .expect("prefix")
                    .display()
                    .to_string();
                files.push((name, std::fs::read(&path).expect("read file")));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn build_installs_packages_and_apk_db() {
    let dir = project(&config(
        &["app"],
        "entrypoint:\n  command: /usr/bin/app --serve\n",
    ));
    assert_success(&build(dir.path(), &[]));
    let layout = dir.path().join("out/img");
    let files = layer_files(&layout, "amd64");
    assert_eq!(files["usr/bin/app"].content, b"#!/bin/sh\necho app\n");
    assert_eq!(files["bin/sh"].content, b"#!/bin/true x86_64\n");
    assert_eq!(files["bin/ash"].link.as_deref(), Some("sh"));
    assert_eq!(files["tmp"].mode, 0o1777);
    assert_eq!(files["etc/apk/world"].content, b"app\n");
    assert_eq!(files["etc/apk/arch"].content, b"x86_64\n");
    assert_eq!(files["etc/apk/repositories"].content, b"./repo\n");
    assert!(files.contains_key("etc/apk/keys/test.rsa.pub"));
    assert_eq!(files["lib/apk"].link.as_deref(), Some("../usr/lib/apk"));
    let installed =
        String::from_utf8_lossy(&files["usr/lib/apk/db/installed"].content).into_owned();
    assert!(installed.contains("P:base\nV:1.0.0-r0\n"), "{installed}");
    assert!(installed.contains("P:app\nV:1.2.3-r0\n"), "{installed}");
    assert!(
        installed.find("P:base") < installed.find("P:app"),
        "install order"
    );
    let scripts = &files["usr/lib/apk/db/scripts.tar"].content;
    let mut archive = tar::Archive::new(scripts.as_slice());
    let names: Vec<String> = archive
        .entries()
        .expect("scripts")
        .map(|e| {
            e.expect("entry")
                .path()
                .expect("path")
                .display()
                .to_string()
        })
        .collect();
    assert_eq!(names.len(), 1);
    assert!(names[0].starts_with("base-1.0.0-r0.Q1"), "{names:?}");
    assert!(names[0].ends_with(".post-install"), "{names:?}");
    assert!(
        files
            .iter()
            .all(|(_, f)| f.uid == 0 || f.kind == tar::EntryType::Directory)
    );
}

#[test]
fn build_writes_oci_config() {
    let extra = "entrypoint:\n  command: /usr/bin/app --serve \"a b\"\ncmd: --verbose\nwork-dir: /srv\nstop-signal: SIGQUIT\nvolumes: [/data]\nenvironment:\n  FOO: bar\nannotations:\n  org.opencontainers.image.vendor: Example\n";
    let dir = project(&config(&["app"], extra));
    assert_success(&build(dir.path(), &[]));
    let layout = dir.path().join("out/img");
    let manifest = manifest(&layout, "arm64");
    let reader = LayoutReader::open(&layout).expect("layout");
    let image: ImageConfig = reader.read_json(&manifest.config.digest).expect("config");
    let runtime = &image.config;
    assert_eq!(image.architecture, "arm64");
    assert_eq!(image.created, "2023-11-14T22:13:20Z");
    assert_eq!(
        runtime.entrypoint.as_deref(),
        Some(
            &[
                "/usr/bin/app".to_owned(),
                "--serve".to_owned(),
                "a b".to_owned()
            ][..]
        )
    );
    assert_eq!(runtime.cmd.as_deref(), Some(&["--verbose".to_owned()][..]));
    assert_eq!(runtime.working_dir.as_deref(), Some("/srv"));
    assert_eq!(runtime.stop_signal.as_deref(), Some("SIGQUIT"));
    assert!(runtime.volumes.contains_key("/data"));
    assert!(runtime.env.contains(&"FOO=bar".to_owned()));
    assert!(
        runtime
            .env
            .iter()
            .any(|e| e.starts_with("PATH=/usr/local/sbin"))
    );
    assert!(runtime.env.iter().any(|e| e.starts_with("SSL_CERT_FILE=")));
    assert_eq!(runtime.labels["org.opencontainers.image.vendor"], "Example");
    assert_eq!(
        manifest.annotations["org.opencontainers.image.vendor"],
        "Example"
    );
}

#[test]
fn build_appends_accounts_and_paths() {
    let extra = "\
accounts:
  groups:
    - groupname: nonroot
      gid: 65532
      members: [nonroot]
  users:
    - username: nonroot
      uid: 65532
  run-as: nonroot
paths:
  - path: /var/lib/app
    type: directory
    uid: 65532
    gid: 65532
    permissions: 0o750
  - path: /var/lib/app/ready
    type: empty-file
    permissions: 0o600
  - path: /usr/bin/app-link
    type: hardlink
    source: /usr/bin/app
  - path: /usr/local/bin/app
    type: symlink
    source: /usr/bin/app
";
    let dir = project(&config(&["app"], extra));
    assert_success(&build(dir.path(), &[]));
    let layout = dir.path().join("out/img");
    let files = layer_files(&layout, "amd64");
    let text = |path: &str| String::from_utf8_lossy(&files[path].content).into_owned();
    assert_eq!(
        text("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:Account created by apko:/home/nonroot:/bin/sh\n"
    );
    assert_eq!(text("etc/group"), "root:x:0:\nnonroot:x:65532:nonroot\n");
    assert_eq!(text("etc/shadow"), "nonroot:!:::::::\n");
    let home = &files["home/nonroot"];
    assert_eq!((home.mode, home.uid, home.gid), (0o700, 65532, 65532));
    assert_eq!(files["root"].mode, 0o700, "package users get homes too");
    let data = &files["var/lib/app"];
    assert_eq!((data.mode, data.uid, data.gid), (0o750, 65532, 65532));
    assert_eq!(files["var/lib/app/ready"].mode, 0o600);
    assert_eq!(files["usr/bin/app-link"].kind, tar::EntryType::Link);
    assert_eq!(
        files["usr/local/bin/app"].link.as_deref(),
        Some("/usr/bin/app")
    );
    let manifest = manifest(&layout, "amd64");
    let reader = LayoutReader::open(&layout).expect("layout");
    let image: ImageConfig = reader.read_json(&manifest.config.digest).expect("config");
    assert_eq!(image.config.user.as_deref(), Some("65532"));
}

#[test]
fn build_writes_service_bundle() {
    let extra = "entrypoint:\n  type: service-bundle\n  services:\n    app: /usr/bin/app --serve\n";
    let dir = project(&config(&["app"], extra));
    assert_success(&build(dir.path(), &[]));
    let layout = dir.path().join("out/img");
    let files = layer_files(&layout, "amd64");
    assert_eq!(
        files["sv/app/run"].content,
        b"#!/bin/execlineb\n/usr/bin/app --serve\n"
    );
    assert!(
        files.contains_key("bin/s6-svscan"),
        "s6 is added to the world"
    );
    let reader = LayoutReader::open(&layout).expect("layout");
    let image: ImageConfig = reader
        .read_json(&manifest(&layout, "amd64").config.digest)
        .expect("config");
    assert_eq!(
        image.config.entrypoint,
        Some(vec!["/bin/s6-svscan".to_owned(), "/sv".to_owned()])
    );
}

#[test]
fn build_is_reproducible() {
    let text = config(
        &["app"],
        "accounts:\n  users:\n    - username: app\n      uid: 1000\n",
    );
    let first = project(&text);
    let second = tempfile::tempdir().expect("temp dir");
    common::copy_dir(first.path(), second.path());
    let one = xtask_in(
        first.path(),
        &[
            "build",
            "--config",
            "config.apko.yaml",
            "--output",
            "out/img",
            "-j",
            "1",
        ],
        &[("TZ", "UTC"), ("LC_ALL", "C")],
        "umask 022",
    );
    assert_success(&one);
    let two = xtask_in(
        second.path(),
        &[
            "build",
            "--config",
            "config.apko.yaml",
            "--output",
            "out/img",
            "-j",
            "3",
        ],
        &[("TZ", "Asia/Tokyo"), ("LC_ALL", "C.UTF-8")],
        "umask 077",
    );
    assert_success(&two);
    let files_one = output_files(&first.path().join("out/img"));
    let files_two = output_files(&second.path().join("out/img"));
    let names_one: Vec<&String> = files_one.iter().map(|(name, _)| name).collect();
    let names_two: Vec<&String> = files_two.iter().map(|(name, _)| name).collect();
    assert_eq!(names_one, names_two, "same blobs, SBOMs and lock");
    for ((name, bytes_one), (_, bytes_two)) in files_one.iter().zip(&files_two) {
        assert!(
            bytes_one == bytes_two,
            "`{name}` differs between the builds"
        );
    }
    assert!(
        files_one.len() >= 9,
        "two layers, configs, manifests, index and metadata"
    );
}

#[test]
fn build_honors_source_date_epoch() {
    let dir = project(&config(&["base"], ""));
    let output = xtask_in(
        dir.path(),
        &[
            "build",
            "--config",
            "config.apko.yaml",
            "--output",
            "out/img",
            "--arch",
            "amd64",
        ],
        &[("SOURCE_DATE_EPOCH", "86400")],
        "",
    );
    assert_success(&output);
    let layout = dir.path().join("out/img");
    let reader = LayoutReader::open(&layout).expect("layout");
    let image: ImageConfig = reader
        .read_json(&manifest(&layout, "amd64").config.digest)
        .expect("config");
    assert_eq!(image.created, "1970-01-02T00:00:00Z");
}

#[test]
fn build_from_lock_ignores_newer_packages() {
    let dir = project(&config(&["app"], ""));
    assert_success(&build(dir.path(), &[]));
    let layout = dir.path().join("out/img");
    let first = LayoutReader::open(&layout)
        .expect("layout")
        .resolve_tag("latest")
        .expect("tag");
    std::fs::copy(layout.join("lock.json"), dir.path().join("app.lock.json")).expect("copy lock");
    // A newer `app` lands in the repository: resolving picks it, the lock does not.
    write_repository(dir.path(), &[("app", "1.2.4-r0")]);
    assert_success(&build(dir.path(), &["--lock", "app.lock.json"]));
    let locked = LayoutReader::open(&layout)
        .expect("layout")
        .resolve_tag("latest")
        .expect("tag");
    assert_eq!(locked.digest, first.digest);
    assert_success(&build(dir.path(), &[]));
    let resolved = LayoutReader::open(&layout)
        .expect("layout")
        .resolve_tag("latest")
        .expect("tag");
    assert_ne!(resolved.digest, first.digest);
}

#[test]
fn build_sets_tags_from_arguments() {
    let dir = project(&config(&["base"], ""));
    assert_success(&build(dir.path(), &["--tag", "latest", "--tag", "1.0"]));
    let reader = LayoutReader::open(&dir.path().join("out/img")).expect("layout");
    assert_eq!(reader.tags().expect("tags"), vec!["latest", "1.0"]);
}

#[test]
fn sboms_list_packages_and_validate() {
    let dir = project(&config(&["app"], ""));
    assert_success(&build(dir.path(), &[]));
    let layout = dir.path().join("out/img");
    let text = std::fs::read_to_string(layout.join("sbom-x86_64.spdx.json")).expect("sbom");
    let sbom: serde_json::Value = serde_json::from_str(&text).expect("sbom JSON");
    let packages = sbom["packages"].as_array().expect("packages");
    let base = packages
        .iter()
        .find(|p| p["name"] == "base")
        .expect("base listed");
    assert_eq!(base["versionInfo"], "1.0.0-r0");
    assert_eq!(base["supplier"], "Organization: Test OS");
    assert_eq!(
        base["licenseDeclared"],
        "GPL-2.0-or-later AND LicenseRef-custom"
    );
    assert_eq!(
        base["externalRefs"][0]["referenceLocator"],
        "pkg:apk/testos/base@1.0.0-r0?arch=x86_64"
    );
    assert_eq!(base["checksums"][0]["algorithm"], "SHA256");
    if !common::require_tool("pyspdxtools", "bash .ci/setup") {
        return;
    }
    for name in [
        "sbom-index.spdx.json",
        "sbom-x86_64.spdx.json",
        "sbom-aarch64.spdx.json",
    ] {
        let output = std::process::Command::new("pyspdxtools")
            .arg("-i")
            .arg(layout.join(name))
            .output()
            .expect("run pyspdxtools");
        assert!(output.status.success(), "{name}: {}", stderr(&output));
    }
}

/// Builds `config_text` expecting failure; checks that stderr names every `needle`
/// and that nothing was left under `out/`.
fn assert_rejected(config_text: &str, needles: &[&str]) {
    let dir = project(config_text);
    let output = build(dir.path(), &[]);
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    for needle in needles {
        assert!(
            message.contains(needle),
            "`{needle}` missing from:\n{message}"
        );
    }
    assert!(
        !dir.path().join("out").exists(),
        "partial output left:\n{message}"
    );
}

#[test]
fn build_rejects_missing_package() {
    assert_rejected(
        &config(&["nonexistent"], ""),
        &["config.apko.yaml", "nonexistent"],
    );
}

#[test]
fn build_rejects_unsatisfiable_pin() {
    assert_rejected(
        &config(&["app=9.9.9-r0"], ""),
        &["config.apko.yaml", "app=9.9.9-r0"],
    );
}

#[test]
fn build_rejects_missing_key() {
    let text = config(&["app"], "").replace("test.rsa.pub", "missing.rsa.pub");
    assert_rejected(&text, &["config.apko.yaml", "missing.rsa.pub"]);
}

#[test]
fn build_rejects_path_outside_root() {
    let extra = "paths:\n  - path: /../../etc/evil\n    type: directory\n";
    assert_rejected(
        &config(&["base"], extra),
        &[
            "config.apko.yaml",
            "/../../etc/evil",
            "leaves the image root",
        ],
    );
}

#[test]
fn build_rejects_file_conflict() {
    assert_rejected(
        &config(&["app", "clash"], ""),
        &["/usr/bin/app", "app-1.2.3-r0", "clash-1.0.0-r0"],
    );
}

#[test]
fn build_rejects_unknown_arch() {
    let dir = project(&config(&["base"], "").replace("[x86_64, aarch64]", "[x86_64, sparc]"));
    let output = build(dir.path(), &[]);
    let message = stderr(&output);
    assert!(!output.status.success());
    assert!(message.contains("config.apko.yaml"), "{message}");
    assert!(message.contains("sparc"), "{message}");
    assert!(!dir.path().join("out").exists());
}
