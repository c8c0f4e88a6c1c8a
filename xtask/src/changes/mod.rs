//! Change detection: which image variants the commits between two revisions affect.
//!
//! [`git`] lists the changed paths, [`graph`] maps each path to the variants it can
//! change (through image folders, included configs and local package recipes), and
//! [`output`] renders the result as names, JSON or a GitHub Actions matrix. Scheduled
//! and manual releases skip git and request all images, or some by name.

mod catalog_input;
mod changeset;
pub mod git;
pub mod graph;
mod input;
pub mod output;
mod request;
mod rules;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serializer;

pub use changeset::{ChangeSet, ChangedImage, ChangedVariant, RemovedImage};
pub use git::{GitError, Revisions};
pub use graph::{Cause, Graph, Reason, Selection};
pub use input::{GraphInput, ImageNode, RecipeNode, VariantNode};
pub use request::{RequestError, all_images, requested_images};

/// Compares the revisions of the repository holding the catalog at `root` and selects
/// the variants of `input` that the changed files affect.
///
/// `input` describes the catalog at the head. An image folder with changed files that
/// `input` does not list is reported as removed when the folder is gone at the head.
pub fn changed_images(
    root: &Path,
    revisions: &Revisions,
    input: &GraphInput,
) -> Result<ChangeSet, GitError> {
    let comparison = git::compare(root, revisions)?;
    let selection = Graph::new(input).select(comparison.paths.iter().map(PathBuf::as_path));

    let mut removed = Vec::new();
    for (dir, files) in selection.unknown_image_dirs {
        if comparison.dir_exists_at_head(&dir)? {
            tracing::warn!(
                dir = %dir.display(),
                "files changed in a folder the catalog lists no image for; does it have an `image.yaml`?"
            );
            continue;
        }
        removed.push(RemovedImage {
            name: dir
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default(),
            dir,
            files: files.into_iter().collect(),
        });
    }

    Ok(ChangeSet {
        base: comparison.base.map(|oid| oid.to_string()),
        head: Some(comparison.head.to_string()),
        working_tree: comparison.working_tree,
        files: comparison.paths.into_iter().collect(),
        images: changed_images_of(selection.images),
        removed,
    })
}

fn changed_images_of(
    images: BTreeMap<String, BTreeMap<String, BTreeSet<Reason>>>,
) -> Vec<ChangedImage> {
    images
        .into_iter()
        .map(|(name, variants)| ChangedImage {
            name,
            variants: variants
                .into_iter()
                .map(|(name, reasons)| ChangedVariant {
                    name,
                    reasons: reasons.into_iter().collect(),
                })
                .collect(),
        })
        .collect()
}

/// Serializes a path as a string, replacing bytes that are not UTF-8, so that a file
/// name that is not UTF-8 cannot make serialization fail.
fn serialize_path<S: Serializer>(path: &Path, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&path.to_string_lossy())
}

fn serialize_paths<S: Serializer>(paths: &[PathBuf], serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_seq(paths.iter().map(|path| path.to_string_lossy()))
}
