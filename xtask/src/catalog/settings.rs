//! `catalog.yaml`: settings shared by every image of the catalog.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// The catalog settings as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Registry host images publish to (`ghcr.io`, `127.0.0.1:5000`).
    pub registry: Spanned<String>,
    /// Path under the registry (`example-org/images`); each image is `<registry>/<namespace>/<image>`.
    pub namespace: Spanned<String>,
    /// Default architectures of every image.
    pub archs: Vec<Spanned<String>>,
    /// APK repositories and keys used by images whose configs name none.
    #[serde(default)]
    pub repositories: Vec<Spanned<String>>,
    #[serde(default)]
    pub keyring: Vec<Spanned<String>>,
    #[serde(default)]
    pub signing: Signing,
    #[serde(default)]
    pub readme: ReadmeSettings,
    #[serde(default)]
    pub packages: PackageSettings,
    /// Profile of builds that name none: `upstream` or `offline`; `upstream` when absent.
    pub profile: Option<Spanned<String>>,
    /// Settings of the offline profile, which builds from this repository's own packages.
    #[serde(default)]
    pub offline: OfflineProfile,
}

impl Settings {
    /// Returns the profile named by `profile:`, or `upstream` when the file names none
    /// or names an unknown one (which lint reports).
    pub fn default_profile(&self) -> Profile {
        self.profile
            .as_ref()
            .and_then(|profile| profile.value.parse().ok())
            .unwrap_or(Profile::Upstream)
    }
}

/// Package source of image builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// The repositories and keys that each config names (Wolfi, Alpine): needs network.
    Upstream,
    /// This repository's own `packages/`, built first into `out/packages`.
    Offline,
}

impl Profile {
    /// Returns the name used in `catalog.yaml` and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Upstream => "upstream",
            Profile::Offline => "offline",
        }
    }
}

impl std::str::FromStr for Profile {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "upstream" => Ok(Profile::Upstream),
            "offline" => Ok(Profile::Offline),
            other => Err(format!("unknown profile `{other}`")),
        }
    }
}

/// Signing settings of published images.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Signing {
    /// `keyless` (Sigstore, OIDC identity of the workflow) or `key` (a cosign key pair).
    pub mode: Option<Spanned<String>>,
    /// Public key that verifies the signatures when `mode: key`, relative to the root.
    pub public_key: Option<Spanned<String>>,
    /// Certificate identity expected from keyless signatures (the release workflow URL).
    pub identity: Option<String>,
    /// OIDC issuer expected from keyless signatures.
    pub issuer: Option<String>,
}

/// Settings of the generated README parts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ReadmeSettings {
    /// Web address of the repository, for links in generated text.
    pub repository_url: Option<String>,
}

/// Settings of the packages this repository builds: signing key and source mirror.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageSettings {
    /// Public key of the local package repository, relative to the root.
    pub signing_key: Option<Spanned<String>>,
    /// Folder of source tarballs looked up before upstream URLs.
    pub source_mirror: Option<String>,
}

/// Repositories and keys that replace every image's own in the offline profile.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OfflineProfile {
    #[serde(default)]
    pub repositories: Vec<Spanned<String>>,
    #[serde(default)]
    pub keyring: Vec<Spanned<String>>,
}
