//! Cosign key pairs: ECDSA P-256 keys whose private half is stored encrypted in cosign's
//! format (PEM label `ENCRYPTED SIGSTORE PRIVATE KEY`, scrypt key derivation and NaCl
//! secretbox), as `cosign generate-key-pair` writes them.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use sigstore::crypto::signing_key::SigStoreKeyPair;
use sigstore::crypto::{CosignVerificationKey, SigStoreSigner, Signature, SigningScheme};
use x509_cert::der::Decode as _;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use crate::registry::Secret;

/// File names `keygen --cosign` writes, as cosign names them.
pub const PRIVATE_KEY_FILE: &str = "cosign.key";
pub const PUBLIC_KEY_FILE: &str = "cosign.pub";

/// A key that cannot be created, read or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("failed to read key `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("failed to write key `{path}`")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` already exists; remove it first or write the pair to another folder")]
    Exists { path: PathBuf },
    #[error(
        "failed to decrypt private key `{path}`: wrong COSIGN_PASSWORD or not a cosign key ({message})"
    )]
    Decrypt { path: PathBuf, message: String },
    #[error("invalid public key `{path}`: {message}")]
    InvalidPublicKey { path: PathBuf, message: String },
    #[error(
        "`{path}` is not a public key: its PEM label is `{label}`, not `PUBLIC KEY`; pass the public half of the pair, such as the `cosign.pub` that `cargo xtask keygen --cosign` writes next to `cosign.key`, or the output of `cosign public-key --key {path}`"
    )]
    NotPublicKey { path: PathBuf, label: String },
    #[error("failed to {action}: {message}")]
    Crypto {
        action: &'static str,
        message: String,
    },
}

/// A private key ready to sign, with its public key in PEM.
pub struct CosignSigner {
    signer: SigStoreSigner,
    public_key_pem: String,
}

impl std::fmt::Debug for CosignSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosignSigner")
            .field("private_key", &"<redacted>")
            .finish()
    }
}

/// A public key that verifies ECDSA P-256 / SHA-256 signatures.
pub struct CosignPublicKey {
    key: CosignVerificationKey,
    pem: String,
}

impl std::fmt::Debug for CosignPublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CosignPublicKey").finish_non_exhaustive()
    }
}

fn crypto(action: &'static str) -> impl FnOnce(sigstore::errors::SigstoreError) -> KeyError {
    move |error| KeyError::Crypto {
        action,
        message: error.to_string(),
    }
}

impl CosignSigner {
    /// Creates a fresh P-256 key that lives in memory only (keyless signing).
    pub fn ephemeral() -> Result<CosignSigner, KeyError> {
        let signer = SigningScheme::ECDSA_P256_SHA256_ASN1
            .create_signer()
            .map_err(crypto("generate a key"))?;
        let public_key_pem = signer
            .to_sigstore_keypair()
            .and_then(|pair| pair.public_key_to_pem())
            .map_err(crypto("export a public key"))?;
        Ok(CosignSigner {
            signer,
            public_key_pem,
        })
    }

    /// Reads and decrypts a cosign private key.
    pub fn load(path: &Path, password: &Secret) -> Result<CosignSigner, KeyError> {
        let pem = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let pair = SigStoreKeyPair::from_encrypted_pem(&pem, password.expose().as_bytes())
            .map_err(|error| KeyError::Decrypt {
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        let signer = pair
            .to_sigstore_signer(&SigningScheme::ECDSA_P256_SHA256_ASN1)
            .map_err(|error| KeyError::Decrypt {
                path: path.to_owned(),
                message: format!("not an ECDSA P-256 key: {error}"),
            })?;
        let public_key_pem = pair
            .public_key_to_pem()
            .map_err(crypto("export a public key"))?;
        Ok(CosignSigner {
            signer,
            public_key_pem,
        })
    }

    /// Signs `message` with ECDSA P-256 over its SHA-256; returns the DER signature.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>, KeyError> {
        self.signer.sign(message).map_err(crypto("sign"))
    }

    /// Returns the public key in PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// Returns the matching public key.
    pub fn public_key(&self) -> Result<CosignPublicKey, KeyError> {
        CosignPublicKey::from_pem(self.public_key_pem.as_bytes(), Path::new("<in memory>"))
    }
}

impl CosignPublicKey {
    /// Reads a PEM public key file (`cosign.pub`).
    pub fn load(path: &Path) -> Result<CosignPublicKey, KeyError> {
        let pem = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        CosignPublicKey::from_pem(&pem, path)
    }

    /// Parses a PEM public key; `path` is only for the error message.
    pub fn from_pem(pem: &[u8], path: &Path) -> Result<CosignPublicKey, KeyError> {
        if let Some(label) = pem_label(pem)
            && label != "PUBLIC KEY"
        {
            return Err(KeyError::NotPublicKey {
                path: path.to_owned(),
                label,
            });
        }
        let key = CosignVerificationKey::from_pem(pem, &SigningScheme::ECDSA_P256_SHA256_ASN1)
            .map_err(|error| KeyError::InvalidPublicKey {
                path: path.to_owned(),
                message: error.to_string(),
            })?;
        Ok(CosignPublicKey {
            key,
            pem: String::from_utf8_lossy(pem).into_owned(),
        })
    }

    /// Parses a DER SubjectPublicKeyInfo, such as the key of a Fulcio certificate, and
    /// rejects keys that are not ECDSA P-256.
    pub fn from_der(der: &[u8]) -> Result<CosignPublicKey, KeyError> {
        require_p256(der)?;
        let key = CosignVerificationKey::from_der(der, &SigningScheme::ECDSA_P256_SHA256_ASN1)
            .map_err(crypto("read a public key"))?;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|line| std::str::from_utf8(line).unwrap_or_default())
            .collect();
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        );
        Ok(CosignPublicKey { key, pem })
    }

    /// Checks a DER signature over `message`.
    pub fn verify(&self, signature: &[u8], message: &[u8]) -> bool {
        self.key
            .verify_signature(Signature::Raw(signature), message)
            .is_ok()
    }

    pub fn pem(&self) -> &str {
        &self.pem
    }
}

/// Returns the label of the first PEM block (`PUBLIC KEY` in `-----BEGIN PUBLIC
/// KEY-----`), or `None` when the text has no BEGIN line.
fn pem_label(pem: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(pem);
    text.lines().find_map(|line| {
        let label = line
            .trim()
            .strip_prefix("-----BEGIN ")?
            .strip_suffix("-----")?;
        Some(label.to_owned())
    })
}

/// `id-ecPublicKey` and the `secp256r1` (P-256) curve, from RFC 5480.
const EC_PUBLIC_KEY_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const P256_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");

fn require_p256(der: &[u8]) -> Result<(), KeyError> {
    let invalid = |message: String| KeyError::Crypto {
        action: "read a public key",
        message,
    };
    let spki =
        SubjectPublicKeyInfoOwned::from_der(der).map_err(|error| invalid(error.to_string()))?;
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|parameters| parameters.decode_as::<ObjectIdentifier>().ok());
    if spki.algorithm.oid != EC_PUBLIC_KEY_OID || curve != Some(P256_OID) {
        return Err(invalid(format!(
            "the key is not ECDSA P-256 (algorithm {}, parameters {}); only P-256 is supported",
            spki.algorithm.oid,
            curve.map_or_else(|| "none".to_owned(), |oid| oid.to_string())
        )));
    }
    Ok(())
}

/// Paths of a key pair written by [`generate_cosign_key_pair`].
#[derive(Debug, Clone)]
pub struct KeyPairFiles {
    pub private_key: PathBuf,
    pub public_key: PathBuf,
}

/// Generates a P-256 key pair and writes `cosign.key` (encrypted with `password`,
/// mode 0600) and `cosign.pub` into `dir`. Existing files are never overwritten.
pub fn generate_cosign_key_pair(dir: &Path, password: &Secret) -> Result<KeyPairFiles, KeyError> {
    let files = KeyPairFiles {
        private_key: dir.join(PRIVATE_KEY_FILE),
        public_key: dir.join(PUBLIC_KEY_FILE),
    };
    for path in [&files.private_key, &files.public_key] {
        if path.exists() {
            return Err(KeyError::Exists { path: path.clone() });
        }
    }
    let signer = SigningScheme::ECDSA_P256_SHA256_ASN1
        .create_signer()
        .map_err(crypto("generate a key"))?;
    let pair = signer
        .to_sigstore_keypair()
        .map_err(crypto("export a key pair"))?;
    let private_pem = pair
        .private_key_to_encrypted_pem(password.expose().as_bytes())
        .map_err(crypto("encrypt the private key"))?;
    let public_pem = pair
        .public_key_to_pem()
        .map_err(crypto("export the public key"))?;

    write_private(&files.private_key, private_pem.as_bytes())?;
    std::fs::write(&files.public_key, public_pem).map_err(|source| KeyError::Write {
        path: files.public_key.clone(),
        source,
    })?;
    Ok(files)
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let write_error = |source| KeyError::Write {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(write_error)?;
    file.write_all(bytes).map_err(write_error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_pair_round_trip() {
        let dir = tempfile::tempdir().expect("temp dir");
        let password = Secret::new("test password");
        let files = generate_cosign_key_pair(dir.path(), &password).expect("generate");
        let private = std::fs::read_to_string(&files.private_key).expect("read key");
        assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));

        let signer = CosignSigner::load(&files.private_key, &password).expect("load");
        let public = CosignPublicKey::load(&files.public_key).expect("load public");
        let signature = signer.sign(b"payload").expect("sign");
        assert!(public.verify(&signature, b"payload"));
        assert!(!public.verify(&signature, b"other payload"));
    }

    #[test]
    fn private_key_is_not_a_public_key() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = generate_cosign_key_pair(dir.path(), &Secret::new("a")).expect("generate");
        let error = CosignPublicKey::load(&files.private_key).expect_err("private key");
        let message = error.to_string();
        assert!(
            matches!(&error, KeyError::NotPublicKey { label, .. } if label == "ENCRYPTED SIGSTORE PRIVATE KEY"),
            "{message}"
        );
        assert!(message.contains("cosign.key"), "{message}");
        assert!(message.contains("is not a public key"), "{message}");
        assert!(message.contains("cosign.pub"), "{message}");
    }

    #[test]
    fn wrong_password_is_rejected() {
        let dir = tempfile::tempdir().expect("temp dir");
        let files = generate_cosign_key_pair(dir.path(), &Secret::new("right")).expect("generate");
        let error = CosignSigner::load(&files.private_key, &Secret::new("wrong"))
            .expect_err("wrong password");
        assert!(matches!(error, KeyError::Decrypt { .. }), "{error}");
    }

    #[test]
    fn existing_key_is_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        generate_cosign_key_pair(dir.path(), &Secret::new("a")).expect("generate");
        let error = generate_cosign_key_pair(dir.path(), &Secret::new("a")).expect_err("exists");
        assert!(matches!(error, KeyError::Exists { .. }));
    }
}
