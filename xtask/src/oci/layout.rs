//! The OCI image layout on disk: an `oci-layout` marker, `index.json` listing the tagged
//! manifests, and blobs under `blobs/sha256/<hex>`.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{ANNOTATION_REF_NAME, Descriptor, Digest, DigestWriter, ImageIndex};

/// Content of the `oci-layout` file for layout version 1.0.0.
const OCI_LAYOUT: &str = "{\"imageLayoutVersion\":\"1.0.0\"}";

/// Largest blob [`LayoutReader::read_blob`] loads into memory. Manifests, configs and
/// SBOMs are kilobytes; layers are streamed instead.
const MAX_JSON_BLOB_BYTES: u64 = 64 << 20;

/// Errors from writing or reading a layout. Each names the file involved.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// A file could not be read or written.
    #[error("I/O on `{}` failed: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: io::Error,
    },
    /// A JSON document is malformed.
    #[error("invalid JSON in `{}`: {source}", path.display())]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: serde_json::Error,
    },
    /// A blob's content does not match its digest.
    #[error("blob `{}` is corrupt: expected digest {expected}, actual {actual}", path.display())]
    DigestMismatch {
        /// The blob file.
        path: PathBuf,
        /// The digest it is named after.
        expected: Digest,
        /// The digest of its content.
        actual: Digest,
    },
    /// A blob's length differs from the size its descriptor records.
    #[error("blob `{}` is corrupt: expected {expected} bytes, actual {actual}", path.display())]
    SizeMismatch {
        /// The blob file.
        path: PathBuf,
        /// The size in the descriptor.
        expected: u64,
        /// The file's length.
        actual: u64,
    },
    /// The folder is not an OCI layout of version 1.0.0.
    #[error("`{}` is not an OCI image layout 1.0.0 (missing or different `oci-layout` file)", path.display())]
    NotALayout {
        /// The folder.
        path: PathBuf,
    },
    /// No manifest in `index.json` carries the requested tag.
    #[error("tag `{tag}` not found in `{}`", path.display())]
    TagNotFound {
        /// The requested tag.
        tag: String,
        /// The `index.json` file.
        path: PathBuf,
    },
    /// A blob is larger than the reader loads into memory.
    #[error("blob `{}` is larger than {MAX_JSON_BLOB_BYTES} bytes", path.display())]
    TooLarge {
        /// The blob file.
        path: PathBuf,
    },
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Writes an OCI image layout into a folder. Blobs are content-addressed, so writing
/// the same blob twice stores it once.
#[derive(Debug, Clone)]
pub struct LayoutWriter {
    dir: PathBuf,
}

impl LayoutWriter {
    /// Creates `dir` (and `blobs/sha256/` inside it) and writes the `oci-layout` file.
    pub fn create(dir: &Path) -> Result<Self, LayoutError> {
        let blobs = dir.join("blobs").join("sha256");
        fs_err::create_dir_all(&blobs).map_err(io_error(&blobs))?;
        let marker = dir.join("oci-layout");
        fs_err::write(&marker, OCI_LAYOUT).map_err(io_error(&marker))?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Returns the layout folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Returns the path a blob with `digest` has in this layout.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.dir, digest)
    }

    /// Returns a path inside the blob folder for a blob being streamed, to be moved into
    /// place with [`Self::commit_blob`]. `name` must be unique among concurrent writers.
    pub fn staging_path(&self, name: &str) -> PathBuf {
        self.dir
            .join("blobs")
            .join("sha256")
            .join(format!(".{name}.partial"))
    }

    /// Moves a fully written staging file to its content address.
    pub fn commit_blob(&self, staging: &Path, digest: &Digest) -> Result<(), LayoutError> {
        let target = self.blob_path(digest);
        fs_err::rename(staging, &target).map_err(io_error(&target))
    }

    /// Writes `bytes` as a blob and returns its descriptor with `media_type`.
    pub fn write_blob(&self, media_type: &str, bytes: &[u8]) -> Result<Descriptor, LayoutError> {
        let digest = Digest::sha256_of(bytes);
        let path = self.blob_path(&digest);
        if !path.exists() {
            let staging = self.staging_path(digest.hex());
            fs_err::write(&staging, bytes).map_err(io_error(&staging))?;
            self.commit_blob(&staging, &digest)?;
        }
        Ok(Descriptor::new(media_type, digest, bytes.len() as u64))
    }

    /// Serializes `value` as compact JSON and writes it as a blob.
    pub fn write_json<T: Serialize>(
        &self,
        media_type: &str,
        value: &T,
    ) -> Result<Descriptor, LayoutError> {
        let bytes = to_json(value, &self.dir)?;
        self.write_blob(media_type, &bytes)
    }

    /// Writes `index.json` listing `target` once per tag, each with the tag in
    /// `org.opencontainers.image.ref.name`, in the order given.
    pub fn write_index(&self, target: &Descriptor, tags: &[String]) -> Result<(), LayoutError> {
        let manifests = tags
            .iter()
            .map(|tag| {
                let mut descriptor = target.clone();
                descriptor
                    .annotations
                    .insert(ANNOTATION_REF_NAME.to_owned(), tag.clone());
                descriptor
            })
            .collect();
        let index = ImageIndex::new(manifests);
        let path = self.dir.join("index.json");
        let bytes = to_json(&index, &path)?;
        let mut file = fs_err::File::create(&path).map_err(io_error(&path))?;
        file.write_all(&bytes).map_err(io_error(&path))
    }
}

fn to_json<T: Serialize>(value: &T, path: &Path) -> Result<Vec<u8>, LayoutError> {
    serde_json::to_vec(value).map_err(|source| LayoutError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn blob_path(dir: &Path, digest: &Digest) -> PathBuf {
    dir.join("blobs").join("sha256").join(digest.hex())
}

/// Reads an OCI image layout, checking every blob it returns against its digest.
#[derive(Debug, Clone)]
pub struct LayoutReader {
    dir: PathBuf,
}

impl LayoutReader {
    /// Opens the layout in `dir` after checking its `oci-layout` file.
    pub fn open(dir: &Path) -> Result<Self, LayoutError> {
        let marker = dir.join("oci-layout");
        let text = fs_err::read_to_string(&marker).map_err(|_| LayoutError::NotALayout {
            path: dir.to_path_buf(),
        })?;
        let version: serde_json::Value =
            serde_json::from_str(&text).map_err(|source| LayoutError::Json {
                path: marker.clone(),
                source,
            })?;
        if version.get("imageLayoutVersion").and_then(|v| v.as_str()) != Some("1.0.0") {
            return Err(LayoutError::NotALayout {
                path: dir.to_path_buf(),
            });
        }
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// Returns the layout folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads `index.json`.
    pub fn index(&self) -> Result<ImageIndex, LayoutError> {
        let path = self.dir.join("index.json");
        let bytes = fs_err::read(&path).map_err(io_error(&path))?;
        from_json(&bytes, &path)
    }

    /// Returns the tags of `index.json` in file order.
    pub fn tags(&self) -> Result<Vec<String>, LayoutError> {
        Ok(self
            .index()?
            .manifests
            .iter()
            .filter_map(|d| d.annotations.get(ANNOTATION_REF_NAME).cloned())
            .collect())
    }

    /// Returns the descriptor tagged `tag` in `index.json`.
    pub fn resolve_tag(&self, tag: &str) -> Result<Descriptor, LayoutError> {
        self.index()?
            .manifests
            .into_iter()
            .find(|d| d.annotations.get(ANNOTATION_REF_NAME).map(String::as_str) == Some(tag))
            .ok_or_else(|| LayoutError::TagNotFound {
                tag: tag.to_owned(),
                path: self.dir.join("index.json"),
            })
    }

    /// Returns the path of a blob.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        blob_path(&self.dir, digest)
    }

    /// Reads a blob of at most 64 MiB and checks it against its digest.
    pub fn read_blob(&self, digest: &Digest) -> Result<Vec<u8>, LayoutError> {
        let path = self.blob_path(digest);
        let length = fs_err::metadata(&path).map_err(io_error(&path))?.len();
        if length > MAX_JSON_BLOB_BYTES {
            return Err(LayoutError::TooLarge { path });
        }
        let bytes = fs_err::read(&path).map_err(io_error(&path))?;
        let actual = Digest::sha256_of(&bytes);
        if actual != *digest {
            return Err(LayoutError::DigestMismatch {
                path,
                expected: digest.clone(),
                actual,
            });
        }
        Ok(bytes)
    }

    /// Checks a blob of any length against the size and digest of its descriptor,
    /// reading it as a stream.
    pub fn verify_blob(&self, descriptor: &Descriptor) -> Result<(), LayoutError> {
        let path = self.blob_path(&descriptor.digest);
        let length = fs_err::metadata(&path).map_err(io_error(&path))?.len();
        if length != descriptor.size {
            return Err(LayoutError::SizeMismatch {
                path,
                expected: descriptor.size,
                actual: length,
            });
        }
        let mut file = fs_err::File::open(&path).map_err(io_error(&path))?;
        let mut hasher = DigestWriter::new(io::sink());
        io::copy(&mut file, &mut hasher).map_err(io_error(&path))?;
        let (_, actual, _) = hasher.finish();
        if actual != descriptor.digest {
            return Err(LayoutError::DigestMismatch {
                path,
                expected: descriptor.digest.clone(),
                actual,
            });
        }
        Ok(())
    }

    /// Reads a JSON blob and parses it.
    pub fn read_json<T: DeserializeOwned>(&self, digest: &Digest) -> Result<T, LayoutError> {
        let bytes = self.read_blob(digest)?;
        from_json(&bytes, &self.blob_path(digest))
    }
}

fn from_json<T: DeserializeOwned>(bytes: &[u8], path: &Path) -> Result<T, LayoutError> {
    serde_json::from_slice(bytes).map_err(|source| LayoutError::Json {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::{ImageManifest, MEDIA_TYPE_CONFIG, MEDIA_TYPE_MANIFEST};

    #[test]
    fn layout_round_trips_tags_and_blobs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let writer = LayoutWriter::create(dir.path()).expect("create layout");
        let config = writer
            .write_blob(MEDIA_TYPE_CONFIG, b"{}")
            .expect("write config");
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: MEDIA_TYPE_MANIFEST.to_owned(),
            config: config.clone(),
            layers: Vec::new(),
            annotations: Default::default(),
        };
        let target = writer
            .write_json(MEDIA_TYPE_MANIFEST, &manifest)
            .expect("write manifest");
        let tags = vec!["latest".to_owned(), "1.2".to_owned()];
        writer.write_index(&target, &tags).expect("write index");

        let reader = LayoutReader::open(dir.path()).expect("open layout");
        assert_eq!(reader.tags().expect("tags"), tags);
        let resolved = reader.resolve_tag("1.2").expect("resolve tag");
        assert_eq!(resolved.digest, target.digest);
        let read: ImageManifest = reader.read_json(&resolved.digest).expect("read manifest");
        assert_eq!(read, manifest);
    }

    #[test]
    fn reader_rejects_tampered_blob() {
        let dir = tempfile::tempdir().expect("temp dir");
        let writer = LayoutWriter::create(dir.path()).expect("create layout");
        let descriptor = writer.write_blob(MEDIA_TYPE_CONFIG, b"{}").expect("write");
        fs_err::write(writer.blob_path(&descriptor.digest), b"{ }").expect("tamper");
        let reader = LayoutReader::open(dir.path()).expect("open layout");
        let error = reader.read_blob(&descriptor.digest).expect_err("tampered");
        assert!(matches!(error, LayoutError::DigestMismatch { .. }));
    }

    #[test]
    fn reader_reports_missing_tag() {
        let dir = tempfile::tempdir().expect("temp dir");
        let writer = LayoutWriter::create(dir.path()).expect("create layout");
        let descriptor = writer.write_blob(MEDIA_TYPE_CONFIG, b"{}").expect("write");
        writer
            .write_index(&descriptor, &["latest".to_owned()])
            .expect("write index");
        let reader = LayoutReader::open(dir.path()).expect("open layout");
        let error = reader.resolve_tag("2.0").expect_err("missing tag");
        assert!(error.to_string().contains("tag `2.0` not found"));
    }
}
