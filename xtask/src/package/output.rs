//! Turning a package's destination folder into a signed `.apk`: files in path order,
//! owners 0:0, every time `SOURCE_DATE_EPOCH`, metadata from the recipe.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use apk::package::ControlFile;
use apk::{Dependency, PackageBuilder, PackageFile, PackageInfo, PrivateKey, Provide, Version};

use super::plan::OutputPlan;
use super::target::TargetArch;
use crate::catalog::Recipe;
use crate::catalog::recipe::ProviderPriority;

/// `packager` written into `.PKGINFO`.
const PACKAGER: &str = "cargo xtask package";

/// Errors from packaging an output folder.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file of the output could not be read.
    #[error("failed to read `{}`", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A recipe field is not valid apk metadata.
    #[error("invalid {field} `{value}`: {message}")]
    Metadata {
        /// The recipe field.
        field: &'static str,
        /// Its value.
        value: String,
        /// Description of the problem.
        message: String,
    },
    /// The apk writer rejected the package.
    #[error("failed to write package `{name}`: {message}")]
    Write {
        /// The package.
        name: String,
        /// The writer's error.
        message: String,
    },
}

/// A written package: the file's bytes and its index entry.
pub type BuiltPackage = apk::package::BuiltPackage;

/// Builds and signs the package for `output` from the files in `destdir`.
pub fn build_package(
    recipe: &Recipe,
    output: &OutputPlan,
    arch: TargetArch,
    destdir: &Path,
    key: &PrivateKey,
    source_date_epoch: u64,
) -> Result<BuiltPackage, OutputError> {
    let info = package_info(recipe, output, arch, source_date_epoch)?;
    let mut builder = PackageBuilder::new(info);
    builder.packager = Some(PACKAGER.to_string());
    builder.mtime = source_date_epoch;
    builder.files = collect_files(destdir)?;
    // Scriptlets belong to the main package; subpackages have none in this format.
    if output.name == recipe.name {
        builder.scripts = scriptlets(recipe)?;
    }
    builder
        .build(Some(key))
        .map_err(|error| OutputError::Write {
            name: output.name.clone(),
            message: error.to_string(),
        })
}

/// Scriptlet names apk runs, as melange recipes write them under `scriptlets`.
const SCRIPTLETS: [&str; 6] = [
    "pre-install",
    "post-install",
    "pre-deinstall",
    "post-deinstall",
    "pre-upgrade",
    "post-upgrade",
];

fn scriptlets(recipe: &Recipe) -> Result<Vec<ControlFile>, OutputError> {
    let mut scripts = Vec::new();
    for (name, script) in &recipe.file.package.scriptlets {
        if !SCRIPTLETS.contains(&name.as_str()) {
            return Err(OutputError::Metadata {
                field: "scriptlet",
                value: name.clone(),
                message: format!("known scriptlets: {}", SCRIPTLETS.join(", ")),
            });
        }
        scripts.push(ControlFile {
            name: format!(".{name}"),
            mode: 0o755,
            content: script.as_bytes().to_vec(),
        });
    }
    Ok(scripts)
}

fn package_info(
    recipe: &Recipe,
    output: &OutputPlan,
    arch: TargetArch,
    source_date_epoch: u64,
) -> Result<PackageInfo, OutputError> {
    let package = &recipe.file.package;
    let version = Version::parse(&recipe.full_version).map_err(|error| OutputError::Metadata {
        field: "version",
        value: recipe.full_version.clone(),
        message: error.to_string(),
    })?;
    let mut info = PackageInfo::new(output.name.clone(), version, arch.apk_name());
    info.description = output.description.clone();
    info.url = package.url.clone().unwrap_or_default();
    let licenses: Vec<&str> = package
        .copyright
        .iter()
        .map(|copyright| copyright.license.as_str())
        .collect();
    info.license = licenses.join(" AND ");
    info.origin = Some(recipe.name.clone());
    info.build_time = Some(source_date_epoch);
    info.commit = package.commit.clone();
    let dependencies = &output.dependencies;
    info.provider_priority = match &dependencies.provider_priority {
        None => None,
        Some(ProviderPriority::Number(number)) => Some(*number),
        Some(ProviderPriority::Text(text)) => {
            Some(text.parse().map_err(|_| OutputError::Metadata {
                field: "provider-priority",
                value: text.clone(),
                message: "expected a whole number".to_string(),
            })?)
        }
    };
    for text in &dependencies.runtime {
        info.depends
            .push(parse("runtime dependency", &text.value, Dependency::parse)?);
    }
    for text in &dependencies.provides {
        info.provides
            .push(parse("provides", &text.value, Provide::parse)?);
    }
    for text in &dependencies.replaces {
        info.replaces
            .push(parse("replaces", &text.value, Dependency::parse)?);
    }
    Ok(info)
}

fn parse<T, E: std::fmt::Display>(
    field: &'static str,
    text: &str,
    parser: impl Fn(&str) -> Result<T, E>,
) -> Result<T, OutputError> {
    parser(text).map_err(|error| OutputError::Metadata {
        field,
        value: text.to_string(),
        message: error.to_string(),
    })
}

/// Reads every file, folder and symlink under `root`, sorted by path. Hard links
/// become separate copies; owners are always 0:0.
pub fn collect_files(root: &Path) -> Result<Vec<PackageFile>, OutputError> {
    let mut files = Vec::new();
    if !root.exists() {
        return Ok(files);
    }
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let read_error = |source| OutputError::Read {
            path: dir.clone(),
            source,
        };
        let mut entries: Vec<PathBuf> = fs_err::read_dir(&dir)
            .map_err(read_error)?
            .map(|entry| entry.map(|entry| entry.path()))
            .collect::<Result<_, _>>()
            .map_err(|source| OutputError::Read {
                path: dir.clone(),
                source,
            })?;
        entries.sort();
        for path in entries {
            let read_error = |source| OutputError::Read {
                path: path.clone(),
                source,
            };
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .to_string_lossy()
                .into_owned();
            let metadata = fs_err::symlink_metadata(&path).map_err(read_error)?;
            let mode = metadata.permissions().mode() & 0o7777;
            if metadata.file_type().is_symlink() {
                let target = fs_err::read_link(&path).map_err(read_error)?;
                files.push(PackageFile::symlink(relative, target.to_string_lossy()));
            } else if metadata.is_dir() {
                let mut directory = PackageFile::directory(relative);
                directory.mode = mode;
                files.push(directory);
                pending.push(path);
            } else if metadata.is_file() {
                let content = fs_err::read(&path).map_err(read_error)?;
                files.push(PackageFile::file(relative, mode, content));
            }
        }
    }
    Ok(files)
}
