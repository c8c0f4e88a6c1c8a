//! Fixed rules for paths that no image or recipe of the graph names: inputs of every
//! build, and files that reach no image.

use std::path::{Component, Path};

/// The role of a path in image builds, decided by its location alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PathRole {
    /// An input of every build: catalog settings, the release tool, its toolchain
    /// settings and the CI that runs it.
    Global,
    /// Documentation or repository metadata that no build reads.
    Inert,
    /// A file under `packages/`, which belongs to a recipe.
    Package,
    /// A file inside an image folder, `images/<name>/`.
    Image,
    /// Anything else.
    Unknown,
}

/// Top-level files that every build reads.
const GLOBAL_FILES: &[&str] = &["catalog.yaml", "Cargo.toml", "Cargo.lock"];

/// Folders whose content every build reads: the release tool, cargo settings, the
/// workflows and composite actions that run the tool, and the CI scripts.
const GLOBAL_DIRS: &[&str] = &[
    "xtask",
    ".cargo",
    ".github/workflows",
    ".github/actions",
    ".ci",
];

/// Folders that no build reads. The rest of `.github/` contains issue templates, code
/// owners and bot settings.
const INERT_DIRS: &[&str] = &["docs", ".github"];

/// Top-level files that no build reads. `releases.json` records what the release
/// workflow published and is committed after it, so counting it would rebuild every
/// image after each release. `.gitattributes` is not among them, because it can change
/// the content of a checkout (line endings, LFS).
const INERT_FILES: &[&str] = &["releases.json", ".gitignore", ".editorconfig"];

/// Classifies `path`, relative to the catalog root.
pub(crate) fn role(path: &Path) -> PathRole {
    let Some(first) = first_component(path) else {
        return PathRole::Unknown;
    };
    let top_level_file = path.components().count() == 1;

    if (top_level_file && GLOBAL_FILES.contains(&first)) || is_under_any(path, GLOBAL_DIRS) {
        return PathRole::Global;
    }
    if is_in_image_folder(path) {
        return PathRole::Image;
    }
    if is_documentation(path) || is_under_any(path, INERT_DIRS) {
        return PathRole::Inert;
    }
    if top_level_file && (INERT_FILES.contains(&first) || is_license(first)) {
        return PathRole::Inert;
    }
    if first == "packages" && !top_level_file {
        return PathRole::Package;
    }
    // Unknown inputs are treated as inputs to be safe: a new top-level folder may hold
    // files that configs include or scripts the build runs, and a missed rebuild ships a
    // stale image while an extra one only costs time.
    PathRole::Unknown
}

/// Returns whether `path` is documentation. Markdown inside an image folder is not,
/// because the image's README is part of what that image publishes.
fn is_documentation(path: &Path) -> bool {
    let markdown = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("md"));
    markdown && !is_in_image_folder(path)
}

/// Returns whether `path` lies inside `images/<name>/`, not directly in `images/`.
fn is_in_image_folder(path: &Path) -> bool {
    first_component(path) == Some("images") && path.components().count() >= 3
}

fn is_license(file_name: &str) -> bool {
    let upper = file_name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING", "NOTICE"]
        .iter()
        .any(|prefix| upper.starts_with(prefix))
}

fn is_under_any(path: &Path, dirs: &[&str]) -> bool {
    dirs.iter()
        .any(|dir| path.starts_with(dir) && path != Path::new(dir))
}

fn first_component(path: &Path) -> Option<&str> {
    match path.components().next()? {
        Component::Normal(name) => name.to_str(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::{PathRole, role};
    use std::path::Path;

    #[test]
    fn role_of_paths() {
        let cases = [
            ("catalog.yaml", PathRole::Global),
            ("Cargo.toml", PathRole::Global),
            ("Cargo.lock", PathRole::Global),
            ("xtask/src/main.rs", PathRole::Global),
            (".cargo/config.toml", PathRole::Global),
            (".github/workflows/release.yaml", PathRole::Global),
            (".github/actions/setup/action.yaml", PathRole::Global),
            (".ci/run", PathRole::Global),
            ("README.md", PathRole::Inert),
            ("docs/benchmarks.md", PathRole::Inert),
            ("docs/diagram.svg", PathRole::Inert),
            ("packages/README.md", PathRole::Inert),
            ("images/README.md", PathRole::Inert),
            ("LICENSE", PathRole::Inert),
            ("LICENSE-APACHE", PathRole::Inert),
            (".gitignore", PathRole::Inert),
            ("releases.json", PathRole::Inert),
            (".github/CODEOWNERS", PathRole::Inert),
            ("images/nginx/image.yaml", PathRole::Image),
            ("images/nginx/README.md", PathRole::Image),
            ("images/nginx/tests/run.sh", PathRole::Image),
            ("packages/nginx.yaml", PathRole::Package),
            ("packages/nginx/fix.patch", PathRole::Package),
            ("images/stray.yaml", PathRole::Unknown),
            ("Makefile", PathRole::Unknown),
            ("common/base.apko.yaml", PathRole::Unknown),
            (".gitattributes", PathRole::Unknown),
            ("catalog.yaml/nested", PathRole::Unknown),
        ];
        for (path, expected) in cases {
            assert_eq!(role(Path::new(path)), expected, "path `{path}`");
        }
    }
}
