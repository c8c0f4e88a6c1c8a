//! The package builder: melange-format recipes in `packages/` built into signed APK
//! packages and a signed repository index under `out/packages/<arch>/`.
//!
//! A recipe is interpreted for an architecture ([`plan`]), its sources are found and
//! verified ([`sources`]), its steps run in a bubblewrap sandbox with the host
//! toolchain ([`runner`]), and each output folder becomes a package ([`output`]).

pub mod condition;
pub mod pipelines;
pub mod plan;
pub mod sources;
pub mod substitute;
pub mod target;

pub use target::TargetArch;
