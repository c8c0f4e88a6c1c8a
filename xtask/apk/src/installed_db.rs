//! The installed database, `lib/apk/db/installed`, in the format apk-tools 2 writes.
//!
//! Each package starts with its index entry (`C P V A S I T U L o m t c k D p i`). Then
//! come `r:` replaces, `q:` replaces priority, `s:` repository tag and `f:` broken flags.
//! Then come its folders and files: `F:` folder, `M:` folder owner and mode when not
//! `0:0:755`, `R:` file name, `a:` file owner and mode when not `0:0:644`, and `Z:` file
//! checksum. A blank line ends each package. Scanners such as trivy, grype and syft read this file
//! to list the packages of an image.

use std::fmt::Write as _;

use crate::checksum::{Checksum, ChecksumError};
use crate::package::{DataEntry, EntryKind};
use crate::package_info::{FieldError, PackageInfo, split_field};

/// Errors from parsing the installed database.
#[derive(Debug, thiserror::Error)]
pub enum InstalledDbError {
    /// A package field is invalid.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// A file line appears before its `F:` folder line, or `a:`/`Z:` before `R:`.
    #[error("line {line}: `{field}:` must follow {expected}")]
    Order {
        /// One-based line number.
        line: usize,
        /// The field letter.
        field: char,
        /// The line it must follow.
        expected: &'static str,
    },
    /// An `M:` or `a:` value is not `uid:gid:octal mode`.
    #[error("line {line}: invalid owner and mode `{text}` (expected uid:gid:mode)")]
    Acl {
        /// One-based line number.
        line: usize,
        /// The value.
        text: String,
    },
    /// A `Z:` value is invalid.
    #[error("line {line}: invalid `Z:` field")]
    Checksum {
        /// One-based line number.
        line: usize,
        /// The checksum error.
        #[source]
        source: ChecksumError,
    },
}

/// Owner, mode and optional extended-attribute checksum of a folder or file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acl {
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Permission bits.
    pub mode: u32,
    /// Checksum of the extended attributes, as apk-tools writes it after a third `:`.
    pub xattr_checksum: Option<String>,
}

impl Acl {
    fn new(uid: u64, gid: u64, mode: u32) -> Self {
        Self {
            uid,
            gid,
            mode,
            xattr_checksum: None,
        }
    }

    fn parse(line: usize, text: &str) -> Result<Self, InstalledDbError> {
        let invalid = || InstalledDbError::Acl {
            line,
            text: text.to_owned(),
        };
        let mut parts = text.splitn(4, ':');
        let uid = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let gid = parts
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(invalid)?;
        let mode = parts
            .next()
            .and_then(|p| u32::from_str_radix(p, 8).ok())
            .ok_or_else(invalid)?;
        let xattr_checksum = parts.next().map(str::to_owned);
        Ok(Self {
            uid,
            gid,
            mode,
            xattr_checksum,
        })
    }
}

impl std::fmt::Display for Acl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{:o}", self.uid, self.gid, self.mode)?;
        if let Some(checksum) = &self.xattr_checksum {
            write!(f, ":{checksum}")?;
        }
        Ok(())
    }
}

/// A file (or symlink, or device) owned by a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledFile {
    /// The name within its folder.
    pub name: String,
    /// `a:` owner and mode, when not root and 0644.
    pub acl: Option<Acl>,
    /// `Z:` checksum of the content (of the target for symlinks).
    pub checksum: Option<Checksum>,
}

/// A folder a package owns, with the files in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledDir {
    /// The folder path without leading or trailing `/`; empty for the root.
    pub path: String,
    /// `M:` owner and mode, when not root and 0755.
    pub acl: Option<Acl>,
    /// The files directly in this folder, in archive order.
    pub files: Vec<InstalledFile>,
}

/// One package of the installed database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstalledPackage {
    /// Package metadata, with `C:` and `S:` from the index.
    pub info: PackageInfo,
    /// `s:` the repository tag the package was pinned to.
    pub repository_tag: Option<String>,
    /// `f:` flags for broken files, scripts or xattrs.
    pub broken: Option<String>,
    /// The folders in the order they first appear in the archive.
    pub dirs: Vec<InstalledDir>,
}

const DEFAULT_DIR_MODE: u32 = 0o755;
const DEFAULT_FILE_MODE: u32 = 0o644;

impl InstalledPackage {
    /// Creates an entry with no files.
    pub fn new(info: PackageInfo) -> Self {
        Self {
            info,
            repository_tag: None,
            broken: None,
            dirs: Vec::new(),
        }
    }

    /// Records one data entry, in the way apk-tools does while installing: folders in
    /// order of first appearance, files under their folder in archive order.
    pub fn add_entry(&mut self, entry: &DataEntry<'_>) {
        let acl = Acl::new(entry.uid, entry.gid, entry.mode);
        if entry.kind == EntryKind::Directory {
            let dir = self.dir_mut(&entry.path);
            dir.acl = (acl != Acl::new(0, 0, DEFAULT_DIR_MODE)).then_some(acl);
            return;
        }
        let (parent, name) = entry.path.rsplit_once('/').unwrap_or(("", &entry.path));
        let checksum = match entry.kind {
            EntryKind::HardLink => self.hard_link_checksum(entry),
            _ => entry.checksum,
        };
        let file = InstalledFile {
            name: name.to_owned(),
            acl: (acl != Acl::new(0, 0, DEFAULT_FILE_MODE)).then_some(acl),
            checksum,
        };
        self.dir_mut(parent).files.push(file);
    }

    fn hard_link_checksum(&self, entry: &DataEntry<'_>) -> Option<Checksum> {
        let target = entry.link_target.as_deref()?;
        let (parent, name) = target.rsplit_once('/').unwrap_or(("", target));
        let dir = self.dirs.iter().find(|dir| dir.path == parent)?;
        dir.files.iter().find(|f| f.name == name)?.checksum
    }

    fn dir_mut(&mut self, path: &str) -> &mut InstalledDir {
        let index = match self.dirs.iter().position(|dir| dir.path == path) {
            Some(index) => index,
            None => {
                self.dirs.push(InstalledDir {
                    path: path.to_owned(),
                    acl: None,
                    files: Vec::new(),
                });
                self.dirs.len() - 1
            }
        };
        // `index` was returned by `position` or is the element just pushed.
        &mut self.dirs[index]
    }

    /// Appends this package's lines and the closing blank line to `out`.
    pub fn write(&self, out: &mut String) {
        self.info.write_fields(out);
        if let Some(tag) = &self.repository_tag {
            let _ = writeln!(out, "s:{tag}");
        }
        if let Some(broken) = &self.broken {
            let _ = writeln!(out, "f:{broken}");
        }
        for dir in &self.dirs {
            let _ = writeln!(out, "F:{}", dir.path);
            if let Some(acl) = &dir.acl {
                let _ = writeln!(out, "M:{acl}");
            }
            for file in &dir.files {
                let _ = writeln!(out, "R:{}", file.name);
                if let Some(acl) = &file.acl {
                    let _ = writeln!(out, "a:{acl}");
                }
                if let Some(checksum) = &file.checksum {
                    let _ = writeln!(out, "Z:{checksum}");
                }
            }
        }
        out.push('\n');
    }
}

/// Returns the installed database text for `packages`, in the given order (apk-tools
/// writes packages in install order).
pub fn write_installed_db(packages: &[InstalledPackage]) -> String {
    let mut out = String::new();
    for package in packages {
        package.write(&mut out);
    }
    out
}

/// Parses installed database text. A missing final blank line is accepted.
pub fn parse_installed_db(text: &str) -> Result<Vec<InstalledPackage>, InstalledDbError> {
    let mut packages = Vec::new();
    let mut block = Block::default();
    for (index, line) in text.split('\n').enumerate() {
        let line_number = index + 1;
        if line.is_empty() {
            if let Some(package) = std::mem::take(&mut block).finish()? {
                packages.push(package);
            }
            block.start = line_number + 1;
            continue;
        }
        let (field, value) = split_field(line_number, line)?;
        block.add(line_number, field, value)?;
    }
    if let Some(package) = block.finish()? {
        packages.push(package);
    }
    Ok(packages)
}

#[derive(Default)]
struct Block<'a> {
    start: usize,
    fields: Vec<(usize, char, &'a str)>,
    repository_tag: Option<String>,
    broken: Option<String>,
    dirs: Vec<InstalledDir>,
}

impl<'a> Block<'a> {
    fn add(&mut self, line: usize, field: char, value: &'a str) -> Result<(), InstalledDbError> {
        let order = |expected| InstalledDbError::Order {
            line,
            field,
            expected,
        };
        match field {
            's' => self.repository_tag = Some(value.to_owned()),
            'f' => self.broken = Some(value.to_owned()),
            'F' => self.dirs.push(InstalledDir {
                path: value.to_owned(),
                acl: None,
                files: Vec::new(),
            }),
            'M' => {
                let dir = self.dirs.last_mut().ok_or_else(|| order("an `F:` line"))?;
                dir.acl = Some(Acl::parse(line, value)?);
            }
            'R' => {
                let dir = self.dirs.last_mut().ok_or_else(|| order("an `F:` line"))?;
                dir.files.push(InstalledFile {
                    name: value.to_owned(),
                    acl: None,
                    checksum: None,
                });
            }
            'a' | 'Z' => {
                let file = self
                    .dirs
                    .last_mut()
                    .and_then(|dir| dir.files.last_mut())
                    .ok_or_else(|| order("an `R:` line"))?;
                if field == 'a' {
                    file.acl = Some(Acl::parse(line, value)?);
                } else {
                    let checksum = Checksum::parse(value)
                        .map_err(|source| InstalledDbError::Checksum { line, source })?;
                    file.checksum = Some(checksum);
                }
            }
            _ => self.fields.push((line, field, value)),
        }
        Ok(())
    }

    fn finish(self) -> Result<Option<InstalledPackage>, InstalledDbError> {
        if self.fields.is_empty() && self.dirs.is_empty() {
            return Ok(None);
        }
        let info = PackageInfo::from_fields(self.start.max(1), self.fields)?;
        Ok(Some(InstalledPackage {
            info,
            repository_tag: self.repository_tag,
            broken: self.broken,
            dirs: self.dirs,
        }))
    }
}

#[cfg(test)]
mod tests;
