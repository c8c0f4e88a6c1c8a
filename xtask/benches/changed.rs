//! Benchmark of `cargo xtask changed` on a generated repository of 10,000 commits and
//! 500 images, next to `git diff --name-only` for the same two revisions.
//!
//! Run with `cargo bench -p xtask --bench changed`, or add `--profile dev` to reuse the
//! test build (`docs/benchmarks.md` has figures). It needs `git` on `PATH`, builds the
//! repository with `git fast-import` in a temporary folder and prints median times.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use xtask::catalog::Catalog;
use xtask::changes::{self, GraphInput, Revisions};

const COMMITS: usize = 10_000;
const IMAGES: usize = 500;
const RECIPES: usize = 50;
/// Commit numbers (1-based) tagged `base` and `head`: 8,000 commits apart.
const BASE_COMMIT: usize = 1_000;
const HEAD_COMMIT: usize = 9_000;
const ITERATIONS: usize = 20;

fn main() -> anyhow::Result<()> {
    // Arguments from `cargo bench` (`--bench`, a filter) are ignored, because this file
    // has a single benchmark.
    let dir = tempfile::tempdir().context("failed to create a temporary folder")?;
    let root = dir.path();

    let started = Instant::now();
    generate(root)?;
    println!(
        "generated {COMMITS} commits and {IMAGES} images in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let catalog = match Catalog::load(root) {
        Ok(catalog) => catalog,
        Err(diagnostics) => {
            for diagnostic in diagnostics.sorted() {
                eprintln!("{diagnostic}");
            }
            bail!(
                "the generated catalog has {} error(s)",
                diagnostics.error_count()
            );
        }
    };
    let input = GraphInput::from_catalog(&catalog);
    let git_files = git_diff_name_only(root, &["base", "head"])?;
    let changes = changes::changed_images(root, &bench_revisions(), &input)?;
    ensure!(
        changes.files.len() == git_files,
        "xtask found {} changed files but git {git_files}",
        changes.files.len()
    );
    println!(
        "base..head: {git_files} changed files, {} images selected",
        changes.images.len()
    );

    let revisions = bench_revisions();
    let mut cases: Vec<Case<'_>> = vec![
        Case::new("git diff --name-only base head", || {
            git_diff_name_only(root, &["base", "head"]).map(drop)
        }),
        Case::new("git diff --name-only base...head", || {
            git_diff_name_only(root, &["base...head"]).map(drop)
        }),
        Case::new("xtask changed --base base --head head", || {
            xtask_changed(root)
        }),
        Case::new("  Catalog::load, in process", || {
            Catalog::load(root)
                .map_err(|diagnostics| anyhow::anyhow!("{} error(s)", diagnostics.error_count()))?;
            Ok(())
        }),
        Case::new("  changes::changed_images, in process", || {
            changes::changed_images(root, &revisions, &input)?;
            Ok(())
        }),
        Case::new("    changes::git::compare, in process", || {
            changes::git::compare(root, &revisions)?;
            Ok(())
        }),
    ];
    let medians = median_interleaved(&mut cases)?;

    println!("median of {ITERATIONS} runs, ratio to `git diff --name-only base head`:");
    let reference = medians[0].as_secs_f64();
    for (case, median) in cases.iter().zip(&medians) {
        println!(
            "  {:<40} {:>7.1} ms  {:>5.2}x",
            case.name,
            median.as_secs_f64() * 1000.0,
            median.as_secs_f64() / reference
        );
    }
    Ok(())
}

/// One timed operation.
struct Case<'a> {
    name: &'static str,
    work: Box<dyn FnMut() -> anyhow::Result<()> + 'a>,
}

impl<'a> Case<'a> {
    fn new(name: &'static str, work: impl FnMut() -> anyhow::Result<()> + 'a) -> Self {
        Case {
            name,
            work: Box::new(work),
        }
    }
}

/// Runs every case [`ITERATIONS`] times and returns each case's median duration. The
/// cases take turns within each round, so that load from other processes on the
/// machine affects all of them alike.
fn median_interleaved(cases: &mut [Case<'_>]) -> anyhow::Result<Vec<Duration>> {
    let mut durations = vec![Vec::with_capacity(ITERATIONS); cases.len()];
    for _ in 0..ITERATIONS {
        for (case, times) in cases.iter_mut().zip(&mut durations) {
            let started = Instant::now();
            (case.work)().with_context(|| format!("`{}` failed", case.name.trim()))?;
            times.push(started.elapsed());
        }
    }
    Ok(durations
        .into_iter()
        .map(|mut times| {
            times.sort();
            times[ITERATIONS / 2]
        })
        .collect())
}

fn bench_revisions() -> Revisions {
    Revisions {
        base: Some("base".to_string()),
        head: Some("head".to_string()),
        working_tree: false,
    }
}

/// Returns a `git` command that ignores the user's and the system's git configuration.
fn git(root: &Path) -> Command {
    let mut command = Command::new("git");
    command
        .arg("-C")
        .arg(root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1");
    command
}

/// Returns the number of paths `git diff --name-only REVISIONS` prints. `base head`
/// compares the two trees, and `base...head` starts from their merge base, as
/// `changed` does.
fn git_diff_name_only(root: &Path, revisions: &[&str]) -> anyhow::Result<usize> {
    let output = git(root)
        .args(["diff", "--name-only", "--no-renames"])
        .args(revisions)
        .output()
        .context("failed to run `git diff`")?;
    ensure!(output.status.success(), "`git diff` failed: {output:?}");
    Ok(output
        .stdout
        .split(|byte| *byte == b'\n')
        .filter(|line| !line.is_empty())
        .count())
}

fn xtask_changed(root: &Path) -> anyhow::Result<()> {
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root)
        .args(["changed", "--base", "base", "--head", "head"])
        .env("RUST_LOG", "warn")
        .env_remove("GITHUB_OUTPUT")
        .output()
        .context("failed to run `xtask changed`")?;
    ensure!(
        output.status.success(),
        "`xtask changed` failed: {output:?}"
    );
    Ok(())
}

/// Builds the repository with one `git fast-import` stream, tags `base` and `head`, and
/// checks out `head` so that the command can read the catalog from disk.
fn generate(root: &Path) -> anyhow::Result<()> {
    let status = git(root)
        .args(["init", "--quiet", "--initial-branch=main"])
        .status()?;
    ensure!(status.success(), "`git init` failed");

    let mut import = git(root)
        .args(["fast-import", "--quiet"])
        .stdin(Stdio::piped())
        .spawn()
        .context("failed to start `git fast-import`")?;
    let Some(mut stdin) = import.stdin.take() else {
        bail!("`git fast-import` has no standard input");
    };
    stdin.write_all(&fast_import_stream())?;
    drop(stdin);
    ensure!(import.wait()?.success(), "`git fast-import` failed");

    let status = git(root)
        .args(["checkout", "--quiet", "--force", "head"])
        .status()?;
    ensure!(status.success(), "`git checkout` failed");
    Ok(())
}

/// A deterministic pseudo-random sequence (a 64-bit linear congruential generator), so
/// every run benchmarks the same history.
struct Sequence(u64);

impl Sequence {
    fn next(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

/// Returns the fast-import stream: a first commit with the whole catalog, then commits that
/// each change one config, test, README, recipe or doc.
fn fast_import_stream() -> Vec<u8> {
    let mut stream = String::new();
    let mut sequence = Sequence(42);

    let mut files = vec![(
        "catalog.yaml".to_string(),
        "registry: ghcr.io\nnamespace: example/images\narchs: [amd64, arm64]\n".to_string(),
    )];
    for image in 0..IMAGES {
        files.extend(image_files(image, 0));
    }
    for recipe in 0..RECIPES {
        files.push((recipe_path(recipe), recipe_text(recipe, 0)));
    }
    write_commit(&mut stream, 1, &files);

    for number in 2..=COMMITS {
        let image = sequence.next(IMAGES);
        let recipe = sequence.next(RECIPES);
        let file = match sequence.next(20) {
            0 => (recipe_path(recipe), recipe_text(recipe, number)),
            1 => ("docs/notes.md".to_string(), format!("# Notes {number}\n")),
            2..=5 => (
                format!("images/img-{image}/tests/run.sh"),
                format!("#!/bin/sh\n# {number}\n"),
            ),
            6 => (
                format!("images/img-{image}/README.md"),
                format!("# img-{image} {number}\n"),
            ),
            _ => image_files(image, number).swap_remove(1),
        };
        write_commit(&mut stream, number, &[file]);
    }

    let _ = write!(stream, "reset refs/tags/base\nfrom :{BASE_COMMIT}\n\n");
    let _ = write!(stream, "reset refs/tags/head\nfrom :{HEAD_COMMIT}\n\n");
    stream.into_bytes()
}

fn write_commit(stream: &mut String, number: usize, files: &[(String, String)]) {
    let message = format!("Commit {number}\n");
    let time = 1_700_000_000 + number;
    let _ = write!(
        stream,
        "commit refs/heads/main\nmark :{number}\ncommitter Bench <bench@example.com> {time} +0000\ndata {}\n{message}",
        message.len()
    );
    for (path, text) in files {
        let _ = write!(
            stream,
            "M 100644 inline {path}\ndata {}\n{text}\n",
            text.len()
        );
    }
    stream.push('\n');
}

/// Returns `image.yaml`, the config and the test script of image `img-<image>`. The
/// config installs local package `pkg-<image % RECIPES>`.
fn image_files(image: usize, revision: usize) -> Vec<(String, String)> {
    let dir = format!("images/img-{image}");
    vec![
        (
            format!("{dir}/image.yaml"),
            "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n".to_string(),
        ),
        (
            format!("{dir}/configs/latest.apko.yaml"),
            format!(
                "contents:\n  repositories: [https://packages.wolfi.dev/os]\n  keyring: [https://packages.wolfi.dev/os/wolfi-signing.rsa.pub]\n  packages:\n    - pkg-{}\n    - base-{revision}\n",
                image % RECIPES
            ),
        ),
        (format!("{dir}/tests/run.sh"), "#!/bin/sh\n".to_string()),
    ]
}

fn recipe_path(recipe: usize) -> String {
    format!("packages/pkg-{recipe}.yaml")
}

/// Returns recipe `pkg-<recipe>`. Recipes form chains of five: `pkg-0` needs nothing,
/// `pkg-1` needs `pkg-0` at build time, and so on up to `pkg-4`.
fn recipe_text(recipe: usize, revision: usize) -> String {
    let mut text =
        format!("package:\n  name: pkg-{recipe}\n  version: 1.{revision}.0\n  epoch: 0\n");
    if !recipe.is_multiple_of(5) {
        let _ = write!(
            text,
            "environment:\n  contents:\n    packages: [pkg-{}]\n",
            recipe - 1
        );
    }
    text
}
