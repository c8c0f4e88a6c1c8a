//! Fetching indexes and packages from repositories: local folders, `file://` URLs and
//! `http://` or `https://` URLs (rustls, no OpenSSL), through the [`Cache`].
//!
//! A repository is laid out as on Alpine mirrors: `<base>/<arch>/APKINDEX.tar.gz` and
//! `<base>/<arch>/<name>-<version>.apk`. Every index is verified against the keyring
//! before use unless its repository is marked trusted-unsigned, and every package is
//! checked against the `C:` checksum of its index entry and its own signature.
//! Plain `http://` is accepted because the signature and checksums protect the content,
//! as with apk-tools and Alpine's HTTP mirrors.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::cache::{Cache, CacheError};
use crate::index::{IndexError, IndexFile, Verification, read_index, read_index_file};
use crate::key::Keyring;
use crate::limits::{MAX_INDEX_FILE_BYTES, MAX_KEY_FILE_BYTES, MAX_PACKAGE_FILE_BYTES};
use crate::package::{Package, PackageError};
use crate::package_info::PackageInfo;
use crate::resolver::{Repository, Resolution};

/// Timeout for one whole HTTP request. Large packages on slow links need minutes.
const HTTP_TIMEOUT: Duration = Duration::from_secs(600);

/// Time to open a connection, and to receive the response head once the request is
/// sent, so that a server that accepts and then stalls fails fast instead of holding
/// a build for the whole download time limit.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(60);

/// Errors from fetching.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// A local file could not be read.
    #[error("failed to read `{}`: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// A download failed.
    #[error("failed to download `{url}`: {message}")]
    Http {
        /// The URL.
        url: String,
        /// The HTTP client error.
        message: String,
    },
    /// A key URL is not `https://` or names no file.
    #[error("invalid key URL `{url}`: keys are fetched only over https:// and must name a file")]
    InvalidKeyUrl {
        /// The URL as given.
        url: String,
    },
    /// The repository URL has an unsupported scheme.
    #[error("invalid repository `{url}`: use a folder, file://, http:// or https://")]
    InvalidUrl {
        /// The repository as given.
        url: String,
    },
    /// An index is invalid or fails verification.
    #[error(transparent)]
    Index(#[from] IndexError),
    /// A package is invalid or fails verification.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// The index entry has no `C:` checksum, so the package cannot be verified.
    #[error("index entry `{package}` in `{repository}` has no checksum (`C:`)")]
    MissingChecksum {
        /// `name-version`.
        package: String,
        /// The repository.
        repository: String,
    },
    /// The index names a package file that would leave the repository folder.
    #[error(
        "invalid package name `{name}` in `{repository}`: names may not contain `/` or start with `.`"
    )]
    InvalidName {
        /// The package name.
        name: String,
        /// The repository.
        repository: String,
    },
    /// Offline mode and some files are not cached.
    #[error(
        "offline, and these files are not in the cache `{}`:\n  {}\nhint: run once without --offline to fill the cache",
        cache.display(),
        missing.join("\n  ")
    )]
    Offline {
        /// The cache folder.
        cache: PathBuf,
        /// URLs of the missing files.
        missing: Vec<String>,
    },
}

/// A repository as configured: a base location, an optional `@tag`, and trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositorySpec {
    /// A folder path, or a `file://`, `http://` or `https://` base URL.
    pub url: String,
    /// The `@tag` of a pinned repository.
    pub tag: Option<String>,
    /// Accept the index without a valid signature. Only for local repositories the
    /// caller built itself.
    pub trusted_unsigned: bool,
}

impl RepositorySpec {
    /// Parses a line of an apk repositories file: `[@tag ]url`.
    pub fn parse(line: &str) -> Self {
        let line = line.trim();
        let (tag, url) = match line
            .strip_prefix('@')
            .and_then(|rest| rest.split_once(char::is_whitespace))
        {
            Some((tag, url)) => (Some(tag.to_owned()), url.trim()),
            None => (None, line),
        };
        Self {
            url: url.to_owned(),
            tag,
            trusted_unsigned: false,
        }
    }

    /// Returns the location of the index for `arch`: a URL, or a path for a folder.
    pub fn index_url(&self, arch: &str) -> String {
        format!("{}/{arch}/APKINDEX.tar.gz", self.url.trim_end_matches('/'))
    }

    /// Returns the location of a package of this repository, as written in lock files.
    pub fn package_url(&self, arch: &str, info: &PackageInfo) -> String {
        format!(
            "{}/{arch}/{}",
            self.url.trim_end_matches('/'),
            info.file_name()
        )
    }

    fn location(&self) -> Result<Location, FetchError> {
        if let Some(path) = self.url.strip_prefix("file://") {
            return Ok(Location::Local(PathBuf::from(path)));
        }
        if self.url.starts_with("https://") || self.url.starts_with("http://") {
            return Ok(Location::Remote(self.url.trim_end_matches('/').to_owned()));
        }
        if self.url.contains("://") {
            return Err(FetchError::InvalidUrl {
                url: self.url.clone(),
            });
        }
        Ok(Location::Local(PathBuf::from(&self.url)))
    }
}

enum Location {
    Local(PathBuf),
    Remote(String),
}

/// Whether the network may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetworkMode {
    /// Download what is needed and refresh indexes.
    Online,
    /// Use only local repositories and the cache.
    Offline,
}

/// A verified package file ready to install.
#[derive(Debug, Clone)]
pub struct FetchedPackage {
    /// The verified file (in the repository folder or the cache).
    pub path: PathBuf,
    /// The index entry.
    pub info: PackageInfo,
}

/// Fetches and verifies indexes and packages.
#[derive(Debug)]
pub struct Fetcher {
    cache: Cache,
    keyring: Keyring,
    mode: NetworkMode,
    agent: ureq::Agent,
}

/// The outcome of one fetch when offline misses are collected rather than returned.
enum Fetched<T> {
    Found(T),
    NotCached(String),
}

impl Fetcher {
    /// Creates a fetcher using `cache` and trusting `keyring`.
    pub fn new(cache: Cache, keyring: Keyring, mode: NetworkMode) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(HTTP_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_recv_response(Some(RESPONSE_TIMEOUT))
            .build()
            .new_agent();
        Self {
            cache,
            keyring,
            mode,
            agent,
        }
    }

    fn verification<'a>(&'a self, spec: &RepositorySpec) -> Verification<'a> {
        if spec.trusted_unsigned {
            Verification::TrustedUnsigned
        } else {
            Verification::Keyring(&self.keyring)
        }
    }

    /// Fetches and verifies the index of each repository for `arch`, in order. Offline,
    /// every index missing from the cache is listed in one error.
    pub fn fetch_repositories(
        &self,
        specs: &[RepositorySpec],
        arch: &str,
    ) -> Result<Vec<Repository>, FetchError> {
        let mut repositories = Vec::new();
        let mut missing = Vec::new();
        for spec in specs {
            match self.index(spec, arch)? {
                Fetched::Found(file) => repositories.push(Repository {
                    name: spec.url.clone(),
                    tag: spec.tag.clone(),
                    packages: file.index.packages,
                }),
                Fetched::NotCached(url) => missing.push(url),
            }
        }
        self.offline_result(missing)?;
        Ok(repositories)
    }

    /// Fetches and verifies one index.
    pub fn fetch_index(&self, spec: &RepositorySpec, arch: &str) -> Result<IndexFile, FetchError> {
        match self.index(spec, arch)? {
            Fetched::Found(file) => Ok(file),
            Fetched::NotCached(url) => Err(self.offline_error(vec![url])),
        }
    }

    fn index(&self, spec: &RepositorySpec, arch: &str) -> Result<Fetched<IndexFile>, FetchError> {
        let verification = self.verification(spec);
        match spec.location()? {
            Location::Local(dir) => {
                let path = dir.join(arch).join("APKINDEX.tar.gz");
                Ok(Fetched::Found(read_index_file(&path, verification)?))
            }
            Location::Remote(base) => {
                let url = format!("{base}/{arch}/APKINDEX.tar.gz");
                if self.mode == NetworkMode::Offline {
                    return match self.cache.index_for(&url)? {
                        Some(path) => {
                            let bytes = read_file(&path)?;
                            Ok(Fetched::Found(read_index(&url, &bytes, verification)?))
                        }
                        None => Ok(Fetched::NotCached(url)),
                    };
                }
                let bytes = self.download(&url, MAX_INDEX_FILE_BYTES)?;
                let file = read_index(&url, &bytes, verification)?;
                self.cache.store_index(&url, &bytes)?;
                tracing::info!(url, packages = file.index.packages.len(), "fetched index");
                Ok(Fetched::Found(file))
            }
        }
    }

    /// Fetches and verifies every package of a resolution. `specs` and `arch` must be
    /// the ones the resolution's repositories came from. Offline, every package missing
    /// from the cache is listed in one error.
    pub fn fetch_resolution(
        &self,
        specs: &[RepositorySpec],
        arch: &str,
        resolution: &Resolution,
    ) -> Result<Vec<FetchedPackage>, FetchError> {
        let mut fetched = Vec::new();
        let mut missing = Vec::new();
        for package in &resolution.packages {
            let Some(spec) = specs.get(package.repository) else {
                return Err(FetchError::InvalidUrl {
                    url: format!("repository #{}", package.repository),
                });
            };
            match self.package(spec, arch, &package.info)? {
                Fetched::Found(path) => fetched.push(FetchedPackage {
                    path,
                    info: package.info.clone(),
                }),
                Fetched::NotCached(url) => missing.push(url),
            }
        }
        self.offline_result(missing)?;
        Ok(fetched)
    }

    /// Fetches and verifies one package and returns the path of the verified file.
    pub fn fetch_package(
        &self,
        spec: &RepositorySpec,
        arch: &str,
        info: &PackageInfo,
    ) -> Result<PathBuf, FetchError> {
        match self.package(spec, arch, info)? {
            Fetched::Found(path) => Ok(path),
            Fetched::NotCached(url) => Err(self.offline_error(vec![url])),
        }
    }

    fn package(
        &self,
        spec: &RepositorySpec,
        arch: &str,
        info: &PackageInfo,
    ) -> Result<Fetched<PathBuf>, FetchError> {
        if info.name.contains('/') || info.name.starts_with('.') {
            return Err(FetchError::InvalidName {
                name: info.name.clone(),
                repository: spec.url.clone(),
            });
        }
        let checksum = info.checksum.ok_or_else(|| FetchError::MissingChecksum {
            package: info.name_version(),
            repository: spec.url.clone(),
        })?;
        // Packages of `noarch` live in the folder of the architecture being installed.
        let file_name = info.file_name();
        match spec.location()? {
            Location::Local(dir) => {
                let path = dir.join(arch).join(&file_name);
                self.verify_package(spec, &path, &checksum)?;
                Ok(Fetched::Found(path))
            }
            Location::Remote(base) => {
                let url = format!("{base}/{arch}/{file_name}");
                let path = self.cache.package_path(&checksum);
                if path.is_file() {
                    match self.verify_package(spec, &path, &checksum) {
                        Ok(()) => {
                            tracing::debug!(url, "package found in cache");
                            return Ok(Fetched::Found(path));
                        }
                        Err(error) => {
                            tracing::warn!(%error, "cached package failed verification");
                        }
                    }
                }
                if self.mode == NetworkMode::Offline {
                    return Ok(Fetched::NotCached(url));
                }
                self.cache.store_checked(
                    &path,
                    |file| self.download_to(&url, MAX_PACKAGE_FILE_BYTES, file),
                    |temp| self.verify_package(spec, temp, &checksum),
                )?;
                tracing::info!(url, "fetched package");
                Ok(Fetched::Found(path))
            }
        }
    }

    fn verify_package(
        &self,
        spec: &RepositorySpec,
        path: &Path,
        checksum: &crate::checksum::Checksum,
    ) -> Result<(), FetchError> {
        let package = Package::open(path)?;
        package.verify_index_checksum(checksum)?;
        if !spec.trusted_unsigned {
            package.verify_signature(&self.keyring)?;
        }
        Ok(())
    }

    /// Returns a local copy of the public key at `url`, downloading it on first use.
    ///
    /// Only `https://` is accepted: a key is a trust anchor, and over plain HTTP anyone
    /// on the path could swap it. A downloaded key is kept only when it parses as an
    /// RSA public key. Offline, a key missing from the cache is an error.
    pub fn fetch_key(&self, url: &str) -> Result<PathBuf, FetchError> {
        let invalid = || FetchError::InvalidKeyUrl {
            url: url.to_owned(),
        };
        let Some(rest) = url.strip_prefix("https://") else {
            return Err(invalid());
        };
        let name = rest.rsplit('/').next().unwrap_or_default();
        if name.is_empty() || name == "." || name == ".." || !rest.contains('/') {
            return Err(invalid());
        }
        let path = self.cache.key_path(url, name);
        if path.is_file() {
            return Ok(path);
        }
        if self.mode == NetworkMode::Offline {
            return Err(self.offline_error(vec![url.to_owned()]));
        }
        let bytes = self.download(url, MAX_KEY_FILE_BYTES)?;
        let pem = String::from_utf8_lossy(&bytes);
        crate::PublicKey::from_pem(name, &pem).map_err(|_| FetchError::Http {
            url: url.to_owned(),
            message: "the file is not a PEM RSA public key".to_owned(),
        })?;
        let path = self.cache.store_key(url, name, &bytes)?;
        tracing::info!(url, "fetched key");
        Ok(path)
    }

    /// Downloads `url` into memory, failing beyond `limit` bytes.
    fn download(&self, url: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let mut bytes = Vec::new();
        self.download_to(url, limit, &mut bytes)?;
        Ok(bytes)
    }

    /// Streams `url` into `out`, failing beyond `limit` bytes.
    fn download_to(
        &self,
        url: &str,
        limit: u64,
        out: &mut dyn std::io::Write,
    ) -> Result<(), FetchError> {
        let http_error = |message: String| FetchError::Http {
            url: url.to_owned(),
            message,
        };
        tracing::debug!(url, "downloading");
        let mut response = self
            .agent
            .get(url)
            .call()
            .map_err(|e| http_error(e.to_string()))?;
        let mut reader = response.body_mut().with_config().limit(limit).reader();
        std::io::copy(&mut reader, out).map_err(|e| http_error(e.to_string()))?;
        Ok(())
    }

    fn offline_result(&self, missing: Vec<String>) -> Result<(), FetchError> {
        if missing.is_empty() {
            return Ok(());
        }
        Err(self.offline_error(missing))
    }

    fn offline_error(&self, missing: Vec<String>) -> FetchError {
        FetchError::Offline {
            cache: self.cache.root().to_owned(),
            missing,
        }
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, FetchError> {
    fs_err::read(path).map_err(|source| FetchError::Io {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests;
