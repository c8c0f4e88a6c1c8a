//! A minimal reading of the catalog for change detection: each image's variants with
//! their config files, includes and packages, and each recipe's provided and needed
//! package names. Unknown keys are ignored, because validation is the catalog's job.

// TODO: replace with catalog::Catalog once it lands.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use serde::Deserialize;

use crate::changes::{GraphInput, ImageNode, RecipeNode, VariantNode, package_name};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImageFile {
    versions: Vec<Version>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Version {
    apko: Option<ApkoVersion>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApkoVersion {
    config: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ApkoConfig {
    contents: Contents,
    include: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Contents {
    packages: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecipeFile {
    package: Package,
    environment: Environment,
    subpackages: Vec<Package>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Package {
    name: String,
    dependencies: Dependencies,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Dependencies {
    runtime: Vec<String>,
    provides: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Environment {
    contents: Contents,
}

/// Reads the images under `images/` and the recipes under `packages/` of `root`.
pub(super) fn graph_input(root: &Path) -> anyhow::Result<GraphInput> {
    let mut images = Vec::new();
    for dir in sorted_entries(root, "images")? {
        if root.join(&dir).join("image.yaml").is_file() {
            images.push(read_image(root, dir)?);
        }
    }

    let mut recipes = Vec::new();
    for path in sorted_entries(root, "packages")? {
        let yaml = path
            .extension()
            .is_some_and(|extension| extension == "yaml" || extension == "yml");
        if yaml && root.join(&path).is_file() {
            recipes.push(read_recipe(root, path)?);
        }
    }
    Ok(GraphInput { images, recipes })
}

/// Lists the entries of folder `dir` of `root` as paths relative to `root`, sorted. An
/// absent folder has none.
fn sorted_entries(root: &Path, dir: &str) -> anyhow::Result<Vec<PathBuf>> {
    let absolute = root.join(dir);
    if !absolute.is_dir() {
        return Ok(Vec::new());
    }
    let mut entries = Vec::new();
    for entry in fs_err::read_dir(&absolute)? {
        entries.push(Path::new(dir).join(entry?.file_name()));
    }
    entries.sort();
    Ok(entries)
}

fn read_image(root: &Path, dir: PathBuf) -> anyhow::Result<ImageNode> {
    let image: ImageFile = read_yaml(root, &dir.join("image.yaml"))?;
    let mut variants = Vec::new();
    for config in image
        .versions
        .into_iter()
        .filter_map(|version| version.apko?.config)
    {
        variants.push(read_variant(root, &dir, &dir.join(config))?);
    }
    let name = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(ImageNode {
        name,
        dir,
        variants,
    })
}

/// Reads a variant's config and, recursively, the configs it includes.
fn read_variant(root: &Path, image_dir: &Path, config: &Path) -> anyhow::Result<VariantNode> {
    let name = config
        .file_name()
        .map(|name| name.to_string_lossy())
        .unwrap_or_default();
    let name = name.strip_suffix(".yaml").unwrap_or(&name);
    let name = name.strip_suffix(".apko").unwrap_or(name).to_string();

    let mut files = Vec::new();
    let mut packages = BTreeSet::new();
    let mut next = Some(config.to_path_buf());
    while let Some(file) = next.take() {
        if files.contains(&file) {
            break;
        }
        files.push(file.clone());
        if !root.join(&file).is_file() {
            tracing::debug!(image = %image_dir.display(), file = %file.display(), "config file not found");
            break;
        }
        let parsed: ApkoConfig = read_yaml(root, &file)?;
        packages.extend(
            parsed
                .contents
                .packages
                .iter()
                .map(|spec| package_name(spec).to_string()),
        );
        next = parsed
            .include
            .map(|include| resolve_include(root, &file, &include));
    }
    Ok(VariantNode {
        name,
        files,
        packages: packages.into_iter().collect(),
    })
}

/// Resolves an `include` path: relative to the catalog root, as apko resolves it
/// against its working folder, else relative to the including config's folder.
fn resolve_include(root: &Path, config: &Path, include: &str) -> PathBuf {
    let from_root = PathBuf::from(include);
    if root.join(&from_root).is_file() {
        return from_root;
    }
    config
        .parent()
        .map_or(from_root.clone(), |dir| dir.join(include))
}

fn read_recipe(root: &Path, path: PathBuf) -> anyhow::Result<RecipeNode> {
    let recipe: RecipeFile = read_yaml(root, &path)?;
    let mut provides = BTreeSet::new();
    let mut needs = BTreeSet::new();
    for package in std::iter::once(&recipe.package).chain(&recipe.subpackages) {
        if !package.name.is_empty() {
            provides.insert(package.name.clone());
        }
        provides.extend(
            package
                .dependencies
                .provides
                .iter()
                .map(|spec| package_name(spec).to_string()),
        );
        needs.extend(
            package
                .dependencies
                .runtime
                .iter()
                .map(|spec| package_name(spec).to_string()),
        );
    }
    needs.extend(
        recipe
            .environment
            .contents
            .packages
            .iter()
            .map(|spec| package_name(spec).to_string()),
    );
    Ok(RecipeNode {
        path,
        provides: provides.into_iter().collect(),
        needs: needs.into_iter().collect(),
    })
}

fn read_yaml<T: serde::de::DeserializeOwned>(root: &Path, path: &Path) -> anyhow::Result<T> {
    let text = fs_err::read_to_string(root.join(path))?;
    serde_saphyr::from_str(&text).with_context(|| format!("failed to parse `{}`", path.display()))
}
