//! Incremental builds: a content hash of everything a package is built from, recorded
//! next to the output (`<repository>/<arch>/.stamps/<recipe>.json`). A recipe is
//! rebuilt only when the hash differs or one of its packages is missing.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::pipelines::Pipelines;
use super::plan::BuildPlan;
use super::target::TargetArch;

/// Changes whenever the builder's output for the same inputs changes, so that old
/// stamps stop matching.
const BUILDER_FORMAT: &str = "xtask-package-1";

/// Record of a recipe's build: the hash of its inputs and the files written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Hex SHA-256 of the inputs.
    pub hash: String,
    /// Package files written, relative to the architecture's folder.
    pub files: Vec<String>,
}

/// Everything that goes into the content hash besides the plan.
#[derive(Debug, Clone)]
pub struct HashInputs<'a> {
    /// The recipe file's bytes.
    pub recipe_text: &'a [u8],
    /// The recipe's own folder (patches, data), when it exists.
    pub recipe_dir: Option<&'a Path>,
    /// The architecture.
    pub arch: TargetArch,
    /// `SOURCE_DATE_EPOCH`.
    pub source_date_epoch: u64,
    /// Whether steps run in the sandbox.
    pub sandboxed: bool,
    /// The signing key's name and public key.
    pub key_name: &'a str,
    /// The signing key's public PEM.
    pub key_pem: &'a str,
    /// Content hashes of the local packages the recipe builds against.
    pub dependency_hashes: &'a [String],
}

/// Computes the content hash of a build.
pub fn content_hash(
    inputs: &HashInputs<'_>,
    plan: &BuildPlan,
    pipelines: &Pipelines,
) -> std::io::Result<String> {
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    field("format", BUILDER_FORMAT.as_bytes());
    field("recipe", inputs.recipe_text);
    field("arch", inputs.arch.apk_name().as_bytes());
    field("epoch", inputs.source_date_epoch.to_string().as_bytes());
    field("sandbox", if inputs.sandboxed { b"yes" } else { b"no" });
    field("key", inputs.key_name.as_bytes());
    field("key-pem", inputs.key_pem.as_bytes());
    for name in &plan.pipelines_used {
        let text = pipelines.get(name).map(|pipeline| pipeline.text.as_str());
        field(
            &format!("pipeline {name}"),
            text.unwrap_or_default().as_bytes(),
        );
    }
    for source in &plan.sources {
        for candidate in &source.candidates {
            field("source", candidate.digest.to_string().as_bytes());
        }
    }
    for hash in inputs.dependency_hashes {
        field("dependency", hash.as_bytes());
    }
    if let Some(dir) = inputs.recipe_dir {
        for path in files_under(dir)? {
            let relative = path.strip_prefix(dir).unwrap_or(&path);
            field(
                &format!("file {}", relative.display()),
                &fs_err::read(&path)?,
            );
        }
    }
    Ok(hex::encode(hasher.finalize()))
}

/// Path of the stamp of `recipe` in an architecture's repository folder.
pub fn stamp_path(arch_dir: &Path, recipe: &str) -> PathBuf {
    arch_dir.join(".stamps").join(format!("{recipe}.json"))
}

/// Reads a stamp; a missing or unreadable one means the recipe must be built.
pub fn read(path: &Path) -> Option<Stamp> {
    let text = fs_err::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// Returns whether the stamp matches `hash` and every file it lists exists.
pub fn is_current(stamp: &Stamp, hash: &str, arch_dir: &Path) -> bool {
    stamp.hash == hash && stamp.files.iter().all(|file| arch_dir.join(file).is_file())
}

fn files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in fs_err::read_dir(&dir)? {
            let path = entry?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}
