//! From a config's package list to the verified packages of one architecture: read the
//! repository indexes, resolve the world with the apk crate's resolver (or take the
//! exact set a lock file names) and read each package.

use std::path::Path;
use std::sync::Arc;

use apk::{Dependency, PackageInfo, Universe};

use super::error::BuildError;
use super::lock::Lock;
use super::repository::{PackageStore, RepositorySource, StoredPackage};

/// A package chosen for an image, in install order.
#[derive(Debug, Clone)]
pub struct SelectedPackage {
    /// The index entry.
    pub info: PackageInfo,
    /// Position of its repository among the config's repositories.
    pub repository: usize,
    /// The `@tag` of that repository, recorded in the installed database.
    pub tag: Option<String>,
    /// The package file, verified against the index.
    pub file: Arc<StoredPackage>,
}

/// Sources and architecture of the packages of one build.
pub struct PackageQuery<'a> {
    /// The config file, named in errors.
    pub file: &'a Path,
    /// The repositories in priority order.
    pub sources: &'a [RepositorySource],
    /// The APK architecture (`x86_64`).
    pub arch: &'a str,
    /// Shared cache of indexes and packages.
    pub store: &'a PackageStore,
    /// Fetches with the config's keyring.
    pub fetcher: &'a apk::Fetcher,
}

impl PackageQuery<'_> {
    /// Reads every repository index for the architecture.
    pub fn repositories(&self) -> Result<Vec<apk::Repository>, BuildError> {
        let mut repositories = Vec::new();
        for source in self.sources {
            let index = self
                .store
                .index(self.fetcher, &source.spec, self.arch)
                .map_err(|source_error| BuildError::Index {
                    file: self.file.to_path_buf(),
                    repository: source.written.clone(),
                    source: Box::new(source_error),
                })?;
            repositories.push(apk::Repository {
                name: source.written.clone(),
                tag: source.tag.clone(),
                packages: index.index.packages.clone(),
            });
        }
        Ok(repositories)
    }

    /// Resolves `world` (apk constraints such as `busybox>=1.36`) to index entries, each
    /// with the position of its repository.
    pub fn resolve(&self, world: &[String]) -> Result<Vec<(PackageInfo, usize)>, BuildError> {
        let repositories = self.repositories()?;
        let mut dependencies = Vec::new();
        for constraint in world {
            let dependency = Dependency::parse(constraint.trim()).map_err(|error| {
                BuildError::config(
                    self.file,
                    format!("invalid package `{constraint}`: {error}"),
                )
            })?;
            dependencies.push(dependency);
        }
        let universe = Universe::new(&repositories, self.arch);
        let resolution =
            apk::resolve(&universe, &dependencies).map_err(|source| BuildError::Resolve {
                file: self.file.to_path_buf(),
                arch: self.arch.to_owned(),
                source: Box::new(source),
            })?;
        Ok(resolution
            .packages
            .into_iter()
            .map(|package| (package.info, package.repository))
            .collect())
    }

    /// Takes the packages a lock file names for this architecture, in its order, and
    /// checks each against the repositories.
    pub fn from_lock(
        &self,
        lock: &Lock,
        lock_file: &Path,
    ) -> Result<Vec<(PackageInfo, usize)>, BuildError> {
        let repositories = self.repositories()?;
        let lock_error = |message: String| BuildError::Lock {
            file: lock_file.to_path_buf(),
            message,
        };
        let locked = lock
            .archs
            .get(self.arch)
            .ok_or_else(|| lock_error(format!("no packages for architecture `{}`", self.arch)))?;
        let mut chosen = Vec::new();
        for entry in locked {
            let found = repositories.iter().enumerate().find_map(|(index, repo)| {
                repo.packages
                    .iter()
                    .find(|info| info.name == entry.name && info.version.as_str() == entry.version)
                    .map(|info| (info.clone(), index))
            });
            let (info, repository) = found.ok_or_else(|| {
                lock_error(format!(
                    "`{}-{}` is in no repository for {}",
                    entry.name, entry.version, self.arch
                ))
            })?;
            let checksum = info.checksum.map(|c| c.to_string()).unwrap_or_default();
            if checksum != entry.checksum {
                return Err(lock_error(format!(
                    "`{}-{}` has checksum {checksum} in the repository, the lock says {}",
                    entry.name, entry.version, entry.checksum
                )));
            }
            chosen.push((info, repository));
        }
        Ok(chosen)
    }

    /// Reads and verifies the package files of `chosen`.
    pub fn read_packages(
        &self,
        chosen: Vec<(PackageInfo, usize)>,
    ) -> Result<Vec<SelectedPackage>, BuildError> {
        let mut selected = Vec::new();
        for (info, repository) in chosen {
            let source = self.sources.get(repository).ok_or_else(|| {
                BuildError::config(self.file, format!("no repository number {repository}"))
            })?;
            let file = self
                .store
                .package(self.fetcher, &source.spec, self.arch, &info)?;
            selected.push(SelectedPackage {
                info,
                repository,
                tag: source.tag.clone(),
                file,
            });
        }
        Ok(selected)
    }
}
