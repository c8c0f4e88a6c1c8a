//! Registry flags shared by `publish` and `verify`, and the client they configure.

use crate::registry::{ClientOptions, CredentialInputs, RegistryClient};

/// How to reach and log in to the registry.
#[derive(Debug, Clone, clap::Args)]
pub struct RegistryArgs {
    /// Registry host (`HOST[:PORT]`) to use instead of `registry` in catalog.yaml, such
    /// as a test registry on loopback.
    #[arg(long = "registry", value_name = "HOST", env = "XTASK_REGISTRY")]
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

/// Builds a single-threaded runtime for the async registry code.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}
