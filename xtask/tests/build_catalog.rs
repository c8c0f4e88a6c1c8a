//! `cargo xtask build <image>...` on a catalog in a temporary folder, builds from a
//! repository served over HTTP on the loopback interface, and the argument checks that
//! `build` and `release` make before building anything.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;

use common::{config, stderr, write, write_repository, xtask_in};
use xtask::oci::LayoutReader;

/// A catalog with an image `app` tagged from the `app` package version, and an image
/// `broken` that names a package no repository has.
fn catalog() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    write_repository(root, &[]);
    write(
        root,
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64, arm64]\n",
    );
    write(
        root,
        "images/app/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n      extractTagsFrom:\n        package: app\n        exclude: ['1']\n",
    );
    write(
        root,
        "images/app/configs/latest.apko.yaml",
        &config(&["app"], ""),
    );
    write(root, "images/app/tests/run.sh", "#!/bin/sh\n");
    write(
        root,
        "images/broken/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
    );
    write(
        root,
        "images/broken/configs/latest.apko.yaml",
        &config(&["missing-package"], ""),
    );
    write(root, "images/broken/tests/run.sh", "#!/bin/sh\n");
    dir
}

#[test]
fn catalog_build_continues_after_failure() {
    let dir = catalog();
    let output = xtask_in(dir.path(), &["build", "-j", "2"], &[], "");
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{message}");
    assert!(message.contains("1 of 2 builds failed"), "{message}");
    assert!(message.contains("broken:latest"), "{message}");
    assert!(message.contains("missing-package"), "{message}");
    assert!(
        !dir.path().join("out/images/broken").exists(),
        "no partial output"
    );
    let layout = dir.path().join("out/images/app/latest");
    let tags = LayoutReader::open(&layout)
        .expect("layout")
        .tags()
        .expect("tags");
    assert_eq!(tags, vec!["latest", "1.2.3", "1.2"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("app:latest sha256:"), "{stdout}");
}

#[test]
fn catalog_build_selects_images_and_archs() {
    let dir = catalog();
    let output = xtask_in(dir.path(), &["build", "app", "--arch", "arm64"], &[], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let layout = dir.path().join("out/images/app/latest");
    let reader = LayoutReader::open(&layout).expect("layout");
    let target = reader.resolve_tag("latest").expect("tag");
    let index: xtask::oci::ImageIndex = reader.read_json(&target.digest).expect("index");
    let archs: Vec<String> = index
        .manifests
        .iter()
        .filter_map(|m| m.platform.as_ref().map(|p| p.architecture.clone()))
        .collect();
    assert_eq!(archs, vec!["arm64"]);
    assert!(!dir.path().join("out/images/broken").exists());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("skopeo copy --override-arch arm64 oci:"),
        "{stdout}"
    );
}

#[test]
fn catalog_build_from_lock_matches() {
    let dir = catalog();
    let output = xtask_in(dir.path(), &["build", "app"], &[], "");
    assert!(output.status.success(), "{}", stderr(&output));
    let layout = dir.path().join("out/images/app/latest");
    let first = LayoutReader::open(&layout).expect("layout");
    let first = first.resolve_tag("latest").expect("tag").digest;
    std::fs::copy(layout.join("lock.json"), dir.path().join("app.lock.json")).expect("copy lock");
    write_repository(dir.path(), &[("app", "1.2.4-r0")]);
    let args = ["build", "app", "--lock", "app.lock.json"];
    let locked = xtask_in(dir.path(), &args, &[], "");
    assert!(locked.status.success(), "{}", stderr(&locked));
    let second = LayoutReader::open(&layout).expect("layout");
    assert_eq!(second.resolve_tag("latest").expect("tag").digest, first);
    let all = xtask_in(dir.path(), &["build", "--lock", "app.lock.json"], &[], "");
    assert!(!all.status.success());
    assert!(
        stderr(&all).contains("2 variants are selected"),
        "{}",
        stderr(&all)
    );
}

#[test]
fn catalog_build_rejects_unknown_image() {
    let dir = catalog();
    let output = xtask_in(dir.path(), &["build", "nginx"], &[], "");
    assert!(!output.status.success());
    assert!(stderr(&output).contains("image `nginx` is not in the catalog"));
}

#[test]
fn catalog_build_rejects_unknown_arch() {
    let dir = catalog();
    let output = xtask_in(dir.path(), &["build", "app", "--arch", "sparc"], &[], "");
    let message = stderr(&output);
    assert!(!output.status.success(), "{message}");
    assert!(
        message.contains("--arch: unknown architecture `sparc`"),
        "{message}"
    );
    assert!(message.contains("amd64 (x86_64)"), "{message}");
    assert!(message.contains("riscv64 (riscv64)"), "{message}");
    assert!(!dir.path().join("out").exists(), "{message}");
}

#[test]
fn catalog_build_rejects_arch_image_lacks() {
    let dir = catalog();
    let output = xtask_in(dir.path(), &["build", "app", "--arch", "riscv64"], &[], "");
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(
        message.contains("image `app` does not build for riscv64"),
        "{message}"
    );
    assert!(message.contains("build for amd64, arm64"), "{message}");
    assert!(!message.contains("WARN"), "{message}");
    assert!(!dir.path().join("out").exists(), "{message}");

    let all = xtask_in(dir.path(), &["build", "--arch", "riscv64"], &[], "");
    let message = stderr(&all);
    assert_eq!(all.status.code(), Some(2), "{message}");
    assert!(
        message.contains("no selected variant builds for riscv64"),
        "{message}"
    );
}

#[test]
fn catalog_build_skips_only_unnamed_images() {
    let dir = catalog();
    write(
        dir.path(),
        "images/broken/configs/latest.apko.yaml",
        &config(&["missing-package"], "").replace("[x86_64, aarch64]", "[x86_64]"),
    );
    let output = xtask_in(dir.path(), &["build", "--arch", "arm64"], &[], "");
    let message = stderr(&output);
    assert!(output.status.success(), "{message}");
    assert!(message.contains("skipped"), "{message}");
    assert!(dir.path().join("out/images/app/latest").exists());
}

/// `-j 0` fails when the command line is read, so even the offline profile, which
/// builds packages before images, starts nothing.
#[test]
fn catalog_build_rejects_zero_jobs_first() {
    let dir = catalog();
    write(
        dir.path(),
        "catalog.yaml",
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64, arm64]\nprofile: offline\n",
    );
    for args in [["build", "app", "-j", "0"], ["release", "app", "-j", "0"]] {
        let output = xtask_in(dir.path(), &args, &[], "");
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{message}");
        assert!(message.contains("0 threads"), "{message}");
        assert!(!dir.path().join("out").exists(), "{message}");
    }
}

#[test]
fn release_rejects_registry_url_first() {
    let dir = catalog();
    let cases = [
        ("http://127.0.0.1:5000", "has a scheme `http://`"),
        ("127.0.0.1:5000/images", "has a path `/images`"),
        ("Registry:port", "is not `HOST[:PORT]`"),
    ];
    for (registry, problem) in cases {
        let args = ["release", "app", "--dry-run", "--registry", registry];
        let output = xtask_in(dir.path(), &args, &[], "");
        let message = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{message}");
        assert!(
            message.contains(&format!("`{registry}` {problem}")),
            "{message}"
        );
        assert!(!dir.path().join("out").exists(), "{message}");
    }
    let output = xtask_in(
        dir.path(),
        &["release", "app", "--dry-run"],
        &[("XTASK_REGISTRY", "https://ghcr.io")],
        "",
    );
    let message = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{message}");
    assert!(message.contains("such as `ghcr.io`"), "{message}");
    assert!(!dir.path().join("out").exists(), "{message}");
}

/// Serves files under `root` over HTTP/1.1 on 127.0.0.1 until the process ends, and
/// returns the base URL.
fn serve(root: PathBuf) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let address = listener.local_addr().expect("address");
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request_line = String::new();
            let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut header = String::new();
            while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                header.clear();
            }
            let path = request_line.split_whitespace().nth(1).unwrap_or("/");
            let file = root.join(path.trim_start_matches('/'));
            let response = match std::fs::read(&file) {
                Ok(body) => {
                    let mut head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    )
                    .into_bytes();
                    head.extend(body);
                    head
                }
                Err(_) => {
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_vec()
                }
            };
            let _ = stream.write_all(&response);
        }
    });
    format!("http://{address}")
}

#[test]
fn http_repository_builds_and_then_works_offline() {
    let dir = tempfile::tempdir().expect("temp dir");
    write_repository(dir.path(), &[]);
    let url = serve(dir.path().to_path_buf());
    let text = config(&["app"], "").replace("./repo", &format!("{url}/repo"));
    std::fs::write(dir.path().join("config.apko.yaml"), text).expect("write config");
    let args = [
        "build",
        "--config",
        "config.apko.yaml",
        "--output",
        "out/img",
    ];
    let online = xtask_in(dir.path(), &args, &[], "");
    assert!(online.status.success(), "{}", stderr(&online));
    let first = LayoutReader::open(&dir.path().join("out/img")).expect("layout");
    let first = first.resolve_tag("latest").expect("tag").digest;
    // The same cache serves a second build without the network.
    let mut offline_args = args.to_vec();
    offline_args.push("--offline");
    let offline = xtask_in(dir.path(), &offline_args, &[], "");
    assert!(offline.status.success(), "{}", stderr(&offline));
    let second = LayoutReader::open(&dir.path().join("out/img")).expect("layout");
    assert_eq!(second.resolve_tag("latest").expect("tag").digest, first);
    // An empty cache cannot serve an offline build.
    let empty = dir.path().join("empty-cache");
    let empty = empty.to_string_lossy().into_owned();
    let failed = xtask_in(
        dir.path(),
        &offline_args,
        &[("XTASK_CACHE_DIR", &empty)],
        "",
    );
    assert!(!failed.status.success());
    assert!(stderr(&failed).contains("offline"), "{}", stderr(&failed));
}
