//! Cosign's simple-signing payload: the JSON document a signature is made over, which
//! names the repository and the manifest digest it vouches for.

use serde::{Deserialize, Serialize};

use crate::registry::{Digest, Repository};

/// The `type` value cosign writes and checks.
pub const SIGNATURE_TYPE: &str = "cosign container image signature";

/// `{"critical":{"identity":…,"image":…,"type":…},"optional":null}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimpleSigning {
    pub critical: Critical,
    pub optional: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Critical {
    pub identity: Identity,
    pub image: ImageDigest,
    #[serde(rename = "type")]
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The repository without tag or digest, as cosign writes it.
    #[serde(rename = "docker-reference")]
    pub docker_reference: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageDigest {
    #[serde(rename = "docker-manifest-digest")]
    pub docker_manifest_digest: String,
}

impl SimpleSigning {
    /// Creates the payload for the manifest `digest` in `repository`.
    pub fn new(repository: &Repository, digest: &Digest) -> SimpleSigning {
        SimpleSigning {
            critical: Critical {
                identity: Identity {
                    docker_reference: repository.to_string(),
                },
                image: ImageDigest {
                    docker_manifest_digest: digest.to_string(),
                },
                kind: SIGNATURE_TYPE.to_owned(),
            },
            optional: None,
        }
    }

    /// Serializes the payload: the bytes that are signed and stored as the layer.
    pub fn to_bytes(&self) -> Vec<u8> {
        // serde_json fails only on maps with non-string keys and failing `Serialize`
        // impls, and this type has neither.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_matches_cosign_layout() {
        let repository = Repository::parse("127.0.0.1:5000/org/nginx").expect("valid");
        let digest = Digest::of(b"manifest");
        let text =
            String::from_utf8(SimpleSigning::new(&repository, &digest).to_bytes()).expect("utf-8");
        let expected = format!(
            "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"127.0.0.1:5000/org/nginx\"}},\
             \"image\":{{\"docker-manifest-digest\":\"{digest}\"}},\
             \"type\":\"cosign container image signature\"}},\"optional\":null}}"
        );
        assert_eq!(text, expected);
    }
}
