//! Repository indexes: the `APKINDEX` text and the signed `APKINDEX.tar.gz` file.

mod archive;
mod text;

pub use archive::{IndexFile, Verification, read_index, read_index_file, write_index};
pub use text::{Index, IndexTextError};

/// Errors from reading or writing an index file. The message names the file first.
#[derive(Debug, thiserror::Error)]
#[error("index `{file}`: {kind}")]
pub struct IndexError {
    /// The file path or URL, as given by the caller.
    pub file: String,
    /// The failed step.
    #[source]
    pub kind: IndexErrorKind,
}

/// The failed step of reading or writing an index.
#[derive(Debug, thiserror::Error)]
pub enum IndexErrorKind {
    /// The file could not be read or written.
    #[error("I/O failed: {0}")]
    Io(#[from] std::io::Error),
    /// The file is larger than [`crate::limits::MAX_INDEX_FILE_BYTES`].
    #[error("the file is larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The gzip streams are corrupt or too large.
    #[error("gzip check failed: {0}")]
    Gzip(#[from] crate::gzip::GzipError),
    /// The signature is missing, untrusted or wrong.
    #[error("signature check failed: {0}")]
    Signature(#[from] crate::signature::SignatureError),
    /// The tar inside is malformed or lacks `APKINDEX`.
    #[error("invalid tar content: {0}")]
    Tar(String),
    /// The `APKINDEX` text is invalid.
    #[error("invalid APKINDEX text: {0}")]
    Text(#[from] IndexTextError),
}

#[cfg(test)]
mod tests;
