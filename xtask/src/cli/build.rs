//! `cargo xtask build`: builds catalog images, or one standalone apko config, into OCI
//! image layouts. Images and architectures build in parallel; one failure does not stop
//! the others, and every failure is listed at the end.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use rayon::prelude::*;

use super::offline;
use super::progress::{BarReporter, LogReporter};
use super::{Context, load_catalog};
use crate::catalog::apko::ImageConfig;
use crate::catalog::{Arch, Catalog, Diagnostics, Profile, yaml};
use crate::image::time::source_date_epoch;
use crate::image::{BuildOutput, BuildRequest, PackageStore, Reporter, build_variant};

/// Output folder of catalog builds, relative to the catalog root.
const IMAGES_DIR: &str = "out/images";

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Catalog images to build (every variant of each); all images when none is given.
    #[arg(value_name = "IMAGE", conflicts_with = "config")]
    pub images: Vec<String>,

    /// Build this apko config instead of catalog images, as `apko build` does.
    #[arg(long, value_name = "FILE", requires = "output")]
    pub config: Option<PathBuf>,

    /// Layout folder to write for `--config`.
    #[arg(long, value_name = "DIR", requires = "config")]
    pub output: Option<PathBuf>,

    /// Build only these variants of the named images (repeatable); all by default.
    #[arg(long = "variant", value_name = "NAME", conflicts_with = "config")]
    pub variants: Vec<String>,

    /// Build only these architectures (`amd64` or `x86_64`, repeatable).
    #[arg(long = "arch", value_name = "ARCH")]
    pub archs: Vec<String>,

    /// Tags of a `--config` image (repeatable); `latest` when none is given.
    #[arg(long = "tag", value_name = "TAG", requires = "config")]
    pub tags: Vec<String>,

    /// Install exactly the packages of this lock file (a `lock.json` that a build wrote)
    /// instead of resolving; with catalog images, the selection must be one variant.
    #[arg(long, value_name = "FILE")]
    pub lock: Option<PathBuf>,

    /// Use only local repositories and the package cache, and take package sources
    /// only from the cache, the mirror and Debian's archive. A build that needs
    /// anything else fails with a list of what is missing.
    #[arg(long, env = "XTASK_OFFLINE", value_parser = clap::builder::BoolishValueParser::new())]
    pub offline: bool,

    /// Package source of catalog images. `offline` builds `packages/` into
    /// `out/packages` first and installs from there, and `upstream` uses the
    /// repositories each config names. Defaults to `profile:` in catalog.yaml, else
    /// `upstream`.
    #[arg(
        long,
        value_enum,
        value_name = "PROFILE",
        env = "XTASK_PROFILE",
        conflicts_with = "config"
    )]
    pub profile: Option<Profile>,

    /// Package cache folder; defaults to `$XDG_CACHE_HOME/xtask` or `~/.cache/xtask`.
    #[arg(long, value_name = "DIR", env = "XTASK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Max number of threads for images, architectures and compression; defaults to the
    /// number of CPUs.
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = super::parse_jobs)]
    pub jobs: Option<usize>,

    /// Whether images that the offline profile cannot build are skipped with a
    /// warning even though they are named (set by `release --changed`).
    #[arg(skip)]
    pub skip_unavailable: bool,
}

/// The variants a build run wrote, and its exit code.
pub struct BuildRun {
    /// `(image, variant)` of each layout written.
    pub built: Vec<(String, String)>,
    /// `(image, variant)` of each variant skipped because the offline profile cannot
    /// build it.
    pub skipped: Vec<(String, String)>,
    /// 0 when every selected build succeeded, else 1.
    pub exit_code: ExitCode,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    Ok(execute(context, &args)?.exit_code)
}

/// Builds what `args` selects and prints each result and the summary.
pub fn execute(context: &Context, args: &Args) -> anyhow::Result<BuildRun> {
    // `parse_jobs` rejects 0 on the command line. Callers that fill `Args` themselves
    // get the same check here, before any package build starts.
    if args.jobs == Some(0) {
        bail!("`-j 0` is invalid; give at least 1 thread");
    }
    let epoch = source_date_epoch()?;
    let mut unavailable = Vec::new();
    let mut skipped = Vec::new();
    let requests = match &args.config {
        Some(config) => vec![standalone_request(args, config, epoch)?],
        None => {
            let catalog = load_catalog(context)?;
            let requests = catalog_requests(&catalog, args, epoch)?;
            match args.profile.unwrap_or(catalog.settings.default_profile()) {
                Profile::Upstream => requests,
                Profile::Offline => {
                    let selection = offline::prepare(context, &catalog, args, requests)?;
                    unavailable = selection.unavailable;
                    skipped = selection.skipped;
                    selection.requests
                }
            }
        }
    };
    let mut builder = rayon::ThreadPoolBuilder::new();
    if let Some(jobs) = args.jobs {
        builder = builder.num_threads(jobs);
    }
    let pool = builder
        .build()
        .context("failed to start the build threads")?;
    let cache_dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => default_cache_dir()?,
    };
    let cache = apk::Cache::open(&cache_dir)
        .with_context(|| format!("cannot open the package cache `{}`", cache_dir.display()))?;
    let mode = if args.offline {
        apk::NetworkMode::Offline
    } else {
        apk::NetworkMode::Online
    };
    let store = PackageStore::new(cache, mode);
    let bars = BarReporter::new();
    let reporter: &dyn Reporter = if context.interactive {
        &bars
    } else {
        &LogReporter
    };
    let results: Vec<_> = pool.install(|| {
        requests
            .par_iter()
            .map(|request| (request, build_variant(request, &store, reporter)))
            .collect()
    });
    let built = results
        .iter()
        .filter(|(_, result)| result.is_ok())
        .map(|(request, _)| (request.image.clone(), request.variant.clone()))
        .collect();
    Ok(BuildRun {
        built,
        skipped,
        exit_code: summarize(&results, &unavailable),
    })
}

/// Returns `$XDG_CACHE_HOME/xtask`, else `$HOME/.cache/xtask`, as the XDG base
/// directory specification places caches.
pub(super) fn default_cache_dir() -> anyhow::Result<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir),
        None => match std::env::var_os("HOME").filter(|v| !v.is_empty()) {
            Some(home) => PathBuf::from(home).join(".cache"),
            None => bail!("neither XDG_CACHE_HOME nor HOME is set; pass --cache-dir"),
        },
    };
    Ok(base.join("xtask"))
}

/// Prints each built layout on stdout and each failure on stderr; returns 1 when any
/// build failed.
fn summarize(
    results: &[(&BuildRequest, Result<BuildOutput, crate::image::BuildError>)],
    unavailable: &[offline::Unavailable],
) -> ExitCode {
    let mut failures: Vec<(String, String)> = Vec::new();
    for (request, result) in results {
        match result {
            Ok(output) => {
                println!(
                    "{} {} {} [{}]",
                    request.label(),
                    output.index,
                    output.output.display(),
                    output.tags.join(", ")
                );
                print_usage_hint(request, output);
            }
            Err(error) => failures.push((request.label(), error.to_string())),
        }
    }
    for skipped in unavailable {
        failures.push((skipped.label.clone(), skipped.message()));
    }
    if failures.is_empty() {
        return ExitCode::SUCCESS;
    }
    eprintln!(
        "{} of {} builds failed:",
        failures.len(),
        results.len() + unavailable.len()
    );
    for (label, error) in &failures {
        eprintln!("error: {label}: {error}");
    }
    ExitCode::from(1)
}

// Tells a maintainer who just built an image how to look at it and run it. Docker
// Engine before 25 cannot load an OCI layout, so the hint goes through skopeo.
// NOTE: apko configs have no port field and the builder writes no `ExposedPorts`, so the
// hint cannot name the ports that a server image needs published with `-p`.
fn print_usage_hint(request: &BuildRequest, output: &BuildOutput) {
    let Some(tag) = output.tags.first() else {
        return;
    };
    // skopeo copies the image of one architecture into the daemon, so the hint picks
    // amd64 when it was built, else the first architecture built.
    let arch = if request.archs.contains(&Arch::Amd64) {
        Arch::Amd64
    } else {
        request.archs.first().copied().unwrap_or(Arch::Amd64)
    };
    // skopeo takes the variant of `arm/v7` as a flag of its own.
    let platform = match arch.oci_name().split_once('/') {
        Some((name, variant)) => format!("--override-arch {name} --override-variant {variant}"),
        None => format!("--override-arch {arch}"),
    };
    let layout = output.output.display();
    println!("  inspect: skopeo inspect --raw oci:{layout}:{tag}");
    if request.variant != "standalone" {
        println!("  test:    cargo xtask test {}", request.image);
    }
    println!(
        "  run:     skopeo copy {platform} oci:{layout}:{tag} docker-daemon:{}:{tag} && docker run --rm {}:{tag}",
        request.image, request.image
    );
}

fn parse_archs(names: &[String], source: &str) -> anyhow::Result<Vec<Arch>> {
    let mut archs = Vec::new();
    for name in names {
        let Ok(arch) = name.parse::<Arch>() else {
            bail!(
                "{source}: unknown architecture `{name}`; use one of: {}",
                Arch::accepted_names()
            );
        };
        if !archs.contains(&arch) {
            archs.push(arch);
        }
    }
    Ok(archs)
}

fn join_archs(archs: &[Arch]) -> String {
    archs
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn standalone_request(
    args: &Args,
    config_path: &Path,
    epoch: Option<u64>,
) -> anyhow::Result<BuildRequest> {
    let current = std::env::current_dir().context("cannot read the current folder")?;
    let config = load_config(config_path)?;
    let file = config_path.display().to_string();
    let config_archs: Vec<String> = config.archs.iter().map(|a| a.value.clone()).collect();
    let mut archs = parse_archs(&config_archs, &file)?;
    if archs.is_empty() {
        archs = vec![Arch::Amd64, Arch::Arm64];
    }
    if !args.archs.is_empty() {
        archs = parse_archs(&args.archs, "--arch")?;
    }
    let output = args.output.clone().unwrap_or_default();
    let image = config_path
        .file_name()
        .map(|name| {
            name.to_string_lossy()
                .trim_end_matches(".yaml")
                .trim_end_matches(".apko")
                .to_owned()
        })
        .unwrap_or_else(|| "image".to_owned());
    Ok(BuildRequest {
        image,
        variant: "standalone".to_owned(),
        config,
        config_file: config_path.to_path_buf(),
        // apko resolves relative repositories and keys against its working folder.
        base_dir: current.clone(),
        archs,
        tags: args.tags.clone(),
        extract_tags_from: None,
        output: current.join(output),
        lock: args.lock.clone(),
        source_date_epoch: epoch,
    })
}

/// Reads a standalone config with its `include` chain, resolved against the current
/// folder as apko resolves it.
fn load_config(path: &Path) -> anyhow::Result<ImageConfig> {
    let mut config: ImageConfig = read_yaml(path)?;
    let mut seen = vec![path.to_path_buf()];
    while let Some(include) = config.include.take() {
        let included = PathBuf::from(&include.value);
        if seen.contains(&included) || seen.len() > 16 {
            bail!(
                "{}: `include` of `{}` forms a cycle or nests deeper than 16 files",
                path.display(),
                include.value
            );
        }
        let mut base: ImageConfig = read_yaml(&included)?;
        let next = base.include.take();
        config = config.merged_over(base);
        config.include = next;
        seen.push(included);
    }
    Ok(config)
}

fn read_yaml(path: &Path) -> anyhow::Result<ImageConfig> {
    yaml::read(path, path).map_err(|diagnostic| {
        let mut diagnostics = Diagnostics::default();
        diagnostics.push(diagnostic);
        let text: Vec<String> = diagnostics
            .sorted()
            .iter()
            .map(ToString::to_string)
            .collect();
        anyhow::anyhow!("{}", text.join("\n"))
    })
}

fn catalog_requests(
    catalog: &Catalog,
    args: &Args,
    epoch: Option<u64>,
) -> anyhow::Result<Vec<BuildRequest>> {
    let only_archs = parse_archs(&args.archs, "--arch")?;
    let names: Vec<&str> = if args.images.is_empty() {
        catalog
            .images
            .iter()
            .map(|image| image.name.as_str())
            .collect()
    } else {
        args.images.iter().map(String::as_str).collect()
    };
    let mut requests = Vec::new();
    for &name in &names {
        let Some(image) = catalog.image(name) else {
            bail!("image `{name}` is not in the catalog; `cargo xtask list` shows the images");
        };
        let selected_before = requests.len();
        // Architectures of the variants that `--variant` selects, for the error below.
        let mut image_archs: Vec<Arch> = Vec::new();
        let mut skipped = Vec::new();
        for variant in &image.variants {
            if !args.variants.is_empty() && !args.variants.contains(&variant.name) {
                continue;
            }
            for arch in &variant.archs {
                if !image_archs.contains(arch) {
                    image_archs.push(*arch);
                }
            }
            let archs: Vec<Arch> = variant
                .archs
                .iter()
                .copied()
                .filter(|arch| only_archs.is_empty() || only_archs.contains(arch))
                .collect();
            if archs.is_empty() {
                skipped.push(variant);
                continue;
            }
            requests.push(catalog_request(catalog, &image.name, variant, archs, epoch));
        }
        let named = !args.images.is_empty();
        if named && requests.len() == selected_before && !image_archs.is_empty() {
            bail!(
                "image `{name}` does not build for {}: its selected variants build for {}; pass one of those to --arch, or add the architecture to `archs` in its config",
                join_archs(&only_archs),
                join_archs(&image_archs)
            );
        }
        for variant in skipped {
            tracing::warn!(
                image = %image.name,
                variant = %variant.name,
                archs = %join_archs(&variant.archs),
                "skipped: the variant builds for none of the --arch values"
            );
        }
    }
    for variant in &args.variants {
        let exists = names.iter().any(|name| {
            catalog
                .image(name)
                .is_some_and(|image| image.variants.iter().any(|v| &v.name == variant))
        });
        if !exists {
            bail!(
                "no selected image has a variant `{variant}`; `cargo xtask list` shows the variants"
            );
        }
    }
    if requests.is_empty() && !only_archs.is_empty() {
        bail!(
            "no selected variant builds for {}; `cargo xtask list` shows the architectures of each variant",
            join_archs(&only_archs)
        );
    }
    if let Some(lock) = &args.lock {
        let [request] = requests.as_mut_slice() else {
            bail!(
                "--lock `{}` applies to one variant, but {} variants are selected; name one image with one variant",
                lock.display(),
                requests.len()
            );
        };
        request.lock = Some(lock.clone());
    }
    Ok(requests)
}

fn catalog_request(
    catalog: &Catalog,
    image: &str,
    variant: &crate::catalog::Variant,
    archs: Vec<Arch>,
    epoch: Option<u64>,
) -> BuildRequest {
    BuildRequest {
        image: image.to_owned(),
        variant: variant.name.clone(),
        config: variant.config.clone(),
        config_file: variant.config_path.clone(),
        // Catalog configs name repositories relative to the catalog root, where CI runs.
        base_dir: catalog.root.clone(),
        archs,
        tags: variant.tags.clone(),
        extract_tags_from: variant.extract_tags_from.clone(),
        output: catalog
            .root
            .join(IMAGES_DIR)
            .join(image)
            .join(&variant.name),
        lock: None,
        source_date_epoch: epoch,
    }
}
