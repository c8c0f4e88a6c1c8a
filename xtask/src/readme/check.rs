//! Write and check modes for generated README files.

use std::path::{Path, PathBuf};

use similar::TextDiff;

use super::error::ReadmeError;
use super::plan::GeneratedFile;

/// Writes every stale file under `root`, creating missing folders, and returns the
/// paths written, relative to `root`. Files are replaced atomically.
pub fn write_files(root: &Path, files: &[GeneratedFile]) -> Result<Vec<String>, ReadmeError> {
    let mut written = Vec::new();
    for file in files.iter().filter(|file| file.is_stale()) {
        let path = root.join(&file.path);
        write_atomic(&path, &file.expected).map_err(|source| ReadmeError::Write {
            path: path.clone(),
            source,
        })?;
        tracing::debug!(path = %path.display(), "wrote README");
        written.push(file.path.clone());
    }
    Ok(written)
}

fn write_atomic(path: &Path, contents: &str) -> std::io::Result<()> {
    let folder = path
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_owned);
    fs_err::create_dir_all(&folder)?;
    let mut file = tempfile::NamedTempFile::new_in(&folder)?;
    std::io::Write::write_all(&mut file, contents.as_bytes())?;
    file.persist(path).map_err(|error| error.error)?;
    Ok(())
}

/// Returns a unified diff from the file on disk to the generated contents for each
/// stale file, in path order. A missing file diffs against `/dev/null`.
pub fn stale_diffs(files: &[GeneratedFile]) -> Vec<String> {
    files
        .iter()
        .filter(|file| file.is_stale())
        .map(unified_diff)
        .collect()
}

fn unified_diff(file: &GeneratedFile) -> String {
    let current = file.current.as_deref().unwrap_or_default();
    let old_header = match file.current {
        Some(_) => format!("a/{}", file.path),
        None => "/dev/null".to_owned(),
    };
    let new_header = format!("b/{}", file.path);
    TextDiff::from_lines(current, file.expected.as_str())
        .unified_diff()
        .context_radius(3)
        .header(&old_header, &new_header)
        .to_string()
}

/// Returns the command that regenerates the files: `cargo xtask readme`, with
/// `-C DIR` when the catalog is not the current directory, and `flags`.
pub fn fix_command(directory: Option<&Path>, flags: &[String]) -> String {
    let mut command = "cargo xtask".to_owned();
    if let Some(directory) = directory {
        command.push_str(" -C ");
        command.push_str(&shell_quote(&directory.display().to_string()));
    }
    command.push_str(" readme");
    for flag in flags {
        command.push(' ');
        command.push_str(&shell_quote(flag));
    }
    command
}

/// Quotes a word for a POSIX shell when it contains anything but safe characters.
fn shell_quote(text: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "/._-+,:@".contains(c);
    if !text.is_empty() && text.chars().all(safe) {
        return text.to_owned();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fix_command_quotes_directory() {
        assert_eq!(fix_command(None, &[]), "cargo xtask readme");
        let plain = fix_command(Some(Path::new("../catalog")), &[]);
        assert_eq!(plain, "cargo xtask -C ../catalog readme");
        let spaced = fix_command(Some(Path::new("my catalog's")), &[]);
        assert_eq!(spaced, r"cargo xtask -C 'my catalog'\''s' readme");
        let flags = ["--github".to_owned(), "--run-id".to_owned(), "7".to_owned()];
        let with_flags = fix_command(None, &flags);
        assert_eq!(with_flags, "cargo xtask readme --github --run-id 7");
    }

    #[test]
    fn diff_of_missing_file() {
        let file = GeneratedFile {
            path: "images/static/README.md".into(),
            current: None,
            expected: "line\n".into(),
        };
        let diffs = stale_diffs(std::slice::from_ref(&file));
        assert_eq!(diffs.len(), 1);
        assert!(
            diffs[0].starts_with("--- /dev/null\n+++ b/images/static/README.md\n"),
            "{}",
            diffs[0]
        );
        assert!(diffs[0].contains("+line\n"), "{}", diffs[0]);
    }
}
