//! Deterministic tar and gzip output shared by the index and package writers.

use std::io::Write as _;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Size of the end-of-archive marker (two zero blocks) that `tar::Builder` appends.
const END_OF_ARCHIVE_BYTES: usize = 1024;

/// Builds tar headers with fixed owner names and times, so output depends only on input.
pub(crate) fn file_header(size: u64, mode: u32, mtime: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    header
}

/// Finishes a tar archive in memory. With `cut`, the end-of-archive marker is removed,
/// as abuild does for the signature and control streams: those streams are followed by
/// more tar data, and the concatenation must read as one archive.
pub(crate) fn finish_tar(builder: tar::Builder<Vec<u8>>, cut: bool) -> std::io::Result<Vec<u8>> {
    let mut bytes = builder.into_inner()?;
    if cut {
        bytes.truncate(bytes.len().saturating_sub(END_OF_ARCHIVE_BYTES));
    }
    Ok(bytes)
}

/// Compresses bytes into one gzip member (header mtime 0, so the output is reproducible).
pub(crate) fn gzip(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes)?;
    encoder.finish()
}
