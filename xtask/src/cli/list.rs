//! `cargo xtask list`: the catalog's images, variants, tags and architectures.

use std::process::ExitCode;

use serde::Serialize;

use super::{Context, load_catalog};
use crate::catalog::Catalog;

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
    tags: &'a [String],
    /// Package whose version gives further tags at build time.
    extract_tags_from: Option<&'a str>,
    archs: Vec<String>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let catalog = load_catalog(context)?;
    let entries = entries(&catalog);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(ExitCode::SUCCESS);
    }
    for image in &entries {
        println!("{} ({}) {}", image.name, image.status, image.repository);
        for variant in &image.variants {
            let mut tags = variant.tags.join(", ");
            if let Some(package) = variant.extract_tags_from {
                if !tags.is_empty() {
                    tags.push_str(", ");
                }
                tags.push_str(&format!("<{package} version>"));
            }
            println!(
                "  {:<16} [{}] tags: {tags}",
                variant.name,
                variant.archs.join(", ")
            );
        }
    }
    Ok(ExitCode::SUCCESS)
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
            variants: image
                .variants
                .iter()
                .map(|variant| VariantEntry {
                    name: &variant.name,
                    config: variant.config_path.display().to_string(),
                    tags: &variant.tags,
                    extract_tags_from: variant
                        .extract_tags_from
                        .as_ref()
                        .map(|e| e.package.as_str()),
                    archs: variant.archs.iter().map(ToString::to_string).collect(),
                })
                .collect(),
        })
        .collect()
}
