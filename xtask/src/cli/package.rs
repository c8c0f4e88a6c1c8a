//! `cargo xtask package [NAME...]`: builds recipes from `packages/` into the local
//! signed repository `out/packages/<arch>/`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;

use super::{Context, load_catalog};
use crate::package::{
    self, Isolation, Outcome, PackageOptions, REPOSITORY_DIR, TargetArch, signing,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recipes to build (their build-time dependencies are added); every recipe when
    /// none is given.
    #[arg(value_name = "NAME")]
    pub names: Vec<String>,

    /// Architecture to build for (`x86_64`/`amd64`, `aarch64`/`arm64`); repeat for
    /// several. Defaults to the catalog's architectures.
    #[arg(long = "arch", value_name = "ARCH")]
    pub archs: Vec<TargetArch>,

    /// Run build steps directly on the host instead of in the bubblewrap sandbox.
    #[arg(long)]
    pub no_sandbox: bool,

    /// Skip upstream URLs: take sources only from the cache, the mirror and Debian's
    /// archive.
    #[arg(long, env = "XTASK_OFFLINE", value_parser = clap::builder::BoolishValueParser::new())]
    pub offline: bool,

    /// Cache folder for sources and build workspaces [default: $XDG_CACHE_HOME/xtask].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Folder of source files looked up before upstream URLs; overrides
    /// `packages.source-mirror` in catalog.yaml.
    #[arg(long, value_name = "DIR")]
    pub source_mirror: Option<PathBuf>,

    /// Private key (PEM) matching `packages.signing-key` in catalog.yaml. Without it an
    /// ephemeral key signs.
    #[arg(long, value_name = "FILE", env = signing::PRIVATE_KEY_ENV)]
    pub signing_key: Option<PathBuf>,

    /// Repository folder [default: out/packages under the catalog root].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,

    /// Maximum number of builds run at the same time [default: number of processors].
    #[arg(short, long, value_name = "N", value_parser = super::parse_jobs)]
    pub jobs: Option<usize>,

    /// Rebuild even when the recorded content hash matches.
    #[arg(long)]
    pub force: bool,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let catalog = load_catalog(context)?;
    let options = options(context, &catalog, args)?;
    let report = package::build_packages(&catalog, &options)?;

    for (recipe, arch, result) in &report.results {
        match result {
            Ok(Outcome::Built { files, seconds }) => {
                for file in files {
                    println!("built {} ({seconds:.1} s)", file.display());
                }
            }
            Ok(Outcome::UpToDate) => println!("up to date {arch}/{recipe}"),
            Ok(Outcome::NotForArch) => {}
            Err(_) => println!("failed {arch}/{recipe}"),
        }
    }
    let failures: Vec<_> = report.failures().collect();
    for failure in &failures {
        eprintln!("error: {failure}");
    }
    println!("repository: {}", report.repository.display());
    println!(
        "public key: {}{}",
        report.public_key.display(),
        if report.ephemeral_key {
            " (ephemeral)"
        } else {
            ""
        }
    );
    tracing::info!(
        seconds = format!("{:.2}", started.elapsed().as_secs_f64()),
        "done"
    );
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

pub(super) fn options(
    context: &Context,
    catalog: &crate::catalog::Catalog,
    args: Args,
) -> anyhow::Result<PackageOptions> {
    let archs = if args.archs.is_empty() {
        catalog
            .archs
            .iter()
            .map(|arch| arch.apk_name().parse::<TargetArch>())
            .collect::<Result<Vec<_>, _>>()
            .context("catalog.yaml lists an architecture the package builder does not support")?
    } else {
        args.archs
    };
    let absolute = |path: PathBuf| {
        if path.is_absolute() {
            path
        } else {
            context.root.join(path)
        }
    };
    let cache_dir = args
        .cache_dir
        .map(absolute)
        .unwrap_or_else(|| package::sources::default_cache_dir(&context.root));
    let jobs = args.jobs.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let source_date_epoch = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(text) => text
            .parse()
            .with_context(|| format!("invalid SOURCE_DATE_EPOCH `{text}`: expected seconds"))?,
        Err(_) => 0,
    };
    Ok(PackageOptions {
        names: args.names,
        archs,
        isolation: if args.no_sandbox {
            Isolation::None
        } else {
            Isolation::Sandbox
        },
        offline: args.offline,
        cache_dir,
        source_mirror: args.source_mirror.map(absolute),
        private_key: args.signing_key.map(absolute),
        repository: args
            .out
            .map(absolute)
            .unwrap_or_else(|| context.root.join(REPOSITORY_DIR)),
        jobs,
        force: args.force,
        source_date_epoch,
    })
}
