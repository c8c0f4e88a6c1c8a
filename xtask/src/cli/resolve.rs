//! `cargo xtask resolve`: what a variant's config, or an ad-hoc list of packages,
//! resolves to for one architecture, as text or as a JSON lock.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use serde::Serialize;

use super::output::print_line;
use super::{Context, load_catalog};
use crate::catalog::Arch;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Catalog image whose config gives the repositories, keys and packages.
    #[arg(value_name = "IMAGE", conflicts_with = "packages")]
    pub image: Option<String>,

    /// Variant of IMAGE; defaults to its first variant.
    #[arg(long, value_name = "NAME", requires = "image")]
    pub variant: Option<String>,

    /// Package constraint to resolve (`nginx`, `busybox>=1.36`, `foo@tag`); repeatable.
    #[arg(long = "package", short = 'p', value_name = "CONSTRAINT")]
    pub packages: Vec<String>,

    /// Repository, as in apk's repositories file (`[@tag ]URL-or-folder`); repeatable.
    /// Added after the image's own repositories.
    #[arg(long = "repository", value_name = "REPOSITORY")]
    pub repositories: Vec<String>,

    /// Public key file or folder of keys that signs the indexes; repeatable.
    #[arg(long = "keyring", value_name = "PATH")]
    pub keyring: Vec<PathBuf>,

    /// Architecture, as `amd64` or `x86_64`.
    #[arg(long, default_value = "amd64")]
    pub arch: String,

    /// Print a JSON lock (name, version, arch, checksum, URL) instead of text.
    #[arg(long)]
    pub json: bool,

    /// Use only local repositories and the cache.
    #[arg(long)]
    pub offline: bool,

    /// Package cache folder; defaults to `$XDG_CACHE_HOME/xtask` or `~/.cache/xtask`.
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// One resolved package in the JSON lock.
#[derive(Debug, Serialize)]
struct LockEntry {
    name: String,
    version: String,
    arch: String,
    /// The index's `C:` checksum (`Q1` and base64 SHA-1 of the control stream).
    checksum: Option<String>,
    url: String,
}

/// The resolution request: repositories in priority order, keys and the world.
struct Query {
    repositories: Vec<String>,
    keyring: Vec<PathBuf>,
    world: Vec<String>,
    /// Folder that relative repository and key paths resolve against.
    base: PathBuf,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let arch: Arch = args.arch.parse().map_err(|error| {
        anyhow::anyhow!("{error}\nhint: use one of: {}", Arch::accepted_names())
    })?;
    let query = query(context, &args)?;
    if query.world.is_empty() {
        bail!("nothing to resolve\nhint: name an image, or list packages with `--package`");
    }
    let fetcher = fetcher(&query, &args)?;
    let specs: Vec<apk::RepositorySpec> = query
        .repositories
        .iter()
        .map(|line| repository_spec(line, &query.base))
        .collect();
    let repositories = fetcher
        .fetch_repositories(&specs, arch.apk_name())
        .context("cannot read the repository indexes")?;
    let universe = apk::Universe::new(&repositories, arch.apk_name());
    let mut world = Vec::new();
    for constraint in &query.world {
        let dependency = apk::Dependency::parse(constraint)
            .with_context(|| format!("invalid package constraint `{constraint}`"))?;
        world.push(dependency);
    }
    let resolution = apk::resolve(&universe, &world).map_err(|error| anyhow::anyhow!("{error}"))?;
    print_resolution(&resolution, &specs, arch, args.json)?;
    Ok(ExitCode::SUCCESS)
}

fn query(context: &Context, args: &Args) -> anyhow::Result<Query> {
    let mut query = Query {
        repositories: Vec::new(),
        keyring: Vec::new(),
        world: args.packages.clone(),
        base: context.root.clone(),
    };
    if let Some(name) = &args.image {
        let catalog = load_catalog(context)?;
        let Some(image) = catalog.image(name) else {
            bail!(
                "image `{name}` is not in the catalog\nhint: `cargo xtask list` shows the images"
            );
        };
        let variant = match &args.variant {
            Some(wanted) => image
                .variants
                .iter()
                .find(|variant| &variant.name == wanted),
            None => image.variants.first(),
        };
        let Some(variant) = variant else {
            bail!(
                "image `{name}` has no variant `{}`",
                args.variant.as_deref().unwrap_or("")
            );
        };
        let contents = &variant.config.contents;
        let repositories = contents
            .repositories
            .iter()
            .chain(&contents.build_repositories);
        query
            .repositories
            .extend(repositories.map(|repository| repository.value.clone()));
        query
            .keyring
            .extend(contents.keyring.iter().map(|key| PathBuf::from(&key.value)));
        query.world.extend(
            contents
                .packages
                .iter()
                .map(|package| package.value.clone()),
        );
    } else {
        query.base = std::env::current_dir().context("cannot read the current folder")?;
    }
    query.repositories.extend(args.repositories.iter().cloned());
    query.keyring.extend(args.keyring.iter().cloned());
    Ok(query)
}

fn fetcher(query: &Query, args: &Args) -> anyhow::Result<apk::Fetcher> {
    let cache_dir = match &args.cache_dir {
        Some(dir) => dir.clone(),
        None => super::build::default_cache_dir()?,
    };
    let cache = apk::Cache::open(&cache_dir)
        .with_context(|| format!("cannot open the package cache `{}`", cache_dir.display()))?;
    let mode = if args.offline {
        apk::NetworkMode::Offline
    } else {
        apk::NetworkMode::Online
    };
    // Keys named by URL come through the cache, as in image builds.
    let key_fetcher = apk::Fetcher::new(cache.clone(), apk::Keyring::new(), mode);
    let mut keyring = apk::Keyring::new();
    for key in &query.keyring {
        let text = key.to_string_lossy();
        let path = if text.contains("://") {
            key_fetcher
                .fetch_key(&text)
                .with_context(|| format!("cannot fetch the key `{text}`"))?
        } else {
            query.base.join(key)
        };
        keyring
            .load(&path)
            .with_context(|| format!("cannot load the key `{}`", path.display()))?;
    }
    Ok(apk::Fetcher::new(cache, keyring, mode))
}

/// Parses a repository line; a relative folder resolves against `base`, as apko resolves
/// it against the working folder.
fn repository_spec(line: &str, base: &Path) -> apk::RepositorySpec {
    let mut spec = apk::RepositorySpec::parse(line);
    if !spec.url.contains("://") && Path::new(&spec.url).is_relative() {
        spec.url = base.join(&spec.url).display().to_string();
    }
    spec
}

fn print_resolution(
    resolution: &apk::Resolution,
    specs: &[apk::RepositorySpec],
    arch: Arch,
    json: bool,
) -> anyhow::Result<()> {
    let entries: Vec<LockEntry> = resolution
        .packages
        .iter()
        .map(|package| {
            let info = &package.info;
            let url = specs
                .get(package.repository)
                .map(|spec| spec.package_url(arch.apk_name(), info));
            LockEntry {
                name: info.name.clone(),
                version: info.version.to_string(),
                arch: info.arch.clone(),
                checksum: info.checksum.as_ref().map(ToString::to_string),
                url: url.unwrap_or_default(),
            }
        })
        .collect();
    if json {
        return Ok(print_line(&serde_json::to_string_pretty(&entries)?)?);
    }
    for entry in &entries {
        print_line(&format!("{} {} {}", entry.name, entry.version, entry.url))?;
    }
    Ok(())
}
