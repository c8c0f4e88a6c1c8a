//! The repository's own recipes, built for both architectures from real upstream
//! sources and checked by running what they built: natively on x86_64 and under
//! `qemu-aarch64-static` for aarch64. Every package must verify with the repository's
//! signing key (an ephemeral one here).
//!
//! These tests build real software and take minutes, so they are ignored by default.
//! `.ci/run` runs them in a step of its own with `--ignored`. Sources come from the
//! cache, the mirror or Debian's source archive (`--offline`).

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use apk::index::Verification;
use apk::{Keyring, Package, read_index_file};

const ARCHS: [&str; 2] = ["x86_64", "aarch64"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the workspace root")
        .to_path_buf()
}

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("package-recipes")
}

/// Builds every recipe for both architectures once per test run and returns the
/// repository folder.
fn repository() -> &'static Path {
    static REPOSITORY: OnceLock<PathBuf> = OnceLock::new();
    REPOSITORY.get_or_init(|| {
        for tool in [
            "bwrap",
            "qemu-aarch64-static",
            "aarch64-linux-gnu-gcc",
            "apt-get",
        ] {
            require(tool);
        }
        let out = scratch().join("out");
        let cache = std::env::var_os("XTASK_RECIPE_TEST_CACHE")
            .map(PathBuf::from)
            .unwrap_or_else(|| scratch().join("cache"));
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("-C")
            .arg(workspace_root())
            .args([
                "package",
                "--offline",
                "--arch",
                "x86_64",
                "--arch",
                "aarch64",
            ])
            .arg("--out")
            .arg(&out)
            .arg("--cache-dir")
            .arg(&cache)
            .env_remove(xtask::package::signing::PRIVATE_KEY_ENV)
            .stderr(Stdio::inherit())
            .output()
            .expect("run xtask package");
        eprintln!("{}", String::from_utf8_lossy(&output.stdout));
        eprintln!("recipes built in {:.0} s", started.elapsed().as_secs_f64());
        assert!(output.status.success(), "cargo xtask package failed");
        out
    })
}

fn require(tool: &str) {
    if xtask::package::tools::find_in_path(tool).is_none() {
        panic!("`{tool}` not found in PATH; run `bash .ci/setup` to install the build tools");
    }
}

fn keyring(repository: &Path) -> Keyring {
    let mut keyring = Keyring::new();
    for entry in std::fs::read_dir(repository).expect("list repository") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().ends_with(".rsa.pub") {
            keyring.load_file(&path).expect("load public key");
        }
    }
    assert!(!keyring.is_empty(), "no public key next to the repository");
    keyring
}

/// Verifies the package and its index entry, then unpacks it into a fresh folder.
fn unpack(name: &str, arch: &str) -> tempfile::TempDir {
    let repository = repository();
    let keyring = keyring(repository);
    let dir = repository.join(arch);
    let index = read_index_file(
        &dir.join("APKINDEX.tar.gz"),
        Verification::Keyring(&keyring),
    )
    .expect("index verifies with the repository key");
    let entry = index
        .index
        .packages
        .iter()
        .find(|package| package.name == name)
        .unwrap_or_else(|| panic!("{name} missing from the {arch} index"));
    let package = Package::open(&dir.join(entry.file_name())).expect("open package");
    package
        .verify_signature(&keyring)
        .expect("package signature verifies");
    let checksum = entry.checksum.as_ref().expect("index entry has a checksum");
    package
        .verify_index_checksum(checksum)
        .expect("package matches its index entry");
    assert_eq!(package.pkginfo().info.arch, arch);

    let root = tempfile::tempdir().expect("temporary folder");
    package
        .extract_to(root.path(), Default::default())
        .expect("extract package");
    root
}

/// Returns a command that runs a program built for `arch`, through qemu for aarch64.
fn command(arch: &str, program: &Path) -> Command {
    match arch {
        "aarch64" => {
            let mut command = Command::new("qemu-aarch64-static");
            command.arg(program);
            command
        }
        _ => Command::new(program),
    }
}

/// Runs a program built for `arch`, through qemu for aarch64.
fn run(arch: &str, program: &Path, args: &[&str]) -> Output {
    command(arch, program)
        .args(args)
        .output()
        .expect("run program")
}

fn assert_static(arch: &str, program: &Path) {
    let file = Command::new("file")
        .arg(program)
        .output()
        .expect("run file");
    assert!(
        stdout(&file).contains("statically linked"),
        "{arch}: {}",
        stdout(&file)
    );
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn hello_prints_greeting() {
    for arch in ARCHS {
        let root = unpack("hello", arch);
        let output = run(arch, &root.path().join("usr/bin/hello"), &[]);
        assert!(output.status.success(), "{arch}: {output:?}");
        assert_eq!(stdout(&output), "Hello, world!\n", "{arch}");
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn busybox_runs_applets() {
    for arch in ARCHS {
        let root = unpack("busybox", arch);
        let busybox = root.path().join("bin/busybox");
        let output = run(arch, &busybox, &["sh", "-c", "echo $((6 * 7))"]);
        assert_eq!(stdout(&output), "42\n", "{arch}: {output:?}");
        let output = run(arch, &busybox, &["printf", "%s-%s", "a", "b"]);
        assert_eq!(stdout(&output), "a-b", "{arch}: {output:?}");
        let sh = std::fs::read_link(root.path().join("bin/sh")).expect("bin/sh is a link");
        assert_eq!(sh, Path::new("busybox"), "{arch}");
        let file = Command::new("file")
            .arg(&busybox)
            .output()
            .expect("run file");
        assert!(
            stdout(&file).contains("statically linked"),
            "{arch}: {}",
            stdout(&file)
        );
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn nginx_serves_welcome_page() {
    for arch in ARCHS {
        let root = unpack("nginx", arch);
        let nginx = root.path().join("usr/sbin/nginx");
        let version = run(arch, &nginx, &["-V"]);
        let details = String::from_utf8_lossy(&version.stderr).into_owned();
        assert!(details.contains("nginx/1.22.1"), "{arch}: {details}");
        assert!(details.contains("--with-pcre=pcre2"), "{arch}: {details}");
        serve_and_quit(arch, root.path(), &nginx);
    }
}

// Starts nginx on a free loopback port with the package's html folder, fetches the
// welcome page, then stops it with SIGQUIT (graceful shutdown) and checks the exit.
fn serve_and_quit(arch: &str, root: &Path, nginx: &Path) {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let prefix = root.join("run");
    std::fs::create_dir_all(prefix.join("logs")).expect("create prefix");
    let config = format!(
        "daemon off;\nmaster_process on;\nworker_processes 1;\npid {prefix}/nginx.pid;\n\
         error_log stderr;\nevents {{ worker_connections 16; }}\nhttp {{\n  access_log off;\n\
         client_body_temp_path {prefix}/body;\n  proxy_temp_path {prefix}/proxy;\n\
         fastcgi_temp_path {prefix}/fastcgi;\n  uwsgi_temp_path {prefix}/uwsgi;\n\
         scgi_temp_path {prefix}/scgi;\n  server {{\n    listen 127.0.0.1:{port};\n\
         root {html};\n  }}\n}}\n",
        prefix = prefix.display(),
        html = root.join("usr/share/nginx/html").display(),
    );
    std::fs::write(prefix.join("nginx.conf"), config).expect("write config");
    let mut command = match arch {
        "aarch64" => {
            let mut command = Command::new("qemu-aarch64-static");
            command.arg(nginx);
            command
        }
        _ => Command::new(nginx),
    };
    let mut child = command
        .arg("-p")
        .arg(&prefix)
        .arg("-e")
        .arg("stderr")
        .arg("-c")
        .arg(prefix.join("nginx.conf"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start nginx");

    let page = fetch_page(port);
    let quit = Command::new("kill")
        .args(["-QUIT", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(quit.success());
    let status = child.wait().expect("wait for nginx");
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        let _ = pipe.read_to_string(&mut stderr);
    }
    let page = page.unwrap_or_else(|error| panic!("{arch}: no page: {error}\n{stderr}"));
    assert!(page.starts_with("HTTP/1.1 200 OK"), "{arch}: {page}");
    assert!(page.contains("Welcome to nginx!"), "{arch}: {page}");
    assert!(
        status.success(),
        "{arch}: nginx exited with {status}\n{stderr}"
    );
}

// Polls the port for up to 30 s (nginx under qemu starts slowly) and returns the
// response to `GET /`.
fn fetch_page(port: u16) -> Result<String, String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(mut stream) => {
                stream
                    .set_read_timeout(Some(Duration::from_secs(10)))
                    .map_err(|e| e.to_string())?;
                stream
                    .write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    .map_err(|e| e.to_string())?;
                let mut response = String::new();
                stream
                    .read_to_string(&mut response)
                    .map_err(|e| e.to_string())?;
                return Ok(response);
            }
            Err(error) if Instant::now() > deadline => return Err(error.to_string()),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn git_commits_in_new_repository() {
    for arch in ARCHS {
        let root = unpack("git", arch);
        let git = root.path().join("usr/bin/git");
        assert_static(arch, &git);
        let version = run(arch, &git, &["--version"]);
        assert_eq!(
            stdout(&version),
            "git version 2.39.5\n",
            "{arch}: {version:?}"
        );
        for link in ["git-upload-pack", "git-receive-pack", "git-upload-archive"] {
            let target = std::fs::read_link(root.path().join("usr/bin").join(link));
            assert_eq!(target.expect("link"), Path::new("git"), "{arch}: {link}");
        }

        // The host's git configuration stays out. Automatic maintenance would start a
        // second git, which qemu-aarch64-static cannot run without a binfmt handler.
        let work = tempfile::tempdir().expect("temporary folder");
        let repo = work.path().join("repo");
        let git_in = |args: &[&str]| {
            command(arch, &git)
                .arg("-C")
                .arg(work.path())
                .args(["-c", "user.name=Test", "-c", "user.email=test@example.org"])
                .args(["-c", "maintenance.auto=false"])
                .args(args)
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .output()
                .expect("run git")
        };
        let init = git_in(&["init", "-q", "-b", "main", "repo"]);
        assert!(init.status.success(), "{arch}: {init:?}");
        std::fs::write(repo.join("greeting"), "hello\n").expect("write file");
        let add = git_in(&["-C", "repo", "add", "greeting"]);
        assert!(add.status.success(), "{arch}: {add:?}");
        let commit = git_in(&["-C", "repo", "commit", "-q", "-m", "Add greeting"]);
        assert!(commit.status.success(), "{arch}: {commit:?}");
        let log = git_in(&["-C", "repo", "log", "--format=%s"]);
        assert_eq!(stdout(&log), "Add greeting\n", "{arch}: {log:?}");
        let blob = git_in(&["-C", "repo", "cat-file", "-p", "HEAD:greeting"]);
        assert_eq!(stdout(&blob), "hello\n", "{arch}: {blob:?}");
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn openssh_client_creates_ed25519_key() {
    for arch in ARCHS {
        let root = unpack("openssh-client", arch);
        let bin = root.path().join("usr/bin");
        for program in ["ssh", "scp", "ssh-keygen"] {
            assert_static(arch, &bin.join(program));
        }
        let version = run(arch, &bin.join("ssh"), &["-V"]);
        let banner = String::from_utf8_lossy(&version.stderr).into_owned();
        assert!(
            banner.starts_with("OpenSSH_9.2p1, without OpenSSL"),
            "{arch}: {banner}"
        );

        let work = tempfile::tempdir().expect("temporary folder");
        let key = work.path().join("key");
        let key_path = key.to_str().expect("UTF-8 path");
        let keygen = bin.join("ssh-keygen");
        let created = run(
            arch,
            &keygen,
            &[
                "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", key_path,
            ],
        );
        assert!(created.status.success(), "{arch}: {created:?}");
        let public = std::fs::read_to_string(work.path().join("key.pub")).expect("read key");
        assert!(public.starts_with("ssh-ed25519 "), "{arch}: {public}");
        let fingerprint = run(arch, &keygen, &["-l", "-f", key_path]);
        assert!(
            stdout(&fingerprint).contains("(ED25519)"),
            "{arch}: {fingerprint:?}"
        );
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn musl_loader_runs_program() {
    for (arch, gcc) in [("x86_64", "gcc"), ("aarch64", "aarch64-linux-gnu-gcc")] {
        let root = unpack("musl", arch);
        let dev = unpack("musl-dev", arch);
        let loader = root.path().join(format!("lib/ld-musl-{arch}.so.1"));
        let output = run(arch, &loader, &[]);
        let banner = String::from_utf8_lossy(&output.stderr).into_owned();
        assert!(
            banner.contains(&format!("musl libc ({arch})")),
            "{arch}: {banner}"
        );
        assert!(banner.contains("Version 1.2.3"), "{arch}: {banner}");

        // A program linked against the package's libc.so and started by its loader.
        let lib = dev.path().join("usr/lib");
        std::fs::copy(&loader, lib.join("libc.so.real")).expect("copy library");
        let source = dev.path().join("hello.c");
        std::fs::write(
            &source,
            "#include <stdio.h>\nint main(void) { puts(\"musl says hi\"); return 0; }\n",
        )
        .expect("write source");
        let gcc_include = Command::new(gcc)
            .arg("-print-file-name=include")
            .output()
            .expect("run gcc");
        let program = dev.path().join("hello");
        let compiled = Command::new(gcc)
            .args(["-nostdinc", "-nostdlib", "-isystem"])
            .arg(dev.path().join("usr/include"))
            .arg("-isystem")
            .arg(stdout(&gcc_include).trim())
            .arg(lib.join("crt1.o"))
            .arg(lib.join("crti.o"))
            .arg(&source)
            .arg(lib.join("libc.so.real"))
            .arg(lib.join("crtn.o"))
            .arg(format!("-Wl,--dynamic-linker=/lib/ld-musl-{arch}.so.1"))
            .arg("-o")
            .arg(&program)
            .output()
            .expect("run gcc");
        assert!(compiled.status.success(), "{arch}: {compiled:?}");
        let output = run(arch, &loader, &[program.to_str().expect("UTF-8 path")]);
        assert_eq!(stdout(&output), "musl says hi\n", "{arch}: {output:?}");
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn tzdata_zones_resolve() {
    for arch in ARCHS {
        let root = unpack("tzdata", arch);
        let berlin = root.path().join("usr/share/zoneinfo/Europe/Berlin");
        let bytes = std::fs::read(&berlin).expect("read zone");
        assert_eq!(bytes.get(..4), Some(&b"TZif"[..]), "{arch}");
        // The host's date reads the zone file: 1970-01-01 was winter time in Berlin.
        let output = Command::new("date")
            .env("TZ", &berlin)
            .args(["-d", "@0", "+%Z %z"])
            .output()
            .expect("run date");
        assert_eq!(stdout(&output), "CET +0100\n", "{arch}");
        assert!(
            root.path().join("usr/share/zoneinfo/UTC").is_file(),
            "{arch}"
        );
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn ca_bundle_parses_with_openssl() {
    for arch in ARCHS {
        let root = unpack("ca-certificates-bundle", arch);
        let bundle = root.path().join("etc/ssl/certs/ca-certificates.crt");
        let text = std::fs::read_to_string(&bundle).expect("read bundle");
        let count = text.matches("-----BEGIN CERTIFICATE-----").count();
        assert!(count > 100, "{arch}: only {count} certificates");
        let output = Command::new("openssl")
            .args(["storeutl", "-noout", "-certs"])
            .arg(&bundle)
            .output()
            .expect("run openssl");
        assert!(output.status.success(), "{arch}: {output:?}");
        assert!(
            stdout(&output).contains(&format!("Total found: {count}")),
            "{arch}: {}",
            stdout(&output)
        );
        let link = std::fs::read_link(root.path().join("etc/ssl/cert.pem")).expect("link");
        assert_eq!(link, Path::new("certs/ca-certificates.crt"));
    }
}

#[test]
#[ignore = "builds real recipes for minutes; .ci/run runs it with --ignored"]
fn baselayout_has_accounts_and_folders() {
    use std::os::unix::fs::PermissionsExt as _;
    for arch in ARCHS {
        let root = unpack("baselayout", arch);
        let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).expect("passwd");
        for line in [
            "root:x:0:0:root:/root:/sbin/nologin",
            "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin",
            "nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin",
        ] {
            assert!(passwd.lines().any(|l| l == line), "{arch}: {line} missing");
        }
        let group = std::fs::read_to_string(root.path().join("etc/group")).expect("group");
        assert!(group.lines().any(|l| l == "nonroot:x:65532:"), "{arch}");
        let release = std::fs::read_to_string(root.path().join("etc/os-release")).expect("read");
        assert!(
            release.lines().any(|l| l == "ID=catalog"),
            "{arch}: {release}"
        );
        let tmp = std::fs::metadata(root.path().join("tmp")).expect("tmp");
        assert_eq!(tmp.permissions().mode() & 0o7777, 0o1777, "{arch}");
        assert!(root.path().join("home/nonroot").is_dir(), "{arch}");
    }
}
