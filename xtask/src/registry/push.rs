//! Runs a [`PushPlan`]: skips what the registry has, mounts what a sibling repository
//! has, uploads the rest, then pushes manifests, the index and the tags in that order.

use futures_util::{StreamExt as _, TryStreamExt as _};

use super::client::{RegistryClient, RegistryError};
use super::layout::{BlobRef, LayoutError, StoredManifest};
use super::plan::PushPlan;
use super::repository::Repository;

/// Blobs uploaded at the same time.
const BLOB_CONCURRENCY: usize = 4;

/// Counts of what a push did, for the summary line and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    pub blobs_uploaded: usize,
    pub blobs_mounted: usize,
    pub blobs_present: usize,
    /// Blob bytes sent in upload requests (manifests not included).
    pub bytes_uploaded: u64,
    pub manifests_pushed: usize,
    pub manifests_present: usize,
    pub tags_set: usize,
    pub tags_unchanged: usize,
}

/// A push that stopped.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("failed to read a blob of the layout at `{dir}`")]
    Layout {
        dir: std::path::PathBuf,
        #[source]
        source: LayoutError,
    },
}

enum BlobOutcome {
    Present,
    Mounted,
    Uploaded(u64),
}

/// Pushes everything `plan` lists, reading blobs from the layout at `layout_dir`.
pub async fn push(
    client: &RegistryClient,
    plan: &PushPlan,
    layout_dir: &std::path::Path,
) -> Result<PushReport, PushError> {
    let mut report = PushReport::default();
    let outcomes: Vec<BlobOutcome> = futures_util::stream::iter(&plan.blobs)
        .map(|blob| push_blob(client, plan, layout_dir, blob))
        .buffer_unordered(BLOB_CONCURRENCY)
        .try_collect()
        .await?;
    for outcome in outcomes {
        match outcome {
            BlobOutcome::Present => report.blobs_present += 1,
            BlobOutcome::Mounted => report.blobs_mounted += 1,
            BlobOutcome::Uploaded(bytes) => {
                report.blobs_uploaded += 1;
                report.bytes_uploaded += bytes;
            }
        }
    }

    for (platform, manifest) in &plan.manifests {
        tracing::debug!(platform, digest = %manifest.digest, "platform manifest");
        push_manifest_by_digest(client, &plan.repository, manifest, &mut report).await?;
    }
    push_manifest_by_digest(client, &plan.repository, &plan.index, &mut report).await?;

    for tag in &plan.tags {
        set_tag(client, &plan.repository, tag, &plan.index, &mut report).await?;
    }
    tracing::info!(
        repository = %plan.repository,
        digest = %plan.index.digest,
        uploaded = report.blobs_uploaded,
        mounted = report.blobs_mounted,
        already_present = report.blobs_present,
        bytes = report.bytes_uploaded,
        "pushed"
    );
    Ok(report)
}

async fn push_blob(
    client: &RegistryClient,
    plan: &PushPlan,
    layout_dir: &std::path::Path,
    blob: &BlobRef,
) -> Result<BlobOutcome, PushError> {
    let repository = &plan.repository;
    if client.blob_exists(repository, &blob.digest).await? {
        tracing::info!(digest = %blob.digest, %repository, "blob already present");
        return Ok(BlobOutcome::Present);
    }
    for source in &plan.mount_sources {
        if mount_from(client, repository, source, blob).await? {
            tracing::info!(digest = %blob.digest, %repository, from = %source, "blob mounted");
            return Ok(BlobOutcome::Mounted);
        }
    }
    // NOTE: the blob is held in memory while it uploads, up to BLOB_CONCURRENCY at once,
    // so peak memory grows with the largest layers.
    let bytes = blob.read(layout_dir).map_err(|source| PushError::Layout {
        dir: layout_dir.to_owned(),
        source,
    })?;
    client
        .push_blob(repository, &blob.digest, bytes.into())
        .await?;
    tracing::info!(digest = %blob.digest, %repository, bytes = blob.size, "blob uploaded");
    Ok(BlobOutcome::Uploaded(blob.size))
}

async fn mount_from(
    client: &RegistryClient,
    repository: &Repository,
    source: &Repository,
    blob: &BlobRef,
) -> Result<bool, PushError> {
    // Checking the source first avoids leaving an upload session open in `repository`
    // for every source that lacks the blob.
    match client.blob_exists(source, &blob.digest).await {
        Ok(true) => Ok(client.mount_blob(repository, source, &blob.digest).await?),
        Ok(false) => Ok(false),
        Err(error) if error.is_unauthorized() || error.is_not_found() => Ok(false),
        Err(error) => Err(error.into()),
    }
}

async fn push_manifest_by_digest(
    client: &RegistryClient,
    repository: &Repository,
    manifest: &StoredManifest,
    report: &mut PushReport,
) -> Result<(), PushError> {
    let reference = repository.at_digest(&manifest.digest);
    if client
        .manifest_digest(repository, &reference)
        .await?
        .is_some()
    {
        tracing::info!(digest = %manifest.digest, %repository, "manifest already present");
        report.manifests_present += 1;
        return Ok(());
    }
    client
        .push_manifest(
            repository,
            &reference,
            &manifest.media_type,
            &manifest.bytes,
        )
        .await?;
    tracing::info!(digest = %manifest.digest, %repository, "manifest pushed");
    report.manifests_pushed += 1;
    Ok(())
}

/// Points `tag` at `manifest`, which the caller has pushed by digest already.
pub async fn set_tag(
    client: &RegistryClient,
    repository: &Repository,
    tag: &str,
    manifest: &StoredManifest,
    report: &mut PushReport,
) -> Result<(), PushError> {
    let reference = repository.at_tag(tag);
    if client
        .manifest_digest(repository, &reference)
        .await?
        .as_ref()
        == Some(&manifest.digest)
    {
        tracing::info!(tag, %repository, digest = %manifest.digest, "tag already present");
        report.tags_unchanged += 1;
        return Ok(());
    }
    client
        .push_manifest(
            repository,
            &reference,
            &manifest.media_type,
            &manifest.bytes,
        )
        .await?;
    tracing::info!(tag, %repository, digest = %manifest.digest, "tag set");
    report.tags_set += 1;
    Ok(())
}
