//! `cargo xtask list`: the catalog's images, variants, tags and architectures.

use std::process::ExitCode;

use serde::Serialize;

use super::output::print_line;
use super::{Context, load_catalog};
use crate::catalog::{Catalog, ExtractTags, Variant};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct ImageEntry<'a> {
    name: &'a str,
    repository: String,
    status: String,
    description: Option<&'a str>,
    variants: Vec<VariantEntry<'a>>,
}

#[derive(Debug, Serialize)]
struct VariantEntry<'a> {
    name: &'a str,
    config: String,
    /// Tags known before building, subvariant tags included.
    tags: Vec<String>,
    /// Tags derived at build time from a package's version.
    extract_tags_from: Option<ExtractEntry<'a>>,
    subvariants: Vec<SubvariantEntry<'a>>,
    archs: Vec<String>,
}

#[derive(Debug, Serialize)]
struct ExtractEntry<'a> {
    package: &'a str,
    prefix: &'a str,
    exclude: &'a [String],
}

#[derive(Debug, Serialize)]
struct SubvariantEntry<'a> {
    suffix: &'a str,
    options: &'a [String],
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(context)?;
    let entries = entries(&catalog);
    if args.json {
        print_line(&serde_json::to_string_pretty(&entries)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for image in &entries {
        print_line(&format!(
            "{} ({}) {}",
            image.name, image.status, image.repository
        ))?;
        for variant in &image.variants {
            let mut tags = variant.tags.clone();
            if let Some(extract) = &variant.extract_tags_from {
                tags.push(describe_extracted(extract));
            }
            let archs = variant.archs.join(", ");
            print_line(&format!(
                "  {:<16} [{archs}] tags: {}",
                variant.name,
                tags.join(", ")
            ))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Describes build-time tags, such as `root-<git version>` or `<go-1.19 version, not 1>`.
fn describe_extracted(extract: &ExtractEntry<'_>) -> String {
    let mut text = format!("{}<{} version", extract.prefix, extract.package);
    if !extract.exclude.is_empty() {
        text.push_str(&format!(", not {}", extract.exclude.join(" or ")));
    }
    text.push('>');
    text
}

fn entries(catalog: &Catalog) -> Vec<ImageEntry<'_>> {
    catalog
        .images
        .iter()
        .map(|image| ImageEntry {
            name: &image.name,
            repository: catalog.repository_of(image),
            status: image.status.to_string(),
            description: image.description.as_deref(),
            variants: image.variants.iter().map(variant_entry).collect(),
        })
        .collect()
}

fn variant_entry(variant: &Variant) -> VariantEntry<'_> {
    let mut tags = variant.tags.clone();
    for sub in &variant.subvariants {
        tags.extend(
            variant
                .tags
                .iter()
                .map(|tag| format!("{tag}{}", sub.suffix)),
        );
    }
    VariantEntry {
        name: &variant.name,
        config: variant.config_path.display().to_string(),
        tags,
        extract_tags_from: variant.extract_tags_from.as_ref().map(extract_entry),
        subvariants: variant
            .subvariants
            .iter()
            .map(|sub| SubvariantEntry {
                suffix: &sub.suffix,
                options: &sub.options,
            })
            .collect(),
        archs: variant.archs.iter().map(ToString::to_string).collect(),
    }
}

fn extract_entry(extract: &ExtractTags) -> ExtractEntry<'_> {
    ExtractEntry {
        package: &extract.package,
        prefix: &extract.prefix,
        exclude: &extract.exclude,
    }
}
