//! Progress events of a build. The image code only emits them; the command line decides
//! whether they become progress bars or log lines.

use std::fmt;

use crate::catalog::Arch;

/// A step of building one architecture of one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading indexes and resolving the packages.
    Resolving,
    /// Reading and verifying package files.
    Fetching,
    /// Installing packages and writing generated files into the tree.
    Assembling,
    /// Writing and compressing the layer.
    Compressing,
    /// Writing the config, manifest and SBOM.
    Writing,
    /// The architecture is built.
    Done,
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Stage::Resolving => "resolving",
            Stage::Fetching => "fetching",
            Stage::Assembling => "assembling",
            Stage::Compressing => "compressing",
            Stage::Writing => "writing",
            Stage::Done => "done",
        })
    }
}

/// Receives progress events; called from several threads at once.
pub trait Reporter: Sync {
    /// Reports that `image` (`name:variant`) on `arch` entered `stage`.
    fn stage(&self, image: &str, arch: Arch, stage: Stage);
}

/// A reporter that drops every event.
pub struct NoProgress;

impl Reporter for NoProgress {
    fn stage(&self, _image: &str, _arch: Arch, _stage: Stage) {}
}
