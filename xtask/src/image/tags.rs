//! Tags of a variant: the ones known before building, plus `X.Y.Z`, `X.Y` and `X` from
//! the installed version of the package named by `extractTagsFrom`.

use crate::catalog::ExtractTags;

/// Returns the tags derived from an apk version (`1.25.3-r0`): the upstream version
/// without its `-rN` release, as `X.Y.Z`, `X.Y` and `X`, each with `prefix`, leaving out
/// those in `exclude` (written with or without the prefix).
pub fn version_tags(version: &str, extract: &ExtractTags) -> Result<Vec<String>, String> {
    let upstream = match version.rsplit_once("-r") {
        Some((upstream, release)) if release.bytes().all(|b| b.is_ascii_digit()) => upstream,
        _ => version,
    };
    let parsed = semver::Version::parse(&pad_to_three(upstream)).map_err(|error| {
        format!(
            "version `{version}` of `{}` is not `X.Y.Z` semver ({error}), so no tags can be derived from it",
            extract.package
        )
    })?;
    if !parsed.pre.is_empty() || !parsed.build.is_empty() {
        return Err(format!(
            "version `{version}` of `{}` has a pre-release or build part; tags are derived only from plain `X.Y.Z`",
            extract.package
        ));
    }
    let candidates = [
        format!("{}.{}.{}", parsed.major, parsed.minor, parsed.patch),
        format!("{}.{}", parsed.major, parsed.minor),
        parsed.major.to_string(),
    ];
    Ok(candidates
        .into_iter()
        .filter(|tag| {
            let prefixed = format!("{}{tag}", extract.prefix);
            !extract.exclude.iter().any(|e| *e == *tag || *e == prefixed)
        })
        .map(|tag| format!("{}{tag}", extract.prefix))
        .collect())
}

/// Pads `1` and `1.2` to `1.0.0` and `1.2.0`; other text is returned unchanged.
fn pad_to_three(version: &str) -> String {
    let parts = version.split('.').count();
    let numeric = version
        .split('.')
        .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    match (numeric, parts) {
        (true, 1) => format!("{version}.0.0"),
        (true, 2) => format!("{version}.0"),
        _ => version.to_owned(),
    }
}

/// Merges tag lists, keeping the first occurrence of each tag.
pub fn merge_tags(lists: &[&[String]]) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in lists.iter().flat_map(|list| list.iter()) {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    fn extract(prefix: &str, exclude: &[&str]) -> ExtractTags {
        ExtractTags {
            package: "nginx".to_owned(),
            prefix: prefix.to_owned(),
            exclude: exclude.iter().map(|e| (*e).to_owned()).collect(),
        }
    }

    #[test]
    fn version_tags_from_apk_version() {
        let tags = version_tags("1.25.3-r0", &extract("", &[])).expect("tags");
        assert_eq!(tags, vec!["1.25.3", "1.25", "1"]);
    }

    #[test]
    fn version_tags_apply_prefix_and_exclude() {
        let tags = version_tags("17.0.6-r1", &extract("openjdk-", &["17"])).expect("tags");
        assert_eq!(tags, vec!["openjdk-17.0.6", "openjdk-17.0"]);
    }

    #[test]
    fn version_tags_pad_short_versions() {
        let tags = version_tags("1.2-r3", &extract("", &[])).expect("tags");
        assert_eq!(tags, vec!["1.2.0", "1.2", "1"]);
    }

    #[test]
    fn version_tags_reject_non_semver() {
        let error = version_tags("2023c-r0", &extract("", &[])).expect_err("not semver");
        assert!(error.contains("`2023c-r0`"), "{error}");
    }

    #[test]
    fn merge_tags_drops_duplicates() {
        let first = vec!["latest".to_owned(), "1".to_owned()];
        let second = vec!["1".to_owned(), "1.2".to_owned()];
        assert_eq!(merge_tags(&[&first, &second]), vec!["latest", "1", "1.2"]);
    }
}
