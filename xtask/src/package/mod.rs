//! The package builder: melange-format recipes in `packages/` built into signed APK
//! packages and a signed repository index under `out/packages/<arch>/`.
//!
//! A recipe is interpreted for an architecture ([`plan`]), its sources are found and
//! verified ([`sources`]), its steps run in a bubblewrap sandbox with the host
//! toolchain ([`runner`]), and each output folder becomes a package ([`output`]) in the
//! repository ([`repository`]). Stamps ([`stamp`]) skip recipes whose inputs did not
//! change, and [`schedule`] runs independent builds in parallel.

pub mod build;
pub mod condition;
pub mod lock;
pub mod output;
pub mod pipelines;
pub mod plan;
pub mod repository;
pub mod runner;
pub mod schedule;
pub mod signing;
pub mod sources;
pub mod stamp;
pub mod substitute;
pub mod target;
pub mod test_steps;
#[cfg(test)]
mod test_support;
pub mod tools;

use std::path::{Path, PathBuf};

pub use build::{BuildError, Outcome};
pub use runner::Isolation;
pub use signing::SigningKey;
pub use target::TargetArch;

use crate::catalog::{Catalog, Recipe};
use build::BuildSettings;
use pipelines::{PipelineError, Pipelines};
use repository::RepositoryError;
use schedule::DependencyCycle;
use signing::SigningError;
use sources::{SourceOptions, Sources};

/// Folder of the repository's own pipelines, relative to the catalog root.
pub const PIPELINE_DIR: &str = "packages/pipelines";

/// Default repository folder, relative to the catalog root.
pub const REPOSITORY_DIR: &str = "out/packages";

/// Options of a package build run: what to build and how.
#[derive(Debug, Clone)]
pub struct PackageOptions {
    /// Recipes to build (their build-time dependencies are added); all when empty.
    pub names: Vec<String>,
    /// Architectures to build for.
    pub archs: Vec<TargetArch>,
    /// Isolation of build steps.
    pub isolation: Isolation,
    /// Whether upstream URLs are skipped when looking up sources.
    pub offline: bool,
    /// Cache folder for sources, workspaces and the ephemeral key.
    pub cache_dir: PathBuf,
    /// Source mirror folder, overriding `catalog.yaml`.
    pub source_mirror: Option<PathBuf>,
    /// The repository's private key; an ephemeral key signs when absent.
    pub private_key: Option<PathBuf>,
    /// Repository folder, holding one folder per architecture.
    pub repository: PathBuf,
    /// Maximum number of builds run at the same time.
    pub jobs: usize,
    /// Whether every selected recipe is rebuilt, stamps ignored.
    pub force: bool,
    /// `SOURCE_DATE_EPOCH` of every package, in seconds.
    pub source_date_epoch: u64,
}

/// Errors that stop a run before or after the builds.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// A name given is no recipe and no package a recipe provides.
    #[error("no recipe in `packages/` provides `{0}`")]
    UnknownRecipe(String),
    /// Recipes need each other.
    #[error(transparent)]
    Cycle(#[from] DependencyCycle),
    /// A pipeline definition is invalid.
    #[error(transparent)]
    Pipelines(#[from] PipelineError),
    /// The signing key could not be loaded.
    #[error(transparent)]
    Signing(#[from] SigningError),
    /// A tool the run needs is missing.
    #[error(transparent)]
    Run(#[from] runner::RunError),
    /// The index or key could not be written.
    #[error(transparent)]
    Repository(#[from] RepositoryError),
}

/// The result of a run.
#[derive(Debug)]
pub struct PackageReport {
    /// Per recipe and architecture: the outcome, or why it failed.
    pub results: Vec<(String, TargetArch, Result<Outcome, BuildError>)>,
    /// The repository folder.
    pub repository: PathBuf,
    /// The public key that verifies the packages and indexes.
    pub public_key: PathBuf,
    /// Whether the key is ephemeral rather than the repository's.
    pub ephemeral_key: bool,
}

impl PackageReport {
    /// Returns the failed builds.
    pub fn failures(&self) -> impl Iterator<Item = &BuildError> {
        self.results
            .iter()
            .filter_map(|(_, _, result)| result.as_ref().err())
    }
}

/// Builds the selected recipes for every architecture in `options` and updates each
/// architecture's signed index. Build failures are in the report; errors are for
/// problems that stop the whole run.
pub fn build_packages(
    catalog: &Catalog,
    options: &PackageOptions,
) -> Result<PackageReport, PackageError> {
    let root = &catalog.root;
    let recipes =
        schedule::select(&catalog.recipes, &options.names).map_err(PackageError::UnknownRecipe)?;
    let jobs = schedule::jobs_for(&recipes, &options.archs)?;
    let pipelines = Pipelines::load(Some(&root.join(PIPELINE_DIR)))?;
    let settings = &catalog.settings.packages;
    let public_key = settings
        .signing_key
        .as_ref()
        .map(|key| root.join(&key.value));
    let key = SigningKey::select(
        public_key.as_deref(),
        options.private_key.as_deref(),
        &options.cache_dir,
    )?;
    let mirror = options
        .source_mirror
        .clone()
        .or_else(|| settings.source_mirror.as_ref().map(|dir| root.join(dir)));
    let sources = Sources::new(SourceOptions {
        cache_dir: options.cache_dir.clone(),
        mirror,
        offline: options.offline,
    });
    let build_settings = BuildSettings {
        root: root.clone(),
        repository: options.repository.clone(),
        work_dir: options.cache_dir.join("builds"),
        isolation: options.isolation,
        source_date_epoch: options.source_date_epoch,
        force: options.force,
    };
    if !jobs.is_empty() {
        runner_check(options)?;
    }

    let names: Vec<String> = recipes.iter().map(|recipe| recipe.name.clone()).collect();
    let results = schedule::run_jobs(&jobs, &names, options.jobs, |job, hashes| {
        let recipe: &Recipe = recipes[job.recipe];
        build::build_recipe(
            &build_settings,
            &pipelines,
            &sources,
            &key,
            recipe,
            job.arch,
            hashes,
        )
    });
    let results: Vec<(String, TargetArch, Result<Outcome, BuildError>)> = jobs
        .iter()
        .zip(results)
        .map(|(job, result)| {
            let name = names.get(job.recipe).cloned().unwrap_or_default();
            (name, job.arch, result.map(|built| built.outcome))
        })
        .collect();

    for arch in &options.archs {
        let changed = results.iter().any(|(_, result_arch, result)| {
            result_arch == arch && matches!(result, Ok(Outcome::Built { .. }))
        });
        update_index(
            &options.repository,
            *arch,
            &key,
            options.source_date_epoch,
            changed,
        )?;
    }
    let public_key = options.repository.join(key.name());
    write_if_changed(&public_key, key.public_pem.as_bytes())?;
    remove_other_keys(&options.repository, key.name());
    Ok(PackageReport {
        results,
        repository: options.repository.clone(),
        public_key,
        ephemeral_key: key.ephemeral,
    })
}

fn runner_check(options: &PackageOptions) -> Result<(), runner::RunError> {
    let runner = runner::Runner {
        isolation: options.isolation,
        arch: TargetArch::X86_64,
        source_date_epoch: options.source_date_epoch,
    };
    runner.check()
}

// Rewrites the index when a package changed or the index is missing. An index whose
// signature key differs is caught by the stamps: a new key rebuilds every package.
fn update_index(
    repository: &Path,
    arch: TargetArch,
    key: &SigningKey,
    mtime: u64,
    changed: bool,
) -> Result<(), RepositoryError> {
    let dir = repository::arch_dir(repository, arch);
    if !dir.is_dir() || (!changed && dir.join("APKINDEX.tar.gz").is_file()) {
        return Ok(());
    }
    let count = repository::write_index(&dir, &key.private, mtime)?;
    tracing::info!(%arch, packages = count, "index written");
    Ok(())
}

fn write_if_changed(path: &Path, bytes: &[u8]) -> Result<(), RepositoryError> {
    if fs_err::read(path).is_ok_and(|current| current == bytes) {
        return Ok(());
    }
    repository::write_atomic(path, bytes)
}

// Removes public keys an earlier run wrote for another signing key, so that images
// do not trust a key that no longer signs this repository.
fn remove_other_keys(repository: &Path, current: &str) {
    let Ok(entries) = fs_err::read_dir(repository) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".rsa.pub") && name != current {
            tracing::info!(key = %name, "removing the public key of an earlier signing key");
            let _ = fs_err::remove_file(entry.path());
        }
    }
}
