//! The dependency graph from files to image variants, and the selection of the
//! variants a set of changed files affects.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::input::GraphInput;
use super::rules::{PathRole, role};

/// A changed file and why it selects a variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reason {
    /// The changed file, relative to the catalog root.
    #[serde(serialize_with = "super::serialize_path")]
    pub path: PathBuf,
    /// The rule that links the file to the variant.
    #[serde(flatten)]
    pub cause: Cause,
}

/// The rule that links a changed file to a variant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "cause", rename_all = "kebab-case")]
pub enum Cause {
    /// The file is an input of every build: catalog settings, the release tool, its
    /// toolchain or the CI workflows.
    Global,
    /// The file has no known role, so it counts as an input of every build.
    Unknown,
    /// The file lies in the image's folder.
    ImageFolder,
    /// The file is the variant's config or a file that config includes.
    Config,
    /// The file belongs to a local recipe that `package` depends on, or that builds
    /// `package` itself, and the variant installs `package`.
    Package {
        /// The installed package.
        package: String,
        /// The recipe the changed file belongs to.
        #[serde(serialize_with = "super::serialize_path")]
        recipe: PathBuf,
    },
}

/// The variants a set of changed files affects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Image name to variant name to the reasons that variant was selected. An image
    /// whose folder changed but that has no variants is present with an empty map.
    pub images: BTreeMap<String, BTreeMap<String, BTreeSet<Reason>>>,
    /// Image folders (such as `images/gone`) containing changed files but naming no image of
    /// the graph, each with its changed files. These are usually removed images.
    pub unknown_image_dirs: BTreeMap<PathBuf, BTreeSet<PathBuf>>,
}

/// Position of a variant in the [`GraphInput`]: (image index, variant index).
type VariantIndex = (usize, usize);

/// A [`GraphInput`] indexed for lookups by file, folder and package name.
#[derive(Debug)]
pub struct Graph<'a> {
    input: &'a GraphInput,
    variants_by_file: HashMap<&'a Path, Vec<VariantIndex>>,
    image_by_dir: HashMap<&'a Path, usize>,
    recipe_by_path: HashMap<PathBuf, usize>,
    recipes_by_need: HashMap<&'a str, Vec<usize>>,
    variants_by_package: HashMap<&'a str, Vec<VariantIndex>>,
}

impl<'a> Graph<'a> {
    /// Indexes `input`.
    pub fn new(input: &'a GraphInput) -> Self {
        let mut graph = Graph {
            input,
            variants_by_file: HashMap::new(),
            image_by_dir: HashMap::new(),
            recipe_by_path: HashMap::new(),
            recipes_by_need: HashMap::new(),
            variants_by_package: HashMap::new(),
        };
        graph.index_images();
        graph.index_recipes();
        graph
    }

    fn index_images(&mut self) {
        for (image_index, image) in self.input.images.iter().enumerate() {
            self.image_by_dir.insert(&image.dir, image_index);
            for (variant_index, variant) in image.variants.iter().enumerate() {
                let index = (image_index, variant_index);
                for file in &variant.files {
                    self.variants_by_file.entry(file).or_default().push(index);
                }
                for package in &variant.packages {
                    self.variants_by_package
                        .entry(package)
                        .or_default()
                        .push(index);
                }
            }
        }
    }

    fn index_recipes(&mut self) {
        for (recipe_index, recipe) in self.input.recipes.iter().enumerate() {
            self.recipe_by_path
                .insert(recipe.path.clone(), recipe_index);
            if let Some(folder) = recipe_folder(&recipe.path) {
                self.recipe_by_path.insert(folder, recipe_index);
            }
            for need in &recipe.needs {
                self.recipes_by_need
                    .entry(need)
                    .or_default()
                    .push(recipe_index);
            }
        }
    }

    /// Selects the variants that `changed` files affect, with the reasons for each.
    pub fn select<'p>(&self, changed: impl IntoIterator<Item = &'p Path>) -> Selection {
        let mut selection = Selection::default();
        let mut changed_recipes: BTreeMap<RecipeKey, Vec<&Path>> = BTreeMap::new();

        for path in changed {
            let mut matched = self.select_by_config(path, &mut selection);
            matched |= self.select_by_image_dir(path, &mut selection);
            if let Some(recipe) = self.recipe_key(path) {
                changed_recipes.entry(recipe).or_default().push(path);
                matched = true;
            }

            match role(path) {
                PathRole::Global => self.select_all(path, Cause::Global, &mut selection),
                PathRole::Unknown if !matched => {
                    self.select_all(path, Cause::Unknown, &mut selection);
                }
                PathRole::Image if !matched => {
                    let dir = path.iter().take(2).collect::<PathBuf>();
                    let files = selection.unknown_image_dirs.entry(dir).or_default();
                    files.insert(path.to_path_buf());
                }
                PathRole::Inert if !matched => {
                    tracing::debug!(path = %path.display(), "changed file affects no image");
                }
                _ => {}
            }
        }

        for (recipe, paths) in changed_recipes {
            self.select_by_recipe(&recipe, &paths, &mut selection);
        }
        selection
    }

    fn select_by_config(&self, path: &Path, selection: &mut Selection) -> bool {
        let Some(variants) = self.variants_by_file.get(path) else {
            return false;
        };
        for &index in variants {
            self.add_reason(index, path, Cause::Config, selection);
        }
        true
    }

    fn select_by_image_dir(&self, path: &Path, selection: &mut Selection) -> bool {
        let Some(image_index) = path
            .ancestors()
            .skip(1)
            .find_map(|dir| self.image_by_dir.get(dir).copied())
        else {
            return false;
        };
        self.select_image(image_index, path, &Cause::ImageFolder, selection);
        true
    }

    fn select_all(&self, path: &Path, cause: Cause, selection: &mut Selection) {
        for image_index in 0..self.input.images.len() {
            self.select_image(image_index, path, &cause, selection);
        }
    }

    fn select_image(
        &self,
        image_index: usize,
        path: &Path,
        cause: &Cause,
        selection: &mut Selection,
    ) {
        let image = &self.input.images[image_index];
        selection.images.entry(image.name.clone()).or_default();
        for variant_index in 0..image.variants.len() {
            self.add_reason((image_index, variant_index), path, cause.clone(), selection);
        }
    }

    /// Selects the variants that install a package the recipe builds, or a package of a
    /// local recipe that depends on it, directly or transitively.
    fn select_by_recipe(&self, recipe: &RecipeKey, paths: &[&Path], selection: &mut Selection) {
        let (recipe_path, start) = match recipe {
            RecipeKey::Known(index) => {
                let node = &self.input.recipes[*index];
                (node.path.clone(), node.provides.clone())
            }
            RecipeKey::Missing { path, package } => (path.clone(), vec![package.clone()]),
        };
        let affected = self.affected_packages(start);
        tracing::debug!(
            recipe = %recipe_path.display(),
            packages = ?affected,
            "recipe change reaches these package names"
        );

        for package in &affected {
            let Some(variants) = self.variants_by_package.get(package.as_str()) else {
                continue;
            };
            for &index in variants {
                for path in paths {
                    let cause = Cause::Package {
                        package: package.clone(),
                        recipe: recipe_path.clone(),
                    };
                    self.add_reason(index, path, cause, selection);
                }
            }
        }
    }

    /// Returns `start` plus every name provided by a local recipe that needs one of the
    /// returned names. Dependency cycles end because each recipe is visited once.
    fn affected_packages(&self, start: Vec<String>) -> BTreeSet<String> {
        let mut affected: BTreeSet<String> = start.iter().cloned().collect();
        let mut pending = start;
        let mut visited = vec![false; self.input.recipes.len()];

        while let Some(name) = pending.pop() {
            let Some(dependents) = self.recipes_by_need.get(name.as_str()) else {
                continue;
            };
            for &recipe_index in dependents {
                if std::mem::replace(&mut visited[recipe_index], true) {
                    continue;
                }
                for provided in &self.input.recipes[recipe_index].provides {
                    if affected.insert(provided.clone()) {
                        pending.push(provided.clone());
                    }
                }
            }
        }
        affected
    }

    /// Finds the recipe a file belongs to: the recipe file itself or a file in the
    /// recipe's folder (`packages/nginx/` for `packages/nginx.yaml`). A file under
    /// `packages/` of no known recipe, such as a deleted recipe, is taken to concern the
    /// package named like the file or folder.
    fn recipe_key(&self, path: &Path) -> Option<RecipeKey> {
        let known = path
            .ancestors()
            .find_map(|candidate| self.recipe_by_path.get(candidate).copied());
        if let Some(index) = known {
            return Some(RecipeKey::Known(index));
        }
        if role(path) != PathRole::Package {
            return None;
        }
        let entry = path.iter().nth(1)?;
        let package = recipe_stem(Path::new(entry))?;
        Some(RecipeKey::Missing {
            path: Path::new("packages").join(format!("{package}.yaml")),
            package,
        })
    }

    fn add_reason(
        &self,
        index: VariantIndex,
        path: &Path,
        cause: Cause,
        selection: &mut Selection,
    ) {
        let image = &self.input.images[index.0];
        let variant = &image.variants[index.1];
        let reasons = selection
            .images
            .entry(image.name.clone())
            .or_default()
            .entry(variant.name.clone())
            .or_default();
        reasons.insert(Reason {
            path: path.to_path_buf(),
            cause,
        });
    }
}

/// A recipe that changed files belong to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum RecipeKey {
    /// Index into [`GraphInput::recipes`].
    Known(usize),
    /// A recipe the graph does not have, usually because it was deleted.
    Missing { path: PathBuf, package: String },
}

/// Returns the folder holding a recipe's patches and other files: the recipe path
/// without its `.yaml` (and `.melange`) extension.
fn recipe_folder(recipe: &Path) -> Option<PathBuf> {
    let stem = recipe_stem(Path::new(recipe.file_name()?))?;
    Some(recipe.with_file_name(stem))
}

fn recipe_stem(file_name: &Path) -> Option<String> {
    let name = file_name.to_str()?;
    let name = name
        .strip_suffix(".yaml")
        .or_else(|| name.strip_suffix(".yml"))
        .unwrap_or(name);
    let name = name.strip_suffix(".melange").unwrap_or(name);
    (!name.is_empty()).then(|| name.to_string())
}

#[cfg(test)]
#[path = "graph_tests.rs"]
mod tests;
