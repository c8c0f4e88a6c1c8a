//! Verification of keyless cosign signatures: the Fulcio certificate in the layer's
//! `dev.sigstore.cosign/certificate` annotation must chain to a given root, name the
//! expected identity (URI or email SAN) and OIDC issuer (Fulcio extension), and its key
//! must verify the signature. The Rekor bundle gives the signing time, and with a Rekor
//! public key its signed entry timestamp (SET) and log ID are checked as well.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rustls::pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};
use x509_cert::Certificate;
use x509_cert::der::asn1::Utf8StringRef;
use x509_cert::der::oid::ObjectIdentifier;
use x509_cert::der::{Decode as _, DecodePem as _, Encode as _};
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{ExtendedKeyUsage, SubjectAltName};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::artifact::{BUNDLE_ANNOTATION, CERTIFICATE_ANNOTATION, CHAIN_ANNOTATION};
use super::keys::CosignPublicKey;

/// Fulcio's OIDC issuer extension, a DER UTF8String (Fulcio 1.1 and later).
const ISSUER_V2_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.8");
/// Fulcio's older OIDC issuer extension, whose value is the raw issuer string.
const ISSUER_V1_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.4.1.57264.1.1");
/// `id-kp-codeSigning`, which Fulcio leaves carry.
const CODE_SIGNING_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.6.1.5.5.7.3.3");
/// The same OID as DER content, for webpki.
const CODE_SIGNING_EKU: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];

/// Requirements of a keyless signature: trusted roots, the expected identity and
/// issuer, and optionally the Rekor key.
pub struct KeylessPolicy {
    roots: Vec<CertificateDer<'static>>,
    /// Expected SAN of the leaf: the workflow URL for GitHub Actions, or an email.
    pub identity: String,
    /// Expected OIDC issuer, e.g. `https://token.actions.githubusercontent.com`.
    pub issuer: String,
    rekor: Option<RekorKey>,
}

impl fmt::Debug for KeylessPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeylessPolicy")
            .field("roots", &self.roots.len())
            .field("identity", &self.identity)
            .field("issuer", &self.issuer)
            .field("rekor_key", &self.rekor.is_some())
            .finish()
    }
}

/// A Rekor public key and the log ID derived from it.
struct RekorKey {
    key: CosignPublicKey,
    /// Hex SHA-256 of the key's DER SubjectPublicKeyInfo, as Rekor reports `logID`.
    log_id: String,
}

/// A root or Rekor key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("failed to read `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` holds no PEM certificate; pass the Fulcio root certificate(s) in PEM")]
    NoRoots { path: PathBuf },
    #[error("invalid certificate in `{path}`: {message}")]
    InvalidRoot { path: PathBuf, message: String },
    #[error(
        "invalid Rekor public key `{path}`: {message}; pass the PEM public key of the Rekor log"
    )]
    InvalidRekorKey { path: PathBuf, message: String },
}

/// Reason a keyless signature layer did not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeylessProblem {
    MissingCertificate,
    InvalidCertificate(String),
    /// The certificate chain failed to verify, with the reason.
    Untrusted(String),
    IdentityMismatch {
        expected: String,
        found: Vec<String>,
    },
    IssuerMismatch {
        expected: String,
        found: Option<String>,
    },
    SignatureMismatch,
    /// A Rekor key was given but the layer has no bundle.
    MissingBundle,
    InvalidBundle(String),
    /// The SET does not verify with the Rekor key.
    SetMismatch,
    LogIdMismatch {
        expected: String,
        found: String,
    },
    /// The logged entry is about another signature, payload or certificate.
    EntryMismatch(&'static str),
}

impl fmt::Display for KeylessProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeylessProblem::MissingCertificate => write!(
                f,
                "no `{CERTIFICATE_ANNOTATION}` annotation, so the signature is not keyless; verify it with --key"
            ),
            KeylessProblem::InvalidCertificate(message) => {
                write!(f, "invalid signing certificate: {message}")
            }
            KeylessProblem::Untrusted(message) => {
                write!(f, "the signing certificate is not trusted: {message}")
            }
            KeylessProblem::IdentityMismatch { expected, found } => write!(
                f,
                "the certificate identity is {}, expected `{expected}`",
                quoted_list(found)
            ),
            KeylessProblem::IssuerMismatch { expected, found } => match found {
                Some(found) => write!(
                    f,
                    "the certificate OIDC issuer is `{found}`, expected `{expected}`"
                ),
                None => write!(
                    f,
                    "the certificate has no OIDC issuer extension, expected `{expected}`"
                ),
            },
            KeylessProblem::SignatureMismatch => write!(
                f,
                "the signature does not verify with the certificate's public key"
            ),
            KeylessProblem::MissingBundle => write!(
                f,
                "no `{BUNDLE_ANNOTATION}` annotation, so there is no Rekor entry to check"
            ),
            KeylessProblem::InvalidBundle(message) => {
                write!(f, "invalid Rekor bundle: {message}")
            }
            KeylessProblem::SetMismatch => write!(
                f,
                "the Rekor signed entry timestamp does not verify with the given Rekor public key"
            ),
            KeylessProblem::LogIdMismatch { expected, found } => write!(
                f,
                "the Rekor bundle names log `{found}`, but the given Rekor key is log `{expected}`"
            ),
            KeylessProblem::EntryMismatch(what) => {
                write!(f, "the Rekor entry records another {what}")
            }
        }
    }
}

fn quoted_list(values: &[String]) -> String {
    if values.is_empty() {
        return "missing (no URI or email SAN)".into();
    }
    let quoted: Vec<String> = values.iter().map(|value| format!("`{value}`")).collect();
    quoted.join(", ")
}

/// cosign's `dev.sigstore.cosign/bundle` annotation.
#[derive(Deserialize)]
struct Bundle {
    #[serde(rename = "SignedEntryTimestamp")]
    signed_entry_timestamp: Option<String>,
    #[serde(rename = "Payload")]
    payload: BundlePayload,
}

#[derive(Deserialize)]
struct BundlePayload {
    body: String,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logIndex")]
    log_index: i64,
    #[serde(rename = "logID")]
    log_id: String,
}

/// The message Rekor signs as the SET: the entry in RFC 8785 canonical JSON. Fields are
/// declared in sorted order, and for base64, hex and integer values serde_json's compact
/// output is exactly the canonical form.
#[derive(Serialize)]
struct SetMessage<'a> {
    body: &'a str,
    #[serde(rename = "integratedTime")]
    integrated_time: i64,
    #[serde(rename = "logID")]
    log_id: &'a str,
    #[serde(rename = "logIndex")]
    log_index: i64,
}

/// The parts of a `hashedrekord` entry that tie it to one signature.
#[derive(Deserialize)]
struct HashedRekord {
    kind: String,
    spec: HashedRekordSpec,
}

#[derive(Deserialize)]
struct HashedRekordSpec {
    data: HashedRekordData,
    signature: HashedRekordSignature,
}

#[derive(Deserialize)]
struct HashedRekordData {
    hash: HashedRekordHash,
}

#[derive(Deserialize)]
struct HashedRekordHash {
    algorithm: String,
    value: String,
}

#[derive(Deserialize)]
struct HashedRekordSignature {
    content: String,
    #[serde(rename = "publicKey")]
    public_key: HashedRekordKey,
}

#[derive(Deserialize)]
struct HashedRekordKey {
    content: String,
}

impl KeylessPolicy {
    /// Reads the PEM roots from `roots` and, when given, the Rekor PEM public key.
    pub fn load(
        roots: &Path,
        identity: &str,
        issuer: &str,
        rekor_key: Option<&Path>,
    ) -> Result<KeylessPolicy, PolicyError> {
        let roots_pem = read(roots)?;
        let rekor = match rekor_key {
            Some(path) => Some((read(path)?, path)),
            None => None,
        };
        KeylessPolicy::from_pem(
            &roots_pem,
            roots,
            identity,
            issuer,
            rekor.as_ref().map(|(pem, path)| (pem.as_slice(), *path)),
        )
    }

    /// Builds the policy from PEM text; the paths are only for error messages.
    pub fn from_pem(
        roots_pem: &[u8],
        roots_path: &Path,
        identity: &str,
        issuer: &str,
        rekor_key: Option<(&[u8], &Path)>,
    ) -> Result<KeylessPolicy, PolicyError> {
        let certificates =
            Certificate::load_pem_chain(roots_pem).map_err(|error| PolicyError::InvalidRoot {
                path: roots_path.to_owned(),
                message: error.to_string(),
            })?;
        if certificates.is_empty() {
            return Err(PolicyError::NoRoots {
                path: roots_path.to_owned(),
            });
        }
        let mut roots = Vec::new();
        for certificate in &certificates {
            let der = certificate
                .to_der()
                .map_err(|error| PolicyError::InvalidRoot {
                    path: roots_path.to_owned(),
                    message: error.to_string(),
                })?;
            let der = CertificateDer::from(der);
            webpki::anchor_from_trusted_cert(&der).map_err(|error| PolicyError::InvalidRoot {
                path: roots_path.to_owned(),
                message: format!("not usable as a trust anchor: {error}"),
            })?;
            roots.push(der);
        }
        let rekor = match rekor_key {
            Some((pem, path)) => Some(rekor_key_from_pem(pem, path)?),
            None => None,
        };
        Ok(KeylessPolicy {
            roots,
            identity: identity.to_owned(),
            issuer: issuer.to_owned(),
            rekor,
        })
    }

    /// Returns whether a Rekor key was given, so that SETs are checked.
    pub fn checks_rekor(&self) -> bool {
        self.rekor.is_some()
    }

    /// Checks one signature layer: `signature` (DER, decoded from the signature
    /// annotation) over `payload`, with the certificate, chain and bundle annotations.
    pub fn check(
        &self,
        annotations: &BTreeMap<String, String>,
        signature: &[u8],
        payload: &[u8],
    ) -> Result<(), KeylessProblem> {
        let Some(leaf_pem) = annotations.get(CERTIFICATE_ANNOTATION) else {
            return Err(KeylessProblem::MissingCertificate);
        };
        let leaf = parse_leaf(leaf_pem)?;
        let intermediates = match annotations.get(CHAIN_ANNOTATION) {
            Some(chain) => parse_chain(chain)?,
            None => Vec::new(),
        };
        let bundle = match annotations.get(BUNDLE_ANNOTATION) {
            Some(text) => Some(
                serde_json::from_str::<Bundle>(text)
                    .map_err(|error| KeylessProblem::InvalidBundle(error.to_string()))?,
            ),
            None if self.rekor.is_some() => return Err(KeylessProblem::MissingBundle),
            None => None,
        };

        // A Fulcio certificate lives for minutes, so it is checked at the time Rekor
        // logged the signature. Without a bundle only the current time is known.
        let time = match &bundle {
            Some(bundle) => {
                let seconds = u64::try_from(bundle.payload.integrated_time).map_err(|_| {
                    KeylessProblem::InvalidBundle(format!(
                        "negative integratedTime {}",
                        bundle.payload.integrated_time
                    ))
                })?;
                UnixTime::since_unix_epoch(Duration::from_secs(seconds))
            }
            None => UnixTime::now(),
        };
        self.check_chain(&leaf.der, &intermediates, time)?;
        check_code_signing(&leaf.certificate)?;
        self.check_identity(&leaf.certificate)?;
        self.check_issuer(&leaf.certificate)?;
        if !leaf.key.verify(signature, payload) {
            return Err(KeylessProblem::SignatureMismatch);
        }
        if let Some(bundle) = &bundle {
            self.check_bundle(bundle, &leaf.der, signature, payload)?;
        }
        Ok(())
    }

    fn check_chain(
        &self,
        leaf: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'static>],
        time: UnixTime,
    ) -> Result<(), KeylessProblem> {
        let anchors: Vec<_> = self
            .roots
            .iter()
            .filter_map(|root| webpki::anchor_from_trusted_cert(root).ok())
            .collect();
        let end_entity = webpki::EndEntityCert::try_from(leaf)
            .map_err(|error| KeylessProblem::InvalidCertificate(error.to_string()))?;
        // webpki applies the EKU rule to every certificate of the path, so it is only
        // "required if present" here: a CA without an EKU extension is not restricted
        // (RFC 5280, 4.2.1.12). `check_code_signing` requires it of the leaf.
        end_entity
            .verify_for_usage(
                webpki::ALL_VERIFICATION_ALGS,
                &anchors,
                intermediates,
                time,
                webpki::KeyUsage::required_if_present(CODE_SIGNING_EKU),
                None,
                None,
            )
            .map_err(|error| KeylessProblem::Untrusted(chain_message(&error, time)))?;
        Ok(())
    }

    fn check_identity(&self, certificate: &Certificate) -> Result<(), KeylessProblem> {
        let found = san_identities(certificate)?;
        if found.iter().any(|identity| identity == &self.identity) {
            return Ok(());
        }
        Err(KeylessProblem::IdentityMismatch {
            expected: self.identity.clone(),
            found,
        })
    }

    fn check_issuer(&self, certificate: &Certificate) -> Result<(), KeylessProblem> {
        let found = oidc_issuer(certificate)?;
        if found.as_deref() == Some(self.issuer.as_str()) {
            return Ok(());
        }
        Err(KeylessProblem::IssuerMismatch {
            expected: self.issuer.clone(),
            found,
        })
    }

    /// Checks that the logged entry is this signature and, with a Rekor key, that the
    /// log signed it.
    fn check_bundle(
        &self,
        bundle: &Bundle,
        leaf: &CertificateDer<'_>,
        signature: &[u8],
        payload: &[u8],
    ) -> Result<(), KeylessProblem> {
        check_entry(&bundle.payload.body, leaf, signature, payload)?;
        let Some(rekor) = &self.rekor else {
            return Ok(());
        };
        if bundle.payload.log_id != rekor.log_id {
            return Err(KeylessProblem::LogIdMismatch {
                expected: rekor.log_id.clone(),
                found: bundle.payload.log_id.clone(),
            });
        }
        let Some(set) = &bundle.signed_entry_timestamp else {
            return Err(KeylessProblem::InvalidBundle(
                "no SignedEntryTimestamp".into(),
            ));
        };
        let set = STANDARD.decode(set.trim()).map_err(|_| {
            KeylessProblem::InvalidBundle("the SignedEntryTimestamp is not base64".into())
        })?;
        let message = SetMessage {
            body: &bundle.payload.body,
            integrated_time: bundle.payload.integrated_time,
            log_id: &bundle.payload.log_id,
            log_index: bundle.payload.log_index,
        };
        let message = serde_json::to_vec(&message)
            .map_err(|error| KeylessProblem::InvalidBundle(error.to_string()))?;
        if !rekor.key.verify(&set, &message) {
            return Err(KeylessProblem::SetMismatch);
        }
        Ok(())
    }
}

/// The signing certificate in its three forms.
struct Leaf {
    certificate: Certificate,
    der: CertificateDer<'static>,
    key: CosignPublicKey,
}

fn parse_leaf(pem: &str) -> Result<Leaf, KeylessProblem> {
    let invalid = |message: String| KeylessProblem::InvalidCertificate(message);
    let certificate =
        Certificate::from_pem(pem.trim().as_bytes()).map_err(|error| invalid(error.to_string()))?;
    let der = certificate
        .to_der()
        .map_err(|error| invalid(error.to_string()))?;
    let spki = certificate
        .tbs_certificate()
        .subject_public_key_info()
        .to_der()
        .map_err(|error| invalid(error.to_string()))?;
    let key = CosignPublicKey::from_der(&spki)
        .map_err(|error| invalid(format!("unsupported public key: {error}")))?;
    Ok(Leaf {
        certificate,
        der: CertificateDer::from(der),
        key,
    })
}

fn parse_chain(pem: &str) -> Result<Vec<CertificateDer<'static>>, KeylessProblem> {
    let certificates = Certificate::load_pem_chain(pem.as_bytes())
        .map_err(|error| KeylessProblem::InvalidCertificate(format!("in the chain: {error}")))?;
    certificates
        .iter()
        .map(|certificate| {
            certificate
                .to_der()
                .map(CertificateDer::from)
                .map_err(|error| {
                    KeylessProblem::InvalidCertificate(format!("in the chain: {error}"))
                })
        })
        .collect()
}

fn chain_message(error: &webpki::Error, time: UnixTime) -> String {
    match error {
        webpki::Error::UnknownIssuer => {
            "it does not chain to any of the given root certificates".into()
        }
        webpki::Error::InvalidSignatureForPublicKey => {
            "it does not chain to any of the given root certificates: an issuer's name \
             matches, but its key does not verify the certificate's signature"
                .into()
        }
        webpki::Error::CertExpired { .. } | webpki::Error::CertNotValidYet { .. } => format!(
            "a certificate of the chain was not valid at {} (Unix time), the signing time",
            time.as_secs()
        ),
        webpki::Error::RequiredEkuNotFoundContext(_) => {
            "it lacks the code-signing extended key usage".into()
        }
        other => format!("{other:?}"),
    }
}

/// Checks that the leaf names code signing among its extended key usages.
fn check_code_signing(certificate: &Certificate) -> Result<(), KeylessProblem> {
    let usages = certificate
        .tbs_certificate()
        .get_extension::<ExtendedKeyUsage>()
        .map_err(|error| {
            KeylessProblem::InvalidCertificate(format!("invalid EKU extension: {error}"))
        })?;
    match usages {
        Some((_, ExtendedKeyUsage(oids))) if oids.contains(&CODE_SIGNING_OID) => Ok(()),
        _ => Err(KeylessProblem::Untrusted(
            "it lacks the code-signing extended key usage".into(),
        )),
    }
}

/// Returns the URI and email SANs, which is where Fulcio puts the identity.
fn san_identities(certificate: &Certificate) -> Result<Vec<String>, KeylessProblem> {
    let san = certificate
        .tbs_certificate()
        .get_extension::<SubjectAltName>()
        .map_err(|error| {
            KeylessProblem::InvalidCertificate(format!("invalid SAN extension: {error}"))
        })?;
    let Some((_, SubjectAltName(names))) = san else {
        return Ok(Vec::new());
    };
    Ok(names
        .iter()
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => Some(uri.to_string()),
            GeneralName::Rfc822Name(email) => Some(email.to_string()),
            _ => None,
        })
        .collect())
}

/// Reads the issuer from Fulcio's v2 extension, else from the older v1 one.
fn oidc_issuer(certificate: &Certificate) -> Result<Option<String>, KeylessProblem> {
    let extensions = certificate
        .tbs_certificate()
        .extensions()
        .map_or(&[][..], Vec::as_slice);
    let value = |oid: ObjectIdentifier| {
        extensions
            .iter()
            .find(|extension| extension.extn_id == oid)
            .map(|extension| extension.extn_value.as_bytes())
    };
    if let Some(bytes) = value(ISSUER_V2_OID) {
        let issuer = Utf8StringRef::from_der(bytes).map_err(|error| {
            KeylessProblem::InvalidCertificate(format!("invalid OIDC issuer extension: {error}"))
        })?;
        return Ok(Some(issuer.as_str().to_owned()));
    }
    if let Some(bytes) = value(ISSUER_V1_OID) {
        let issuer = std::str::from_utf8(bytes).map_err(|_| {
            KeylessProblem::InvalidCertificate("the OIDC issuer extension is not UTF-8".into())
        })?;
        return Ok(Some(issuer.to_owned()));
    }
    Ok(None)
}

/// Checks that the `hashedrekord` entry in `body` records this payload hash,
/// signature and certificate.
fn check_entry(
    body: &str,
    leaf: &CertificateDer<'_>,
    signature: &[u8],
    payload: &[u8],
) -> Result<(), KeylessProblem> {
    let invalid = |message: &str| KeylessProblem::InvalidBundle(message.to_owned());
    let body = STANDARD
        .decode(body.trim())
        .map_err(|_| invalid("the entry body is not base64"))?;
    let entry: HashedRekord = serde_json::from_slice(&body)
        .map_err(|error| KeylessProblem::InvalidBundle(format!("entry body: {error}")))?;
    if entry.kind != "hashedrekord" {
        return Err(KeylessProblem::InvalidBundle(format!(
            "entry kind `{}` is not supported, only `hashedrekord`",
            entry.kind
        )));
    }
    let hash = &entry.spec.data.hash;
    if hash.algorithm != "sha256" || hash.value != hex::encode(Sha256::digest(payload)) {
        return Err(KeylessProblem::EntryMismatch("payload"));
    }
    let logged_signature = STANDARD
        .decode(entry.spec.signature.content.trim())
        .map_err(|_| invalid("the logged signature is not base64"))?;
    if logged_signature != signature {
        return Err(KeylessProblem::EntryMismatch("signature"));
    }
    let logged_certificate = STANDARD
        .decode(entry.spec.signature.public_key.content.trim())
        .map_err(|_| invalid("the logged certificate is not base64"))?;
    let logged_certificate = Certificate::from_pem(&logged_certificate)
        .and_then(|certificate| certificate.to_der())
        .map_err(|error| KeylessProblem::InvalidBundle(format!("logged certificate: {error}")))?;
    if logged_certificate != leaf.as_ref() {
        return Err(KeylessProblem::EntryMismatch("certificate"));
    }
    Ok(())
}

fn read(path: &Path) -> Result<Vec<u8>, PolicyError> {
    std::fs::read(path).map_err(|source| PolicyError::Read {
        path: path.to_owned(),
        source,
    })
}

fn rekor_key_from_pem(pem: &[u8], path: &Path) -> Result<RekorKey, PolicyError> {
    let invalid = |message: String| PolicyError::InvalidRekorKey {
        path: path.to_owned(),
        message,
    };
    let text = std::str::from_utf8(pem).map_err(|_| invalid("not UTF-8 text".into()))?;
    let spki = SubjectPublicKeyInfoOwned::from_pem(text.trim())
        .and_then(|spki| spki.to_der())
        .map_err(|error| invalid(error.to_string()))?;
    let key = CosignPublicKey::from_der(&spki).map_err(|error| invalid(error.to_string()))?;
    Ok(RekorKey {
        key,
        log_id: hex::encode(Sha256::digest(&spki)),
    })
}

#[cfg(test)]
#[path = "keyless_verify_tests.rs"]
mod tests;
