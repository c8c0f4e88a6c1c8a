//! The dependency graph's input: images, their variants and the local package recipes,
//! as plain data so that change detection does not depend on how the catalog is parsed.

use std::path::PathBuf;

/// Everything the dependency graph needs to know about a catalog.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphInput {
    /// Images of the catalog at the head revision.
    pub images: Vec<ImageNode>,
    /// Local package recipes (melange format) at the head revision.
    pub recipes: Vec<RecipeNode>,
}

/// One image and its variants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageNode {
    /// Image name, the folder name under `images/`.
    pub name: String,
    /// Image folder relative to the catalog root, such as `images/nginx`.
    pub dir: PathBuf,
    /// Variants, one per apko config listed in `image.yaml`.
    pub variants: Vec<VariantNode>,
}

/// One variant of an image: an apko config and what it installs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VariantNode {
    /// Variant name, such as `latest`.
    pub name: String,
    /// The config file and every file it includes, relative to the catalog root.
    pub files: Vec<PathBuf>,
    /// Names of the packages the config installs, without version constraints or
    /// repository tags (`nginx` for `nginx=1.24.0-r0@local`).
    pub packages: Vec<String>,
}

/// One local package recipe.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecipeNode {
    /// Recipe file relative to the catalog root, such as `packages/nginx.yaml`.
    pub path: PathBuf,
    /// Names the recipe's packages can be installed by: the package, its subpackages
    /// and their `provides` entries, without version constraints.
    pub provides: Vec<String>,
    /// Names of the packages the recipe needs at build time or run time, without
    /// version constraints.
    pub needs: Vec<String>,
}
