use rsa::pkcs1::EncodeRsaPrivateKey as _;

use super::*;
use crate::signature::{self, SignatureAlgorithm};
use crate::test_support;

#[test]
fn generate_rejects_small_keys() {
    let error = generate_key_pair(1024).expect_err("too small");
    assert!(matches!(error, KeyError::TooSmall { bits: 1024 }));
}

#[test]
fn generated_pair_signs_and_verifies() {
    let pair = generate_unchecked(1024).expect("generate");
    assert!(pair.private_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert!(pair.public_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    let private = PrivateKey::from_pem("k.rsa.pub", &pair.private_pem).expect("parse private");
    let public = PublicKey::from_pem("k.rsa.pub", &pair.public_pem).expect("parse public");
    let mut keyring = Keyring::new();
    keyring.add(public);
    for algorithm in [SignatureAlgorithm::RsaSha1, SignatureAlgorithm::RsaSha256] {
        let signed = signature::sign(&private, algorithm, b"content").expect("sign");
        let key =
            signature::verify(&keyring, std::slice::from_ref(&signed), b"content").expect("verify");
        assert_eq!(key, "k.rsa.pub");
        assert!(signature::verify(&keyring, &[signed], b"other").is_err());
    }
}

#[test]
fn private_key_reads_pkcs1() {
    let key = test_support::private_key();
    let pkcs1 = key
        .rsa()
        .to_pkcs1_pem(LineEnding::LF)
        .expect("encode PKCS#1")
        .to_string();
    assert!(pkcs1.starts_with("-----BEGIN RSA PRIVATE KEY-----"));
    let parsed = PrivateKey::from_pem("x.rsa.pub", &pkcs1).expect("parse PKCS#1");
    assert_eq!(parsed.public_key().rsa(), key.public_key().rsa());
}

#[test]
fn invalid_pem_is_error() {
    let error = PublicKey::from_pem("bad.pub", "not a key").expect_err("invalid");
    assert!(error.to_string().contains("bad.pub"), "{error}");
    assert!(PrivateKey::from_pem("bad", "-----BEGIN PRIVATE KEY-----").is_err());
}

#[test]
fn keyring_loads_pub_files_by_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let public = test_support::private_key().public_key();
    let pem = public.to_pem().expect("encode");
    fs_err::write(dir.path().join("a.rsa.pub"), &pem).expect("write key");
    fs_err::write(dir.path().join("b.rsa.pub"), &pem).expect("write key");
    fs_err::write(dir.path().join("README"), "not a key").expect("write file");
    let mut keyring = Keyring::new();
    keyring.load(dir.path()).expect("load folder");
    assert_eq!(
        keyring.names().collect::<Vec<_>>(),
        ["a.rsa.pub", "b.rsa.pub"]
    );
    let private_path = dir.path().join("me.rsa");
    let pair = generate_unchecked(1024).expect("generate");
    fs_err::write(&private_path, &pair.private_pem).expect("write key");
    let private = PrivateKey::load(&private_path).expect("load private");
    assert_eq!(private.name(), "me.rsa.pub");
}

#[test]
fn debug_hides_private_key() {
    let debug = format!("{:?}", test_support::private_key());
    assert_eq!(debug, "PrivateKey { name: \"test.rsa.pub\", .. }");
}
