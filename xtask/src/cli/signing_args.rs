//! Signing flags shared by `publish` and `release`.

use std::path::PathBuf;

/// How to sign what is published; each value overrides catalog.yaml's `signing`.
#[derive(Debug, Clone, clap::Args)]
pub struct SigningArgs {
    /// Signing mode instead of `signing.mode` in catalog.yaml: `key` or `keyless`.
    #[arg(long, value_name = "MODE", value_parser = ["key", "keyless"])]
    pub signing_mode: Option<String>,

    /// Cosign private key for `signing.mode: key`; its password is read from
    /// `COSIGN_PASSWORD`.
    #[arg(long, value_name = "FILE", env = "XTASK_COSIGN_KEY")]
    pub key: Option<PathBuf>,

    /// Fulcio base URL for `signing.mode: keyless`.
    #[arg(long, value_name = "URL", env = "XTASK_FULCIO_URL")]
    pub fulcio_url: Option<String>,

    /// Rekor base URL for `signing.mode: keyless`.
    #[arg(long, value_name = "URL", env = "XTASK_REKOR_URL")]
    pub rekor_url: Option<String>,
}
