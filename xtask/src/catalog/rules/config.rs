//! Checks of one apko config: repositories and tags, entrypoint, paths, archs.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use crate::catalog::apko::{ImageConfig, PATH_KINDS, package_tag};
use crate::catalog::diagnostic::{Diagnostic, Diagnostics, Position};
use crate::catalog::model::{Image, Recipe};

use super::accounts::check_accounts;

/// Highest mode value `paths` may set: permission bits plus setuid, setgid and sticky.
const MAX_MODE: u32 = 0o7777;

/// Checks a merged config; `path` is the variant's own config file.
pub fn check_config(config: &ImageConfig, path: &Path, root: &Path, diagnostics: &mut Diagnostics) {
    check_repositories(config, path, root, diagnostics);
    check_entrypoint(config, path, diagnostics);
    check_paths(config, path, diagnostics);
    if let Some(accounts) = &config.accounts {
        check_accounts(accounts, path, diagnostics);
    }
    if !config.archs.is_empty() {
        super::parse_archs(&config.archs, path, diagnostics);
    }
    if let Some(work_dir) = &config.work_dir
        && !work_dir.value.starts_with('/')
    {
        diagnostics.push(
            Diagnostic::error(
                path,
                work_dir.referenced.into(),
                format!("`work-dir` `{}` is not absolute", work_dir.value),
            )
            .with_hint("container working directories start with `/`"),
        );
    }
}

/// Returns the tag of a repository entry written `@tag location`, or `None` for an
/// untagged entry.
pub fn repository_tag(entry: &str) -> Option<&str> {
    let rest = entry.trim().strip_prefix('@')?;
    rest.split_whitespace().next()
}

fn check_repositories(
    config: &ImageConfig,
    path: &Path,
    root: &Path,
    diagnostics: &mut Diagnostics,
) {
    let contents = &config.contents;
    let all = contents
        .repositories
        .iter()
        .chain(&contents.build_repositories)
        .chain(&contents.runtime_repositories);
    let mut tags = BTreeSet::new();
    for repository in all {
        let entry = repository.value.trim();
        let location = match repository_tag(entry) {
            Some(tag) => {
                tags.insert(tag.to_string());
                entry.split_whitespace().nth(1)
            }
            None if entry.starts_with('@') => None,
            None => Some(entry),
        };
        match location {
            None => diagnostics.push(
                Diagnostic::error(
                    path,
                    repository.referenced.into(),
                    format!("tagged repository `{entry}` has no location"),
                )
                .with_hint("write `@tag https://host/path` or `@tag ./folder`"),
            ),
            Some(location)
                if is_local(location)
                    && !root.join(location).exists()
                    && !location.starts_with("out/") =>
            {
                diagnostics.push(Diagnostic::warning(
                    path,
                    repository.referenced.into(),
                    format!("repository folder `{location}` does not exist"),
                ));
            }
            Some(_) => {}
        }
    }
    for constraint in &contents.packages {
        if let Some(tag) = package_tag(&constraint.value)
            && !tags.contains(tag)
        {
            diagnostics.push(
                Diagnostic::error(
                    path,
                    constraint.referenced.into(),
                    format!(
                        "`{}` asks for repository tag `@{tag}`, which no repository declares",
                        constraint.value
                    ),
                )
                .with_hint(format!(
                    "add `@{tag} <location>` under `contents.repositories`"
                )),
            );
        }
    }
    if contents.packages.is_empty() {
        diagnostics.push(Diagnostic::warning(
            path,
            Position::FILE,
            "config installs no packages",
        ));
    }
}

fn is_local(location: &str) -> bool {
    !location.contains("://")
}

fn check_entrypoint(config: &ImageConfig, path: &Path, diagnostics: &mut Diagnostics) {
    let Some(entrypoint) = &config.entrypoint else {
        return;
    };
    let Some(kind) = &entrypoint.kind else {
        if !entrypoint.services.is_empty() {
            diagnostics.push(
                Diagnostic::error(
                    path,
                    Position::FILE,
                    "`entrypoint.services` is set without `type: service-bundle`",
                )
                .with_hint("add `type: service-bundle` or use `command`"),
            );
        }
        return;
    };
    if kind.value != "service-bundle" {
        diagnostics.push(
            Diagnostic::error(
                path,
                kind.referenced.into(),
                format!("unknown entrypoint type `{}`", kind.value),
            )
            .with_hint("the only type is `service-bundle`; omit `type` for a plain command"),
        );
    } else if entrypoint.services.is_empty() {
        diagnostics.push(Diagnostic::error(
            path,
            kind.referenced.into(),
            "service bundle lists no `services`",
        ));
    } else if entrypoint.command.is_some() {
        diagnostics.push(Diagnostic::error(
            path,
            kind.referenced.into(),
            "a service bundle cannot also set `command`",
        ));
    }
}

fn check_paths(config: &ImageConfig, path: &Path, diagnostics: &mut Diagnostics) {
    for entry in &config.paths {
        let position: Position = entry.path.referenced.into();
        let target = &entry.path.value;
        let escapes = Path::new(target)
            .components()
            .any(|c| c == Component::ParentDir);
        if !target.starts_with('/') || escapes {
            diagnostics.push(
                Diagnostic::error(
                    path,
                    position,
                    format!("path `{target}` must be absolute and stay inside the image"),
                )
                .with_hint("write it from the image root, like `/var/lib/app`, without `..`"),
            );
        }
        let kind = entry.kind.value.as_str();
        if !PATH_KINDS.contains(&kind) {
            diagnostics.push(
                Diagnostic::error(
                    path,
                    entry.kind.referenced.into(),
                    format!("unknown path type `{kind}`"),
                )
                .with_hint(format!("use one of: {}", PATH_KINDS.join(", "))),
            );
            continue;
        }
        let needs_source = kind == "hardlink" || kind == "symlink";
        if needs_source && entry.source.is_none() {
            diagnostics.push(Diagnostic::error(
                path,
                position,
                format!("`{kind}` entry `{target}` has no `source`"),
            ));
        }
        if !needs_source && entry.source.is_some() {
            diagnostics.push(Diagnostic::warning(
                path,
                position,
                format!("`source` is ignored for `{kind}` entries"),
            ));
        }
        match &entry.permissions {
            Some(mode) if mode.value > MAX_MODE => diagnostics.push(
                Diagnostic::error(
                    path,
                    mode.referenced.into(),
                    format!("permissions {:#o} exceed {MAX_MODE:#o}", mode.value),
                )
                .with_hint("write permissions in octal, such as `0o755`"),
            ),
            None if kind != "symlink" && kind != "hardlink" => diagnostics.push(
                Diagnostic::error(
                    path,
                    position,
                    format!("`{kind}` entry `{target}` has no `permissions`"),
                )
                .with_hint("set them in octal, such as `permissions: 0o755`"),
            ),
            _ => {}
        }
        if entry.recursive && kind != "directory" && kind != "permissions" {
            diagnostics.push(Diagnostic::warning(
                path,
                position,
                format!("`recursive` has no effect on `{kind}` entries"),
            ));
        }
    }
}

/// Checks that every package a config takes from a local repository (a folder, not a
/// URL) is built by a recipe in `packages/`.
pub fn check_local_packages(images: &[Image], recipes: &[Recipe], diagnostics: &mut Diagnostics) {
    let provided: BTreeSet<String> = recipes.iter().flat_map(Recipe::provided_names).collect();
    for image in images {
        for variant in &image.variants {
            let contents = &variant.config.contents;
            let local_tags: BTreeSet<&str> = contents
                .repositories
                .iter()
                .filter_map(|repo| {
                    let tag = repository_tag(&repo.value)?;
                    let location = repo.value.split_whitespace().nth(1)?;
                    is_local(location).then_some(tag)
                })
                .collect();
            for constraint in &contents.packages {
                let tag = package_tag(&constraint.value);
                let Some(name) = crate::catalog::apko::package_name(&constraint.value) else {
                    continue;
                };
                if tag.is_some_and(|tag| local_tags.contains(tag)) && !provided.contains(name) {
                    diagnostics.push(
                        Diagnostic::error(&variant.config_path, constraint.referenced.into(), format!(
                            "`{name}` is taken from a local repository, but no recipe in `packages/` provides it"
                        ))
                        .with_hint(format!("add `packages/{name}.yaml`, or drop the repository tag")),
                    );
                }
            }
        }
    }
}
