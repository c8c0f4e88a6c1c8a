//! The catalog: `catalog.yaml`, `images/*/image.yaml`, their apko configs and the
//! recipes in `packages/`. Files are parsed into serde types that mirror the YAML
//! (unknown keys rejected), then checked and turned into the [`Catalog`] model.
//! Every problem found is collected as a [`Diagnostic`] with its file, line and column.

pub mod apko;
pub mod arch;
pub mod diagnostic;
pub mod files;
pub mod image_file;
mod load;
mod model;
pub mod recipe;
mod rules;
pub mod settings;
pub mod yaml;

use std::path::Path;

pub use arch::Arch;
pub use diagnostic::{Diagnostic, Diagnostics, Position, Severity};
pub use model::{Catalog, ExtractTags, Image, Recipe, Status, SubvariantSpec, Variant};
pub use rules::is_registry_host;
pub use settings::Profile;

/// File at the catalog root that marks it and holds the shared settings.
pub const CATALOG_FILE: &str = "catalog.yaml";

impl Catalog {
    /// Loads and checks the catalog at `root`. Fails with every problem found when any
    /// of them is an error; warnings alone do not fail.
    pub fn load(root: &Path) -> Result<Catalog, Diagnostics> {
        let (catalog, diagnostics) = load::load(root);
        match catalog {
            Some(catalog) if !diagnostics.has_errors() => Ok(catalog),
            _ => Err(diagnostics),
        }
    }
}

/// Checks the catalog at `root` and returns every problem, errors and warnings.
pub fn lint(root: &Path) -> Diagnostics {
    load::load(root).1
}
