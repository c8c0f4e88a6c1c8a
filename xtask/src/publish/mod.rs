//! Publishing one image variant: push the layout, then sign the index and every platform
//! manifest, then attest each with its SBOM. The result is what a release record needs.

pub mod record;
pub mod sbom;

use std::path::{Path, PathBuf};

use crate::registry::{
    Digest, LayoutImage, PushError, PushPlan, PushReport, RegistryClient, Repository,
};
use crate::sign::{AttachError, AttachOutcome, Signer, attest_manifest, sign_manifest};

/// Publishing a variant failed.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("failed to push {image}")]
    Push {
        image: String,
        #[source]
        source: PushError,
    },
    #[error("failed to sign or attest {image}")]
    Sign {
        image: String,
        #[source]
        source: AttachError,
    },
    #[error("failed to read the SBOMs of {image}")]
    Sbom {
        image: String,
        #[source]
        source: sbom::SbomError,
    },
}

/// A published variant: what a release record stores.
#[derive(Debug, Clone)]
pub struct PublishedVariant {
    /// `<image>/<variant>`, for messages.
    pub name: String,
    pub repository: Repository,
    /// Digest of the image index.
    pub digest: Digest,
    pub tags: Vec<String>,
    /// Platforms of the index (`linux/amd64`).
    pub platforms: Vec<String>,
    pub push: PushReport,
    /// Signature tags of the index and each platform manifest, index first.
    pub signatures: Vec<AttachOutcome>,
    pub attestations: Vec<AttachOutcome>,
}

impl PublishedVariant {
    /// Returns the reference of the index signature (`<repository>:sha256-<hex>.sig`).
    pub fn signature_reference(&self) -> String {
        format!("{}:{}.sig", self.repository, self.digest.tag_prefix())
    }
}

/// Pushes `plan` (made from `image`), then signs and attests with `signer` when given.
pub async fn publish_variant(
    client: &RegistryClient,
    name: &str,
    image: &LayoutImage,
    plan: &PushPlan,
    signer: Option<&Signer>,
) -> Result<PublishedVariant, PublishError> {
    let push = crate::registry::push(client, plan, &image.dir)
        .await
        .map_err(|source| PublishError::Push {
            image: name.to_owned(),
            source,
        })?;
    let mut published = PublishedVariant {
        name: name.to_owned(),
        repository: plan.repository.clone(),
        digest: image.index.digest.clone(),
        tags: plan.tags.clone(),
        platforms: image
            .platforms
            .iter()
            .map(|platform| platform.platform.clone())
            .collect(),
        push,
        signatures: Vec::new(),
        attestations: Vec::new(),
    };
    let Some(signer) = signer else {
        return Ok(published);
    };

    let sign_error = |source| PublishError::Sign {
        image: name.to_owned(),
        source,
    };
    for (digest, sbom_path) in signing_targets(image) {
        let outcome = sign_manifest(client, &plan.repository, &digest, signer)
            .await
            .map_err(sign_error)?;
        published.signatures.push(outcome);

        let sbom = sbom::read_sbom(&sbom_path).map_err(|source| PublishError::Sbom {
            image: name.to_owned(),
            source,
        })?;
        let Some(sbom) = sbom else {
            tracing::warn!(image = name, %digest, path = %sbom_path.display(), "no SBOM found, not attesting");
            continue;
        };
        let outcome = attest_manifest(client, &plan.repository, &digest, &sbom, signer)
            .await
            .map_err(sign_error)?;
        published.attestations.push(outcome);
    }
    Ok(published)
}

/// Lists the index and each platform manifest with the SBOM that describes it.
fn signing_targets(image: &LayoutImage) -> Vec<(Digest, PathBuf)> {
    let dir: &Path = &image.dir;
    let mut targets = vec![(image.index.digest.clone(), sbom::index_sbom_path(dir))];
    for platform in &image.platforms {
        targets.push((
            platform.manifest.digest.clone(),
            sbom::platform_sbom_path(dir, &platform.platform),
        ));
    }
    targets
}

/// Describes what [`publish_variant`] would sign for `--dry-run`.
pub fn describe_signing(image: &LayoutImage, plan: &PushPlan, signer_kind: &str) -> String {
    let mut text = String::new();
    for (digest, sbom_path) in signing_targets(image) {
        text.push_str(&format!(
            "  sign {}@{digest} ({signer_kind}) as {}.sig\n",
            plan.repository,
            digest.tag_prefix()
        ));
        let attest = if sbom_path.is_file() {
            format!("  attest {digest} with {}\n", sbom_path.display())
        } else {
            format!(
                "  no attestation for {digest}: {} is missing\n",
                sbom_path.display()
            )
        };
        text.push_str(&attest);
    }
    text
}
