//! Named pipelines that recipe steps call with `uses:`: the built-in ones shipped in
//! the tool and the repository's own, read from a folder (`packages/pipelines/`) where
//! `<name>.yaml` defines the pipeline `<name>` and subfolders give `autoconf/make`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::catalog::recipe::Step;
use crate::catalog::yaml;

/// Name of the pipeline that downloads and unpacks sources. The builder runs it itself
/// (downloads need the network, which the sandbox has not), so it has no definition.
pub const FETCH: &str = "fetch";

/// Built-in pipelines: (name, YAML text).
const BUILT_IN: [(&str, &str); 6] = [
    (
        "autoconf/configure",
        include_str!("pipelines/autoconf/configure.yaml"),
    ),
    (
        "autoconf/make",
        include_str!("pipelines/autoconf/make.yaml"),
    ),
    (
        "autoconf/make-install",
        include_str!("pipelines/autoconf/make-install.yaml"),
    ),
    ("patch", include_str!("pipelines/patch.yaml")),
    ("split/dev", include_str!("pipelines/split/dev.yaml")),
    ("strip", include_str!("pipelines/strip.yaml")),
];

/// Errors from loading pipeline definitions.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A definition file is invalid.
    #[error("invalid pipeline definition: {0}")]
    Invalid(crate::catalog::Diagnostic),
    /// The pipeline folder could not be listed.
    #[error("failed to list pipeline folder `{}`", path.display())]
    List {
        /// The folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A pipeline definition file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineFile {
    /// One-line description.
    pub name: Option<String>,
    /// Packages the pipeline needs in the build environment. The builder uses the host
    /// toolchain, so these are only informative.
    pub needs: Option<serde_json::Value>,
    /// Inputs that `with:` sets, by name.
    #[serde(default)]
    pub inputs: BTreeMap<String, Input>,
    /// The steps.
    pub pipeline: Vec<Spanned<Step>>,
}

/// One input of a pipeline.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Description of the input.
    pub description: Option<String>,
    /// Value used when `with:` does not set it; may contain substitutions.
    pub default: Option<serde_json::Value>,
    /// Whether `with:` must set it.
    #[serde(default)]
    pub required: bool,
}

/// A loaded pipeline: its definition and the text it was read from, which is part of
/// the content hash of every package that uses it.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// Name used in `uses:` (`autoconf/make`).
    pub name: String,
    /// File it came from, or `built-in` for the tool's own.
    pub origin: PathBuf,
    /// The parsed definition.
    pub file: PipelineFile,
    /// The YAML text.
    pub text: String,
}

/// Every pipeline a recipe can use, by name.
#[derive(Debug, Clone, Default)]
pub struct Pipelines {
    by_name: BTreeMap<String, Pipeline>,
}

impl Pipelines {
    /// Loads the built-in pipelines, then those in `folder` (when it exists), which
    /// replace built-in ones of the same name.
    pub fn load(folder: Option<&Path>) -> Result<Self, PipelineError> {
        let mut pipelines = Pipelines::default();
        for (name, text) in BUILT_IN {
            let origin = PathBuf::from(format!("built-in:{name}"));
            pipelines.insert(name, origin, text.to_string())?;
        }
        if let Some(folder) = folder.filter(|folder| folder.is_dir()) {
            for (name, path) in list_definitions(folder)? {
                let text = fs_err::read_to_string(&path).map_err(|source| PipelineError::List {
                    path: path.clone(),
                    source,
                })?;
                tracing::debug!(pipeline = %name, path = %path.display(), "repository pipeline");
                pipelines.insert(&name, path, text)?;
            }
        }
        Ok(pipelines)
    }

    fn insert(&mut self, name: &str, origin: PathBuf, text: String) -> Result<(), PipelineError> {
        let file: PipelineFile = yaml::parse(&text, &origin).map_err(PipelineError::Invalid)?;
        let pipeline = Pipeline {
            name: name.to_string(),
            origin,
            file,
            text,
        };
        self.by_name.insert(name.to_string(), pipeline);
        Ok(())
    }

    /// Returns the pipeline called `name`.
    pub fn get(&self, name: &str) -> Option<&Pipeline> {
        self.by_name.get(name)
    }

    /// Names of every pipeline, `fetch` included, for error messages.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.by_name.keys().cloned().collect();
        names.push(FETCH.to_string());
        names.sort();
        names
    }
}

// Lists `<folder>/**/*.yaml` as (pipeline name, path), sorted by name.
fn list_definitions(folder: &Path) -> Result<Vec<(String, PathBuf)>, PipelineError> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = fs_err::read_dir(&dir).map_err(|source| PipelineError::List {
            path: dir.clone(),
            source,
        })?;
        for entry in entries {
            let path = entry
                .map_err(|source| PipelineError::List {
                    path: dir.clone(),
                    source,
                })?
                .path();
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let Some(relative) = path.strip_prefix(folder).ok() else {
                continue;
            };
            let Some(name) = relative
                .to_str()
                .and_then(|name| name.strip_suffix(".yaml"))
            else {
                continue;
            };
            found.push((name.to_string(), path.clone()));
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_pipelines_parse() {
        let pipelines = Pipelines::load(None).expect("built-in pipelines parse");
        for (name, _) in BUILT_IN {
            assert!(pipelines.get(name).is_some(), "{name} missing");
        }
        assert!(pipelines.names().contains(&FETCH.to_string()));
    }

    #[test]
    fn repository_pipeline_folder_adds_names() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let nested = folder.path().join("own");
        fs_err::create_dir_all(&nested).expect("create folder");
        let text = "name: say hello\npipeline:\n  - runs: echo hello\n";
        fs_err::write(nested.join("hello.yaml"), text).expect("write definition");
        let pipelines = Pipelines::load(Some(folder.path())).expect("load");
        let pipeline = pipelines.get("own/hello").expect("own/hello loaded");
        assert_eq!(pipeline.file.pipeline.len(), 1);
    }

    #[test]
    fn repository_pipeline_unknown_key_rejected() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let text = "name: x\nstpes: []\npipeline: []\n";
        fs_err::write(folder.path().join("bad.yaml"), text).expect("write definition");
        let error = Pipelines::load(Some(folder.path())).expect_err("should fail");
        assert!(error.to_string().contains("stpes"), "{error}");
    }
}
