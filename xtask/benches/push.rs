//! Push benchmark: `xtask`'s push of a two-architecture layout to a loopback
//! `docker-registry` beside `skopeo copy --all` of the same layout, and the bytes a
//! second, unchanged push sends.
//!
//! Run with `cargo bench -p xtask --bench push` (release build) or, reusing the test
//! build, `cargo test -p xtask --bench push`. `XTASK_BENCH_LAYER_KB` sets the layer
//! sizes (comma-separated, per architecture; default `8192,2048,256`) and
//! `XTASK_BENCH_RUNS` the number of runs (default 3); the median is reported.

#[path = "../tests/support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use support::layout::{fresh_seed, write_layout};
use support::proxy::FaultProxy;
use support::registry::{RegistrySetup, TestRegistry};
use xtask::registry::{
    ClientOptions, Credentials, LayoutImage, PushPlan, PushReport, RegistryClient, Repository, push,
};

fn push_with_xtask(address: &str, path: &str, layout: &Path) -> PushReport {
    let client = RegistryClient::new(
        address,
        &Credentials::Anonymous,
        &ClientOptions::for_registry(address),
    );
    let image = LayoutImage::read(layout).expect("read layout");
    let repository = Repository::parse(&format!("{address}/{path}")).expect("repository");
    let plan = PushPlan::new(&image, repository, &[], &[]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(push(&client, &plan, layout))
        .expect("xtask push")
}

fn push_with_skopeo(address: &str, path: &str, layout: &Path) {
    let status = Command::new("skopeo")
        .args([
            "copy",
            "--all",
            "--quiet",
            "--preserve-digests",
            "--dest-tls-verify=false",
        ])
        .arg(format!("oci:{}:latest", layout.display()))
        .arg(format!("docker://{address}/{path}:latest"))
        .status()
        .expect("run skopeo");
    assert!(status.success(), "skopeo copy failed");
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

fn layer_sizes() -> Vec<usize> {
    let text = std::env::var("XTASK_BENCH_LAYER_KB").unwrap_or_else(|_| "8192,2048,256".into());
    text.split(',')
        .map(|size| {
            size.trim()
                .parse::<usize>()
                .expect("XTASK_BENCH_LAYER_KB: sizes in KiB")
                * 1024
        })
        .collect()
}

fn main() {
    if std::env::args().any(|arg| arg == "--list") {
        return;
    }
    if !(support::require_tool("docker-registry", "docker-registry")
        && support::require_tool("skopeo", "skopeo"))
    {
        return;
    }
    let runs: usize = std::env::var("XTASK_BENCH_RUNS")
        .ok()
        .and_then(|runs| runs.parse().ok())
        .unwrap_or(3);
    let work = tempfile::tempdir().expect("temp dir");
    let layout = work.path().join("layout");
    let sizes = layer_sizes();
    let generated = write_layout(&layout, &["latest"], &sizes, fresh_seed());
    let total: usize = sizes.iter().sum::<usize>() * 2;
    println!(
        "layout: 2 platforms, {} blobs, {:.1} MiB of layers",
        generated.blobs.len(),
        total as f64 / 1_048_576.0
    );

    // Each run pushes into a fresh registry, so neither tool finds blobs present.
    let mut xtask_times = Vec::new();
    let mut skopeo_times = Vec::new();
    for _ in 0..runs {
        let registry = TestRegistry::start(RegistrySetup::default());
        let start = Instant::now();
        push_with_xtask(&registry.address(), "bench/xtask", &layout);
        xtask_times.push(start.elapsed());

        let registry = TestRegistry::start(RegistrySetup::default());
        let start = Instant::now();
        push_with_skopeo(&registry.address(), "bench/skopeo", &layout);
        skopeo_times.push(start.elapsed());
    }
    let (xtask_time, skopeo_time) = (median(xtask_times), median(skopeo_times));
    println!(
        "first push, median of {runs}: xtask {xtask_time:.2?}, skopeo copy --all {skopeo_time:.2?}"
    );
    println!(
        "ratio xtask / skopeo: {:.2}",
        xtask_time.as_secs_f64() / skopeo_time.as_secs_f64()
    );

    // Second, unchanged push through a counting proxy.
    let registry = TestRegistry::start(RegistrySetup::default());
    let proxy = FaultProxy::start(registry.port, 0, 0);
    push_with_xtask(&proxy.address(), "bench/xtask", &layout);
    push_with_skopeo(&proxy.address(), "bench/skopeo", &layout);
    let before_xtask = proxy.stats.blob_upload_bytes.load(Ordering::SeqCst);
    let requests_before = proxy.stats.bytes_forwarded.load(Ordering::SeqCst);
    let report = push_with_xtask(&proxy.address(), "bench/xtask", &layout);
    let xtask_blob_bytes = proxy.stats.blob_upload_bytes.load(Ordering::SeqCst) - before_xtask;
    let xtask_request_bytes = proxy.stats.bytes_forwarded.load(Ordering::SeqCst) - requests_before;
    let before_skopeo = proxy.stats.blob_upload_bytes.load(Ordering::SeqCst);
    let requests_before = proxy.stats.bytes_forwarded.load(Ordering::SeqCst);
    push_with_skopeo(&proxy.address(), "bench/skopeo", &layout);
    let skopeo_blob_bytes = proxy.stats.blob_upload_bytes.load(Ordering::SeqCst) - before_skopeo;
    let skopeo_request_bytes = proxy.stats.bytes_forwarded.load(Ordering::SeqCst) - requests_before;
    println!(
        "second push: xtask {xtask_blob_bytes} blob bytes ({} blobs already present), {xtask_request_bytes} request bytes in all",
        report.blobs_present
    );
    println!(
        "second push: skopeo {skopeo_blob_bytes} blob bytes, {skopeo_request_bytes} request bytes in all"
    );
}
