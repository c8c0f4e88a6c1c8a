//! Reader of the OCI image layouts that `build` writes: `index.json` points at one image
//! index, which lists one image manifest per platform. Tags are the
//! `org.opencontainers.image.ref.name` annotations of the `index.json` entries.
//!
//! Every manifest and blob read is checked against its digest and size before use.

use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

use super::digest::Digest;

/// Annotation of an `index.json` entry that contains its tag.
pub const REF_NAME_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// A manifest or index as stored, with the bytes whose digest is its identity.
#[derive(Debug, Clone)]
pub struct StoredManifest {
    pub digest: Digest,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

/// A blob named by a manifest: a config or a layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobRef {
    pub digest: Digest,
    pub size: u64,
    pub media_type: String,
}

/// The image of one platform: its manifest and the blobs it names (config first).
#[derive(Debug, Clone)]
pub struct PlatformImage {
    /// `os/architecture` with `/variant` when the index gives one (`linux/arm64/v8`).
    pub platform: String,
    pub manifest: StoredManifest,
    pub blobs: Vec<BlobRef>,
}

/// A multi-platform image read from a layout.
#[derive(Debug, Clone)]
pub struct LayoutImage {
    /// The layout folder.
    pub dir: PathBuf,
    pub index: StoredManifest,
    pub platforms: Vec<PlatformImage>,
    /// Tags from `index.json`, sorted and without duplicates.
    pub tags: Vec<String>,
}

/// A layout that cannot be read or does not match its digests.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid JSON in `{path}`")]
    Json {
        path: PathBuf,
        #[source]
        source: oci_spec::OciSpecError,
    },
    #[error("`{path}` has digest {actual}, but its descriptor names {expected}")]
    DigestMismatch {
        path: PathBuf,
        expected: Digest,
        actual: Digest,
    },
    #[error("`{path}` is {actual} bytes, but its descriptor says {expected}")]
    SizeMismatch {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("invalid layout `{dir}`: {message}")]
    Invalid { dir: PathBuf, message: String },
}

impl BlobRef {
    /// Reads the blob from the layout at `dir` and checks its size and digest.
    pub fn read(&self, dir: &Path) -> Result<Vec<u8>, LayoutError> {
        read_verified(dir, &self.digest, self.size)
    }
}

impl LayoutImage {
    /// Reads the layout at `dir`: `index.json`, the image index it names and every
    /// platform manifest. Blob contents are read later, one at a time, by
    /// [`BlobRef::read`]; their presence is checked here.
    pub fn read(dir: &Path) -> Result<LayoutImage, LayoutError> {
        let index_path = dir.join("index.json");
        let top = parse_index(&index_path, &read_file(&index_path)?)?;
        let (descriptor, tags) = single_image(dir, top.manifests())?;
        let index = read_manifest(dir, descriptor)?;
        let image_index = parse_index(&blob_path(dir, &index.digest), &index.bytes)?;

        let mut platforms = Vec::new();
        for entry in image_index.manifests() {
            platforms.push(read_platform(dir, entry)?);
        }
        if platforms.is_empty() {
            return Err(invalid(
                dir,
                format!("image index {} lists no manifests", index.digest),
            ));
        }
        Ok(LayoutImage {
            dir: dir.to_owned(),
            index,
            platforms,
            tags,
        })
    }

    /// Returns every distinct blob of every platform, in first-seen order.
    pub fn blobs(&self) -> Vec<&BlobRef> {
        let mut seen = std::collections::HashSet::new();
        self.platforms
            .iter()
            .flat_map(|platform| &platform.blobs)
            .filter(|blob| seen.insert(blob.digest.clone()))
            .collect()
    }
}

fn single_image<'a>(
    dir: &Path,
    entries: &'a [Descriptor],
) -> Result<(&'a Descriptor, Vec<String>), LayoutError> {
    let Some(first) = entries.first() else {
        return Err(invalid(dir, "index.json lists no images".into()));
    };
    let mut tags = Vec::new();
    for entry in entries {
        if entry.digest() != first.digest() {
            let message = format!(
                "index.json lists more than one image ({} and {}); publish expects one image \
                 index per variant",
                first.digest(),
                entry.digest()
            );
            return Err(invalid(dir, message));
        }
        let tag = entry
            .annotations()
            .as_ref()
            .and_then(|map| map.get(REF_NAME_ANNOTATION));
        tags.extend(tag.cloned());
    }
    if *first.media_type() != MediaType::ImageIndex {
        let message = format!(
            "index.json names a {}, expected an image index",
            first.media_type()
        );
        return Err(invalid(dir, message));
    }
    tags.sort();
    tags.dedup();
    Ok((first, tags))
}

fn read_platform(dir: &Path, entry: &Descriptor) -> Result<PlatformImage, LayoutError> {
    let manifest = read_manifest(dir, entry)?;
    let parsed =
        ImageManifest::from_reader(&manifest.bytes[..]).map_err(|source| LayoutError::Json {
            path: blob_path(dir, &manifest.digest),
            source,
        })?;
    let platform = match entry.platform() {
        Some(platform) => {
            let mut name = format!("{}/{}", platform.os(), platform.architecture());
            if let Some(variant) = platform.variant() {
                name = format!("{name}/{variant}");
            }
            name
        }
        None => {
            return Err(invalid(
                dir,
                format!("manifest {} has no platform", manifest.digest),
            ));
        }
    };

    let mut blobs = Vec::new();
    for descriptor in std::iter::once(parsed.config()).chain(parsed.layers()) {
        let blob = blob_ref(dir, descriptor)?;
        let path = blob_path(dir, &blob.digest);
        if !path.is_file() {
            return Err(invalid(dir, format!("blob {} is missing", blob.digest)));
        }
        blobs.push(blob);
    }
    Ok(PlatformImage {
        platform,
        manifest,
        blobs,
    })
}

fn blob_ref(dir: &Path, descriptor: &Descriptor) -> Result<BlobRef, LayoutError> {
    let digest = Digest::parse(descriptor.digest().as_ref())
        .map_err(|error| invalid(dir, error.to_string()))?;
    Ok(BlobRef {
        digest,
        size: descriptor.size(),
        media_type: descriptor.media_type().to_string(),
    })
}

fn read_manifest(dir: &Path, descriptor: &Descriptor) -> Result<StoredManifest, LayoutError> {
    let blob = blob_ref(dir, descriptor)?;
    let bytes = blob.read(dir)?;
    Ok(StoredManifest {
        digest: blob.digest,
        media_type: blob.media_type,
        bytes,
    })
}

fn parse_index(path: &Path, bytes: &[u8]) -> Result<ImageIndex, LayoutError> {
    ImageIndex::from_reader(bytes).map_err(|source| LayoutError::Json {
        path: path.to_owned(),
        source,
    })
}

fn read_verified(dir: &Path, digest: &Digest, size: u64) -> Result<Vec<u8>, LayoutError> {
    let path = blob_path(dir, digest);
    let bytes = read_file(&path)?;
    if bytes.len() as u64 != size {
        return Err(LayoutError::SizeMismatch {
            path,
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    let actual = Digest::of(&bytes);
    if &actual != digest {
        return Err(LayoutError::DigestMismatch {
            path,
            expected: digest.clone(),
            actual,
        });
    }
    Ok(bytes)
}

fn read_file(path: &Path) -> Result<Vec<u8>, LayoutError> {
    std::fs::read(path).map_err(|source| LayoutError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Path of a blob inside the layout at `dir`.
pub fn blob_path(dir: &Path, digest: &Digest) -> PathBuf {
    dir.join("blobs").join("sha256").join(digest.hex())
}

fn invalid(dir: &Path, message: String) -> LayoutError {
    LayoutError::Invalid {
        dir: dir.to_owned(),
        message,
    }
}
