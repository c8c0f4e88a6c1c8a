//! Package sources of a build: repositories and keys named in a config. Indexes and
//! packages come through the apk crate's [`Fetcher`], which reads local folders and
//! `file://` URLs directly and `http(s)://` URLs through its content-addressed cache, and
//! verifies them. The [`PackageStore`] keeps what one run has read, so architectures and
//! images share it.
//!
//! Keys named by `https://` URL are downloaded once into the cache
//! ([`Fetcher::fetch_key`]).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use apk::fetch::RepositorySpec;
use apk::{Cache, FetchError, Fetcher, IndexFile, Keyring, NetworkMode, Package, PackageInfo};
use sha2::{Digest as _, Sha256};

use super::error::BuildError;

/// One `repositories` entry of a config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySource {
    /// The entry as written (`@local ./packages`), for `/etc/apk/repositories`.
    pub written: String,
    /// The `@tag` of a pinned repository.
    pub tag: Option<String>,
    /// The location to fetch from: a URL, or a local folder made absolute.
    pub spec: RepositorySpec,
}

impl RepositorySource {
    /// Parses an entry (`location` or `@tag location`), resolving a relative folder
    /// against `base_dir` as apko resolves it against its working directory.
    pub fn parse(entry: &str, base_dir: &Path, file: &Path) -> Result<Self, BuildError> {
        let entry = entry.trim();
        let mut spec = RepositorySpec::parse(entry);
        if entry.starts_with('@') && spec.tag.is_none() {
            return Err(BuildError::config(
                file,
                format!("repository `{entry}` has a tag but no location"),
            ));
        }
        if !spec.url.contains("://") {
            spec.url = base_dir.join(&spec.url).display().to_string();
        }
        Ok(Self {
            written: entry.to_owned(),
            tag: spec.tag.clone(),
            spec,
        })
    }
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
    store: &PackageStore,
) -> Result<(Keyring, Vec<KeyFile>), BuildError> {
    let mut keyring = Keyring::new();
    let mut files = Vec::new();
    for entry in entries {
        let path = if entry.contains("://") {
            store
                .fetcher(&Keyring::new())
                .fetch_key(entry)
                .map_err(|source| BuildError::config(file, format!("key `{entry}`: {source}")))?
        } else {
            base_dir.join(entry)
        };
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

/// A package file fetched and verified, with the digest of the whole file for SBOMs and
/// lock files.
#[derive(Debug)]
pub struct StoredPackage {
    /// The parsed package.
    pub package: Package,
    /// Hex SHA-256 of the `.apk` file.
    pub sha256: String,
}

type Shared<T> = Mutex<HashMap<String, Arc<T>>>;

/// The package cache of a run: the apk crate's cache on disk, plus indexes and packages
/// already read in this run, shared by every build.
pub struct PackageStore {
    cache: Cache,
    mode: NetworkMode,
    indexes: Shared<IndexFile>,
    packages: Shared<StoredPackage>,
}

impl PackageStore {
    /// Creates a store over an opened cache.
    pub fn new(cache: Cache, mode: NetworkMode) -> Self {
        Self {
            cache,
            mode,
            indexes: Mutex::default(),
            packages: Mutex::default(),
        }
    }

    /// Creates a fetcher that verifies with `keyring`.
    pub fn fetcher(&self, keyring: &Keyring) -> Fetcher {
        Fetcher::new(self.cache.clone(), keyring.clone(), self.mode)
    }

    /// Fetches and verifies a repository's index for an APK architecture.
    pub fn index(
        &self,
        fetcher: &Fetcher,
        spec: &RepositorySpec,
        arch: &str,
    ) -> Result<Arc<IndexFile>, FetchError> {
        // NOTE: an index is verified once per run, with the keyring of the first build
        // that reads it. Builds that trust different keys for one repository share it.
        let key = format!("{}\n{arch}", spec.url);
        if let Some(index) = lookup(&self.indexes, &key) {
            return Ok(index);
        }
        let index = Arc::new(fetcher.fetch_index(spec, arch)?);
        Ok(store(&self.indexes, key, index))
    }

    /// Fetches and verifies a package, then reads it.
    pub fn package(
        &self,
        fetcher: &Fetcher,
        spec: &RepositorySpec,
        arch: &str,
        info: &PackageInfo,
    ) -> Result<Arc<StoredPackage>, BuildError> {
        let fetch_error = |source| BuildError::Fetch {
            package: info.name_version(),
            source: Box::new(source),
        };
        let path = fetcher
            .fetch_package(spec, arch, info)
            .map_err(fetch_error)?;
        let key = path.display().to_string();
        if let Some(package) = lookup(&self.packages, &key) {
            return Ok(package);
        }
        // The fetcher checked this file but returns only its path, so it is read again
        // here for the package entries and the SHA-256 of the whole file.
        let bytes = fs_err::read(&path).map_err(BuildError::io(&path))?;
        let sha256 = hex::encode(Sha256::digest(&bytes));
        let package = Package::from_bytes(&key, bytes).map_err(|source| BuildError::Package {
            package: info.name_version(),
            source: Box::new(source),
        })?;
        tracing::debug!(package = %info.name_version(), path = %path.display(), "read package");
        Ok(store(
            &self.packages,
            key,
            Arc::new(StoredPackage { package, sha256 }),
        ))
    }
}

fn lookup<T>(map: &Shared<T>, key: &str) -> Option<Arc<T>> {
    map.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(key)
        .cloned()
}

fn store<T>(map: &Shared<T>, key: String, value: Arc<T>) -> Arc<T> {
    map.lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(key)
        .or_insert(value)
        .clone()
}
