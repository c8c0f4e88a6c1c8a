//! RSA PKCS#1 v1.5 signatures over gzip streams, as `abuild-sign` writes them.
//!
//! The signature stream is a gzip member holding a tar with one entry per signature,
//! named `.SIGN.RSA.<key name>` (SHA-1 digest) or `.SIGN.RSA256.<key name>` (SHA-256).
//! For an index the signature covers the compressed bytes of the rest of the file, and
//! for a package it covers the compressed bytes of the control stream.

use std::io::Read as _;

use rsa::Pkcs1v15Sign;
use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use crate::key::{Keyring, PrivateKey};
use crate::limits::MAX_SIGNATURES;
use crate::tar_write;

/// Errors from reading, creating and checking signatures.
#[derive(Debug, thiserror::Error)]
pub enum SignatureError {
    /// The stream contains no `.SIGN.` entry.
    #[error(
        "no signature found\nhint: sign the file with a repository key, or mark the repository trusted-unsigned"
    )]
    Missing,
    /// None of the signing keys is in the keyring.
    #[error(
        "signed by an untrusted key ({}); the keyring contains: {}\n\
         hint: add the public key file to the keyring folder",
        keys.join(", "),
        if trusted.is_empty() { "no keys".to_owned() } else { trusted.join(", ") }
    )]
    UntrustedKey {
        /// The key names the signatures refer to.
        keys: Vec<String>,
        /// The key names in the keyring.
        trusted: Vec<String>,
    },
    /// A signature does not match the signed bytes.
    #[error(
        "signature check failed: the {algorithm} signature by key `{key}` does not match the signed content"
    )]
    Mismatch {
        /// The key name.
        key: String,
        /// The signature algorithm.
        algorithm: SignatureAlgorithm,
    },
    /// The signature tar is malformed or has too many entries.
    #[error("invalid signature stream: {reason}")]
    Malformed {
        /// The problem found.
        reason: String,
    },
    /// Signing failed in the RSA library.
    #[error("failed to sign with key `{key}`: {message}")]
    Sign {
        /// The key name.
        key: String,
        /// The RSA library error.
        message: String,
    },
    /// Writing the signature stream failed.
    #[error("failed to write the signature stream")]
    Io(#[from] std::io::Error),
}

/// The digest signed with RSA PKCS#1 v1.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SignatureAlgorithm {
    /// `.SIGN.RSA.`: SHA-1, used by Alpine.
    RsaSha1,
    /// `.SIGN.RSA256.`: SHA-256, used by melange and Wolfi.
    RsaSha256,
}

impl SignatureAlgorithm {
    fn entry_prefix(self) -> &'static str {
        match self {
            Self::RsaSha1 => ".SIGN.RSA.",
            Self::RsaSha256 => ".SIGN.RSA256.",
        }
    }
}

impl std::fmt::Display for SignatureAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::RsaSha1 => "RSA/SHA-1",
            Self::RsaSha256 => "RSA/SHA-256",
        })
    }
}

/// One signature from a signature stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The digest algorithm.
    pub algorithm: SignatureAlgorithm,
    /// The name of the public key that verifies it.
    pub key_name: String,
    /// The raw RSA signature.
    pub bytes: Vec<u8>,
}

/// Returns true when a decompressed tar stream starts with a `.SIGN.` entry.
pub fn is_signature_tar(tar: &[u8]) -> bool {
    let mut archive = tar::Archive::new(tar);
    let Ok(mut entries) = archive.entries() else {
        return false;
    };
    match entries.next() {
        Some(Ok(entry)) => entry.path_bytes().starts_with(b".SIGN."),
        _ => false,
    }
}

/// Reads the signatures from a decompressed signature stream.
pub fn parse_signature_tar(tar: &[u8]) -> Result<Vec<Signature>, SignatureError> {
    let malformed = |reason: String| SignatureError::Malformed { reason };
    let mut archive = tar::Archive::new(tar);
    let mut signatures = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| malformed(format!("cannot read tar: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| malformed(format!("cannot read tar entry: {e}")))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let (algorithm, key_name) = if let Some(key) = name.strip_prefix(".SIGN.RSA256.") {
            (SignatureAlgorithm::RsaSha256, key)
        } else if let Some(key) = name.strip_prefix(".SIGN.RSA.") {
            (SignatureAlgorithm::RsaSha1, key)
        } else {
            return Err(malformed(format!(
                "unexpected entry `{name}` (expected .SIGN.RSA.<key> or .SIGN.RSA256.<key>)"
            )));
        };
        if key_name.is_empty() || key_name.contains('/') {
            return Err(malformed(format!("invalid key name in entry `{name}`")));
        }
        if signatures.len() >= MAX_SIGNATURES {
            return Err(malformed(format!("more than {MAX_SIGNATURES} signatures")));
        }
        let mut bytes = Vec::new();
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| malformed(format!("cannot read entry `{name}`: {e}")))?;
        signatures.push(Signature {
            algorithm,
            key_name: key_name.to_owned(),
            bytes,
        });
    }
    if signatures.is_empty() {
        return Err(SignatureError::Missing);
    }
    Ok(signatures)
}

fn scheme_and_digest(algorithm: SignatureAlgorithm, signed: &[u8]) -> (Pkcs1v15Sign, Vec<u8>) {
    match algorithm {
        SignatureAlgorithm::RsaSha1 => (Pkcs1v15Sign::new::<Sha1>(), Sha1::digest(signed).to_vec()),
        SignatureAlgorithm::RsaSha256 => (
            Pkcs1v15Sign::new::<Sha256>(),
            Sha256::digest(signed).to_vec(),
        ),
    }
}

/// Signs `signed` with `key`.
pub fn sign(
    key: &PrivateKey,
    algorithm: SignatureAlgorithm,
    signed: &[u8],
) -> Result<Signature, SignatureError> {
    let (scheme, digest) = scheme_and_digest(algorithm, signed);
    let bytes = key
        .rsa()
        .sign(scheme, &digest)
        .map_err(|e| SignatureError::Sign {
            key: key.name().to_owned(),
            message: e.to_string(),
        })?;
    Ok(Signature {
        algorithm,
        key_name: key.name().to_owned(),
        bytes,
    })
}

/// Checks that at least one signature is by a key in `keyring` and matches `signed`.
/// Returns the name of the key that verified. Signatures by unknown keys are skipped,
/// as apk-tools does, but a known key with a wrong signature is an error.
pub fn verify<'k>(
    keyring: &'k Keyring,
    signatures: &[Signature],
    signed: &[u8],
) -> Result<&'k str, SignatureError> {
    if signatures.is_empty() {
        return Err(SignatureError::Missing);
    }
    for signature in signatures {
        let Some(key) = keyring.get(&signature.key_name) else {
            continue;
        };
        let (scheme, digest) = scheme_and_digest(signature.algorithm, signed);
        return match key.rsa().verify(scheme, &digest, &signature.bytes) {
            Ok(()) => Ok(key.name()),
            Err(_) => Err(SignatureError::Mismatch {
                key: signature.key_name.clone(),
                algorithm: signature.algorithm,
            }),
        };
    }
    Err(SignatureError::UntrustedKey {
        keys: signatures.iter().map(|s| s.key_name.clone()).collect(),
        trusted: keyring.names().map(str::to_owned).collect(),
    })
}

/// Builds the gzip member of a signature stream: a tar without end-of-archive marker
/// holding `.SIGN.<algorithm>.<key name>`, with mode 0644, owner 0 and the given mtime.
pub fn signature_stream(signature: &Signature, mtime: u64) -> Result<Vec<u8>, SignatureError> {
    let mut builder = tar::Builder::new(Vec::new());
    let name = format!(
        "{}{}",
        signature.algorithm.entry_prefix(),
        signature.key_name
    );
    let mut header = tar_write::file_header(signature.bytes.len() as u64, 0o644, mtime);
    builder.append_data(&mut header, &name, signature.bytes.as_slice())?;
    let tar = tar_write::finish_tar(builder, true)?;
    Ok(tar_write::gzip(&tar)?)
}
