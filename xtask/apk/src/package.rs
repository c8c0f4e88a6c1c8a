//! `.apk` package files: reading, verifying, iterating entries and writing.
//!
//! A package is two or three gzip streams back to back: an optional signature stream, the
//! control stream (a tar with `.PKGINFO` first, then scripts such as `.post-install` and
//! `.trigger`), and the data stream (a tar of the files). The index `C:` field is `Q1` +
//! base64 SHA-1 of the compressed control stream, and the signature covers the same
//! bytes. `.PKGINFO` `datahash` is the hex SHA-256 of the compressed data stream, so the
//! signature covers every byte of the file through it.

mod entries;
mod extract;
mod pkginfo;
mod writer;

use std::io::Read as _;
use std::ops::Range;
use std::path::Path;

use sha2::{Digest as _, Sha256};

pub use entries::{DataEntry, EntryKind, EntryOptions};
pub use pkginfo::{PkgInfo, PkgInfoError};
pub use writer::{BuiltPackage, FileContent, PackageBuilder, PackageFile};

use crate::checksum::Checksum;
use crate::gzip::{self, GzipError};
use crate::key::Keyring;
use crate::limits::{MAX_CONTROL_STREAM_BYTES, MAX_PACKAGE_FILE_BYTES, MAX_SIGNATURE_STREAM_BYTES};
use crate::signature::{self, Signature, SignatureError};

/// Errors from reading, verifying or writing a package. The message names the file first.
#[derive(Debug, thiserror::Error)]
#[error("package `{file}`: {kind}")]
pub struct PackageError {
    /// The file path or name, as given by the caller.
    pub file: String,
    /// The failed step (boxed to keep `Result`s small).
    #[source]
    pub kind: Box<PackageErrorKind>,
}

/// The failed step of reading, verifying or writing a package.
#[derive(Debug, thiserror::Error)]
pub enum PackageErrorKind {
    /// The file could not be read or written.
    #[error("I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than [`MAX_PACKAGE_FILE_BYTES`].
    #[error("the file is larger than {MAX_PACKAGE_FILE_BYTES} bytes")]
    TooLarge,
    /// A gzip stream is corrupt or too large.
    #[error("gzip check failed: {0}")]
    Gzip(#[from] GzipError),
    /// The signature is missing, untrusted or wrong.
    #[error("signature check failed: {0}")]
    Signature(#[from] SignatureError),
    /// The control stream is malformed.
    #[error("invalid control stream: {0}")]
    Control(String),
    /// `.PKGINFO` is invalid.
    #[error("invalid .PKGINFO: {0}")]
    PkgInfo(#[from] PkgInfoError),
    /// `.PKGINFO` has no `datahash`, so the data stream cannot be verified.
    #[error(
        "datahash check failed: .PKGINFO has no `datahash`\nhint: rebuild the package with abuild 3 or melange"
    )]
    MissingDatahash,
    /// The data stream does not match `datahash`.
    #[error("datahash check failed: .PKGINFO says {expected}, the data stream hashes to {actual}")]
    Datahash {
        /// The hex SHA-256 from `.PKGINFO`.
        expected: String,
        /// The hex SHA-256 of the data stream.
        actual: String,
    },
    /// The control stream does not match the checksum the index gives.
    #[error(
        "index checksum check failed: the index says {expected}, the control stream is {actual}"
    )]
    IndexChecksum {
        /// `C:` from the index.
        expected: Checksum,
        /// The checksum of the control stream.
        actual: Checksum,
    },
    /// The data stream tar is malformed or too large.
    #[error("invalid data stream: {0}")]
    Data(String),
    /// An entry is unsafe to extract.
    #[error("unsafe entry `{path}`: {reason}")]
    UnsafeEntry {
        /// The entry path as stored.
        path: String,
        /// The rule the entry breaks.
        reason: String,
    },
    /// An entry's content does not match its `APK-TOOLS.checksum.SHA1` record.
    #[error(
        "entry checksum check failed for `{path}`: expected SHA-1 {expected}, content is {actual}"
    )]
    EntryChecksum {
        /// The entry path.
        path: String,
        /// The recorded hex SHA-1.
        expected: String,
        /// The hex SHA-1 of the content.
        actual: String,
    },
    /// The caller's visitor failed on an entry.
    #[error("processing entry `{path}` failed: {source}")]
    Visitor {
        /// The entry path.
        path: String,
        /// The visitor's error.
        source: std::io::Error,
    },
}

/// A file in the control stream other than `.PKGINFO`, such as `.post-install`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ControlFile {
    /// The name, such as `.pre-install` or `.trigger`.
    pub name: String,
    /// Permission bits.
    pub mode: u32,
    /// The content.
    pub content: Vec<u8>,
}

/// A package read into memory, with its structure and `datahash` already checked.
#[derive(Debug, Clone)]
pub struct Package {
    file: String,
    bytes: Vec<u8>,
    signatures: Vec<Signature>,
    control: Range<usize>,
    pkginfo: PkgInfo,
    control_files: Vec<ControlFile>,
    checksum: Checksum,
}

impl Package {
    /// Reads a package file and checks its structure and `datahash`.
    pub fn open(path: &Path) -> Result<Self, PackageError> {
        let file = path.display().to_string();
        let error = |kind| PackageError {
            file: file.clone(),
            kind: Box::new(kind),
        };
        let length = fs_err::metadata(path).map_err(|e| error(e.into()))?.len();
        if length > MAX_PACKAGE_FILE_BYTES {
            return Err(error(PackageErrorKind::TooLarge));
        }
        let bytes = fs_err::read(path).map_err(|e| error(e.into()))?;
        Self::from_bytes(&file, bytes)
    }

    /// Parses a package held in memory. `file` names it in errors.
    pub fn from_bytes(file: &str, bytes: Vec<u8>) -> Result<Self, PackageError> {
        Self::parse(file, bytes).map_err(|kind| PackageError {
            file: file.to_owned(),
            kind: Box::new(kind),
        })
    }

    fn parse(file: &str, bytes: Vec<u8>) -> Result<Self, PackageErrorKind> {
        if bytes.len() as u64 > MAX_PACKAGE_FILE_BYTES {
            return Err(PackageErrorKind::TooLarge);
        }
        let first = gzip::decode_member(&bytes, 0, 0, MAX_CONTROL_STREAM_BYTES)?;
        let (signatures, control) = if signature::is_signature_tar(&first.content) {
            if first.content.len() as u64 > MAX_SIGNATURE_STREAM_BYTES {
                return Err(GzipError::TooLarge {
                    index: 0,
                    limit: MAX_SIGNATURE_STREAM_BYTES,
                }
                .into());
            }
            let signatures = signature::parse_signature_tar(&first.content)?;
            let control =
                gzip::decode_member(&bytes, first.range.end, 1, MAX_CONTROL_STREAM_BYTES)?;
            (signatures, control)
        } else {
            (Vec::new(), first)
        };
        let (pkginfo, control_files) = parse_control(&control.content)?;
        let data = bytes.get(control.range.end..).unwrap_or_default();
        check_datahash(&pkginfo, data)?;
        let checksum = Checksum::sha1_of(bytes.get(control.range.clone()).unwrap_or_default());
        tracing::trace!(file, %checksum, "read package");
        Ok(Self {
            file: file.to_owned(),
            bytes,
            signatures,
            control: control.range,
            pkginfo,
            control_files,
            checksum,
        })
    }

    fn error(&self, kind: PackageErrorKind) -> PackageError {
        PackageError {
            file: self.file.clone(),
            kind: Box::new(kind),
        }
    }

    /// Checks the signature over the control stream against `keyring` and returns the
    /// name of the key that verified it.
    pub fn verify_signature<'k>(&self, keyring: &'k Keyring) -> Result<&'k str, PackageError> {
        let control = self.bytes.get(self.control.clone()).unwrap_or_default();
        signature::verify(keyring, &self.signatures, control).map_err(|e| self.error(e.into()))
    }

    /// Checks that the control stream matches the `C:` checksum an index gives.
    pub fn verify_index_checksum(&self, expected: &Checksum) -> Result<(), PackageError> {
        if *expected != self.checksum {
            return Err(self.error(PackageErrorKind::IndexChecksum {
                expected: *expected,
                actual: self.checksum,
            }));
        }
        Ok(())
    }

    /// Returns the file name or path given when reading.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// Returns the `C:` checksum of this package.
    pub fn checksum(&self) -> Checksum {
        self.checksum
    }

    /// Returns the parsed `.PKGINFO`.
    pub fn pkginfo(&self) -> &PkgInfo {
        &self.pkginfo
    }

    /// Returns the metadata as an index entry, with `C:` and `S:` filled in.
    pub fn index_entry(&self) -> crate::package_info::PackageInfo {
        let mut info = self.pkginfo.info.clone();
        info.checksum = Some(self.checksum);
        info.size = self.bytes.len() as u64;
        info
    }

    /// Returns the signatures found (none for an unsigned package).
    pub fn signatures(&self) -> &[Signature] {
        &self.signatures
    }

    /// Returns the control files other than `.PKGINFO`, in archive order.
    pub fn control_files(&self) -> &[ControlFile] {
        &self.control_files
    }

    /// Calls `visit` for every entry of the data stream, in archive order. Entries are
    /// checked for safety before `visit` receives them, and file checksums are compared after
    /// it returns, reading any content `visit` left unread.
    pub fn for_each_entry<F>(&self, options: EntryOptions, visit: F) -> Result<(), PackageError>
    where
        F: FnMut(&mut DataEntry<'_>) -> std::io::Result<()>,
    {
        let data = self.bytes.get(self.control.end..).unwrap_or_default();
        entries::walk(data, options, visit).map_err(|kind| self.error(kind))
    }
}

impl Package {
    /// Extracts the data entries below `root` and returns their paths in archive order.
    /// See [`Package::for_each_entry`] for the checks; in addition no entry is written
    /// through a symlink. Owners are not applied, and device nodes are skipped.
    pub fn extract_to(
        &self,
        root: &Path,
        options: EntryOptions,
    ) -> Result<Vec<String>, PackageError> {
        let mut paths = Vec::new();
        self.for_each_entry(options, |entry| {
            extract::extract_entry(root, entry)?;
            paths.push(entry.path.clone());
            Ok(())
        })?;
        Ok(paths)
    }
}

fn check_datahash(pkginfo: &PkgInfo, data: &[u8]) -> Result<(), PackageErrorKind> {
    let expected = pkginfo
        .datahash
        .as_deref()
        .ok_or(PackageErrorKind::MissingDatahash)?;
    let actual = hex::encode(Sha256::digest(data));
    if !expected.eq_ignore_ascii_case(&actual) {
        return Err(PackageErrorKind::Datahash {
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(())
}

fn parse_control(tar: &[u8]) -> Result<(PkgInfo, Vec<ControlFile>), PackageErrorKind> {
    let control_error = |message: String| PackageErrorKind::Control(message);
    let mut archive = tar::Archive::new(tar);
    let mut pkginfo = None;
    let mut files = Vec::new();
    let entries = archive
        .entries()
        .map_err(|e| control_error(e.to_string()))?;
    for (index, entry) in entries.enumerate() {
        let mut entry = entry.map_err(|e| control_error(e.to_string()))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !name.starts_with('.') || name.contains('/') {
            return Err(control_error(format!(
                "unexpected entry `{name}` (control files are `.PKGINFO` and dot-named scripts)"
            )));
        }
        if entry.header().entry_type() != tar::EntryType::Regular {
            return Err(control_error(format!("`{name}` is not a regular file")));
        }
        let mode = entry.header().mode().unwrap_or(0o644) & 0o7777;
        let mut content = Vec::new();
        entry
            .read_to_end(&mut content)
            .map_err(|e| control_error(format!("cannot read `{name}`: {e}")))?;
        if name == ".PKGINFO" {
            if index != 0 {
                return Err(control_error(".PKGINFO is not the first entry".to_owned()));
            }
            pkginfo = Some(PkgInfo::parse(&content)?);
        } else {
            files.push(ControlFile {
                name,
                mode,
                content,
            });
        }
    }
    let pkginfo = pkginfo.ok_or_else(|| control_error("no .PKGINFO entry".to_owned()))?;
    Ok((pkginfo, files))
}

#[cfg(test)]
mod tests;
