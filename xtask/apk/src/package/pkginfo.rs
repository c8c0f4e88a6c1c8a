//! The `.PKGINFO` control file: `key = value` lines written by abuild and melange.

use std::fmt::Write as _;

use crate::dependency::{self, Dependency, DependencyError, Provide};
use crate::package_info::PackageInfo;
use crate::version::{Version, VersionError};

/// Errors from parsing `.PKGINFO`.
#[derive(Debug, thiserror::Error)]
pub enum PkgInfoError {
    /// A line is not `key = value` with a key of letters, digits, `_`, `-` or `.`.
    #[error(
        ".PKGINFO line {line}: expected `key = value` (keys are letters, digits, `_`, `-` or `.`)"
    )]
    Syntax {
        /// One-based line number.
        line: usize,
    },
    /// A required key is missing.
    #[error(".PKGINFO has no `{key}` line")]
    Missing {
        /// The key.
        key: &'static str,
    },
    /// A key that may appear once appears again.
    #[error(".PKGINFO line {line}: duplicate `{key}`")]
    Duplicate {
        /// One-based line number.
        line: usize,
        /// The key.
        key: String,
    },
    /// A number is invalid.
    #[error(".PKGINFO line {line}: invalid number `{value}` for `{key}`")]
    Number {
        /// One-based line number.
        line: usize,
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
    /// `pkgver` is invalid.
    #[error(".PKGINFO line {line}: invalid `pkgver`")]
    Version {
        /// One-based line number.
        line: usize,
        /// The version error.
        #[source]
        source: VersionError,
    },
    /// A dependency, provide or replaces line is invalid.
    #[error(".PKGINFO line {line}: invalid `{key}`")]
    Dependency {
        /// One-based line number.
        line: usize,
        /// The key.
        key: String,
        /// The dependency error.
        #[source]
        source: DependencyError,
    },
    /// The file is not UTF-8.
    #[error(".PKGINFO is not valid UTF-8")]
    Utf8,
}

/// The parsed `.PKGINFO` of a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PkgInfo {
    /// Package metadata. `size` (the file size) and `checksum` are not part of
    /// `.PKGINFO` and stay unset here; `installed_size` comes from the `size` key.
    pub info: PackageInfo,
    /// `datahash`: lowercase hex SHA-256 of the compressed data stream.
    pub datahash: Option<String>,
    /// `packager`.
    pub packager: Option<String>,
    /// `triggers`: folders whose changes run the `.trigger` script.
    pub triggers: Vec<String>,
    /// Keys this crate does not interpret, in order.
    pub unknown: Vec<(String, String)>,
}

const SINGLE_KEYS: &[&str] = &[
    "pkgname",
    "pkgver",
    "pkgdesc",
    "url",
    "builddate",
    "packager",
    "size",
    "arch",
    "origin",
    "commit",
    "maintainer",
    "license",
    "provider_priority",
    "replaces_priority",
    "datahash",
];

impl PkgInfo {
    /// Parses `.PKGINFO` bytes. Blank lines and `#` comments (after optional leading
    /// whitespace) are skipped.
    pub fn parse(bytes: &[u8]) -> Result<Self, PkgInfoError> {
        let text = std::str::from_utf8(bytes).map_err(|_| PkgInfoError::Utf8)?;
        let mut pairs = Vec::new();
        // Split on `\n` only: `str::lines` also drops one `\r` before it, so a value
        // ending in `\r` would lose a byte on every parse and write.
        for (index, line) in text.split('\n').enumerate() {
            let line_number = index + 1;
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let (key, value) = line
                .split_once(" = ")
                .or_else(|| {
                    line.split_once('=')
                        .map(|(k, v)| (k.trim(), v.trim_start()))
                })
                .ok_or(PkgInfoError::Syntax { line: line_number })?;
            let key = key.trim();
            // abuild and melange write `[a-z_]+` keys. Other characters, `=` and spaces
            // in particular, would make the written line split differently.
            let is_key_byte = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.');
            if key.is_empty() || !key.bytes().all(is_key_byte) {
                return Err(PkgInfoError::Syntax { line: line_number });
            }
            if SINGLE_KEYS.contains(&key) && pairs.iter().any(|(_, k, _)| *k == key) {
                return Err(PkgInfoError::Duplicate {
                    line: line_number,
                    key: key.to_owned(),
                });
            }
            pairs.push((line_number, key, value));
        }
        Self::from_pairs(&pairs)
    }

    fn from_pairs(pairs: &[(usize, &str, &str)]) -> Result<Self, PkgInfoError> {
        let find = |key: &'static str| pairs.iter().find(|(_, k, _)| *k == key);
        let (_, _, name) = find("pkgname").ok_or(PkgInfoError::Missing { key: "pkgname" })?;
        let (version_line, _, version) =
            find("pkgver").ok_or(PkgInfoError::Missing { key: "pkgver" })?;
        let version = Version::parse(version).map_err(|source| PkgInfoError::Version {
            line: *version_line,
            source,
        })?;
        let arch = find("arch").map(|(_, _, arch)| *arch).unwrap_or_default();
        let mut parsed = Self {
            info: PackageInfo::new(*name, version, arch),
            datahash: None,
            packager: None,
            triggers: Vec::new(),
            unknown: Vec::new(),
        };
        for &(line, key, value) in pairs {
            parsed.apply(line, key, value)?;
        }
        Ok(parsed)
    }

    fn apply(&mut self, line: usize, key: &str, value: &str) -> Result<(), PkgInfoError> {
        let number = || {
            value.parse::<u64>().map_err(|_| PkgInfoError::Number {
                line,
                key: key.to_owned(),
                value: value.to_owned(),
            })
        };
        let dependency_error = |source| PkgInfoError::Dependency {
            line,
            key: key.to_owned(),
            source,
        };
        let info = &mut self.info;
        match key {
            "pkgname" | "pkgver" | "arch" => {}
            "pkgdesc" => info.description = value.to_owned(),
            "url" => info.url = value.to_owned(),
            "builddate" => info.build_time = Some(number()?),
            "packager" => self.packager = Some(value.to_owned()),
            "size" => info.installed_size = number()?,
            "origin" => info.origin = Some(value.to_owned()),
            "commit" => info.commit = Some(value.to_owned()),
            "maintainer" => info.maintainer = Some(value.to_owned()),
            "license" => info.license = value.to_owned(),
            "provider_priority" => info.provider_priority = Some(number()?),
            "replaces_priority" => info.replaces_priority = Some(number()?),
            "datahash" => self.datahash = Some(value.to_owned()),
            "depend" => info
                .depends
                .extend(Dependency::parse_list(value).map_err(dependency_error)?),
            "provides" => info
                .provides
                .extend(Provide::parse_list(value).map_err(dependency_error)?),
            "install_if" => info
                .install_if
                .extend(Dependency::parse_list(value).map_err(dependency_error)?),
            "replaces" => info
                .replaces
                .extend(Dependency::parse_list(value).map_err(dependency_error)?),
            "triggers" => self
                .triggers
                .extend(value.split_whitespace().map(str::to_owned)),
            _ => self.unknown.push((key.to_owned(), value.to_owned())),
        }
        Ok(())
    }

    /// Returns the `.PKGINFO` text, in the key order abuild uses, one dependency per line.
    pub fn to_text(&self) -> String {
        let info = &self.info;
        let mut out = String::from("# Generated by xtask-apk\n");
        let mut line = |key: &str, value: &str| {
            let _ = writeln!(out, "{key} = {value}");
        };
        line("pkgname", &info.name);
        line("pkgver", info.version.as_str());
        line("pkgdesc", &info.description);
        line("url", &info.url);
        let optional_head = [
            ("builddate", info.build_time.map(|t| t.to_string())),
            ("packager", self.packager.clone()),
        ];
        for (key, value) in optional_head {
            if let Some(value) = value {
                line(key, &value);
            }
        }
        line("size", &info.installed_size.to_string());
        line("arch", &info.arch);
        let optional = [
            ("origin", info.origin.clone()),
            ("commit", info.commit.clone()),
            ("maintainer", info.maintainer.clone()),
            (
                "provider_priority",
                info.provider_priority.map(|k| k.to_string()),
            ),
            (
                "replaces_priority",
                info.replaces_priority.map(|q| q.to_string()),
            ),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                line(key, &value);
            }
        }
        line("license", &info.license);
        for replaces in &info.replaces {
            line("replaces", &replaces.to_string());
        }
        for depend in &info.depends {
            line("depend", &depend.to_string());
        }
        for provide in &info.provides {
            line("provides", &provide.to_string());
        }
        if !info.install_if.is_empty() {
            line("install_if", &dependency::join(&info.install_if));
        }
        if !self.triggers.is_empty() {
            line("triggers", &self.triggers.join(" "));
        }
        for (key, value) in &self.unknown {
            line(key, value);
        }
        if let Some(datahash) = &self.datahash {
            line("datahash", datahash);
        }
        out
    }
}
