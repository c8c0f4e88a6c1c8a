//! The distribution client: oci-client with credentials, retries and errors that name
//! the registry, repository and digest they are about.

use std::collections::BTreeSet;
use std::time::Duration;

use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::OciDistributionError;
use oci_client::secrets::RegistryAuth;
use oci_client::token_cache::RegistryTokenType;
use oci_client::{Client, Reference, RegistryOperation};
use reqwest::header::HeaderValue;

use super::auth::Credentials;
use super::digest::Digest;
use super::repository::Repository;
use super::retry::{Failure, RetryPolicy, classify, error_chain, is_http_unauthorized};

/// Media types accepted when fetching manifests.
const MANIFEST_MEDIA_TYPES: &[&str] = &[
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
];

/// Settings of a [`RegistryClient`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Talk HTTP instead of HTTPS. Meant for registries on loopback only.
    pub plain_http: bool,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Time without any data from the registry before a request fails (and is retried).
    pub read_timeout: Duration,
}

impl ClientOptions {
    /// HTTPS, except for a registry on a loopback address (`127.0.0.1`, `[::1]`,
    /// `localhost`), which is spoken to over HTTP as Docker does.
    pub fn for_registry(registry: &str) -> ClientOptions {
        ClientOptions {
            plain_http: is_loopback(registry),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(120),
        }
    }
}

/// Returns whether `registry` (`host[:port]`) names a loopback address.
pub fn is_loopback(registry: &str) -> bool {
    let host = match registry.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(rest),
        None => registry.split(':').next().unwrap_or(registry),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A failed registry operation, with what it was about.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("{operation} on {repository}: authentication failed or access denied; check the credentials for {registry} ({message})", registry = repository.registry)]
    Unauthorized {
        operation: String,
        repository: Repository,
        message: String,
    },
    #[error("{operation} on {repository}: not found ({message})")]
    NotFound {
        operation: String,
        repository: Repository,
        message: String,
    },
    #[error("{operation} on {repository} failed after {attempts} attempt(s): {message}")]
    Failed {
        operation: String,
        repository: Repository,
        attempts: u32,
        message: String,
    },
    #[error(
        "{operation} on {repository}: the registry returned digest {actual}, expected {expected}"
    )]
    DigestMismatch {
        operation: String,
        repository: Repository,
        expected: Digest,
        actual: String,
    },
}

impl RegistryError {
    /// Returns whether the error means missing or rejected credentials.
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, RegistryError::Unauthorized { .. })
    }

    /// Returns whether the error means the requested content does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, RegistryError::NotFound { .. })
    }
}

/// A registry session for one registry host and one set of credentials.
pub struct RegistryClient {
    client: Client,
    /// Plain HTTP client for the `Retry-After` probe, which oci-client cannot make.
    probe: reqwest::Client,
    base_url: String,
    auth: RegistryAuth,
    registry: String,
    retry: RetryPolicy,
    /// Repositories and operations that [`RegistryClient::authorize`] fetched a token or
    /// stored basic credentials for.
    authorized: tokio::sync::Mutex<BTreeSet<(String, RegistryOperation)>>,
}

impl std::fmt::Debug for RegistryClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryClient")
            .field("registry", &self.registry)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

impl RegistryClient {
    /// Creates a client for `registry`. Installs the process-wide rustls provider (ring)
    /// on first use, because the TLS stack is built without a default provider.
    pub fn new(
        registry: &str,
        credentials: &Credentials,
        options: &ClientOptions,
    ) -> RegistryClient {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = ClientConfig {
            protocol: if options.plain_http {
                ClientProtocol::Http
            } else {
                ClientProtocol::Https
            },
            use_monolithic_push: true,
            connect_timeout: Some(options.connect_timeout),
            read_timeout: Some(options.read_timeout),
            ..ClientConfig::default()
        };
        let scheme = if options.plain_http { "http" } else { "https" };
        let probe = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.connect_timeout)
            .build()
            .unwrap_or_default();
        RegistryClient {
            client: Client::new(config),
            probe,
            base_url: format!("{scheme}://{registry}"),
            auth: credentials.to_registry_auth(),
            registry: registry.to_owned(),
            retry: options.retry,
            authorized: tokio::sync::Mutex::new(BTreeSet::new()),
        }
    }

    /// Returns the registry host this client sends requests to.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Stores the credentials for the reference's registry and, with a username and
    /// password, fetches the token (or stores the basic credentials) for the repository
    /// and operation before their first request. oci-client's cache then serves them.
    // oci-client 0.18 would fetch the token itself before the request, but when its
    // `GET /v2/` fails (5xx, 429 or a dropped connection) it sends the request without
    // credentials, and the registry's 401 reads as rejected credentials. Fetching here
    // returns that failure, so the retry policy retries it.
    async fn authorize(
        &self,
        reference: &Reference,
        operation: RegistryOperation,
    ) -> Result<(), OciDistributionError> {
        self.client
            .store_auth_if_needed(reference.resolve_registry(), &self.auth)
            .await;
        let RegistryAuth::Basic(username, password) = &self.auth else {
            return Ok(());
        };
        let key = (reference.repository().to_owned(), operation);
        // The lock is held while fetching, so that concurrent first requests of a
        // repository wait for one token instead of each fetching their own.
        let mut authorized = self.authorized.lock().await;
        if authorized.contains(&key) {
            return Ok(());
        }
        match self.auth_challenge().await?.as_deref() {
            None => {}
            Some("bearer") => {
                // `Client::auth` stores the token in the cache. It returns no token when
                // its own `GET /v2/` got no challenge, which after ours means it failed.
                let token = self.client.auth(reference, &self.auth, operation).await?;
                if token.is_none() {
                    return Err(OciDistributionError::IoError(std::io::Error::other(
                        "no auth challenge from GET /v2/ while fetching a token",
                    )));
                }
            }
            // `Basic`, and like oci-client any other scheme, gets the basic credentials.
            Some(_) => {
                let credentials = RegistryTokenType::Basic(username.clone(), password.clone());
                self.client
                    .tokens
                    .insert(reference, operation, credentials)
                    .await;
            }
        }
        authorized.insert(key);
        Ok(())
    }

    /// Makes the next request of the repository and operation fetch a new token.
    async fn forget_authorization(&self, reference: &Reference, operation: RegistryOperation) {
        let key = (reference.repository().to_owned(), operation);
        self.authorized.lock().await.remove(&key);
    }

    /// Sends `GET /v2/` and returns the lowercase scheme of the auth challenge
    /// (`basic`, `bearer`), or `None` when the registry replies with success. Any other
    /// reply, such as a 5xx or 429, is returned as [`OciDistributionError::ServerError`].
    async fn auth_challenge(&self) -> Result<Option<String>, OciDistributionError> {
        let url = format!("{}/v2/", self.base_url);
        let response = self.probe.get(&url).send().await?;
        let status = response.status();
        if status.is_success() {
            return Ok(None);
        }
        let scheme = response
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split_whitespace().next())
            .map(str::to_ascii_lowercase);
        match scheme {
            Some(scheme) if status == reqwest::StatusCode::UNAUTHORIZED => Ok(Some(scheme)),
            _ => Err(OciDistributionError::ServerError {
                code: status.as_u16(),
                url,
                message: "GET /v2/ failed while fetching a token".to_owned(),
            }),
        }
    }

    /// Checks whether the repository has the blob (`HEAD /v2/<name>/blobs/<digest>`).
    pub async fn blob_exists(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let reference = repository.at_digest(digest);
        let operation = format!("checking blob {digest}");
        self.run(
            &operation,
            repository,
            &reference,
            RegistryOperation::Pull,
            || self.client.blob_exists(&reference, digest.as_str()),
        )
        .await
    }

    /// Mounts a blob from `source` (same registry) into `repository`. Returns false when
    /// the registry does not mount it (blob absent there, or mounting unsupported), so
    /// that the caller uploads instead.
    pub async fn mount_blob(
        &self,
        repository: &Repository,
        source: &Repository,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let target = repository.at_digest(digest);
        let from = source.at_digest(digest);
        let operation = format!("mounting blob {digest} from {source}");
        match self
            .run(
                &operation,
                repository,
                &target,
                RegistryOperation::Push,
                || self.client.mount_blob(&target, &from, digest.as_str()),
            )
            .await
        {
            Ok(()) => Ok(true),
            Err(error) if error.is_unauthorized() => Err(error),
            Err(error) => {
                tracing::debug!(%error, "mount not done, uploading instead");
                Ok(false)
            }
        }
    }

    /// Uploads a blob in one request after opening an upload session.
    pub async fn push_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
        bytes: bytes::Bytes,
    ) -> Result<(), RegistryError> {
        let reference = repository.at_digest(digest);
        let operation = format!("uploading blob {digest}");
        self.run(
            &operation,
            repository,
            &reference,
            RegistryOperation::Push,
            || {
                self.client
                    .push_blob(&reference, bytes.clone(), digest.as_str())
            },
        )
        .await?;
        Ok(())
    }

    /// Returns the digest that `reference` (a tag or digest) resolves to, or `None` when
    /// the repository has no such manifest.
    pub async fn manifest_digest(
        &self,
        repository: &Repository,
        reference: &Reference,
    ) -> Result<Option<Digest>, RegistryError> {
        let operation = format!("resolving manifest {}", reference_name(reference));
        let result = self
            .run(
                &operation,
                repository,
                reference,
                RegistryOperation::Pull,
                || self.client.fetch_manifest_digest(reference, &self.auth),
            )
            .await;
        match result {
            Ok(digest) => Digest::parse(&digest)
                .map(Some)
                .map_err(|error| RegistryError::Failed {
                    operation,
                    repository: repository.clone(),
                    attempts: 1,
                    message: error.to_string(),
                }),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Uploads a manifest under `reference` (its digest or a tag) and checks that the
    /// registry stored it under the expected digest.
    pub async fn push_manifest(
        &self,
        repository: &Repository,
        reference: &Reference,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        let operation = format!("pushing manifest {}", reference_name(reference));
        let content_type =
            HeaderValue::from_str(media_type).map_err(|_| RegistryError::Failed {
                operation: operation.clone(),
                repository: repository.clone(),
                attempts: 0,
                message: format!("invalid media type `{media_type}`"),
            })?;
        let body = bytes::Bytes::copy_from_slice(bytes);
        self.run(
            &operation,
            repository,
            reference,
            RegistryOperation::Push,
            || {
                self.client
                    .push_manifest_raw(reference, body.clone(), content_type.clone())
            },
        )
        .await?;
        Ok(())
    }

    /// Fetches a manifest's bytes and checks them against the digest the registry gives.
    pub async fn pull_manifest(
        &self,
        repository: &Repository,
        reference: &Reference,
    ) -> Result<(Vec<u8>, Digest), RegistryError> {
        let operation = format!("fetching manifest {}", reference_name(reference));
        let (bytes, digest) = self
            .run(
                &operation,
                repository,
                reference,
                RegistryOperation::Pull,
                || {
                    self.client
                        .pull_manifest_raw(reference, &self.auth, MANIFEST_MEDIA_TYPES)
                },
            )
            .await?;
        let actual = Digest::of(&bytes);
        if let Some(expected) = reference.digest() {
            if actual.as_str() != expected {
                return Err(RegistryError::DigestMismatch {
                    operation,
                    repository: repository.clone(),
                    expected: actual,
                    actual: expected.to_owned(),
                });
            }
        } else if digest != actual.as_str() {
            tracing::debug!(header = %digest, computed = %actual, "registry digest header differs from the manifest bytes; using the bytes");
        }
        Ok((bytes.to_vec(), actual))
    }

    /// Fetches a blob and checks its digest.
    pub async fn pull_blob(
        &self,
        repository: &Repository,
        digest: &Digest,
    ) -> Result<Vec<u8>, RegistryError> {
        let reference = repository.at_digest(digest);
        let operation = format!("fetching blob {digest}");
        let bytes = self
            .run(
                &operation,
                repository,
                &reference,
                RegistryOperation::Pull,
                || async {
                    let mut bytes = Vec::new();
                    self.client
                        .pull_blob(&reference, digest.as_str(), &mut bytes)
                        .await?;
                    Ok(bytes)
                },
            )
            .await?;
        let actual = Digest::of(&bytes);
        if &actual != digest {
            return Err(RegistryError::DigestMismatch {
                operation,
                repository: repository.clone(),
                expected: digest.clone(),
                actual: actual.to_string(),
            });
        }
        Ok(bytes)
    }

    /// Runs `request` after [`RegistryClient::authorize`] under the retry policy. With a
    /// username and password, a 401 reply is retried once after fetching a new token,
    /// because oci-client renews expired tokens itself and sends the request without
    /// credentials when that renewal fails.
    async fn run<T, F, Fut>(
        &self,
        operation: &str,
        repository: &Repository,
        reference: &Reference,
        registry_operation: RegistryOperation,
        mut request: F,
    ) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
    {
        let label = format!("{operation} on {repository}");
        let mut attempts = 0;
        let mut authorized_again = false;
        loop {
            let result = self
                .retry
                .run(
                    &label,
                    || {
                        // The request futures come from async fns, so `request()` sends
                        // nothing until it is awaited after `authorize`.
                        let authorize = self.authorize(reference, registry_operation);
                        let response = request();
                        async move {
                            authorize.await?;
                            response.await
                        }
                    },
                    || self.probe_retry_after(),
                )
                .await;
            let error = match result {
                Ok(value) => return Ok(value),
                Err((error, run_attempts)) => {
                    attempts += run_attempts;
                    error
                }
            };
            let has_password = matches!(self.auth, RegistryAuth::Basic(..));
            if has_password && !authorized_again && is_http_unauthorized(&error) {
                tracing::warn!(
                    operation = label,
                    attempt = attempts,
                    "retrying registry request once with a new token after HTTP 401"
                );
                self.forget_authorization(reference, registry_operation)
                    .await;
                authorized_again = true;
                continue;
            }
            return Err(registry_error(operation, repository, &error, attempts));
        }
    }
}

impl RegistryClient {
    /// Reads the `Retry-After` of a rate-limited registry from `GET /v2/`.
    // NOTE: oci-client 0.18 drops response headers from its errors, so the wait the
    // registry asked for on the failed request itself is unknown. This probe finds it
    // only when the registry rate-limits `/v2/` too, which registries that limit per
    // client do; otherwise the backoff applies.
    async fn probe_retry_after(&self) -> Option<std::time::Duration> {
        let response = self
            .probe
            .get(format!("{}/v2/", self.base_url))
            .send()
            .await
            .ok()?;
        if response.status() != reqwest::StatusCode::TOO_MANY_REQUESTS {
            return None;
        }
        let value = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)?
            .to_str()
            .ok()?;
        let delay = super::retry::parse_retry_after(value);
        tracing::debug!(
            registry = self.registry,
            retry_after = value,
            "registry asked to wait"
        );
        delay
    }
}

fn registry_error(
    operation: &str,
    repository: &Repository,
    error: &OciDistributionError,
    attempts: u32,
) -> RegistryError {
    let operation = operation.to_owned();
    let repository = repository.clone();
    match classify(error) {
        Failure::Unauthorized(message) => RegistryError::Unauthorized {
            operation,
            repository,
            message,
        },
        Failure::NotFound(message) => RegistryError::NotFound {
            operation,
            repository,
            message,
        },
        Failure::Transient(_) | Failure::RateLimited(_) | Failure::Permanent(_) => {
            RegistryError::Failed {
                operation,
                repository,
                attempts,
                message: error_chain(error),
            }
        }
    }
}

fn reference_name(reference: &Reference) -> String {
    reference
        .digest()
        .or(reference.tag())
        .unwrap_or("latest")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_registries() {
        for registry in [
            "127.0.0.1:5000",
            "localhost:5000",
            "[::1]:5000",
            "127.0.0.1",
        ] {
            assert!(is_loopback(registry), "{registry}");
        }
        for registry in ["ghcr.io", "10.0.0.1:5000", "registry.example:443"] {
            assert!(!is_loopback(registry), "{registry}");
        }
    }
}
