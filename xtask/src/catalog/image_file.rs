//! The `images/<name>/image.yaml` format: the variants of one image, each built from an
//! apko config, with its tags. The shape follows real catalogs (`versions:` entries with
//! an `apko:` block) plus the catalog's own `description`, `status` and `archs`.

use serde::Deserialize;
use serde_saphyr::Spanned;

/// One `image.yaml` as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImageFile {
    /// One-line summary shown in the README table.
    pub description: Option<String>,
    #[serde(default)]
    pub status: Option<Spanned<String>>,
    /// Architectures for every variant, overriding the catalog default.
    #[serde(default)]
    pub archs: Vec<Spanned<String>>,
    /// The variants. Real catalogs call the list `versions`; `variants` is accepted too.
    #[serde(alias = "variants")]
    pub versions: Spanned<Vec<VersionEntry>>,
    /// Named option sets that subvariants apply on top of a variant's config.
    #[serde(default)]
    pub options: std::collections::BTreeMap<String, OptionSet>,
}

/// One entry of `versions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VersionEntry {
    pub apko: ApkoVariant,
}

/// A variant built by apko from one config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApkoVariant {
    /// Config file, relative to the image folder (`configs/latest.apko.yaml`).
    pub config: Spanned<String>,
    /// Tags given in full, in addition to the extracted ones.
    #[serde(default)]
    pub tags: Vec<Spanned<TagValue>>,
    pub extract_tags_from: Option<ExtractTagsFrom>,
    /// Architectures of this variant, overriding the image and catalog defaults.
    #[serde(default)]
    pub archs: Vec<Spanned<String>>,
    #[serde(default)]
    pub subvariants: Vec<Subvariant>,
}

/// A tag as YAML writes it: `latest`, or a bare number such as `15` or `1.20`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum TagValue {
    Text(String),
    Integer(u64),
    Float(f64),
}

impl TagValue {
    /// Returns the tag text. A float keeps the digits a person would expect, except that
    /// YAML cannot tell `1.20` from `1.2`: quote such tags.
    pub fn text(&self) -> String {
        match self {
            TagValue::Text(text) => text.clone(),
            TagValue::Integer(number) => number.to_string(),
            TagValue::Float(number) => number.to_string(),
        }
    }
}

/// `extractTagsFrom`: tags derived from the version of one installed package.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractTagsFrom {
    pub package: Spanned<String>,
    /// Text put before each derived tag (`openjdk-` gives `openjdk-17.0.6`).
    #[serde(default)]
    pub prefix: String,
    /// Derived tags to leave out, such as `1` when another variant owns the major tag.
    #[serde(default)]
    pub exclude: Vec<TagValue>,
}

/// A variant of a variant: the same config with option sets applied and a tag suffix.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Subvariant {
    /// Appended to every tag of the parent variant (`-dev`).
    pub suffix: Spanned<String>,
    #[serde(default)]
    pub options: Vec<Spanned<String>>,
}

/// Changes an option set makes to a config.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionSet {
    #[serde(default)]
    pub contents: OptionContents,
    #[serde(default)]
    pub environment: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionContents {
    #[serde(default)]
    pub packages: OptionPackages,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptionPackages {
    #[serde(default)]
    pub add: Vec<Spanned<String>>,
    #[serde(default)]
    pub remove: Vec<Spanned<String>>,
}
