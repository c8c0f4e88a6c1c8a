//! `cargo xtask verify <ref> --key cosign.pub`: checks an image's cosign signature.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;

use super::Context;
use super::registry_args::{RegistryArgs, runtime};
use crate::registry::ImageReference;
use crate::sign::{CosignPublicKey, VerifyError, verify_image};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image to verify: `<registry>/<path>:<tag>` or `<registry>/<path>@sha256:<hex>`.
    pub reference: String,

    /// Public key (PEM) that must verify the signature, e.g. `cosign.pub`.
    #[arg(long, value_name = "FILE")]
    pub key: PathBuf,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Prints the verified digest on stdout. Exits 1 with every reason when no signature
/// verifies, 2 when the check could not run.
pub fn run(_context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let reference = ImageReference::parse(&args.reference)?;
    let key = CosignPublicKey::load(&args.key)?;
    let client = args.registry.client(&reference.repository().registry)?;
    let result = runtime()?.block_on(verify_image(&client, &reference, &key));
    match result {
        Ok(verified) => {
            println!("{}@{}", verified.repository, verified.digest);
            eprintln!(
                "verified: {} is signed by `{}`",
                args.reference,
                args.key.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error @ (VerifyError::Invalid { .. } | VerifyError::NoSignatures { .. })) => {
            eprintln!("error: verification of {} failed: {error}", args.reference);
            Ok(ExitCode::FAILURE)
        }
        Err(error) => Err(error).with_context(|| format!("failed to verify {}", args.reference)),
    }
}
