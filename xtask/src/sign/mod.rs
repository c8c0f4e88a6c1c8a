//! Cosign-compatible signing: key pairs in cosign's format, simple-signing payloads,
//! SBOM attestations in DSSE envelopes, keyless signing with Fulcio and Rekor, and
//! verification with a public key or a Fulcio root and identity.

pub mod artifact;
pub mod attach;
pub mod attestation;
pub mod keyless;
pub mod keyless_verify;
pub mod keys;
pub mod payload;
pub mod signer;
pub mod verify;

pub use attach::{AttachError, AttachOutcome, attest_manifest, sign_manifest};
pub use keyless::{KeylessConfig, KeylessError, KeylessSigner, TokenSource};
pub use keyless_verify::{KeylessPolicy, KeylessProblem, PolicyError};
pub use keys::{CosignPublicKey, CosignSigner, KeyError, KeyPairFiles, generate_cosign_key_pair};
pub use signer::{SignatureMaterial, Signer, SignerError};
pub use verify::{TrustPolicy, VerifiedSignature, VerifyError, verify_image};
