//! Keyless signing as it runs in GitHub Actions, against loopback stand-ins for the
//! Actions token service, Fulcio (issuing from a test CA) and Rekor (recording entries).

mod support;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PublicKeyData, SanType, SignatureAlgorithm,
};
use serde_json::json;
use sha2::{Digest as _, Sha256};
use support::http::{Reply, Request, StandIn, get};
use support::layout::{fresh_seed, write_layout};
use support::registry::{RegistrySetup, TestRegistry};
use support::require_tool;

const IDENTITY: &str =
    "https://github.com/example/images/.github/workflows/release.yaml@refs/heads/main";
const SUBJECT: &str = "repo:example/images:ref:refs/heads/main";
const REQUEST_TOKEN: &str = "actions-request-token-value";

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

/// Fulcio stand-in: checks the proof of possession over the token subject, then issues
/// a certificate for the key with the workflow identity as URI SAN.
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
        let leaf = params
            .signed_by(&point, &issuer)
            .expect("issue certificate");
        Reply::json(
            201,
            &json!({"signedCertificateEmbeddedSct": {"chain": {"certificates": [leaf.pem(), ca_pem]}}}),
        )
    })
}

/// Rekor stand-in: stores each proposed entry and returns it with a log index.
fn rekor(entries: Arc<Mutex<Vec<serde_json::Value>>>) -> StandIn {
    StandIn::start(move |request: &Request| {
        if request.method != "POST" || request.path != "/api/v1/log/entries" {
            return Reply::json(404, &json!({"message": "not found"}));
        }
        let entry: serde_json::Value =
            serde_json::from_slice(&request.body).expect("Rekor request JSON");
        let mut entries = entries.lock().expect("entries");
        entries.push(entry);
        let index = entries.len() - 1;
        Reply::json(
            201,
            &json!({ format!("{index:064x}"): {
                "body": STANDARD.encode(&request.body),
                "integratedTime": 1_767_225_600,
                "logID": "c0ffee",
                "logIndex": index,
                "verification": { "signedEntryTimestamp": STANDARD.encode("test SET") },
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
         issuer: https://token.actions.githubusercontent.com\n  identity: {IDENTITY}\n"
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

#[test]
fn keyless_publish_with_stand_ins() {
    if !(require_tool("docker-registry", "docker-registry") && require_tool("openssl", "openssl")) {
        return;
    }
    let (ca_params, ca_key, ca_pem) = test_ca();
    let fulcio = fulcio(ca_params, ca_key, ca_pem.clone());
    let entries = Arc::new(Mutex::new(Vec::new()));
    let rekor = rekor(entries.clone());
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
    std::fs::write(work.path().join("ca.pem"), &ca_pem).expect("write CA");
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
