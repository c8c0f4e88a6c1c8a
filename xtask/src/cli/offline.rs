//! `cargo xtask build` in the offline profile: selects the images that `packages/` can
//! build, builds the recipes they need into `out/packages`, and points their configs
//! at that repository.

use std::path::PathBuf;

use anyhow::bail;

use super::Context;
use super::build::Args;
use super::package;
use crate::catalog::Catalog;
use crate::image::BuildRequest;
use crate::offline::{Availability, apply, availability};
use crate::package::{Outcome, TargetArch, signing};

/// The requests that build offline, and those that cannot.
pub struct Selection {
    pub requests: Vec<BuildRequest>,
    pub unavailable: Vec<Unavailable>,
    /// `(image, variant)` of the variants skipped with a warning.
    pub skipped: Vec<(String, String)>,
}

/// A variant named on the command line whose packages `packages/` does not provide.
pub struct Unavailable {
    /// `image:variant`.
    pub label: String,
    /// The config file, for the message.
    pub config_file: PathBuf,
    /// Package names no recipe provides.
    pub missing: Vec<String>,
}

impl Unavailable {
    /// Returns the error line for the build summary.
    pub fn message(&self) -> String {
        format!(
            "cannot build in the offline profile: no recipe in packages/ provides {} (named by {} or the recipes it installs)\nhint: build it with `--profile upstream`, which needs the network, or add recipes for these packages",
            self.missing
                .iter()
                .map(|name| format!("`{name}`"))
                .collect::<Vec<_>>()
                .join(", "),
            self.config_file.display(),
        )
    }
}

/// Builds the packages that the offline-buildable requests need and rewrites their
/// configs to install from the local repository. Variants that cannot build offline
/// are returned as unavailable when the user named their image, and skipped with a
/// warning when the whole catalog was selected.
pub fn prepare(
    context: &Context,
    catalog: &Catalog,
    args: &Args,
    requests: Vec<BuildRequest>,
) -> anyhow::Result<Selection> {
    let mut buildable = Vec::new();
    let mut unavailable = Vec::new();
    let mut skipped = Vec::new();
    let mut recipes: Vec<String> = Vec::new();
    let mut archs: Vec<TargetArch> = Vec::new();
    for request in requests {
        match availability(catalog, &request.config) {
            Availability::Buildable(names) => {
                recipes.extend(names);
                for arch in &request.archs {
                    let arch: TargetArch = arch.apk_name().parse()?;
                    if !archs.contains(&arch) {
                        archs.push(arch);
                    }
                }
                buildable.push(request);
            }
            Availability::Missing(missing) if args.images.is_empty() || args.skip_unavailable => {
                tracing::warn!(
                    variant = %request.label(),
                    missing = %missing.join(", "),
                    "skipped: not buildable in the offline profile"
                );
                skipped.push((request.image.clone(), request.variant.clone()));
            }
            Availability::Missing(missing) => unavailable.push(Unavailable {
                label: request.label(),
                config_file: request.config_file.clone(),
                missing,
            }),
        }
    }
    if buildable.is_empty() {
        return Ok(Selection {
            requests: buildable,
            unavailable,
            skipped,
        });
    }
    recipes.sort();
    recipes.dedup();
    tracing::info!(recipes = %recipes.join(", "), "building the packages of the offline profile");
    let options = package::options(context, catalog, package_args(args, recipes, archs))?;
    let report = crate::package::build_packages(catalog, &options)?;
    let failures: Vec<String> = report.failures().map(ToString::to_string).collect();
    if !failures.is_empty() {
        bail!(
            "{} package build(s) failed, so no offline image was built:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
    let built = report
        .results
        .iter()
        .filter(|(_, _, result)| matches!(result, Ok(Outcome::Built { .. })))
        .count();
    tracing::info!(
        built,
        repository = %report.repository.display(),
        key = %report.public_key.display(),
        ephemeral_key = report.ephemeral_key,
        "packages ready"
    );
    for request in &mut buildable {
        apply(catalog, &mut request.config, &report.public_key);
    }
    Ok(Selection {
        requests: buildable,
        unavailable,
        skipped,
    })
}

// The package builder's settings for this build: the recipes and architectures the
// images need, the build's own cache, offline switch and thread limit, and the
// repository's private key from the environment, as `cargo xtask package` reads it.
fn package_args(args: &Args, names: Vec<String>, archs: Vec<TargetArch>) -> package::Args {
    package::Args {
        names,
        archs,
        no_sandbox: false,
        offline: args.offline,
        cache_dir: args.cache_dir.clone(),
        source_mirror: None,
        signing_key: std::env::var_os(signing::PRIVATE_KEY_ENV)
            .filter(|value| !value.is_empty())
            .map(PathBuf::from),
        out: None,
        jobs: args.jobs,
        force: false,
    }
}
