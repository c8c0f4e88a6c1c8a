//! `cargo xtask package` run as a user would, on small recipes in temporary catalogs:
//! signed output that reads back through the APK engine, incremental rebuilds, and the
//! errors for bad input. Sources come from a mirror folder, so nothing is downloaded.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::Instant;

use apk::index::Verification;
use apk::{Keyring, Package, PublicKey, read_index_file};
use sha2::Digest as _;

const CATALOG: &str = "\
registry: ghcr.io
namespace: example/images
archs: [amd64, arm64]
packages:
  signing-key: keys/test.rsa.pub
  source-mirror: mirror
";

const RECIPE: &str = r#"package:
  name: demo
  version: 1.0.0
  epoch: 0
  description: demo package
  copyright:
    - license: MIT
  dependencies:
    runtime:
      - busybox
  scriptlets:
    post-install: |
      #!/bin/sh
      exit 0

pipeline:
  - uses: fetch
    with:
      uri: https://example.invalid/demo-1.0.0.tar.gz
      expected-sha256: SHA256
  - name: install
    runs: |
      mkdir -p ${{targets.destdir}}/usr/share/demo ${{targets.destdir}}/usr/include
      cp greeting.txt ${{targets.destdir}}/usr/share/demo/
      echo '${{build.arch}}' > ${{targets.destdir}}/usr/share/demo/arch
      echo '/* demo */' > ${{targets.destdir}}/usr/include/demo.h

subpackages:
  - name: demo-dev
    pipeline:
      - uses: split/dev
"#;

/// Returns a key pair shared by the tests, because RSA key generation is slow.
fn key_pair() -> &'static apk::KeyPairPem {
    static PAIR: OnceLock<apk::KeyPairPem> = OnceLock::new();
    PAIR.get_or_init(|| apk::generate_key_pair(2048).expect("generate key"))
}

fn write(root: &Path, path: &str, content: impl AsRef<[u8]>) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
    std::fs::write(path, content).expect("write file");
}

/// Writes a source tarball containing `demo-1.0.0/greeting.txt` and returns its bytes
/// and SHA-256.
fn tarball(dir: &Path) -> (Vec<u8>, String) {
    let source = dir.join("demo-1.0.0");
    std::fs::create_dir_all(&source).expect("create source folder");
    std::fs::write(source.join("greeting.txt"), "hello\n").expect("write source");
    let status = Command::new("tar")
        .args([
            "--sort=name",
            "--mtime=@0",
            "--owner=0",
            "--group=0",
            "-czf",
        ])
        .arg(dir.join("demo.tar.gz"))
        .arg("-C")
        .arg(dir)
        .arg("demo-1.0.0")
        .status()
        .expect("run tar");
    assert!(status.success());
    let bytes = std::fs::read(dir.join("demo.tar.gz")).expect("read tarball");
    let sha = hex::encode(sha2::Sha256::digest(&bytes));
    (bytes, sha)
}

struct Fixture {
    root: tempfile::TempDir,
    sha: String,
}

impl Fixture {
    fn new() -> Fixture {
        let root = tempfile::tempdir().expect("temporary folder");
        let scratch = tempfile::tempdir().expect("scratch folder");
        let (bytes, sha) = tarball(scratch.path());
        write(root.path(), "catalog.yaml", CATALOG);
        write(root.path(), "keys/test.rsa.pub", &key_pair().public_pem);
        write(root.path(), "private/test.rsa", &key_pair().private_pem);
        write(root.path(), "mirror/demo-1.0.0.tar.gz", bytes);
        write(
            root.path(),
            "packages/demo.yaml",
            RECIPE.replace("SHA256", &sha),
        );
        Fixture { root, sha }
    }

    fn path(&self) -> &Path {
        self.root.path()
    }

    fn recipe(&self, name: &str, text: &str) {
        write(
            self.path(),
            &format!("packages/{name}.yaml"),
            text.replace("SHA256", &self.sha),
        );
    }

    fn package(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
        command
            .arg("-C")
            .arg(self.path())
            .args(["package", "--offline", "--arch", "x86_64", "--cache-dir"])
            .arg(self.path().join("cache"))
            .args(args)
            .env_remove(xtask::package::signing::PRIVATE_KEY_ENV)
            .env_remove("SOURCE_DATE_EPOCH");
        if !sandbox_available() {
            command.arg("--no-sandbox");
        }
        command.output().expect("run xtask")
    }

    fn package_signed(&self, args: &[&str]) -> Output {
        let key = self.path().join("private/test.rsa");
        let mut all = vec!["--signing-key", key.to_str().expect("UTF-8 path")];
        all.extend_from_slice(args);
        self.package(&all)
    }

    fn arch_dir(&self) -> PathBuf {
        self.path().join("out/packages/x86_64")
    }
}

// Tests run in the sandbox where bwrap is installed. Without it they fail with an
// install hint, unless XTASK_SKIP_MISSING_TOOLS=1 lets them run steps on the host.
fn sandbox_available() -> bool {
    match xtask::package::tools::BWRAP.find() {
        Ok(_) => true,
        Err(_) if std::env::var("XTASK_SKIP_MISSING_TOOLS").is_ok_and(|v| v == "1") => {
            eprintln!("bwrap missing: running build steps with --no-sandbox");
            false
        }
        Err(missing) => panic!("{missing}; or set XTASK_SKIP_MISSING_TOOLS=1"),
    }
}

// One-based line of the first line of `RECIPE` that contains `needle`.
fn line_of(needle: &str) -> usize {
    RECIPE
        .lines()
        .position(|line| line.contains(needle))
        .map(|index| index + 1)
        .expect("needle in recipe")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn keyring() -> Keyring {
    let mut keyring = Keyring::new();
    let key = PublicKey::from_pem("test.rsa.pub", &key_pair().public_pem).expect("public key");
    keyring.add(key);
    keyring
}

#[test]
fn package_output_verifies_with_repository_key() {
    let fixture = Fixture::new();
    let output = fixture.package_signed(&[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).contains("built x86_64/demo-1.0.0-r0.apk"));

    let keyring = keyring();
    let index = read_index_file(
        &fixture.arch_dir().join("APKINDEX.tar.gz"),
        Verification::Keyring(&keyring),
    )
    .expect("index verifies");
    assert_eq!(index.verified_by.as_deref(), Some("test.rsa.pub"));
    let names: Vec<&str> = index
        .index
        .packages
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(names, ["demo", "demo-dev"]);

    let package = Package::open(&fixture.arch_dir().join("demo-1.0.0-r0.apk")).expect("open");
    assert_eq!(
        package.verify_signature(&keyring).expect("signature"),
        "test.rsa.pub"
    );
    let info = package.index_entry();
    assert_eq!(info.origin.as_deref(), Some("demo"));
    assert_eq!(info.license, "MIT");
    assert_eq!(info.depends.len(), 1);
    let mut paths = Vec::new();
    package
        .for_each_entry(Default::default(), |entry| {
            paths.push(entry.path.clone());
            Ok(())
        })
        .expect("entries");
    assert!(
        paths.iter().any(|p| p == "usr/share/demo/greeting.txt"),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|p| p.starts_with("usr/include")),
        "{paths:?}"
    );
    let scripts: Vec<&str> = package
        .control_files()
        .iter()
        .map(|file| file.name.as_str())
        .collect();
    assert_eq!(scripts, [".post-install"]);
}

#[test]
fn package_warm_run_is_noop() {
    let fixture = Fixture::new();
    let first = fixture.package_signed(&[]);
    assert!(first.status.success(), "{}", text(&first.stderr));
    let apk = fixture.arch_dir().join("demo-1.0.0-r0.apk");
    let before = std::fs::read(&apk).expect("read package");

    let started = Instant::now();
    let second = fixture.package_signed(&[]);
    let elapsed = started.elapsed();
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).contains("up to date x86_64/demo"));
    assert!(elapsed.as_secs_f64() < 1.0, "warm run took {elapsed:?}");

    // A forced rebuild of the same inputs gives the same bytes.
    let forced = fixture.package_signed(&["--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_eq!(std::fs::read(&apk).expect("read package"), before);
}

#[test]
fn package_recipe_change_rebuilds() {
    let fixture = Fixture::new();
    assert!(fixture.package_signed(&[]).status.success());
    fixture.recipe(
        "demo",
        &RECIPE.replace("demo package", "changed description"),
    );
    let output = fixture.package_signed(&[]);
    assert!(text(&output.stdout).contains("built x86_64/demo-1.0.0-r0.apk"));
}

#[test]
fn package_without_key_uses_ephemeral_key() {
    let fixture = Fixture::new();
    let output = fixture.package(&[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(
        text(&output.stderr).contains("ephemeral key"),
        "{}",
        text(&output.stderr)
    );
    let public = fixture.path().join("out/packages/test-ephemeral.rsa.pub");
    let mut keyring = Keyring::new();
    keyring
        .load_file(&public)
        .expect("ephemeral public key written");
    let index = read_index_file(
        &fixture.arch_dir().join("APKINDEX.tar.gz"),
        Verification::Keyring(&keyring),
    );
    assert!(
        index.is_ok(),
        "index does not verify with the ephemeral key"
    );

    // Switching to the repository key rebuilds and drops the ephemeral public key.
    let signed = fixture.package_signed(&[]);
    assert!(text(&signed.stdout).contains("built x86_64/demo-1.0.0-r0.apk"));
    assert!(fixture.path().join("out/packages/test.rsa.pub").is_file());
    assert!(
        !public.exists(),
        "stale ephemeral key left next to the repository"
    );
}

#[test]
fn package_mismatched_private_key_rejected() {
    let fixture = Fixture::new();
    let other = apk::generate_key_pair(2048).expect("generate key");
    write(fixture.path(), "private/other.rsa", &other.private_pem);
    let key = fixture.path().join("private/other.rsa");
    let output = fixture.package(&["--signing-key", key.to_str().expect("UTF-8 path")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("does not match"),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn package_wrong_checksum_names_step() {
    let fixture = Fixture::new();
    let wrong = "ab".repeat(32);
    fixture.recipe("demo", &RECIPE.replace("SHA256", &wrong));
    let output = fixture.package_signed(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let location = format!(
        "packages/demo.yaml:{}: step `fetch`",
        line_of("uses: fetch")
    );
    assert!(stderr.contains(&location), "{stderr}");
    assert!(stderr.contains("checksum mismatch"), "{stderr}");
    assert!(stderr.contains("skipped: offline"), "{stderr}");
    assert!(!fixture.arch_dir().join("demo-1.0.0-r0.apk").exists());
}

#[test]
fn package_failing_step_keeps_workspace() {
    let fixture = Fixture::new();
    assert!(fixture.package_signed(&[]).status.success());
    let index_before = std::fs::read(fixture.arch_dir().join("APKINDEX.tar.gz")).expect("index");
    fixture.recipe(
        "demo",
        &RECIPE
            .replace("version: 1.0.0\n", "version: 1.0.1\n")
            .replace(
                "cp greeting.txt",
                "echo failing on purpose; false; cp greeting.txt",
            ),
    );
    let output = fixture.package_signed(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("recipe `demo` (x86_64)"), "{stderr}");
    let location = format!(
        "packages/demo.yaml:{}: step `install`",
        line_of("name: install")
    );
    assert!(stderr.contains(&location), "{stderr}");
    assert!(stderr.contains("failing on purpose"), "{stderr}");
    let kept = stderr
        .lines()
        .find_map(|line| line.strip_prefix("workspace kept for inspection: "))
        .expect("workspace path printed");
    assert!(Path::new(kept).join("home").is_dir(), "{kept} missing");

    // The repository still contains only the last good build.
    assert!(fixture.arch_dir().join("demo-1.0.0-r0.apk").is_file());
    assert!(!fixture.arch_dir().join("demo-1.0.1-r0.apk").exists());
    let index_after = std::fs::read(fixture.arch_dir().join("APKINDEX.tar.gz")).expect("index");
    assert_eq!(index_before, index_after);
}

#[test]
fn package_unknown_recipe_key_names_line() {
    let fixture = Fixture::new();
    fixture.recipe(
        "demo",
        &RECIPE.replace("  epoch: 0\n", "  epoch: 0\n  epcoh: 1\n"),
    );
    let output = fixture.package_signed(&[]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let location = format!("packages/demo.yaml:{}", line_of("epoch: 0") + 1);
    assert!(stderr.contains(&location), "{stderr}");
    assert!(stderr.contains("epcoh"), "{stderr}");
}

#[test]
fn package_unknown_pipeline_names_line() {
    let fixture = Fixture::new();
    fixture.recipe(
        "demo",
        &RECIPE.replace("uses: split/dev", "uses: split/devel"),
    );
    let output = fixture.package_signed(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let location = format!(
        "packages/demo.yaml:{}: step `split/devel`",
        line_of("split/dev")
    );
    assert!(stderr.contains(&location), "{stderr}");
    assert!(
        stderr.contains("unknown pipeline `split/devel`"),
        "{stderr}"
    );
}

#[test]
fn package_missing_substitution_names_line() {
    let fixture = Fixture::new();
    fixture.recipe(
        "demo",
        &RECIPE.replace("${{build.arch}}", "${{build.flavour}}"),
    );
    let output = fixture.package_signed(&[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let location = format!(
        "packages/demo.yaml:{}: step `install`",
        line_of("name: install")
    );
    assert!(stderr.contains(&location), "{stderr}");
    assert!(
        stderr.contains("`${{build.flavour}}` has no value"),
        "{stderr}"
    );
}

#[test]
fn package_unknown_name_is_rejected() {
    let fixture = Fixture::new();
    let output = fixture.package_signed(&["nosuchpackage"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`nosuchpackage`"));
}

const TESTED: &str = r#"package:
  name: tested
  version: 1.0.0
  epoch: 0

pipeline:
  - runs: |
      mkdir -p ${{targets.destdir}}/usr/bin
      printf '#!/bin/sh\necho tested ok\n' > ${{targets.destdir}}/usr/bin/tested
      chmod 755 ${{targets.destdir}}/usr/bin/tested

test:
  pipeline:
    - name: run program
      runs: test "$(tested)" = 'EXPECTED'
"#;

#[test]
fn package_test_steps_run_built_program() {
    let fixture = Fixture::new();
    fixture.recipe("tested", &TESTED.replace("EXPECTED", "tested ok"));
    let output = fixture.package_signed(&["tested"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(fixture.arch_dir().join("tested-1.0.0-r0.apk").is_file());
}

#[test]
fn package_failing_test_writes_nothing() {
    let fixture = Fixture::new();
    fixture.recipe("tested", &TESTED.replace("EXPECTED", "something else"));
    let output = fixture.package_signed(&["tested"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("step `run program`"), "{stderr}");
    assert!(stderr.contains("workspace kept for inspection"), "{stderr}");
    assert!(!fixture.arch_dir().join("tested-1.0.0-r0.apk").exists());
}
