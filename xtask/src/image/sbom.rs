//! SPDX 2.3 JSON SBOMs: one per architecture image (the image and every installed
//! package) and one for the index (the index, each image and their packages). Package
//! entries carry name, version, declared license, supplier, a `pkg:apk` purl and the
//! SHA-256 of the `.apk` file; nothing in them depends on the host or the run.

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
    add_packages(summary, &image_id, &mut packages, &mut relationships);
    document(
        &format!("{image}-{}", summary.arch.apk_name()),
        summary.manifest,
        created,
        packages,
        relationships,
    )
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
    for summary in images {
        let image_id = image_spdx_id(summary.arch);
        packages.push(image_package(image, summary));
        relationships.push(relationship(&index_id, "CONTAINS", &image_id));
        add_packages(summary, &image_id, &mut packages, &mut relationships);
    }
    document(image, index, created, packages, relationships)
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
) {
    for selected in summary.packages {
        let id = package_spdx_id(summary.arch, selected);
        packages.push(apk_package(&id, summary, selected));
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

fn apk_package(id: &str, summary: &ImageSummary<'_>, selected: &SelectedPackage) -> Value {
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
        "licenseDeclared": spdx_license(&info.license),
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

/// Returns the license as an SPDX expression when it looks like one (identifiers joined
/// by AND, OR, WITH and parentheses), else `NOASSERTION`.
/// NOTE: identifiers are checked for their characters only, not against the SPDX license
/// list, so a made-up identifier passes through.
fn spdx_license(license: &str) -> String {
    let spaced = license.replace('(', " ( ").replace(')', " ) ");
    let tokens: Vec<&str> = spaced.split_whitespace().collect();
    let operator = |t: &str| matches!(t, "AND" | "OR" | "WITH");
    let identifier = |t: &str| {
        !t.is_empty()
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+'))
    };
    let mut expect_identifier = true;
    let mut depth = 0i32;
    for token in &tokens {
        match *token {
            "(" if expect_identifier => depth += 1,
            ")" if !expect_identifier && depth > 0 => depth -= 1,
            t if operator(t) && !expect_identifier => expect_identifier = true,
            t if identifier(t) && expect_identifier && !operator(t) => expect_identifier = false,
            _ => return "NOASSERTION".to_owned(),
        }
    }
    if tokens.is_empty() || expect_identifier || depth != 0 {
        return "NOASSERTION".to_owned();
    }
    tokens.join(" ").replace("( ", "(").replace(" )", ")")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn license_expressions_pass_through() {
        assert_eq!(spdx_license("MIT"), "MIT");
        assert_eq!(
            spdx_license("GPL-2.0-only AND (MIT OR BSD-3-Clause)"),
            "GPL-2.0-only AND (MIT OR BSD-3-Clause)"
        );
    }

    #[test]
    fn license_free_text_is_no_assertion() {
        for text in ["", "custom license", "MIT AND", "(MIT", "GPL/BSD"] {
            assert_eq!(spdx_license(text), "NOASSERTION", "`{text}`");
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
