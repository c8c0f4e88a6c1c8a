//! Keyless signing: an OIDC identity token from the GitHub Actions runtime, a short-lived
//! certificate for an ephemeral key from Fulcio (`POST /api/v2/signingCert`), and one
//! Rekor transparency log entry per signature (`POST /api/v1/log/entries`, kind
//! `hashedrekord`).
//!
//! The Fulcio and Rekor addresses have no default: the caller names the instances.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use super::keys::{CosignSigner, KeyError};
use super::signer::SignatureMaterial;
use crate::registry::Secret;

/// Audience Fulcio expects in the identity token.
const AUDIENCE: &str = "sigstore";

/// Source of the OIDC identity token.
#[derive(Debug, Clone)]
pub enum TokenSource {
    /// The GitHub Actions runtime (`ACTIONS_ID_TOKEN_REQUEST_URL` and
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`; the job needs `permissions: id-token: write`).
    GithubActions {
        request_url: String,
        request_token: Secret,
    },
    /// A token obtained by other means.
    Token(Secret),
}

/// Settings of keyless signing.
#[derive(Debug, Clone)]
pub struct KeylessConfig {
    pub fulcio_url: String,
    pub rekor_url: String,
    pub token: TokenSource,
}

/// Keyless signing failed.
#[derive(Debug, thiserror::Error)]
pub enum KeylessError {
    #[error(
        "keyless signing needs `{0}`; in GitHub Actions give the job `permissions: id-token: write`"
    )]
    MissingEnv(&'static str),
    #[error("request to {service} at {url} failed: {message}")]
    Request {
        service: &'static str,
        url: String,
        message: String,
    },
    #[error("{service} at {url} rejected the request with HTTP {status}: {body}")]
    Rejected {
        service: &'static str,
        url: String,
        status: u16,
        body: String,
    },
    #[error("invalid reply from {service}: {message}")]
    InvalidReply {
        service: &'static str,
        message: String,
    },
    #[error("invalid identity token: {0}")]
    InvalidToken(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl TokenSource {
    /// Reads the Actions runtime variables. Fails with [`KeylessError::MissingEnv`]
    /// naming the first one missing.
    pub fn from_actions_env() -> Result<TokenSource, KeylessError> {
        let request_url = std::env::var("ACTIONS_ID_TOKEN_REQUEST_URL")
            .map_err(|_| KeylessError::MissingEnv("ACTIONS_ID_TOKEN_REQUEST_URL"))?;
        let request_token = std::env::var("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
            .map_err(|_| KeylessError::MissingEnv("ACTIONS_ID_TOKEN_REQUEST_TOKEN"))?;
        Ok(TokenSource::GithubActions {
            request_url,
            request_token: Secret::new(request_token),
        })
    }
}

/// An ephemeral key with its Fulcio certificate, for one publish run.
pub struct KeylessSigner {
    key: CosignSigner,
    certificate: String,
    chain: String,
    rekor_url: String,
    http: reqwest::Client,
}

impl std::fmt::Debug for KeylessSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeylessSigner")
            .field("rekor_url", &self.rekor_url)
            .finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct ActionsToken {
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FulcioReply {
    signed_certificate_embedded_sct: Option<FulcioChain>,
    signed_certificate_detached_sct: Option<FulcioChain>,
}

#[derive(Deserialize)]
struct FulcioChain {
    chain: FulcioCertificates,
}

#[derive(Deserialize)]
struct FulcioCertificates {
    certificates: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorEntry {
    body: String,
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: String,
    log_index: i64,
    verification: Option<RekorVerification>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RekorVerification {
    signed_entry_timestamp: Option<String>,
}

impl KeylessSigner {
    /// Fetches an identity token, creates an ephemeral key and has Fulcio certify it.
    pub async fn start(config: &KeylessConfig) -> Result<KeylessSigner, KeylessError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .map_err(|error| KeylessError::Request {
                service: "HTTP client",
                url: String::new(),
                message: error.to_string(),
            })?;
        let token = identity_token(&http, &config.token).await?;
        let subject = token_subject(&token)?;
        let key = CosignSigner::ephemeral()?;
        let proof = key.sign(subject.as_bytes())?;
        let certificates =
            request_certificate(&http, &config.fulcio_url, &token, &key, &proof).await?;
        let Some((leaf, rest)) = certificates.split_first() else {
            return Err(KeylessError::InvalidReply {
                service: "Fulcio",
                message: "the certificate chain is empty".into(),
            });
        };
        tracing::info!(fulcio = %config.fulcio_url, "Fulcio certificate issued");
        Ok(KeylessSigner {
            key,
            certificate: leaf.clone(),
            chain: rest.concat(),
            rekor_url: config.rekor_url.clone(),
            http,
        })
    }

    /// Signs `message` and records the signature in Rekor.
    pub async fn sign(&self, message: &[u8]) -> Result<SignatureMaterial, KeylessError> {
        let signature = self.key.sign(message)?;
        let bundle = self.record(message, &signature).await?;
        Ok(SignatureMaterial {
            signature,
            certificate: Some(self.certificate.clone()),
            chain: Some(self.chain.clone()),
            bundle: Some(bundle),
        })
    }

    async fn record(
        &self,
        message: &[u8],
        signature: &[u8],
    ) -> Result<serde_json::Value, KeylessError> {
        let url = format!(
            "{}/api/v1/log/entries",
            self.rekor_url.trim_end_matches('/')
        );
        let entry = serde_json::json!({
            "apiVersion": "0.0.1",
            "kind": "hashedrekord",
            "spec": {
                "data": { "hash": { "algorithm": "sha256", "value": hex::encode(Sha256::digest(message)) } },
                "signature": {
                    "content": STANDARD.encode(signature),
                    "publicKey": { "content": STANDARD.encode(&self.certificate) },
                },
            },
        });
        let reply = send_json(self.http.post(&url).json(&entry), "Rekor", &url).await?;
        let entries: std::collections::HashMap<String, RekorEntry> =
            serde_json::from_str(&reply).map_err(|error| KeylessError::InvalidReply {
                service: "Rekor",
                message: error.to_string(),
            })?;
        let Some((uuid, entry)) = entries.into_iter().next() else {
            return Err(KeylessError::InvalidReply {
                service: "Rekor",
                message: "no log entry in the reply".into(),
            });
        };
        tracing::info!(rekor = %self.rekor_url, uuid, log_index = entry.log_index, "Rekor entry recorded");
        let timestamp = entry
            .verification
            .and_then(|verification| verification.signed_entry_timestamp);
        Ok(serde_json::json!({
            "SignedEntryTimestamp": timestamp,
            "Payload": {
                "body": entry.body,
                "integratedTime": entry.integrated_time,
                "logIndex": entry.log_index,
                "logID": entry.log_id,
            },
        }))
    }
}

async fn identity_token(
    http: &reqwest::Client,
    source: &TokenSource,
) -> Result<String, KeylessError> {
    let (request_url, request_token) = match source {
        TokenSource::Token(token) => return Ok(token.expose().to_owned()),
        TokenSource::GithubActions {
            request_url,
            request_token,
        } => (request_url, request_token),
    };
    let separator = if request_url.contains('?') { '&' } else { '?' };
    let url = format!("{request_url}{separator}audience={AUDIENCE}");
    let request = http.get(&url).header(
        "Authorization",
        format!("bearer {}", request_token.expose()),
    );
    let reply = send_json(request, "the Actions token service", request_url).await?;
    let token: ActionsToken =
        serde_json::from_str(&reply).map_err(|error| KeylessError::InvalidReply {
            service: "the Actions token service",
            message: error.to_string(),
        })?;
    Ok(token.value)
}

/// Reads the `sub` claim, which the proof of possession signs. The token's signature is
/// Fulcio's to check, not ours.
fn token_subject(token: &str) -> Result<String, KeylessError> {
    let claims = token.split('.').nth(1).ok_or_else(|| {
        KeylessError::InvalidToken("not a JWT (expected three dot-separated parts)".into())
    })?;
    let claims = URL_SAFE_NO_PAD
        .decode(claims.trim_end_matches('='))
        .map_err(|_| KeylessError::InvalidToken("the claims are not base64url".into()))?;
    let claims: serde_json::Value = serde_json::from_slice(&claims)
        .map_err(|_| KeylessError::InvalidToken("the claims are not JSON".into()))?;
    claims["sub"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| KeylessError::InvalidToken("no `sub` claim".into()))
}

async fn request_certificate(
    http: &reqwest::Client,
    fulcio_url: &str,
    token: &str,
    key: &CosignSigner,
    proof: &[u8],
) -> Result<Vec<String>, KeylessError> {
    let url = format!("{}/api/v2/signingCert", fulcio_url.trim_end_matches('/'));
    let body = serde_json::json!({
        "credentials": { "oidcIdentityToken": token },
        "publicKeyRequest": {
            "publicKey": { "algorithm": "ECDSA", "content": key.public_key_pem() },
            "proofOfPossession": STANDARD.encode(proof),
        },
    });
    let reply = send_json(http.post(&url).json(&body), "Fulcio", &url).await?;
    let reply: FulcioReply =
        serde_json::from_str(&reply).map_err(|error| KeylessError::InvalidReply {
            service: "Fulcio",
            message: error.to_string(),
        })?;
    let chain = reply
        .signed_certificate_embedded_sct
        .or(reply.signed_certificate_detached_sct)
        .ok_or_else(|| KeylessError::InvalidReply {
            service: "Fulcio",
            message: "no signed certificate in the reply".into(),
        })?;
    Ok(chain.chain.certificates)
}

// NOTE: Fulcio and Rekor requests are not retried; a failure stops the publish after
// the push, and running it again signs what is still unsigned.
async fn send_json(
    request: reqwest::RequestBuilder,
    service: &'static str,
    url: &str,
) -> Result<String, KeylessError> {
    let request_error = |error: reqwest::Error| KeylessError::Request {
        service,
        url: url.to_owned(),
        message: crate::registry::retry::error_chain(&error),
    };
    let response = request.send().await.map_err(request_error)?;
    let status = response.status();
    let body = response.text().await.map_err(request_error)?;
    if !status.is_success() {
        return Err(KeylessError::Rejected {
            service,
            url: url.to_owned(),
            status: status.as_u16(),
            body: body.chars().take(500).collect(),
        });
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_is_read_from_claims() {
        let claims = URL_SAFE_NO_PAD.encode(r#"{"sub":"repo:org/images:ref:refs/heads/main"}"#);
        let token = format!("e30.{claims}.c2ln");
        assert_eq!(
            token_subject(&token).expect("valid"),
            "repo:org/images:ref:refs/heads/main"
        );
    }

    #[test]
    fn debug_output_redacts_tokens() {
        let secret = "request-token-5e3a";
        let config = KeylessConfig {
            fulcio_url: "http://127.0.0.1:1".into(),
            rekor_url: "http://127.0.0.1:2".into(),
            token: TokenSource::GithubActions {
                request_url: "http://127.0.0.1:3/token".into(),
                request_token: Secret::new(secret),
            },
        };
        let identity_token = TokenSource::Token(Secret::new(secret));
        for text in [format!("{config:?}"), format!("{identity_token:?}")] {
            assert!(!text.contains(secret), "token printed in {text}");
            assert!(text.contains("<redacted>"), "{text}");
        }
    }

    #[test]
    fn token_without_subject_is_rejected() {
        let claims = URL_SAFE_NO_PAD.encode(r#"{"iss":"x"}"#);
        assert!(token_subject(&format!("e30.{claims}.c2ln")).is_err());
        assert!(token_subject("not-a-jwt").is_err());
    }
}
