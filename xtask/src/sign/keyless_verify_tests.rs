//! Keyless verification against certificates issued here by a test CA with rcgen, and
//! Rekor bundles signed here with a test log key.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SignatureAlgorithm,
};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::*;
use crate::sign::keys::CosignSigner;

const IDENTITY: &str =
    "https://github.com/example/images/.github/workflows/release.yaml@refs/heads/main";
const ISSUER: &str = "https://token.actions.githubusercontent.com";
const PAYLOAD: &[u8] = b"{\"critical\":{}}";
/// 2026-01-01T00:00:00Z.
const SIGNED_AT: i64 = 1_767_225_600;

struct P256PublicKey(Vec<u8>);

impl PublicKeyData for P256PublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

/// A self-signed CA that issues Fulcio-shaped leaves.
struct TestCa {
    issuer: Issuer<'static, KeyPair>,
    pem: String,
}

impl TestCa {
    fn new(name: &str) -> TestCa {
        let key = KeyPair::generate().expect("CA key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        params.distinguished_name.push(DnType::CommonName, name);
        let pem = params.self_signed(&key).expect("self-signed CA").pem();
        TestCa {
            issuer: Issuer::new(params, key),
            pem,
        }
    }
}

/// A date as `(year, month, day)`.
type Date = (i32, u8, u8);

/// What the leaf certificate of a [`Fixture`] contains.
struct LeafSettings {
    identity: &'static str,
    /// `(issuer, use the older v1 extension)`; `None` leaves the extension out.
    issuer: Option<(&'static str, bool)>,
    code_signing: bool,
    /// `(not_before, not_after)`; rcgen's default when `None`.
    validity: Option<(Date, Date)>,
}

impl Default for LeafSettings {
    fn default() -> Self {
        LeafSettings {
            identity: IDENTITY,
            issuer: Some((ISSUER, false)),
            code_signing: true,
            validity: None,
        }
    }
}

/// DER of an ASN.1 UTF8String shorter than 128 bytes.
fn utf8_string_der(text: &str) -> Vec<u8> {
    assert!(text.len() < 128, "short form length only");
    let mut der = vec![0x0c, text.len() as u8];
    der.extend_from_slice(text.as_bytes());
    der
}

fn spki_der(pem: &str) -> Vec<u8> {
    let body: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(body).expect("PEM base64")
}

fn issue_leaf(ca: &TestCa, key: &CosignSigner, settings: &LeafSettings) -> String {
    let spki = spki_der(key.public_key_pem());
    let point = P256PublicKey(spki[spki.len() - 65..].to_vec());
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.subject_alt_names = vec![SanType::URI(settings.identity.try_into().expect("URI"))];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if settings.code_signing {
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
    }
    match settings.issuer {
        Some((issuer, false)) => params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
                utf8_string_der(issuer),
            )),
        Some((issuer, true)) => params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 1],
                issuer.as_bytes().to_vec(),
            )),
        None => {}
    }
    if let Some(((y1, m1, d1), (y2, m2, d2))) = settings.validity {
        params.not_before = rcgen::date_time_ymd(y1, m1, d1);
        params.not_after = rcgen::date_time_ymd(y2, m2, d2);
    }
    params
        .signed_by(&point, &ca.issuer)
        .expect("issue leaf")
        .pem()
}

/// A signed payload with its annotations, as a keyless publish stores them.
struct Fixture {
    ca: TestCa,
    rekor: CosignSigner,
    signature: Vec<u8>,
    annotations: BTreeMap<String, String>,
}

fn bundle(
    rekor: &CosignSigner,
    certificate: &str,
    signature: &[u8],
    payload: &[u8],
    integrated_time: i64,
) -> String {
    let entry = json!({
        "apiVersion": "0.0.1",
        "kind": "hashedrekord",
        "spec": {
            "data": { "hash": { "algorithm": "sha256", "value": hex::encode(Sha256::digest(payload)) } },
            "signature": {
                "content": STANDARD.encode(signature),
                "publicKey": { "content": STANDARD.encode(certificate) },
            },
        },
    });
    let body = STANDARD.encode(entry.to_string());
    let log_id = hex::encode(Sha256::digest(spki_der(rekor.public_key_pem())));
    let message = format!(
        "{{\"body\":\"{body}\",\"integratedTime\":{integrated_time},\"logID\":\"{log_id}\",\"logIndex\":7}}"
    );
    let set = rekor.sign(message.as_bytes()).expect("sign SET");
    json!({
        "SignedEntryTimestamp": STANDARD.encode(set),
        "Payload": { "body": body, "integratedTime": integrated_time, "logIndex": 7, "logID": log_id },
    })
    .to_string()
}

impl Fixture {
    fn new(settings: &LeafSettings) -> Fixture {
        let ca = TestCa::new("test Fulcio root");
        let rekor = CosignSigner::ephemeral().expect("Rekor key");
        let key = CosignSigner::ephemeral().expect("signing key");
        let certificate = issue_leaf(&ca, &key, settings);
        let signature = key.sign(PAYLOAD).expect("sign");
        let mut annotations = BTreeMap::new();
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), certificate.clone());
        annotations.insert(CHAIN_ANNOTATION.to_owned(), ca.pem.clone());
        annotations.insert(
            BUNDLE_ANNOTATION.to_owned(),
            bundle(&rekor, &certificate, &signature, PAYLOAD, SIGNED_AT),
        );
        Fixture {
            ca,
            rekor,
            signature,
            annotations,
        }
    }

    fn policy(&self, identity: &str, issuer: &str, with_rekor: bool) -> KeylessPolicy {
        let rekor_pem = self.rekor.public_key_pem().as_bytes().to_vec();
        let rekor = with_rekor.then_some((rekor_pem.as_slice(), Path::new("rekor.pub")));
        KeylessPolicy::from_pem(
            self.ca.pem.as_bytes(),
            Path::new("roots.pem"),
            identity,
            issuer,
            rekor,
        )
        .expect("policy")
    }

    fn check(&self, policy: &KeylessPolicy) -> Result<(), KeylessProblem> {
        policy.check(&self.annotations, &self.signature, PAYLOAD)
    }
}

#[test]
fn keyless_signature_verifies() {
    let fixture = Fixture::new(&LeafSettings::default());
    assert_eq!(
        fixture.check(&fixture.policy(IDENTITY, ISSUER, true)),
        Ok(())
    );
    assert_eq!(
        fixture.check(&fixture.policy(IDENTITY, ISSUER, false)),
        Ok(())
    );
}

#[test]
fn older_issuer_extension_is_read() {
    let fixture = Fixture::new(&LeafSettings {
        issuer: Some((ISSUER, true)),
        ..LeafSettings::default()
    });
    assert_eq!(
        fixture.check(&fixture.policy(IDENTITY, ISSUER, true)),
        Ok(())
    );
}

#[test]
fn other_identity_is_rejected() {
    let fixture = Fixture::new(&LeafSettings::default());
    let expected = "https://github.com/other/repo/.github/workflows/release.yaml@refs/heads/main";
    let problem = fixture
        .check(&fixture.policy(expected, ISSUER, true))
        .expect_err("identity differs");
    assert_eq!(
        problem,
        KeylessProblem::IdentityMismatch {
            expected: expected.to_owned(),
            found: vec![IDENTITY.to_owned()],
        }
    );
}

#[test]
fn other_issuer_is_rejected() {
    let fixture = Fixture::new(&LeafSettings::default());
    let problem = fixture
        .check(&fixture.policy(IDENTITY, "https://accounts.google.com", true))
        .expect_err("issuer differs");
    assert_eq!(
        problem,
        KeylessProblem::IssuerMismatch {
            expected: "https://accounts.google.com".to_owned(),
            found: Some(ISSUER.to_owned()),
        }
    );
}

#[test]
fn missing_issuer_is_rejected() {
    let fixture = Fixture::new(&LeafSettings {
        issuer: None,
        ..LeafSettings::default()
    });
    let problem = fixture
        .check(&fixture.policy(IDENTITY, ISSUER, true))
        .expect_err("no issuer");
    assert!(
        matches!(problem, KeylessProblem::IssuerMismatch { found: None, .. }),
        "{problem}"
    );
}

#[test]
fn other_root_is_untrusted() {
    let fixture = Fixture::new(&LeafSettings::default());
    let other = TestCa::new("another root");
    let policy = KeylessPolicy::from_pem(
        other.pem.as_bytes(),
        Path::new("other.pem"),
        IDENTITY,
        ISSUER,
        None,
    )
    .expect("policy");
    let problem = fixture.check(&policy).expect_err("other root");
    assert!(matches!(problem, KeylessProblem::Untrusted(_)), "{problem}");
    assert!(problem.to_string().contains("does not chain"), "{problem}");
}

#[test]
fn leaf_without_code_signing_is_untrusted() {
    let fixture = Fixture::new(&LeafSettings {
        code_signing: false,
        ..LeafSettings::default()
    });
    let problem = fixture
        .check(&fixture.policy(IDENTITY, ISSUER, true))
        .expect_err("no EKU");
    assert!(problem.to_string().contains("code-signing"), "{problem}");
}

#[test]
fn expired_leaf_needs_the_signing_time() {
    // Valid on 2020-01-01 only; the bundle says it signed at noon that day.
    let fixture = Fixture::new(&LeafSettings {
        validity: Some(((2020, 1, 1), (2020, 1, 2))),
        ..LeafSettings::default()
    });
    let mut annotations = fixture.annotations.clone();
    let certificate = annotations[CERTIFICATE_ANNOTATION].clone();
    annotations.insert(
        BUNDLE_ANNOTATION.to_owned(),
        bundle(
            &fixture.rekor,
            &certificate,
            &fixture.signature,
            PAYLOAD,
            1_577_880_000,
        ),
    );
    let policy = fixture.policy(IDENTITY, ISSUER, true);
    assert_eq!(
        policy.check(&annotations, &fixture.signature, PAYLOAD),
        Ok(())
    );

    // Logged after the certificate expired.
    let problem = fixture.check(&policy).expect_err("expired at SIGNED_AT");
    assert!(problem.to_string().contains("not valid at"), "{problem}");

    // No bundle: only the current time is known, and the certificate has expired.
    annotations.remove(BUNDLE_ANNOTATION);
    let without_rekor = fixture.policy(IDENTITY, ISSUER, false);
    let problem = without_rekor
        .check(&annotations, &fixture.signature, PAYLOAD)
        .expect_err("expired now");
    assert!(problem.to_string().contains("not valid at"), "{problem}");
}

#[test]
fn signature_of_other_payload_is_rejected() {
    let fixture = Fixture::new(&LeafSettings::default());
    let policy = fixture.policy(IDENTITY, ISSUER, true);
    let problem = policy
        .check(&fixture.annotations, &fixture.signature, b"{\"other\":1}")
        .expect_err("other payload");
    assert_eq!(problem, KeylessProblem::SignatureMismatch);
}

#[test]
fn bundle_checks() {
    let fixture = Fixture::new(&LeafSettings::default());
    let policy = fixture.policy(IDENTITY, ISSUER, true);
    let certificate = fixture.annotations[CERTIFICATE_ANNOTATION].clone();

    let mut missing = fixture.annotations.clone();
    missing.remove(BUNDLE_ANNOTATION);
    assert_eq!(
        policy.check(&missing, &fixture.signature, PAYLOAD),
        Err(KeylessProblem::MissingBundle)
    );

    // The integrated time changed after Rekor signed the entry.
    let mut tampered = fixture.annotations.clone();
    let mut value: serde_json::Value =
        serde_json::from_str(&tampered[BUNDLE_ANNOTATION]).expect("bundle JSON");
    value["Payload"]["integratedTime"] = json!(SIGNED_AT + 1);
    tampered.insert(BUNDLE_ANNOTATION.to_owned(), value.to_string());
    assert_eq!(
        policy.check(&tampered, &fixture.signature, PAYLOAD),
        Err(KeylessProblem::SetMismatch)
    );

    // A bundle from another log.
    let other_log = CosignSigner::ephemeral().expect("other Rekor key");
    let mut foreign = fixture.annotations.clone();
    foreign.insert(
        BUNDLE_ANNOTATION.to_owned(),
        bundle(
            &other_log,
            &certificate,
            &fixture.signature,
            PAYLOAD,
            SIGNED_AT,
        ),
    );
    let problem = policy
        .check(&foreign, &fixture.signature, PAYLOAD)
        .expect_err("other log");
    assert!(
        matches!(problem, KeylessProblem::LogIdMismatch { .. }),
        "{problem}"
    );

    // An entry that logs another payload.
    let mut other_entry = fixture.annotations.clone();
    other_entry.insert(
        BUNDLE_ANNOTATION.to_owned(),
        bundle(
            &fixture.rekor,
            &certificate,
            &fixture.signature,
            b"other",
            SIGNED_AT,
        ),
    );
    assert_eq!(
        policy.check(&other_entry, &fixture.signature, PAYLOAD),
        Err(KeylessProblem::EntryMismatch("payload"))
    );
}

#[test]
fn key_based_layer_is_not_keyless() {
    let fixture = Fixture::new(&LeafSettings::default());
    let policy = fixture.policy(IDENTITY, ISSUER, false);
    let problem = policy
        .check(&BTreeMap::new(), &fixture.signature, PAYLOAD)
        .expect_err("no certificate");
    assert_eq!(problem, KeylessProblem::MissingCertificate);
}

#[test]
fn policy_file_errors_name_the_file() {
    let error = KeylessPolicy::from_pem(b"", Path::new("empty.pem"), IDENTITY, ISSUER, None)
        .expect_err("no roots");
    assert!(error.to_string().contains("empty.pem"), "{error}");
    let ca = TestCa::new("root");
    let error = KeylessPolicy::from_pem(
        ca.pem.as_bytes(),
        Path::new("roots.pem"),
        IDENTITY,
        ISSUER,
        Some((b"not a key".as_slice(), Path::new("rekor.pub"))),
    )
    .expect_err("bad Rekor key");
    assert!(error.to_string().contains("rekor.pub"), "{error}");
}
