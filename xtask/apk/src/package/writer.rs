//! Writing signed `.apk` files with reproducible bytes.

use std::collections::BTreeMap;

use sha1::{Digest as _, Sha1};
use sha2::Sha256;

use super::entries::{normalize_path, symlink_stays_inside};
use super::pkginfo::PkgInfo;
use super::{ControlFile, PackageError, PackageErrorKind};
use crate::checksum::Checksum;
use crate::key::PrivateKey;
use crate::package_info::PackageInfo;
use crate::signature::{self, SignatureAlgorithm};
use crate::tar_write;

/// The content of a file to package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileContent {
    /// A regular file with these bytes.
    File(Vec<u8>),
    /// A directory.
    Directory,
    /// A symbolic link to this target.
    Symlink(String),
}

/// A file, directory or symlink to put in the data stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageFile {
    /// Relative path, such as `usr/bin/hello`.
    pub path: String,
    /// The content.
    pub content: FileContent,
    /// Permission bits (`0o755`, `0o644`, setuid allowed).
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
}

impl PackageFile {
    /// Creates a regular file owned by root.
    pub fn file(path: impl Into<String>, mode: u32, content: impl Into<Vec<u8>>) -> Self {
        Self::new(path, FileContent::File(content.into()), mode)
    }

    /// Creates a directory owned by root with mode 0755.
    pub fn directory(path: impl Into<String>) -> Self {
        Self::new(path, FileContent::Directory, 0o755)
    }

    /// Creates a symlink owned by root with mode 0777.
    pub fn symlink(path: impl Into<String>, target: impl Into<String>) -> Self {
        Self::new(path, FileContent::Symlink(target.into()), 0o777)
    }

    fn new(path: impl Into<String>, content: FileContent, mode: u32) -> Self {
        Self {
            path: path.into(),
            content,
            mode,
            uid: 0,
            gid: 0,
        }
    }
}

/// A built package: the file bytes and its index entry.
#[derive(Debug, Clone)]
pub struct BuiltPackage {
    /// The `.apk` file content.
    pub bytes: Vec<u8>,
    /// The index entry, with `C:`, `S:` and `I:` filled in.
    pub info: PackageInfo,
}

/// Builds a package from metadata, scripts and files.
///
/// The output depends only on the input: entries are sorted by path, missing parent
/// folders are added (mode 0755, owner 0), every timestamp is `mtime`, and the gzip
/// headers carry no time.
#[derive(Debug, Clone)]
pub struct PackageBuilder {
    /// Package metadata. `installed_size` is computed from the files.
    pub info: PackageInfo,
    /// `packager` in `.PKGINFO`.
    pub packager: Option<String>,
    /// `triggers` folders in `.PKGINFO`; needs a `.trigger` script.
    pub triggers: Vec<String>,
    /// Scripts such as `.post-install`, written after `.PKGINFO` in name order.
    pub scripts: Vec<ControlFile>,
    /// The files.
    pub files: Vec<PackageFile>,
    /// Timestamp for every tar entry, in seconds since the Unix epoch (for example
    /// `SOURCE_DATE_EPOCH`).
    pub mtime: u64,
}

impl PackageBuilder {
    /// Creates a builder with no files and mtime 0.
    pub fn new(info: PackageInfo) -> Self {
        Self {
            info,
            packager: None,
            triggers: Vec::new(),
            scripts: Vec::new(),
            files: Vec::new(),
            mtime: 0,
        }
    }

    /// Builds the package, signing the control stream with RSA/SHA-256 when `key` is given.
    pub fn build(&self, key: Option<&PrivateKey>) -> Result<BuiltPackage, PackageError> {
        self.build_inner(key).map_err(|kind| PackageError {
            file: self.info.file_name(),
            kind: Box::new(kind),
        })
    }

    fn build_inner(&self, key: Option<&PrivateKey>) -> Result<BuiltPackage, PackageErrorKind> {
        let files = self.sorted_files()?;
        let installed_size = files
            .values()
            .map(|file| match &file.content {
                FileContent::File(bytes) => bytes.len() as u64,
                _ => 0,
            })
            .sum();
        let data = tar_write::gzip(&self.data_tar(&files)?)?;

        let mut info = self.info.clone();
        info.installed_size = installed_size;
        let pkginfo = PkgInfo {
            info: info.clone(),
            datahash: Some(hex::encode(Sha256::digest(&data))),
            packager: self.packager.clone(),
            triggers: self.triggers.clone(),
            unknown: Vec::new(),
        };
        let control = tar_write::gzip(&self.control_tar(&pkginfo)?)?;

        let mut bytes = Vec::new();
        if let Some(key) = key {
            let signature = signature::sign(key, SignatureAlgorithm::RsaSha256, &control)?;
            bytes.extend(signature::signature_stream(&signature, self.mtime)?);
        }
        bytes.extend_from_slice(&control);
        bytes.extend_from_slice(&data);
        info.checksum = Some(Checksum::sha1_of(&control));
        info.size = bytes.len() as u64;
        Ok(BuiltPackage { bytes, info })
    }

    /// Normalizes, checks and sorts the files, adding missing parent folders.
    fn sorted_files(&self) -> Result<BTreeMap<String, PackageFile>, PackageErrorKind> {
        let mut files = BTreeMap::new();
        for file in &self.files {
            let unsafe_entry = |reason: &str| PackageErrorKind::UnsafeEntry {
                path: file.path.clone(),
                reason: reason.to_owned(),
            };
            let path = normalize_path(&file.path).map_err(unsafe_entry)?;
            if path.is_empty() {
                return Err(unsafe_entry("the path is empty"));
            }
            if let FileContent::Symlink(target) = &file.content
                && !symlink_stays_inside(&path, target)
            {
                return Err(unsafe_entry("the symlink target points outside the root"));
            }
            let mut normalized = file.clone();
            normalized.path = path.clone();
            if files.insert(path, normalized).is_some() {
                return Err(unsafe_entry("the path appears twice"));
            }
        }
        let parents: Vec<String> = files
            .keys()
            .flat_map(|path| {
                let parts: Vec<&str> = path.split('/').collect();
                (1..parts.len())
                    .map(|depth| parts.get(..depth).unwrap_or_default().join("/"))
                    .collect::<Vec<_>>()
            })
            .collect();
        for parent in parents {
            files
                .entry(parent.clone())
                .or_insert_with(|| PackageFile::directory(parent));
        }
        Ok(files)
    }

    fn data_tar(&self, files: &BTreeMap<String, PackageFile>) -> std::io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, file) in files {
            let mut header = tar::Header::new_gnu();
            header.set_mode(file.mode & 0o7777);
            header.set_uid(file.uid);
            header.set_gid(file.gid);
            header.set_mtime(self.mtime);
            match &file.content {
                FileContent::Directory => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_size(0);
                    builder.append_data(&mut header, path, std::io::empty())?;
                }
                FileContent::File(bytes) => {
                    let digest = hex::encode(Sha1::digest(bytes));
                    builder
                        .append_pax_extensions([("APK-TOOLS.checksum.SHA1", digest.as_bytes())])?;
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_size(bytes.len() as u64);
                    builder.append_data(&mut header, path, bytes.as_slice())?;
                }
                FileContent::Symlink(target) => {
                    let digest = hex::encode(Sha1::digest(target.as_bytes()));
                    builder
                        .append_pax_extensions([("APK-TOOLS.checksum.SHA1", digest.as_bytes())])?;
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_size(0);
                    builder.append_link(&mut header, path, target)?;
                }
            }
        }
        tar_write::finish_tar(builder, false)
    }

    fn control_tar(&self, pkginfo: &PkgInfo) -> std::io::Result<Vec<u8>> {
        let mut builder = tar::Builder::new(Vec::new());
        let text = pkginfo.to_text();
        let mut header = tar_write::file_header(text.len() as u64, 0o644, self.mtime);
        builder.append_data(&mut header, ".PKGINFO", text.as_bytes())?;
        let mut scripts: Vec<&ControlFile> = self.scripts.iter().collect();
        scripts.sort_by(|a, b| a.name.cmp(&b.name));
        for script in scripts {
            let mut header =
                tar_write::file_header(script.content.len() as u64, script.mode, self.mtime);
            builder.append_data(&mut header, &script.name, script.content.as_slice())?;
        }
        tar_write::finish_tar(builder, true)
    }
}
