//! Image assembly: from an apko config and APK repositories to a multi-architecture
//! OCI image layout with SBOMs and a lock file, reproducibly.
//!
//! For each architecture the packages are resolved and installed, in install order, into
//! an in-memory tree whose file contents are spooled to disk; apko's extra files (apk
//! database and configuration, base folders, accounts, `paths`, service bundles) are
//! added; and the tree is written as one gzip tar layer. Package install scripts are
//! stored in `scripts.tar` but never run, as apko does not run them either.
//!
//! Every output byte depends only on the config, the packages and the build time
//! (`SOURCE_DATE_EPOCH`, else the newest package build time): entries are sorted, ids
//! are numeric, and compression gives the same bytes for any thread count.

pub mod accounts;
pub mod apk_db;
mod arch_build;
pub mod compress;
pub mod error;
pub mod install;
pub mod layer;
pub mod lock;
pub mod oci_config;
pub mod paths;
pub mod progress;
pub mod repository;
pub mod resolve;
pub mod sbom;
pub mod tags;
pub mod time;
pub mod tree;
mod variant_build;

pub use error::BuildError;
pub use lock::Lock;
pub use progress::{NoProgress, Reporter, Stage};
pub use repository::PackageStore;
pub use variant_build::{
    BuildOutput, BuildRequest, INDEX_SBOM_FILE, LOCK_FILE, arch_sbom_file, build_variant,
};
