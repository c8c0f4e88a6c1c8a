//! Builds from the shared real-world fixtures (apko's test data), checked with the
//! tools that consume images: skopeo, umoci and the SPDX validator. Skipped with a
//! message when the fixtures are absent.

mod common;

use std::path::Path;
use std::process::Command;

use common::{require_tool, shared_fixtures, stderr, xtask_in};
use xtask::oci::LayoutReader;

/// Lays out the melange repository as its apko config expects (`testdata/packages`,
/// `testdata/melange.rsa.pub`) with symlinks, and copies the config next to it.
fn melange_project(fixtures: &Path) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let testdata = dir.path().join("testdata");
    std::fs::create_dir_all(&testdata).expect("create testdata");
    let repo = fixtures.join("apk/melange-repo");
    std::os::unix::fs::symlink(&repo, testdata.join("packages")).expect("link repo");
    std::os::unix::fs::symlink(
        repo.join("melange.rsa.pub"),
        testdata.join("melange.rsa.pub"),
    )
    .expect("link key");
    std::fs::copy(
        fixtures.join("apko-configs/melange-repo.apko.yaml"),
        dir.path().join("melange-repo.apko.yaml"),
    )
    .expect("copy config");
    dir
}

fn build_melange(dir: &Path, output: &str, extra: &[&str]) {
    let mut args = vec![
        "build",
        "--config",
        "melange-repo.apko.yaml",
        "--output",
        output,
    ];
    args.extend_from_slice(extra);
    let result = xtask_in(dir, &args, &[], "");
    assert!(
        result.status.success(),
        "build failed:\n{}",
        stderr(&result)
    );
}

fn run(tool: &str, args: &[&str], dir: &Path) -> String {
    let output = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    assert!(
        output.status.success(),
        "{tool} {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn melange_repo_builds_both_archs() {
    let Some(fixtures) = shared_fixtures() else {
        return;
    };
    let dir = melange_project(&fixtures);
    build_melange(dir.path(), "out/img", &[]);
    let files = common::layer_files(&dir.path().join("out/img"), "arm64");
    let os_release = String::from_utf8_lossy(&files["etc/os-release"].content).into_owned();
    assert!(
        os_release.contains("ID=replaces"),
        "replayout replaces pretend-baselayout: {os_release}"
    );
    let installed =
        String::from_utf8_lossy(&files["usr/lib/apk/db/installed"].content).into_owned();
    assert!(installed.contains("P:replayout\n"), "{installed}");
    assert!(installed.contains("A:aarch64\n"), "{installed}");
    let lock = std::fs::read_to_string(dir.path().join("out/img/lock.json")).expect("lock");
    assert!(
        lock.contains("\"url\": \"./testdata/packages/x86_64/replayout-1.0.0-r0.apk\""),
        "{lock}"
    );
}

#[test]
fn skopeo_inspect_shows_both_platforms() {
    let Some(fixtures) = shared_fixtures() else {
        return;
    };
    if !require_tool("skopeo", "apt-get install skopeo") {
        return;
    }
    let dir = melange_project(&fixtures);
    build_melange(dir.path(), "out/img", &[]);
    let raw = run(
        "skopeo",
        &["inspect", "--raw", "oci:out/img:latest"],
        dir.path(),
    );
    let index: serde_json::Value = serde_json::from_str(&raw).expect("index JSON");
    let platforms: Vec<&str> = index["manifests"]
        .as_array()
        .expect("manifests")
        .iter()
        .filter_map(|m| m["platform"]["architecture"].as_str())
        .collect();
    assert_eq!(platforms, vec!["amd64", "arm64"]);
    let inspect = run(
        "skopeo",
        &["inspect", "--override-arch", "arm64", "oci:out/img:latest"],
        dir.path(),
    );
    let image: serde_json::Value = serde_json::from_str(&inspect).expect("inspect JSON");
    assert_eq!(image["Architecture"], "arm64");
    assert_eq!(image["Os"], "linux");
}

#[test]
fn umoci_unpacks_amd64_image() {
    let Some(fixtures) = shared_fixtures() else {
        return;
    };
    if !require_tool("umoci", "apt-get install umoci") {
        return;
    }
    let dir = melange_project(&fixtures);
    build_melange(dir.path(), "out/img", &[]);
    // umoci 0.4 cannot pick a platform from an index, so the amd64 image is also built
    // alone. Reproducibility makes it the same manifest as in the two-arch index.
    build_melange(dir.path(), "out/amd64", &["--arch", "amd64"]);
    let both = common::manifest(&dir.path().join("out/img"), "amd64");
    let alone = common::manifest(&dir.path().join("out/amd64"), "amd64");
    assert_eq!(both, alone);
    run(
        "umoci",
        &[
            "unpack",
            "--rootless",
            "--image",
            "out/amd64:latest",
            "bundle",
        ],
        dir.path(),
    );
    let rootfs = dir.path().join("bundle/rootfs");
    let os_release = std::fs::read_to_string(rootfs.join("etc/os-release")).expect("os-release");
    assert!(os_release.contains("ID=replaces"), "{os_release}");
    let sbom = rootfs.join("var/lib/db/sbom/replayout-1.0.0-r0.spdx.json");
    assert!(sbom.is_file(), "package file missing");
    let installed = std::fs::read_to_string(rootfs.join("lib/apk/db/installed")).expect("apk db");
    assert!(installed.contains("P:pretend-baselayout\n"), "{installed}");
    assert!(rootfs.join("etc/passwd").is_file(), "/etc/passwd missing");
    let keys = rootfs.join("etc/apk/keys/melange.rsa.pub");
    assert!(keys.is_file(), "key missing");
}

#[test]
fn sboms_pass_spdx_validation() {
    let Some(fixtures) = shared_fixtures() else {
        return;
    };
    if !require_tool("pyspdxtools", "bash .ci/setup") {
        return;
    }
    let dir = melange_project(&fixtures);
    build_melange(dir.path(), "out/img", &[]);
    for name in [
        "sbom-index.spdx.json",
        "sbom-x86_64.spdx.json",
        "sbom-aarch64.spdx.json",
    ] {
        let path = format!("out/img/{name}");
        let output = run("pyspdxtools", &["-i", &path], dir.path());
        assert!(!output.contains("error"), "{name}: {output}");
        let text = std::fs::read_to_string(dir.path().join(&path)).expect("sbom");
        assert!(
            text.contains("pkg:apk/replaces/replayout@1.0.0-r0?arch="),
            "{name}"
        );
    }
}

#[test]
fn users_fixture_accounts_match_apko() {
    let Some(fixtures) = shared_fixtures() else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    common::write_repository(dir.path(), &[]);
    // The fixture's contents name a repository that does not exist; its accounts are
    // kept and the contents point at the generated repository.
    let users =
        std::fs::read_to_string(fixtures.join("apko-configs/users.apko.yaml")).expect("fixture");
    let accounts = users
        .split_once("accounts:")
        .map(|(_, rest)| format!("accounts:{rest}"))
        .expect("accounts section");
    let text = common::config(&["base"], &accounts);
    std::fs::write(dir.path().join("config.apko.yaml"), text).expect("write config");
    let output = common::build(dir.path(), &["--arch", "amd64"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let files = common::layer_files(&dir.path().join("out/img"), "amd64");
    let passwd = String::from_utf8_lossy(&files["etc/passwd"].content).into_owned();
    assert!(passwd.ends_with(
        "something-else:x:2:1:Account created by apko:/not/home:/bin/sh\nuser:x:3:3:Account created by apko:/home/user:/bin/sh\n"
    ), "{passwd}");
    let shadow = String::from_utf8_lossy(&files["etc/shadow"].content).into_owned();
    assert_eq!(shadow, "something-else:!:::::::\nuser:!:::::::\n");
    assert_eq!(files["not/home"].mode, 0o700);
    assert_eq!((files["not/home"].uid, files["not/home"].gid), (2, 1));
    assert_eq!((files["home/user"].uid, files["home/user"].gid), (3, 3));
    assert!(LayoutReader::open(&dir.path().join("out/img")).is_ok());
}
