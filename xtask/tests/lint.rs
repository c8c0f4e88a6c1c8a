//! `cargo xtask lint` run as a user would: on catalogs written to temporary folders, and
//! on the real catalog corpus when it is present.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("file path has a parent")).expect("create folder");
    std::fs::write(path, text).expect("write file");
}

fn xtask(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root)
        .args(args)
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run xtask")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const CATALOG: &str = "registry: ghcr.io\nnamespace: example/images\narchs: [amd64, arm64]\n";

const GOOD_CONFIG: &str = "\
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

fn good_catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "catalog.yaml", CATALOG);
    write(
        dir.path(),
        "images/busybox/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
    );
    write(
        dir.path(),
        "images/busybox/configs/latest.apko.yaml",
        GOOD_CONFIG,
    );
    write(dir.path(), "images/busybox/tests/run.sh", "#!/bin/sh\n");
    let script = dir.path().join("images/busybox/tests/run.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    dir
}

#[test]
fn lint_clean_catalog_passes() {
    let dir = good_catalog();
    let output = xtask(dir.path(), &["lint"]);
    assert!(
        output.status.success(),
        "{}{}",
        stdout(&output),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout(&output), "");
}

/// One catalog with many independent mistakes: every one is reported in the same run,
/// each at its own line and column.
#[test]
fn lint_reports_every_problem() {
    let dir = good_catalog();
    let root = dir.path();
    write(
        root,
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: Example/images\narchs: [amd64, sparc]\n",
    );
    write(
        root,
        "images/busybox/image.yaml",
        "status: beta\nversions:\n  - apko:\n      config: configs/latest.apko.yaml\n      tags: [latest]\n  - apko:\n      config: configs/missing.apko.yaml\n",
    );
    write(
        root,
        "images/busybox/configs/latest.apko.yaml",
        "\
contents:
  repositories: [https://packages.wolfi.dev/os]
  packages: [busybox, nginx@local]
work-dir: relative
accounts:
  users:
    - username: app
      uid: 1000
      gid: 1000
  run-as: nobody
paths:
  - path: ../etc
    type: directory
    permissions: 0o755
  - path: /data
    type: folder
  - path: /x
    type: directory
    permissions: 0o17777
",
    );
    write(
        root,
        "images/Bad_Name/image.yaml",
        "versions:\n  - apko:\n      config: latest.yaml\n",
    );
    write(
        root,
        "images/dup/image.yaml",
        "versions: []\nversions: []\n",
    );
    write(root, "images/tabs/image.yaml", "versions:\n\t- apko: {}\n");
    write(
        root,
        "packages/hello.yaml",
        "package:\n  name: hello\n  version: v2.12\n  epoch: 0\n",
    );
    write(
        root,
        "packages/extra.yaml",
        "package:\n  name: extra\n  version: 1.0\n  colour: red\n",
    );

    let output = xtask(root, &["lint"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let expected = [
        "catalog.yaml:2:12: error: invalid namespace component `Example`",
        "catalog.yaml:3:16: error: unknown architecture `sparc`",
        "images/Bad_Name: error: invalid image folder name `Bad_Name`",
        "images/Bad_Name/image.yaml:3:15: error: config path `latest.yaml` is not `configs/<variant>.apko.yaml`",
        "images/busybox/configs/latest.apko.yaml:3:23: error: `nginx@local` asks for repository tag `@local`",
        "images/busybox/configs/latest.apko.yaml:4:11: error: `work-dir` `relative` is not absolute",
        "images/busybox/configs/latest.apko.yaml:9:12: error: user `app` has gid 1000, which no group declares",
        "images/busybox/configs/latest.apko.yaml:10:11: error: `run-as` names `nobody`, which no user declares",
        "images/busybox/configs/latest.apko.yaml:12:11: error: path `../etc` must be absolute",
        "images/busybox/configs/latest.apko.yaml:16:11: error: unknown path type `folder`",
        "images/busybox/configs/latest.apko.yaml:19:18: error: permissions 0o17777 exceed 0o7777",
        "images/busybox/image.yaml:1:9: error: unknown status `beta`",
        "images/busybox/image.yaml:5:14: error: variant `latest` lists tag `latest`, which it already has from its name",
        "images/busybox/image.yaml:7:15: error: `images/busybox/configs/missing.apko.yaml` not found",
        "images/dup/image.yaml:2:1: error: duplicate key `versions`",
        "images/tabs/image.yaml:2:1: error: tab character in indentation",
        "packages/extra.yaml:4:3: error: unknown field `colour`",
        "packages/hello.yaml:3:12: error: invalid package version `v2.12`",
    ];
    for line in expected {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
}

#[test]
fn lint_github_format_annotates() {
    let dir = good_catalog();
    write(
        dir.path(),
        "images/busybox/configs/latest.apko.yaml",
        "contents:\n  packages: [busybox]\nentrypoint:\n  type: daemon\n",
    );
    let output = xtask(dir.path(), &["lint", "--format", "github"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("::error file=images/busybox/configs/latest.apko.yaml,line=4,col=9::unknown entrypoint type `daemon`%0Ahint: "),
        "{text}"
    );
}

#[test]
fn lint_uses_github_format_in_actions() {
    let dir = good_catalog();
    write(
        dir.path(),
        "images/busybox/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      tags: [':bad']\n",
    );
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["lint"])
        .current_dir(dir.path())
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("run xtask");
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "::error file=images/busybox/image.yaml,line=4,col=14::invalid tag `:bad`"
        ),
        "{text}"
    );
}

#[test]
fn lint_warns_about_images_without_tests() {
    let dir = good_catalog();
    std::fs::remove_dir_all(dir.path().join("images/busybox/tests")).expect("remove tests");
    let output = xtask(dir.path(), &["lint"]);
    assert!(output.status.success());
    assert!(stdout(&output).contains("images/busybox: warning: image `busybox` has no tests"));
    let strict = xtask(dir.path(), &["lint", "--deny-warnings"]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn lint_outside_catalog_says_where() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = xtask(dir.path(), &["lint"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("has no `catalog.yaml`"), "{text}");
    assert!(
        text.contains("hint: run the command in the catalog root"),
        "{text}"
    );

    let missing = dir.path().join("missing");
    let output = xtask(&missing, &["lint"]);
    let text = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(text.contains("is not a folder"), "{text}");
}

/// Hostile and broken YAML of every kind gives diagnostics, never a crash.
#[test]
fn lint_never_panics_on_bad_yaml() {
    let inputs = [
        "versions: [\n",
        "versions:\n  - apko:\n      config: [1, 2]\n",
        "a: &a [*a, *a]\n",
        "versions: !!binary aGVsbG8=\n",
        "- just\n- a list\n",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      tags: {a: b}\n",
        "\u{feff}versions: 3\n",
        "? [complex, key]\n: value\n",
        "versions: \"\\xZZ\"\n",
    ];
    for input in inputs {
        let dir = good_catalog();
        write(dir.path(), "images/busybox/image.yaml", input);
        let output = xtask(dir.path(), &["lint"]);
        let text = stdout(&output);
        assert_eq!(
            output.status.code(),
            Some(1),
            "input {input:?} gave:\n{text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            text.contains("images/busybox/image.yaml"),
            "input {input:?} gave:\n{text}"
        );
    }
}

/// Returns the folder of real-world fixtures beside the repository, when it is present.
///
/// # Panics
///
/// When `XTASK_SHARED_FIXTURES` names a folder that does not exist, since skipping then
/// would hide a mistake in the test set-up.
fn shared_fixtures() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("XTASK_SHARED_FIXTURES").map(PathBuf::from) {
        assert!(
            path.is_dir(),
            "XTASK_SHARED_FIXTURES is `{}`, which is not a folder",
            path.display()
        );
        return Some(path);
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures");
    path.is_dir().then_some(path)
}

/// Keys in the real corpus that apko's decoder of the time ignored: `recursive` placed
/// under `accounts` and a `resursive` typo in `paths`. They changed nothing in the built
/// images, which is why a strict parser reports them.
const CORPUS_UNKNOWN_KEYS: [&str; 9] = [
    "images/envoy/configs/latest.apko.yaml:22:3: error: unknown field `recursive`",
    "images/gradle/configs/latest.apko.yaml:21:3: error: unknown field `recursive`",
    "images/jdk/configs/latest-dev.apko.yaml:23:3: error: unknown field `recursive`",
    "images/jdk/configs/latest.apko.yaml:21:3: error: unknown field `recursive`",
    "images/jdk/configs/openjdk-11-dev.apko.yaml:23:3: error: unknown field `recursive`",
    "images/jdk/configs/openjdk-11.apko.yaml:21:3: error: unknown field `recursive`",
    "images/jenkins/configs/latest.apko.yaml:25:3: error: unknown field `recursive`",
    "images/maven/configs/latest.apko.yaml:22:3: error: unknown field `recursive`",
    "images/maven/configs/openjdk-11.apko.yaml:22:3: error: unknown field `recursive`",
];

/// Every file of a real public catalog loads: the only errors are the unknown keys above,
/// plus the `resursive` typo, each reported at its line.
#[test]
fn lint_reads_real_catalog_corpus() {
    let Some(fixtures) = shared_fixtures() else {
        eprintln!(
            "skipped: ../shared/fixtures not found beside the repository; set XTASK_SHARED_FIXTURES to run this test"
        );
        return;
    };
    let corpus = fixtures.join("catalog-corpus/images");
    let dir = tempfile::tempdir().expect("temp dir");
    write(dir.path(), "catalog.yaml", CATALOG);
    copy_tree(&corpus, &dir.path().join("images"));
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    let errors: Vec<&str> = text
        .lines()
        .filter(|line| line.contains(": error: "))
        .collect();
    for expected in CORPUS_UNKNOWN_KEYS {
        assert!(
            errors.iter().any(|line| line.starts_with(expected)),
            "missing `{expected}` in:\n{text}"
        );
    }
    let typo = "images/rabbitmq/configs/latest.apko.yaml:21:5: error: unknown field `resursive`";
    assert!(errors.iter().any(|line| line.starts_with(typo)), "{text}");
    assert_eq!(
        errors.len(),
        CORPUS_UNKNOWN_KEYS.len() + 1,
        "unexpected errors:\n{text}"
    );

    let images = std::fs::read_dir(&corpus).expect("list corpus").count();
    let files = text
        .lines()
        .filter(|line| line.contains("has no tests"))
        .count();
    assert_eq!(
        files, images,
        "every image is read, and none has tests:\n{text}"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("list folder") {
        let entry = entry.expect("folder entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// melange recipes from real repositories parse with the recipe types.
#[test]
fn recipes_from_real_repositories_parse() {
    let Some(fixtures) = shared_fixtures() else {
        eprintln!(
            "skipped: ../shared/fixtures not found beside the repository; set XTASK_SHARED_FIXTURES to run this test"
        );
        return;
    };
    let mut count = 0;
    for folder in ["apk/melange-repo", "apk/private-repo"] {
        for entry in std::fs::read_dir(fixtures.join(folder)).expect("list fixtures") {
            let path = entry.expect("folder entry").path();
            if !path.to_string_lossy().ends_with(".melange.yaml") {
                continue;
            }
            let parsed =
                xtask::catalog::yaml::read::<xtask::catalog::recipe::RecipeFile>(&path, &path);
            assert!(
                parsed.is_ok(),
                "{}",
                parsed.err().map(|d| d.to_string()).unwrap_or_default()
            );
            count += 1;
        }
    }
    assert!(count >= 6, "found only {count} recipes");
}

#[test]
fn lint_rejects_files_outside_catalog() {
    let dir = good_catalog();
    let outside = tempfile::tempdir().expect("temp dir");
    write(
        outside.path(),
        "image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
    );
    std::os::unix::fs::symlink(outside.path(), dir.path().join("images/ext")).expect("symlink");
    write(
        dir.path(),
        "images/busybox/configs/latest.apko.yaml",
        &format!(
            "include: ../{}/x.yaml\n{GOOD_CONFIG}",
            outside.path().display()
        ),
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("images/ext: error: `images/ext` resolves to"),
        "{text}"
    );
    assert!(text.contains("outside the catalog"), "{text}");
    assert!(
        text.contains("images/busybox/configs/latest.apko.yaml:1:10: error: "),
        "{text}"
    );
}

/// A problem inside an included file is reported in that file, at its own line.
#[test]
fn lint_reports_problems_in_included_file() {
    let dir = good_catalog();
    write(
        dir.path(),
        "images/busybox/configs/base.apko.yaml",
        "contents:\n  packages: [busybox]\naccounts:\n  run-as: ghost\n",
    );
    write(
        dir.path(),
        "images/busybox/configs/latest.apko.yaml",
        "include: ./images/busybox/configs/base.apko.yaml\n",
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert!(
        text.contains("images/busybox/configs/base.apko.yaml:4:11: error: `run-as` names `ghost`"),
        "{text}"
    );
}

#[test]
fn lint_rejects_numeric_tags_and_versions() {
    let dir = good_catalog();
    write(
        dir.path(),
        "images/busybox/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      tags: [1.20, 15]\n",
    );
    write(
        dir.path(),
        "packages/hello.yaml",
        "package:\n  name: hello\n  version: 1.10\n",
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert!(
        text.contains("images/busybox/image.yaml:4:14: error: tag 1.2 is written as a number"),
        "{text}"
    );
    assert!(!text.contains("tag 15"), "{text}");
    assert!(
        text.contains("packages/hello.yaml:3:12: error: version 1.1 is written as a number"),
        "{text}"
    );
}

#[test]
fn lint_requires_executable_tests() {
    let dir = good_catalog();
    write(dir.path(), "images/busybox/tests/.gitkeep", "");
    write(dir.path(), "images/busybox/tests/check.sh", "#!/bin/sh\n");
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert!(
        text.contains("images/busybox/tests/check.sh: error: test script is not executable"),
        "{text}"
    );
    assert!(!text.contains(".gitkeep"), "{text}");
}

/// Packages from the local repository must come from a recipe, whose subpackage names
/// may use `${{package.name}}`.
#[test]
fn lint_checks_local_packages() {
    let dir = good_catalog();
    write(
        dir.path(),
        "images/busybox/configs/latest.apko.yaml",
        "contents:\n  repositories: ['@local ./out/packages']\n  build_repositories: ['@build ./out/packages']\n  packages: [foo-dev@local, bar@build]\n",
    );
    write(
        dir.path(),
        "packages/foo.yaml",
        "package:\n  name: foo\n  version: 1.0.0\nsubpackages:\n  - name: ${{package.name}}-dev\n",
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert!(!text.contains("foo-dev"), "{text}");
    assert!(!text.contains("does not exist"), "{text}");
    assert!(
        text.contains("`bar` is taken from a local repository"),
        "{text}"
    );
}

#[test]
fn lint_checks_catalog_settings() {
    let dir = good_catalog();
    write(
        dir.path(),
        "catalog.yaml",
        "registry: GHCR.IO:port\nnamespace: org//images/\narchs: [amd64]\nsigning:\n  mode: key\n",
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert!(
        text.contains("catalog.yaml:1:11: error: invalid registry `GHCR.IO:port`"),
        "{text}"
    );
    assert!(
        text.contains("catalog.yaml:2:12: error: invalid namespace component ``"),
        "{text}"
    );
    assert!(
        text.contains("catalog.yaml:5:9: error: signing mode `key` needs `public-key`"),
        "{text}"
    );
}

#[test]
fn lint_reports_repeated_and_shared_tags() {
    let dir = good_catalog();
    write(
        dir.path(),
        "images/busybox/configs/dev.apko.yaml",
        GOOD_CONFIG,
    );
    write(
        dir.path(),
        "images/busybox/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      tags: [stable, stable]\n  - apko:\n      config: configs/dev.apko.yaml\n      tags: [stable]\n",
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "images/busybox/image.yaml:4:22: error: variant `latest` lists tag `stable` twice"
        ),
        "{text}"
    );
    assert!(
        text.contains("error: tag `stable` is used by variants `latest` and `dev`"),
        "{text}"
    );
}

#[test]
fn lint_rejects_plain_http_keys() {
    let dir = good_catalog();
    write(
        dir.path(),
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64]\nkeyring:\n  - http://example.com/a.rsa.pub\noffline:\n  keyring:\n    - https://example.com/\n",
    );
    let config = GOOD_CONFIG.replace(
        "keyring: [https://packages.wolfi.dev/os/wolfi-signing.rsa.pub]",
        "keyring: [keys/local.rsa.pub, http://packages.wolfi.dev/os/wolfi-signing.rsa.pub]",
    );
    write(
        dir.path(),
        "images/busybox/configs/latest.apko.yaml",
        &config,
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let expected = [
        "catalog.yaml:5:5: error: key URL `http://example.com/a.rsa.pub` is not https://",
        "catalog.yaml:8:7: error: key URL `https://example.com/` names no file",
        "images/busybox/configs/latest.apko.yaml:3:33: error: key URL `http://packages.wolfi.dev/os/wolfi-signing.rsa.pub` is not https://",
    ];
    for line in expected {
        assert!(text.contains(line), "missing `{line}` in:\n{text}");
    }
    assert!(
        text.contains("keys are fetched only over https://"),
        "{text}"
    );
    assert!(!text.contains("keys/local.rsa.pub"), "{text}");
}

#[test]
fn lint_escapes_control_characters() {
    let dir = good_catalog();
    write(
        dir.path(),
        "images/busybox/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      tags: [\"a\\nimages/x:1:1: error: fake\"]\n",
    );
    let output = xtask(dir.path(), &["lint"]);
    let text = stdout(&output);
    assert!(
        text.contains("invalid tag `a\\nimages/x:1:1: error: fake`"),
        "{text}"
    );
    assert!(
        !text.lines().any(|line| line.starts_with("images/x")),
        "{text}"
    );
}

/// `cargo xtask list | head -1` must not panic once `head` has exited. The pipe's read
/// end is closed before the tool starts, so its first write fails with `EPIPE`.
#[test]
fn list_survives_closed_pipe() {
    let dir = good_catalog();
    let (reader, writer) = std::io::pipe().expect("create pipe");
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(dir.path())
        .arg("list")
        .stdout(writer)
        .output()
        .expect("run xtask");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(output.status.success(), "{stderr}");
}
