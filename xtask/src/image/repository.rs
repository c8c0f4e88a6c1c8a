//! Package sources of a build: repositories and keys named in a config, read from local
//! folders laid out as apk repositories (`<repo>/<arch>/APKINDEX.tar.gz` next to the
//! `.apk` files). Indexes and packages are read once, verified, and shared between
//! architectures and images through [`PackageStore`].
//!
//! TODO: remote (`https://`) repositories and keys need the fetch and cache layer of the
//! apk crate, which does not exist yet; until then they are rejected with an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use apk::{IndexFile, Keyring, Package, PackageInfo, Verification};
use sha2::{Digest as _, Sha256};

use super::error::BuildError;

/// One `repositories` entry of a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySource {
    /// The entry as written (`@local ./packages`), for `/etc/apk/repositories`.
    pub written: String,
    /// The `@tag` of a pinned repository.
    pub tag: Option<String>,
    /// The repository folder, absolute.
    pub dir: PathBuf,
}

impl RepositorySource {
    /// Parses an entry (`path` or `@tag path`), resolving a relative path against
    /// `base_dir` as apko resolves it against its working directory.
    pub fn parse(entry: &str, base_dir: &Path, file: &Path) -> Result<Self, BuildError> {
        let entry = entry.trim();
        let (tag, location) = match entry.strip_prefix('@') {
            Some(rest) => match rest.split_once(char::is_whitespace) {
                Some((tag, location)) => (Some(tag.to_owned()), location.trim()),
                None => {
                    return Err(BuildError::config(
                        file,
                        format!("repository `{entry}` has a tag but no location"),
                    ));
                }
            },
            None => (None, entry),
        };
        let dir = local_path(location, base_dir, file, "repository")?;
        Ok(Self {
            written: entry.to_owned(),
            tag,
            dir,
        })
    }

    /// Returns the index file for an APK architecture.
    pub fn index_path(&self, apk_arch: &str) -> PathBuf {
        self.dir.join(apk_arch).join("APKINDEX.tar.gz")
    }

    /// Returns the package file for an index entry.
    pub fn package_path(&self, apk_arch: &str, info: &PackageInfo) -> PathBuf {
        self.dir.join(apk_arch).join(info.file_name())
    }
}

/// Resolves a local path from a config; rejects URLs, which need the fetch layer.
fn local_path(
    location: &str,
    base_dir: &Path,
    file: &Path,
    what: &str,
) -> Result<PathBuf, BuildError> {
    if location.contains("://") {
        return Err(BuildError::config(
            file,
            format!(
                "{what} `{location}` is remote; only local folders are supported until the package fetch layer lands\nhint: mirror it to a local folder and name that folder"
            ),
        ));
    }
    Ok(base_dir.join(location))
}

/// A public key named in a config, with the file bytes copied into `/etc/apk/keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFile {
    /// The file name, which is also the key name in signatures.
    pub name: String,
    /// The PEM file content.
    pub pem: Vec<u8>,
}

/// Loads every `keyring` entry of a config.
pub fn load_keyring(
    entries: &[String],
    base_dir: &Path,
    file: &Path,
) -> Result<(Keyring, Vec<KeyFile>), BuildError> {
    let mut keyring = Keyring::new();
    let mut files = Vec::new();
    for entry in entries {
        let path = local_path(entry, base_dir, file, "key")?;
        let key_error = |source| BuildError::Key {
            file: file.to_path_buf(),
            value: entry.clone(),
            source,
        };
        keyring.load_file(&path).map_err(key_error)?;
        let pem = fs_err::read(&path).map_err(BuildError::io(&path))?;
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        files.push(KeyFile { name, pem });
    }
    Ok((keyring, files))
}

type Shared<T> = Mutex<HashMap<PathBuf, Arc<T>>>;

/// A package file read and verified, with the digest of the whole file for SBOMs and
/// lock files.
#[derive(Debug)]
pub struct StoredPackage {
    /// The parsed package.
    pub package: Package,
    /// Hex SHA-256 of the `.apk` file.
    pub sha256: String,
}

/// Indexes and packages read so far, shared by every build of a run. Each is read and
/// verified once; a second build of the same file gets the same `Arc`.
#[derive(Default)]
pub struct PackageStore {
    indexes: Shared<IndexFile>,
    packages: Shared<StoredPackage>,
}

impl PackageStore {
    /// Creates an empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads and verifies the index at `path` with `keyring`.
    pub fn index(&self, path: &Path, keyring: &Keyring) -> Result<Arc<IndexFile>, apk::IndexError> {
        if let Some(index) = lookup(&self.indexes, path) {
            return Ok(index);
        }
        // NOTE: a cached index was verified with the keyring of the build that read it
        // first; builds in one run that trust different keys for one folder share it.
        let index = Arc::new(apk::read_index_file(path, Verification::Keyring(keyring))?);
        Ok(store(&self.indexes, path, index))
    }

    /// Reads the package at `path` and checks it against the index entry `info`.
    pub fn package(
        &self,
        path: &Path,
        info: &PackageInfo,
    ) -> Result<Arc<StoredPackage>, BuildError> {
        if let Some(package) = lookup(&self.packages, path) {
            return Ok(package);
        }
        let error = |source| BuildError::Package {
            package: info.name_version(),
            source: Box::new(source),
        };
        let length = fs_err::metadata(path).map_err(BuildError::io(path))?.len();
        if length > apk::limits::MAX_PACKAGE_FILE_BYTES {
            return Err(BuildError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::other(format!(
                    "the package is larger than {} bytes",
                    apk::limits::MAX_PACKAGE_FILE_BYTES
                )),
            });
        }
        let bytes = fs_err::read(path).map_err(BuildError::io(path))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let package = Package::from_bytes(&path.display().to_string(), bytes).map_err(error)?;
        if let Some(expected) = &info.checksum {
            package.verify_index_checksum(expected).map_err(error)?;
        }
        tracing::debug!(package = %info.name_version(), path = %path.display(), "read package");
        let stored = Arc::new(StoredPackage { package, sha256 });
        Ok(store(&self.packages, path, stored))
    }
}

fn lookup<T>(map: &Shared<T>, path: &Path) -> Option<Arc<T>> {
    map.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(path)
        .cloned()
}

fn store<T>(map: &Shared<T>, path: &Path, value: Arc<T>) -> Arc<T> {
    map.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(path.to_path_buf())
        .or_insert(value)
        .clone()
}
