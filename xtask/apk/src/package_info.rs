//! The typed metadata of one package, as index blocks and the installed database store
//! it: one `X:value` line per field.

use std::fmt::Write as _;

use crate::checksum::{Checksum, ChecksumError};
use crate::dependency::{self, Dependency, DependencyError, Provide};
use crate::version::{Version, VersionError};

/// Errors from reading one field of a package block.
#[derive(Debug, thiserror::Error)]
pub enum FieldError {
    /// A line is not `X:value`.
    #[error("line {line}: invalid field line `{text}` (expected a letter, `:` and a value)")]
    Syntax {
        /// One-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// A field that may appear once appears again.
    #[error("line {line}: duplicate field `{field}:`")]
    Duplicate {
        /// One-based line number.
        line: usize,
        /// The field letter.
        field: char,
    },
    /// A required field is missing from the block.
    #[error("line {line}: package block has no `{field}:` field")]
    Missing {
        /// One-based line number of the start of the block.
        line: usize,
        /// The field letter.
        field: char,
    },
    /// A number field does not hold a non-negative integer.
    #[error("line {line}: invalid number `{text}` in field `{field}:`")]
    Number {
        /// One-based line number.
        line: usize,
        /// The field letter.
        field: char,
        /// The value.
        text: String,
    },
    /// The version is invalid.
    #[error("line {line}: invalid `V:` field")]
    Version {
        /// One-based line number.
        line: usize,
        /// The version error.
        #[source]
        source: VersionError,
    },
    /// A dependency list is invalid.
    #[error("line {line}: invalid `{field}:` field")]
    Dependency {
        /// One-based line number.
        line: usize,
        /// The field letter.
        field: char,
        /// The dependency error.
        #[source]
        source: DependencyError,
    },
    /// The checksum is invalid.
    #[error("line {line}: invalid `C:` field")]
    Checksum {
        /// One-based line number.
        line: usize,
        /// The checksum error.
        #[source]
        source: ChecksumError,
    },
}

/// Metadata of one package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageInfo {
    /// `C:` SHA-1 of the control gzip stream, which identifies the exact package file.
    pub checksum: Option<Checksum>,
    /// `P:` package name.
    pub name: String,
    /// `V:` version.
    pub version: Version,
    /// `A:` architecture, such as `aarch64` or `noarch`.
    pub arch: String,
    /// `S:` size of the `.apk` file in bytes.
    pub size: u64,
    /// `I:` size of the installed files in bytes.
    pub installed_size: u64,
    /// `T:` one-line description.
    pub description: String,
    /// `U:` project URL.
    pub url: String,
    /// `L:` license expression.
    pub license: String,
    /// `o:` origin (the source package name).
    pub origin: Option<String>,
    /// `m:` maintainer.
    pub maintainer: Option<String>,
    /// `t:` build time in seconds since the Unix epoch.
    pub build_time: Option<u64>,
    /// `c:` source commit.
    pub commit: Option<String>,
    /// `k:` provider priority: among providers of a virtual name, the highest wins.
    pub provider_priority: Option<u64>,
    /// `D:` dependencies and conflicts.
    pub depends: Vec<Dependency>,
    /// `p:` provided names.
    pub provides: Vec<Provide>,
    /// `i:` install_if: installed automatically once all of these are installed.
    pub install_if: Vec<Dependency>,
    /// `r:` packages whose files this package may overwrite.
    pub replaces: Vec<Dependency>,
    /// `q:` replaces priority.
    pub replaces_priority: Option<u64>,
    /// Fields this crate does not interpret, in their original order.
    pub unknown: Vec<(char, String)>,
}

impl PackageInfo {
    /// Creates a package with only the required fields set.
    pub fn new(name: impl Into<String>, version: Version, arch: impl Into<String>) -> Self {
        Self {
            checksum: None,
            name: name.into(),
            version,
            arch: arch.into(),
            size: 0,
            installed_size: 0,
            description: String::new(),
            url: String::new(),
            license: String::new(),
            origin: None,
            maintainer: None,
            build_time: None,
            commit: None,
            provider_priority: None,
            depends: Vec::new(),
            provides: Vec::new(),
            install_if: Vec::new(),
            replaces: Vec::new(),
            replaces_priority: None,
            unknown: Vec::new(),
        }
    }

    /// Builds a package from `(line number, field, value)` triples of one block.
    /// `first_line` is reported when a required field is missing.
    pub fn from_fields<'a>(
        first_line: usize,
        fields: impl IntoIterator<Item = (usize, char, &'a str)>,
    ) -> Result<Self, FieldError> {
        let mut builder = Builder::default();
        for (line, field, value) in fields {
            builder.set(line, field, value)?;
        }
        builder.finish(first_line)
    }

    /// Writes the fields in the order apk-tools 2 writes index entries (`C P V A S I T U
    /// L o m t c k D p i`), then `r`, `q` and unknown fields. No blank line is added.
    pub fn write_fields(&self, out: &mut String) {
        let mut line = |field: char, value: &str| {
            let _ = writeln!(out, "{field}:{value}");
        };
        if let Some(checksum) = &self.checksum {
            line('C', &checksum.to_string());
        }
        line('P', &self.name);
        line('V', self.version.as_str());
        line('A', &self.arch);
        line('S', &self.size.to_string());
        line('I', &self.installed_size.to_string());
        line('T', &self.description);
        line('U', &self.url);
        line('L', &self.license);
        let optional = [
            ('o', self.origin.clone()),
            ('m', self.maintainer.clone()),
            ('t', self.build_time.map(|t| t.to_string())),
            ('c', self.commit.clone()),
            ('k', self.provider_priority.map(|k| k.to_string())),
        ];
        for (field, value) in optional {
            if let Some(value) = value {
                line(field, &value);
            }
        }
        let lists = [
            ('D', dependency::join(&self.depends)),
            ('p', dependency::join(&self.provides)),
            ('i', dependency::join(&self.install_if)),
            ('r', dependency::join(&self.replaces)),
        ];
        for (field, value) in lists {
            if !value.is_empty() {
                line(field, &value);
            }
        }
        if let Some(priority) = self.replaces_priority {
            line('q', &priority.to_string());
        }
        for (field, value) in &self.unknown {
            line(*field, value);
        }
    }

    /// Returns `name-version`, the stem of the package file name.
    pub fn name_version(&self) -> String {
        format!("{}-{}", self.name, self.version)
    }

    /// Returns the package file name, `name-version.apk`.
    pub fn file_name(&self) -> String {
        format!("{}.apk", self.name_version())
    }
}

fn is_known_field(field: char) -> bool {
    matches!(
        field,
        'C' | 'P'
            | 'V'
            | 'A'
            | 'S'
            | 'I'
            | 'T'
            | 'U'
            | 'L'
            | 'o'
            | 'm'
            | 't'
            | 'c'
            | 'k'
            | 'D'
            | 'p'
            | 'i'
            | 'r'
            | 'q'
    )
}

/// Splits an `X:value` line.
pub(crate) fn split_field(line_number: usize, line: &str) -> Result<(char, &str), FieldError> {
    let syntax = || FieldError::Syntax {
        line: line_number,
        text: line.chars().take(80).collect(),
    };
    let mut chars = line.chars();
    let field = chars.next().ok_or_else(syntax)?;
    let value = chars.as_str().strip_prefix(':').ok_or_else(syntax)?;
    if !field.is_ascii_alphabetic() {
        return Err(syntax());
    }
    Ok((field, value))
}

#[derive(Default)]
struct Builder<'a> {
    name: Option<String>,
    version: Option<Version>,
    arch: Option<String>,
    seen: Vec<char>,
    pending: Vec<(usize, char, &'a str)>,
}

impl<'a> Builder<'a> {
    fn set(&mut self, line: usize, field: char, value: &'a str) -> Result<(), FieldError> {
        if is_known_field(field) {
            if self.seen.contains(&field) {
                return Err(FieldError::Duplicate { line, field });
            }
            self.seen.push(field);
        }
        match field {
            'P' => self.name = Some(value.to_owned()),
            'V' => {
                let version =
                    Version::parse(value).map_err(|source| FieldError::Version { line, source })?;
                self.version = Some(version);
            }
            'A' => self.arch = Some(value.to_owned()),
            _ => self.pending.push((line, field, value)),
        }
        Ok(())
    }

    fn finish(mut self, first_line: usize) -> Result<PackageInfo, FieldError> {
        let missing = |field| FieldError::Missing {
            line: first_line,
            field,
        };
        let name = self.name.take().ok_or_else(|| missing('P'))?;
        let version = self.version.take().ok_or_else(|| missing('V'))?;
        // NOTE: a missing `A:` is read as an empty architecture, because old indexes and
        // some third-party writers leave it out.
        let arch = self.arch.take().unwrap_or_default();
        let mut info = PackageInfo::new(name, version, arch);
        for (line, field, value) in std::mem::take(&mut self.pending) {
            apply(&mut info, line, field, value)?;
        }
        Ok(info)
    }
}

fn number(line: usize, field: char, text: &str) -> Result<u64, FieldError> {
    text.parse().map_err(|_| FieldError::Number {
        line,
        field,
        text: text.to_owned(),
    })
}

fn dependencies(line: usize, field: char, text: &str) -> Result<Vec<Dependency>, FieldError> {
    Dependency::parse_list(text).map_err(|source| FieldError::Dependency {
        line,
        field,
        source,
    })
}

fn apply(info: &mut PackageInfo, line: usize, field: char, value: &str) -> Result<(), FieldError> {
    match field {
        'C' => {
            let checksum =
                Checksum::parse(value).map_err(|source| FieldError::Checksum { line, source })?;
            info.checksum = Some(checksum);
        }
        'S' => info.size = number(line, field, value)?,
        'I' => info.installed_size = number(line, field, value)?,
        'T' => info.description = value.to_owned(),
        'U' => info.url = value.to_owned(),
        'L' => info.license = value.to_owned(),
        'o' => info.origin = Some(value.to_owned()),
        'm' => info.maintainer = Some(value.to_owned()),
        't' => info.build_time = Some(number(line, field, value)?),
        'c' => info.commit = Some(value.to_owned()),
        'k' => info.provider_priority = Some(number(line, field, value)?),
        'D' => info.depends = dependencies(line, field, value)?,
        'p' => {
            info.provides =
                Provide::parse_list(value).map_err(|source| FieldError::Dependency {
                    line,
                    field,
                    source,
                })?;
        }
        'i' => info.install_if = dependencies(line, field, value)?,
        'r' => info.replaces = dependencies(line, field, value)?,
        'q' => info.replaces_priority = Some(number(line, field, value)?),
        _ => info.unknown.push((field, value.to_owned())),
    }
    Ok(())
}
