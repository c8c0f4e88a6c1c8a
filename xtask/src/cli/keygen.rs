//! `cargo xtask keygen --cosign`: writes a cosign key pair for key-based image signing.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;

use super::Context;
use crate::registry::Secret;
use crate::sign::generate_cosign_key_pair;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Write a cosign key pair (`cosign.key`, encrypted with `COSIGN_PASSWORD`, and
    /// `cosign.pub`) for signing images.
    #[arg(long)]
    pub cosign: bool,

    /// Folder the key files are written to; defaults to the catalog root.
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if !args.cosign {
        bail!("choose the kind of key to generate: `--cosign` writes a cosign key pair");
    }
    cosign(context, &args)
}

fn cosign(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    let Ok(password) = std::env::var("COSIGN_PASSWORD") else {
        bail!("COSIGN_PASSWORD is not set; set it to the password that encrypts `cosign.key`");
    };
    let dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| context.root.clone());
    let files = generate_cosign_key_pair(&dir, &Secret::new(password))?;
    println!("{}", files.private_key.display());
    println!("{}", files.public_key.display());
    eprintln!(
        "keygen: keep `{}` out of git; commit `{}`",
        files.private_key.display(),
        files.public_key.display()
    );
    Ok(ExitCode::SUCCESS)
}
