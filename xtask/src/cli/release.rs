//! `cargo xtask release`: the release path in one command. It selects image variants
//! (named, changed since a revision, or all), builds them, runs their tests, publishes
//! and signs the ones that passed, and regenerates the README table from the release
//! records that publishing wrote.
//!
//! A variant that fails a stage skips the later stages while the others go on. The
//! exit code is 1 when any selected variant did not make it through.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use super::registry_args::RegistryArgs;
use super::signing_args::SigningArgs;
use super::{Context, build, changed, load_catalog, publish, readme, test};
use crate::catalog::Profile;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Images to release (every variant of each, or those given with `--variant`).
    #[arg(value_name = "IMAGE", conflicts_with_all = ["changed", "all"])]
    pub images: Vec<String>,

    /// Release the variants that the commits since `--base` change, as `cargo xtask
    /// changed` selects them.
    #[arg(long)]
    pub changed: bool,

    /// Release every variant of every image.
    #[arg(long, conflicts_with = "changed")]
    pub all: bool,

    /// Base revision for `--changed`; the default is that of `cargo xtask changed`.
    #[arg(long, value_name = "REV", requires = "changed")]
    pub base: Option<String>,

    /// Head revision for `--changed`; default `HEAD`.
    #[arg(long, value_name = "REV", requires = "changed")]
    pub head: Option<String>,

    /// Release only these variants of the named images (repeatable).
    #[arg(long = "variant", value_name = "NAME")]
    pub variants: Vec<String>,

    /// Package profile of the builds; defaults to `profile:` in catalog.yaml.
    #[arg(long, value_enum, value_name = "PROFILE", env = "XTASK_PROFILE")]
    pub profile: Option<Profile>,

    /// Use only local repositories, the package cache and Debian's source archive.
    #[arg(long, env = "XTASK_OFFLINE", value_parser = clap::builder::BoolishValueParser::new())]
    pub offline: bool,

    /// Runtime of the image tests: `bwrap`, or `docker` for the amd64 images.
    #[arg(long, value_enum, default_value = "bwrap")]
    pub runtime: test::RuntimeArg,

    /// Build, test and print what would be pushed and signed, but contact no registry.
    #[arg(long)]
    pub dry_run: bool,

    #[command(flatten)]
    pub signing: SigningArgs,

    /// Cache folder for packages and package sources; defaults to
    /// `$XDG_CACHE_HOME/xtask` or `~/.cache/xtask`.
    #[arg(long, value_name = "DIR", env = "XTASK_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Max number of build threads; defaults to the number of CPUs.
    #[arg(short = 'j', long = "jobs", value_name = "N", value_parser = super::parse_jobs)]
    pub jobs: Option<usize>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// One variant on its way through the stages.
type VariantName = (String, String);

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let selected = select(context, &args)?;
    if selected.is_empty() && !args.images.is_empty() {
        bail!(
            "none of the named images has a variant {}; `cargo xtask list` shows the variants",
            args.variants
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if selected.is_empty() {
        println!("release: no image variant selected; nothing to do");
        return Ok(ExitCode::SUCCESS);
    }
    let names: Vec<String> = unique_images(&selected);
    tracing::info!(images = %names.join(", "), variants = selected.len(), "release: selected");

    let build_args = build::Args {
        images: names.clone(),
        config: None,
        output: None,
        variants: args.variants.clone(),
        archs: Vec::new(),
        tags: Vec::new(),
        lock: None,
        offline: args.offline,
        profile: args.profile,
        cache_dir: args.cache_dir.clone(),
        jobs: args.jobs,
        skip_unavailable: args.images.is_empty(),
    };
    let run = build::execute(context, &build_args)?;
    let built: Vec<VariantName> = run
        .built
        .into_iter()
        .filter(|variant| selected.contains(variant))
        .collect();
    // Variants the offline profile cannot build were skipped with a warning; they are
    // not failures of this release.
    for (image, variant) in &run.skipped {
        println!("release: skipped {image}:{variant}: the offline profile cannot build it");
    }
    let selected: Vec<VariantName> = selected
        .into_iter()
        .filter(|variant| !run.skipped.contains(variant))
        .collect();

    let tested = test_stage(context, &args, &built)?;
    let published = publish_stage(context, &args, &tested)?;
    if !args.dry_run && !published.is_empty() {
        let readme_args = readme::Args {
            check: false,
            github: false,
            run_id: None,
            merge_records: None,
        };
        if readme::run(context, readme_args)? != ExitCode::SUCCESS {
            bail!("failed to regenerate the README table");
        }
    }

    print_summary(&selected, &built, &tested, &published, args.dry_run);
    if published.len() == selected.len() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::FAILURE)
    }
}

// The variants to release, as `(image, variant)`, in catalog order.
fn select(context: &Context, args: &Args) -> anyhow::Result<Vec<VariantName>> {
    let catalog = load_catalog(context)?;
    let images: Vec<String> = if args.changed || args.all {
        let changed_args = changed::Args {
            base: args.base.clone(),
            head: args.head.clone(),
            working_tree: false,
            all: args.all,
            image: Vec::new(),
            json: false,
            matrix: false,
            github_output: None,
        };
        let input = crate::changes::GraphInput::from_catalog(&catalog);
        let changes = changed::select(context, &changed_args, &input)?;
        changes
            .images
            .iter()
            .map(|image| image.name.clone())
            .collect()
    } else if args.images.is_empty() {
        bail!("name the images to release, or pass --changed or --all");
    } else {
        args.images.clone()
    };
    let mut selected = Vec::new();
    for name in &images {
        let Some(image) = catalog.image(name) else {
            bail!("image `{name}` is not in the catalog; `cargo xtask list` shows the images");
        };
        for variant in &image.variants {
            if args.variants.is_empty() || args.variants.contains(&variant.name) {
                selected.push((image.name.clone(), variant.name.clone()));
            }
        }
    }
    Ok(selected)
}

fn unique_images(variants: &[VariantName]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (image, _) in variants {
        if !names.contains(image) {
            names.push(image.clone());
        }
    }
    names
}

// Publishes the tested variants one image at a time, so that a failure of one image
// does not hide the others. Returns the variants that were pushed and signed.
fn publish_stage(
    context: &Context,
    args: &Args,
    tested: &[VariantName],
) -> anyhow::Result<Vec<VariantName>> {
    let mut published = Vec::new();
    for image in unique_images(tested) {
        let variants: Vec<String> = tested
            .iter()
            .filter(|(name, _)| name == &image)
            .map(|(_, variant)| variant.clone())
            .collect();
        let publish_args = publish::Args {
            images: vec![image.clone()],
            variants: variants.clone(),
            changed: false,
            base: None,
            head: None,
            dry_run: args.dry_run,
            images_dir: None,
            no_sign: false,
            signing: args.signing.clone(),
            registry: args.registry.clone(),
        };
        match publish::run(context, publish_args) {
            Ok(code) if code == ExitCode::SUCCESS => {
                published.extend(variants.into_iter().map(|variant| (image.clone(), variant)));
            }
            Ok(_) => tracing::error!(%image, "release: publish failed"),
            Err(error) => {
                tracing::error!(%image, error = format!("{error:#}"), "release: publish failed")
            }
        }
    }
    Ok(published)
}

// Runs the tests of each built variant; returns the variants whose tests passed.
fn test_stage(
    context: &Context,
    args: &Args,
    built: &[VariantName],
) -> anyhow::Result<Vec<VariantName>> {
    let mut passed = Vec::new();
    for (image, variant) in built {
        let test_args = test::Args {
            images: vec![image.clone()],
            variant: Some(variant.clone()),
            archs: Vec::new(),
            runtime: args.runtime,
            timeout: test::DEFAULT_TIMEOUT_SECONDS,
        };
        match test::run(context, test_args) {
            Ok(code) if code == ExitCode::SUCCESS => passed.push((image.clone(), variant.clone())),
            Ok(_) => tracing::error!(image = %image, variant = %variant, "release: tests failed"),
            Err(error) => tracing::error!(
                image = %image,
                variant = %variant,
                error = format!("{error:#}"),
                "release: tests could not run"
            ),
        }
    }
    Ok(passed)
}

fn print_summary(
    selected: &[VariantName],
    built: &[VariantName],
    tested: &[VariantName],
    published: &[VariantName],
    dry_run: bool,
) {
    let built: BTreeSet<&VariantName> = built.iter().collect();
    let tested: BTreeSet<&VariantName> = tested.iter().collect();
    let published: BTreeSet<&VariantName> = published.iter().collect();
    println!("release summary:");
    for variant in selected {
        let outcome = if published.contains(variant) && dry_run {
            "tested, not published (dry run)"
        } else if published.contains(variant) {
            "released"
        } else if tested.contains(variant) {
            "publish failed"
        } else if built.contains(variant) {
            "tests failed"
        } else {
            "not built"
        };
        println!("  {}:{} {outcome}", variant.0, variant.1);
    }
}
