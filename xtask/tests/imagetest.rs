//! `cargo xtask test` against images built in the test: a catalog whose image runs a
//! static probe program (compiled here for x86_64 and aarch64), run through real bwrap,
//! qemu and Docker. Tools that are missing fail the test with an install hint, or skip
//! it with `XTASK_SKIP_MISSING_TOOLS=1`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use apk::PackageBuilder;
use apk::package::PackageFile;
use common::{package_info, require_tool, stderr, write, write_repository_with, xtask_in};

/// Scripts of the `probe` image, which pass on every runtime and architecture.
const PROBE_SCRIPTS: [(&str, &str); 3] = [
    (
        "contract.sh",
        r#"#!/bin/sh
# The runtime applies the image config (user, folder, environment, Cmd) and the
# test-script contract (shared folder, PID 1).
set -eu
test "$($RUN)" = default-cmd
test "$($RUN id)" = 4242:4242
test "$($RUN pwd)" = /home/probe
test "$($RUN env GREETING)" = hello
test "$($RUN env HOME)" = /home/probe
test "$($RUN args 'two words' -v)" = "$(printf 'two words\n-v')"
test "$($RUN pid)" = 1
test -x "$ROOTFS/usr/bin/probe"
$RUN write "$SHARED_DIR_IN_IMAGE/out"
test "$(cat "$SHARED_DIR/out")" = written
grep -q '"User":"4242"' "$CONFIG"
echo "contract holds on $ARCH with $RUNTIME"
"#,
    ),
    (
        "serve.sh",
        r#"#!/bin/sh
# The image serves on its port and exits 0 on SIGQUIT sent to the process $RUN started.
# ports: 8080
set -eu
$RUN serve 8080 >"$SHARED_DIR/serve.log" 2>&1 &
pid=$!
tries=0
until curl -fs "http://127.0.0.1:$PORT_8080/" >"$SHARED_DIR/page" 2>/dev/null; do
  tries=$((tries + 1))
  if [ "$tries" -ge 200 ]; then cat "$SHARED_DIR/serve.log"; exit 1; fi
  sleep 0.1
done
test "$(cat "$SHARED_DIR/page")" = probe
kill -QUIT "$pid"
status=0
wait "$pid" || status=$?
cat "$SHARED_DIR/serve.log"
test "$status" = 0
grep -qx 'stopped by signal 3' "$SHARED_DIR/serve.log"
"#,
    ),
    (
        "network.sh",
        r#"#!/bin/sh
# Under bwrap, the script has a network namespace of its own with only loopback.
set -eu
if [ "$RUNTIME" != bwrap ]; then
  echo "skipped: Docker gives the container a network of its own"
  exit 0
fi
test "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' /proc/net/dev)" = lo
"#,
    ),
];

/// Scripts of the `probe-fail` image: one passes, the others fail in different ways.
const FAILING_SCRIPTS: [(&str, &str); 3] = [
    ("passes.sh", "#!/bin/sh\nset -eu\n$RUN id >/dev/null\n"),
    (
        "fails.sh",
        "#!/bin/sh\necho 'this line explains the failure'\nexit 3\n",
    ),
    // The served port is unique, so the test can look for a leftover process.
    ("hangs.sh", "#!/bin/sh\n$RUN serve 18099 &\nsleep 600\n"),
];

/// Compiles the probe statically with `compiler` into `dir/probe-<arch>`.
fn compile_probe(compiler: &str, arch: &str, dir: &Path) -> PathBuf {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/imagetest/probe.c");
    let binary = dir.join(format!("probe-{arch}"));
    let output = Command::new(compiler)
        .args(["-static", "-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .unwrap_or_else(|error| panic!("run {compiler}: {error}"));
    assert!(
        output.status.success(),
        "{compiler} failed:\n{}",
        stderr(&output)
    );
    binary
}

/// Returns false (after `require_tool`'s message) unless every tool these tests run is
/// installed.
fn tools_present() -> bool {
    require_tool("bwrap", "apt-get install bubblewrap")
        && require_tool("cc", "apt-get install build-essential")
        && require_tool(
            "aarch64-linux-gnu-gcc",
            "apt-get install gcc-aarch64-linux-gnu",
        )
        && require_tool("curl", "apt-get install curl")
}

/// A catalog with the images `probe` and `probe-fail`, both running the probe program as
/// user 4242, with a signed repository holding the probe for both architectures.
fn catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let binaries = [
        ("x86_64", compile_probe("cc", "x86_64", root)),
        (
            "aarch64",
            compile_probe("aarch64-linux-gnu-gcc", "aarch64", root),
        ),
    ];
    write_repository_with(root, |arch| {
        let binary = binaries
            .iter()
            .find(|(name, _)| *name == arch)
            .map(|(_, path)| std::fs::read(path).expect("read probe"))
            .expect("probe for arch");
        let mut probe = PackageBuilder::new(package_info("probe", "1.0.0-r0", arch));
        probe.files = vec![PackageFile::file("usr/bin/probe", 0o755, binary)];
        probe.mtime = common::BUILD_TIME;
        let mut base = PackageBuilder::new(package_info("base", "1.0.0-r0", arch));
        base.files = vec![
            PackageFile::file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n"),
            PackageFile::file("etc/group", 0o644, "root:x:0:\n"),
        ];
        base.mtime = common::BUILD_TIME;
        vec![base, probe]
    });
    write(
        root,
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64, arm64]\n",
    );
    let config = format!(
        "contents:\n  repositories:\n    - ./repo\n  keyring:\n    - ./keys/{}\n  packages:\n    - base\n    - probe\n\
         accounts:\n  groups:\n    - groupname: probe\n      gid: 4242\n  users:\n    - username: probe\n      uid: 4242\n      gid: 4242\n  run-as: probe\n\
         entrypoint:\n  command: /usr/bin/probe\ncmd: args default-cmd\nwork-dir: /home/probe\nenvironment:\n  GREETING: hello\n\
         archs: [x86_64, aarch64]\n",
        common::KEY_NAME
    );
    for (image, scripts) in [
        ("probe", PROBE_SCRIPTS.as_slice()),
        ("probe-fail", FAILING_SCRIPTS.as_slice()),
    ] {
        write(
            root,
            &format!("images/{image}/image.yaml"),
            "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
        );
        write(
            root,
            &format!("images/{image}/configs/latest.apko.yaml"),
            &config,
        );
        for (name, text) in scripts {
            write(root, &format!("images/{image}/tests/{name}"), text);
        }
    }
    dir
}

fn build(root: &Path, image: &str) {
    let output = xtask_in(root, &["build", image], &[], "");
    assert!(
        output.status.success(),
        "build failed:\n{}",
        stderr(&output)
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Asserts that the report has a `PASS` line for each of `tests` on `target`.
fn assert_passed(report: &str, target: &str, tests: &[&str]) {
    for test in tests {
        let prefix = format!("PASS {target} {test}:");
        assert!(
            report.lines().any(|line| line.starts_with(&prefix)),
            "no `{prefix}` line in:\n{report}"
        );
    }
}

#[test]
fn bwrap_amd64_passes_probe_tests() {
    if !tools_present() {
        return;
    }
    let dir = catalog();
    build(dir.path(), "probe");
    let output = xtask_in(dir.path(), &["test", "probe", "--arch", "amd64"], &[], "");
    let report = stdout(&output);
    assert!(output.status.success(), "{report}\n{}", stderr(&output));
    assert_passed(
        &report,
        "probe:latest amd64",
        &[
            "image-config",
            "sbom-packages",
            "contract.sh",
            "network.sh",
            "serve.sh",
        ],
    );
    assert_eq!(
        report.lines().last(),
        Some("5 passed, 0 failed"),
        "{report}"
    );
}

#[test]
fn bwrap_arm64_runs_under_qemu() {
    if !tools_present() || !require_tool("qemu-aarch64-static", "apt-get install qemu-user-static")
    {
        return;
    }
    let dir = catalog();
    build(dir.path(), "probe");
    let output = xtask_in(dir.path(), &["test", "probe", "--arch", "arm64"], &[], "");
    let report = stdout(&output);
    assert!(output.status.success(), "{report}\n{}", stderr(&output));
    assert_passed(
        &report,
        "probe:latest arm64",
        &["contract.sh", "network.sh", "serve.sh"],
    );
    assert_eq!(
        report.lines().last(),
        Some("5 passed, 0 failed"),
        "{report}"
    );
}

#[test]
fn failures_are_reported_and_counted() {
    if !tools_present() {
        return;
    }
    let dir = catalog();
    build(dir.path(), "probe-fail");
    // Drop the probe package from the SBOM, so that it no longer matches the apk database.
    let sbom_path = dir
        .path()
        .join("out/images/probe-fail/latest/sbom-x86_64.spdx.json");
    let mut sbom: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&sbom_path).expect("read SBOM")).expect("SBOM JSON");
    sbom["packages"]
        .as_array_mut()
        .expect("packages")
        .retain(|package| package["name"] != "probe");
    std::fs::write(&sbom_path, serde_json::to_vec(&sbom).expect("JSON")).expect("write SBOM");

    let output = xtask_in(
        dir.path(),
        &["test", "probe-fail", "--arch", "amd64", "--timeout", "5"],
        &[],
        "",
    );
    let report = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{report}\n{}",
        stderr(&output)
    );
    let target = "probe-fail:latest amd64";
    assert_passed(&report, target, &["image-config", "passes.sh"]);
    assert!(
        report.contains(&format!(
            "FAIL {target} fails.sh: exit code 3\n    this line explains the failure"
        )),
        "{report}"
    );
    assert!(
        report.contains(&format!("FAIL {target} hangs.sh: timed out after 5 s")),
        "{report}"
    );
    assert!(
        report.contains(&format!("FAIL {target} sbom-packages:"))
            && report.contains("installed but not listed: [\"probe-1.0.0-r0\"]"),
        "{report}"
    );
    assert_eq!(
        report.lines().last(),
        Some("2 passed, 3 failed"),
        "{report}"
    );
    assert_eq!(
        leftover_servers("18099"),
        Vec::<String>::new(),
        "the timed-out script's image still runs"
    );
}

/// Returns the PIDs of processes whose command line includes `serve PORT`.
fn leftover_servers(port: &str) -> Vec<String> {
    let needle = format!("serve\0{port}");
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&needle) {
            found.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    found
}

#[test]
fn unbuilt_image_names_build_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    write(
        dir.path(),
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64]\n",
    );
    write(
        dir.path(),
        "images/probe/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
    );
    write(
        dir.path(),
        "images/probe/configs/latest.apko.yaml",
        "contents:\n  packages: [probe]\n",
    );
    write(dir.path(), "images/probe/tests/run.sh", "#!/bin/sh\n");
    let output = xtask_in(dir.path(), &["test", "probe"], &[], "");
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("run `cargo xtask build probe` first"),
        "{message}"
    );
    let output = xtask_in(dir.path(), &["test"], &[], "");
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("no image has a built layout"), "{message}");
}

/// Returns true when a Docker engine responds; fails or skips like `require_tool` when not.
fn docker_present() -> bool {
    if !require_tool("docker", "apt-get install docker.io") {
        return false;
    }
    let answers = Command::new("docker")
        .args(["version", "--format", "{{.Server.Arch}}"])
        .output()
        .is_ok_and(|output| output.status.success());
    if answers {
        return true;
    }
    if std::env::var("XTASK_SKIP_MISSING_TOOLS").is_ok_and(|value| value == "1") {
        eprintln!("skipped: the Docker engine does not answer");
        return false;
    }
    panic!(
        "the Docker engine does not answer; start it, or set XTASK_SKIP_MISSING_TOOLS=1 to skip this test"
    );
}

#[test]
fn docker_runtime_runs_and_cleans_up() {
    if !tools_present() || !docker_present() {
        return;
    }
    let dir = catalog();
    build(dir.path(), "probe");
    let output = xtask_in(
        dir.path(),
        &["test", "probe", "--runtime", "docker", "--arch", "amd64"],
        &[],
        "",
    );
    let report = stdout(&output);
    assert!(output.status.success(), "{report}\n{}", stderr(&output));
    assert_passed(
        &report,
        "probe:latest amd64",
        &["contract.sh", "network.sh", "serve.sh"],
    );
    assert_eq!(
        report.lines().last(),
        Some("5 passed, 0 failed"),
        "{report}"
    );

    let output = xtask_in(
        dir.path(),
        &["test", "probe", "--runtime", "docker", "--arch", "arm64"],
        &[],
        "",
    );
    let report = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{report}");
    assert!(
        report.contains("FAIL probe:latest arm64 setup: the Docker engine runs amd64 images and cannot run arm64"),
        "{report}"
    );

    let images = Command::new("docker")
        .args(["image", "ls", "--quiet", "xtask-test/probe"])
        .output()
        .expect("docker image ls");
    assert_eq!(stdout(&images), "", "loaded images were not removed");
    let containers = Command::new("docker")
        .args([
            "ps",
            "--all",
            "--quiet",
            "--filter",
            "label=xtask.imagetest",
        ])
        .output()
        .expect("docker ps");
    assert_eq!(stdout(&containers), "", "containers were not removed");
}
