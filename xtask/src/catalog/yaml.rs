//! Strict YAML reading for catalog files: unknown keys, duplicate keys and wrong types
//! become diagnostics with the file, line and column, never panics.

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
    let text = std::fs::read_to_string(path).map_err(|error| io_diagnostic(display, &error))?;
    parse(&text, display)
}

/// Parses YAML text; `display` names the file in diagnostics.
pub fn parse<T: DeserializeOwned>(text: &str, display: &Path) -> Result<T, Diagnostic> {
    if text.trim().is_empty() {
        return Err(Diagnostic::error(display, Position::FILE, "file is empty")
            .with_hint("a catalog YAML file must hold a mapping"));
    }
    if let Some(position) = find_tab_indent(text) {
        return Err(
            Diagnostic::error(display, position, "tab character in indentation")
                .with_hint("YAML indents with spaces only; replace the tab with spaces"),
        );
    }
    serde_saphyr::from_str_with_options(text, options()).map_err(|error| {
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
    let message = match raw.rfind(" at line ") {
        Some(index) => raw[..index].to_string(),
        None => raw.to_string(),
    };
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
        assert!(diagnostic.message.contains("u32"), "{}", diagnostic.message);
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
    fn yaml_empty_file_is_rejected() {
        assert_eq!(parse_error("  \n").message, "file is empty");
    }
}
