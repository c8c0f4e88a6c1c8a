//! The graph input of a loaded [`Catalog`].

use crate::catalog::Catalog;

use super::input::{GraphInput, ImageNode, RecipeNode, VariantNode};

impl GraphInput {
    /// Builds the graph input of `catalog`: each variant with its config files and
    /// installed package names, each recipe with its provided and needed names.
    pub fn from_catalog(catalog: &Catalog) -> GraphInput {
        let images = catalog
            .images
            .iter()
            .map(|image| ImageNode {
                name: image.name.clone(),
                dir: image.dir.clone(),
                variants: image
                    .variants
                    .iter()
                    .map(|variant| VariantNode {
                        name: variant.name.clone(),
                        files: variant.config_files.clone(),
                        packages: variant.package_names(),
                    })
                    .collect(),
            })
            .collect();
        let recipes = catalog
            .recipes
            .iter()
            .map(|recipe| RecipeNode {
                path: recipe.path.clone(),
                provides: recipe.provided_names(),
                needs: recipe.needed_names(),
            })
            .collect();
        GraphInput { images, recipes }
    }
}
