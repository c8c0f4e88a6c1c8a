//! Strict YAML reading for catalog files: unknown keys, duplicate keys and wrong types
//! become diagnostics with the file, line and column instead of panics.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::diagnostic::{Diagnostic, Position};

/// Largest catalog file read, in bytes. Real configs are a few kilobytes; the cap keeps a
/// mistaken or hostile file (a log, a binary) from being parsed at all.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Reads and parses one YAML file. `display` is the path printed in diagnostics.
pub fn read<T: DeserializeOwned>(path: &Path, display: &Path) -> Result<T, Diagnostic> {
    let metadata = std::fs::metadata(path).map_err(|error| io_diagnostic(display, &error))?;
    if metadata.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::error(
            display,
            Position::FILE,
            format!(
                "file is {} bytes, more than the {MAX_FILE_BYTES}-byte limit for catalog YAML",
                metadata.len()
            ),
        ));
    }
    let bytes = std::fs::read(path).map_err(|error| io_diagnostic(display, &error))?;
    let text = String::from_utf8(bytes).map_err(|error| {
        let valid = &error.as_bytes()[..error.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|byte| **byte == b'\n').count() as u64 + 1;
        let column = valid
            .iter()
            .rev()
            .take_while(|byte| **byte != b'\n')
            .count() as u64
            + 1;
        Diagnostic::error(
            display,
            Position::new(line, column),
            "invalid UTF-8 byte sequence",
        )
        .with_hint("save the file as UTF-8")
    })?;
    parse(&text, display)
}

/// Parses YAML text; `display` names the file in diagnostics.
pub fn parse<T: DeserializeOwned>(text: &str, display: &Path) -> Result<T, Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::error(display, Position::FILE, "file is empty")
            .with_hint("a catalog YAML file must hold a mapping"));
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|error| {
        // A tab in indentation makes the parser fail somewhere after it, so the tab is
        // looked for only once parsing failed, and reported where it is.
        if let Some(position) = find_tab_indent(text) {
            return Diagnostic::error(display, position, "tab character in indentation")
                .with_hint("YAML indents with spaces only; replace the tab with spaces");
        }
        let position = error
            .location()
            .map(Position::from)
            .unwrap_or(Position::FILE);
        let (message, hint) = describe(&error.to_string());
        let diagnostic = Diagnostic::error(display, position, message);
        match hint {
            Some(hint) => diagnostic.with_hint(hint),
            None => diagnostic,
        }
    })
}

fn options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    // apko reads YAML 1.1, where `0755` is octal; permissions in real configs use it.
    options.legacy_octal_numbers = true;
    options
}

fn io_diagnostic(display: &Path, error: &std::io::Error) -> Diagnostic {
    Diagnostic::error(
        display,
        Position::FILE,
        format!("cannot read file: {error}"),
    )
}

// A tab before the first non-blank character of a line is invalid indentation in YAML.
// The parser reports it too, but at a confusing position, so it is checked up front.
fn find_tab_indent(text: &str) -> Option<Position> {
    for (index, line) in text.lines().enumerate() {
        let indent: String = line
            .chars()
            .take_while(|c| *c == ' ' || *c == '\t')
            .collect();
        if let Some(column) = indent.find('\t') {
            let rest = &line[indent.len()..];
            if !rest.is_empty() && !rest.starts_with('#') {
                return Some(Position::new(index as u64 + 1, column as u64 + 1));
            }
        }
    }
    None
}

// serde-saphyr appends " at line L, column C" to its messages. The position is printed
// separately, so that suffix is cut. Advice meant for library users is replaced with
// advice for someone editing the file.
fn describe(raw: &str) -> (String, Option<String>) {
    let end = [" at line ", " (defined at line ", " (used at line "]
        .iter()
        .filter_map(|marker| raw.find(marker))
        .min()
        .unwrap_or(raw.len());
    let message = raw[..end].trim_end_matches([',', ' ']).to_string();
    if let Some(rest) = message.strip_prefix("duplicate mapping key: ") {
        let key = rest
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest);
        return (
            format!("duplicate key `{key}`"),
            Some("each key may appear once in a mapping; merge the two entries".to_string()),
        );
    }
    if message.starts_with("unknown field") {
        return (
            message,
            Some("check the spelling; unknown keys are rejected".to_string()),
        );
    }
    let translated = [
        (
            "multiple YAML documents",
            "file contains more than one YAML document",
            "remove the `---` line and the document after it",
        ),
        (
            "budget breached",
            "file is too large or too deeply aliased for a catalog file",
            "write the values out without anchors and aliases",
        ),
        (
            "cannot deserialize null",
            "value is missing",
            "write a value after the colon, or remove the key",
        ),
        (
            "span-aware newtype",
            "value has the wrong type",
            "write a plain string, number or list as the key expects",
        ),
        (
            "non-finite float",
            "`.inf` and `.nan` are not allowed here",
            "quote the value if it is text",
        ),
        (
            "invalid u32",
            "expected a whole number from 0 to 4294967295",
            "write a number without quotes or sign",
        ),
        (
            "invalid u64",
            "expected a non-negative whole number",
            "write a number without quotes or sign",
        ),
        (
            "expected sequence start",
            "expected a list",
            "write the items as `- item` lines or `[a, b]`",
        ),
        (
            "expected mapping start",
            "expected a mapping of keys to values",
            "write `key: value` lines",
        ),
    ];
    for (pattern, text, hint) in translated {
        if message.contains(pattern) {
            return (text.to_string(), Some(hint.to_string()));
        }
    }
    (message, None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Sample {
        name: String,
        count: Option<u32>,
    }

    fn parse_error(text: &str) -> Diagnostic {
        match parse::<Sample>(text, Path::new("f.yaml")) {
            Ok(value) => panic!("expected an error, parsed {value:?}"),
            Err(diagnostic) => diagnostic,
        }
    }

    #[test]
    fn yaml_wrong_type_has_position() {
        let diagnostic = parse_error("name: x\ncount: many\n");
        assert_eq!(diagnostic.position, Position::new(2, 8));
        assert!(
            diagnostic.message.contains("whole number"),
            "{}",
            diagnostic.message
        );
        assert!(
            !diagnostic.message.contains(" at line "),
            "{}",
            diagnostic.message
        );
    }

    #[test]
    fn yaml_unknown_key_is_named() {
        let diagnostic = parse_error("name: x\ncuont: 1\n");
        assert!(
            diagnostic.message.contains("cuont"),
            "{}",
            diagnostic.message
        );
        assert_eq!(diagnostic.position.line, 2);
        assert!(diagnostic.hint.is_some());
    }

    #[test]
    fn yaml_duplicate_key_is_named() {
        let diagnostic = parse_error("name: x\nname: y\n");
        assert_eq!(diagnostic.message, "duplicate key `name`");
        assert_eq!(diagnostic.position.line, 2);
    }

    #[test]
    fn yaml_tab_indent_is_found() {
        let diagnostic = parse_error("name: x\n\tcount: 1\n");
        assert_eq!(diagnostic.position, Position::new(2, 1));
        assert!(diagnostic.message.contains("tab"));
    }

    #[test]
    fn yaml_syntax_error_never_panics() {
        for text in [
            "name: [x\n",
            "name: {a: \n",
            ": : :\n",
            "- a\nname: b\n",
            "name: 'x\n",
            "&a [*a]\n",
            "\u{0}",
        ] {
            let result = parse::<Sample>(text, Path::new("f.yaml"));
            assert!(result.is_err(), "{text:?} parsed");
        }
    }

    #[test]
    fn yaml_tab_in_block_scalar_is_text() {
        let parsed = parse::<Sample>("name: |\n  a\n  \tb\n", Path::new("f.yaml"));
        assert!(parsed.is_ok(), "{parsed:?}");
    }

    #[test]
    fn yaml_library_wording_is_replaced() {
        let diagnostic = parse_error("name: x\n---\nname: y\n");
        assert_eq!(
            diagnostic.message,
            "file contains more than one YAML document"
        );
        let diagnostic = parse_error("name: x\ncount: -1\n");
        assert!(
            diagnostic.message.starts_with("expected a whole number"),
            "{}",
            diagnostic.message
        );
        assert!(diagnostic.hint.is_some());
    }

    #[test]
    fn yaml_empty_file_is_rejected() {
        assert_eq!(parse_error("  \n").message, "file is empty");
    }
}
