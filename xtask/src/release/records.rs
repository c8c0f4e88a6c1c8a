//! The release records file, `releases.json` at the catalog root: one record per
//! image and variant, written by publishing and read by the README renderer and by
//! change detection.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Digest, JobOutcome, ReleaseTime};

/// File name of the release records, relative to the catalog root.
pub const RECORDS_FILE: &str = "releases.json";

/// Version of the file format that this code reads and writes.
const FORMAT_VERSION: u32 = 1;

/// The result of publishing one image variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRecord {
    // Fields in alphabetical order, so that the JSON keys come out sorted.
    /// Architectures in the pushed index, such as `amd64`.
    pub archs: Vec<String>,
    /// Digest of the pushed image index.
    pub digest: Digest,
    /// Reference of the cosign signature, such as
    /// `ghcr.io/org/nginx:sha256-<hex>.sig`.
    pub signature: String,
    /// Tags that point at the digest.
    pub tags: Vec<String>,
    /// When the release was published.
    pub time: ReleaseTime,
}

/// Images mapped to variants mapped to a value, sorted by name at both levels.
type ByVariant<T> = BTreeMap<String, BTreeMap<String, T>>;

/// The contents of `releases.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReleaseRecords {
    images: ByVariant<ReleaseRecord>,
    jobs: ByVariant<JobOutcome>,
}

/// The file layout, kept apart from [`ReleaseRecords`] so that the version field
/// is checked once on load and written once on save.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordsFile {
    // Fields in alphabetical order, so that the JSON keys come out sorted.
    images: ByVariant<ReleaseRecord>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    jobs: ByVariant<JobOutcome>,
    version: u32,
}

/// Failure to read or write the release records.
#[derive(Debug, thiserror::Error)]
pub enum RecordsError {
    /// The file exists but could not be read.
    #[error("failed to read release records")]
    Read(#[source] io::Error),
    /// The file is not valid JSON or does not match the expected layout.
    #[error("{}:{line}:{column}: invalid release records: {message}", path.display())]
    Parse {
        /// The file that failed to parse.
        path: PathBuf,
        /// Line of the problem, starting at 1.
        line: usize,
        /// Column of the problem, starting at 1.
        column: usize,
        /// The JSON parser's message.
        message: String,
    },
    /// The file was written by a newer or older version of this tool.
    #[error(
        "{}: unsupported release records version {found}, expected {FORMAT_VERSION}",
        path.display()
    )]
    Version {
        /// The file with the unsupported version.
        path: PathBuf,
        /// The version the file declares.
        found: u32,
    },
    /// The file could not be written or moved into place.
    #[error("failed to write release records to `{}`", path.display())]
    Write {
        /// The file that was being written.
        path: PathBuf,
        /// The underlying failure.
        #[source]
        source: io::Error,
    },
}

impl ReleaseRecords {
    /// Returns the path of the records file in the catalog at `root`.
    pub fn path(root: &Path) -> PathBuf {
        root.join(RECORDS_FILE)
    }

    /// Loads the records of the catalog at `root`. A missing file means that nothing
    /// has been released yet, so it loads as empty records.
    pub fn load(root: &Path) -> Result<Self, RecordsError> {
        let path = Self::path(root);
        let text = match fs_err::read_to_string(&path) {
            Ok(text) => text,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                tracing::debug!(path = %path.display(), "no release records yet");
                return Ok(Self::default());
            }
            Err(error) => return Err(RecordsError::Read(error)),
        };
        Self::from_json(&text, &path)
    }

    /// Parses records from `text`; `path` only names the source in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, RecordsError> {
        let file: RecordsFile =
            serde_json::from_str(text).map_err(|error| RecordsError::Parse {
                path: path.to_owned(),
                line: error.line(),
                column: error.column(),
                message: error.to_string(),
            })?;
        if file.version != FORMAT_VERSION {
            return Err(RecordsError::Version {
                path: path.to_owned(),
                found: file.version,
            });
        }
        Ok(Self {
            images: file.images,
            jobs: file.jobs,
        })
    }

    /// Returns the file contents: keys sorted, two-space indent, trailing newline.
    pub fn to_json(&self) -> String {
        let file = RecordsFile {
            images: self.images.clone(),
            jobs: self.jobs.clone(),
            version: FORMAT_VERSION,
        };
        let mut text = serde_json::to_string_pretty(&file)
            .expect("maps with string keys and plain structs always serialise");
        text.push('\n');
        text
    }

    /// Writes the records to `releases.json` under `root` through a temporary file in
    /// the same folder, so that readers see either the old or the new file.
    pub fn save(&self, root: &Path) -> Result<(), RecordsError> {
        let path = Self::path(root);
        let write_error = |source| RecordsError::Write {
            path: path.clone(),
            source,
        };
        let mut file = tempfile::NamedTempFile::new_in(root).map_err(write_error)?;
        file.write_all(self.to_json().as_bytes())
            .map_err(write_error)?;
        file.as_file().sync_all().map_err(write_error)?;
        file.persist(&path)
            .map_err(|error| write_error(error.error))?;
        tracing::debug!(path = %path.display(), "wrote release records");
        Ok(())
    }

    /// Inserts or replaces the record of `variant` of `image` and returns the
    /// record it replaced.
    pub fn record(
        &mut self,
        image: &str,
        variant: &str,
        record: ReleaseRecord,
    ) -> Option<ReleaseRecord> {
        self.images
            .entry(image.to_owned())
            .or_default()
            .insert(variant.to_owned(), record)
    }

    /// Returns the record of `variant` of `image`, if it was ever released.
    pub fn get(&self, image: &str, variant: &str) -> Option<&ReleaseRecord> {
        self.images.get(image)?.get(variant)
    }

    /// Returns whether the last release of `variant` of `image` has `digest`, so that
    /// a rebuild producing the same image has nothing new to push.
    pub fn is_unchanged(&self, image: &str, variant: &str, digest: &Digest) -> bool {
        self.get(image, variant)
            .is_some_and(|record| &record.digest == digest)
    }

    /// Iterates over `(image, variant, record)`, sorted by image, then variant.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &ReleaseRecord)> {
        self.images.iter().flat_map(|(image, variants)| {
            variants
                .iter()
                .map(move |(variant, record)| (image.as_str(), variant.as_str(), record))
        })
    }

    /// Stores the outcome of the latest release job of `variant` of `image`.
    pub fn set_job_outcome(&mut self, image: &str, variant: &str, outcome: JobOutcome) {
        self.jobs
            .entry(image.to_owned())
            .or_default()
            .insert(variant.to_owned(), outcome);
    }

    /// Returns the outcome of the latest release job of `variant` of `image`.
    pub fn job_outcome(&self, image: &str, variant: &str) -> Option<&JobOutcome> {
        self.jobs.get(image)?.get(variant)
    }

    /// Merges `other` into these records. For each variant the record with the later
    /// time wins, and `other` wins ties. Job outcomes from the later workflow run win.
    pub fn merge(&mut self, other: ReleaseRecords) {
        for (image, variants) in other.images {
            let mine = self.images.entry(image).or_default();
            for (variant, record) in variants {
                let newer = mine
                    .get(&variant)
                    .is_none_or(|current| current.time <= record.time);
                if newer {
                    mine.insert(variant, record);
                }
            }
        }
        for (image, variants) in other.jobs {
            let mine = self.jobs.entry(image).or_default();
            for (variant, outcome) in variants {
                let newer = mine
                    .get(&variant)
                    .is_none_or(|current| current.run <= outcome.run);
                if newer {
                    mine.insert(variant, outcome);
                }
            }
        }
    }
}
