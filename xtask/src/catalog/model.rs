//! The validated catalog that the rest of the tool works on: no raw YAML, every path
//! checked to exist, architectures parsed, tags known.

use std::fmt;
use std::path::PathBuf;

use super::apko::ImageConfig;
use super::arch::Arch;
use super::recipe::RecipeFile;
use super::settings::Settings;

/// The whole catalog, loaded from a root folder.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Absolute path of the folder holding `catalog.yaml`.
    pub root: PathBuf,
    pub settings: Settings,
    /// Default architectures, from `catalog.yaml`.
    pub archs: Vec<Arch>,
    /// Images sorted by name.
    pub images: Vec<Image>,
    /// Recipes sorted by package name.
    pub recipes: Vec<Recipe>,
}

impl Catalog {
    pub fn image(&self, name: &str) -> Option<&Image> {
        self.images.iter().find(|image| image.name == name)
    }

    pub fn recipe(&self, name: &str) -> Option<&Recipe> {
        self.recipes.iter().find(|recipe| recipe.name == name)
    }

    /// Returns the registry reference of an image without tag
    /// (`ghcr.io/example/images/nginx`).
    pub fn repository_of(&self, image: &Image) -> String {
        let namespace = self.settings.namespace.value.trim_matches('/');
        if namespace.is_empty() {
            format!("{}/{}", self.settings.registry.value, image.name)
        } else {
            format!(
                "{}/{namespace}/{}",
                self.settings.registry.value, image.name
            )
        }
    }
}

/// Release status of an image, shown in the README table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Stable,
    Experimental,
    Deprecated,
}

impl Status {
    pub const NAMES: [&str; 3] = ["stable", "experimental", "deprecated"];

    pub fn parse(name: &str) -> Option<Status> {
        match name {
            "stable" => Some(Status::Stable),
            "experimental" => Some(Status::Experimental),
            "deprecated" => Some(Status::Deprecated),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Stable => "stable",
            Status::Experimental => "experimental",
            Status::Deprecated => "deprecated",
        })
    }
}

/// One image folder under `images/`.
#[derive(Debug, Clone)]
pub struct Image {
    pub name: String,
    /// Folder relative to the catalog root (`images/nginx`).
    pub dir: PathBuf,
    pub description: Option<String>,
    pub status: Status,
    pub variants: Vec<Variant>,
    /// Test scripts relative to the catalog root, sorted.
    pub tests: Vec<PathBuf>,
}

/// One variant of an image, built from one apko config.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The config file's name without `.apko.yaml` (`latest`, `latest-dev`, `1.19`).
    pub name: String,
    /// Config file relative to the catalog root.
    pub config_path: PathBuf,
    /// The config file and every file it includes, relative to the catalog root.
    pub config_files: Vec<PathBuf>,
    /// The config with its includes merged in.
    pub config: ImageConfig,
    /// Tags known before building: the variant's own and those written in `tags`.
    pub tags: Vec<String>,
    pub extract_tags_from: Option<ExtractTags>,
    pub archs: Vec<Arch>,
    pub subvariants: Vec<SubvariantSpec>,
}

impl Variant {
    /// Names of the packages the variant's config installs, constraints stripped.
    pub fn package_names(&self) -> Vec<String> {
        self.config.package_names()
    }
}

/// Tags derived from an installed package's version at build time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtractTags {
    pub package: String,
    pub prefix: String,
    pub exclude: Vec<String>,
}

/// A subvariant: the parent's tags with `suffix`, and option sets applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubvariantSpec {
    pub suffix: String,
    pub options: Vec<String>,
}

/// One recipe under `packages/`.
#[derive(Debug, Clone)]
pub struct Recipe {
    /// Package name from the recipe.
    pub name: String,
    /// Recipe file relative to the catalog root (`packages/nginx.yaml`).
    pub path: PathBuf,
    /// Version with epoch, as apk writes it (`1.24.0-r0`).
    pub full_version: String,
    pub file: RecipeFile,
}

impl Recipe {
    /// Package names the recipe makes installable: the package, its subpackages and
    /// their `provides` (without versions).
    pub fn provided_names(&self) -> Vec<String> {
        let mut names = vec![self.name.clone()];
        names.extend(
            self.file
                .package
                .dependencies
                .provides
                .iter()
                .map(|p| strip_version(&p.value)),
        );
        for subpackage in &self.file.subpackages {
            // melange expands `${{package.name}}` in subpackage names (`${{package.name}}-dev`).
            names.push(
                subpackage
                    .name
                    .value
                    .replace("${{package.name}}", &self.name),
            );
            names.extend(
                subpackage
                    .dependencies
                    .provides
                    .iter()
                    .map(|p| strip_version(&p.value)),
            );
        }
        names.sort();
        names.dedup();
        names
    }

    /// Package names the recipe needs: build-time packages and runtime dependencies of
    /// the package and its subpackages (without versions).
    pub fn needed_names(&self) -> Vec<String> {
        let file = &self.file;
        let mut names: Vec<String> = file
            .environment
            .contents
            .packages
            .iter()
            .map(|p| strip_version(&p.value))
            .collect();
        names.extend(
            file.package
                .dependencies
                .runtime
                .iter()
                .map(|p| strip_version(&p.value)),
        );
        for subpackage in &file.subpackages {
            names.extend(
                subpackage
                    .dependencies
                    .runtime
                    .iter()
                    .map(|p| strip_version(&p.value)),
            );
        }
        names.sort();
        names.dedup();
        names
    }
}

fn strip_version(constraint: &str) -> String {
    super::apko::package_name(constraint)
        .unwrap_or(constraint)
        .to_string()
}
