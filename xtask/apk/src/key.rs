//! RSA keys in PEM form and the keyring of trusted public keys.
//!
//! apk names a key by its file name (`alpine-devel@lists.alpinelinux.org-616ae350.rsa.pub`),
//! and signatures refer to the key by that name, so every key here carries its name.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use rsa::pkcs1::{DecodeRsaPrivateKey as _, DecodeRsaPublicKey as _};
use rsa::pkcs8::{DecodePrivateKey as _, DecodePublicKey as _, EncodePrivateKey as _};
use rsa::pkcs8::{EncodePublicKey as _, LineEnding};

/// Default RSA modulus size for new repository keys, the size `abuild-keygen` uses.
pub const DEFAULT_KEY_BITS: usize = 4096;

/// Smallest modulus accepted for new keys; smaller RSA keys are considered breakable.
pub const MIN_KEY_BITS: usize = 2048;

/// Errors from reading, loading and generating keys.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key file could not be read.
    #[error("failed to read key file")]
    Io(#[from] std::io::Error),
    /// The PEM text is not an RSA public key in PKIX (`BEGIN PUBLIC KEY`) or PKCS#1 form.
    #[error(
        "invalid public key `{name}`: expected an RSA key in PEM (`BEGIN PUBLIC KEY`)\n\
         hint: convert with `openssl rsa -in KEY -pubout`"
    )]
    InvalidPublic {
        /// The key name.
        name: String,
    },
    /// The PEM text is not an RSA private key in PKCS#8 or PKCS#1 form.
    #[error(
        "invalid private key `{name}`: expected an unencrypted RSA key in PEM \
         (`BEGIN PRIVATE KEY` or `BEGIN RSA PRIVATE KEY`)"
    )]
    InvalidPrivate {
        /// The key name.
        name: String,
    },
    /// The requested modulus size is below [`MIN_KEY_BITS`].
    #[error("invalid key size {bits}: use at least {MIN_KEY_BITS} bits")]
    TooSmall {
        /// The requested size in bits.
        bits: usize,
    },
    /// Key generation or encoding failed.
    #[error("failed to generate an RSA key of {bits} bits: {message}")]
    Generate {
        /// The requested size in bits.
        bits: usize,
        /// The error from the RSA library.
        message: String,
    },
    /// A key file name is not valid UTF-8 or has no file name.
    #[error("invalid key file name `{}`: key names must be UTF-8", path.display())]
    Name {
        /// The key file.
        path: PathBuf,
    },
}

/// A named RSA public key.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    name: String,
    key: rsa::PublicKey,
}

impl PublicKey {
    /// Parses a PEM public key (PKIX, or PKCS#1 `BEGIN RSA PUBLIC KEY`).
    pub fn from_pem(name: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let name = name.into();
        let key = rsa::PublicKey::from_public_key_pem(pem)
            .or_else(|_| rsa::PublicKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError::InvalidPublic { name: name.clone() })?;
        Ok(Self { name, key })
    }

    /// Loads a PEM public key file, named after the file.
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let name = file_name(path)?;
        let pem = fs_err::read_to_string(path)?;
        Self::from_pem(name, &pem)
    }

    /// Returns the key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the PEM text in PKIX form.
    pub fn to_pem(&self) -> Result<String, KeyError> {
        self.key
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| KeyError::InvalidPublic {
                name: self.name.clone(),
            })
    }

    pub(crate) fn rsa(&self) -> &rsa::PublicKey {
        &self.key
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PublicKey")
            .field("name", &self.name)
            .finish()
    }
}

/// A named RSA private key. `Debug` prints only the name.
#[derive(Clone)]
pub struct PrivateKey {
    name: String,
    key: rsa::PrivateKey,
}

impl PrivateKey {
    /// Parses an unencrypted PEM private key in PKCS#8 or PKCS#1 form. `name` is the
    /// name of the matching public key file, which signatures refer to.
    pub fn from_pem(name: impl Into<String>, pem: &str) -> Result<Self, KeyError> {
        let name = name.into();
        let key = rsa::PrivateKey::from_pkcs8_pem(pem)
            .or_else(|_| rsa::PrivateKey::from_pkcs1_pem(pem))
            .map_err(|_| KeyError::InvalidPrivate { name: name.clone() })?;
        Ok(Self { name, key })
    }

    /// Loads a PEM private key file. The key is named after the file with `.pub`
    /// appended, the abuild convention (`me.rsa` signs as `me.rsa.pub`).
    pub fn load(path: &Path) -> Result<Self, KeyError> {
        let name = format!("{}.pub", file_name(path)?);
        let pem = fs_err::read_to_string(path)?;
        Self::from_pem(name, &pem)
    }

    /// Returns the name of the public key that verifies this key's signatures.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Returns the public half.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            name: self.name.clone(),
            key: self.key.to_public_key(),
        }
    }

    pub(crate) fn rsa(&self) -> &rsa::PrivateKey {
        &self.key
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivateKey")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

fn file_name(path: &Path) -> Result<String, KeyError> {
    path.file_name()
        .and_then(|name| name.to_str())
        .map(str::to_owned)
        .ok_or_else(|| KeyError::Name { path: path.into() })
}

/// A new key pair as PEM text: the private key in PKCS#8, the public key in PKIX.
pub struct KeyPairPem {
    /// `BEGIN PRIVATE KEY` PEM text. Store it with mode 0600.
    pub private_pem: String,
    /// `BEGIN PUBLIC KEY` PEM text, the form apk keyrings use.
    pub public_pem: String,
}

impl fmt::Debug for KeyPairPem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPairPem")
            .field("public_pem", &self.public_pem)
            .finish_non_exhaustive()
    }
}

/// Generates an RSA key pair with public exponent 65537, using the operating system
/// random number generator. [`DEFAULT_KEY_BITS`] takes a few seconds on one core.
pub fn generate_key_pair(bits: usize) -> Result<KeyPairPem, KeyError> {
    if bits < MIN_KEY_BITS {
        return Err(KeyError::TooSmall { bits });
    }
    generate_unchecked(bits)
}

/// Generates a key of any size. Tests use small keys to stay fast.
pub(crate) fn generate_unchecked(bits: usize) -> Result<KeyPairPem, KeyError> {
    let generate_error = |message: String| KeyError::Generate { bits, message };
    let mut rng = getrandom::SysRng;
    let key = rsa::PrivateKey::new(&mut rng, bits).map_err(|e| generate_error(e.to_string()))?;
    let private_pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| generate_error(e.to_string()))?
        .to_string();
    let public_pem = key
        .to_public_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| generate_error(e.to_string()))?;
    Ok(KeyPairPem {
        private_pem,
        public_pem,
    })
}

#[cfg(test)]
mod tests;

/// Errors from loading a keyring.
#[derive(Debug, thiserror::Error)]
#[error("failed to load key `{}`", path.display())]
pub struct KeyringError {
    /// The key file or folder.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: KeyError,
}

/// A set of trusted public keys, looked up by name.
#[derive(Debug, Clone, Default)]
pub struct Keyring {
    keys: BTreeMap<String, PublicKey>,
}

impl Keyring {
    /// Creates an empty keyring.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a key, replacing any key with the same name.
    pub fn add(&mut self, key: PublicKey) {
        self.keys.insert(key.name.clone(), key);
    }

    /// Loads one key file.
    pub fn load_file(&mut self, path: &Path) -> Result<(), KeyringError> {
        let key = PublicKey::load(path).map_err(|source| KeyringError {
            path: path.into(),
            source,
        })?;
        tracing::debug!(key = key.name(), path = %path.display(), "loaded public key");
        self.add(key);
        Ok(())
    }

    /// Loads every `*.pub` file of a folder (the layout of `/etc/apk/keys`), in name order.
    pub fn load_dir(&mut self, dir: &Path) -> Result<(), KeyringError> {
        let error = |source: std::io::Error| KeyringError {
            path: dir.into(),
            source: source.into(),
        };
        let mut paths = Vec::new();
        for entry in fs_err::read_dir(dir).map_err(error)? {
            let path = entry.map_err(error)?.path();
            if path.extension().is_some_and(|ext| ext == "pub") && path.is_file() {
                paths.push(path);
            }
        }
        paths.sort();
        for path in paths {
            self.load_file(&path)?;
        }
        Ok(())
    }

    /// Loads a file or every key of a folder.
    pub fn load(&mut self, path: &Path) -> Result<(), KeyringError> {
        if path.is_dir() {
            self.load_dir(path)
        } else {
            self.load_file(path)
        }
    }

    /// Returns the key with this name.
    pub fn get(&self, name: &str) -> Option<&PublicKey> {
        self.keys.get(name)
    }

    /// Returns the key names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.keys.keys().map(String::as_str)
    }

    /// Returns the number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Returns true when the keyring contains no key.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}
