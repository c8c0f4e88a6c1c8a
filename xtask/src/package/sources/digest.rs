//! Expected checksums of source files (`expected-sha256`, `expected-sha512`) and
//! their computation.

use std::fmt;
use std::io::Read;
use std::path::Path;

use sha2::{Digest as _, Sha256, Sha512};

/// A checksum algorithm accepted for sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    /// Name used in cache paths and messages (`sha256`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// An expected checksum: algorithm and lower-case hex digest.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Lower-case hex digest.
    pub hex: String,
}

/// Error for a checksum that is not hex of the algorithm's length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {algorithm} checksum `{text}`: expected {length} hex digits")]
pub struct InvalidDigest {
    algorithm: &'static str,
    length: usize,
    text: String,
}

impl Digest {
    /// Parses a hex digest for `algorithm`; upper-case digits are accepted.
    pub fn parse(algorithm: Algorithm, text: &str) -> Result<Self, InvalidDigest> {
        let hex = text.trim().to_ascii_lowercase();
        let valid = hex.len() == algorithm.hex_len() && hex.bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(InvalidDigest {
                algorithm: algorithm.name(),
                length: algorithm.hex_len(),
                text: text.to_string(),
            });
        }
        Ok(Digest { algorithm, hex })
    }

    /// Computes the digest of a file with this digest's algorithm.
    pub fn compute_file(algorithm: Algorithm, path: &Path) -> std::io::Result<Digest> {
        let mut file = fs_err::File::open(path)?;
        let mut buffer = vec![0u8; 1 << 16];
        let mut sha256 = Sha256::new();
        let mut sha512 = Sha512::new();
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                break;
            }
            let chunk = buffer.get(..read).unwrap_or_default();
            match algorithm {
                Algorithm::Sha256 => sha256.update(chunk),
                Algorithm::Sha512 => sha512.update(chunk),
            }
        }
        let hex = match algorithm {
            Algorithm::Sha256 => hex::encode(sha256.finalize()),
            Algorithm::Sha512 => hex::encode(sha512.finalize()),
        };
        Ok(Digest { algorithm, hex })
    }

    /// Checks that the file at `path` has this digest; returns the actual one if not.
    pub fn verify_file(&self, path: &Path) -> std::io::Result<Result<(), Digest>> {
        let actual = Digest::compute_file(self.algorithm, path)?;
        Ok(if actual == *self { Ok(()) } else { Err(actual) })
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_parse_checks_length() {
        assert!(Digest::parse(Algorithm::Sha256, &"a".repeat(64)).is_ok());
        assert!(Digest::parse(Algorithm::Sha256, &"a".repeat(63)).is_err());
        assert!(Digest::parse(Algorithm::Sha512, &"g".repeat(128)).is_err());
    }

    #[test]
    fn digest_of_file_matches_known_value() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("abc");
        fs_err::write(&path, b"abc").expect("write");
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let digest = Digest::parse(Algorithm::Sha256, expected).expect("valid digest");
        assert_eq!(digest.verify_file(&path).expect("read"), Ok(()));
    }
}
