//! Checks beyond parsing: names, references between files, tags, architectures,
//! accounts, paths and repositories. Each check adds diagnostics and never stops early.

mod accounts;
mod config;
mod names;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_saphyr::Spanned;

use super::arch::Arch;
use super::diagnostic::{Diagnostic, Diagnostics, Position};
use super::image_file::{ImageFile, TagValue};
use super::model::{Image, Recipe, Variant};
use super::settings::Settings;

pub use config::check_config_chain;
pub use names::{check_image_name, check_recipe, variant_name};

/// Parses a list of architecture names, reporting unknown and repeated ones.
pub fn parse_archs(
    names: &[Spanned<String>],
    file: &Path,
    diagnostics: &mut Diagnostics,
) -> Vec<Arch> {
    let mut archs = Vec::new();
    for name in names {
        match name.value.parse::<Arch>() {
            Ok(arch) if archs.contains(&arch) => diagnostics.push(Diagnostic::error(
                file,
                name.referenced.into(),
                format!("architecture `{}` is listed twice", name.value),
            )),
            Ok(arch) => archs.push(arch),
            Err(error) => diagnostics.push(
                Diagnostic::error(file, name.referenced.into(), error.to_string())
                    .with_hint(format!("use one of: {}", Arch::accepted_names())),
            ),
        }
    }
    archs
}

/// Checks `catalog.yaml` values that parsing cannot.
pub fn check_settings(settings: &Settings, root: &Path, diagnostics: &mut Diagnostics) {
    let file = Path::new(super::CATALOG_FILE);
    if settings.archs.is_empty() {
        diagnostics.push(
            Diagnostic::error(file, Position::FILE, "`archs` is empty")
                .with_hint("list the default architectures, for example `[amd64, arm64]`"),
        );
    }
    let registry = &settings.registry;
    if !is_registry_host(&registry.value) {
        diagnostics.push(
            Diagnostic::error(file, registry.referenced.into(), format!("invalid registry `{}`", registry.value))
                .with_hint("write a lowercase host with an optional port, such as `ghcr.io` or `127.0.0.1:5000`"),
        );
    }
    config::check_keyring(&settings.keyring, file, diagnostics);
    config::check_keyring(&settings.offline.keyring, file, diagnostics);
    let namespace = &settings.namespace;
    let trimmed = namespace.value.trim_matches('/');
    for part in trimmed.split('/').filter(|_| !trimmed.is_empty()) {
        if !names::is_repository_component(part) {
            diagnostics.push(
                Diagnostic::error(file, namespace.referenced.into(), format!("invalid namespace component `{part}`"))
                    .with_hint("registry paths use lowercase letters, digits and single `.`, `_` or `-` separators, joined by one `/`"),
            );
        }
    }
    if let Some(profile) = &settings.profile
        && let Err(message) = profile.value.parse::<crate::catalog::Profile>()
    {
        diagnostics.push(
            Diagnostic::error(file, profile.referenced.into(), message)
                .with_hint("use `upstream` (the configs' own repositories) or `offline` (this repository's packages/)"),
        );
    }
    if let Some(mode) = &settings.signing.mode
        && mode.value != "keyless"
        && mode.value != "key"
    {
        diagnostics.push(
            Diagnostic::error(
                file,
                mode.referenced.into(),
                format!("unknown signing mode `{}`", mode.value),
            )
            .with_hint("use `keyless` or `key`"),
        );
    }
    if let Some(mode) = &settings.signing.mode
        && mode.value == "key"
        && settings.signing.public_key.is_none()
    {
        diagnostics.push(
            Diagnostic::error(file, mode.referenced.into(), "signing mode `key` needs `public-key`")
                .with_hint("name the cosign public key that verifies releases, such as `public-key: cosign.pub`"),
        );
    }
    let keys = [&settings.signing.public_key, &settings.packages.signing_key];
    for key in keys.into_iter().flatten() {
        if let Err(problem) = crate::catalog::files::file_inside(root, Path::new(&key.value)) {
            diagnostics.push(
                Diagnostic::error(file, key.referenced.into(), format!("key file: {problem}"))
                    .with_hint(problem.hint()),
            );
        }
    }
}

/// Checks one image against its variants: duplicate variants and tags, and option
/// sets. Whether `extractTagsFrom` names an installed package is known only after
/// resolution, since the package may come in as a dependency (`python3` installs
/// `python-3.11`).
pub fn check_image(
    file: &ImageFile,
    variants: &[Variant],
    file_path: &Path,
    diagnostics: &mut Diagnostics,
) {
    let mut tag_owner: BTreeMap<String, String> = BTreeMap::new();
    let mut variant_names: BTreeMap<&str, ()> = BTreeMap::new();
    for (entry, variant) in file.versions.value.iter().zip(variants) {
        let position: Position = entry.apko.config.referenced.into();
        if variant_names.insert(&variant.name, ()).is_some() {
            diagnostics.push(Diagnostic::error(
                file_path,
                position,
                format!("variant `{}` is defined twice", variant.name),
            ));
        }
        let mut own_tags: BTreeSet<String> = BTreeSet::new();
        for tag in known_tags(variant) {
            if !own_tags.insert(tag.clone()) {
                // A repeated base tag repeats with each subvariant suffix too; report it once.
                if variant.tags.contains(&tag) {
                    let listed: Vec<_> = entry
                        .apko
                        .tags
                        .iter()
                        .filter(|t| t.value.text() == tag)
                        .collect();
                    let tag_position = listed.last().map_or(position, |t| t.referenced.into());
                    let diagnostic = if listed.len() > 1 {
                        repeated_tag(variant, &tag, file_path, tag_position)
                    } else {
                        tag_repeats_name(variant, file_path, tag_position)
                    };
                    diagnostics.push(diagnostic);
                }
                continue;
            }
            if let Some(owner) = tag_owner.insert(tag.clone(), variant.name.clone()) {
                diagnostics.push(
                    Diagnostic::error(
                        file_path,
                        position,
                        format!(
                            "tag `{tag}` is used by variants `{owner}` and `{}`",
                            variant.name
                        ),
                    )
                    .with_hint("each tag must point at one variant; remove it from one of them"),
                );
            }
        }
        for tag in &entry.apko.tags {
            if let TagValue::Float(number) = tag.value {
                diagnostics.push(
                    Diagnostic::error(
                        file_path,
                        tag.referenced.into(),
                        format!("tag {number} is written as a number"),
                    )
                    .with_hint("quote it, like `\"1.20\"`: YAML reads `1.20` as the number 1.2"),
                );
                continue;
            }
            names::check_tag(
                &tag.value.text(),
                file_path,
                tag.referenced.into(),
                diagnostics,
            );
        }
        for sub in &entry.apko.subvariants {
            for option in &sub.options {
                if !file.options.contains_key(&option.value) {
                    diagnostics.push(
                        Diagnostic::error(
                            file_path,
                            option.referenced.into(),
                            format!("unknown option set `{}`", option.value),
                        )
                        .with_hint("define it under the top-level `options` key"),
                    );
                }
            }
        }
    }
}

/// Reports a tag listed twice in one variant's `tags`.
fn repeated_tag(variant: &Variant, tag: &str, file_path: &Path, position: Position) -> Diagnostic {
    Diagnostic::error(
        file_path,
        position,
        format!("variant `{}` lists tag `{tag}` twice", variant.name),
    )
    .with_hint(format!("remove one `{tag}` from `tags`"))
}

/// Reports a `tags` entry equal to the variant's name, which variants named
/// `latest...` already carry as a tag.
fn tag_repeats_name(variant: &Variant, file_path: &Path, position: Position) -> Diagnostic {
    let name = &variant.name;
    Diagnostic::error(
        file_path,
        position,
        format!("variant `{name}` lists tag `{name}`, which it already has from its name"),
    )
    .with_hint(format!("remove `{name}` from `tags`"))
}

/// Tags of a variant known before building, with subvariant suffixes applied.
fn known_tags(variant: &Variant) -> Vec<String> {
    let mut tags = variant.tags.clone();
    for sub in &variant.subvariants {
        tags.extend(
            variant
                .tags
                .iter()
                .map(|tag| format!("{tag}{}", sub.suffix)),
        );
    }
    tags
}

/// Checks across images and recipes: images without tests, packages tagged for the
/// local repository that no recipe provides, and recipe names given twice.
pub fn check_catalog(images: &[Image], recipes: &[Recipe], diagnostics: &mut Diagnostics) {
    for image in images {
        if image.tests.is_empty() {
            diagnostics.push(
                Diagnostic::warning(
                    &image.dir,
                    Position::FILE,
                    format!("image `{}` has no tests", image.name),
                )
                .with_hint(format!(
                    "add an executable script under `{}/tests/`",
                    image.dir.display()
                )),
            );
        }
    }
    let mut seen: BTreeMap<&str, &Path> = BTreeMap::new();
    for recipe in recipes {
        if let Some(first) = seen.insert(&recipe.name, &recipe.path) {
            diagnostics.push(Diagnostic::error(
                &recipe.path,
                recipe.file.package.name.referenced.into(),
                format!(
                    "package `{}` is also built by `{}`",
                    recipe.name,
                    first.display()
                ),
            ));
        }
    }
    config::check_local_packages(images, recipes, diagnostics);
}

/// Returns whether `host` is a registry host as image references write it: a lowercase DNS name
/// or IPv4 address, with an optional numeric port.
pub fn is_registry_host(host: &str) -> bool {
    let (name, port) = host
        .rsplit_once(':')
        .map_or((host, None), |(name, port)| (name, Some(port)));
    let port_ok = port.is_none_or(|port| {
        !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit())
    });
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    };
    port_ok && name.split('.').all(label_ok)
}
