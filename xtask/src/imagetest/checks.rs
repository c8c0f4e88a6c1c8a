//! Checks of a built image that need no test script: its config names a user and an
//! entrypoint that exist in the image, and its SBOM lists exactly the packages of its
//! apk database.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use anyhow::{Context as _, bail};

use super::unpack::resolve_existing;
use super::user::resolve_user;
use crate::catalog::Arch;
use crate::image::arch_sbom_file;
use crate::image::oci_config::DEFAULT_PATH;
use crate::oci::RuntimeConfig;

/// Prefix of the SPDX ids the builder gives to APK packages (the image itself has another).
const PACKAGE_SPDX_PREFIX: &str = "SPDXRef-Package-";

/// Installed databases, where apko writes it and where older images have it.
const INSTALLED_DB_PATHS: [&str; 2] = ["usr/lib/apk/db/installed", "lib/apk/db/installed"];

/// Checks that `User` resolves in the image and that the program the image starts (first
/// of `Entrypoint`, else of `Cmd`) is an executable file in it. Returns a summary.
pub fn check_config(config: &RuntimeConfig, rootfs: &Path) -> anyhow::Result<String> {
    let user = resolve_user(config.user.as_deref(), rootfs)?;
    let program = config
        .entrypoint
        .iter()
        .chain(config.cmd.iter())
        .flatten()
        .next();
    let Some(program) = program else {
        return Ok(format!(
            "user {}:{}, no entrypoint or command",
            user.uid, user.gid
        ));
    };
    let path = find_program(config, rootfs, program)?;
    let metadata = fs_err::metadata(&path)?;
    if !metadata.is_file() || metadata.permissions().mode() & 0o111 == 0 {
        bail!("entrypoint `{program}` is not an executable file in the image");
    }
    Ok(format!(
        "user {}:{}, entrypoint {program}",
        user.uid, user.gid
    ))
}

/// Returns the host path of `program`, looked up in the image's `PATH` when it has no `/`.
fn find_program(
    config: &RuntimeConfig,
    rootfs: &Path,
    program: &str,
) -> anyhow::Result<std::path::PathBuf> {
    if program.contains('/') {
        let absolute = Path::new("/").join(program);
        return resolve_existing(rootfs, &absolute)
            .with_context(|| format!("entrypoint `{program}` is missing"));
    }
    let path = config
        .env
        .iter()
        .find_map(|entry| entry.strip_prefix("PATH="))
        .unwrap_or(DEFAULT_PATH);
    path.split(':')
        .filter_map(|dir| resolve_existing(rootfs, &Path::new(dir).join(program)).ok())
        .next()
        .with_context(|| format!("entrypoint `{program}` is not in the image's PATH `{path}`"))
}

/// Checks that the architecture's SBOM in the layout lists the same packages, with the
/// same versions, as the image's apk database.
pub fn check_sbom(layout_dir: &Path, arch: Arch, rootfs: &Path) -> anyhow::Result<String> {
    let sbom_path = layout_dir.join(arch_sbom_file(arch));
    let sbom: serde_json::Value = serde_json::from_slice(&fs_err::read(&sbom_path)?)
        .with_context(|| format!("invalid JSON in `{}`", sbom_path.display()))?;
    let mut listed = BTreeSet::new();
    for package in sbom["packages"].as_array().into_iter().flatten() {
        let is_apk = package["SPDXID"]
            .as_str()
            .is_some_and(|id| id.starts_with(PACKAGE_SPDX_PREFIX));
        if is_apk {
            let name = package["name"].as_str().unwrap_or_default();
            let version = package["versionInfo"].as_str().unwrap_or_default();
            listed.insert(format!("{name}-{version}"));
        }
    }
    let Some(db_path) = INSTALLED_DB_PATHS
        .iter()
        .map(|path| rootfs.join(path))
        .find(|path| path.is_file())
    else {
        bail!(
            "the image has no apk database at /{}",
            INSTALLED_DB_PATHS[0]
        );
    };
    let text = fs_err::read_to_string(&db_path)?;
    let installed: BTreeSet<String> = apk::parse_installed_db(&text)
        .with_context(|| format!("invalid apk database `{}`", db_path.display()))?
        .iter()
        .map(|package| format!("{}-{}", package.info.name, package.info.version))
        .collect();
    if listed != installed {
        let missing: Vec<&String> = installed.difference(&listed).collect();
        let extra: Vec<&String> = listed.difference(&installed).collect();
        bail!(
            "`{}` does not match the apk database: installed but not listed: {missing:?}; listed but not installed: {extra:?}",
            sbom_path.display()
        );
    }
    Ok(format!("{} packages", installed.len()))
}
