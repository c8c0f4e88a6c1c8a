//! `cargo xtask keygen`: writes an RSA key pair that signs an APK repository, or with
//! `--cosign` a cosign key pair for key-based image signing.

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

    /// Name of the APK key pair: writes `NAME.rsa` and `NAME.rsa.pub`. apk-tools looks a
    /// key up by its file name, so the name usually includes the owner
    /// (`packages@example.org`).
    #[arg(
        long,
        value_name = "NAME",
        default_value = "packages",
        conflicts_with = "cosign"
    )]
    pub name: String,

    /// RSA modulus size of the APK key, in bits (at least 2048).
    #[arg(long, value_name = "BITS", default_value_t = apk::key::DEFAULT_KEY_BITS, conflicts_with = "cosign")]
    pub bits: usize,
}

pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    if args.cosign {
        return cosign(context, &args);
    }
    apk_key(context, &args)
}

/// Writes `NAME.rsa` (PKCS#8 PEM, readable by its owner only) and `NAME.rsa.pub`. An
/// existing file is never overwritten, since that would orphan every package it signed.
fn apk_key(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    // The name becomes a file name, and signatures name the key by it.
    let name_is_plain = !args.name.is_empty()
        && args
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
        && !args.name.starts_with('.');
    if !name_is_plain {
        bail!(
            "invalid key name `{}`: use letters, digits, `-`, `_`, `.` and `@`, not starting with `.`",
            args.name
        );
    }
    let dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| context.root.clone());
    fs_err::create_dir_all(&dir)?;
    let private_path = dir.join(format!("{}.rsa", args.name));
    let public_path = dir.join(format!("{}.rsa.pub", args.name));
    for path in [&private_path, &public_path] {
        if path.exists() {
            bail!(
                "`{}` already exists\nhint: remove it first, or choose another `--name`",
                path.display()
            );
        }
    }
    let pair = apk::generate_key_pair(args.bits)?;
    write_new(&private_path, &pair.private_pem, 0o600)?;
    write_new(&public_path, &pair.public_pem, 0o644)?;
    super::output::print_line(&private_path.display().to_string())?;
    super::output::print_line(&public_path.display().to_string())?;
    eprintln!(
        "keygen: keep `{}` out of git; commit `{}`",
        private_path.display(),
        public_path.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn write_new(path: &std::path::Path, text: &str, mode: u32) -> anyhow::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;

    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|error| anyhow::anyhow!("cannot create `{}`: {error}", path.display()))?;
    file.write_all(text.as_bytes())
        .map_err(|error| anyhow::anyhow!("cannot write `{}`: {error}", path.display()))?;
    Ok(())
}

fn cosign(context: &Context, args: &Args) -> anyhow::Result<ExitCode> {
    let Ok(password) = std::env::var("COSIGN_PASSWORD") else {
        bail!("COSIGN_PASSWORD is not set; set it to the password that encrypts `cosign.key`");
    };
    let dir = args
        .output_dir
        .clone()
        .unwrap_or_else(|| context.root.clone());
    fs_err::create_dir_all(&dir)?;
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
