//! Locating catalog files on disk. Every file the catalog names must be a regular file
//! inside the catalog root once symlinks are resolved. A symlink or a `../` path thus
//! cannot make the tool read a file from elsewhere on the machine.

use std::path::{Component, Path, PathBuf};

/// Reason a path named by the catalog cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathProblem {
    #[error("`{0}` must be relative to the catalog root, not absolute")]
    Absolute(String),
    #[error("`{0}` not found")]
    NotFound(String),
    #[error("`{0}` is not a regular file")]
    NotAFile(String),
    #[error("`{path}` resolves to `{target}`, outside the catalog")]
    Outside { path: String, target: String },
    #[error("cannot read `{path}`: {reason}")]
    Unreadable { path: String, reason: String },
}

impl PathProblem {
    /// Returns a fix for the problem, for the diagnostic's hint line.
    pub fn hint(&self) -> &'static str {
        match self {
            PathProblem::Absolute(_) => {
                "write the path from the catalog root, like `images/app/configs/base.apko.yaml`"
            }
            PathProblem::NotFound(_) => "create the file or fix the path",
            PathProblem::NotAFile(_) => "point at a file, not a folder or device",
            PathProblem::Outside { .. } => {
                "keep every catalog file inside the repository; copy it in instead of linking"
            }
            PathProblem::Unreadable { .. } => "check the file's permissions",
        }
    }
}

/// Normalizes a relative path lexically: drops `.` components and resolves `..` against
/// earlier components. Returns `None` when `..` would climb above the start.
pub fn normalize(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::Normal(part) => parts.push(part),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// Checks that `relative` names a regular file inside `root` and returns its normalized
/// relative path.
pub fn file_inside(root: &Path, relative: &Path) -> Result<PathBuf, PathProblem> {
    let display = relative.display().to_string();
    if relative.is_absolute() {
        return Err(PathProblem::Absolute(display));
    }
    let outside = || PathProblem::Outside {
        path: display.clone(),
        target: "a folder above the root".to_string(),
    };
    let normalized = normalize(relative).ok_or_else(outside)?;
    let full = root.join(&normalized);
    let metadata = match std::fs::metadata(&full) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(PathProblem::NotFound(display));
        }
        Err(error) => {
            return Err(PathProblem::Unreadable {
                path: display,
                reason: error.to_string(),
            });
        }
    };
    if !metadata.is_file() {
        return Err(PathProblem::NotAFile(display));
    }
    check_inside(root, &full, &display)?;
    Ok(normalized)
}

/// Checks that `full` (a path under `root`) still lies inside `root` once symlinks are
/// resolved.
pub fn check_inside(root: &Path, full: &Path, display: &str) -> Result<(), PathProblem> {
    let unreadable = |error: std::io::Error| PathProblem::Unreadable {
        path: display.to_string(),
        reason: error.to_string(),
    };
    let canonical_root = root.canonicalize().map_err(unreadable)?;
    let target = full.canonicalize().map_err(unreadable)?;
    if target.starts_with(&canonical_root) {
        Ok(())
    } else {
        Err(PathProblem::Outside {
            path: display.to_string(),
            target: target.display().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots() {
        assert_eq!(
            normalize(Path::new("./a/b/../c")),
            Some(PathBuf::from("a/c"))
        );
        assert_eq!(normalize(Path::new("a/../../b")), None);
        assert_eq!(normalize(Path::new("/etc/passwd")), None);
    }

    #[test]
    fn file_inside_rejects_escapes() {
        let root = tempfile::tempdir().expect("temp dir");
        let outside = tempfile::tempdir().expect("temp dir");
        std::fs::write(outside.path().join("secret"), "x").expect("write");
        std::fs::write(root.path().join("inside"), "x").expect("write");
        std::os::unix::fs::symlink(outside.path().join("secret"), root.path().join("link"))
            .expect("symlink");
        std::fs::create_dir(root.path().join("dir")).expect("mkdir");

        assert_eq!(
            file_inside(root.path(), Path::new("./inside")),
            Ok(PathBuf::from("inside"))
        );
        assert!(matches!(
            file_inside(root.path(), Path::new("link")),
            Err(PathProblem::Outside { .. })
        ));
        assert!(matches!(
            file_inside(root.path(), Path::new("../x")),
            Err(PathProblem::Outside { .. })
        ));
        assert!(matches!(
            file_inside(root.path(), Path::new("/etc/passwd")),
            Err(PathProblem::Absolute(_))
        ));
        assert!(matches!(
            file_inside(root.path(), Path::new("dir")),
            Err(PathProblem::NotAFile(_))
        ));
        assert!(matches!(
            file_inside(root.path(), Path::new("missing")),
            Err(PathProblem::NotFound(_))
        ));
    }
}
