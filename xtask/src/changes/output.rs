//! Renderings of a [`ChangeSet`]: image names, JSON, the GitHub Actions matrix and the
//! step outputs written to `$GITHUB_OUTPUT`.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::ChangeSet;

/// Errors of rendering or writing the result.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// Serializing to JSON failed.
    #[error("failed to serialize the change set as JSON")]
    Json(#[from] serde_json::Error),
    /// A name would break the line-based `$GITHUB_OUTPUT` format.
    #[error("image name {name:?} contains a line break, which `$GITHUB_OUTPUT` cannot hold")]
    LineBreak {
        /// The image name.
        name: String,
    },
    /// Appending to the `$GITHUB_OUTPUT` file failed.
    #[error("failed to append to the GitHub output file `{path}`")]
    Write {
        /// The file named by `$GITHUB_OUTPUT`.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// The GitHub Actions matrix form: `{"include": [{"image": ..., "variant": ...}]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Matrix {
    /// One entry per image and variant, sorted by image, then variant.
    pub include: Vec<MatrixEntry>,
}

/// One job of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MatrixEntry {
    /// Image name.
    pub image: String,
    /// Variant name.
    pub variant: String,
}

/// Builds the matrix of the variants to build.
pub fn matrix(changes: &ChangeSet) -> Matrix {
    let include = changes
        .images
        .iter()
        .flat_map(|image| {
            image.variants.iter().map(|variant| MatrixEntry {
                image: image.name.clone(),
                variant: variant.name.clone(),
            })
        })
        .collect();
    Matrix { include }
}

/// Renders the names of the images to build, one per line.
pub fn names(changes: &ChangeSet) -> String {
    changes
        .image_names()
        .iter()
        .map(|name| format!("{name}\n"))
        .collect()
}

/// Renders the whole change set as pretty-printed JSON with a final newline.
pub fn json(changes: &ChangeSet) -> Result<String, OutputError> {
    Ok(serde_json::to_string_pretty(changes)? + "\n")
}

/// Renders the matrix as single-line JSON with a final newline.
pub fn matrix_json(changes: &ChangeSet) -> Result<String, OutputError> {
    Ok(serde_json::to_string(&matrix(changes))? + "\n")
}

/// Renders the step outputs: `matrix=<json>`, `images=<names>` and
/// `removed=<names>`, with names separated by spaces. Each value is one line, so the
/// `name<<DELIMITER` form is not needed.
pub fn github_output(changes: &ChangeSet) -> Result<String, OutputError> {
    let images = space_separated(&changes.image_names())?;
    let removed = space_separated(&changes.removed_names())?;
    let matrix = serde_json::to_string(&matrix(changes))?;
    Ok(format!(
        "matrix={matrix}\nimages={images}\nremoved={removed}\n"
    ))
}

/// Appends [`github_output`] to the file at `path`, which GitHub Actions names in
/// `$GITHUB_OUTPUT`.
pub fn append_github_output(path: &Path, changes: &ChangeSet) -> Result<(), OutputError> {
    let text = github_output(changes)?;
    let write_error = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(write_error)?;
    file.write_all(text.as_bytes()).map_err(write_error)
}

fn space_separated(names: &[&str]) -> Result<String, OutputError> {
    if let Some(name) = names.iter().find(|name| name.contains(['\n', '\r'])) {
        return Err(OutputError::LineBreak {
            name: name.to_string(),
        });
    }
    Ok(names.join(" "))
}

#[cfg(test)]
mod tests {
    use super::{OutputError, github_output, matrix_json, names};
    use crate::changes::{ChangeSet, ChangedImage, ChangedVariant};

    fn change_set(images: &[(&str, &[&str])]) -> ChangeSet {
        let images = images
            .iter()
            .map(|(name, variants)| ChangedImage {
                name: name.to_string(),
                variants: variants
                    .iter()
                    .map(|variant| ChangedVariant {
                        name: variant.to_string(),
                        reasons: Vec::new(),
                    })
                    .collect(),
            })
            .collect();
        ChangeSet {
            images,
            ..ChangeSet::default()
        }
    }

    #[test]
    fn empty_change_set_outputs() {
        let changes = ChangeSet::default();
        assert_eq!(names(&changes), "");
        assert_eq!(matrix_json(&changes).expect("JSON"), "{\"include\":[]}\n");
        assert_eq!(
            github_output(&changes).expect("outputs"),
            "matrix={\"include\":[]}\nimages=\nremoved=\n"
        );
    }

    #[test]
    fn github_output_rejects_line_breaks() {
        let changes = change_set(&[("bad\nname=x", &["latest"])]);
        let error = github_output(&changes).expect_err("a line break");
        assert!(matches!(error, OutputError::LineBreak { .. }), "{error}");
    }

    #[test]
    fn names_one_per_line() {
        let changes = change_set(&[("a", &["latest"]), ("b", &["dev", "latest"])]);
        assert_eq!(names(&changes), "a\nb\n");
    }
}
