//! A token server stand-in for `docker-registry` with `auth: token`. It checks HTTP basic
//! credentials on `GET /token?service=…&scope=…` and returns `{"token": JWT}`.
//!
//! The JWT has the form that distribution 2.8 verifies (`registry/auth/token/token.go`):
//! an ES256 signature and an `x5c` header with the signing certificate, which a CA in the
//! registry's `rootcertbundle` issued. The claims are `iss`, `sub`, `aud`, `exp`, `nbf`,
//! `iat`, `jti` and `access`.
//!
//! The server grants every requested action, so the registry's scope checks pass whenever
//! the credentials are right. It records each requested scope for the test to check.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
use serde_json::json;

use super::http::{Reply, Request, StandIn};

/// `service` of the registry config and `aud` of every token.
pub const SERVICE: &str = "xtask-test-registry";
/// `issuer` of the registry config and `iss` of every token.
pub const ISSUER: &str = "xtask-test-token-server";

/// Seconds a token is valid unless the test sets another lifetime.
const TOKEN_LIFETIME: u64 = 300;

/// A running token server. Its accept thread stops on drop.
pub struct TokenServer {
    server: StandIn,
    /// PEM file with the CA certificate, for the registry's `rootcertbundle`.
    pub root_cert_bundle: PathBuf,
    /// Every `scope` parameter of a request with valid credentials, in arrival order.
    pub granted_scopes: Arc<Mutex<Vec<String>>>,
    /// Number of requests with missing or wrong credentials.
    pub rejected: Arc<AtomicU64>,
}

/// Signing key and certificate chain of the tokens.
struct Signer {
    key: EcdsaKeyPair,
    /// Base64 (standard alphabet, padded) DER of the signing certificate, as `x5c` wants.
    x5c: Vec<String>,
    rng: SystemRandom,
    /// Seconds from `iat` to `exp`.
    lifetime: u64,
}

impl TokenServer {
    /// Starts a token server on 127.0.0.1 that accepts `username` and `password`, and
    /// writes its CA certificate into `dir`.
    pub fn start(dir: &Path, username: &str, password: &str) -> TokenServer {
        TokenServer::start_with_lifetime(dir, username, password, TOKEN_LIFETIME)
    }

    /// Starts a token server like [`TokenServer::start`] whose tokens expire `lifetime`
    /// seconds after they are issued.
    pub fn start_with_lifetime(
        dir: &Path,
        username: &str,
        password: &str,
        lifetime: u64,
    ) -> TokenServer {
        let (signer, ca_pem) = make_signer(lifetime);
        let root_cert_bundle = dir.join("token-ca.pem");
        std::fs::write(&root_cert_bundle, ca_pem).expect("write root certificate bundle");

        let expected_authorization = format!(
            "Basic {}",
            STANDARD.encode(format!("{username}:{password}"))
        );
        let expected_subject = username.to_owned();
        let granted_scopes = Arc::new(Mutex::new(Vec::new()));
        let rejected = Arc::new(AtomicU64::new(0));
        let (scopes, rejections) = (granted_scopes.clone(), rejected.clone());
        let server = StandIn::start(move |request: &Request| {
            let (path, query) = request.path.split_once('?').unwrap_or((&request.path, ""));
            if request.method != "GET" || path != "/token" {
                return Reply::json(404, &json!({"details": "not found"}));
            }
            if request.header("Authorization") != Some(expected_authorization.as_str()) {
                rejections.fetch_add(1, Ordering::SeqCst);
                return Reply::json(401, &json!({"details": "invalid username or password"}));
            }
            let parameters = parse_query(query);
            let service = parameters
                .iter()
                .find(|(key, _)| key == "service")
                .map(|(_, value)| value.as_str());
            if service != Some(SERVICE) {
                return Reply::json(400, &json!({"details": "unknown service"}));
            }
            let requested: Vec<String> = parameters
                .into_iter()
                .filter(|(key, _)| key == "scope")
                .map(|(_, value)| value)
                .collect();
            scopes
                .lock()
                .expect("scope lock")
                .extend(requested.iter().cloned());
            let token = signer.issue(&expected_subject, &requested);
            Reply::json(200, &json!({"token": token, "expires_in": lifetime}))
        });
        TokenServer {
            server,
            root_cert_bundle,
            granted_scopes,
            rejected,
        }
    }

    /// URL for the registry's `realm`.
    pub fn realm(&self) -> String {
        format!("{}/token", self.server.url())
    }

    pub fn scopes(&self) -> Vec<String> {
        self.granted_scopes.lock().expect("scope lock").clone()
    }
}

/// Creates a CA and a signing certificate issued by it, and returns the signer with the
/// CA certificate in PEM.
fn make_signer(lifetime: u64) -> (Signer, String) {
    let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "xtask test token CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key).expect("CA certificate");
    let ca = Issuer::new(ca_params, ca_key);

    let signing_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("signing key");
    let mut signing_params =
        CertificateParams::new(Vec::<String>::new()).expect("signing parameters");
    signing_params
        .distinguished_name
        .push(DnType::CommonName, ISSUER);
    let signing_cert = signing_params
        .signed_by(&signing_key, &ca)
        .expect("signing certificate");

    // rcgen signs certificates with ASN.1 ECDSA signatures, but JWS ES256 needs the fixed
    // 64-byte r||s form, so the token signature comes from ring with the same key.
    let rng = SystemRandom::new();
    let key = EcdsaKeyPair::from_pkcs8(
        &ECDSA_P256_SHA256_FIXED_SIGNING,
        &signing_key.serialize_der(),
        &rng,
    )
    .expect("load signing key into ring");
    let signer = Signer {
        key,
        x5c: vec![STANDARD.encode(signing_cert.der())],
        rng,
        lifetime,
    };
    (signer, ca_cert.pem())
}

impl Signer {
    /// Returns a compact JWS that grants every action of each `type:name:actions` scope.
    fn issue(&self, subject: &str, scopes: &[String]) -> String {
        static TOKEN_COUNTER: AtomicU64 = AtomicU64::new(0);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock after 1970")
            .as_secs();
        let access: Vec<serde_json::Value> = scopes
            .iter()
            .flat_map(|scope| scope.split(' '))
            .filter_map(|scope| {
                // The name may contain `:` (a registry port), so the type is split off
                // the front and the actions off the back.
                let (kind, rest) = scope.split_once(':')?;
                let (name, actions) = rest.rsplit_once(':')?;
                let actions: Vec<&str> = actions.split(',').collect();
                Some(json!({"type": kind, "name": name, "actions": actions}))
            })
            .collect();
        let header = json!({"typ": "JWT", "alg": "ES256", "x5c": self.x5c});
        let claims = json!({
            "iss": ISSUER,
            "sub": subject,
            "aud": SERVICE,
            "exp": now + self.lifetime,
            "nbf": now,
            "iat": now,
            "jti": format!("token-{}", TOKEN_COUNTER.fetch_add(1, Ordering::SeqCst)),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&self.rng, signing_input.as_bytes())
            .expect("sign token");
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.as_ref())
        )
    }
}

/// Splits a query string into decoded `(key, value)` pairs.
fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

/// Decodes `%XX` escapes and `+` (a space in form encoding).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => {
                        decoded.push(byte);
                        index += 3;
                        continue;
                    }
                    Err(_) => decoded.push(b'%'),
                }
            }
            b'+' => decoded.push(b' '),
            byte => decoded.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
