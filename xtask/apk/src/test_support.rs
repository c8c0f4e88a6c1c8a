//! Helpers shared by unit tests.

use std::sync::OnceLock;

use crate::key::{self, Keyring, PrivateKey, PublicKey};

/// Key size for tests: small keys keep generation fast and are never used outside tests.
const TEST_KEY_BITS: usize = 1024;

/// Returns a private key generated once per test process, named `test.rsa.pub`.
pub(crate) fn private_key() -> PrivateKey {
    static KEY: OnceLock<PrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pair = key::generate_unchecked(TEST_KEY_BITS).expect("generate test key");
        PrivateKey::from_pem("test.rsa.pub", &pair.private_pem).expect("parse test key")
    })
    .clone()
}

/// Returns a keyring trusting [`private_key`].
pub(crate) fn keyring() -> Keyring {
    let mut keyring = Keyring::new();
    keyring.add(private_key().public_key());
    keyring
}

/// Returns a public key with the same name as [`private_key`] but different content.
pub(crate) fn impostor_key() -> PublicKey {
    static KEY: OnceLock<PublicKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let pair = key::generate_unchecked(TEST_KEY_BITS).expect("generate test key");
        PublicKey::from_pem("test.rsa.pub", &pair.public_pem).expect("parse test key")
    })
    .clone()
}
