//! The content-addressed source cache: `<dir>/<algorithm>/<hex>`, written atomically
//! (temporary file, then rename) so that parallel builds can share it.

use std::path::{Path, PathBuf};

use tempfile::NamedTempFile;

use super::{Digest, SourceError};

/// The source cache folder.
#[derive(Debug, Clone)]
pub struct SourceStore {
    dir: PathBuf,
}

impl SourceStore {
    /// Creates a store in `dir`; folders are made on first write.
    pub fn new(dir: PathBuf) -> Self {
        SourceStore { dir }
    }

    /// Path a file with `digest` has in the store.
    pub fn path_of(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.algorithm.name()).join(&digest.hex)
    }

    /// Returns the stored file with `digest`, if present. Files are verified when they
    /// are stored, so a present file is trusted.
    pub fn lookup(&self, digest: &Digest) -> Option<PathBuf> {
        let path = self.path_of(digest);
        path.is_file().then_some(path)
    }

    /// Creates an empty temporary file inside the store, for a download.
    pub fn temporary_file(&self) -> Result<NamedTempFile, SourceError> {
        let dir = self.dir.join("tmp");
        fs_err::create_dir_all(&dir).map_err(|source| cache_error(&dir, source))?;
        NamedTempFile::new_in(&dir).map_err(|source| cache_error(&dir, source))
    }

    /// Creates an empty temporary folder inside the store, removed when dropped.
    pub fn temporary_dir(&self) -> Result<tempfile::TempDir, SourceError> {
        let dir = self.dir.join("tmp");
        fs_err::create_dir_all(&dir).map_err(|source| cache_error(&dir, source))?;
        tempfile::Builder::new()
            .prefix("debian-")
            .tempdir_in(&dir)
            .map_err(|source| cache_error(&dir, source))
    }

    /// Copies `path` into the store if it has `digest`. The inner error describes a
    /// mismatch, for the list of places tried.
    pub fn insert_copy(
        &self,
        path: &Path,
        digest: &Digest,
    ) -> Result<Result<PathBuf, String>, SourceError> {
        let temporary = self.temporary_file()?;
        fs_err::copy(path, temporary.path())
            .map_err(|source| cache_error(temporary.path(), source))?;
        self.insert_temporary(temporary, digest)
    }

    /// Moves a downloaded temporary file into the store if it has `digest`.
    pub fn insert_temporary(
        &self,
        temporary: NamedTempFile,
        digest: &Digest,
    ) -> Result<Result<PathBuf, String>, SourceError> {
        let verified = digest
            .verify_file(temporary.path())
            .map_err(|source| cache_error(temporary.path(), source))?;
        if let Err(actual) = verified {
            return Ok(Err(format!(
                "checksum mismatch: expected {digest}, got {actual}"
            )));
        }
        let target = self.path_of(digest);
        if let Some(parent) = target.parent() {
            fs_err::create_dir_all(parent).map_err(|source| cache_error(parent, source))?;
        }
        temporary
            .persist(&target)
            .map_err(|error| cache_error(&target, error.error))?;
        Ok(Ok(target))
    }
}

fn cache_error(path: &Path, source: std::io::Error) -> SourceError {
    SourceError::Cache {
        path: path.to_path_buf(),
        source,
    }
}
