//! Verification of cosign signatures. It fetches the `.sig` manifest of an image and
//! checks each signature over its payload, with a public key or, for keyless
//! signatures, with the key of a trusted Fulcio certificate. The payload must name the
//! digest of the image.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use super::artifact::{SIGNATURE_ANNOTATION, SIMPLE_SIGNING_MEDIA_TYPE, existing_layers};
use super::keyless_verify::{KeylessPolicy, KeylessProblem};
use super::keys::CosignPublicKey;
use super::payload::{SIGNATURE_TYPE, SimpleSigning};
use crate::registry::{Digest, ImageReference, RegistryClient, RegistryError, Repository};

/// The key or keyless requirements that a signature is verified against.
#[derive(Debug)]
pub enum TrustPolicy {
    /// A cosign public key (`cosign.pub`).
    Key(CosignPublicKey),
    /// A Fulcio root with the expected identity and issuer (keyless signing).
    Keyless(KeylessPolicy),
}

/// A signature that passed every check.
#[derive(Debug, Clone)]
pub struct VerifiedSignature {
    pub repository: Repository,
    /// The manifest digest the reference resolved to and the payload names.
    pub digest: Digest,
    /// Digest of the payload layer that verified.
    pub payload_digest: Digest,
    /// The payload's `docker-reference`.
    pub docker_reference: String,
}

/// Reason one signature layer did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerProblem {
    MissingSignature {
        layer: Digest,
    },
    InvalidBase64 {
        layer: Digest,
    },
    SignatureMismatch {
        layer: Digest,
    },
    InvalidPayload {
        layer: Digest,
        message: String,
    },
    DigestMismatch {
        layer: Digest,
        payload_digest: String,
    },
    Keyless {
        layer: Digest,
        problem: KeylessProblem,
    },
}

impl fmt::Display for LayerProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LayerProblem::MissingSignature { layer } => {
                write!(
                    f,
                    "layer {layer} has no `{SIGNATURE_ANNOTATION}` annotation"
                )
            }
            LayerProblem::InvalidBase64 { layer } => {
                write!(f, "layer {layer}: the signature is not valid base64")
            }
            LayerProblem::SignatureMismatch { layer } => {
                write!(
                    f,
                    "layer {layer}: the signature does not verify with the given public key"
                )
            }
            LayerProblem::InvalidPayload { layer, message } => {
                write!(
                    f,
                    "layer {layer}: invalid simple-signing payload: {message}"
                )
            }
            LayerProblem::DigestMismatch {
                layer,
                payload_digest,
            } => write!(
                f,
                "layer {layer}: the payload signs digest {payload_digest}, not the image's"
            ),
            LayerProblem::Keyless { layer, problem } => write!(f, "layer {layer}: {problem}"),
        }
    }
}

/// Verification failed.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error("{reference} was not found")]
    ImageNotFound { reference: String },
    #[error(
        "no signatures for {repository}@{digest}: tag `{tag}` does not exist or has no signature layers"
    )]
    NoSignatures {
        repository: Repository,
        digest: Digest,
        tag: String,
    },
    #[error("no valid signature for {repository}@{digest}:\n  {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  "))]
    Invalid {
        repository: Repository,
        digest: Digest,
        problems: Vec<LayerProblem>,
    },
}

/// Verifies `reference` against `policy`. Succeeds when at least one signature layer
/// verifies and its payload names the manifest digest `reference` resolves to.
pub async fn verify_image(
    client: &RegistryClient,
    reference: &ImageReference,
    policy: &TrustPolicy,
) -> Result<VerifiedSignature, VerifyError> {
    let repository = reference.repository().clone();
    let digest = resolve(client, reference).await?;
    let tag = format!("{}.sig", digest.tag_prefix());
    let layers = existing_layers(client, &repository, &tag).await?;
    let layers: Vec<_> = layers
        .into_iter()
        .filter(|layer| layer.media_type == SIMPLE_SIGNING_MEDIA_TYPE)
        .collect();
    if layers.is_empty() {
        return Err(VerifyError::NoSignatures {
            repository,
            digest,
            tag,
        });
    }

    let mut problems = Vec::new();
    for layer in &layers {
        let payload = client.pull_blob(&repository, &layer.digest).await?;
        let signature = layer.annotations.get(SIGNATURE_ANNOTATION);
        let result = match policy {
            TrustPolicy::Key(key) => check_layer(
                &layer.digest,
                signature.map(String::as_str),
                &payload,
                key,
                &digest,
            ),
            TrustPolicy::Keyless(keyless) => check_keyless_layer(layer, &payload, keyless, &digest),
        };
        match result {
            Ok(payload) => {
                if payload.critical.identity.docker_reference != repository.to_string() {
                    tracing::warn!(
                        signed = payload.critical.identity.docker_reference,
                        %repository,
                        "the signature names another repository; the image was probably copied"
                    );
                }
                return Ok(VerifiedSignature {
                    repository,
                    digest,
                    payload_digest: layer.digest.clone(),
                    docker_reference: payload.critical.identity.docker_reference,
                });
            }
            Err(problem) => problems.push(problem),
        }
    }
    Err(VerifyError::Invalid {
        repository,
        digest,
        problems,
    })
}

/// Checks one layer: signature over the payload bytes, then the digest it names.
pub fn check_layer(
    layer: &Digest,
    signature: Option<&str>,
    payload: &[u8],
    key: &CosignPublicKey,
    expected: &Digest,
) -> Result<SimpleSigning, LayerProblem> {
    let layer = layer.clone();
    let Some(signature) = signature else {
        return Err(LayerProblem::MissingSignature { layer });
    };
    let Ok(signature) = STANDARD.decode(signature.trim()) else {
        return Err(LayerProblem::InvalidBase64 { layer });
    };
    if !key.verify(&signature, payload) {
        return Err(LayerProblem::SignatureMismatch { layer });
    }
    check_payload(layer, payload, expected)
}

/// Checks one keyless layer: certificate, identity, issuer, signature and Rekor bundle,
/// then the digest the payload names.
fn check_keyless_layer(
    layer: &super::artifact::ExistingLayer,
    payload: &[u8],
    policy: &KeylessPolicy,
    expected: &Digest,
) -> Result<SimpleSigning, LayerProblem> {
    let digest = layer.digest.clone();
    let Some(signature) = layer.annotations.get(SIGNATURE_ANNOTATION) else {
        return Err(LayerProblem::MissingSignature { layer: digest });
    };
    let Ok(signature) = STANDARD.decode(signature.trim()) else {
        return Err(LayerProblem::InvalidBase64 { layer: digest });
    };
    policy
        .check(&layer.annotations, &signature, payload)
        .map_err(|problem| LayerProblem::Keyless {
            layer: digest.clone(),
            problem,
        })?;
    check_payload(digest, payload, expected)
}

/// Checks that a verified payload is a cosign signature payload naming `expected`.
fn check_payload(
    layer: Digest,
    payload: &[u8],
    expected: &Digest,
) -> Result<SimpleSigning, LayerProblem> {
    let parsed: SimpleSigning =
        serde_json::from_slice(payload).map_err(|error| LayerProblem::InvalidPayload {
            layer: layer.clone(),
            message: error.to_string(),
        })?;
    if parsed.critical.kind != SIGNATURE_TYPE {
        return Err(LayerProblem::InvalidPayload {
            layer,
            message: format!("unexpected type `{}`", parsed.critical.kind),
        });
    }
    if parsed.critical.image.docker_manifest_digest != expected.as_str() {
        return Err(LayerProblem::DigestMismatch {
            layer,
            payload_digest: parsed.critical.image.docker_manifest_digest,
        });
    }
    Ok(parsed)
}

async fn resolve(
    client: &RegistryClient,
    reference: &ImageReference,
) -> Result<Digest, VerifyError> {
    let (repository, oci_reference) = match reference {
        ImageReference::Tag(repository, tag) => (repository, repository.at_tag(tag)),
        ImageReference::Digest(repository, digest) => (repository, repository.at_digest(digest)),
    };
    match client.manifest_digest(repository, &oci_reference).await? {
        Some(digest) => Ok(digest),
        None => Err(VerifyError::ImageNotFound {
            reference: reference.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sign::keys::CosignSigner;

    fn signed(payload: &SimpleSigning, signer: &CosignSigner) -> (Vec<u8>, String) {
        let bytes = payload.to_bytes();
        let signature = STANDARD.encode(signer.sign(&bytes).expect("sign"));
        (bytes, signature)
    }

    #[test]
    fn check_layer_cases() {
        let signer = CosignSigner::ephemeral().expect("key");
        let other = CosignSigner::ephemeral().expect("key");
        let key = signer.public_key().expect("public key");
        let repository = Repository::parse("127.0.0.1:5000/org/nginx").expect("valid");
        let digest = Digest::of(b"index");
        let layer = Digest::of(b"layer");

        let (payload, signature) = signed(&SimpleSigning::new(&repository, &digest), &signer);
        assert!(check_layer(&layer, Some(&signature), &payload, &key, &digest).is_ok());

        let (_, foreign) = signed(&SimpleSigning::new(&repository, &digest), &other);
        let problem =
            check_layer(&layer, Some(&foreign), &payload, &key, &digest).expect_err("other key");
        assert!(matches!(problem, LayerProblem::SignatureMismatch { .. }));

        let (payload_other, signature_other) =
            signed(&SimpleSigning::new(&repository, &Digest::of(b"x")), &signer);
        let problem = check_layer(
            &layer,
            Some(&signature_other),
            &payload_other,
            &key,
            &digest,
        )
        .expect_err("other digest");
        assert!(matches!(problem, LayerProblem::DigestMismatch { .. }));

        let problem = check_layer(&layer, None, &payload, &key, &digest).expect_err("no signature");
        assert!(matches!(problem, LayerProblem::MissingSignature { .. }));
        let problem =
            check_layer(&layer, Some("%%%"), &payload, &key, &digest).expect_err("bad base64");
        assert!(matches!(problem, LayerProblem::InvalidBase64 { .. }));
    }
}
