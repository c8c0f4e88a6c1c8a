//! Building one architecture of an image: resolve, install, add what apko adds, write
//! the layer, the config and the manifest into the layout, and the SBOM.

use std::path::Path;

use crate::catalog::Arch;
use crate::oci::{
    Descriptor, ImageManifest, LayoutWriter, MEDIA_TYPE_CONFIG, MEDIA_TYPE_LAYER_GZIP,
    MEDIA_TYPE_MANIFEST,
};

use super::accounts::{run_as_user, write_accounts};
use super::apk_db::{ApkConfig, base_tree, write_apk_files};
use super::error::BuildError;
use super::install::install;
use super::layer::{LayerBlob, write_layer};
use super::oci_config::{ConfigInputs, annotations, image_config, is_service_bundle, platform};
use super::paths::{apply_paths, write_service_bundle};
use super::progress::Stage;
use super::resolve::{PackageQuery, SelectedPackage};
use super::sbom::Distro;
use super::time::rfc3339;
use super::tree::{NodeKind, Spool, Tree};
use super::variant_build::Prepared;

/// One built architecture image.
pub struct ArchImage {
    /// The architecture.
    pub arch: Arch,
    /// The manifest descriptor, with its platform.
    pub manifest: Descriptor,
    /// The layer digests.
    pub layer: LayerBlob,
    /// The installed packages in install order.
    pub packages: Vec<SelectedPackage>,
    /// The distribution named by the image's os-release.
    pub distro: Distro,
    /// The build time used, in seconds since the Unix epoch.
    pub epoch: u64,
}

/// Builds `arch` into the layout.
pub fn build_arch(
    prepared: &Prepared<'_>,
    layout: &LayoutWriter,
    arch: Arch,
) -> Result<ArchImage, BuildError> {
    let request = prepared.request;
    let label = request.label();
    let report = |stage| prepared.reporter.stage(&label, arch, stage);
    report(Stage::Resolving);
    let query = PackageQuery {
        file: &request.config_file,
        sources: &prepared.sources,
        arch: arch.apk_name(),
        store: prepared.store,
        fetcher: &prepared.fetcher,
    };
    let chosen = match &prepared.lock {
        Some((lock, lock_file)) => query.from_lock(lock, lock_file)?,
        None => query.resolve(&prepared.world)?,
    };
    report(Stage::Fetching);
    let packages = query.read_packages(chosen)?;
    tracing::debug!(image = %label, %arch, count = packages.len(), "resolved packages");
    report(Stage::Assembling);
    let epoch = request
        .source_date_epoch
        .unwrap_or_else(|| newest_build_time(&packages));
    let (tree, spool, user) = assemble(prepared, &packages, arch, epoch, layout.dir())?;
    let distro = distro(prepared, &tree, &spool);
    report(Stage::Compressing);
    let layer = write_layer_blob(layout, &tree, &spool, epoch, arch)?;
    drop(spool);
    report(Stage::Writing);
    let manifest = write_manifest(prepared, layout, arch, &layer, user, epoch)?;
    report(Stage::Done);
    tracing::info!(image = %label, %arch, manifest = %manifest.digest, "built image");
    Ok(ArchImage {
        arch,
        manifest,
        layer,
        packages,
        distro,
        epoch,
    })
}

/// Writes the image config and the manifest; returns the manifest descriptor with its
/// platform, as the index lists it.
fn write_manifest(
    prepared: &Prepared<'_>,
    layout: &LayoutWriter,
    arch: Arch,
    layer: &LayerBlob,
    user: Option<String>,
    epoch: u64,
) -> Result<Descriptor, BuildError> {
    let request = prepared.request;
    let created = rfc3339(epoch);
    let inputs = ConfigInputs {
        arch,
        diff_id: layer.diff_id.clone(),
        user,
        created: &created,
        file: &request.config_file,
    };
    let config = image_config(&request.config, &inputs)?;
    let config_descriptor = layout.write_json(MEDIA_TYPE_CONFIG, &config)?;
    let layer_descriptor = Descriptor::new(MEDIA_TYPE_LAYER_GZIP, layer.digest.clone(), layer.size);
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: MEDIA_TYPE_MANIFEST.to_owned(),
        config: config_descriptor,
        layers: vec![layer_descriptor],
        annotations: annotations(&request.config),
    };
    let mut descriptor = layout.write_json(MEDIA_TYPE_MANIFEST, &manifest)?;
    descriptor.platform = Some(platform(arch));
    Ok(descriptor)
}

/// Returns the newest package build time, the default build time of an image.
fn newest_build_time(packages: &[SelectedPackage]) -> u64 {
    packages
        .iter()
        .filter_map(|p| p.info.build_time)
        .max()
        .unwrap_or(0)
}

/// Installs the packages and writes what apko writes besides them. Returns the tree,
/// the spool holding its file contents, and the OCI user.
fn assemble(
    prepared: &Prepared<'_>,
    packages: &[SelectedPackage],
    arch: Arch,
    epoch: u64,
    scratch: &Path,
) -> Result<(Tree, Spool, Option<String>), BuildError> {
    let request = prepared.request;
    let config = &request.config;
    let installation = install(base_tree(), packages, scratch)?;
    let mut tree = installation.tree;
    let apk_config = ApkConfig {
        world: &prepared.world,
        repositories: &prepared.written_repositories,
        keys: &prepared.key_files,
        apk_arch: arch.apk_name(),
    };
    write_apk_files(
        &mut tree,
        &apk_config,
        packages,
        &installation.records,
        epoch,
    )?;
    let accounts = config.accounts.as_ref();
    let passwd = write_accounts(&mut tree, &installation.spool, accounts)?;
    apply_paths(&mut tree, &config.paths, &request.config_file)?;
    if is_service_bundle(config) {
        let services = config.entrypoint.iter().flat_map(|e| e.services.iter());
        write_service_bundle(&mut tree, services, &request.config_file)?;
    }
    let user = accounts
        .and_then(|a| a.run_as.as_ref())
        .map(|run_as| run_as_user(&run_as.value, &passwd));
    Ok((tree, installation.spool, user))
}

fn distro(prepared: &Prepared<'_>, tree: &Tree, spool: &Spool) -> Distro {
    if let Some(os_release) = &prepared.request.config.os_release
        && let Some(id) = &os_release.id
    {
        return Distro {
            id: id.clone(),
            name: os_release.name.clone(),
        };
    }
    let text = ["etc/os-release", "usr/lib/os-release"]
        .iter()
        .find_map(|path| match tree.get(path).map(|node| &node.kind) {
            Some(NodeKind::File(content)) => spool.read_all(content).ok(),
            _ => None,
        })
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned());
    Distro::from_os_release(text.as_deref())
}

fn write_layer_blob(
    layout: &LayoutWriter,
    tree: &Tree,
    spool: &Spool,
    epoch: u64,
    arch: Arch,
) -> Result<LayerBlob, BuildError> {
    let staging = layout.staging_path(&format!("layer-{}", arch.apk_name()));
    let file = fs_err::File::create(&staging).map_err(BuildError::io(&staging))?;
    let (_, layer) = write_layer(tree, spool, epoch, file).map_err(BuildError::io(&staging))?;
    layout.commit_blob(&staging, &layer.digest)?;
    tracing::debug!(%arch, digest = %layer.digest, size = layer.size, "wrote layer");
    Ok(layer)
}
