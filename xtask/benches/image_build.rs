//! Image build benchmarks (not timed tests): layer assembly against `tar -c | gzip -6`
//! of the same tree, compression threads, peak memory, and `-j 2` against `-j 1` on a
//! catalog of several images. Prints a Markdown table.
//!
//! Input: the files under `XTASK_BENCH_TREE` (default `/usr/lib/python3.11`), packed into
//! eight signed packages per architecture with the apk crate's writer. Run with
//! `cargo bench -p xtask --bench image_build`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use apk::package::PackageFile;
use apk::{Index, PackageBuilder, PackageInfo, PrivateKey, SignatureAlgorithm, Version};

const PACKAGES: usize = 8;
const RUNS: usize = 3;
const MTIME: u64 = 1_700_000_000;

fn main() {
    let source = std::env::var_os("XTASK_BENCH_TREE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/python3.11"));
    if !source.is_dir() {
        println!(
            "skipped: input tree {} not found (set XTASK_BENCH_TREE)",
            source.display()
        );
        return;
    }
    let work = tempfile::tempdir().expect("temp dir");
    let dir = work.path();
    let (files, bytes) = write_repository(&source, dir);
    println!(
        "input: {} ({files} files, {:.1} MiB)",
        source.display(),
        mib(bytes)
    );
    write_config(
        dir,
        &(0..PACKAGES).map(package_name).collect::<Vec<_>>(),
        "bench.apko.yaml",
    );

    let build = |jobs: &str, out: &str| {
        run_xtask(
            dir,
            &[
                "build",
                "--config",
                "bench.apko.yaml",
                "--output",
                out,
                "--arch",
                "amd64",
                "-j",
                jobs,
            ],
        )
    };
    build("2", "out/warm");
    let one = median(|| build("1", "out/j1"));
    let two = median(|| build("2", "out/j2"));
    let same = std::fs::read(dir.join("out/j1/index.json")).ok()
        == std::fs::read(dir.join("out/j2/index.json")).ok();
    let baseline = baseline(dir);
    let gzip_size = gzip_size(&dir.join("tree"));
    let peak = peak_memory(dir);
    let layer = layer_size(&dir.join("out/j1"));

    write_catalog(dir);
    let catalog = |jobs: &str| run_xtask(dir, &["build", "-j", jobs]);
    catalog("2");
    let catalog_one = median(|| catalog("1"));
    let catalog_two = median(|| catalog("2"));

    println!();
    println!("| measurement | time (median of {RUNS}) | ratio |");
    println!("| --- | --- | --- |");
    println!(
        "| `tar -c \\| gzip -6` of the unpacked tree | {} | 1.00 |",
        secs(baseline)
    );
    println!(
        "| image build, 1 thread | {} | {:.2} |",
        secs(one),
        ratio(one, baseline)
    );
    println!(
        "| image build, 2 threads | {} | {:.2} |",
        secs(two),
        ratio(two, baseline)
    );
    println!(
        "| catalog (4 images x 2 archs), `-j 1` | {} | |",
        secs(catalog_one)
    );
    println!(
        "| catalog (4 images x 2 archs), `-j 2` | {} | speed-up {:.2} |",
        secs(catalog_two),
        ratio(catalog_one, catalog_two)
    );
    println!();
    println!(
        "layer: {:.2} MiB compressed (`tar -c | gzip -6` of the same tree: {:.2} MiB); 1- and 2-thread outputs identical: {same}",
        mib(layer),
        mib(gzip_size)
    );
    println!(
        "peak RSS of one build (-j 1): {:.1} MiB",
        peak as f64 / 1024.0
    );
}

fn package_name(index: usize) -> String {
    format!("bench-{index}")
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn secs(duration: Duration) -> String {
    format!("{:.2} s", duration.as_secs_f64())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64()
}

fn median(mut run: impl FnMut() -> Duration) -> Duration {
    let mut times: Vec<Duration> = (0..RUNS).map(|_| run()).collect();
    times.sort();
    times[RUNS / 2]
}

fn run_xtask(dir: &Path, args: &[&str]) -> Duration {
    let start = Instant::now();
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(args)
        .current_dir(dir)
        .env("XTASK_CACHE_DIR", dir.join(".cache"))
        .env("RUST_LOG", "warn")
        .env_remove("SOURCE_DATE_EPOCH")
        .output()
        .expect("run xtask");
    let elapsed = start.elapsed();
    assert!(
        output.status.success(),
        "xtask {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    elapsed
}

/// Files of the input tree, sorted, as (path inside the tree, metadata).
fn list_files(source: &Path) -> Vec<(PathBuf, std::fs::Metadata)> {
    let mut files = Vec::new();
    let mut stack = vec![source.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(metadata) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if metadata.is_dir() {
                stack.push(path);
            } else if metadata.is_file() {
                files.push((path, metadata));
            }
        }
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

/// Packs the tree into signed packages for both architectures; returns the file count
/// and total bytes.
fn write_repository(source: &Path, dir: &Path) -> (usize, u64) {
    let pair = apk::generate_key_pair(2048).expect("key");
    let key = PrivateKey::from_pem("bench.rsa.pub", &pair.private_pem).expect("key");
    std::fs::write(
        dir.join("bench.rsa.pub"),
        key.public_key().to_pem().expect("pem"),
    )
    .expect("write key");
    let files = list_files(source);
    let total: u64 = files.iter().map(|(_, m)| m.len()).sum();
    for arch in ["x86_64", "aarch64"] {
        let arch_dir = dir.join("repo").join(arch);
        std::fs::create_dir_all(&arch_dir).expect("repo folder");
        let mut index = Index {
            description: "bench".to_owned(),
            packages: Vec::new(),
        };
        for number in 0..PACKAGES {
            let version = Version::parse("1.0.0-r0").expect("version");
            let mut info = PackageInfo::new(package_name(number), version, arch);
            info.license = "MIT".to_owned();
            info.build_time = Some(MTIME);
            let mut builder = PackageBuilder::new(info);
            builder.mtime = MTIME;
            for (path, metadata) in files.iter().skip(number).step_by(PACKAGES) {
                let relative = path.strip_prefix(source).expect("inside tree");
                let content = std::fs::read(path).unwrap_or_default();
                let mode =
                    std::os::unix::fs::PermissionsExt::mode(&metadata.permissions()) & 0o7777;
                builder.files.push(PackageFile::file(
                    format!("usr/lib/bench/{}", relative.display()),
                    mode,
                    content,
                ));
            }
            let built = builder.build(Some(&key)).expect("build package");
            std::fs::write(arch_dir.join(built.info.file_name()), &built.bytes)
                .expect("write package");
            index.packages.push(built.info);
        }
        let bytes = apk::write_index(&index, Some((&key, SignatureAlgorithm::RsaSha256)), MTIME)
            .expect("index");
        std::fs::write(arch_dir.join("APKINDEX.tar.gz"), bytes).expect("write index");
    }
    (files.len(), total)
}

fn write_config(dir: &Path, packages: &[String], name: &str) {
    let list: String = packages.iter().map(|p| format!("    - {p}\n")).collect();
    let text = format!(
        "contents:\n  repositories:\n    - ./repo\n  keyring:\n    - ./bench.rsa.pub\n  packages:\n{list}archs: [x86_64, aarch64]\n"
    );
    std::fs::write(dir.join(name), text).expect("write config");
}

/// Writes a catalog of four images with two packages each into `dir`, the catalog
/// root that repositories resolve against.
fn write_catalog(dir: &Path) {
    std::fs::write(
        dir.join("catalog.yaml"),
        "registry: ghcr.io\nnamespace: bench/images\narchs: [amd64, arm64]\n",
    )
    .expect("catalog");
    for image in 0..4 {
        let root = dir.join(format!("images/bench{image}"));
        std::fs::create_dir_all(root.join("configs")).expect("image folder");
        std::fs::create_dir_all(root.join("tests")).expect("tests folder");
        std::fs::write(root.join("tests/run.sh"), "#!/bin/sh\n").expect("test");
        std::fs::write(
            root.join("image.yaml"),
            "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
        )
        .expect("image");
        let packages = [package_name(image * 2), package_name(image * 2 + 1)];
        write_config(&root.join("configs"), &packages, "latest.apko.yaml");
    }
}

/// Times `tar -c | gzip -6` over the image's own file tree, unpacked from its layer.
fn baseline(dir: &Path) -> Duration {
    let tree = dir.join("tree");
    std::fs::create_dir_all(&tree).expect("tree");
    let layer = largest_blob(&dir.join("out/j1"));
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&layer)
        .arg("-C")
        .arg(&tree)
        .status()
        .expect("run tar -x");
    assert!(status.success(), "unpack layer");
    let script = format!("tar -c -C {} . | gzip -6 > /dev/null", tree.display());
    median(|| {
        let start = Instant::now();
        let status = Command::new("sh")
            .arg("-c")
            .arg(&script)
            .status()
            .expect("run tar | gzip");
        assert!(status.success());
        start.elapsed()
    })
}

/// Returns the size of `tar -c | gzip -6` of `tree`, to compare with the layer size.
fn gzip_size(tree: &Path) -> u64 {
    let script = format!("tar -c -C {} . | gzip -6 | wc -c", tree.display());
    let output = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run tar | gzip | wc");
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

fn largest_blob(layout: &Path) -> PathBuf {
    std::fs::read_dir(layout.join("blobs/sha256"))
        .expect("blobs")
        .flatten()
        .max_by_key(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
        .expect("a blob")
        .path()
}

fn layer_size(layout: &Path) -> u64 {
    std::fs::metadata(largest_blob(layout))
        .map(|m| m.len())
        .unwrap_or(0)
}

/// Returns the max resident set size of one build in KiB, from `/usr/bin/time -v`.
fn peak_memory(dir: &Path) -> u64 {
    let output = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(env!("CARGO_BIN_EXE_xtask"))
        .args([
            "build",
            "--config",
            "bench.apko.yaml",
            "--output",
            "out/mem",
            "--arch",
            "amd64",
            "-j",
            "1",
        ])
        .current_dir(dir)
        .env("XTASK_CACHE_DIR", dir.join(".cache"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run /usr/bin/time");
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines()
        .find_map(|line| {
            line.trim()
                .strip_prefix("Maximum resident set size (kbytes):")
        })
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}
