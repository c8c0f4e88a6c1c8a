//! The Alpine package (apk) format: versions, dependencies, indexes, packages, signatures,
//! the installed database and a resolver. The crate has no notion of images, so that both
//! the image builder and the package builder can use it.
//!
//! A typical image build:
//!
//! 1. [`Fetcher::fetch_repositories`] reads and verifies each repository's index
//!    (through the [`Cache`] for remote repositories).
//! 2. [`Universe::new`] indexes those packages for one architecture, and [`resolve`]
//!    turns the world into packages in install order ([`resolver::check_arch_versions`]
//!    compares the results of several architectures).
//! 3. [`Fetcher::fetch_resolution`] downloads and verifies every package.
//! 4. [`Package::for_each_entry`] streams each package's files into a layer, and
//!    [`InstalledPackage::add_entry`] records them for [`write_installed_db`].
//!
//! Repository tooling uses [`PackageBuilder`], [`write_index`] and
//! [`generate_key_pair`].

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
