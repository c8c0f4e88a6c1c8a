//! Safe iteration over the data stream of a package.
//!
//! Every entry is checked before the caller sees it: the path must be relative and stay
//! inside the root, links must not point outside it, device files are rejected unless
//! allowed, and sizes and entry counts are capped. Content is hashed while the caller
//! reads it and compared with the `APK-TOOLS.checksum.SHA1` PAX record afterwards.

use std::collections::HashSet;
use std::io::{self, Read};

use flate2::bufread::GzDecoder;
use sha1::{Digest as _, Sha1};

use super::PackageErrorKind;
use crate::checksum::Checksum;
use crate::limits::{MAX_DATA_STREAM_BYTES, MAX_PACKAGE_ENTRIES, MAX_PATH_BYTES};

/// PAX record holding the hex SHA-1 of a file's content or a symlink's target.
const CHECKSUM_RECORD: &str = "APK-TOOLS.checksum.SHA1";

/// PAX record prefix for extended attributes, as GNU tar and abuild write them.
const XATTR_RECORD_PREFIX: &str = "SCHILY.xattr.";

/// The type of a data entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link; the target is in [`DataEntry::link_target`].
    Symlink,
    /// A hard link to an earlier file of the same package.
    HardLink,
    /// A character device (only with [`EntryOptions::allow_devices`]).
    CharDevice,
    /// A block device (only with [`EntryOptions::allow_devices`]).
    BlockDevice,
    /// A named pipe (only with [`EntryOptions::allow_devices`]).
    Fifo,
}

/// Options for reading data entries.
#[derive(Debug, Clone, Copy, Default)]
pub struct EntryOptions {
    /// Accept character and block devices and FIFOs. Packages almost never contain
    /// them, and a device node in an image grants access to host hardware.
    pub allow_devices: bool,
}

/// One entry of the data stream. Reading it yields the file content (empty for
/// anything but files).
pub struct DataEntry<'a> {
    /// Relative path without a leading `./` or `/`, such as `usr/bin/env`.
    pub path: String,
    /// The entry type.
    pub kind: EntryKind,
    /// Permission bits including setuid, setgid and sticky (`mode & 0o7777`).
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Modification time in seconds since the Unix epoch.
    pub mtime: u64,
    /// Content size in bytes (0 for anything but files).
    pub size: u64,
    /// The target of a symlink (as stored) or hard link (normalized like `path`).
    pub link_target: Option<String>,
    /// Extended attributes from `SCHILY.xattr.*` PAX records, sorted by name.
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// The checksum from the `APK-TOOLS.checksum.SHA1` record, when present.
    pub checksum: Option<Checksum>,
    reader: HashingReader<'a>,
}

impl Read for DataEntry<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.reader.read(buf)
    }
}

struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: Sha1,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.hasher.update(buf.get(..count).unwrap_or_default());
        Ok(count)
    }
}

/// A reader that fails once more than `limit` bytes were read, so a decompression bomb
/// stops at the cap instead of filling the disk.
struct CappedReader<R> {
    inner: R,
    remaining: u64,
}

impl<R: Read> Read for CappedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.remaining = self.remaining.checked_sub(count as u64).ok_or_else(|| {
            io::Error::other(format!(
                "the data stream decompresses to more than {MAX_DATA_STREAM_BYTES} bytes"
            ))
        })?;
        Ok(count)
    }
}

/// Splits a tar path into normal components, or returns why it is unsafe.
pub(crate) fn normalize_path(raw: &str) -> Result<String, &'static str> {
    if raw.len() > MAX_PATH_BYTES {
        return Err("the path is too long");
    }
    if raw.starts_with('/') {
        return Err("absolute paths are not allowed");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err("`..` components are not allowed"),
            part if part.contains('\0') => return Err("NUL bytes are not allowed"),
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// Checks that a relative symlink target, resolved from the link's folder, stays inside
/// the root. Absolute targets are allowed because they resolve against the image root.
pub(crate) fn symlink_stays_inside(path: &str, target: &str) -> bool {
    if target.starts_with('/') {
        return true;
    }
    let mut depth: i64 = path.split('/').count() as i64 - 1;
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            _ => depth += 1,
        }
    }
    true
}

/// Walks the data stream `data` (compressed bytes) and calls `visit` for each entry.
pub(crate) fn walk<F>(
    data: &[u8],
    options: EntryOptions,
    mut visit: F,
) -> Result<(), PackageErrorKind>
where
    F: FnMut(&mut DataEntry<'_>) -> io::Result<()>,
{
    let decoder = CappedReader {
        inner: GzDecoder::new(data),
        remaining: MAX_DATA_STREAM_BYTES,
    };
    let mut archive = tar::Archive::new(decoder);
    let tar_error = |e: io::Error| PackageErrorKind::Data(e.to_string());
    let mut files = HashSet::new();
    let mut extensions = Extensions::default();
    let mut count: u64 = 0;
    // Raw entries, because `tar` reads GNU long names and PAX headers into memory
    // without a size cap; `Extensions` reads them here with one.
    for entry in archive.entries().map_err(tar_error)?.raw(true) {
        let mut entry = entry.map_err(tar_error)?;
        count += 1;
        if count > MAX_PACKAGE_ENTRIES {
            return Err(PackageErrorKind::Data(format!(
                "more than {MAX_PACKAGE_ENTRIES} entries"
            )));
        }
        if extensions.take_extension(&mut entry)? {
            continue;
        }
        let header = Header::read(&mut entry, std::mem::take(&mut extensions), options, &files)?;
        let Some(header) = header else {
            continue;
        };
        if header.kind == EntryKind::File {
            files.insert(header.path.clone());
        }
        visit_entry(&mut entry, header, &mut visit)?;
    }
    if !extensions.is_empty() {
        return Err(PackageErrorKind::Data(
            "the archive ends with a long name or PAX header and no entry".to_owned(),
        ));
    }
    Ok(())
}

/// GNU long name and link entries and PAX headers that apply to the next entry.
#[derive(Default)]
struct Extensions {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

impl Extensions {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }

    /// Reads `entry` when it is an extension entry and returns true, else returns false.
    fn take_extension<R: Read>(
        &mut self,
        entry: &mut tar::Entry<'_, R>,
    ) -> Result<bool, PackageErrorKind> {
        let entry_type = entry.header().entry_type();
        let (slot, limit, name) = match entry_type {
            tar::EntryType::GNULongName => (&mut self.long_name, MAX_PATH_BYTES, "long name"),
            tar::EntryType::GNULongLink => (&mut self.long_link, MAX_PATH_BYTES, "long link"),
            tar::EntryType::XHeader => (&mut self.pax, MAX_PAX_HEADER_BYTES, "PAX header"),
            tar::EntryType::XGlobalHeader => {
                // Global PAX records hold defaults that apk-tools ignores too.
                read_capped(entry, MAX_PAX_HEADER_BYTES, "global PAX header")?;
                return Ok(true);
            }
            _ => return Ok(false),
        };
        if slot.is_some() {
            return Err(PackageErrorKind::Data(format!(
                "two {name} entries describe the same entry"
            )));
        }
        let mut bytes = read_capped(entry, limit, name)?;
        if entry_type != tar::EntryType::XHeader {
            // GNU long names end with a NUL terminator.
            while bytes.last() == Some(&0) {
                bytes.pop();
            }
        }
        *slot = Some(bytes);
        Ok(true)
    }
}

/// Max size of one PAX header: checksums and a few xattrs need well under 1 KiB, and
/// file capabilities or ACLs as xattrs stay under a few KiB.
const MAX_PAX_HEADER_BYTES: usize = 64 << 10;

fn read_capped<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    limit: usize,
    name: &str,
) -> Result<Vec<u8>, PackageErrorKind> {
    let mut bytes = Vec::new();
    entry
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| PackageErrorKind::Data(format!("cannot read {name}: {e}")))?;
    if bytes.len() > limit {
        return Err(PackageErrorKind::Data(format!(
            "a {name} entry is larger than {limit} bytes"
        )));
    }
    Ok(bytes)
}

fn visit_entry<R: Read, F>(
    entry: &mut tar::Entry<'_, R>,
    header: Header,
    visit: &mut F,
) -> Result<(), PackageErrorKind>
where
    F: FnMut(&mut DataEntry<'_>) -> io::Result<()>,
{
    let path = header.path.clone();
    let symlink_target = match header.kind {
        EntryKind::Symlink => header.link_target.clone(),
        _ => None,
    };
    let mut data_entry = DataEntry {
        path: header.path,
        kind: header.kind,
        mode: header.mode,
        uid: header.uid,
        gid: header.gid,
        mtime: header.mtime,
        size: header.size,
        link_target: header.link_target,
        xattrs: header.xattrs,
        checksum: header.checksum,
        reader: HashingReader {
            inner: entry,
            hasher: Sha1::new(),
        },
    };
    visit(&mut data_entry).map_err(|source| PackageErrorKind::Visitor {
        path: path.clone(),
        source,
    })?;
    // Read what the caller left, so the checksum always covers the whole content.
    io::copy(&mut data_entry.reader, &mut io::sink())
        .map_err(|e| PackageErrorKind::Data(format!("entry `{path}`: {e}")))?;
    let Some(expected) = data_entry.checksum else {
        return Ok(());
    };
    let actual = match (data_entry.kind, symlink_target) {
        (EntryKind::File, _) => Checksum(data_entry.reader.hasher.finalize().into()),
        (EntryKind::Symlink, Some(target)) => Checksum::sha1_of(target.as_bytes()),
        _ => return Ok(()),
    };
    if actual != expected {
        return Err(PackageErrorKind::EntryChecksum {
            path,
            expected: expected.to_hex(),
            actual: actual.to_hex(),
        });
    }
    Ok(())
}

struct Header {
    path: String,
    kind: EntryKind,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: u64,
    size: u64,
    link_target: Option<String>,
    xattrs: Vec<(String, Vec<u8>)>,
    checksum: Option<Checksum>,
}

impl Header {
    /// Reads and checks one tar header with the extensions that precede it. Returns
    /// `None` for the root folder entry (`./`).
    fn read<R: Read>(
        entry: &mut tar::Entry<'_, R>,
        extensions: Extensions,
        options: EntryOptions,
        files: &HashSet<String>,
    ) -> Result<Option<Self>, PackageErrorKind> {
        let records = PaxRecords::parse(extensions.pax.as_deref())?;
        let raw_path_bytes = match (&records.path, &extensions.long_name) {
            (Some(path), _) => path.clone(),
            (None, Some(name)) => name.clone(),
            (None, None) => entry.header().path_bytes().into_owned(),
        };
        let raw_path = String::from_utf8(raw_path_bytes)
            .map_err(|_| PackageErrorKind::Data("an entry path is not UTF-8".to_owned()))?;
        let unsafe_entry = |reason: String| PackageErrorKind::UnsafeEntry {
            path: raw_path.clone(),
            reason,
        };
        if records.has_size {
            return Err(unsafe_entry(
                "PAX `size` records (files over 8 GiB) are not supported".to_owned(),
            ));
        }
        let path = normalize_path(&raw_path).map_err(|r| unsafe_entry(r.to_owned()))?;
        let header = entry.header();
        let kind = entry_kind(header.entry_type(), options).map_err(unsafe_entry)?;
        if path.is_empty() {
            if kind == EntryKind::Directory {
                return Ok(None);
            }
            return Err(unsafe_entry(
                "an empty path is only allowed for a folder".to_owned(),
            ));
        }

        let field = |name: &str, value: io::Result<u64>| {
            value.map_err(|e| unsafe_entry(format!("invalid {name} field: {e}")))
        };
        let mode = field("mode", header.mode().map(u64::from))? as u32 & 0o7777;
        let uid = field("uid", header.uid())?;
        let gid = field("gid", header.gid())?;
        let mtime = field("mtime", header.mtime())?;
        let size = if kind == EntryKind::File {
            entry.size()
        } else {
            0
        };
        let raw_link = match (&records.link, &extensions.long_link) {
            (Some(link), _) => Some(link.clone()),
            (None, Some(link)) => Some(link.clone()),
            (None, None) => entry.header().link_name_bytes().map(|b| b.into_owned()),
        };
        let link_target = Self::link_target(raw_link, kind, &path, files, &unsafe_entry)?;
        Ok(Some(Self {
            path,
            kind,
            mode,
            uid,
            gid,
            mtime,
            size,
            link_target,
            xattrs: records.xattrs,
            checksum: records.checksum,
        }))
    }

    fn link_target(
        raw_link: Option<Vec<u8>>,
        kind: EntryKind,
        path: &str,
        files: &HashSet<String>,
        unsafe_entry: &dyn Fn(String) -> PackageErrorKind,
    ) -> Result<Option<String>, PackageErrorKind> {
        if !matches!(kind, EntryKind::Symlink | EntryKind::HardLink) {
            return Ok(None);
        }
        let target = raw_link
            .map(String::from_utf8)
            .transpose()
            .map_err(|_| unsafe_entry("the link target is not UTF-8".to_owned()))?
            .ok_or_else(|| unsafe_entry("the link has no target".to_owned()))?;
        if target.is_empty() || target.len() > MAX_PATH_BYTES || target.contains('\0') {
            return Err(unsafe_entry("invalid link target".to_owned()));
        }
        if kind == EntryKind::Symlink {
            if !symlink_stays_inside(path, &target) {
                return Err(unsafe_entry(format!(
                    "symlink target `{target}` points outside the root"
                )));
            }
            return Ok(Some(target));
        }
        let normalized = normalize_path(&target)
            .map_err(|reason| unsafe_entry(format!("hard link target `{target}`: {reason}")))?;
        if !files.contains(&normalized) {
            return Err(unsafe_entry(format!(
                "hard link target `{target}` is not an earlier file of this package"
            )));
        }
        Ok(Some(normalized))
    }
}

/// Maps a tar entry type to the kinds this reader accepts.
fn entry_kind(entry_type: tar::EntryType, options: EntryOptions) -> Result<EntryKind, String> {
    let kind = match entry_type {
        tar::EntryType::Regular | tar::EntryType::Continuous => EntryKind::File,
        tar::EntryType::Directory => EntryKind::Directory,
        tar::EntryType::Symlink => EntryKind::Symlink,
        tar::EntryType::Link => EntryKind::HardLink,
        tar::EntryType::Char => EntryKind::CharDevice,
        tar::EntryType::Block => EntryKind::BlockDevice,
        tar::EntryType::Fifo => EntryKind::Fifo,
        other => return Err(format!("unsupported entry type {other:?}")),
    };
    let is_device = matches!(
        kind,
        EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo
    );
    if is_device && !options.allow_devices {
        return Err("device files and FIFOs are not allowed".to_owned());
    }
    Ok(kind)
}

/// The PAX records this reader uses.
#[derive(Default)]
struct PaxRecords {
    path: Option<Vec<u8>>,
    link: Option<Vec<u8>>,
    checksum: Option<Checksum>,
    xattrs: Vec<(String, Vec<u8>)>,
    has_size: bool,
}

impl PaxRecords {
    fn parse(bytes: Option<&[u8]>) -> Result<Self, PackageErrorKind> {
        let mut records = Self::default();
        let Some(bytes) = bytes else {
            return Ok(records);
        };
        let invalid =
            |message: String| PackageErrorKind::Data(format!("invalid PAX header: {message}"));
        for record in tar::PaxExtensions::new(bytes) {
            let record = record.map_err(|e| invalid(e.to_string()))?;
            let Ok(key) = record.key() else {
                continue;
            };
            match key {
                "path" => records.path = Some(record.value_bytes().to_vec()),
                "linkpath" => records.link = Some(record.value_bytes().to_vec()),
                "size" => records.has_size = true,
                CHECKSUM_RECORD => {
                    let value = record.value().unwrap_or_default();
                    let digest: [u8; 20] = hex::decode(value)
                        .ok()
                        .and_then(|bytes| bytes.try_into().ok())
                        .ok_or_else(|| invalid(format!("invalid {CHECKSUM_RECORD} `{value}`")))?;
                    records.checksum = Some(Checksum(digest));
                }
                _ => {
                    if let Some(name) = key.strip_prefix(XATTR_RECORD_PREFIX) {
                        records
                            .xattrs
                            .push((name.to_owned(), record.value_bytes().to_vec()));
                    }
                }
            }
        }
        records.xattrs.sort();
        Ok(records)
    }
}
