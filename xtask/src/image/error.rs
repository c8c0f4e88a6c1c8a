//! Errors of an image build. Each variant names the config file or package it is about
//! and the offending value, so the message alone is enough to fix the input.

use std::path::PathBuf;

use crate::oci::LayoutError;

/// An image build failure.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A config value is invalid.
    #[error("{}: {message}", file.display())]
    Config {
        /// The config file.
        file: PathBuf,
        /// Description of the problem, naming the value.
        message: String,
    },
    /// A keyring entry could not be loaded.
    #[error("{}: keyring entry `{value}`: {source}", file.display())]
    Key {
        /// The config file.
        file: PathBuf,
        /// The entry as written.
        value: String,
        /// The cause.
        source: apk::key::KeyringError,
    },
    /// A repository index could not be read or verified.
    #[error("{}: repository `{repository}`: {source}", file.display())]
    Index {
        /// The config file.
        file: PathBuf,
        /// The repository as written.
        repository: String,
        /// The cause.
        source: Box<apk::FetchError>,
    },
    /// The packages cannot be resolved.
    #[error("{}: resolving the packages for {arch} failed: {source}", file.display())]
    Resolve {
        /// The config file.
        file: PathBuf,
        /// The APK architecture name.
        arch: String,
        /// The resolver's explanation.
        source: Box<apk::ResolveError>,
    },
    /// A package file could not be read or verified.
    #[error("package `{package}`: {source}")]
    Package {
        /// `name-version` of the package.
        package: String,
        /// The cause.
        source: Box<apk::PackageError>,
    },
    /// A package could not be fetched or verified.
    #[error("package `{package}`: {source}")]
    Fetch {
        /// `name-version` of the package.
        package: String,
        /// The cause.
        source: Box<apk::FetchError>,
    },
    /// Two packages install the same path and neither replaces the other.
    #[error(
        "file conflict at `/{path}`: installed by `{first}` and by `{second}`, and neither replaces the other\nhint: add `replaces` to one of the packages, or install only one of them"
    )]
    Conflict {
        /// The path in the image.
        path: String,
        /// The package installed first.
        first: String,
        /// The package installed second.
        second: String,
    },
    /// A lock file is invalid or does not match the repositories.
    #[error("lock file `{}`: {message}", file.display())]
    Lock {
        /// The lock file.
        file: PathBuf,
        /// Description of the problem.
        message: String,
    },
    /// A file of the image being built is malformed (such as a bad `/etc/passwd` line).
    #[error("image file `/{path}`: {message}")]
    ImageFile {
        /// The path in the image.
        path: String,
        /// Description of the problem.
        message: String,
    },
    /// Reading or writing a file failed.
    #[error("I/O on `{}` failed: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing the OCI layout failed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// `SOURCE_DATE_EPOCH` is invalid.
    #[error(transparent)]
    Epoch(#[from] super::time::EpochError),
}

impl BuildError {
    /// Creates a [`BuildError::Config`].
    pub fn config(file: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Self::Config {
            file: file.into(),
            message: message.into(),
        }
    }

    /// Returns a closure mapping an I/O error on `path` to [`BuildError::Io`].
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
