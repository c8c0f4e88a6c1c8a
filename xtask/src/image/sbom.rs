//! SPDX 2.3 JSON SBOMs: one per architecture image (the image and every installed
//! package) and one for the index (the index, each image and their packages). Package
//! entries carry name, version, declared license, supplier, a `pkg:apk` purl and the
//! SHA-256 of the `.apk` file; nothing in them depends on the host or the run.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::catalog::Arch;
use crate::oci::Digest;

use super::resolve::SelectedPackage;

/// The distribution the packages come from, from `/etc/os-release` or the config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Distro {
    /// `ID` (`wolfi`, `alpine`), used in purls.
    pub id: String,
    /// `NAME`, used as the supplier.
    pub name: Option<String>,
}

impl Distro {
    /// Reads `ID` and `NAME` from os-release text; `ID` defaults to `unknown`.
    pub fn from_os_release(text: Option<&str>) -> Self {
        let field = |key: &str| {
            text.into_iter()
                .flat_map(str::lines)
                .filter_map(|line| line.split_once('='))
                .find(|(k, _)| k.trim() == key)
                .map(|(_, v)| v.trim().trim_matches('"').to_owned())
                .filter(|v| !v.is_empty())
        };
        Self {
            id: field("ID").unwrap_or_else(|| "unknown".to_owned()),
            name: field("NAME"),
        }
    }
}

/// One architecture image as the index SBOM lists it.
pub struct ImageSummary<'a> {
    /// The architecture.
    pub arch: Arch,
    /// The image manifest digest.
    pub manifest: &'a Digest,
    /// Its packages in install order.
    pub packages: &'a [SelectedPackage],
    /// Their distribution.
    pub distro: &'a Distro,
}

/// Returns the SBOM of one architecture image.
pub fn image_sbom(image: &str, summary: &ImageSummary<'_>, created: &str) -> Value {
    let image_id = image_spdx_id(summary.arch);
    let mut packages = vec![image_package(image, summary)];
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", &image_id)];
    let mut refs = LicenseRefs::new();
    add_packages(
        summary,
        &image_id,
        &mut packages,
        &mut relationships,
        &mut refs,
    );
    let mut document = document(
        &format!("{image}-{}", summary.arch.apk_name()),
        summary.manifest,
        created,
        packages,
        relationships,
    );
    add_extracted(&mut document, &refs);
    document
}

/// Returns the SBOM of the index: the index package contains each image.
pub fn index_sbom(
    image: &str,
    index: &Digest,
    images: &[ImageSummary<'_>],
    created: &str,
) -> Value {
    let index_id = "SPDXRef-Index".to_owned();
    let mut packages = vec![json!({
        "SPDXID": index_id,
        "name": image,
        "versionInfo": index.to_string(),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "supplier": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
        "checksums": [{"algorithm": "SHA256", "checksumValue": index.hex()}],
        "externalRefs": [purl_ref(format!("pkg:oci/{}@{}", purl_escape(image), purl_escape(&index.to_string())))],
    })];
    let mut relationships = vec![relationship("SPDXRef-DOCUMENT", "DESCRIBES", &index_id)];
    let mut refs = LicenseRefs::new();
    for summary in images {
        let image_id = image_spdx_id(summary.arch);
        packages.push(image_package(image, summary));
        relationships.push(relationship(&index_id, "CONTAINS", &image_id));
        add_packages(
            summary,
            &image_id,
            &mut packages,
            &mut relationships,
            &mut refs,
        );
    }
    let mut document = document(image, index, created, packages, relationships);
    add_extracted(&mut document, &refs);
    document
}

fn add_extracted(document: &mut Value, refs: &LicenseRefs) {
    if !refs.is_empty() {
        document["hasExtractedLicensingInfos"] = Value::Array(extracted_licenses(refs));
    }
}

fn document(
    name: &str,
    digest: &Digest,
    created: &str,
    packages: Vec<Value>,
    relationships: Vec<Value>,
) -> Value {
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("sbom-{name}"),
        // Derived from the content digest, so equal images get equal documents.
        "documentNamespace": format!("https://spdx.org/spdxdocs/cargo-xtask/{}/{}", purl_escape(name), digest.hex()),
        "creationInfo": {
            "created": created,
            "creators": ["Tool: cargo-xtask-build"],
        },
        "packages": packages,
        "relationships": relationships,
    })
}

fn image_spdx_id(arch: Arch) -> String {
    format!("SPDXRef-Image-{}", spdx_id_text(arch.apk_name()))
}

fn image_package(image: &str, summary: &ImageSummary<'_>) -> Value {
    let arch = summary.arch;
    json!({
        "SPDXID": image_spdx_id(arch),
        "name": format!("{image}-{}", arch.apk_name()),
        "versionInfo": summary.manifest.to_string(),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "supplier": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
        "checksums": [{"algorithm": "SHA256", "checksumValue": summary.manifest.hex()}],
        "externalRefs": [purl_ref(format!(
            "pkg:oci/{}@{}?arch={}&os=linux",
            purl_escape(image),
            purl_escape(&summary.manifest.to_string()),
            purl_escape(arch.oci_name())
        ))],
    })
}

fn add_packages(
    summary: &ImageSummary<'_>,
    image_id: &str,
    packages: &mut Vec<Value>,
    relationships: &mut Vec<Value>,
    refs: &mut LicenseRefs,
) {
    for selected in summary.packages {
        let id = package_spdx_id(summary.arch, selected);
        packages.push(apk_package(&id, summary, selected, refs));
        relationships.push(relationship(image_id, "CONTAINS", &id));
    }
}

fn package_spdx_id(arch: Arch, selected: &SelectedPackage) -> String {
    let text = format!(
        "{}-{}-{}",
        selected.info.name,
        selected.info.version,
        arch.apk_name()
    );
    format!("SPDXRef-Package-{}", spdx_id_text(&text))
}

fn apk_package(
    id: &str,
    summary: &ImageSummary<'_>,
    selected: &SelectedPackage,
    refs: &mut LicenseRefs,
) -> Value {
    let info = &selected.info;
    let supplier = match &summary.distro.name {
        Some(name) => format!("Organization: {name}"),
        None => "NOASSERTION".to_owned(),
    };
    let purl = format!(
        "pkg:apk/{}/{}@{}?arch={}",
        purl_escape(&summary.distro.id),
        purl_escape(&info.name),
        purl_escape(info.version.as_str()),
        purl_escape(summary.arch.apk_name())
    );
    let mut package = json!({
        "SPDXID": id,
        "name": info.name,
        "versionInfo": info.version.to_string(),
        "supplier": supplier,
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": spdx_license(&info.license, refs),
        "copyrightText": "NOASSERTION",
        "checksums": [{"algorithm": "SHA256", "checksumValue": selected.file.sha256}],
        "externalRefs": [purl_ref(purl)],
    });
    if !info.description.is_empty() {
        package["description"] = Value::String(info.description.clone());
    }
    if !info.url.is_empty() {
        package["homepage"] = Value::String(info.url.clone());
    }
    package
}

fn purl_ref(locator: String) -> Value {
    json!({
        "referenceCategory": "PACKAGE-MANAGER",
        "referenceType": "purl",
        "referenceLocator": locator,
    })
}

fn relationship(from: &str, kind: &str, to: &str) -> Value {
    json!({
        "spdxElementId": from,
        "relationshipType": kind,
        "relatedSpdxElement": to,
    })
}

/// Keeps the characters SPDX allows in an identifier (letters, digits, `.`, `-`) and
/// turns the others into `-`.
fn spdx_id_text(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Percent-encodes everything but unreserved characters, as the purl spec requires for
/// names, versions and qualifier values.
fn purl_escape(text: &str) -> String {
    let mut out = String::new();
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b".-_~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// License identifiers that are not on the SPDX license list, as `LicenseRef-` ids
/// mapped to the text the package wrote; a document declares them in
/// `hasExtractedLicensingInfos`.
type LicenseRefs = BTreeMap<String, String>;

/// Returns the license as an SPDX expression: identifiers on the SPDX license list (as
/// bundled in the `spdx` crate) are kept, other identifiers become `LicenseRef-` ids
/// recorded in `refs`, and text that is no expression (unbalanced parentheses, a
/// dangling operator) becomes `NOASSERTION`.
fn spdx_license(license: &str, refs: &mut LicenseRefs) -> String {
    let spaced = license.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let mut out: Vec<String> = Vec::new();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut expect_identifier = true;
    let mut after_with = false;
    let mut depth = 0i32;
    for token in &tokens {
        match *token {
            "(" if expect_identifier => depth += 1,
            ")" if !expect_identifier && depth > 0 => depth -= 1,
            "AND" | "OR" | "WITH" if !expect_identifier => {
                expect_identifier = true;
                after_with = *token == "WITH";
            }
            "AND" | "OR" | "WITH" | "(" | ")" => return "NOASSERTION".to_owned(),
            identifier if expect_identifier => {
                let known = if after_with {
                    spdx::exception_id(identifier).is_some()
                } else {
                    spdx::license_id(identifier).is_some()
                };
                if known {
                    out.push(identifier.to_owned());
                } else if identifier.starts_with("LicenseRef-") && !after_with {
                    // A reference the package already wrote must still be declared in
                    // the document, or SPDX validators reject the expression.
                    found.push((identifier.to_owned(), identifier.to_owned()));
                    out.push(identifier.to_owned());
                } else if after_with {
                    return "NOASSERTION".to_owned();
                } else {
                    let id = format!("LicenseRef-{}", spdx_id_text(identifier));
                    found.push((id.clone(), identifier.to_owned()));
                    out.push(id);
                }
                expect_identifier = false;
                after_with = false;
                continue;
            }
            _ => return "NOASSERTION".to_owned(),
        }
        out.push((*token).to_owned());
    }
    if tokens.is_empty() || expect_identifier || depth != 0 {
        return "NOASSERTION".to_owned();
    }
    refs.extend(found);
    out.join(" ").replace("( ", "(").replace(" )", ")")
}

fn extracted_licenses(refs: &LicenseRefs) -> Vec<Value> {
    refs.iter()
        .map(|(id, text)| {
            json!({
                "licenseId": id,
                "name": text,
                "extractedText": format!("The package declares the license `{text}`, which is not on the SPDX license list."),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expressions_pass_through() {
        let mut refs = LicenseRefs::new();
        assert_eq!(spdx_license("MIT", &mut refs), "MIT");
        let text = "GPL-2.0-only WITH Classpath-exception-2.0 AND (MIT OR BSD-3-Clause)";
        assert_eq!(spdx_license(text, &mut refs), text);
        assert!(refs.is_empty());
    }

    #[test]
    fn license_unknown_ids_become_refs() {
        let mut refs = LicenseRefs::new();
        let expression = spdx_license("GPL-2.0-or-later AND custom", &mut refs);
        assert_eq!(expression, "GPL-2.0-or-later AND LicenseRef-custom");
        assert_eq!(
            refs.get("LicenseRef-custom").map(String::as_str),
            Some("custom")
        );
    }

    #[test]
    fn license_refs_written_are_declared() {
        let mut refs = LicenseRefs::new();
        let expression = spdx_license("LicenseRef-tz-public-domain OR MIT", &mut refs);
        assert_eq!(expression, "LicenseRef-tz-public-domain OR MIT");
        assert!(refs.contains_key("LicenseRef-tz-public-domain"), "{refs:?}");
    }

    #[test]
    fn license_malformed_is_no_assertion() {
        for text in ["", "MIT AND", "(MIT", "MIT OR OR BSD", "MIT WITH nonsense"] {
            let mut refs = LicenseRefs::new();
            assert_eq!(spdx_license(text, &mut refs), "NOASSERTION", "`{text}`");
            assert!(refs.is_empty(), "`{text}`");
        }
    }

    #[test]
    fn purl_escape_keeps_unreserved() {
        assert_eq!(purl_escape("1.2.3-r0"), "1.2.3-r0");
        assert_eq!(purl_escape("a+b:c"), "a%2Bb%3Ac");
    }

    #[test]
    fn distro_reads_os_release() {
        let distro = Distro::from_os_release(Some("ID=wolfi\nNAME=\"Wolfi\"\n"));
        assert_eq!(distro.id, "wolfi");
        assert_eq!(distro.name.as_deref(), Some("Wolfi"));
        assert_eq!(Distro::from_os_release(None).id, "unknown");
    }
}
