//! Timings on real data: reading and verifying the Alpine 3.17 `main` index for aarch64
//! (5004 packages), and resolving common closures against it.
//!
//! Run with `cargo bench -p xtask-apk --bench real_data`. Each figure is the median and
//! the minimum of repeated runs, in milliseconds. The fixtures are located as in the
//! tests (`XTASK_SHARED_FIXTURES`, or `../shared/fixtures` next to the workspace root).

use std::hint::black_box;
use std::io::Read as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use apk::{Dependency, Keyring, Repository, Universe, Verification, read_index, resolve};

const RUNS: usize = 30;

fn fixtures() -> Option<PathBuf> {
    let root = match std::env::var_os("XTASK_SHARED_FIXTURES") {
        Some(path) => PathBuf::from(path),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures"),
    };
    let apk = root.join("apk");
    apk.is_dir().then_some(apk)
}

/// Runs `task` `RUNS` times and prints the median and minimum.
fn measure(label: &str, mut task: impl FnMut()) {
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            task();
            start.elapsed()
        })
        .collect();
    times.sort();
    let millis = |d: Duration| d.as_secs_f64() * 1000.0;
    let median = times.get(RUNS / 2).copied().unwrap_or_default();
    let min = times.first().copied().unwrap_or_default();
    println!(
        "{label:<40} median {:>8.3} ms   min {:>8.3} ms",
        millis(median),
        millis(min)
    );
}

/// Returns the uncompressed `APKINDEX` entry of an index file.
fn index_text(bytes: &[u8]) -> Vec<u8> {
    let mut tar = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .read_to_end(&mut tar)
        .expect("gunzip");
    let mut archive = tar::Archive::new(tar.as_slice());
    for entry in archive.entries().expect("tar") {
        let mut entry = entry.expect("tar entry");
        if entry.path_bytes().as_ref() == b"APKINDEX" {
            let mut text = Vec::new();
            entry.read_to_end(&mut text).expect("read APKINDEX");
            return text;
        }
    }
    Vec::new()
}

fn main() {
    let Some(fixtures) = fixtures() else {
        println!("skipped: real-data fixtures not found (set XTASK_SHARED_FIXTURES)");
        return;
    };
    let path = fixtures.join("alpine/v3.17/main/aarch64/APKINDEX.tar.gz");
    let bytes = fs_err::read(&path).expect("read index");
    let mut keyring = Keyring::new();
    keyring
        .load_dir(&fixtures.join("alpine/keys"))
        .expect("load keys");
    println!(
        "{} ({} bytes), {RUNS} runs each",
        path.display(),
        bytes.len()
    );

    measure("gunzip only (flate2, both streams)", || {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes.as_slice())
            .read_to_end(&mut out)
            .expect("gunzip");
        black_box(out);
    });
    let text = index_text(&bytes);
    measure("parse APKINDEX text only", || {
        black_box(apk::Index::parse_bytes(&text).expect("parse"));
    });
    measure("read + verify index", || {
        let file = read_index("bench", &bytes, Verification::Keyring(&keyring)).expect("index");
        black_box(file);
    });

    let file = read_index("bench", &bytes, Verification::Keyring(&keyring)).expect("index");
    let repositories = [Repository {
        name: "alpine/v3.17/main".to_owned(),
        tag: None,
        packages: file.index.packages,
    }];
    measure("build resolver universe", || {
        black_box(Universe::new(&repositories, "aarch64"));
    });
    let universe = Universe::new(&repositories, "aarch64");
    for name in ["nginx", "busybox", "python3", "git", "curl"] {
        let world = [Dependency::any(name)];
        let count = resolve(&universe, &world).expect("resolve").packages.len();
        measure(&format!("resolve {name} ({count} packages)"), || {
            black_box(resolve(&universe, &world).expect("resolve"));
        });
    }
}
