//! Signing and attesting a pushed manifest: builds the payload, signs it and appends it
//! under the manifest's `.sig` or `.att` tag, unless an earlier run stored the same.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::artifact::{
    ArtifactLayer, BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION, DSSE_MEDIA_TYPE,
    ExistingLayer, PREDICATE_TYPE_ANNOTATION, SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE,
    append_layer, existing_layers,
};
use super::attestation::{
    Envelope, IN_TOTO_PAYLOAD_TYPE, SPDX_PREDICATE_TYPE, pae, spdx_statement,
};
use super::payload::SimpleSigning;
use super::signer::{SignatureMaterial, Signer, SignerError};
use crate::registry::{Digest, RegistryClient, RegistryError, Repository};

/// Signing or attesting one manifest failed.
#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("failed to sign {digest} in {repository}")]
    Sign {
        repository: Repository,
        digest: Digest,
        #[source]
        source: SignerError,
    },
}

/// Whether a signature or attestation was added or found from an earlier run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachOutcome {
    /// Added; the tag now points at this manifest digest.
    Added {
        tag: String,
        manifest: Digest,
    },
    AlreadyPresent {
        tag: String,
    },
}

impl AttachOutcome {
    pub fn tag(&self) -> &str {
        match self {
            AttachOutcome::Added { tag, .. } | AttachOutcome::AlreadyPresent { tag } => tag,
        }
    }
}

/// Signs the manifest `digest` of `repository` with a simple-signing payload stored
/// under `sha256-<hex>.sig`.
pub async fn sign_manifest(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    signer: &Signer,
) -> Result<AttachOutcome, AttachError> {
    let tag = format!("{}.sig", digest.tag_prefix());
    let payload = SimpleSigning::new(repository, digest).to_bytes();
    let existing = existing_layers(client, repository, &tag).await?;
    if has_signature_of(&existing, &payload, signer) {
        tracing::info!(%repository, %digest, tag, "signature already present");
        return Ok(AttachOutcome::AlreadyPresent { tag });
    }

    let material = signer
        .sign(&payload)
        .await
        .map_err(|source| AttachError::Sign {
            repository: repository.clone(),
            digest: digest.clone(),
            source,
        })?;
    let layer = ArtifactLayer {
        media_type: SIMPLE_SIGNING_MEDIA_TYPE,
        blob: payload,
        annotations: annotations(&material),
    };
    let manifest = append_layer(client, repository, &tag, &existing, &layer).await?;
    tracing::info!(%repository, %digest, tag, "signed");
    Ok(AttachOutcome::Added { tag, manifest })
}

/// Attests the manifest `digest` with the SPDX document `sbom`, stored as a DSSE
/// envelope under `sha256-<hex>.att`.
pub async fn attest_manifest(
    client: &RegistryClient,
    repository: &Repository,
    digest: &Digest,
    sbom: &serde_json::Value,
    signer: &Signer,
) -> Result<AttachOutcome, AttachError> {
    let tag = format!("{}.att", digest.tag_prefix());
    let statement = spdx_statement(repository, digest, sbom);
    let existing = existing_layers(client, repository, &tag).await?;
    if has_statement(client, repository, &existing, &statement).await? {
        tracing::info!(%repository, %digest, tag, "attestation already present");
        return Ok(AttachOutcome::AlreadyPresent { tag });
    }

    let material = signer
        .sign(&pae(IN_TOTO_PAYLOAD_TYPE, &statement))
        .await
        .map_err(|source| AttachError::Sign {
            repository: repository.clone(),
            digest: digest.clone(),
            source,
        })?;
    let mut annotations = annotations(&material);
    // The signature is inside the envelope, so this annotation stays empty.
    annotations.insert(SIGNATURE_ANNOTATION.to_owned(), String::new());
    annotations.insert(
        PREDICATE_TYPE_ANNOTATION.to_owned(),
        SPDX_PREDICATE_TYPE.to_owned(),
    );
    let layer = ArtifactLayer {
        media_type: DSSE_MEDIA_TYPE,
        blob: Envelope::new(&statement, &material.signature).to_bytes(),
        annotations,
    };
    let manifest = append_layer(client, repository, &tag, &existing, &layer).await?;
    tracing::info!(%repository, %digest, tag, "attested");
    Ok(AttachOutcome::Added { tag, manifest })
}

fn annotations(material: &SignatureMaterial) -> BTreeMap<String, String> {
    let mut annotations = BTreeMap::new();
    annotations.insert(
        SIGNATURE_ANNOTATION.to_owned(),
        STANDARD.encode(&material.signature),
    );
    if let Some(certificate) = &material.certificate {
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), certificate.clone());
    }
    if let Some(chain) = &material.chain {
        annotations.insert(CHAIN_ANNOTATION.to_owned(), chain.clone());
    }
    if let Some(bundle) = &material.bundle {
        annotations.insert(BUNDLE_ANNOTATION.to_owned(), bundle.to_string());
    }
    annotations
}

/// Checks for a layer with the same payload whose signature verifies with our key.
/// Keyless runs accept any certified signature of that payload, because each run gets
/// a new certificate.
fn has_signature_of(existing: &[ExistingLayer], payload: &[u8], signer: &Signer) -> bool {
    let payload_digest = Digest::of(payload);
    let public_key = signer.public_key().and_then(Result::ok);
    existing
        .iter()
        .filter(|layer| layer.digest == payload_digest)
        .any(|layer| {
            let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
                return false;
            };
            match (&public_key, STANDARD.decode(signature)) {
                (Some(key), Ok(signature)) => key.verify(&signature, payload),
                (None, Ok(_)) => layer.annotations.contains_key(CERTIFICATE_ANNOTATION),
                (_, Err(_)) => false,
            }
        })
}

async fn has_statement(
    client: &RegistryClient,
    repository: &Repository,
    existing: &[ExistingLayer],
    statement: &[u8],
) -> Result<bool, RegistryError> {
    for layer in existing
        .iter()
        .filter(|layer| layer.media_type == DSSE_MEDIA_TYPE)
    {
        let blob = client.pull_blob(repository, &layer.digest).await?;
        let envelope: Option<Envelope> = serde_json::from_slice(&blob).ok();
        if envelope
            .and_then(|envelope| envelope.statement())
            .as_deref()
            == Some(statement)
        {
            return Ok(true);
        }
    }
    Ok(false)
}
