//! The offline profile: images built from this repository's own `packages/` instead of
//! the upstream repositories their configs name.
//!
//! Which images can build offline follows from the recipes alone, before anything is
//! built: every package a config installs, and every runtime dependency of the recipes
//! that provide them, must be a name that some recipe provides. Those recipes are
//! built first (the package builder skips unchanged ones), and each image then
//! resolves against the local repository, verified with the key that signed it.

use std::collections::BTreeSet;
use std::path::Path;

use serde_saphyr::{Location, Spanned};

use crate::catalog::apko::ImageConfig;
use crate::catalog::{Catalog, Recipe};
use crate::package::REPOSITORY_DIR;

/// The recipes an image config needs, or the packages no recipe provides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Availability {
    /// Every package has a recipe; these recipes (by name, sorted) build them.
    Buildable(Vec<String>),
    /// These package names (sorted) have no recipe, so the image cannot build offline.
    Missing(Vec<String>),
}

/// Works out which recipes build the packages of `config`, following the recipes'
/// runtime dependencies.
pub fn availability(catalog: &Catalog, config: &ImageConfig) -> Availability {
    let mut recipes = BTreeSet::new();
    let mut missing = BTreeSet::new();
    let mut seen = BTreeSet::new();
    let mut pending: Vec<String> = config
        .contents
        .packages
        .iter()
        .filter_map(|entry| package_name(&entry.value))
        .collect();
    while let Some(name) = pending.pop() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let Some(recipe) = provider(&catalog.recipes, &name) else {
            missing.insert(name);
            continue;
        };
        if recipes.insert(recipe.name.clone()) {
            pending.extend(runtime_dependencies(recipe));
        }
    }
    if missing.is_empty() {
        Availability::Buildable(recipes.into_iter().collect())
    } else {
        Availability::Missing(missing.into_iter().collect())
    }
}

/// Points a config at the local repository: its repositories become the offline
/// profile's (`out/packages` when `catalog.yaml` names none) and its keyring the key
/// that signed that repository, plus any keys the profile adds.
pub fn apply(catalog: &Catalog, config: &mut ImageConfig, public_key: &Path) {
    let profile = &catalog.settings.offline;
    let template = config
        .contents
        .repositories
        .first()
        .or(config.contents.keyring.first())
        .cloned();
    let spanned = |value: String| match &template {
        Some(template) => Spanned {
            value,
            ..template.clone()
        },
        None => Spanned::new(value, Location::UNKNOWN, Location::UNKNOWN),
    };
    let mut repositories = profile.repositories.clone();
    if repositories.is_empty() {
        repositories.push(spanned(REPOSITORY_DIR.to_owned()));
    }
    let mut keyring = vec![spanned(public_key.display().to_string())];
    keyring.extend(profile.keyring.iter().cloned());
    config.contents.repositories = repositories;
    config.contents.build_repositories.clear();
    config.contents.runtime_repositories.clear();
    config.contents.keyring = keyring;
}

/// Returns the package name of a world entry (`nginx`, `nginx>=1.24`, `nginx@local`),
/// or `None` for a conflict (`!name`), which needs no package.
fn package_name(entry: &str) -> Option<String> {
    let entry = entry.trim();
    if entry.starts_with('!') {
        return None;
    }
    let name = entry
        .split(['=', '<', '>', '~', '@'])
        .next()
        .unwrap_or_default();
    Some(name.to_owned())
}

fn provider<'a>(recipes: &'a [Recipe], name: &str) -> Option<&'a Recipe> {
    recipes.iter().find(|recipe| {
        recipe
            .provided_names()
            .iter()
            .any(|provided| provided == name)
    })
}

// The runtime dependencies of the package and every subpackage: a config may name
// any of them, and the resolver needs all of a package's dependencies.
fn runtime_dependencies(recipe: &Recipe) -> Vec<String> {
    let file = &recipe.file;
    std::iter::once(&file.package.dependencies)
        .chain(file.subpackages.iter().map(|sub| &sub.dependencies))
        .flat_map(|dependencies| dependencies.runtime.iter())
        .filter_map(|entry| package_name(&entry.value))
        // A dependency on a shared object or command (`so:libc.musl-x86_64.so.1`,
        // `cmd:sh`) is provided by whichever package ships it; the resolver checks it.
        .filter(|name| !name.contains(':'))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_name_strips_constraints() {
        assert_eq!(package_name("nginx").as_deref(), Some("nginx"));
        assert_eq!(package_name("nginx>=1.24").as_deref(), Some("nginx"));
        assert_eq!(package_name("nginx=1.24.0-r0").as_deref(), Some("nginx"));
        assert_eq!(package_name("hello@local").as_deref(), Some("hello"));
        assert_eq!(package_name("!busybox"), None);
    }
}
