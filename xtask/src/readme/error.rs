//! Errors of README generation.

use std::io;
use std::path::PathBuf;

use super::markers::MarkerError;

/// Failure to generate or write the README files.
#[derive(Debug, thiserror::Error)]
pub enum ReadmeError {
    /// A README exists but could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// A README could not be written.
    #[error("failed to write `{}`", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
    /// The root README has no release table markers.
    #[error(
        "`{}` has no release-status table\n  hint: add these two lines where the table belongs:\n    {begin}\n    {end}",
        path.display()
    )]
    MissingMarkers {
        /// The file without markers.
        path: PathBuf,
        /// The line that opens the section.
        begin: &'static str,
        /// The line that closes the section.
        end: &'static str,
    },
    /// The markers are present but do not enclose one section.
    #[error("`{}`: {problem}", path.display())]
    Markers {
        /// The file with broken markers.
        path: PathBuf,
        /// The problem with them.
        problem: MarkerError,
    },
    /// An image name cannot be used as a folder name.
    #[error("invalid image name `{0}`: expected lowercase letters, digits, `.`, `_` and `-`")]
    ImageName(String),
    /// A template failed to render, which points at a bug in a built-in template.
    #[error("failed to render the README template")]
    Template(#[from] minijinja::Error),
}
