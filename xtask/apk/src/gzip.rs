//! Splitting a file into its concatenated gzip streams (members).
//!
//! Indexes and packages are several gzip members back to back, and signatures and
//! checksums cover the compressed bytes of individual members. `flate2`'s
//! `MultiGzDecoder` hides the member boundaries, so this module decodes one member at a
//! time with `flate2::bufread::GzDecoder` over a byte slice: that decoder consumes
//! exactly the bytes of one member (header, deflate data and the 8-byte trailer), so the
//! slice left behind starts at the next member.

use std::io::Read;
use std::ops::Range;

use flate2::bufread::GzDecoder;

/// Errors from decoding gzip members.
#[derive(Debug, thiserror::Error)]
pub enum GzipError {
    /// A member is not valid gzip, or is cut short.
    #[error("gzip stream {index} at byte {offset} is corrupt")]
    Corrupt {
        /// Zero-based member number.
        index: usize,
        /// Byte offset of the member in the file.
        offset: usize,
        /// The decoder error.
        #[source]
        source: std::io::Error,
    },
    /// A member decompresses to more than the cap for its role.
    #[error("gzip stream {index} decompresses to more than {limit} bytes")]
    TooLarge {
        /// Zero-based member number.
        index: usize,
        /// The cap in bytes.
        limit: u64,
    },
    /// The file contains more members than its format allows.
    #[error("the file contains more than {limit} gzip streams")]
    TooManyStreams {
        /// The max number of members.
        limit: usize,
    },
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
}

/// One decoded gzip member.
#[derive(Debug, Clone)]
pub struct Member {
    /// The compressed bytes of this member within the file.
    pub range: Range<usize>,
    /// The decompressed content.
    pub content: Vec<u8>,
}

/// Decodes the member that starts at `offset`, refusing to decompress more than `limit`
/// bytes so that a gzip bomb costs at most `limit` bytes of memory.
pub fn decode_member(
    file: &[u8],
    offset: usize,
    index: usize,
    limit: u64,
) -> Result<Member, GzipError> {
    let mut rest = file.get(offset..).unwrap_or_default();
    let corrupt = |source| GzipError::Corrupt {
        index,
        offset,
        source,
    };
    let mut content = Vec::new();
    let mut decoder = GzDecoder::new(&mut rest);
    (&mut decoder)
        .take(limit.saturating_add(1))
        .read_to_end(&mut content)
        .map_err(corrupt)?;
    if content.len() as u64 > limit {
        return Err(GzipError::TooLarge { index, limit });
    }
    drop(decoder);
    let end = file.len() - rest.len();
    Ok(Member {
        range: offset..end,
        content,
    })
}

/// Decodes every member of `file`, with `limits[i]` capping the decompressed size of
/// member `i`. More members than `limits.len()` is an error.
pub fn decode_all(file: &[u8], limits: &[u64]) -> Result<Vec<Member>, GzipError> {
    if file.is_empty() {
        return Err(GzipError::Empty);
    }
    let mut members = Vec::new();
    let mut offset = 0;
    while offset < file.len() {
        let index = members.len();
        let Some(&limit) = limits.get(index) else {
            return Err(GzipError::TooManyStreams {
                limit: limits.len(),
            });
        };
        let member = decode_member(file, offset, index, limit)?;
        offset = member.range.end;
        members.push(member);
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::Compression;
    use flate2::write::GzEncoder;

    use super::*;

    fn gzip(content: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(content).expect("write to memory");
        encoder.finish().expect("finish gzip in memory")
    }

    #[test]
    fn members_keep_exact_boundaries() {
        let first = gzip(b"first");
        let second = gzip(b"second member");
        let file = [first.clone(), second.clone()].concat();
        let members = decode_all(&file, &[100, 100]).expect("two valid members");
        assert_eq!(members.len(), 2);
        assert_eq!(members[0].range, 0..first.len());
        assert_eq!(members[1].range, first.len()..file.len());
        assert_eq!(members[0].content, b"first");
        assert_eq!(members[1].content, b"second member");
    }

    #[test]
    fn too_many_members_rejected() {
        let file = [gzip(b"a"), gzip(b"b")].concat();
        let error = decode_all(&file, &[100]).expect_err("only one member allowed");
        assert!(matches!(error, GzipError::TooManyStreams { limit: 1 }));
    }

    #[test]
    fn bomb_stops_at_limit() {
        let file = gzip(&vec![0; 1 << 20]);
        let error = decode_all(&file, &[1000]).expect_err("over the limit");
        assert!(matches!(error, GzipError::TooLarge { limit: 1000, .. }));
    }

    #[test]
    fn truncated_member_rejected() {
        let file = gzip(b"some content that compresses");
        let cut = file.get(..file.len() - 3).expect("non-empty gzip");
        assert!(decode_all(cut, &[100]).is_err());
    }

    #[test]
    fn trailing_garbage_rejected() {
        let mut file = gzip(b"a");
        file.extend_from_slice(b"garbage");
        assert!(decode_all(&file, &[100, 100]).is_err());
    }
}
