//! Keyless signing as it runs in GitHub Actions, against loopback stand-ins for the
//! Actions token service, Fulcio (issuing from a test CA) and Rekor (recording entries
//! and signing them with a test log key), then keyless `verify` of what was published.

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{
    BasicConstraints, CertificateParams, CustomExtension, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SanType, SignatureAlgorithm,
};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use support::http::{Reply, Request, StandIn, get};
use support::layout::{GeneratedLayout, fresh_seed, write_layout};
use support::registry::{RegistrySetup, TestRegistry};
use support::require_tool;
use xtask::sign::CosignSigner;

const IDENTITY: &str =
    "https://github.com/example/images/.github/workflows/release.yaml@refs/heads/main";
const SUBJECT: &str = "repo:example/images:ref:refs/heads/main";
const REQUEST_TOKEN: &str = "actions-request-token-value";
const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// A P-256 public key from a PEM SubjectPublicKeyInfo, for rcgen to certify.
struct P256PublicKey(Vec<u8>);

impl PublicKeyData for P256PublicKey {
    fn der_bytes(&self) -> &[u8] {
        &self.0
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &rcgen::PKCS_ECDSA_P256_SHA256
    }
}

fn pem_body(pem: &str) -> Vec<u8> {
    let base64: String = pem
        .lines()
        .filter(|line| !line.starts_with("-----"))
        .collect();
    STANDARD.decode(base64).expect("PEM base64")
}

/// DER of an ASN.1 UTF8String shorter than 128 bytes.
fn utf8_string_der(text: &str) -> Vec<u8> {
    assert!(text.len() < 128, "short form length only");
    let mut der = vec![0x0c, text.len() as u8];
    der.extend_from_slice(text.as_bytes());
    der
}

/// Fulcio stand-in: checks the proof of possession over the token subject, then issues
/// a certificate for the key with the workflow identity as URI SAN, the code-signing
/// EKU and the OIDC issuer in Fulcio's issuer extension (1.3.6.1.4.1.57264.1.8).
fn fulcio(ca_params: CertificateParams, ca_key: KeyPair, ca_pem: String) -> StandIn {
    let issuer = Arc::new(Issuer::new(ca_params, ca_key));
    StandIn::start(move |request: &Request| {
        if request.method != "POST" || request.path != "/api/v2/signingCert" {
            return Reply::json(404, &json!({"message": "not found"}));
        }
        let body: serde_json::Value =
            serde_json::from_slice(&request.body).expect("Fulcio request JSON");
        let public_pem = body["publicKeyRequest"]["publicKey"]["content"]
            .as_str()
            .expect("public key");
        let proof = STANDARD
            .decode(
                body["publicKeyRequest"]["proofOfPossession"]
                    .as_str()
                    .expect("proof"),
            )
            .expect("proof base64");
        let key =
            xtask::sign::CosignPublicKey::from_pem(public_pem.as_bytes(), Path::new("request"))
                .expect("key");
        if !key.verify(&proof, SUBJECT.as_bytes()) {
            return Reply::json(400, &json!({"message": "invalid proof of possession"}));
        }
        let spki = pem_body(public_pem);
        let point = P256PublicKey(spki[spki.len() - 65..].to_vec());
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.subject_alt_names = vec![SanType::URI(IDENTITY.try_into().expect("URI"))];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::CodeSigning];
        params
            .custom_extensions
            .push(CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 57264, 1, 8],
                utf8_string_der(ISSUER),
            ));
        let leaf = params
            .signed_by(&point, &issuer)
            .expect("issue certificate");
        Reply::json(
            201,
            &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [leaf.pem(), ca_pem]}}}),
        )
    })
}

/// Rekor stand-in: stores each proposed entry and returns it with a log index and a
/// signed entry timestamp made with `log_key`, over the entry in canonical JSON.
fn rekor(entries: Arc<Mutex<Vec<serde_json::Value>>>, log_key: Arc<CosignSigner>) -> StandIn {
    let log_id = hex::encode(Sha256::digest(pem_body(log_key.public_key_pem())));
    StandIn::start(move |request: &Request| {
        if request.method != "POST" || request.path != "/api/v1/log/entries" {
            return Reply::json(404, &json!({"message": "not found"}));
        }
        let entry: serde_json::Value =
            serde_json::from_slice(&request.body).expect("Rekor request JSON");
        let mut entries = entries.lock().expect("entries");
        entries.push(entry);
        let index = entries.len() - 1;
        let body = STANDARD.encode(&request.body);
        let integrated_time = 1_767_225_600;
        let canonical = format!(
            "{{\"body\":\"{body}\",\"integratedTime\":{integrated_time},\"logID\":\"{log_id}\",\"logIndex\":{index}}}"
        );
        let set = log_key.sign(canonical.as_bytes()).expect("sign the entry");
        Reply::json(
            201,
            &json!({ format!("{index:064x}"): {
                "body": body,
                "integratedTime": integrated_time,
                "logID": log_id,
                "logIndex": index,
                "verification": { "signedEntryTimestamp": STANDARD.encode(set) },
            }}),
        )
    })
}

/// Actions token service stand-in: returns a JWT with audience and subject claims.
fn token_service() -> StandIn {
    StandIn::start(|request: &Request| {
        if request.header("Authorization") != Some(&format!("bearer {REQUEST_TOKEN}")) {
            return Reply::json(401, &json!({"message": "bad request token"}));
        }
        if !request.path.contains("audience=sigstore") {
            return Reply::json(400, &json!({"message": "audience missing"}));
        }
        let claims = URL_SAFE_NO_PAD.encode(json!({"sub": SUBJECT, "aud": "sigstore"}).to_string());
        Reply::json(
            200,
            &json!({"value": format!("eyJhbGciOiJub25lIn0.{claims}.c2ln")}),
        )
    })
}

fn test_ca() -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
        .distinguished_name
        .push(DnType::CommonName, "xtask test Fulcio CA");
    let pem = params.self_signed(&key).expect("self-signed CA").pem();
    (params, key, pem)
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
    std::fs::write(path, text).expect("write file");
}

fn keyless_catalog(registry: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let catalog = format!(
        "registry: {registry}\nnamespace: test\narchs: [amd64, arm64]\nsigning:\n  mode: keyless\n  \
         issuer: {ISSUER}\n  identity: {IDENTITY}\n"
    );
    write(dir.path(), "catalog.yaml", &catalog);
    write(
        dir.path(),
        "images/static/image.yaml",
        "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n",
    );
    write(
        dir.path(),
        "images/static/configs/latest.apko.yaml",
        "contents:\n  repositories: [https://packages.wolfi.dev/os]\n  keyring: [https://packages.wolfi.dev/os/wolfi-signing.rsa.pub]\n  packages: [ca-certificates-bundle]\naccounts:\n  groups:\n    - groupname: nonroot\n      gid: 65532\n  users:\n    - username: nonroot\n      uid: 65532\n      gid: 65532\n  run-as: nonroot\n",
    );
    write(dir.path(), "images/static/tests/run.sh", "#!/bin/sh\n");
    let script = dir.path().join("images/static/tests/run.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    dir
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn openssl(work: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .current_dir(work)
        .args(args)
        .output()
        .expect("run openssl")
}

/// A keyless publish of image `static` through the stand-ins, which stay running.
struct KeylessRelease {
    registry: TestRegistry,
    root: tempfile::TempDir,
    layout: GeneratedLayout,
    ca_pem: String,
    rekor_key: Arc<CosignSigner>,
    entries: Arc<Mutex<Vec<serde_json::Value>>>,
    _services: [StandIn; 3],
}

fn publish_keyless() -> Option<KeylessRelease> {
    if !(require_tool("docker-registry", "docker-registry") && require_tool("openssl", "openssl")) {
        return None;
    }
    let (ca_params, ca_key, ca_pem) = test_ca();
    let fulcio = fulcio(ca_params, ca_key, ca_pem.clone());
    let entries = Arc::new(Mutex::new(Vec::new()));
    let rekor_key = Arc::new(CosignSigner::ephemeral().expect("Rekor log key"));
    let rekor = rekor(entries.clone(), rekor_key.clone());
    let tokens = token_service();
    let registry = TestRegistry::start(RegistrySetup::default());
    let root = keyless_catalog(&registry.address());
    let layout = write_layout(
        &root.path().join("out/images/static/latest"),
        &["latest"],
        &[20_000],
        fresh_seed(),
    );

    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root.path())
        .args([
            "publish",
            "static",
            "--fulcio-url",
            &fulcio.url(),
            "--rekor-url",
            &rekor.url(),
        ])
        .env("GITHUB_ACTIONS", "true")
        .env(
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            format!("{}/token?api-version=2.0", tokens.url()),
        )
        .env("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQUEST_TOKEN)
        .env("DOCKER_CONFIG", root.path().join(".docker-test"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("XTASK_REGISTRY_USERNAME")
        .env_remove("XTASK_REGISTRY_PASSWORD")
        .output()
        .expect("run xtask");
    assert!(
        output.status.success(),
        "publish failed:\n{}",
        text(&output.stderr)
    );
    assert!(
        !text(&output.stderr).contains(REQUEST_TOKEN),
        "request token in log"
    );
    Some(KeylessRelease {
        registry,
        root,
        layout,
        ca_pem,
        rekor_key,
        entries,
        _services: [fulcio, rekor, tokens],
    })
}

#[test]
fn keyless_publish_with_stand_ins() {
    let Some(release) = publish_keyless() else {
        return;
    };
    let KeylessRelease {
        registry,
        layout,
        ca_pem,
        entries,
        ..
    } = &release;

    // Index and two platform manifests, each signed and attested: six entries.
    assert_eq!(entries.lock().expect("entries").len(), 6);

    let hex = &layout.index_digest["sha256:".len()..];
    let manifest = get(
        registry.port,
        &format!("/v2/test/static/manifests/sha256-{hex}.sig"),
        Some("application/vnd.oci.image.manifest.v1+json"),
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&manifest.body).expect("manifest JSON");
    let layer = &manifest["layers"][0];
    let annotations = &layer["annotations"];
    let certificate = annotations["dev.sigstore.cosign/certificate"]
        .as_str()
        .expect("certificate");
    assert!(
        annotations["dev.sigstore.cosign/chain"]
            .as_str()
            .expect("chain")
            .contains(ca_pem.trim())
    );
    let bundle: serde_json::Value = serde_json::from_str(
        annotations["dev.sigstore.cosign/bundle"]
            .as_str()
            .expect("bundle"),
    )
    .expect("bundle");
    assert!(bundle["Payload"]["logIndex"].is_u64(), "{bundle}");

    let payload = get(
        registry.port,
        &format!(
            "/v2/test/static/blobs/{}",
            layer["digest"].as_str().expect("digest")
        ),
        None,
    )
    .body;
    let recorded = entries.lock().expect("entries").clone();
    let payload_hash = hex::encode(Sha256::digest(&payload));
    assert!(
        recorded
            .iter()
            .any(|entry| entry["spec"]["data"]["hash"]["value"] == payload_hash.as_str()),
        "Rekor has no entry for the payload"
    );

    let work = tempfile::tempdir().expect("temp dir");
    std::fs::write(work.path().join("ca.pem"), ca_pem).expect("write CA");
    std::fs::write(work.path().join("leaf.pem"), certificate).expect("write certificate");
    std::fs::write(work.path().join("payload"), &payload).expect("write payload");
    let signature = annotations["dev.cosignproject.cosign/signature"]
        .as_str()
        .expect("signature");
    std::fs::write(
        work.path().join("sig.der"),
        STANDARD.decode(signature).expect("base64"),
    )
    .expect("write sig");

    let chain = openssl(work.path(), &["verify", "-CAfile", "ca.pem", "leaf.pem"]);
    assert!(
        chain.status.success(),
        "certificate does not chain to the test CA: {}",
        text(&chain.stderr)
    );
    let public_key = openssl(
        work.path(),
        &["x509", "-in", "leaf.pem", "-noout", "-pubkey"],
    );
    std::fs::write(work.path().join("leaf.pub"), &public_key.stdout).expect("write public key");
    let verified = openssl(
        work.path(),
        &[
            "dgst",
            "-sha256",
            "-verify",
            "leaf.pub",
            "-signature",
            "sig.der",
            "payload",
        ],
    );
    assert!(
        verified.status.success(),
        "openssl rejected the keyless signature: {}",
        text(&verified.stderr)
    );
}

/// Runs `cargo xtask -C <root> verify ARGS` with no registry credentials.
fn verify(root: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root)
        .arg("verify")
        .args(args)
        .env("DOCKER_CONFIG", root.join(".docker-test"))
        .env_remove("GITHUB_TOKEN")
        .env_remove("XTASK_REGISTRY_USERNAME")
        .env_remove("XTASK_REGISTRY_PASSWORD")
        .env_remove("RUST_LOG")
        .output()
        .expect("run xtask verify")
}

fn path_text(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Asserts exit code 1 (verification failed) and that stderr contains `reason`.
fn assert_rejected(output: &Output, reason: &str, case: &str) {
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{case}: {stderr}");
    assert!(
        stderr.contains(reason),
        "{case}: expected `{reason}` in:\n{stderr}"
    );
}

#[test]
fn keyless_verify_checks_certificate_and_rekor() {
    let Some(release) = publish_keyless() else {
        return;
    };
    let root = release.root.path();
    let work = tempfile::tempdir().expect("temp dir");
    let ca = work.path().join("fulcio-root.pem");
    let rekor_key = work.path().join("rekor.pub");
    let other_ca = work.path().join("other-root.pem");
    let other_rekor_key = work.path().join("other-rekor.pub");
    std::fs::write(&ca, &release.ca_pem).expect("write root");
    std::fs::write(&rekor_key, release.rekor_key.public_key_pem()).expect("write Rekor key");
    std::fs::write(&other_ca, test_ca().2).expect("write other root");
    let other_log = CosignSigner::ephemeral().expect("other log key");
    std::fs::write(&other_rekor_key, other_log.public_key_pem()).expect("write other key");
    let (ca, rekor_key) = (path_text(&ca), path_text(&rekor_key));
    let reference = format!("{}/test/static:latest", release.registry.address());

    let flags = [
        "--certificate-identity",
        IDENTITY,
        "--certificate-oidc-issuer",
        ISSUER,
        "--ca-roots",
        &ca,
        "--rekor-key",
        &rekor_key,
    ];
    let mut args = vec![reference.as_str()];
    args.extend(flags);
    let verified = verify(root, &args);
    assert!(
        verified.status.success(),
        "keyless verify failed:\n{}",
        text(&verified.stderr)
    );
    assert!(
        text(&verified.stdout).contains(&release.layout.index_digest),
        "{}",
        text(&verified.stdout)
    );
    assert!(
        text(&verified.stderr).contains(IDENTITY),
        "{}",
        text(&verified.stderr)
    );

    // Identity and issuer from catalog.yaml, and each platform manifest by digest.
    for (_, digest) in &release.layout.manifests {
        let by_digest = format!("{}/test/static@{digest}", release.registry.address());
        let output = verify(
            root,
            &[&by_digest, "--ca-roots", &ca, "--rekor-key", &rekor_key],
        );
        assert!(
            output.status.success(),
            "verify {digest} with catalog settings failed:\n{}",
            text(&output.stderr)
        );
    }

    // Without a Rekor key the SET is not checked, and the output says so.
    let unchecked = verify(root, &[&reference, "--ca-roots", &ca]);
    assert!(unchecked.status.success(), "{}", text(&unchecked.stderr));
    assert!(
        text(&unchecked.stderr).contains("--rekor-key"),
        "{}",
        text(&unchecked.stderr)
    );

    let other_identity =
        "https://github.com/evil/images/.github/workflows/release.yaml@refs/heads/main";
    let cases: [(&str, Vec<&str>, &str); 4] = [
        (
            "other identity",
            vec!["--certificate-identity", other_identity, "--ca-roots", &ca],
            "the certificate identity is",
        ),
        (
            "other issuer",
            vec![
                "--certificate-oidc-issuer",
                "https://accounts.google.com",
                "--ca-roots",
                &ca,
            ],
            "the certificate OIDC issuer is",
        ),
        (
            "other root",
            vec!["--ca-roots", other_ca.to_str().expect("UTF-8 path")],
            "does not chain to any of the given root certificates",
        ),
        (
            "other Rekor log",
            vec![
                "--ca-roots",
                &ca,
                "--rekor-key",
                other_rekor_key.to_str().expect("UTF-8 path"),
            ],
            "the given Rekor key is log",
        ),
    ];
    for (case, flags, reason) in cases {
        let mut args = vec![reference.as_str()];
        args.extend(flags);
        assert_rejected(&verify(root, &args), reason, case);
    }

    // A cosign public key does not verify a keyless signature.
    let key_pair = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        key_pair.path().join("cosign.pub"),
        CosignSigner::ephemeral().expect("key").public_key_pem(),
    )
    .expect("write key");
    let key = path_text(&key_pair.path().join("cosign.pub"));
    assert_rejected(
        &verify(root, &[&reference, "--key", &key]),
        "does not verify with the given public key",
        "cosign key",
    );

    let no_roots = verify(root, &[&reference]);
    assert_eq!(
        no_roots.status.code(),
        Some(2),
        "{}",
        text(&no_roots.stderr)
    );
    assert!(
        text(&no_roots.stderr).contains("--ca-roots"),
        "{}",
        text(&no_roots.stderr)
    );
}

#[test]
fn keyless_outside_actions_is_rejected() {
    let root = keyless_catalog("127.0.0.1:9");
    write_layout(
        &root.path().join("out/images/static/latest"),
        &["latest"],
        &[1_000],
        fresh_seed(),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("-C")
        .arg(root.path())
        .args(["publish", "static"])
        .env_remove("GITHUB_ACTIONS")
        .output()
        .expect("run xtask");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("only runs in GitHub Actions"),
        "{}",
        text(&output.stderr)
    );
}
