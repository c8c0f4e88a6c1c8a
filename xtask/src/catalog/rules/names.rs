//! Naming rules for images, variants, tags and recipes.

use std::path::Path;

use crate::catalog::diagnostic::{Diagnostic, Diagnostics, Position};
use crate::catalog::recipe::{RecipeFile, VersionValue};

/// Config files are named `<variant>.apko.yaml`.
const CONFIG_SUFFIX: &str = ".apko.yaml";

/// Returns whether `part` is a valid path component of an OCI repository name: lowercase
/// alphanumerics separated by one `.`, one or two `_`, or any number of `-`
/// (OCI distribution spec, "Pulling manifests").
pub fn is_repository_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut index = 0;
    while index < bytes.len() {
        if alnum(bytes[index]) {
            index += 1;
            continue;
        }
        let start = index;
        while index < bytes.len() && !alnum(bytes[index]) {
            index += 1;
        }
        let separator = &part[start..index];
        let valid = separator == "."
            || separator == "_"
            || separator == "__"
            || separator.bytes().all(|b| b == b'-');
        if !valid {
            return false;
        }
    }
    true
}

/// Returns whether `tag` is a valid OCI tag: `[A-Za-z0-9_][A-Za-z0-9._-]{0,127}`.
pub fn is_valid_tag(tag: &str) -> bool {
    let mut chars = tag.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    first_ok
        && tag.len() <= 128
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

pub fn check_tag(tag: &str, file: &Path, position: Position, diagnostics: &mut Diagnostics) {
    if !is_valid_tag(tag) {
        diagnostics.push(
            Diagnostic::error(file, position, format!("invalid tag `{tag}`"))
                .with_hint("tags are up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`"),
        );
    }
}

pub fn check_image_name(name: &str, dir: &Path, diagnostics: &mut Diagnostics) {
    if !is_repository_component(name) {
        diagnostics.push(
            Diagnostic::error(dir, Position::FILE, format!("invalid image folder name `{name}`"))
                .with_hint("the folder name becomes the registry repository: use lowercase letters, digits and `-`"),
        );
    }
}

/// Returns the variant name of a config path (`configs/latest.apko.yaml` gives `latest`),
/// or reports why the path is not a valid config name.
pub fn variant_name(
    config: &str,
    file: &Path,
    position: Position,
    diagnostics: &mut Diagnostics,
) -> Option<String> {
    let path = Path::new(config);
    let in_configs = path.parent() == Some(Path::new("configs"));
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(stem) = file_name.strip_suffix(CONFIG_SUFFIX).filter(|_| in_configs) else {
        diagnostics.push(
            Diagnostic::error(file, position, format!("config path `{config}` is not `configs/<variant>{CONFIG_SUFFIX}`"))
                .with_hint("keep each variant's apko config in the image's `configs/` folder, named after the variant"),
        );
        return None;
    };
    if !is_valid_tag(stem) {
        diagnostics.push(
            Diagnostic::error(
                file,
                position,
                format!("variant name `{stem}` is not a valid tag"),
            )
            .with_hint("use letters, digits, `_`, `.` and `-`"),
        );
        return None;
    }
    Some(stem.to_string())
}

/// Checks a recipe's file name, package name and version.
pub fn check_recipe(recipe: &RecipeFile, path: &Path, diagnostics: &mut Diagnostics) {
    let name = &recipe.package.name;
    if !is_package_name(&name.value) {
        diagnostics.push(
            Diagnostic::error(path, name.referenced.into(), format!("invalid package name `{}`", name.value))
                .with_hint("package names use lowercase letters, digits and `+`, `-`, `_`, `.`, starting with a letter or digit"),
        );
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if stem != name.value {
        diagnostics.push(
            Diagnostic::error(
                path,
                name.referenced.into(),
                format!("recipe for `{}` is in `{}`", name.value, path.display()),
            )
            .with_hint(format!("name the file `packages/{}.yaml`", name.value)),
        );
    }
    if let VersionValue::Float(number) = recipe.package.version.value {
        diagnostics.push(
            Diagnostic::error(
                path,
                recipe.package.version.referenced.into(),
                format!("version {number} is written as a number"),
            )
            .with_hint("quote it, like `\"1.10\"`: YAML reads `1.10` as the number 1.1"),
        );
    }
    let version = recipe.package.version.value.text();
    if !is_package_version(&version) {
        diagnostics.push(
            Diagnostic::error(path, recipe.package.version.referenced.into(), format!("invalid package version `{version}`"))
                .with_hint("apk versions look like `1.2.3`, `1.2.3a`, `1.2_rc1` or `1.2_p3`; the release goes in `epoch`"),
        );
    }
    for subpackage in &recipe.subpackages {
        if !is_package_name(&subpackage.name.value) && !subpackage.name.value.contains("${{") {
            diagnostics.push(Diagnostic::error(
                path,
                subpackage.name.referenced.into(),
                format!("invalid subpackage name `{}`", subpackage.name.value),
            ));
        }
    }
}

fn is_package_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '_' | '.')
        })
}

// TODO: use the APK engine's version parser once it is in the workspace, so that lint and
// the resolver agree on every edge case.
/// Whether `version` is an apk version without the `-rN` release: dot-separated numbers,
/// one optional letter, then `_suffix[N]` parts.
fn is_package_version(version: &str) -> bool {
    const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
    let (numbers, suffixes) = version
        .split_once('_')
        .map_or((version, ""), |(n, s)| (n, s));
    let numbers = numbers
        .strip_suffix(|c: char| c.is_ascii_lowercase())
        .unwrap_or(numbers);
    let numbers_ok = !numbers.is_empty()
        && numbers
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    let suffixes_ok = suffixes.is_empty()
        || suffixes.split('_').all(|suffix| {
            let word = suffix.trim_end_matches(|c: char| c.is_ascii_digit());
            SUFFIXES.contains(&word)
        });
    numbers_ok && suffixes_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_component_rules() {
        for good in ["nginx", "gcc-musl", "a.b", "a_b", "a__b", "a---b", "jdk17"] {
            assert!(is_repository_component(good), "{good}");
        }
        for bad in [
            "", "Nginx", "-a", "a-", "a..b", "a___b", "a/b", "a b", "a.-b",
        ] {
            assert!(!is_repository_component(bad), "{bad}");
        }
    }

    #[test]
    fn tag_rules() {
        assert!(is_valid_tag("latest"));
        assert!(is_valid_tag("1.20-dev"));
        assert!(is_valid_tag("_x"));
        assert!(!is_valid_tag("-x"));
        assert!(!is_valid_tag(".x"));
        assert!(!is_valid_tag("a:b"));
        assert!(!is_valid_tag(&"a".repeat(129)));
    }

    #[test]
    fn package_version_rules() {
        for good in [
            "1",
            "1.2.3",
            "1.2.3a",
            "1.0_rc1",
            "2.0_p3",
            "1.2_alpha_pre2",
            "20230101",
        ] {
            assert!(is_package_version(good), "{good}");
        }
        for bad in ["", "v1.2", "1..2", "1.2-r0", "1.2_foo", "1.2AB", "latest"] {
            assert!(!is_package_version(bad), "{bad}");
        }
    }

    #[test]
    fn package_name_rules() {
        assert!(is_package_name("ca-certificates-bundle"));
        assert!(is_package_name("libstdc++"));
        assert!(!is_package_name("Nginx"));
        assert!(!is_package_name("-x"));
    }
}
