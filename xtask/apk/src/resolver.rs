//! Dependency resolution: from world constraints and ordered repositories to the full
//! set of packages in install order.
//!
//! The search is depth-first with backtracking, in a fixed order, so equal input always
//! gives equal output. For each dependency it first reuses a chosen package that
//! satisfies it. Otherwise it ranks candidates: own name before a provided name, then
//! higher `provider_priority`, then higher version, then earlier repository. World
//! constraints on a package name apply wherever that name is chosen, so `busybox=1.2`
//! in the world pins busybox for every dependant. A real or versioned name is owned by
//! at most one chosen package, so a package and another provider of the same name are
//! never both installed. Unversioned provides (`/bin/sh`) may have several owners, and a
//! package is chosen for one only when it has a `provider_priority`, as in apk-tools.
//! `replaces` does not affect resolution, as in apk-tools; it only decides file owners
//! at install time. After the world is satisfied, `install_if` packages whose
//! conditions all hold are added until nothing changes.

mod error;
mod order;
mod solve;
mod universe;

pub use error::{Rejection, ResolveError, Unsatisfiable};
pub use universe::{Repository, Universe};

use std::collections::BTreeMap;

use crate::dependency::Dependency;
use crate::package_info::PackageInfo;
use crate::version::Version;

/// One package of a resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedPackage {
    /// The package metadata from the index.
    pub info: PackageInfo,
    /// Index of the repository it comes from, in the order given to [`Universe::new`].
    pub repository: usize,
}

/// The result of [`resolve`]: every package, dependencies before dependants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    /// The packages in install order.
    pub packages: Vec<ResolvedPackage>,
}

impl Resolution {
    /// Returns the chosen version of each package name.
    pub fn versions(&self) -> BTreeMap<&str, &Version> {
        self.packages
            .iter()
            .map(|p| (p.info.name.as_str(), &p.info.version))
            .collect()
    }
}

/// Resolves `world` against the repositories of `universe`.
pub fn resolve(universe: &Universe<'_>, world: &[Dependency]) -> Result<Resolution, ResolveError> {
    let chosen = solve::solve(universe, world)?;
    let ordered = order::install_order(universe, &chosen, world);
    let packages = ordered
        .into_iter()
        .map(|id| {
            let candidate = universe.package(id);
            ResolvedPackage {
                info: candidate.info.clone(),
                repository: candidate.repository,
            }
        })
        .collect();
    tracing::debug!(
        arch = universe.arch(),
        count = chosen.len(),
        "resolved world"
    );
    Ok(Resolution { packages })
}

/// A package that two architectures resolved to different versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchVersionMismatch {
    /// The package name.
    pub name: String,
    /// Each architecture with the version it resolved to.
    pub versions: Vec<(String, Version)>,
}

impl std::fmt::Display for ArchVersionMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` resolves to different versions:", self.name)?;
        for (arch, version) in &self.versions {
            write!(f, " {version} on {arch};")?;
        }
        Ok(())
    }
}

/// Checks that packages resolved for several architectures of one image have the same
/// version on every architecture that has them, and returns each package that differs.
pub fn check_arch_versions(resolutions: &[(&str, &Resolution)]) -> Vec<ArchVersionMismatch> {
    let mut by_name: BTreeMap<&str, Vec<(String, Version)>> = BTreeMap::new();
    for (arch, resolution) in resolutions {
        for package in &resolution.packages {
            // noarch packages appear once per architecture with the same version anyway.
            by_name
                .entry(package.info.name.as_str())
                .or_default()
                .push(((*arch).to_owned(), package.info.version.clone()));
        }
    }
    by_name
        .into_iter()
        .filter(|(_, versions)| {
            versions
                .iter()
                .any(|(_, version)| versions.first().is_some_and(|(_, first)| first != version))
        })
        .map(|(name, versions)| ArchVersionMismatch {
            name: name.to_owned(),
            versions,
        })
        .collect()
}

#[cfg(test)]
mod tests;
