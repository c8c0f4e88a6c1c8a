//! `cargo xtask readme` as a user runs it: on a copy of this repository's catalog in
//! a temporary folder, with GitHub replaced by a loopback server.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::github_server::GitHubServer;

const ROOT_README: &str = "# Catalog\n\nKept as written.\n\n<!-- BEGIN RELEASE TABLE -->\n<!-- END RELEASE TABLE -->\n\nTail.\n";
const TOKEN: &str = "ghs_cliLoopbackToken9876543210";

/// Copies `catalog.yaml`, `images/` and `packages/` of this repository into
/// `<temp>/catalog` and writes a root README with empty table markers.
fn catalog_copy() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().expect("temporary folder");
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let root = temp.path().join("catalog");
    std::fs::create_dir(&root).expect("create catalog folder");
    std::fs::copy(source.join("catalog.yaml"), root.join("catalog.yaml")).expect("copy");
    copy_tree(&source.join("images"), &root.join("images"));
    copy_tree(&source.join("packages"), &root.join("packages"));
    std::fs::write(root.join("README.md"), ROOT_README).expect("write README");
    (temp, root)
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("list folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

/// Runs the tool in `cwd` with GitHub variables cleared, plus `env`.
fn xtask(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.current_dir(cwd).args(args);
    for name in [
        "GITHUB_REPOSITORY",
        "GITHUB_TOKEN",
        "GITHUB_API_URL",
        "GITHUB_ACTIONS",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("run xtask")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn check_fails_then_write_fixes() {
    let (temp, root) = catalog_copy();

    let check = xtask(temp.path(), &["-C", "catalog", "readme", "--check"], &[]);
    let stdout = text(&check.stdout);
    let stderr = text(&check.stderr);
    assert_eq!(check.status.code(), Some(1), "{stderr}");
    assert!(
        stdout.contains("--- a/README.md\n+++ b/README.md\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("+| [nginx](images/nginx/README.md) | latest |"),
        "{stdout}"
    );
    assert!(
        stderr.contains("run `cargo xtask -C catalog readme`"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(root.join("README.md")).expect("read"),
        ROOT_README
    );

    let write = xtask(temp.path(), &["-C", "catalog", "readme"], &[]);
    assert_eq!(write.status.code(), Some(0), "{}", text(&write.stderr));
    let readme = std::fs::read_to_string(root.join("README.md")).expect("read");
    assert!(
        readme.starts_with("# Catalog\n\nKept as written.\n\n"),
        "{readme}"
    );
    assert!(
        readme.ends_with("<!-- END RELEASE TABLE -->\n\nTail.\n"),
        "{readme}"
    );
    assert!(
        !root.join("releases.json").exists(),
        "plain runs must not write records"
    );

    let again = xtask(&root, &["readme", "--check"], &[]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(again.stdout.is_empty(), "{}", text(&again.stdout));
}

#[test]
fn github_outcomes_persist_for_check() {
    let (_temp, root) = catalog_copy();
    let server = GitHubServer::start(&[
        (
            "/repos/example-org/images/actions/workflows/release.yaml/runs?branch=main&status=completed&per_page=1",
            "workflow-runs.json",
        ),
        (
            "/repos/example-org/images/actions/runs/12045678901/jobs?filter=latest&per_page=100&page=1",
            "jobs-page-1.json",
        ),
        (
            "/repos/example-org/images/actions/runs/12045678901/jobs?filter=latest&per_page=100&page=2",
            "jobs-page-2.json",
        ),
    ]);
    let env = [
        ("GITHUB_REPOSITORY", "example-org/images"),
        ("GITHUB_API_URL", server.url.as_str()),
        ("GITHUB_TOKEN", TOKEN),
        ("RUST_LOG", "trace"),
    ];
    let output = xtask(&root, &["readme", "--github"], &env);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(TOKEN), "token in the log: {stderr}");

    let records = std::fs::read_to_string(root.join("releases.json")).expect("records");
    assert!(records.contains("\"conclusion\": \"failure\""), "{records}");
    assert!(!records.contains("retired"), "{records}");
    let readme = std::fs::read_to_string(root.join("README.md")).expect("read");
    let failing = "| [failing](https://github.com/example-org/images/actions/runs/12045678901/job/33512345703) |";
    assert!(readme.contains(failing), "{readme}");

    let check = xtask(&root, &["readme", "--check"], &[]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stdout));
}

#[test]
fn github_without_repository() {
    let (_temp, root) = catalog_copy();
    let output = xtask(&root, &["readme", "--github"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("`GITHUB_REPOSITORY` is not set"),
        "{stderr}"
    );
    assert!(stderr.contains("hint:"), "{stderr}");
}

#[test]
fn root_readme_without_markers_fails() {
    let (_temp, root) = catalog_copy();
    std::fs::write(root.join("README.md"), "# Catalog\n").expect("write README");
    let output = xtask(&root, &["readme"], &[]);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("<!-- BEGIN RELEASE TABLE -->"), "{stderr}");
    assert!(stderr.contains("<!-- END RELEASE TABLE -->"), "{stderr}");
}
