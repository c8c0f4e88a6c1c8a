//! The result of change detection: the image variants to build and the images removed.

use std::path::PathBuf;

use serde::Serialize;

use super::graph::Reason;

/// The images a comparison of two revisions affects.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ChangeSet {
    /// The commit compared from, as hex. `None` for the empty tree, and when the images
    /// were requested by name.
    pub base: Option<String>,
    /// The head commit, as hex. `None` when the images were requested by name.
    pub head: Option<String>,
    /// Whether uncommitted changes of the working tree were included.
    pub working_tree: bool,
    /// Every changed path, relative to the catalog root, sorted.
    #[serde(serialize_with = "super::serialize_paths")]
    pub files: Vec<PathBuf>,
    /// Images to build, sorted by name.
    pub images: Vec<ChangedImage>,
    /// Images whose folder is gone at the head, sorted by name. They are not build
    /// targets.
    pub removed: Vec<RemovedImage>,
}

/// An image with variants to build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedImage {
    /// Image name.
    pub name: String,
    /// Selected variants, sorted by name.
    pub variants: Vec<ChangedVariant>,
}

/// A variant to build and the changed files that selected it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangedVariant {
    /// Variant name.
    pub name: String,
    /// Changed files and how each reaches the variant, sorted. Empty when the variant
    /// was requested by name.
    pub reasons: Vec<Reason>,
}

/// An image whose folder was deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedImage {
    /// Image name, the name of the deleted folder.
    pub name: String,
    /// The deleted folder, relative to the catalog root.
    #[serde(serialize_with = "super::serialize_path")]
    pub dir: PathBuf,
    /// The changed (mostly deleted) files in that folder, sorted.
    #[serde(serialize_with = "super::serialize_paths")]
    pub files: Vec<PathBuf>,
}

impl ChangeSet {
    /// Returns the names of the images to build, sorted.
    pub fn image_names(&self) -> Vec<&str> {
        self.images
            .iter()
            .map(|image| image.name.as_str())
            .collect()
    }

    /// Returns the names of the removed images, sorted.
    pub fn removed_names(&self) -> Vec<&str> {
        self.removed
            .iter()
            .map(|image| image.name.as_str())
            .collect()
    }
}
