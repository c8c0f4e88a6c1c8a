//! Dependency constraints and provides, in the syntax of `D:`, `p:`, `i:` and `r:` index
//! fields, `.PKGINFO` lines and the world file.
//!
//! A dependency is `[!]name[@tag][op version]`, where `op` is one of `=`, `<`, `<=`, `>`,
//! `>=`, `~` (token prefix, also spelled `~=` or `=~`), or `><` followed by a package
//! checksum instead of a version. A leading `!` turns it into a conflict. Names may be
//! virtual (`so:libc.so.6`, `cmd:sh`, `pc:zlib`) or paths (`/bin/sh`).

use std::fmt;
use std::str::FromStr;

use crate::version::{Version, VersionError};

/// Errors from parsing dependencies and provides.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DependencyError {
    /// The name is empty or contains whitespace, a control character or one of `<>=~@!`.
    #[error(
        "invalid dependency `{text}`: the name is empty or contains whitespace or one of <>=~@!"
    )]
    InvalidName {
        /// The dependency as written.
        text: String,
    },
    /// The tag after `@` is empty or contains a character a name may not contain.
    #[error("invalid dependency `{text}`: the repository tag after `@` is empty or invalid")]
    InvalidTag {
        /// The dependency as written.
        text: String,
    },
    /// The comparison operator is not one of the apk operators.
    #[error(
        "invalid dependency `{text}`: unknown operator `{operator}`\n\
         hint: use one of =, <, <=, >, >=, ~ or ><"
    )]
    Operator {
        /// The dependency as written.
        text: String,
        /// The operator found.
        operator: String,
    },
    /// An operator is present but nothing follows it.
    #[error("invalid dependency `{text}`: a version must follow `{operator}`")]
    MissingVersion {
        /// The dependency as written.
        text: String,
        /// The operator found.
        operator: String,
    },
    /// The version after the operator is invalid.
    #[error("invalid dependency `{text}`")]
    Version {
        /// The dependency as written.
        text: String,
        /// The version error.
        #[source]
        source: VersionError,
    },
    /// A provide uses an operator other than `=`.
    #[error("invalid provide `{text}`: a provide is `name` or `name=version`")]
    Provide {
        /// The provide as written.
        text: String,
    },
}

/// A version comparison of a dependency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionOp {
    /// `=`
    Equal,
    /// `<`
    Less,
    /// `<=`
    LessEqual,
    /// `>`
    Greater,
    /// `>=`
    GreaterEqual,
    /// `~`: the candidate starts with the given version, token by token.
    Prefix,
}

impl VersionOp {
    fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "=" => Self::Equal,
            "<" => Self::Less,
            "<=" => Self::LessEqual,
            ">" => Self::Greater,
            ">=" => Self::GreaterEqual,
            "~" | "~=" | "=~" => Self::Prefix,
            _ => return None,
        })
    }

    /// Returns the operator as apk-tools writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equal => "=",
            Self::Less => "<",
            Self::LessEqual => "<=",
            Self::Greater => ">",
            Self::GreaterEqual => ">=",
            Self::Prefix => "~",
        }
    }
}

/// The version part of a dependency.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Constraint {
    /// Any version, and also any unversioned provide.
    Any,
    /// A version comparison.
    Version {
        /// The comparison.
        op: VersionOp,
        /// The version compared against.
        version: Version,
    },
    /// `><Q1...`: exactly the package whose index checksum is this (`Q1` + base64 SHA-1).
    Checksum(String),
}

/// The kind of name a dependency or provide refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    /// A package name such as `busybox`.
    Package,
    /// A shared library, `so:libc.musl-aarch64.so.1`.
    SharedObject,
    /// A command, `cmd:sh`.
    Command,
    /// A pkg-config module, `pc:zlib`.
    PkgConfig,
    /// A file path, `/bin/sh`.
    Path,
    /// Another `prefix:` virtual name such as `so-ver:` or `py3.10:`.
    OtherVirtual,
}

/// Returns the kind of a dependency or provide name.
pub fn name_kind(name: &str) -> NameKind {
    if name.starts_with('/') {
        NameKind::Path
    } else if name.starts_with("so:") {
        NameKind::SharedObject
    } else if name.starts_with("cmd:") {
        NameKind::Command
    } else if name.starts_with("pc:") {
        NameKind::PkgConfig
    } else if name.contains(':') {
        NameKind::OtherVirtual
    } else {
        NameKind::Package
    }
}

/// One dependency, conflict or install_if condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Dependency {
    /// The package, virtual or path name.
    pub name: String,
    /// The repository tag from `name@tag`: only repositories with this tag may satisfy it.
    pub tag: Option<String>,
    /// The version or checksum the candidate must match.
    pub constraint: Constraint,
    /// True for `!name`: the named package must not be installed (in matching versions).
    pub conflict: bool,
}

const OPERATOR_CHARS: &[char] = &['<', '>', '=', '~'];

fn is_valid_name(name: &str) -> bool {
    // Bytes rather than chars: this runs for every name of an index, and multi-byte
    // UTF-8 sequences never contain these ASCII bytes.
    !name.is_empty()
        && name.bytes().all(|byte| {
            !byte.is_ascii_whitespace()
                && !byte.is_ascii_control()
                && !matches!(byte, b'<' | b'>' | b'=' | b'~' | b'@' | b'!')
        })
}

impl Dependency {
    /// Creates an unversioned dependency on `name`.
    pub fn any(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            tag: None,
            constraint: Constraint::Any,
            conflict: false,
        }
    }

    /// Parses one dependency in apk syntax.
    pub fn parse(text: &str) -> Result<Self, DependencyError> {
        let (conflict, rest) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (name_part, op_part) = match rest.find(OPERATOR_CHARS) {
            Some(index) => rest.split_at(index),
            None => (rest, ""),
        };
        let (name, tag) = match name_part.split_once('@') {
            Some((name, tag)) => (name, Some(tag)),
            None => (name_part, None),
        };
        if !is_valid_name(name) {
            return Err(DependencyError::InvalidName { text: text.into() });
        }
        if tag.is_some_and(|tag| !is_valid_name(tag)) {
            return Err(DependencyError::InvalidTag { text: text.into() });
        }
        let constraint = parse_constraint(text, op_part)?;
        Ok(Self {
            name: name.to_owned(),
            tag: tag.map(str::to_owned),
            constraint,
            conflict,
        })
    }

    /// Parses a whitespace-separated list, the form of `D:` and `i:` fields.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, DependencyError> {
        text.split_whitespace().map(Self::parse).collect()
    }

    /// Returns true when a package or versioned provide at `version` meets the constraint.
    /// A `><` checksum constraint needs the checksum and is checked by [`Self::matches`].
    pub fn matches_version(&self, version: &Version) -> bool {
        match &self.constraint {
            Constraint::Any => true,
            Constraint::Version { op, version: want } => match op {
                VersionOp::Equal => version == want,
                VersionOp::Less => version < want,
                VersionOp::LessEqual => version <= want,
                VersionOp::Greater => version > want,
                VersionOp::GreaterEqual => version >= want,
                VersionOp::Prefix => version.has_prefix(want),
            },
            Constraint::Checksum(_) => false,
        }
    }

    /// Returns true when a candidate meets the constraint. `version` is `None` for an
    /// unversioned provide, which only an unversioned dependency accepts (apk rule).
    pub fn matches(&self, version: Option<&Version>, checksum: Option<&str>) -> bool {
        match (&self.constraint, version) {
            (Constraint::Any, _) => true,
            (Constraint::Checksum(want), _) => checksum == Some(want.as_str()),
            (_, Some(version)) => self.matches_version(version),
            (_, None) => false,
        }
    }
}

fn parse_constraint(text: &str, op_part: &str) -> Result<Constraint, DependencyError> {
    if op_part.is_empty() {
        return Ok(Constraint::Any);
    }
    let op_len = op_part
        .find(|c: char| !OPERATOR_CHARS.contains(&c))
        .unwrap_or(op_part.len());
    let (operator, value) = op_part.split_at(op_len);
    if value.is_empty() {
        return Err(DependencyError::MissingVersion {
            text: text.into(),
            operator: operator.into(),
        });
    }
    if operator == "><" {
        return Ok(Constraint::Checksum(value.to_owned()));
    }
    let op = VersionOp::parse(operator).ok_or_else(|| DependencyError::Operator {
        text: text.into(),
        operator: operator.into(),
    })?;
    let version = Version::parse(value).map_err(|source| DependencyError::Version {
        text: text.into(),
        source,
    })?;
    Ok(Constraint::Version { op, version })
}

impl fmt::Display for Dependency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.conflict {
            f.write_str("!")?;
        }
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, "@{tag}")?;
        }
        match &self.constraint {
            Constraint::Any => Ok(()),
            Constraint::Version { op, version } => write!(f, "{}{version}", op.as_str()),
            Constraint::Checksum(checksum) => write!(f, "><{checksum}"),
        }
    }
}

impl FromStr for Dependency {
    type Err = DependencyError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

/// A name a package provides besides its own, from `p:` or `provides =`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Provide {
    /// The provided name.
    pub name: String,
    /// The provided version. Unversioned provides only satisfy unversioned dependencies
    /// and are never picked automatically when another provider exists.
    pub version: Option<Version>,
    /// The version text when it is not a valid apk version. Real indexes contain such
    /// provides (Alpine 3.17 has `pc:jemalloc=5.3.0_`), so they are kept for writing
    /// back, and the provide is treated as unversioned.
    pub invalid_version: Option<String>,
}

impl Provide {
    /// Creates an unversioned provide.
    pub fn unversioned(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            version: None,
            invalid_version: None,
        }
    }

    /// Creates a versioned provide.
    pub fn versioned(name: impl Into<String>, version: Version) -> Self {
        Self {
            name: name.into(),
            version: Some(version),
            invalid_version: None,
        }
    }

    /// Parses `name` or `name=version`. An invalid version is kept in
    /// [`Self::invalid_version`] instead of failing, unlike in dependencies.
    pub fn parse(text: &str) -> Result<Self, DependencyError> {
        let invalid = || DependencyError::Provide { text: text.into() };
        let (name, version_text) = match text.split_once('=') {
            Some((name, version)) => (name, Some(version)),
            None => (text, None),
        };
        if !is_valid_name(name) {
            return Err(DependencyError::InvalidName { text: text.into() });
        }
        let Some(version_text) = version_text else {
            return Ok(Self::unversioned(name));
        };
        if version_text.is_empty() || version_text.contains(char::is_whitespace) {
            return Err(invalid());
        }
        Ok(match Version::parse(version_text) {
            Ok(version) => Self::versioned(name, version),
            Err(_) => Self {
                name: name.to_owned(),
                version: None,
                invalid_version: Some(version_text.to_owned()),
            },
        })
    }

    /// Parses a whitespace-separated list, the form of the `p:` field.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, DependencyError> {
        text.split_whitespace().map(Self::parse).collect()
    }
}

impl fmt::Display for Provide {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(version) = &self.version {
            write!(f, "={version}")?;
        } else if let Some(text) = &self.invalid_version {
            write!(f, "={text}")?;
        }
        Ok(())
    }
}

/// Joins dependencies or provides with single spaces, as index fields store them.
pub fn join<T: fmt::Display>(items: &[T]) -> String {
    let mut out = String::new();
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(' ');
        }
        out.push_str(&item.to_string());
    }
    out
}

#[cfg(test)]
mod tests;
