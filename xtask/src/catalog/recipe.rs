//! melange recipes (`packages/*.yaml`): the packages this repository builds itself.
//! The types mirror the subset of melange's format that real recipes use and reject
//! unknown keys. The `update` block is kept as written and not interpreted here.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// One recipe file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RecipeFile {
    pub package: PackageSection,
    #[serde(default)]
    pub environment: BuildEnvironment,
    #[serde(default)]
    pub vars: BTreeMap<String, String>,
    #[serde(default)]
    pub var_transforms: Vec<VarTransform>,
    #[serde(default)]
    pub pipeline: Vec<Spanned<Step>>,
    #[serde(default)]
    pub subpackages: Vec<Subpackage>,
    /// Update-monitoring settings for bots; not used by builds.
    pub update: Option<serde_json::Value>,
    /// Test pipeline run against the built packages.
    pub test: Option<TestSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageSection {
    pub name: Spanned<String>,
    pub version: Spanned<VersionValue>,
    #[serde(default)]
    pub epoch: u64,
    pub description: Option<String>,
    pub url: Option<String>,
    pub commit: Option<String>,
    #[serde(default)]
    pub copyright: Vec<Copyright>,
    #[serde(default)]
    pub dependencies: Dependencies,
    /// APK architectures the recipe builds for; `all` or absent means every one.
    #[serde(default)]
    pub target_architecture: Vec<Spanned<String>>,
    #[serde(default)]
    pub options: PackageOptions,
    #[serde(default)]
    pub scriptlets: BTreeMap<String, String>,
}

/// A version as YAML writes it: `1.24.0` is text, but `1.2` parses as a number.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum VersionValue {
    Text(String),
    Integer(u64),
    Float(f64),
}

impl VersionValue {
    pub fn text(&self) -> String {
        match self {
            VersionValue::Text(text) => text.clone(),
            VersionValue::Integer(number) => number.to_string(),
            VersionValue::Float(number) => number.to_string(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Copyright {
    pub license: String,
    #[serde(default)]
    pub paths: Vec<String>,
    pub attestation: Option<String>,
    pub license_path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dependencies {
    #[serde(default)]
    pub runtime: Vec<Spanned<String>>,
    #[serde(default)]
    pub provides: Vec<Spanned<String>>,
    #[serde(default)]
    pub replaces: Vec<Spanned<String>>,
    pub provider_priority: Option<ProviderPriority>,
}

/// `provider-priority`, written as a number or a quoted number in real recipes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ProviderPriority {
    Number(u64),
    Text(String),
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PackageOptions {
    #[serde(default)]
    pub no_provides: bool,
    #[serde(default)]
    pub no_depends: bool,
    #[serde(default)]
    pub no_commands: bool,
}

/// `environment`: what the build sandbox contains.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildEnvironment {
    #[serde(default)]
    pub contents: BuildContents,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildContents {
    #[serde(default)]
    pub repositories: Vec<String>,
    #[serde(default)]
    pub keyring: Vec<String>,
    /// Packages installed in the build sandbox.
    #[serde(default)]
    pub packages: Vec<Spanned<String>>,
}

/// `var-transforms`: a regular-expression rewrite of one variable into a new one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarTransform {
    pub from: String,
    #[serde(rename = "match")]
    pub pattern: String,
    pub replace: String,
    pub to: String,
}

/// One pipeline step: a shell script (`runs`) or a named pipeline (`uses` with `with`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Step {
    pub name: Option<String>,
    pub uses: Option<Spanned<String>>,
    #[serde(default)]
    pub with: BTreeMap<String, serde_json::Value>,
    pub runs: Option<String>,
    pub working_directory: Option<String>,
    #[serde(rename = "if")]
    pub condition: Option<String>,
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Nested steps, run in order.
    #[serde(default)]
    pub pipeline: Vec<Spanned<Step>>,
    pub label: Option<String>,
}

/// `test`: steps run with the built packages unpacked, after the build.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSection {
    /// The test environment; its `environment` variables apply to every test step.
    #[serde(default)]
    pub environment: BuildEnvironment,
    /// The test steps.
    #[serde(default)]
    pub pipeline: Vec<Spanned<Step>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Subpackage {
    pub name: Spanned<String>,
    pub description: Option<String>,
    #[serde(default)]
    pub dependencies: Dependencies,
    #[serde(default)]
    pub pipeline: Vec<Spanned<Step>>,
    #[serde(rename = "if")]
    pub condition: Option<String>,
    #[serde(default)]
    pub options: PackageOptions,
    pub commit: Option<String>,
}
