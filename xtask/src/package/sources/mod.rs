//! Source files of recipes, content-addressed by their expected checksum and always
//! verified. Each one is looked up in order: the cache, the source mirror folder, the
//! upstream URL (unless offline) and Debian's source archive through
//! `apt-get source --download-only`. A source may list alternatives, each with its own
//! checksum (Debian repacks some tarballs), and every place is tried for each of them.

mod debian;
pub mod digest;
mod http;
mod store;

use std::fmt;
use std::path::{Path, PathBuf};

pub use debian::DebianSource;
pub use digest::{Algorithm, Digest};
pub use store::SourceStore;

/// One way to obtain a source file: a URL and/or a Debian source package, and the
/// checksum the file must have.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Candidate {
    /// Upstream URL (`https://`, `http://` or `file://`).
    pub uri: Option<String>,
    /// Checksum the file must have.
    pub digest: Digest,
    /// Debian source package whose files may include this one.
    pub debian: Option<DebianSource>,
}

impl Candidate {
    /// Returns the file name the source gets in the workspace: the URL's last segment, or the
    /// checksum when there is no URL.
    pub fn file_name(&self) -> String {
        self.uri
            .as_deref()
            .and_then(|uri| uri.rsplit('/').next())
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| self.digest.hex.clone())
    }
}

/// A source as a recipe's `fetch` step names it: the primary candidate first, then the
/// alternatives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceSpec {
    /// Candidates in order of preference; never empty.
    pub candidates: Vec<Candidate>,
}

/// Places sources are looked up in.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Cache folder (`<cache>/sources/<algorithm>/<hex>`).
    pub cache_dir: PathBuf,
    /// Mirror folder holding `<algorithm>/<hex>` or files named as in their URL.
    pub mirror: Option<PathBuf>,
    /// Whether upstream URLs are skipped, so that nothing but Debian's archive (through
    /// `apt-get`) is contacted.
    pub offline: bool,
}

/// A source file found and verified.
#[derive(Debug, Clone)]
pub struct FoundSource {
    /// The file in the cache.
    pub path: PathBuf,
    /// The candidate it matched.
    pub candidate: Candidate,
}

/// One place tried for a source, and why it did not give the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// The place: a path, a URL or `apt-get source PACKAGE=VERSION`.
    pub place: String,
    /// What happened.
    pub outcome: String,
}

impl fmt::Display for Attempt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.outcome)
    }
}

/// Errors from obtaining a source.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// No place gave a file with an expected checksum.
    #[error("source `{name}` not found; tried:\n{}", format_attempts(.attempts))]
    NotFound {
        /// The primary candidate's file name.
        name: String,
        /// Every place tried, in order.
        attempts: Vec<Attempt>,
    },
    /// The cache could not be written.
    #[error("failed to store a source in the cache `{}`", path.display())]
    Cache {
        /// The cache path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

fn format_attempts(attempts: &[Attempt]) -> String {
    let lines: Vec<String> = attempts.iter().map(|a| format!("  - {a}")).collect();
    lines.join("\n")
}

#[derive(Debug, Clone, Copy)]
enum Stage {
    Mirror,
    Upstream,
    Debian,
}

/// Finds, verifies and caches source files.
#[derive(Debug, Clone)]
pub struct Sources {
    options: SourceOptions,
    store: SourceStore,
}

impl Sources {
    /// Creates a finder that caches under `options.cache_dir`.
    pub fn new(options: SourceOptions) -> Self {
        let store = SourceStore::new(options.cache_dir.join("sources"));
        Sources { options, store }
    }

    /// Returns a verified copy of the source in the cache, looking it up in order.
    pub fn find(&self, spec: &SourceSpec) -> Result<FoundSource, SourceError> {
        let mut attempts = Vec::new();
        for candidate in &spec.candidates {
            if let Some(path) = self.store.lookup(&candidate.digest) {
                tracing::debug!(source = %candidate.file_name(), "source found in the cache");
                return Ok(found(path, candidate));
            }
        }
        for stage in [Stage::Mirror, Stage::Upstream, Stage::Debian] {
            for candidate in &spec.candidates {
                let path = match stage {
                    Stage::Mirror => self.try_mirror(candidate, &mut attempts)?,
                    Stage::Upstream => self.try_upstream(candidate, &mut attempts)?,
                    Stage::Debian => self.try_debian(candidate, &mut attempts)?,
                };
                if let Some(path) = path {
                    return Ok(found(path, candidate));
                }
            }
        }
        let name = spec
            .candidates
            .first()
            .map(Candidate::file_name)
            .unwrap_or_default();
        Err(SourceError::NotFound { name, attempts })
    }

    fn try_mirror(
        &self,
        candidate: &Candidate,
        attempts: &mut Vec<Attempt>,
    ) -> Result<Option<PathBuf>, SourceError> {
        let Some(mirror) = &self.options.mirror else {
            return Ok(None);
        };
        let digest = &candidate.digest;
        let by_digest = mirror.join(digest.algorithm.name()).join(&digest.hex);
        let by_name = mirror.join(candidate.file_name());
        for path in [by_digest, by_name] {
            if !path.is_file() {
                attempts.push(Attempt {
                    place: path.display().to_string(),
                    outcome: "no such file".to_string(),
                });
                continue;
            }
            match self.store.insert_copy(&path, digest)? {
                Ok(stored) => {
                    tracing::debug!(path = %path.display(), "source found in the mirror");
                    return Ok(Some(stored));
                }
                Err(outcome) => attempts.push(Attempt {
                    place: path.display().to_string(),
                    outcome,
                }),
            }
        }
        Ok(None)
    }

    fn try_upstream(
        &self,
        candidate: &Candidate,
        attempts: &mut Vec<Attempt>,
    ) -> Result<Option<PathBuf>, SourceError> {
        let Some(uri) = &candidate.uri else {
            return Ok(None);
        };
        if self.options.offline {
            attempts.push(Attempt {
                place: uri.clone(),
                outcome: "skipped: offline".to_string(),
            });
            return Ok(None);
        }
        let temporary = self.store.temporary_file()?;
        if let Err(outcome) = http::download(uri, temporary.path()) {
            attempts.push(Attempt {
                place: uri.clone(),
                outcome,
            });
            return Ok(None);
        }
        match self.store.insert_temporary(temporary, &candidate.digest)? {
            Ok(stored) => {
                tracing::info!(uri = %uri, "downloaded source");
                Ok(Some(stored))
            }
            Err(outcome) => {
                attempts.push(Attempt {
                    place: uri.clone(),
                    outcome,
                });
                Ok(None)
            }
        }
    }

    fn try_debian(
        &self,
        candidate: &Candidate,
        attempts: &mut Vec<Attempt>,
    ) -> Result<Option<PathBuf>, SourceError> {
        let Some(debian) = &candidate.debian else {
            return Ok(None);
        };
        debian.find(&self.store, &candidate.digest, attempts)
    }
}

fn found(path: PathBuf, candidate: &Candidate) -> FoundSource {
    FoundSource {
        path,
        candidate: candidate.clone(),
    }
}

/// Returns the default cache folder: `$XDG_CACHE_HOME/xtask`, else `$HOME/.cache/xtask`, else
/// `.cache/xtask` under `root`.
pub fn default_cache_dir(root: &Path) -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME").filter(|dir| !dir.is_empty()) {
        return PathBuf::from(dir).join("xtask");
    }
    if let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        return PathBuf::from(home).join(".cache").join("xtask");
    }
    root.join(".cache").join("xtask")
}

#[cfg(test)]
mod tests;
