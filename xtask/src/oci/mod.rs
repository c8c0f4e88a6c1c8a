//! OCI image format on disk: content digests, descriptors, manifests, indexes, image
//! configs and the image layout (`oci-layout`, `index.json`, `blobs/sha256/`).
//!
//! The JSON types are our own rather than the `oci-spec` crate's: `oci-spec` 0.10 keeps
//! annotations and labels in `HashMap`s, whose serialization order changes from run to
//! run, and every byte here feeds a digest. Maps here are `BTreeMap`s, so equal values
//! always serialize to equal bytes.

mod digest;
mod layout;
mod types;

pub use digest::{Digest, DigestError, DigestWriter};
pub use layout::{LayoutError, LayoutReader, LayoutWriter};
pub use types::{
    Descriptor, History, ImageConfig, ImageIndex, ImageManifest, Platform, RootFs, RuntimeConfig,
};

/// Media type of an image manifest.
pub const MEDIA_TYPE_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// Media type of an image index.
pub const MEDIA_TYPE_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Media type of an image config.
pub const MEDIA_TYPE_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// Media type of a gzip-compressed tar layer.
pub const MEDIA_TYPE_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// Annotation that names a tag in a layout's `index.json`.
pub const ANNOTATION_REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Annotation holding the creation time (RFC 3339).
pub const ANNOTATION_CREATED: &str = "org.opencontainers.image.created";
