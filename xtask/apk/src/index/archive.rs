//! Reading and writing `APKINDEX.tar.gz`, optionally signed.

use std::io::Read as _;
use std::path::Path;

use super::{Index, IndexError, IndexErrorKind};
use crate::gzip;
use crate::key::{Keyring, PrivateKey};
use crate::limits::{MAX_INDEX_FILE_BYTES, MAX_INDEX_TEXT_BYTES, MAX_SIGNATURE_STREAM_BYTES};
use crate::signature::{self, Signature, SignatureAlgorithm};
use crate::tar_write;

/// Authentication an index must pass.
#[derive(Debug, Clone, Copy)]
pub enum Verification<'a> {
    /// A signature by a key in this keyring is required.
    Keyring(&'a Keyring),
    /// The repository is trusted without a signature: signatures are read but not checked.
    TrustedUnsigned,
}

/// A read and verified index file.
#[derive(Debug, Clone)]
pub struct IndexFile {
    /// The index content.
    pub index: Index,
    /// The signatures found, possibly none for a trusted-unsigned repository.
    pub signatures: Vec<Signature>,
    /// The key that verified the index, when one did.
    pub verified_by: Option<String>,
}

/// Reads and verifies an index from a file.
pub fn read_index_file(
    path: &Path,
    verification: Verification<'_>,
) -> Result<IndexFile, IndexError> {
    let file = path.display().to_string();
    let error = |kind| IndexError {
        file: file.clone(),
        kind,
    };
    let metadata = fs_err::metadata(path).map_err(|e| error(e.into()))?;
    if metadata.len() > MAX_INDEX_FILE_BYTES {
        return Err(error(IndexErrorKind::TooLarge {
            limit: MAX_INDEX_FILE_BYTES,
        }));
    }
    let bytes = fs_err::read(path).map_err(|e| error(e.into()))?;
    read_index(&file, &bytes, verification)
}

/// Reads and verifies an index from memory. `file` names the source in errors.
pub fn read_index(
    file: &str,
    bytes: &[u8],
    verification: Verification<'_>,
) -> Result<IndexFile, IndexError> {
    read_index_inner(bytes, verification).map_err(|kind| IndexError {
        file: file.to_owned(),
        kind,
    })
}

fn read_index_inner(
    bytes: &[u8],
    verification: Verification<'_>,
) -> Result<IndexFile, IndexErrorKind> {
    if bytes.len() as u64 > MAX_INDEX_FILE_BYTES {
        return Err(IndexErrorKind::TooLarge {
            limit: MAX_INDEX_FILE_BYTES,
        });
    }
    let first = gzip::decode_member(bytes, 0, 0, MAX_INDEX_TEXT_BYTES)?;
    let (signatures, content) = if signature::is_signature_tar(&first.content) {
        if first.content.len() as u64 > MAX_SIGNATURE_STREAM_BYTES {
            return Err(gzip::GzipError::TooLarge {
                index: 0,
                limit: MAX_SIGNATURE_STREAM_BYTES,
            }
            .into());
        }
        let signatures = signature::parse_signature_tar(&first.content)?;
        let content = gzip::decode_member(bytes, first.range.end, 1, MAX_INDEX_TEXT_BYTES)?;
        (signatures, content)
    } else {
        (Vec::new(), first)
    };
    if content.range.end != bytes.len() {
        return Err(IndexErrorKind::Tar(format!(
            "unexpected data after the index stream at byte {}",
            content.range.end
        )));
    }

    let signed = bytes.get(content.range.clone()).unwrap_or_default();
    let verified_by = match verification {
        Verification::Keyring(keyring) => {
            let key = signature::verify(keyring, &signatures, signed)?;
            tracing::debug!(key, "index signature verified");
            Some(key.to_owned())
        }
        Verification::TrustedUnsigned => None,
    };

    let index = parse_index_tar(&content.content)?;
    Ok(IndexFile {
        index,
        signatures,
        verified_by,
    })
}

fn parse_index_tar(tar: &[u8]) -> Result<Index, IndexErrorKind> {
    let tar_error = |e: std::io::Error| IndexErrorKind::Tar(e.to_string());
    let mut archive = tar::Archive::new(tar);
    let mut description = None;
    let mut packages = None;
    for entry in archive.entries().map_err(tar_error)? {
        let mut entry = entry.map_err(tar_error)?;
        let name = entry.path_bytes().into_owned();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).map_err(tar_error)?;
        match name.as_slice() {
            b"APKINDEX" => packages = Some(Index::parse_bytes(&content)?),
            b"DESCRIPTION" => {
                description = Some(String::from_utf8_lossy(&content).trim_end().to_owned());
            }
            // Other entries are ignored, as apk-tools ignores them.
            _ => {}
        }
    }
    let packages = packages.ok_or_else(|| {
        IndexErrorKind::Tar("no APKINDEX entry (is this an APKINDEX.tar.gz?)".to_owned())
    })?;
    Ok(Index {
        description: description.unwrap_or_default(),
        packages,
    })
}

/// Writes an index file: `DESCRIPTION` then `APKINDEX` in one gzip stream, preceded by a
/// signature stream when `signer` is given. Every tar entry has mode 0644, owner 0 and
/// `mtime`, so equal input gives equal bytes.
pub fn write_index(
    index: &Index,
    signer: Option<(&PrivateKey, SignatureAlgorithm)>,
    mtime: u64,
) -> Result<Vec<u8>, IndexErrorKind> {
    let mut builder = tar::Builder::new(Vec::new());
    let text = index.to_text();
    let entries = [
        ("DESCRIPTION", index.description.as_bytes()),
        ("APKINDEX", text.as_bytes()),
    ];
    for (name, content) in entries {
        let mut header = tar_write::file_header(content.len() as u64, 0o644, mtime);
        builder.append_data(&mut header, name, content)?;
    }
    let tar = tar_write::finish_tar(builder, false)?;
    let content = tar_write::gzip(&tar)?;
    let Some((key, algorithm)) = signer else {
        return Ok(content);
    };
    let signature = signature::sign(key, algorithm, &content)?;
    let mut file = signature::signature_stream(&signature, mtime)?;
    file.extend_from_slice(&content);
    Ok(file)
}
