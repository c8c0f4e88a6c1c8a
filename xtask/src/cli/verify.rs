//! `cargo xtask verify <ref>`: checks an image's cosign signature with a public key
//! (`--key cosign.pub`) or, for keyless signatures, with a Fulcio root, the expected
//! certificate identity and OIDC issuer, and optionally the Rekor public key.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context as _, bail};

use super::Context;
use super::registry_args::{RegistryArgs, runtime};
use crate::catalog::Catalog;
use crate::registry::ImageReference;
use crate::sign::{CosignPublicKey, KeylessPolicy, TrustPolicy, VerifyError, verify_image};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Image to verify: `<registry>/<path>:<tag>` or `<registry>/<path>@sha256:<hex>`.
    pub reference: String,

    /// Public key (PEM) that must verify the signature, e.g. `cosign.pub`. Default with
    /// `signing.mode: key`: `signing.public-key` of catalog.yaml.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["certificate_identity", "certificate_oidc_issuer", "ca_roots", "rekor_key"])]
    pub key: Option<PathBuf>,

    /// Keyless: the identity the Fulcio certificate must name as URI or email SAN, such
    /// as the release workflow's URL. Default: `signing.identity` of catalog.yaml.
    #[arg(long, value_name = "ID")]
    pub certificate_identity: Option<String>,

    /// Keyless: the OIDC issuer the certificate must name, such as
    /// `https://token.actions.githubusercontent.com`. Default: `signing.issuer` of
    /// catalog.yaml.
    #[arg(long, value_name = "ISSUER")]
    pub certificate_oidc_issuer: Option<String>,

    /// Keyless: PEM file with the Fulcio root certificate(s) the signing certificate
    /// must chain to.
    #[arg(long, value_name = "PEM")]
    pub ca_roots: Option<PathBuf>,

    /// Keyless: PEM public key of the Rekor log. When given, the signed entry timestamp
    /// and log ID of each signature's Rekor bundle are checked.
    #[arg(long, value_name = "PEM")]
    pub rekor_key: Option<PathBuf>,

    #[command(flatten)]
    pub registry: RegistryArgs,
}

/// Prints the verified digest on stdout. Exits 1 with every reason when no signature
/// verifies, 2 when the check could not run.
pub fn run(context: &Context, args: Args) -> anyhow::Result<ExitCode> {
    let reference = ImageReference::parse(&args.reference)?;
    let (policy, signer) = trust_policy(context, &args)?;
    if let TrustPolicy::Keyless(keyless) = &policy
        && !keyless.checks_rekor()
    {
        tracing::warn!(
            "no Rekor public key given, so the Rekor bundle's signed entry timestamp is not checked; pass --rekor-key FILE"
        );
    }
    let client = args.registry.client(&reference.repository().registry)?;
    let result = runtime()?.block_on(verify_image(&client, &reference, &policy));
    match result {
        Ok(verified) => {
            println!("{}@{}", verified.repository, verified.digest);
            eprintln!("verified: {} is signed by {signer}", args.reference);
            Ok(ExitCode::SUCCESS)
        }
        Err(error @ (VerifyError::Invalid { .. } | VerifyError::NoSignatures { .. })) => {
            eprintln!("error: verification of {} failed: {error}", args.reference);
            Ok(ExitCode::FAILURE)
        }
        Err(error) => Err(error).with_context(|| format!("failed to verify {}", args.reference)),
    }
}

/// Builds the trust policy from the flags, falling back to the signing settings of
/// catalog.yaml. Returns it with a description of the expected signer.
fn trust_policy(context: &Context, args: &Args) -> anyhow::Result<(TrustPolicy, String)> {
    if let Some(key) = &args.key {
        let policy = TrustPolicy::Key(CosignPublicKey::load(key)?);
        return Ok((policy, format!("the key `{}`", key.display())));
    }
    let keyless_flags = args.certificate_identity.is_some()
        || args.certificate_oidc_issuer.is_some()
        || args.ca_roots.is_some()
        || args.rekor_key.is_some();
    let catalog = if keyless_flags_complete(args) {
        None
    } else {
        catalog_if_present(context)?
    };
    let signing = catalog.as_ref().map(|catalog| &catalog.settings.signing);
    let mode = signing
        .and_then(|signing| signing.mode.as_ref())
        .map(|mode| mode.value.as_str());

    if !keyless_flags && mode == Some("key") {
        let catalog = catalog.as_ref().map(|catalog| catalog.root.clone());
        let public_key = signing.and_then(|signing| signing.public_key.as_ref());
        let (Some(root), Some(public_key)) = (catalog, public_key) else {
            bail!(
                "catalog.yaml sets `signing.mode: key` but no `signing.public-key`; pass --key FILE"
            );
        };
        let path = root.join(&public_key.value);
        let policy = TrustPolicy::Key(CosignPublicKey::load(&path)?);
        return Ok((policy, format!("the key `{}`", path.display())));
    }
    if !keyless_flags && mode.is_none() {
        bail!(
            "missing verification settings: pass --key FILE for a key-based signature, or \
             --certificate-identity, --certificate-oidc-issuer and --ca-roots for a keyless one"
        );
    }

    let identity = args
        .certificate_identity
        .clone()
        .or_else(|| signing.and_then(|signing| signing.identity.clone()));
    let issuer = args
        .certificate_oidc_issuer
        .clone()
        .or_else(|| signing.and_then(|signing| signing.issuer.clone()));
    let Some(identity) = identity else {
        bail!(
            "keyless verification needs the certificate identity: pass --certificate-identity ID or set `signing.identity` in catalog.yaml"
        );
    };
    let Some(issuer) = issuer else {
        bail!(
            "keyless verification needs the OIDC issuer: pass --certificate-oidc-issuer ISSUER or set `signing.issuer` in catalog.yaml"
        );
    };
    let Some(ca_roots) = &args.ca_roots else {
        bail!(
            "keyless verification needs the Fulcio root certificate(s): pass --ca-roots FILE (PEM)"
        );
    };
    let policy = KeylessPolicy::load(ca_roots, &identity, &issuer, args.rekor_key.as_deref())?;
    let signer = format!("identity `{identity}` from issuer `{issuer}`");
    Ok((TrustPolicy::Keyless(policy), signer))
}

/// Returns whether the flags alone give everything keyless verification needs.
fn keyless_flags_complete(args: &Args) -> bool {
    args.certificate_identity.is_some()
        && args.certificate_oidc_issuer.is_some()
        && args.ca_roots.is_some()
}

/// Loads the catalog when the root has a `catalog.yaml`, so that `verify` also runs
/// outside a catalog checkout when the flags say everything.
fn catalog_if_present(context: &Context) -> anyhow::Result<Option<Catalog>> {
    if !context.root.join("catalog.yaml").is_file() {
        return Ok(None);
    }
    super::load_catalog(context).map(Some)
}
