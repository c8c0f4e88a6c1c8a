//! Registry flags shared by `publish` and `verify`, and the client they configure.

use crate::registry::{ClientOptions, CredentialInputs, RegistryClient};

/// How to reach and log in to the registry.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Registry host (`HOST[:PORT]`) to use instead of `registry` in catalog.yaml, such
    /// as a test registry on loopback.
    #[arg(long = "registry", value_name = "HOST", env = "XTASK_REGISTRY", value_parser = parse_registry_host)]
    pub registry_override: Option<String>,

    /// Registry username; the password is read from `XTASK_REGISTRY_PASSWORD` only, so
    /// that it never shows in the process list.
    #[arg(long, env = "XTASK_REGISTRY_USERNAME")]
    pub username: Option<String>,

    /// Speak HTTP instead of HTTPS to the registry. Registries on loopback addresses
    /// use HTTP without this flag.
    #[arg(long)]
    pub plain_http: bool,

    /// Attempts per registry request, the first included, before giving up.
    #[arg(long, default_value_t = 6, value_name = "N")]
    pub max_attempts: u32,
}

impl RegistryArgs {
    /// Resolves credentials for `registry` and creates the client.
    pub fn client(&self, registry: &str) -> anyhow::Result<RegistryClient> {
        let mut inputs = CredentialInputs::from_env();
        if self.username.is_some() {
            inputs.username = self.username.clone();
        }
        let (credentials, source) = inputs.resolve(registry)?;
        tracing::debug!(registry, ?source, "registry credentials");
        let mut options = ClientOptions::for_registry(registry);
        options.plain_http |= self.plain_http;
        options.retry.max_attempts = self.max_attempts.max(1);
        Ok(RegistryClient::new(registry, &credentials, &options))
    }
}

/// Parses a `--registry` value when the command line is read, so that `release` rejects
/// it before building anything. The value is `HOST[:PORT]`, as image references start.
/// The scheme follows from `--plain-http` and loopback addresses, and the path from
/// `namespace` in catalog.yaml.
pub fn parse_registry_host(text: &str) -> Result<String, String> {
    if let Some((scheme, rest)) = text.split_once("://") {
        let host = rest.split('/').next().unwrap_or_default();
        return Err(format!(
            "`{text}` has a scheme `{scheme}://`; give `HOST[:PORT]` only, such as `{host}` (registries on loopback addresses use HTTP, others need --plain-http for it)"
        ));
    }
    if let Some((host, path)) = text.split_once('/') {
        return Err(format!(
            "`{text}` has a path `/{path}`; give `HOST[:PORT]` only, such as `{host}`, and set the path with `namespace` in catalog.yaml"
        ));
    }
    if !crate::catalog::is_registry_host(text) {
        return Err(format!(
            "`{text}` is not `HOST[:PORT]`; write a lowercase host with an optional numeric port, such as `ghcr.io` or `127.0.0.1:5000`"
        ));
    }
    Ok(text.to_owned())
}

/// Builds a single-threaded runtime for the async registry code.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_host_accepts_host_and_port() {
        for host in [
            "ghcr.io",
            "127.0.0.1:5000",
            "localhost:5000",
            "registry-1.docker.io",
        ] {
            assert_eq!(parse_registry_host(host).as_deref(), Ok(host));
        }
    }

    #[test]
    fn registry_host_rejects_scheme_path_and_case() {
        let cases = [
            ("http://127.0.0.1:5000", "such as `127.0.0.1:5000`"),
            ("https://ghcr.io/org", "such as `ghcr.io`"),
            ("ghcr.io/org", "has a path `/org`"),
            ("GHCR.IO", "is not `HOST[:PORT]`"),
            ("host:port", "is not `HOST[:PORT]`"),
            ("", "is not `HOST[:PORT]`"),
        ];
        for (value, expected) in cases {
            let message = parse_registry_host(value).expect_err(value);
            assert!(message.contains(expected), "{value}: {message}");
        }
    }
}
