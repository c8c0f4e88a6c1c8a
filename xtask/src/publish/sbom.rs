//! The SPDX SBOMs `build` writes next to a layout: `sbom-<arch>.spdx.json` per platform
//! and `sbom-index.spdx.json` for the whole image. The architecture is looked up under
//! its APK name (`x86_64`) first, then its OCI name (`amd64`).

use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use crate::catalog::Arch;

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

/// Returns the SBOM path of a platform (`linux/arm64/v8` gives `sbom-aarch64.spdx.json`,
/// or `sbom-arm64.spdx.json` when only that file exists).
pub fn platform_sbom_path(dir: &Path, platform: &str) -> PathBuf {
    let oci_arch = platform.split('/').nth(1).unwrap_or(platform);
    let oci_path = dir.join(format!("sbom-{oci_arch}.spdx.json"));
    let Ok(arch) = Arch::from_str(oci_arch) else {
        return oci_path;
    };
    let apk_path = dir.join(format!("sbom-{}.spdx.json", arch.apk_name()));
    if apk_path.is_file() || !oci_path.is_file() {
        apk_path
    } else {
        oci_path
    }
}

/// Returns the SBOM path of the whole image.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platform_sbom_path_prefers_apk_name() {
        let dir = tempfile::tempdir().expect("temp dir");
        let apk = dir.path().join("sbom-aarch64.spdx.json");
        let oci = dir.path().join("sbom-arm64.spdx.json");
        assert_eq!(platform_sbom_path(dir.path(), "linux/arm64"), apk);

        std::fs::write(&oci, "{}").expect("write");
        assert_eq!(platform_sbom_path(dir.path(), "linux/arm64"), oci);

        std::fs::write(&apk, "{}").expect("write");
        assert_eq!(platform_sbom_path(dir.path(), "linux/arm64/v8"), apk);
    }
}
