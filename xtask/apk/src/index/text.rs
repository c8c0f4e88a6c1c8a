//! The `APKINDEX` text: package blocks of `X:value` lines separated by blank lines.

use crate::package_info::{FieldError, PackageInfo, split_field};

/// Errors from parsing `APKINDEX` text.
#[derive(Debug, thiserror::Error)]
pub enum IndexTextError {
    /// A field is invalid.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The text is not UTF-8.
    #[error("the text is not valid UTF-8 (byte {offset})")]
    Utf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
}

/// The content of an index: the repository description and its packages, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Index {
    /// The `DESCRIPTION` entry, such as `v3.17.3-244-g2ec36bbd4f`.
    pub description: String,
    /// The packages.
    pub packages: Vec<PackageInfo>,
}

impl Index {
    /// Parses `APKINDEX` text. Blank lines separate packages, and a missing final blank
    /// line is accepted.
    pub fn parse_text(text: &str) -> Result<Vec<PackageInfo>, IndexTextError> {
        let mut packages = Vec::new();
        let mut block: Vec<(usize, char, &str)> = Vec::new();
        let mut block_start = 1;
        for (index, line) in text.split('\n').enumerate() {
            let line_number = index + 1;
            if line.is_empty() {
                if !block.is_empty() {
                    let fields = std::mem::take(&mut block);
                    packages.push(PackageInfo::from_fields(block_start, fields)?);
                }
                block_start = line_number + 1;
                continue;
            }
            let (field, value) = split_field(line_number, line)?;
            block.push((line_number, field, value));
        }
        if !block.is_empty() {
            packages.push(PackageInfo::from_fields(block_start, block)?);
        }
        Ok(packages)
    }

    /// Parses `APKINDEX` bytes, rejecting invalid UTF-8.
    pub fn parse_bytes(bytes: &[u8]) -> Result<Vec<PackageInfo>, IndexTextError> {
        let text = std::str::from_utf8(bytes).map_err(|e| IndexTextError::Utf8 {
            offset: e.valid_up_to(),
        })?;
        Self::parse_text(text)
    }

    /// Returns the `APKINDEX` text: every package block followed by a blank line.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for package in &self.packages {
            package.write_fields(&mut out);
            out.push('\n');
        }
        out
    }

    /// Sorts packages by name, then version, then architecture, for reproducible output
    /// regardless of the order packages were added in.
    pub fn sort(&mut self) {
        self.packages.sort_by(|a, b| {
            (a.name.as_str(), &a.version, a.arch.as_str()).cmp(&(
                b.name.as_str(),
                &b.version,
                b.arch.as_str(),
            ))
        });
    }
}
