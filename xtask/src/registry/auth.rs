//! Registry credentials and where they come from. The first source that has
//! credentials for the registry wins, in this order: explicit values (flags or
//! `XTASK_REGISTRY_USERNAME`/`XTASK_REGISTRY_PASSWORD`), `GITHUB_TOKEN` for `ghcr.io`,
//! then the Docker config file. Without any, access is anonymous.
//!
//! With a username and password, `RegistryClient` reads the auth challenge of `GET /v2/`
//! before the first request of each repository and operation. A `Basic` challenge gets
//! the username and password, and a `Bearer` challenge gets them exchanged for a token at
//! the realm. oci-client renews expired tokens, and runs the challenge for anonymous access.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use oci_client::secrets::RegistryAuth;
use serde::Deserialize;

use super::secret::Secret;

/// Credentials for one registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    Anonymous,
    /// Username and password, or a token sent as the password (`GITHUB_TOKEN`).
    Basic {
        username: String,
        password: Secret,
    },
    /// A registry token sent as is in `Authorization: Bearer`.
    Bearer {
        token: Secret,
    },
}

/// Origin of the credentials in use, for logs, which never show the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Explicit,
    GithubToken,
    DockerConfig,
    None,
}

/// Inputs of credential resolution, read from the environment by
/// [`CredentialInputs::from_env`] or set by tests.
#[derive(Debug, Clone, Default)]
pub struct CredentialInputs {
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub github_token: Option<Secret>,
    /// `GITHUB_ACTOR`, sent as the username with `GITHUB_TOKEN`.
    pub github_actor: Option<String>,
    /// Folder holding `config.json`: `DOCKER_CONFIG`, else `~/.docker`.
    pub docker_config_dir: Option<PathBuf>,
}

/// A Docker config file that exists but cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("failed to read Docker config `{path}`")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid Docker config `{path}`: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error(
        "a registry password was given without a username; set XTASK_REGISTRY_USERNAME or --username"
    )]
    PasswordWithoutUsername,
}

impl CredentialInputs {
    /// Reads `XTASK_REGISTRY_USERNAME`, `XTASK_REGISTRY_PASSWORD`, `GITHUB_TOKEN`,
    /// `GITHUB_ACTOR`, `DOCKER_CONFIG` and `HOME`.
    pub fn from_env() -> CredentialInputs {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let docker_config_dir = var("DOCKER_CONFIG")
            .map(PathBuf::from)
            .or_else(|| var("HOME").map(|home| Path::new(&home).join(".docker")));
        CredentialInputs {
            username: var("XTASK_REGISTRY_USERNAME"),
            password: var("XTASK_REGISTRY_PASSWORD").map(Secret::new),
            github_token: var("GITHUB_TOKEN").map(Secret::new),
            github_actor: var("GITHUB_ACTOR"),
            docker_config_dir,
        }
    }

    /// Finds the credentials for `registry` (`host[:port]`).
    pub fn resolve(&self, registry: &str) -> Result<(Credentials, CredentialSource), AuthError> {
        match (&self.username, &self.password) {
            (Some(username), Some(password)) => {
                let credentials = Credentials::Basic {
                    username: username.clone(),
                    password: password.clone(),
                };
                return Ok((credentials, CredentialSource::Explicit));
            }
            (None, Some(_)) => return Err(AuthError::PasswordWithoutUsername),
            _ => {}
        }
        if registry == "ghcr.io"
            && let Some(token) = &self.github_token
        {
            // The username is the workflow's actor when GITHUB_ACTOR is set, else a fixed name.
            let username = self
                .github_actor
                .clone()
                .unwrap_or_else(|| "github-actions".into());
            let credentials = Credentials::Basic {
                username,
                password: token.clone(),
            };
            return Ok((credentials, CredentialSource::GithubToken));
        }
        if let Some(dir) = &self.docker_config_dir
            && let Some(credentials) =
                docker_config_credentials(&dir.join("config.json"), registry)?
        {
            return Ok((credentials, CredentialSource::DockerConfig));
        }
        Ok((Credentials::Anonymous, CredentialSource::None))
    }
}

impl Credentials {
    /// Converts to the oci-client form, whose `Debug` also redacts the secret.
    pub fn to_registry_auth(&self) -> RegistryAuth {
        match self {
            Credentials::Anonymous => RegistryAuth::Anonymous,
            Credentials::Basic { username, password } => {
                RegistryAuth::Basic(username.clone(), password.expose().to_owned())
            }
            Credentials::Bearer { token } => RegistryAuth::Bearer(token.expose().to_owned()),
        }
    }
}

#[derive(Deserialize)]
struct DockerConfig {
    #[serde(default)]
    auths: HashMap<String, DockerAuth>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
}

#[derive(Deserialize)]
struct DockerAuth {
    auth: Option<String>,
    username: Option<String>,
    password: Option<String>,
    #[serde(rename = "identitytoken")]
    identity_token: Option<String>,
    #[serde(rename = "registrytoken")]
    registry_token: Option<String>,
}

fn docker_config_credentials(
    path: &Path,
    registry: &str,
) -> Result<Option<Credentials>, AuthError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(AuthError::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    let config: DockerConfig = serde_json::from_str(&text).map_err(|error| AuthError::Invalid {
        path: path.to_owned(),
        message: error.to_string(),
    })?;
    let entry = config
        .auths
        .iter()
        .find(|(key, _)| auth_key_matches(key, registry));
    match entry {
        Some((_, auth)) => docker_auth_credentials(path, registry, auth),
        None => {
            if config.cred_helpers.contains_key(registry) || config.creds_store.is_some() {
                // NOTE: credential helpers (`docker-credential-*` programs) are not run;
                // only credentials stored in the file itself are used.
                tracing::debug!(registry, path = %path.display(), "Docker config names a credential helper, which is not supported");
            }
            Ok(None)
        }
    }
}

/// Docker writes keys as `host`, `https://host` or `https://host/v1/`.
fn auth_key_matches(key: &str, registry: &str) -> bool {
    let host = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let host = host.split('/').next().unwrap_or(host);
    host == registry || (registry == "docker.io" && host == "index.docker.io")
}

fn docker_auth_credentials(
    path: &Path,
    registry: &str,
    auth: &DockerAuth,
) -> Result<Option<Credentials>, AuthError> {
    if let Some(token) = &auth.registry_token {
        return Ok(Some(Credentials::Bearer {
            token: Secret::new(token.clone()),
        }));
    }
    if auth.identity_token.is_some() {
        // An identity token is an OAuth refresh token, which oci-client cannot exchange.
        tracing::warn!(
            registry,
            path = %path.display(),
            "the Docker config has an identity token for this registry, which is not supported; \
             set XTASK_REGISTRY_USERNAME and XTASK_REGISTRY_PASSWORD instead"
        );
        return Ok(None);
    }
    if let (Some(username), Some(password)) = (&auth.username, &auth.password) {
        return Ok(Some(Credentials::Basic {
            username: username.clone(),
            password: Secret::new(password.clone()),
        }));
    }
    let Some(encoded) = &auth.auth else {
        // Docker leaves the entry empty when a credential store keeps the secret.
        tracing::debug!(registry, path = %path.display(), "Docker config entry has no credentials");
        return Ok(None);
    };
    let invalid = |message: &str| AuthError::Invalid {
        path: path.to_owned(),
        message: message.to_owned(),
    };
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| invalid("an `auth` value is not valid base64"))?;
    let decoded =
        String::from_utf8(decoded).map_err(|_| invalid("an `auth` value is not UTF-8"))?;
    let Some((username, password)) = decoded.split_once(':') else {
        return Err(invalid(
            "an `auth` value is not `username:password` in base64",
        ));
    };
    Ok(Some(Credentials::Basic {
        username: username.to_owned(),
        password: Secret::new(password),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs_with_config(dir: &Path, json: &str) -> CredentialInputs {
        std::fs::write(dir.join("config.json"), json).expect("write config");
        CredentialInputs {
            docker_config_dir: Some(dir.to_owned()),
            ..CredentialInputs::default()
        }
    }

    #[test]
    fn docker_config_auth_is_decoded() {
        let dir = tempfile::tempdir().expect("temp dir");
        let encoded = base64::engine::general_purpose::STANDARD.encode("alice:s3cret-value");
        let json =
            format!(r#"{{"auths":{{"https://127.0.0.1:5000/v1/":{{"auth":"{encoded}"}}}}}}"#);
        let inputs = inputs_with_config(dir.path(), &json);
        let (credentials, source) = inputs.resolve("127.0.0.1:5000").expect("resolve");
        assert_eq!(source, CredentialSource::DockerConfig);
        assert_eq!(
            credentials,
            Credentials::Basic {
                username: "alice".into(),
                password: Secret::new("s3cret-value")
            }
        );
    }

    #[test]
    fn docker_config_other_registry_is_anonymous() {
        let dir = tempfile::tempdir().expect("temp dir");
        let inputs =
            inputs_with_config(dir.path(), r#"{"auths":{"other.example":{"auth":"YTpi"}}}"#);
        let (credentials, source) = inputs.resolve("127.0.0.1:5000").expect("resolve");
        assert_eq!(credentials, Credentials::Anonymous);
        assert_eq!(source, CredentialSource::None);
    }

    #[test]
    fn docker_config_empty_entry_is_anonymous() {
        let dir = tempfile::tempdir().expect("temp dir");
        let json = r#"{"auths":{"127.0.0.1:5000":{}},"credsStore":"desktop"}"#;
        let inputs = inputs_with_config(dir.path(), json);
        let (credentials, source) = inputs.resolve("127.0.0.1:5000").expect("resolve");
        assert_eq!(credentials, Credentials::Anonymous);
        assert_eq!(source, CredentialSource::None);
    }

    #[test]
    fn docker_config_registry_token_is_bearer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let json = r#"{"auths":{"127.0.0.1:5000":{"registrytoken":"abc"}}}"#;
        let inputs = inputs_with_config(dir.path(), json);
        let (credentials, _) = inputs.resolve("127.0.0.1:5000").expect("resolve");
        assert_eq!(
            credentials,
            Credentials::Bearer {
                token: Secret::new("abc")
            }
        );
    }

    #[test]
    fn explicit_credentials_win() {
        let inputs = CredentialInputs {
            username: Some("bob".into()),
            password: Some(Secret::new("pw")),
            github_token: Some(Secret::new("token")),
            ..CredentialInputs::default()
        };
        let (_, source) = inputs.resolve("ghcr.io").expect("resolve");
        assert_eq!(source, CredentialSource::Explicit);
    }

    #[test]
    fn github_token_only_for_ghcr() {
        let inputs = CredentialInputs {
            github_token: Some(Secret::new("token")),
            ..CredentialInputs::default()
        };
        assert_eq!(
            inputs.resolve("ghcr.io").expect("resolve").1,
            CredentialSource::GithubToken
        );
        assert_eq!(
            inputs.resolve("127.0.0.1:5000").expect("resolve").1,
            CredentialSource::None
        );
    }

    #[test]
    fn secrets_absent_from_debug_and_errors() {
        let password = "hunter2-very-secret";
        let inputs = CredentialInputs {
            username: Some("carol".into()),
            password: Some(Secret::new(password)),
            github_token: Some(Secret::new(password)),
            ..CredentialInputs::default()
        };
        let (credentials, _) = inputs.resolve("ghcr.io").expect("resolve");
        for text in [
            format!("{inputs:?}"),
            format!("{credentials:?}"),
            format!("{:?}", credentials.to_registry_auth()),
        ] {
            assert!(!text.contains(password), "secret printed in {text}");
        }

        let dir = tempfile::tempdir().expect("temp dir");
        let bad = inputs_with_config(
            dir.path(),
            &format!(r#"{{"auths":{{"h":{{"auth":"{password}"}}}}}}"#),
        );
        let error = bad.resolve("h").expect_err("invalid base64");
        assert!(!format!("{error:?} {error}").contains(password));
    }
}
