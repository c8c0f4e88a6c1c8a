//! A content-addressed cache of indexes and packages, safe to share between concurrent
//! builds.
//!
//! Layout under the cache root:
//! - `packages/<hex SHA-1 of the control stream>.apk`: keyed by the index `C:` checksum.
//! - `indexes/<hex SHA-256 of the file>.tar.gz`: every index version ever fetched.
//! - `index-refs/<hex SHA-256 of the URL>`: the content hash of the latest index of a URL.
//!
//! Every file is written to a temporary file in its final folder, checked, then renamed
//! into place. A rename within one folder is atomic on POSIX file systems, so readers see
//! either no file or a complete one, and two builds storing the same content both succeed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

use crate::checksum::Checksum;

/// Errors from cache operations, with the path involved.
#[derive(Debug, thiserror::Error)]
#[error("cache file `{}`: {source}", path.display())]
pub struct CacheError {
    /// The file or folder.
    pub path: PathBuf,
    /// The I/O error.
    #[source]
    pub source: std::io::Error,
}

fn cache_error(path: &Path) -> impl FnOnce(std::io::Error) -> CacheError + '_ {
    move |source| CacheError {
        path: path.to_owned(),
        source,
    }
}

/// The cache folder.
#[derive(Debug, Clone)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    /// Opens a cache folder, creating it and its subfolders when missing.
    pub fn open(root: &Path) -> Result<Self, CacheError> {
        for sub in ["packages", "indexes", "index-refs"] {
            let dir = root.join(sub);
            fs_err::create_dir_all(&dir).map_err(cache_error(&dir))?;
        }
        Ok(Self { root: root.into() })
    }

    /// Returns the cache root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Returns where the package with this `C:` checksum is stored.
    pub fn package_path(&self, checksum: &Checksum) -> PathBuf {
        self.root
            .join("packages")
            .join(format!("{}.apk", checksum.to_hex()))
    }

    fn index_ref_path(&self, url: &str) -> PathBuf {
        self.root
            .join("index-refs")
            .join(hex::encode(Sha256::digest(url.as_bytes())))
    }

    /// Returns the cached index file of `url`, if one was stored.
    pub fn index_for(&self, url: &str) -> Result<Option<PathBuf>, CacheError> {
        let reference = self.index_ref_path(url);
        let hash = match fs_err::read_to_string(&reference) {
            Ok(hash) => hash,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(cache_error(&reference)(e)),
        };
        let hash = hash.trim();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            tracing::warn!(path = %reference.display(), "ignoring a corrupt index reference");
            return Ok(None);
        }
        let path = self.root.join("indexes").join(format!("{hash}.tar.gz"));
        Ok(path.is_file().then_some(path))
    }

    /// Stores verified index bytes for `url` and returns the stored file.
    pub fn store_index(&self, url: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let hash = hex::encode(Sha256::digest(bytes));
        let path = self.root.join("indexes").join(format!("{hash}.tar.gz"));
        write_atomic(&path, bytes)?;
        write_atomic(&self.index_ref_path(url), hash.as_bytes())?;
        Ok(path)
    }

    /// Returns where the key downloaded from `url` is kept: a folder per URL, holding
    /// the file under its own name, because signatures name keys by file name.
    pub fn key_path(&self, url: &str, name: &str) -> PathBuf {
        self.root
            .join("keys")
            .join(hex::encode(Sha256::digest(url.as_bytes())))
            .join(name)
    }

    /// Stores checked key bytes downloaded from `url` under `name`.
    pub fn store_key(&self, url: &str, name: &str, bytes: &[u8]) -> Result<PathBuf, CacheError> {
        let path = self.key_path(url, name);
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir).map_err(cache_error(dir))?;
        }
        write_atomic(&path, bytes)?;
        Ok(path)
    }

    /// Writes a new file next to `path` with `write`, checks it with `check`, and only
    /// then renames it to `path`. On any error the temporary file is removed.
    pub fn store_checked<W, C, E>(&self, path: &Path, write: W, check: C) -> Result<(), E>
    where
        W: FnOnce(&mut std::fs::File) -> Result<(), E>,
        C: FnOnce(&Path) -> Result<(), E>,
        E: From<CacheError>,
    {
        let dir = path.parent().unwrap_or(&self.root);
        let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(cache_error(dir))?;
        write(temp.as_file_mut())?;
        temp.as_file()
            .sync_all()
            .map_err(cache_error(temp.path()))?;
        check(temp.path())?;
        temp.persist(path).map_err(|e| cache_error(path)(e.error))?;
        Ok(())
    }
}

/// Writes `bytes` to a temporary file next to `path` and renames it into place.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), CacheError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::NamedTempFile::new_in(dir).map_err(cache_error(dir))?;
    temp.write_all(bytes).map_err(cache_error(temp.path()))?;
    temp.as_file()
        .sync_all()
        .map_err(cache_error(temp.path()))?;
    temp.persist(path).map_err(|e| cache_error(path)(e.error))?;
    Ok(())
}
