//! Generated sections inside hand-written Markdown: a section starts at a line holding
//! only its begin marker and ends at a line holding only its end marker. Everything
//! outside the two marker lines is kept byte for byte.

/// Marker lines around the release-status table in the root `README.md`.
pub const TABLE_MARKERS: Markers = Markers {
    begin: "<!-- BEGIN RELEASE TABLE -->",
    end: "<!-- END RELEASE TABLE -->",
};

/// Marker lines around the generated header of an image README.
pub const HEADER_MARKERS: Markers = Markers {
    begin: "<!-- BEGIN GENERATED HEADER -->",
    end: "<!-- END GENERATED HEADER -->",
};

/// The begin and end marker of one kind of generated section.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Markers {
    /// The line that opens the section.
    pub begin: &'static str,
    /// The line that closes the section.
    pub end: &'static str,
}

/// Failure to locate a document's generated section.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MarkerError {
    /// Neither marker is present.
    #[error("no generated section")]
    Missing,
    /// A marker is present more than once; `line` is the second occurrence.
    #[error("line {line}: duplicate marker `{marker}`")]
    Duplicate {
        /// Line of the second occurrence, starting at 1.
        line: usize,
        /// The marker found twice.
        marker: &'static str,
    },
    /// Only one of the two markers is present.
    #[error("marker `{found}` has no matching `{missing}`")]
    Unpaired {
        /// The marker that is present.
        found: &'static str,
        /// The marker that is absent.
        missing: &'static str,
    },
    /// The end marker comes before the begin marker.
    #[error("line {line}: end marker `{marker}` comes before the begin marker")]
    Order {
        /// Line of the end marker, starting at 1.
        line: usize,
        /// The end marker.
        marker: &'static str,
    },
}

/// Byte range of the text between the two marker lines.
struct Section {
    start: usize,
    end: usize,
}

impl Markers {
    /// Returns `document` with the text between the marker lines replaced by `body`,
    /// which should end with a newline.
    pub fn replace(&self, document: &str, body: &str) -> Result<String, MarkerError> {
        let section = self.locate(document)?;
        let mut output = String::with_capacity(document.len() + body.len());
        output.push_str(&document[..section.start]);
        output.push_str(body);
        output.push_str(&document[section.end..]);
        Ok(output)
    }

    /// Returns `body` between the two marker lines, as a new section would be written.
    pub fn wrap(&self, body: &str) -> String {
        format!("{}\n{body}{}\n", self.begin, self.end)
    }

    fn locate(&self, document: &str) -> Result<Section, MarkerError> {
        let mut begin = None;
        let mut end = None;
        let mut offset = 0;
        for (index, line) in document.split_inclusive('\n').enumerate() {
            let text = line.trim();
            let line_number = index + 1;
            if text == self.begin {
                if begin.is_some() {
                    return Err(self.duplicate(line_number, self.begin));
                }
                begin = Some(offset + line.len());
            } else if text == self.end {
                if end.is_some() {
                    return Err(self.duplicate(line_number, self.end));
                }
                if begin.is_none() {
                    return Err(MarkerError::Order {
                        line: line_number,
                        marker: self.end,
                    });
                }
                end = Some(offset);
            }
            offset += line.len();
        }
        self.pair(begin, end)
    }

    fn duplicate(&self, line: usize, marker: &'static str) -> MarkerError {
        MarkerError::Duplicate { line, marker }
    }

    fn pair(&self, begin: Option<usize>, end: Option<usize>) -> Result<Section, MarkerError> {
        match (begin, end) {
            (Some(start), Some(end)) => Ok(Section { start, end }),
            (None, None) => Err(MarkerError::Missing),
            (Some(_), None) => Err(MarkerError::Unpaired {
                found: self.begin,
                missing: self.end,
            }),
            (None, Some(_)) => Err(MarkerError::Unpaired {
                found: self.end,
                missing: self.begin,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARKERS: Markers = TABLE_MARKERS;

    #[test]
    fn replace_keeps_outside_text() {
        let document = "# Title\r\n\nintro  \n<!-- BEGIN RELEASE TABLE -->\nold\nrows\n  <!-- END RELEASE TABLE -->  \ntail without newline";
        let replaced = MARKERS.replace(document, "new\n").expect("markers present");
        let expected = "# Title\r\n\nintro  \n<!-- BEGIN RELEASE TABLE -->\nnew\n  <!-- END RELEASE TABLE -->  \ntail without newline";
        assert_eq!(replaced, expected);
    }

    #[test]
    fn replace_empty_section() {
        let document = "<!-- BEGIN RELEASE TABLE -->\n<!-- END RELEASE TABLE -->\n";
        let replaced = MARKERS.replace(document, "row\n").expect("markers present");
        assert_eq!(replaced, MARKERS.wrap("row\n"));
    }

    #[test]
    fn inline_marker_text_is_not_a_marker() {
        let document = "Put `<!-- BEGIN RELEASE TABLE -->` on its own line.\n";
        assert_eq!(MARKERS.replace(document, ""), Err(MarkerError::Missing));
    }

    #[test]
    fn marker_errors() {
        let begin = MARKERS.begin;
        let end = MARKERS.end;
        let cases = [
            (
                format!("{begin}\n"),
                MarkerError::Unpaired {
                    found: begin,
                    missing: end,
                },
            ),
            (
                format!("text\n{end}\n"),
                MarkerError::Order {
                    line: 2,
                    marker: end,
                },
            ),
            (
                format!("{begin}\n{begin}\n{end}\n"),
                MarkerError::Duplicate {
                    line: 2,
                    marker: begin,
                },
            ),
            (
                format!("{begin}\n{end}\n{end}\n"),
                MarkerError::Duplicate {
                    line: 3,
                    marker: end,
                },
            ),
        ];
        for (document, expected) in cases {
            assert_eq!(
                MARKERS.replace(&document, ""),
                Err(expected),
                "{document:?}"
            );
        }
    }
}
