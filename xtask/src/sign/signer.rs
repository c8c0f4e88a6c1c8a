//! The signer: a cosign key pair, or an ephemeral key certified by Fulcio (keyless).
//! Either way a signature comes back with what a verifier needs next to it.

use super::keyless::{KeylessError, KeylessSigner};
use super::keys::{CosignSigner, KeyError};

/// A signature and the material stored with it in the signature layer's annotations.
#[derive(Debug, Clone)]
pub struct SignatureMaterial {
    /// DER ECDSA signature.
    pub signature: Vec<u8>,
    /// Keyless only: the Fulcio leaf certificate (PEM).
    pub certificate: Option<String>,
    /// Keyless only: the rest of the Fulcio chain (PEM).
    pub chain: Option<String>,
    /// Keyless only: the Rekor entry as cosign's bundle annotation (JSON).
    pub bundle: Option<serde_json::Value>,
}

/// Signing failed.
#[derive(Debug, thiserror::Error)]
pub enum SignerError {
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Keyless(#[from] KeylessError),
}

/// The configured way of signing.
#[derive(Debug)]
pub enum Signer {
    Key(CosignSigner),
    Keyless(KeylessSigner),
}

impl Signer {
    /// Signs `message`; keyless signing also records the signature in Rekor.
    pub async fn sign(&self, message: &[u8]) -> Result<SignatureMaterial, SignerError> {
        match self {
            Signer::Key(key) => Ok(SignatureMaterial {
                signature: key.sign(message)?,
                certificate: None,
                chain: None,
                bundle: None,
            }),
            Signer::Keyless(keyless) => Ok(keyless.sign(message).await?),
        }
    }

    /// Returns the public key when signing with a key pair, to recognise signatures made by an
    /// earlier run and not sign the same content twice.
    pub fn public_key(&self) -> Option<Result<super::keys::CosignPublicKey, KeyError>> {
        match self {
            Signer::Key(key) => Some(key.public_key()),
            Signer::Keyless(_) => None,
        }
    }
}
