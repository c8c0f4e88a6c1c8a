//! The set of README files to generate and their expected contents.

use std::io;
use std::path::{Path, PathBuf};

use super::error::ReadmeError;
use super::input::{ImageInput, TableInput};
use super::markers::{HEADER_MARKERS, MarkerError, TABLE_MARKERS};
use super::render::Renderer;
use crate::release::ReleaseRecords;

/// A README file with its current and its generated contents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the catalog root, with `/` separators.
    pub path: String,
    /// Contents on disk, or `None` when the file does not exist.
    pub current: Option<String>,
    /// Contents after generation.
    pub expected: String,
}

impl GeneratedFile {
    /// Returns whether the file on disk differs from the generated contents.
    pub fn is_stale(&self) -> bool {
        self.current.as_deref() != Some(self.expected.as_str())
    }
}

/// Generates the root `README.md` and every `images/<name>/README.md` of the
/// catalog at `root`, reading the current files but writing nothing. Files come
/// out sorted by path.
pub fn generate(
    root: &Path,
    input: &TableInput,
    records: &ReleaseRecords,
) -> Result<Vec<GeneratedFile>, ReadmeError> {
    let renderer = Renderer::new()?;
    let mut files = vec![root_readme(root, input, records, &renderer)?];
    for image in &input.images {
        files.push(image_readme(root, input, image, records, &renderer)?);
    }
    files.sort_by(|left, right| left.path.cmp(&right.path));
    Ok(files)
}

fn root_readme(
    root: &Path,
    input: &TableInput,
    records: &ReleaseRecords,
    renderer: &Renderer,
) -> Result<GeneratedFile, ReadmeError> {
    let relative = "README.md";
    let path = root.join(relative);
    let current = fs_err::read_to_string(&path).map_err(|source| ReadmeError::Read {
        path: path.clone(),
        source,
    })?;
    let table = renderer.table(input, records)?;
    let expected = TABLE_MARKERS
        .replace(&current, &table)
        .map_err(|problem| match problem {
            MarkerError::Missing => missing_markers(path.clone()),
            problem => ReadmeError::Markers {
                path: path.clone(),
                problem,
            },
        })?;
    Ok(GeneratedFile {
        path: relative.to_owned(),
        current: Some(current),
        expected,
    })
}

fn image_readme(
    root: &Path,
    input: &TableInput,
    image: &ImageInput,
    records: &ReleaseRecords,
    renderer: &Renderer,
) -> Result<GeneratedFile, ReadmeError> {
    validate_image_name(&image.name)?;
    let relative = format!("images/{}/README.md", image.name);
    let path = root.join(&relative);
    let current = read_optional(&path)?;
    let header = renderer.header(input, image, records)?;
    let expected = match current.as_deref() {
        None => HEADER_MARKERS.wrap(&header),
        Some(text) => match HEADER_MARKERS.replace(text, &header) {
            Ok(expected) => expected,
            // A README written before headers were generated gets one on top.
            Err(MarkerError::Missing) => format!("{}\n{text}", HEADER_MARKERS.wrap(&header)),
            Err(problem) => return Err(ReadmeError::Markers { path, problem }),
        },
    };
    Ok(GeneratedFile {
        path: relative,
        current,
        expected,
    })
}

fn read_optional(path: &Path) -> Result<Option<String>, ReadmeError> {
    match fs_err::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReadmeError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

fn missing_markers(path: PathBuf) -> ReadmeError {
    ReadmeError::MissingMarkers {
        path,
        begin: TABLE_MARKERS.begin,
        end: TABLE_MARKERS.end,
    }
}

/// Rejects names that would leave `images/` or hide the folder, because the name
/// becomes a path.
fn validate_image_name(name: &str) -> Result<(), ReadmeError> {
    let allowed = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c);
    if name.is_empty() || name.starts_with('.') || !name.chars().all(allowed) {
        return Err(ReadmeError::ImageName(name.to_owned()));
    }
    Ok(())
}
