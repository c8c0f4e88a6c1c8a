//! Checks of one apko config: repositories and tags, entrypoint, paths, archs.

use std::collections::BTreeSet;
use std::path::{Component, Path};

use serde_saphyr::Spanned;

use crate::catalog::apko::{ImageConfig, PATH_KINDS, package_name, package_tag};
use crate::catalog::diagnostic::{Diagnostic, Diagnostics, Position};
use crate::catalog::files;
use crate::catalog::load::ConfigFile;
use crate::catalog::model::{Image, Recipe};

use super::accounts::check_accounts;

/// Highest mode value `paths` may set: permission bits plus setuid, setgid and sticky.
const MAX_MODE: u32 = 0o7777;

/// Checks each file of a variant's config chain. Problems are reported in the file that
/// contains them; references (users, groups, repository tags) resolve against `merged`,
/// since an included file may declare what another one uses.
pub fn check_config_chain(
    chain: &[ConfigFile],
    merged: &ImageConfig,
    root: &Path,
    diagnostics: &mut Diagnostics,
) {
    let merged_tags = repository_tags(merged);
    for file in chain {
        let (config, path) = (&file.config, file.path.as_path());
        check_repositories(config, &merged_tags, path, root, diagnostics);
        check_keyring(&config.contents.keyring, path, diagnostics);
        check_entrypoint(config, path, diagnostics);
        check_paths(config, path, diagnostics);
        if let Some(accounts) = &config.accounts {
            check_accounts(
                accounts,
                merged.accounts.as_ref().unwrap_or(accounts),
                path,
                diagnostics,
            );
        }
        if !config.archs.is_empty() {
            super::parse_archs(&config.archs, path, diagnostics);
        }
        check_work_dir(config, path, diagnostics);
    }
    if merged.contents.packages.is_empty() {
        let path = chain
            .first()
            .map_or(Path::new(""), |file| file.path.as_path());
        diagnostics.push(Diagnostic::warning(
            path,
            Position::FILE,
            "config installs no packages",
        ));
    }
}

fn check_work_dir(config: &ImageConfig, path: &Path, diagnostics: &mut Diagnostics) {
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

/// Tags declared by every repository list of a config.
fn repository_tags(config: &ImageConfig) -> BTreeSet<String> {
    let contents = &config.contents;
    let all = contents
        .repositories
        .iter()
        .chain(&contents.build_repositories)
        .chain(&contents.runtime_repositories);
    all.filter_map(|repository| repository_tag(&repository.value))
        .map(str::to_string)
        .collect()
}

/// Returns the tag of a repository entry written `@tag location`, or `None` for an
/// untagged entry.
pub fn repository_tag(entry: &str) -> Option<&str> {
    let rest = entry.trim().strip_prefix('@')?;
    rest.split_whitespace().next()
}

fn check_repositories(
    config: &ImageConfig,
    merged_tags: &BTreeSet<String>,
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
    for repository in all {
        let entry = repository.value.trim();
        let location = match repository_tag(entry) {
            Some(_) => entry.split_whitespace().nth(1),
            None if entry.starts_with('@') || entry.is_empty() => None,
            None => Some(entry),
        };
        let Some(location) = location else {
            diagnostics.push(
                Diagnostic::error(path, repository.referenced.into(), format!("repository entry `{entry}` has no location"))
                    .with_hint("write a URL or a folder, optionally tagged: `@tag https://host/path` or `@tag ./folder`"),
            );
            continue;
        };
        let folder = files::normalize(Path::new(location));
        let is_output = folder
            .as_ref()
            .is_some_and(|folder| folder.starts_with("out"));
        if is_local(location) && !is_output && !root.join(location).exists() {
            diagnostics.push(Diagnostic::warning(
                path,
                repository.referenced.into(),
                format!("repository folder `{location}` does not exist"),
            ));
        }
    }
    for constraint in &contents.packages {
        let Some(name) = package_name(&constraint.value) else {
            continue;
        };
        if name.is_empty() {
            diagnostics.push(
                Diagnostic::error(path, constraint.referenced.into(), format!("package entry `{}` has no name", constraint.value))
                    .with_hint("write a package name, optionally with a version: `name`, `name=1.2-r0`, `name>=1.2`"),
            );
        }
        if let Some(tag) = package_tag(&constraint.value)
            && !merged_tags.contains(tag)
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
}

/// Checks `keyring` entries that are URLs, because the build fetches keys only over
/// `https://` and stores each under the file name that ends its URL.
pub fn check_keyring(entries: &[Spanned<String>], path: &Path, diagnostics: &mut Diagnostics) {
    for entry in entries {
        let url = entry.value.as_str();
        if is_local(url) {
            continue;
        }
        let file_name = url
            .strip_prefix("https://")
            .and_then(|rest| rest.split_once('/'))
            .and_then(|(_, key_path)| key_path.rsplit('/').next());
        let message = match file_name {
            None if !url.starts_with("https://") => {
                format!("key URL `{url}` is not https://")
            }
            Some(name) if !name.is_empty() && name != "." && name != ".." => continue,
            _ => format!("key URL `{url}` names no file"),
        };
        diagnostics.push(
            Diagnostic::error(path, entry.referenced.into(), message).with_hint(
                "keys are fetched only over https://: write `https://host/path/key.rsa.pub`, or a key file path relative to the catalog root",
            ),
        );
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
                .chain(&contents.build_repositories)
                .filter_map(|repo| {
                    let tag = repository_tag(&repo.value)?;
                    let location = repo.value.split_whitespace().nth(1)?;
                    is_local(location).then_some(tag)
                })
                .collect();
            for constraint in &contents.packages {
                let tag = package_tag(&constraint.value);
                let Some(name) = package_name(&constraint.value) else {
                    continue;
                };
                if tag.is_some_and(|tag| local_tags.contains(tag)) && !provided.contains(name) {
                    diagnostics.push(
                        Diagnostic::error(&variant.config_path, constraint.referenced.into(), format!(
                            "`{name}` is taken from a local repository, but no recipe in `packages/` provides it"
                        ))
                        .with_hint(if name.contains(':') || name.starts_with('/') {
                            "a recipe must list it under `dependencies.provides`, or drop the repository tag".to_string()
                        } else {
                            format!("add `packages/{name}.yaml`, or drop the repository tag")
                        }),
                    );
                }
            }
        }
    }
}
