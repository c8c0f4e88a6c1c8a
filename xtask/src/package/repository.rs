//! The local APK repository `out/packages/<arch>/`: package files written atomically
//! and the signed `APKINDEX.tar.gz` rebuilt from the packages present.

use std::path::{Path, PathBuf};

use apk::index::Index;
use apk::{Package, PrivateKey, SignatureAlgorithm};

use super::target::TargetArch;

/// `DESCRIPTION` of the index.
const DESCRIPTION: &str = "packages built by cargo xtask package";

/// Errors from writing the repository.
#[derive(Debug, thiserror::Error)]
pub enum RepositoryError {
    /// A file could not be written or read.
    #[error("failed to write `{}`", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A package in the repository folder is invalid.
    #[error("invalid package in the repository")]
    Package(#[from] apk::PackageError),
    /// The index could not be written.
    #[error("failed to write the index `{}`: {message}", path.display())]
    Index {
        /// The index file.
        path: PathBuf,
        /// The writer's error.
        message: String,
    },
}

/// Returns the repository folder for one architecture: `<out>/<arch>/`.
pub fn arch_dir(repository: &Path, arch: TargetArch) -> PathBuf {
    repository.join(arch.apk_name())
}

/// Writes `bytes` to `path` through a temporary file in the same folder, so that a
/// reader never sees a partial file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), RepositoryError> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let io_error = |source| RepositoryError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir).map_err(io_error)?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir).map_err(io_error)?;
    // Temporary files are created 0600; repository files are for every reader.
    temporary
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))
        .map_err(io_error)?;
    temporary.write_all(bytes).map_err(io_error)?;
    temporary
        .persist(path)
        .map_err(|error| io_error(error.error))?;
    Ok(())
}

/// Rebuilds `APKINDEX.tar.gz` in `dir` from every `.apk` there, signed with `key`
/// (RSA/SHA-256). Returns the number of packages indexed.
pub fn write_index(dir: &Path, key: &PrivateKey, mtime: u64) -> Result<usize, RepositoryError> {
    let mut files: Vec<PathBuf> = fs_err::read_dir(dir)
        .map_err(|source| RepositoryError::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "apk"))
        .collect();
    files.sort();
    let mut index = Index {
        description: DESCRIPTION.to_string(),
        packages: Vec::new(),
    };
    for file in &files {
        index.packages.push(Package::open(file)?.index_entry());
    }
    index.sort();
    let path = dir.join("APKINDEX.tar.gz");
    let bytes = apk::write_index(&index, Some((key, SignatureAlgorithm::RsaSha256)), mtime)
        .map_err(|error| RepositoryError::Index {
            path: path.clone(),
            message: error.to_string(),
        })?;
    write_atomic(&path, &bytes)?;
    Ok(index.packages.len())
}
