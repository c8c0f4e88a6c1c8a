//! Helpers shared by the integration tests: a loopback GitHub API server, a signed APK
//! repository generated with the apk crate's writer, running the `xtask` binary, and
//! reading built layouts back.

#![allow(dead_code)]

pub mod github_server;
mod tools;

// Not every test binary that includes these helpers runs an external tool.
#[allow(unused_imports)]
pub use tools::require_tool;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use apk::package::{ControlFile, PackageFile};
use apk::{Index, PackageBuilder, PackageInfo, PrivateKey, SignatureAlgorithm, Version};
use xtask::oci::{ImageIndex, ImageManifest, LayoutReader};

/// Name of the generated signing key, which is also its public key's file name.
pub const KEY_NAME: &str = "test.rsa.pub";

/// Build time of the generated packages (2023-11-14T22:13:20Z).
pub const BUILD_TIME: u64 = 1_700_000_000;

fn key() -> &'static PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pair = apk::generate_key_pair(2048).expect("generate key");
        PrivateKey::from_pem(KEY_NAME, &pair.private_pem).expect("parse key")
    })
}

fn info(name: &str, version: &str, arch: &str) -> PackageInfo {
    let mut info = PackageInfo::new(name, Version::parse(version).expect("version"), arch);
    info.license = "MIT".to_owned();
    info.description = format!("{name} for tests");
    info.build_time = Some(BUILD_TIME);
    info
}

/// Returns the packages of the generated repository for `arch`.
pub fn packages(arch: &str) -> Vec<PackageBuilder> {
    let mut base = PackageBuilder::new(info("base", "1.0.0-r0", arch));
    // An identifier outside the SPDX license list, as real packages have.
    base.info.license = "GPL-2.0-or-later AND custom".to_owned();
    base.files = vec![
        PackageFile::file("etc/os-release", 0o644, "ID=testos\nNAME=\"Test OS\"\n"),
        PackageFile::file("etc/passwd", 0o644, "root:x:0:0:root:/root:/bin/sh\n"),
        PackageFile::file("etc/group", 0o644, "root:x:0:\n"),
        PackageFile::file("bin/sh", 0o755, format!("#!/bin/true {arch}\n")),
        PackageFile::symlink("bin/ash", "sh"),
        PackageFile::file(
            format!("usr/share/doc/base/{}", "long-name-".repeat(20)),
            0o644,
            "x",
        ),
    ];
    base.scripts = vec![ControlFile {
        name: ".post-install".to_owned(),
        mode: 0o755,
        content: b"#!/bin/sh\necho never run\n".to_vec(),
    }];
    let mut app = PackageBuilder::new(info("app", "1.2.3-r0", arch));
    app.info.depends = vec![apk::Dependency::any("base")];
    // Several MiB of poorly compressible data, so the layer spans many gzip blocks.
    let mut state: u32 = 12345;
    let noise: Vec<u8> = (0..3_500_000)
        .map(|_| {
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
            (state >> 16) as u8 & 0x3f
        })
        .collect();
    app.files = vec![
        PackageFile::file("usr/bin/app", 0o755, "#!/bin/sh\necho app\n"),
        PackageFile::file("usr/share/app/data.bin", 0o644, noise),
    ];
    let mut clash = PackageBuilder::new(info("clash", "1.0.0-r0", arch));
    clash.files = vec![PackageFile::file("usr/bin/app", 0o755, "other\n")];
    let mut s6 = PackageBuilder::new(info("s6", "2.11.0-r0", arch));
    s6.files = vec![PackageFile::file("bin/s6-svscan", 0o755, "#!/bin/true\n")];
    let mut all = vec![base, app, clash, s6];
    for package in &mut all {
        package.mtime = BUILD_TIME;
    }
    all
}

/// Writes a file under `root`, creating its folders. Scripts (text starting with `#!`)
/// are made executable, as the catalog requires of image tests.
pub fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
    std::fs::write(&path, text).expect("write file");
    if text.starts_with("#!") {
        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
        std::fs::set_permissions(&path, mode).expect("make the script executable");
    }
}

/// Writes a signed repository for x86_64 and aarch64 to `dir/repo` and its public key
/// to `dir/keys/test.rsa.pub`, with `extra` packages added to each architecture.
pub fn write_repository(dir: &Path, extra: &[(&str, &str)]) {
    write_repository_with(dir, |arch| {
        let mut builders = packages(arch);
        for (name, version) in extra {
            let mut builder = PackageBuilder::new(info(name, version, arch));
            builder.files = vec![PackageFile::file(
                "usr/bin/app",
                0o755,
                format!("{version}\n"),
            )];
            builder.info.depends = vec![apk::Dependency::any("base")];
            builder.mtime = BUILD_TIME;
            builders.push(builder);
        }
        builders
    });
}

/// Returns package metadata for the generated repository: MIT, built at [`BUILD_TIME`].
pub fn package_info(name: &str, version: &str, arch: &str) -> PackageInfo {
    info(name, version, arch)
}

/// Writes a signed repository of the packages `packages(arch)` returns for x86_64 and
/// aarch64 to `dir/repo`, and its public key to `dir/keys/test.rsa.pub`.
pub fn write_repository_with(dir: &Path, packages: impl Fn(&str) -> Vec<PackageBuilder>) {
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).expect("create keys");
    let public = key().public_key().to_pem().expect("public pem");
    std::fs::write(keys.join(KEY_NAME), public).expect("write key");
    for arch in ["x86_64", "aarch64"] {
        let arch_dir = dir.join("repo").join(arch);
        std::fs::create_dir_all(&arch_dir).expect("create repo");
        let builders = packages(arch);
        let mut index = Index {
            description: "test repository".to_owned(),
            packages: Vec::new(),
        };
        for builder in &builders {
            let built = builder.build(Some(key())).expect("build package");
            std::fs::write(arch_dir.join(built.info.file_name()), &built.bytes).expect("write apk");
            index.packages.push(built.info);
        }
        let bytes = apk::write_index(
            &index,
            Some((key(), SignatureAlgorithm::RsaSha256)),
            BUILD_TIME,
        )
        .expect("write index");
        std::fs::write(arch_dir.join("APKINDEX.tar.gz"), bytes).expect("write index file");
    }
}

/// Returns a config installing `packages` from the generated repository, plus `extra`
/// YAML appended at the end.
pub fn config(packages: &[&str], extra: &str) -> String {
    let list: Vec<String> = packages.iter().map(|p| format!("    - {p}\n")).collect();
    format!(
        "contents:\n  repositories:\n    - ./repo\n  keyring:\n    - ./keys/{KEY_NAME}\n  packages:\n{}archs: [x86_64, aarch64]\n{extra}",
        list.concat()
    )
}

/// Runs `xtask` in `dir` with `args`; `shell_prefix` runs before it (such as `umask 077`).
pub fn xtask_in(dir: &Path, args: &[&str], env: &[(&str, &str)], shell_prefix: &str) -> Output {
    let mut command = Command::new("sh");
    command
        .arg("-c")
        .arg(format!("{shell_prefix}\nexec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .env("XTASK_CACHE_DIR", dir.join(".cache"))
        .env_remove("SOURCE_DATE_EPOCH")
        .env_remove("GITHUB_ACTIONS");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run xtask")
}

/// Runs `xtask build --config config.apko.yaml --output out/img` in `dir`.
pub fn build(dir: &Path, extra_args: &[&str]) -> Output {
    let mut args = vec![
        "build",
        "--config",
        "config.apko.yaml",
        "--output",
        "out/img",
    ];
    args.extend_from_slice(extra_args);
    xtask_in(dir, &args, &[], "")
}

/// Returns stderr as text.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A file of a built image layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerFile {
    /// The tar entry type.
    pub kind: tar::EntryType,
    /// Permission bits.
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Content of a regular file.
    pub content: Vec<u8>,
    /// Target of a link.
    pub link: Option<String>,
}

/// Reads the manifest of `apk_arch`'s platform under tag `latest`.
pub fn manifest(layout: &Path, oci_arch: &str) -> ImageManifest {
    let reader = LayoutReader::open(layout).expect("open layout");
    let target = reader.resolve_tag("latest").expect("tag latest");
    let index: ImageIndex = reader.read_json(&target.digest).expect("image index");
    let descriptor = index
        .manifests
        .iter()
        .find(|d| {
            d.platform
                .as_ref()
                .is_some_and(|p| p.architecture == oci_arch)
        })
        .expect("platform in index");
    reader.read_json(&descriptor.digest).expect("manifest")
}

/// Reads every entry of the single layer of the `oci_arch` image.
pub fn layer_files(layout: &Path, oci_arch: &str) -> BTreeMap<String, LayerFile> {
    let manifest = manifest(layout, oci_arch);
    let layer = manifest.layers.first().expect("one layer");
    let reader = LayoutReader::open(layout).expect("open layout");
    let file = std::fs::File::open(reader.blob_path(&layer.digest)).expect("open layer");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let mut files = BTreeMap::new();
    for entry in archive.entries().expect("entries") {
        let mut entry = entry.expect("entry");
        let path = entry.path().expect("path").to_string_lossy().into_owned();
        let header = entry.header().clone();
        let link = entry
            .link_name()
            .expect("link name")
            .map(|l| l.to_string_lossy().into_owned());
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("content");
        files.insert(
            path.trim_end_matches('/').to_owned(),
            LayerFile {
                kind: header.entry_type(),
                mode: header.mode().expect("mode"),
                uid: header.uid().expect("uid"),
                gid: header.gid().expect("gid"),
                content,
                link,
            },
        );
    }
    files
}

/// Copies a folder tree (files and folders only).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create folder");
    for entry in std::fs::read_dir(from).expect("read folder") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).expect("copy file");
        }
    }
}

/// Returns the shared fixtures folder, or `None` (with a message) when it is absent.
pub fn shared_fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("XTASK_SHARED_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: shared fixtures not found at {} (set XTASK_SHARED_FIXTURES)",
            dir.display()
        );
        None
    }
}
