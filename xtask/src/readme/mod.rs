//! Generated README sections: the release-status table between markers in the root
//! `README.md`, and the header of each `images/<name>/README.md`. Both are rendered
//! from the catalog and the release records; `--github` first stores the outcomes of
//! the latest release workflow run in the records.

mod check;
mod error;
pub mod github;
mod input;
mod markers;
mod plan;
mod render;
mod status;

pub use check::{fix_command, stale_diffs, write_files};
pub use error::ReadmeError;
pub use input::{ImageInput, TableInput, VariantInput};
pub use markers::{HEADER_MARKERS, MarkerError, Markers, TABLE_MARKERS};
pub use plan::{GeneratedFile, generate};
pub use render::Renderer;
pub use status::ReleaseState;
