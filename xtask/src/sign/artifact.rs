//! The OCI artifacts cosign stores next to an image: an image manifest tagged
//! `sha256-<digest>.sig` (or `.att`) whose layers are signature payloads (or DSSE
//! envelopes), with the signature material in layer annotations.
//!
//! A new signature is appended to the layers already under the tag, as cosign does, so
//! signatures from other signers survive.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::registry::{Digest, RegistryClient, RegistryError, Repository};

/// Layer annotation holding the base64 signature.
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
/// Layer annotation holding the Fulcio certificate (keyless).
pub const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
/// Layer annotation holding the rest of the Fulcio chain (keyless).
pub const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
/// Layer annotation holding the Rekor entry (keyless).
pub const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
/// Layer annotation naming an attestation's predicate type.
pub const PREDICATE_TYPE_ANNOTATION: &str = "predicateType";
/// Media type of a simple-signing payload layer.
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
/// Media type of a DSSE envelope layer.
pub const DSSE_MEDIA_TYPE: &str = "application/vnd.dsse.envelope.v1+json";

const MANIFEST_MEDIA_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_MEDIA_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// A layer to add under a signature or attestation tag.
#[derive(Debug, Clone)]
pub struct ArtifactLayer {
    pub media_type: &'static str,
    pub blob: Vec<u8>,
    pub annotations: BTreeMap<String, String>,
}

/// A layer already stored under the tag, as the manifest lists it.
#[derive(Debug, Clone)]
pub struct ExistingLayer {
    pub media_type: String,
    pub digest: Digest,
    pub size: u64,
    pub annotations: BTreeMap<String, String>,
}

/// Reads the layers under `tag`; an absent tag has none.
pub async fn existing_layers(
    client: &RegistryClient,
    repository: &Repository,
    tag: &str,
) -> Result<Vec<ExistingLayer>, RegistryError> {
    let manifest = match client
        .pull_manifest(repository, &repository.at_tag(tag))
        .await
    {
        Ok((bytes, _)) => bytes,
        Err(error) if error.is_not_found() => return Ok(Vec::new()),
        Err(error) => return Err(error),
    };
    let manifest: Value = serde_json::from_slice(&manifest).unwrap_or(Value::Null);
    let layers = manifest["layers"].as_array().cloned().unwrap_or_default();
    Ok(layers.iter().filter_map(parse_layer).collect())
}

fn parse_layer(layer: &Value) -> Option<ExistingLayer> {
    let digest = Digest::parse(layer["digest"].as_str()?).ok()?;
    let annotations = layer["annotations"]
        .as_object()
        .map(|map| {
            map.iter()
                .filter_map(|(key, value)| Some((key.clone(), value.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    Some(ExistingLayer {
        media_type: layer["mediaType"].as_str().unwrap_or_default().to_owned(),
        digest,
        size: layer["size"].as_u64()?,
        annotations,
    })
}

/// Pushes `layer` and a manifest listing `existing` plus `layer` under `tag`. Blobs go
/// first so the manifest never names a missing blob.
pub async fn append_layer(
    client: &RegistryClient,
    repository: &Repository,
    tag: &str,
    existing: &[ExistingLayer],
    layer: &ArtifactLayer,
) -> Result<Digest, RegistryError> {
    let layer_digest = Digest::of(&layer.blob);
    let mut descriptors: Vec<Value> = existing.iter().map(existing_descriptor).collect();
    descriptors.push(json!({
        "mediaType": layer.media_type,
        "size": layer.blob.len(),
        "digest": layer_digest.to_string(),
        "annotations": layer.annotations,
    }));
    let diff_ids: Vec<String> = descriptors
        .iter()
        .filter_map(|descriptor| descriptor["digest"].as_str().map(str::to_owned))
        .collect();
    let config = serde_json::to_vec(&json!({
        "architecture": "",
        "os": "",
        "config": {},
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
    }))
    .unwrap_or_default();
    let config_digest = Digest::of(&config);

    for (digest, bytes) in [(&layer_digest, &layer.blob), (&config_digest, &config)] {
        if !client.blob_exists(repository, digest).await? {
            client
                .push_blob(repository, digest, bytes.clone().into())
                .await?;
        }
    }

    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA_TYPE,
        "config": { "mediaType": CONFIG_MEDIA_TYPE, "size": config.len(), "digest": config_digest.to_string() },
        "layers": descriptors,
    }))
    .unwrap_or_default();
    client
        .push_manifest(
            repository,
            &repository.at_tag(tag),
            MANIFEST_MEDIA_TYPE,
            &manifest,
        )
        .await?;
    Ok(Digest::of(&manifest))
}

fn existing_descriptor(layer: &ExistingLayer) -> Value {
    json!({
        "mediaType": layer.media_type,
        "size": layer.size,
        "digest": layer.digest.to_string(),
        "annotations": layer.annotations,
    })
}
