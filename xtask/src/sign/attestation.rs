//! SBOM attestations: an in-toto statement whose predicate is the SPDX document, signed
//! in a DSSE envelope, as `cosign attest --type spdxjson` stores them.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::registry::{Digest, Repository};

/// `payloadType` of an in-toto statement inside DSSE.
pub const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";
/// in-toto statement version cosign writes.
pub const STATEMENT_TYPE: &str = "https://in-toto.io/Statement/v0.1";
/// Predicate type of SPDX SBOMs.
pub const SPDX_PREDICATE_TYPE: &str = "https://spdx.dev/Document";

/// A DSSE envelope with one or more signatures over `payload`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    #[serde(rename = "payloadType")]
    pub payload_type: String,
    /// The statement, base64.
    pub payload: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    pub keyid: String,
    /// DER ECDSA signature over the PAE of the payload, base64.
    pub sig: String,
}

/// Builds the in-toto statement for the manifest `digest` with an SPDX predicate.
pub fn spdx_statement(
    repository: &Repository,
    digest: &Digest,
    sbom: &serde_json::Value,
) -> Vec<u8> {
    let statement = serde_json::json!({
        "_type": STATEMENT_TYPE,
        "predicateType": SPDX_PREDICATE_TYPE,
        "subject": [{
            "name": repository.to_string(),
            "digest": { "sha256": digest.hex() },
        }],
        "predicate": sbom,
    });
    serde_json::to_vec(&statement).unwrap_or_default()
}

/// DSSE pre-authentication encoding: what the signature covers.
/// `"DSSEv1" SP len(type) SP type SP len(body) SP body`, lengths in ASCII decimal.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        payload.len()
    )
    .into_bytes();
    bytes.extend_from_slice(payload);
    bytes
}

impl Envelope {
    /// Creates an envelope containing `statement` and the signature over its PAE.
    pub fn new(statement: &[u8], signature: &[u8]) -> Envelope {
        Envelope {
            payload_type: IN_TOTO_PAYLOAD_TYPE.to_owned(),
            payload: STANDARD.encode(statement),
            signatures: vec![EnvelopeSignature {
                keyid: String::new(),
                sig: STANDARD.encode(signature),
            }],
        }
    }

    /// Decodes the statement, or returns `None` when the payload is not valid base64.
    pub fn statement(&self) -> Option<Vec<u8>> {
        STANDARD.decode(&self.payload).ok()
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_follows_dsse_v1() {
        assert_eq!(pae("t", b"hello"), b"DSSEv1 1 t 5 hello".to_vec());
    }

    #[test]
    fn statement_names_subject_digest() {
        let repository = Repository::parse("127.0.0.1:5000/org/nginx").expect("valid");
        let digest = Digest::of(b"m");
        let statement = spdx_statement(
            &repository,
            &digest,
            &serde_json::json!({"spdxVersion": "SPDX-2.3"}),
        );
        let value: serde_json::Value = serde_json::from_slice(&statement).expect("json");
        assert_eq!(value["subject"][0]["digest"]["sha256"], digest.hex());
        assert_eq!(value["predicateType"], SPDX_PREDICATE_TYPE);
        assert_eq!(value["predicate"]["spdxVersion"], "SPDX-2.3");
    }
}
