//! Building one image variant for all its architectures into an OCI layout. The
//! architectures build in parallel into a temporary folder next to the output. Then the
//! index, tags, SBOMs and lock file are added, and the folder is renamed into place, so a
//! failed build leaves nothing under the output folder.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::catalog::apko::ImageConfig as ApkoConfig;
use crate::catalog::{Arch, ExtractTags};
use crate::oci::{Digest, ImageIndex, LayoutWriter, MEDIA_TYPE_INDEX};

use super::arch_build::{ArchImage, build_arch};
use super::error::BuildError;
use super::layer::LayerBlob;
use super::lock::Lock;
use super::oci_config::is_service_bundle;
use super::progress::Reporter;
use super::repository::{KeyFile, PackageStore, RepositorySource, load_keyring};
use super::sbom::{ImageSummary, image_sbom, index_sbom};
use super::tags::{merge_tags, version_tags};
use super::time::rfc3339;

/// File name of the lock file in a variant's output folder.
pub const LOCK_FILE: &str = "lock.json";

/// File name of the index SBOM in a variant's output folder.
pub const INDEX_SBOM_FILE: &str = "sbom-index.spdx.json";

/// Returns the file name of an architecture's SBOM (`sbom-x86_64.spdx.json`).
pub fn arch_sbom_file(arch: Arch) -> String {
    format!("sbom-{}.spdx.json", arch.apk_name())
}

/// Everything needed to build one variant.
#[derive(Debug, Clone)]
pub struct BuildRequest {
    /// Image name, used in SBOMs and messages.
    pub image: String,
    /// Variant name (`latest`).
    pub variant: String,
    /// The apko config with includes merged.
    pub config: ApkoConfig,
    /// The config file as the user named it, for messages.
    pub config_file: PathBuf,
    /// Folder that relative repository and key paths resolve against.
    pub base_dir: PathBuf,
    /// Architectures to build, in index order.
    pub archs: Vec<Arch>,
    /// Tags known before building.
    pub tags: Vec<String>,
    /// Package whose version adds tags.
    pub extract_tags_from: Option<ExtractTags>,
    /// The OCI layout folder to create or replace.
    pub output: PathBuf,
    /// A lock file to install exactly, instead of resolving.
    pub lock: Option<PathBuf>,
    /// Build time; `None` uses the newest package build time.
    pub source_date_epoch: Option<u64>,
}

impl BuildRequest {
    /// Returns `image:variant`, the name used in progress and errors.
    pub fn label(&self) -> String {
        format!("{}:{}", self.image, self.variant)
    }
}

/// Result of a successful variant build.
#[derive(Debug, Clone)]
pub struct BuildOutput {
    /// The layout folder.
    pub output: PathBuf,
    /// The image index digest.
    pub index: Digest,
    /// The tags in `index.json`.
    pub tags: Vec<String>,
    /// Each architecture with its manifest digest.
    pub manifests: Vec<(Arch, Digest)>,
    /// Each architecture with its layer digests.
    pub layers: Vec<(Arch, LayerBlob)>,
}

/// A request with its sources loaded, shared by the architecture builds.
pub struct Prepared<'a> {
    /// The request.
    pub request: &'a BuildRequest,
    /// Repositories used to resolve, in priority order.
    pub sources: Vec<RepositorySource>,
    /// Repositories written into `/etc/apk/repositories`.
    pub written_repositories: Vec<String>,
    /// Fetches indexes and packages, verifying them with the config's keys.
    pub fetcher: apk::Fetcher,
    /// Key files copied into the image.
    pub key_files: Vec<KeyFile>,
    /// World constraints.
    pub world: Vec<String>,
    /// The lock to install and its file.
    pub lock: Option<(Lock, PathBuf)>,
    /// Shared package cache.
    pub store: &'a PackageStore,
    /// Progress receiver.
    pub reporter: &'a dyn Reporter,
}

/// Builds one variant. Architectures run in parallel on the current rayon pool.
pub fn build_variant(
    request: &BuildRequest,
    store: &PackageStore,
    reporter: &dyn Reporter,
) -> Result<BuildOutput, BuildError> {
    let prepared = prepare(request, store, reporter)?;
    let parent = request.output.parent().unwrap_or(Path::new("."));
    let created_parents = create_parents(parent)?;
    let result = build_in_temp(&prepared, parent);
    if result.is_err() {
        for dir in created_parents.iter().rev() {
            // Only empty folders go, so other variants' output stays.
            let _ = std::fs::remove_dir(dir);
        }
    }
    result
}

fn prepare<'a>(
    request: &'a BuildRequest,
    store: &'a PackageStore,
    reporter: &'a dyn Reporter,
) -> Result<Prepared<'a>, BuildError> {
    let file = &request.config_file;
    let contents = &request.config.contents;
    if request.archs.is_empty() {
        return Err(BuildError::config(file, "no architecture to build"));
    }
    let mut sources = Vec::new();
    for entry in contents
        .repositories
        .iter()
        .chain(&contents.build_repositories)
    {
        sources.push(RepositorySource::parse(
            &entry.value,
            &request.base_dir,
            file,
        )?);
    }
    if sources.is_empty() {
        return Err(BuildError::config(file, "`contents.repositories` is empty"));
    }
    let written_repositories = contents
        .repositories
        .iter()
        .chain(&contents.runtime_repositories)
        .map(|entry| entry.value.clone())
        .collect();
    let keyring_entries: Vec<String> = contents.keyring.iter().map(|k| k.value.clone()).collect();
    let (keyring, key_files) = load_keyring(&keyring_entries, &request.base_dir, file, store)?;
    let mut world: Vec<String> = contents.packages.iter().map(|p| p.value.clone()).collect();
    if is_service_bundle(&request.config) {
        // The service supervisor that the entrypoint runs.
        world.push("s6".to_owned());
    }
    let lock = match &request.lock {
        Some(path) => Some((Lock::read(path)?, path.clone())),
        None => None,
    };
    Ok(Prepared {
        request,
        sources,
        written_repositories,
        fetcher: store.fetcher(&keyring),
        key_files,
        world,
        lock,
        store,
        reporter,
    })
}

/// Creates `dir` and its missing parents; returns the folders it created.
fn create_parents(dir: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let mut missing = Vec::new();
    let mut current = Some(dir);
    while let Some(path) = current {
        if path.as_os_str().is_empty() || path.exists() {
            break;
        }
        missing.push(path.to_path_buf());
        current = path.parent();
    }
    missing.reverse();
    fs_err::create_dir_all(dir).map_err(BuildError::io(dir))?;
    Ok(missing)
}

fn build_in_temp(prepared: &Prepared<'_>, parent: &Path) -> Result<BuildOutput, BuildError> {
    let request = prepared.request;
    let temp = tempfile::Builder::new()
        .prefix(&format!(".{}-", request.variant))
        .suffix(".partial")
        .tempdir_in(parent)
        .map_err(BuildError::io(parent))?;
    // Temporary folders are private (0700); the output is an ordinary readable folder.
    let permissions = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    fs_err::set_permissions(temp.path(), permissions).map_err(BuildError::io(temp.path()))?;
    let layout = LayoutWriter::create(temp.path())?;
    let results: Vec<Result<ArchImage, BuildError>> = request
        .archs
        .par_iter()
        .map(|arch| build_arch(prepared, &layout, *arch))
        .collect();
    let mut images = Vec::new();
    for result in results {
        images.push(result?);
    }
    let output = finish_layout(prepared, &layout, &images)?;
    replace_dir(temp.path(), &request.output)?;
    // The folder now lives at the output path; nothing is left to delete.
    let _ = temp.keep();
    Ok(output)
}

fn finish_layout(
    prepared: &Prepared<'_>,
    layout: &LayoutWriter,
    images: &[ArchImage],
) -> Result<BuildOutput, BuildError> {
    let request = prepared.request;
    let manifests = images.iter().map(|image| image.manifest.clone()).collect();
    let index = layout.write_json(MEDIA_TYPE_INDEX, &ImageIndex::new(manifests))?;
    let tags = tags(request, images)?;
    layout.write_index(&index, &tags)?;
    let epoch = images.iter().map(|image| image.epoch).max().unwrap_or(0);
    let created = rfc3339(epoch);
    let summaries: Vec<ImageSummary<'_>> = images
        .iter()
        .map(|image| ImageSummary {
            arch: image.arch,
            manifest: &image.manifest.digest,
            packages: &image.packages,
            distro: &image.distro,
        })
        .collect();
    for summary in &summaries {
        let created = rfc3339(
            images
                .iter()
                .find(|i| i.arch == summary.arch)
                .map_or(epoch, |i| i.epoch),
        );
        let sbom = image_sbom(&request.image, summary, &created);
        write_json_file(&layout.dir().join(arch_sbom_file(summary.arch)), &sbom)?;
    }
    let sbom = index_sbom(&request.image, &index.digest, &summaries, &created);
    write_json_file(&layout.dir().join(INDEX_SBOM_FILE), &sbom)?;
    let mut lock = Lock::new(
        prepared.sources.iter().map(|s| s.written.clone()).collect(),
        request
            .config
            .contents
            .keyring
            .iter()
            .map(|k| k.value.clone())
            .collect(),
    );
    for image in images {
        lock.add_arch(image.arch.apk_name(), &image.packages);
    }
    let lock_path = layout.dir().join(LOCK_FILE);
    fs_err::write(&lock_path, lock.to_json()).map_err(BuildError::io(&lock_path))?;
    Ok(BuildOutput {
        output: request.output.clone(),
        index: index.digest,
        tags,
        manifests: images
            .iter()
            .map(|i| (i.arch, i.manifest.digest.clone()))
            .collect(),
        layers: images.iter().map(|i| (i.arch, i.layer.clone())).collect(),
    })
}

fn tags(request: &BuildRequest, images: &[ArchImage]) -> Result<Vec<String>, BuildError> {
    let mut extracted = Vec::new();
    if let Some(extract) = &request.extract_tags_from {
        let version = images
            .iter()
            .flat_map(|image| image.packages.iter())
            .find(|p| p.info.name == extract.package)
            .map(|p| p.info.version.to_string())
            .ok_or_else(|| {
                BuildError::config(
                    &request.config_file,
                    format!(
                        "`extractTagsFrom` package `{}` is not installed",
                        extract.package
                    ),
                )
            })?;
        extracted = version_tags(&version, extract)
            .map_err(|message| BuildError::config(&request.config_file, message))?;
    }
    let tags = merge_tags(&[&request.tags, &extracted]);
    if tags.is_empty() {
        return Ok(vec!["latest".to_owned()]);
    }
    Ok(tags)
}

fn write_json_file(path: &Path, value: &serde_json::Value) -> Result<(), BuildError> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    fs_err::write(path, bytes).map_err(BuildError::io(path))
}

/// Moves `from` to `to`, replacing an older `to`: the old folder is first renamed
/// aside, so a failure leaves either the old or the new output, never a mix.
fn replace_dir(from: &Path, to: &Path) -> Result<(), BuildError> {
    if !to.exists() {
        return fs_err::rename(from, to).map_err(BuildError::io(to));
    }
    let aside = from.with_extension("previous");
    fs_err::rename(to, &aside).map_err(BuildError::io(to))?;
    if let Err(error) = fs_err::rename(from, to) {
        let _ = fs_err::rename(&aside, to);
        return Err(BuildError::io(to)(error));
    }
    fs_err::remove_dir_all(&aside).map_err(BuildError::io(&aside))
}
