//! The Alpine package (apk) format: versions, dependencies, indexes, packages, signatures,
//! the installed database and a resolver. The crate knows nothing about images, so that
//! both the image builder and the package builder can use it.

pub mod dependency;
pub mod version;

pub use dependency::{Constraint, Dependency, DependencyError, Provide, VersionOp};
pub use version::{Version, VersionError};
