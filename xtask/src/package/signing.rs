//! The key that signs packages and the index. The repository's public key is named in
//! `catalog.yaml` (`packages.signing-key`); its private key comes from a flag or
//! `XTASK_PACKAGE_SIGNING_KEY` and must match. Without a private key, an ephemeral key
//! kept in the cache folder signs instead, with a warning in the log: images must then trust
//! the ephemeral public key written next to the repository.

use std::path::{Path, PathBuf};

use apk::{PrivateKey, PublicKey, generate_key_pair};

/// Environment variable naming the private key file.
pub const PRIVATE_KEY_ENV: &str = "XTASK_PACKAGE_SIGNING_KEY";

/// Key name used for an ephemeral key when `catalog.yaml` names no public key.
const EPHEMERAL_NAME: &str = "xtask-ephemeral.rsa.pub";

/// Errors from loading or creating the signing key.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// A key file could not be read or parsed.
    #[error("failed to load key `{}`", path.display())]
    Load {
        /// The key file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: apk::key::KeyError,
    },
    /// The private key does not belong to the repository's public key.
    #[error(
        "private key `{}` does not match the repository's public key `{}`",
        private.display(),
        public.display()
    )]
    Mismatch {
        /// The private key file.
        private: PathBuf,
        /// The public key file.
        public: PathBuf,
    },
    /// The ephemeral key could not be generated or stored.
    #[error("failed to create the ephemeral signing key `{}`: {message}", path.display())]
    Ephemeral {
        /// Path of the stored key.
        path: PathBuf,
        /// What failed.
        message: String,
    },
}

/// The key packages are signed with.
#[derive(Debug, Clone)]
pub struct SigningKey {
    /// The private key; its name is the key file name apk looks up (`x.rsa.pub`).
    pub private: PrivateKey,
    /// The public key as PEM text, written next to the repository.
    pub public_pem: String,
    /// Whether this is an ephemeral key rather than the repository's.
    pub ephemeral: bool,
}

impl SigningKey {
    /// Returns the key's file name, as apk keyrings name it.
    pub fn name(&self) -> &str {
        self.private.name()
    }

    /// Chooses the key: the private key at `private_path` (checked against `public`),
    /// else an ephemeral key stored in `cache_dir`.
    pub fn select(
        public: Option<&Path>,
        private_path: Option<&Path>,
        cache_dir: &Path,
    ) -> Result<SigningKey, SigningError> {
        match private_path {
            Some(private_path) => Self::repository_key(public, private_path),
            None => Self::ephemeral(public, cache_dir),
        }
    }

    fn repository_key(public: Option<&Path>, private_path: &Path) -> Result<Self, SigningError> {
        let load_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| SigningError::Load { path, source }
        };
        let name = match public {
            Some(public) => file_name(public),
            None => format!("{}.pub", file_name(private_path)),
        };
        let pem = fs_err::read_to_string(private_path).map_err(|error| SigningError::Load {
            path: private_path.to_path_buf(),
            source: apk::key::KeyError::from(error),
        })?;
        let private = PrivateKey::from_pem(name, &pem).map_err(load_error(private_path))?;
        let public_pem = private
            .public_key()
            .to_pem()
            .map_err(load_error(private_path))?;
        if let Some(public) = public {
            let expected = PublicKey::load(public)
                .and_then(|key| key.to_pem())
                .map_err(load_error(public))?;
            if expected != public_pem {
                return Err(SigningError::Mismatch {
                    private: private_path.to_path_buf(),
                    public: public.to_path_buf(),
                });
            }
        }
        tracing::info!(key = %private.name(), "signing packages with the repository key");
        Ok(SigningKey {
            private,
            public_pem,
            ephemeral: false,
        })
    }

    fn ephemeral(public: Option<&Path>, cache_dir: &Path) -> Result<Self, SigningError> {
        let name = match public {
            Some(public) => {
                let name = file_name(public);
                let stem = name.strip_suffix(".rsa.pub").unwrap_or(&name);
                format!("{stem}-ephemeral.rsa.pub")
            }
            None => EPHEMERAL_NAME.to_string(),
        };
        let path = cache_dir.join("keys").join("ephemeral-packages.rsa");
        let ephemeral_error = |message: String| SigningError::Ephemeral {
            path: path.clone(),
            message,
        };
        if !path.is_file() {
            let pair = generate_key_pair(apk::key::DEFAULT_KEY_BITS)
                .map_err(|error| ephemeral_error(error.to_string()))?;
            store_private_key(&path, &pair.private_pem)
                .map_err(|error| ephemeral_error(error.to_string()))?;
        }
        let pem =
            fs_err::read_to_string(&path).map_err(|error| ephemeral_error(error.to_string()))?;
        let private =
            PrivateKey::from_pem(name, &pem).map_err(|error| ephemeral_error(error.to_string()))?;
        let public_pem = private
            .public_key()
            .to_pem()
            .map_err(|error| ephemeral_error(error.to_string()))?;
        tracing::warn!(
            key = %private.name(),
            "no private key given (--signing-key or {PRIVATE_KEY_ENV}): signing with an ephemeral key; \
             packages verify only with the public key written next to the repository"
        );
        Ok(SigningKey {
            private,
            public_pem,
            ephemeral: true,
        })
    }
}

// Writes the key with mode 0600 through a temporary file, so that a parallel run
// never reads half a key.
fn store_private_key(path: &Path, pem: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::PermissionsExt as _;
    let dir = path.parent().unwrap_or(Path::new("."));
    fs_err::create_dir_all(dir)?;
    let mut temporary = tempfile::NamedTempFile::new_in(dir)?;
    temporary
        .as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o600))?;
    temporary.write_all(pem.as_bytes())?;
    temporary.persist(path).map_err(|error| error.error)?;
    Ok(())
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}
