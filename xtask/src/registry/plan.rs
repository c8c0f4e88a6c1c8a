//! The push plan: what goes to the registry, in the order that keeps every reference
//! valid. Blobs come first, then platform manifests (which name the blobs), then the
//! image index (which names the manifests), and tags last, so a tag never points at
//! content the registry does not have yet.

use std::fmt::Write as _;

use super::layout::{BlobRef, LayoutImage, StoredManifest};
use super::repository::Repository;

/// Everything one image needs in one repository.
#[derive(Debug, Clone)]
pub struct PushPlan {
    pub repository: Repository,
    /// Distinct blobs of every platform, configs and layers.
    pub blobs: Vec<BlobRef>,
    /// Platform manifests as `(platform, manifest)`, pushed by digest.
    pub manifests: Vec<(String, StoredManifest)>,
    /// The image index, pushed by digest and then under each tag.
    pub index: StoredManifest,
    pub tags: Vec<String>,
    /// Repositories of the same registry that may already hold some blobs, tried for a
    /// cross-repository mount before uploading.
    pub mount_sources: Vec<Repository>,
}

impl PushPlan {
    /// Plans the push of `image` to `repository`. `extra_tags` are added to the tags of
    /// the layout; `mount_sources` in another registry or equal to `repository` are
    /// dropped.
    pub fn new(
        image: &LayoutImage,
        repository: Repository,
        extra_tags: &[String],
        mount_sources: &[Repository],
    ) -> PushPlan {
        let mut tags: Vec<String> = image.tags.iter().chain(extra_tags).cloned().collect();
        tags.sort();
        tags.dedup();
        let mount_sources = mount_sources
            .iter()
            .filter(|source| source.registry == repository.registry && **source != repository)
            .cloned()
            .collect();
        PushPlan {
            blobs: image.blobs().into_iter().cloned().collect(),
            manifests: image
                .platforms
                .iter()
                .map(|platform| (platform.platform.clone(), platform.manifest.clone()))
                .collect(),
            index: image.index.clone(),
            tags,
            mount_sources,
            repository,
        }
    }

    /// Total size of the blobs in bytes, before any is found present.
    pub fn blob_bytes(&self) -> u64 {
        self.blobs.iter().map(|blob| blob.size).sum()
    }

    /// Describes the plan for `--dry-run`, one step per line.
    pub fn describe(&self) -> String {
        let mut text = String::new();
        let repository = &self.repository;
        let _ = writeln!(
            text,
            "push {} blob(s), {} bytes, to {repository}",
            self.blobs.len(),
            self.blob_bytes()
        );
        for blob in &self.blobs {
            let _ = writeln!(
                text,
                "  blob {} ({} bytes, {})",
                blob.digest, blob.size, blob.media_type
            );
        }
        for (platform, manifest) in &self.manifests {
            let _ = writeln!(text, "  manifest {} ({platform})", manifest.digest);
        }
        let _ = writeln!(text, "  index {}", self.index.digest);
        for tag in &self.tags {
            let _ = writeln!(text, "  tag {repository}:{tag} -> {}", self.index.digest);
        }
        text
    }
}
