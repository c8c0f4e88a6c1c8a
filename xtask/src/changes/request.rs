//! Selections made by name instead of by git: every image, for nightly rebuilds, or the
//! images a person names when releasing by hand.

use super::{ChangeSet, ChangedImage, ChangedVariant, GraphInput, ImageNode};

/// Errors of selecting images by name.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// A requested image is not in the catalog.
    #[error("image `{name}` not found in the catalog; `cargo xtask list` shows its images")]
    UnknownImage {
        /// The requested name.
        name: String,
    },
}

/// Selects every variant of every image of `input`.
pub fn all_images(input: &GraphInput) -> ChangeSet {
    change_set(input.images.iter())
}

/// Selects every variant of the images named in `names`. Fails on the first name that
/// `input` does not list.
pub fn requested_images(input: &GraphInput, names: &[String]) -> Result<ChangeSet, RequestError> {
    let mut images = Vec::new();
    for name in names {
        let Some(image) = input.images.iter().find(|image| &image.name == name) else {
            return Err(RequestError::UnknownImage { name: name.clone() });
        };
        images.push(image);
    }
    Ok(change_set(images.into_iter()))
}

/// Builds a change set of `images`, sorted and without duplicates, with no reasons.
fn change_set<'a>(images: impl Iterator<Item = &'a ImageNode>) -> ChangeSet {
    let mut images: Vec<ChangedImage> = images
        .map(|image| {
            let mut variants: Vec<ChangedVariant> = image
                .variants
                .iter()
                .map(|variant| ChangedVariant {
                    name: variant.name.clone(),
                    reasons: Vec::new(),
                })
                .collect();
            variants.sort_by(|left, right| left.name.cmp(&right.name));
            variants.dedup_by(|left, right| left.name == right.name);
            ChangedImage {
                name: image.name.clone(),
                variants,
            }
        })
        .collect();
    images.sort_by(|left, right| left.name.cmp(&right.name));
    images.dedup_by(|left, right| left.name == right.name);
    ChangeSet {
        images,
        ..ChangeSet::default()
    }
}
