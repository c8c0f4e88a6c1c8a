//! Lock files: the exact packages of each architecture of a variant, so that a later
//! build installs the same files even after the repositories moved on.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::error::BuildError;
use super::resolve::SelectedPackage;

/// Lock file format version written and accepted.
pub const LOCK_VERSION: u32 = 1;

/// A lock file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    /// Format version, [`LOCK_VERSION`].
    pub version: u32,
    /// Repositories as the config writes them.
    pub repositories: Vec<String>,
    /// Keyring entries as the config writes them.
    pub keyring: Vec<String>,
    /// Packages in install order, per APK architecture (`x86_64`).
    pub archs: BTreeMap<String, Vec<LockedPackage>>,
}

/// One locked package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LockedPackage {
    /// Package name.
    pub name: String,
    /// Full version (`1.36.1-r2`).
    pub version: String,
    /// The package's own architecture (`x86_64` or `noarch`).
    pub architecture: String,
    /// The repository as the config writes it.
    pub repository: String,
    /// Location of the package file: the repository, the architecture and the file name.
    pub url: String,
    /// The index checksum (`Q1` + base64 SHA-1 of the control stream).
    pub checksum: String,
    /// Hex SHA-256 of the whole `.apk` file.
    pub sha256: String,
}

impl Lock {
    /// Creates a lock with no packages.
    pub fn new(repositories: Vec<String>, keyring: Vec<String>) -> Self {
        Self {
            version: LOCK_VERSION,
            repositories,
            keyring,
            archs: BTreeMap::new(),
        }
    }

    /// Records the packages of one architecture.
    pub fn add_arch(&mut self, apk_arch: &str, packages: &[SelectedPackage]) {
        let locked = packages
            .iter()
            .map(|selected| {
                let repository = self
                    .repositories
                    .get(selected.repository)
                    .cloned()
                    .unwrap_or_default();
                LockedPackage {
                    name: selected.info.name.clone(),
                    version: selected.info.version.to_string(),
                    architecture: selected.info.arch.clone(),
                    url: format!(
                        "{}/{apk_arch}/{}",
                        repository.trim_end_matches('/'),
                        selected.info.file_name()
                    ),
                    repository,
                    checksum: selected.file.package.checksum().to_string(),
                    sha256: selected.file.sha256.clone(),
                }
            })
            .collect();
        self.archs.insert(apk_arch.to_owned(), locked);
    }

    /// Serializes the lock as pretty JSON with a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    /// Reads and checks a lock file.
    pub fn read(path: &Path) -> Result<Self, BuildError> {
        let bytes = fs_err::read(path).map_err(BuildError::io(path))?;
        let lock: Lock = serde_json::from_slice(&bytes).map_err(|error| BuildError::Lock {
            file: path.to_path_buf(),
            message: format!("invalid JSON: {error}"),
        })?;
        if lock.version != LOCK_VERSION {
            return Err(BuildError::Lock {
                file: path.to_path_buf(),
                message: format!(
                    "version {} is not supported; this tool reads version {LOCK_VERSION}",
                    lock.version
                ),
            });
        }
        Ok(lock)
    }
}
