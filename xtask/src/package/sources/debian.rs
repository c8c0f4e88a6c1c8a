//! Debian's source archive as a place to find upstream tarballs: `apt-get source
//! --download-only PACKAGE=VERSION` fetches the package's files, and the one with the
//! expected checksum is kept. Debian's `.orig` tarballs are usually upstream's bytes.

use std::path::PathBuf;
use std::process::Command;

use super::{Attempt, Digest, SourceError, SourceStore};

/// A Debian source package at an exact version, written `nginx=1.22.1-9+deb12u9` in
/// recipes. The version is pinned because the archive may serve newer ones.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DebianSource {
    /// Source package name.
    pub package: String,
    /// Debian version, epoch included where the package has one (`1:1.2.13.dfsg-1`).
    pub version: String,
}

/// Error for a Debian source reference that is not `PACKAGE=VERSION`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid Debian source `{0}`: expected PACKAGE=VERSION, such as `nginx=1.22.1-9`")]
pub struct InvalidDebianSource(pub String);

impl DebianSource {
    /// Parses `PACKAGE=VERSION`.
    pub fn parse(text: &str) -> Result<Self, InvalidDebianSource> {
        let invalid = || InvalidDebianSource(text.to_string());
        let (package, version) = text.split_once('=').ok_or_else(invalid)?;
        let package_valid = !package.is_empty()
            && package
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.".contains(c));
        let version_valid = !version.is_empty()
            && version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || ".+-~:".contains(c));
        if !package_valid || !version_valid {
            return Err(invalid());
        }
        Ok(DebianSource {
            package: package.to_string(),
            version: version.to_string(),
        })
    }

    /// Downloads the package's files into a temporary folder and stores the one with
    /// `digest`. Failures become attempts, so that the caller can list every place.
    pub fn find(
        &self,
        store: &SourceStore,
        digest: &Digest,
        attempts: &mut Vec<Attempt>,
    ) -> Result<Option<PathBuf>, SourceError> {
        let place = format!("apt-get source --download-only {self}");
        let dir = store.temporary_dir()?;
        // apt-get fails as a whole when one file of the source package is missing
        // from the archive, but keeps the files it did download. Those are checked
        // too: the checksum decides, not apt-get's exit status.
        let downloaded = self.download_into(dir.path());
        let files = list_files(dir.path());
        let outcome = match self.store_matching(store, digest, files)? {
            Ok(path) => Ok(path),
            Err(mismatch) => Err(match downloaded {
                Ok(()) => mismatch,
                Err(failure) => failure,
            }),
        };
        match outcome {
            Ok(path) => Ok(Some(path)),
            Err(outcome) => {
                attempts.push(Attempt { place, outcome });
                Ok(None)
            }
        }
    }

    fn download_into(&self, dir: &std::path::Path) -> Result<(), String> {
        let output = Command::new("apt-get")
            .args(["source", "--download-only", "--quiet", "--quiet"])
            .arg(self.to_string())
            .current_dir(dir)
            .output()
            .map_err(|error| format!("cannot run apt-get: {error} (is this a Debian system?)"))?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let mut message = format!("apt-get failed ({}): {}", output.status, last_line(&stderr));
        if stderr.contains("deb-src") {
            message.push_str(
                "; hint: add `deb-src` entries (bash .ci/setup does) and run `apt-get update`",
            );
        }
        Err(message)
    }

    fn store_matching(
        &self,
        store: &SourceStore,
        digest: &Digest,
        files: Vec<PathBuf>,
    ) -> Result<Result<PathBuf, String>, SourceError> {
        let mut names = Vec::new();
        for file in files {
            if let Ok(stored) = store.insert_copy(&file, digest)? {
                tracing::info!(package = %self, file = %file.display(), "source found in Debian's archive");
                return Ok(Ok(stored));
            }
            if let Some(name) = file.file_name() {
                names.push(name.to_string_lossy().into_owned());
            }
        }
        Ok(Err(format!(
            "no downloaded file has checksum {digest} (got: {})",
            names.join(", ")
        )))
    }
}

impl std::fmt::Display for DebianSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}={}", self.package, self.version)
    }
}

fn list_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs_err::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|path| path.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn last_line(text: &str) -> &str {
    text.lines()
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("no message")
}
