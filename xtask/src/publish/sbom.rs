//! The SPDX SBOMs `build` writes next to a layout: `sbom-<arch>.spdx.json` per platform
//! and `sbom-index.spdx.json` for the whole image.

use std::path::{Path, PathBuf};

/// An SBOM file that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SbomError {
    #[error("failed to read SBOM `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid SBOM `{path}`: not JSON")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// SBOM path of a platform (`linux/arm64/v8` gives `sbom-arm64.spdx.json`).
pub fn platform_sbom_path(dir: &Path, platform: &str) -> PathBuf {
    let arch = platform.split('/').nth(1).unwrap_or(platform);
    dir.join(format!("sbom-{arch}.spdx.json"))
}

/// SBOM path of the whole image.
pub fn index_sbom_path(dir: &Path) -> PathBuf {
    dir.join("sbom-index.spdx.json")
}

/// Reads an SBOM; `None` when the file does not exist.
pub fn read_sbom(path: &Path) -> Result<Option<serde_json::Value>, SbomError> {
    let text = match std::fs::read(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(SbomError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|source| SbomError::Json {
            path: path.to_owned(),
            source,
        })
}
