//! Generated OCI image layouts shaped like `build` output: `index.json` pointing at one
//! image index with a manifest per platform, tags as ref-name annotations, random layer
//! contents, real config JSON and SPDX SBOM files, and a catalog that publishes them.

use std::path::Path;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

/// Digests of a generated layout.
pub struct GeneratedLayout {
    pub index_digest: String,
    /// `(platform, manifest digest)`.
    pub manifests: Vec<(String, String)>,
    /// Every blob digest, configs and layers.
    pub blobs: Vec<String>,
}

fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

fn write_blob(dir: &Path, bytes: &[u8]) -> String {
    let digest = digest(bytes);
    let path = dir.join("blobs/sha256").join(&digest["sha256:".len()..]);
    std::fs::create_dir_all(path.parent().expect("parent")).expect("create blobs folder");
    std::fs::write(path, bytes).expect("write blob");
    digest
}

/// Random bytes from a xorshift generator seeded with `seed`.
pub fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    let mut bytes = Vec::with_capacity(len + 8);
    while bytes.len() < len {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        bytes.extend_from_slice(&state.to_le_bytes());
    }
    bytes.truncate(len);
    bytes
}

/// Returns a seed that differs between calls and test runs.
pub fn fresh_seed() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_nanos() as u64)
        .unwrap_or(0);
    nanos ^ (COUNTER.fetch_add(1, Ordering::Relaxed) << 48) ^ u64::from(std::process::id())
}

/// Writes a layout for `linux/amd64` and `linux/arm64` with `layer_sizes` random
/// uncompressed layers per platform, plus SBOMs, into `dir`.
pub fn write_layout(
    dir: &Path,
    tags: &[&str],
    layer_sizes: &[usize],
    seed: u64,
) -> GeneratedLayout {
    std::fs::create_dir_all(dir).expect("create layout folder");
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#)
        .expect("write oci-layout");
    let mut blobs = Vec::new();
    let mut manifests = Vec::new();
    let mut descriptors = Vec::new();

    for (index, arch) in ["amd64", "arm64"].iter().enumerate() {
        let mut layers = Vec::new();
        for (number, size) in layer_sizes.iter().enumerate() {
            let bytes = random_bytes(
                seed.wrapping_add((index * 100 + number) as u64 * 7919),
                *size,
            );
            let layer_digest = write_blob(dir, &bytes);
            blobs.push(layer_digest.clone());
            layers.push(json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": layer_digest,
                "size": bytes.len(),
            }));
        }
        let diff_ids: Vec<Value> = layers.iter().map(|layer| layer["digest"].clone()).collect();
        let config = serde_json::to_vec(&json!({
            "architecture": arch,
            "os": "linux",
            "config": { "Env": ["PATH=/usr/bin:/bin"], "User": "65532" },
            "rootfs": { "type": "layers", "diff_ids": diff_ids },
        }))
        .expect("config JSON");
        let config_digest = write_blob(dir, &config);
        blobs.push(config_digest.clone());
        let manifest = serde_json::to_vec(&json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": config_digest,
                "size": config.len(),
            },
            "layers": layers,
        }))
        .expect("manifest JSON");
        let manifest_digest = write_blob(dir, &manifest);
        manifests.push((format!("linux/{arch}"), manifest_digest.clone()));
        descriptors.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest,
            "size": manifest.len(),
            "platform": { "architecture": arch, "os": "linux" },
        }));
        write_sbom(
            &dir.join(format!("sbom-{}.spdx.json", apk_arch(arch))),
            arch,
        );
    }

    let index = serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": descriptors,
    }))
    .expect("index JSON");
    let index_digest = write_blob(dir, &index);
    let entries: Vec<Value> = tags
        .iter()
        .map(|tag| {
            json!({
                "mediaType": "application/vnd.oci.image.index.v1+json",
                "digest": index_digest,
                "size": index.len(),
                "annotations": { "org.opencontainers.image.ref.name": tag },
            })
        })
        .collect();
    let top = json!({ "schemaVersion": 2, "manifests": entries });
    std::fs::write(
        dir.join("index.json"),
        serde_json::to_vec(&top).expect("JSON"),
    )
    .expect("write index.json");
    write_sbom(&dir.join("sbom-index.spdx.json"), "index");
    GeneratedLayout {
        index_digest,
        manifests,
        blobs,
    }
}

fn write_sbom(path: &Path, name: &str) {
    let sbom = json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": format!("test-image-{name}"),
        "packages": [{ "SPDXID": "SPDXRef-Package-busybox", "name": "busybox", "versionInfo": "1.37.0-r0" }],
    });
    std::fs::write(path, serde_json::to_vec_pretty(&sbom).expect("JSON")).expect("write SBOM");
}

/// Returns the APK name of an OCI architecture, which `build` uses in SBOM file names.
fn apk_arch(oci_arch: &str) -> &str {
    match oci_arch {
        "amd64" => "x86_64",
        "arm64" => "aarch64",
        other => other,
    }
}

/// Writes a catalog whose one image, `busybox`, is published to `registry`.
pub fn catalog_for(registry: &str) -> tempfile::TempDir {
    let root = tempfile::tempdir().expect("temp dir");
    let files = [
        (
            "catalog.yaml",
            format!("registry: {registry}\nnamespace: test\narchs: [amd64, arm64]\n"),
        ),
        (
            "images/busybox/image.yaml",
            "versions:\n  - apko:\n      config: configs/latest.apko.yaml\n".to_owned(),
        ),
        (
            "images/busybox/configs/latest.apko.yaml",
            "contents:\n  repositories: [https://packages.wolfi.dev/os]\n  keyring: [https://packages.wolfi.dev/os/wolfi-signing.rsa.pub]\n  packages: [busybox]\n".to_owned(),
        ),
        ("images/busybox/tests/run.sh", "#!/bin/sh\n".to_owned()),
    ];
    for (path, text) in files {
        let path = root.path().join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create folder");
        std::fs::write(&path, text).expect("write file");
    }
    let script = root.path().join("images/busybox/tests/run.sh");
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755))
        .expect("chmod");
    root
}
