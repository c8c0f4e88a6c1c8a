//! The Alpine package (apk) format: versions, dependencies, indexes, packages, signatures,
//! the installed database and a resolver. The crate knows nothing about images, so that
//! both the image builder and the package builder can use it.

pub mod cache;
pub mod checksum;
pub mod dependency;
pub mod fetch;
pub mod gzip;
pub mod index;
pub mod installed_db;
pub mod key;
pub mod limits;
pub mod package;
pub mod package_info;
pub mod resolver;
pub mod signature;
mod tar_write;
#[cfg(test)]
mod test_support;
pub mod version;

pub use cache::Cache;
pub use checksum::Checksum;
pub use dependency::{Constraint, Dependency, DependencyError, Provide, VersionOp};
pub use fetch::{FetchError, FetchedPackage, Fetcher, NetworkMode, RepositorySpec};
pub use index::{
    Index, IndexError, IndexFile, Verification, read_index, read_index_file, write_index,
};
pub use installed_db::{InstalledPackage, parse_installed_db, write_installed_db};
pub use key::{KeyPairPem, Keyring, PrivateKey, PublicKey, generate_key_pair};
pub use package::{
    DataEntry, EntryKind, EntryOptions, Package, PackageBuilder, PackageError, PackageFile,
};
pub use package_info::PackageInfo;
pub use resolver::{Repository, Resolution, ResolveError, Universe, resolve};
pub use signature::{Signature, SignatureAlgorithm};
pub use version::{Version, VersionError};
