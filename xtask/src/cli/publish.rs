//! `cargo xtask publish <image>...` or `publish --changed`: pushes the layouts `build`
//! wrote, signs and attests them. Each variant is published on its own. A failed variant
//! is reported, the others still run, and the exit code is 1 when any failed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Context;
use super::registry_args::{RegistryArgs, runtime};
use super::signing_args::SigningArgs;
use crate::catalog::{Catalog, Image, Variant};
use crate::changes::{self, GraphInput, Revisions};
use crate::publish::record::write_records;
use crate::publish::{PublishedVariant, describe_signing, publish_variant};
use crate::registry::{LayoutImage, PushPlan, Repository, Secret};
use crate::sign::{CosignSigner, KeylessConfig, KeylessSigner, Signer, TokenSource};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Images to publish, by name (`nginx`).
    #[arg(
        value_name = "IMAGE",
        required_unless_present = "changed",
        conflicts_with = "changed"
    )]
    pub images: Vec<String>,

    /// Publish only these variants (`latest`, `latest-dev`); all by default.
    #[arg(long = "variant", value_name = "NAME", conflicts_with = "changed")]
    pub variants: Vec<String>,

    /// Publish the variants that `cargo xtask changed` selects for the same --base and
    /// --head. Variants without a built layout are skipped with a message.
    #[arg(long)]
    pub changed: bool,

    /// With --changed: the base revision, as `cargo xtask changed --base` reads it.
    #[arg(long, value_name = "REV", requires = "changed")]
    pub base: Option<String>,

    /// With --changed: the head revision, as `cargo xtask changed --head` reads it.
    #[arg(long, value_name = "REV", requires = "changed")]
    pub head: Option<String>,

    /// Print what would be pushed and signed, and contact no registry.
    #[arg(long)]
    pub dry_run: bool,

    /// Folder holding `<image>/<variant>/` layouts; defaults to `out/images` under the
    /// catalog root.
    #[arg(long, value_name = "DIR")]
    pub images_dir: Option<PathBuf>,

    /// Push without signing or attesting.
    #[arg(long)]
    pub no_sign: bool,

    #[command(flatten)]
    pub signing: SigningArgs,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// One variant ready to publish.
struct Job {
    image: String,
    variant: String,
    name: String,
    layout: LayoutImage,
    plan: PushPlan,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let mut catalog = super::load_catalog(context)?;
    if let Some(registry) = &args.registry.registry_override {
        catalog.settings.registry.value = registry.clone();
    }
    let jobs = if args.changed {
        plan_changed_jobs(context, &catalog, &args)?
    } else {
        plan_jobs(&catalog, &args)?
    };
    if jobs.is_empty() {
        eprintln!("publish: nothing to publish");
        return Ok(ExitCode::SUCCESS);
    }
    let mode = signing_mode(&catalog, &args)?;

    if args.dry_run {
        for job in &jobs {
            println!("{}:", job.name);
            print!("{}", job.plan.describe());
            if let Some(mode) = mode {
                print!("{}", describe_signing(&job.layout, &job.plan, mode));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let runtime = runtime()?;
    let signer = match mode {
        Some(mode) => Some(runtime.block_on(signer(context, &args, mode))?),
        None => None,
    };
    let registry = &catalog.settings.registry.value;
    let client = args.registry.client(registry)?;
    let mut failed = 0;
    let mut published = Vec::new();
    for job in &jobs {
        let result = runtime.block_on(publish_variant(
            &client,
            &job.name,
            &job.layout,
            &job.plan,
            signer.as_ref(),
        ));
        match result {
            Ok(variant) => {
                report(&variant);
                published.push((job.image.clone(), job.variant.clone(), variant));
            }
            Err(error) => {
                failed += 1;
                eprintln!("error: {:#}", anyhow::Error::from(error));
            }
        }
    }
    // Only signed releases get a record: the record names the signature.
    if signer.is_some() {
        write_records(&context.root, &published).context("failed to write the release records")?;
    }
    if failed > 0 {
        eprintln!("publish: {failed} of {} variant(s) failed", jobs.len());
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn report(published: &PublishedVariant) {
    println!(
        "{}@{} {}",
        published.repository,
        published.digest,
        published.tags.join(",")
    );
}

fn images_dir(catalog: &Catalog, args: &Args) -> PathBuf {
    args.images_dir
        .clone()
        .unwrap_or_else(|| catalog.root.join("out").join("images"))
}

/// Repositories of every catalog image, the sources tried for cross-repository mounts.
fn catalog_repositories(catalog: &Catalog) -> Vec<Repository> {
    catalog
        .images
        .iter()
        .filter_map(|image| Repository::parse(&catalog.repository_of(image)).ok())
        .collect()
}

/// Plans the variants that change detection selects, as `cargo xtask changed` does,
/// and skips those without a built layout.
fn plan_changed_jobs(
    context: &Context,
    catalog: &Catalog,
    args: &Args,
) -> anyhow::Result<Vec<Job>> {
    let revisions = Revisions {
        base: args.base.clone(),
        head: args.head.clone(),
        working_tree: false,
    };
    let input = GraphInput::from_catalog(catalog);
    let selection = changes::changed_images(&context.root, &revisions, &input)
        .context("failed to compute the changed images")?;
    for removed in &selection.removed {
        eprintln!(
            "publish: image `{}` was removed; its published tags stay in the registry",
            removed.name
        );
    }
    if selection.images.is_empty() {
        eprintln!("publish: no image changed between the compared revisions");
    }
    let images_dir = images_dir(catalog, args);
    let repositories = catalog_repositories(catalog);
    let mut jobs = Vec::new();
    for changed in &selection.images {
        let Some(image) = catalog.image(&changed.name) else {
            bail!("changed image `{}` is not in the catalog", changed.name);
        };
        for changed_variant in &changed.variants {
            let Some(variant) = image
                .variants
                .iter()
                .find(|variant| variant.name == changed_variant.name)
            else {
                bail!(
                    "image `{}` has no variant `{}`",
                    image.name,
                    changed_variant.name
                );
            };
            let dir = images_dir.join(&image.name).join(&variant.name);
            if !is_built(&dir) {
                eprintln!(
                    "publish: skipped {}/{}: not built (no OCI layout at `{}`); run `cargo xtask build {}` first",
                    image.name,
                    variant.name,
                    dir.display(),
                    image.name
                );
                continue;
            }
            jobs.push(job(catalog, image, variant, &images_dir, &repositories)?);
        }
    }
    Ok(jobs)
}

/// Returns whether `dir` contains an OCI layout. `build` writes `index.json` after every
/// blob, so a layout without it is unfinished.
fn is_built(dir: &Path) -> bool {
    dir.join("index.json").is_file()
}

fn plan_jobs(catalog: &Catalog, args: &Args) -> anyhow::Result<Vec<Job>> {
    let images_dir = images_dir(catalog, args);
    let repositories = catalog_repositories(catalog);
    let mut jobs = Vec::new();
    for name in &args.images {
        let Some(image) = catalog.image(name) else {
            let known: Vec<&str> = catalog
                .images
                .iter()
                .map(|image| image.name.as_str())
                .collect();
            bail!(
                "unknown image `{name}`; the catalog has: {}",
                known.join(", ")
            );
        };
        for variant in selected_variants(image, &args.variants)? {
            jobs.push(job(catalog, image, variant, &images_dir, &repositories)?);
        }
    }
    Ok(jobs)
}

fn selected_variants<'a>(image: &'a Image, names: &[String]) -> anyhow::Result<Vec<&'a Variant>> {
    if names.is_empty() {
        return Ok(image.variants.iter().collect());
    }
    let mut selected = Vec::new();
    for name in names {
        match image.variants.iter().find(|variant| &variant.name == name) {
            Some(variant) => selected.push(variant),
            None => bail!("image `{}` has no variant `{name}`", image.name),
        }
    }
    Ok(selected)
}

fn job(
    catalog: &Catalog,
    image: &Image,
    variant: &Variant,
    images_dir: &Path,
    repositories: &[Repository],
) -> anyhow::Result<Job> {
    let name = format!("{}/{}", image.name, variant.name);
    let dir = images_dir.join(&image.name).join(&variant.name);
    let layout = LayoutImage::read(&dir).with_context(|| {
        format!(
            "failed to read the layout of {name}; run `cargo xtask build {}` first",
            image.name
        )
    })?;
    let repository = Repository::parse(&catalog.repository_of(image))?;
    let plan = PushPlan::new(&layout, repository, &variant.tags, repositories);
    Ok(Job {
        image: image.name.clone(),
        variant: variant.name.clone(),
        name,
        layout,
        plan,
    })
}

/// Returns the signing mode, or `None` with `--no-sign` or when the catalog sets none.
fn signing_mode(catalog: &Catalog, args: &Args) -> anyhow::Result<Option<&'static str>> {
    if args.no_sign {
        return Ok(None);
    }
    let mode = args.signing.signing_mode.as_deref().or(catalog
        .settings
        .signing
        .mode
        .as_ref()
        .map(|mode| mode.value.as_str()));
    match mode {
        Some("key") => Ok(Some("key")),
        Some("keyless") => Ok(Some("keyless")),
        Some(other) => {
            bail!("unknown signing mode `{other}` in catalog.yaml; expected `key` or `keyless`")
        }
        None => {
            tracing::warn!("catalog.yaml sets no `signing.mode`; publishing unsigned");
            Ok(None)
        }
    }
}

async fn signer(context: &Context, args: &Args, mode: &str) -> anyhow::Result<Signer> {
    if mode == "key" {
        let Some(key) = &args.signing.key else {
            bail!(
                "`signing.mode: key` needs the private key: pass --key FILE or set XTASK_COSIGN_KEY"
            );
        };
        let Ok(password) = std::env::var("COSIGN_PASSWORD") else {
            bail!(
                "COSIGN_PASSWORD is not set; it decrypts `{}`",
                key.display()
            );
        };
        return Ok(Signer::Key(CosignSigner::load(
            key,
            &Secret::new(password),
        )?));
    }
    if !context.github_actions {
        bail!(
            "`signing.mode: keyless` signs with the GitHub Actions identity and only runs in GitHub Actions; use --no-sign or --dry-run elsewhere"
        );
    }
    let (Some(fulcio_url), Some(rekor_url)) = (&args.signing.fulcio_url, &args.signing.rekor_url)
    else {
        bail!(
            "keyless signing needs --fulcio-url and --rekor-url (or XTASK_FULCIO_URL and XTASK_REKOR_URL)"
        );
    };
    let config = KeylessConfig {
        fulcio_url: fulcio_url.clone(),
        rekor_url: rekor_url.clone(),
        token: TokenSource::from_actions_env()?,
    };
    Ok(Signer::Keyless(KeylessSigner::start(&config).await?))
}
