//! The packages available to the resolver, indexed by every name they can satisfy.

use std::collections::HashMap;

use crate::package_info::PackageInfo;
use crate::version::Version;

/// One repository's packages, in the priority order the caller gives.
#[derive(Debug, Clone)]
pub struct Repository {
    /// A name for messages and lock files, usually the repository URL.
    pub name: String,
    /// The `@tag` of a pinned repository. Its packages are only used for dependencies
    /// that name the tag (`name@tag`).
    pub tag: Option<String>,
    /// The packages of its index for the target architecture.
    pub packages: Vec<PackageInfo>,
}

/// A package in the universe.
#[derive(Debug)]
pub(crate) struct Candidate<'r> {
    pub(crate) info: &'r PackageInfo,
    pub(crate) repository: usize,
}

/// One way a package satisfies a name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Provider<'r> {
    pub(crate) package: usize,
    /// The provided version, or `None` for an unversioned provide.
    pub(crate) version: Option<&'r Version>,
    /// True when the name is the package's own name.
    pub(crate) own_name: bool,
}

/// Every package of the repositories, indexed for resolution. Build it once per
/// repository set and architecture and resolve many worlds against it.
#[derive(Debug)]
pub struct Universe<'r> {
    repositories: &'r [Repository],
    arch: String,
    packages: Vec<Candidate<'r>>,
    providers: HashMap<&'r str, Vec<Provider<'r>>>,
    install_if_names: Vec<&'r str>,
}

impl<'r> Universe<'r> {
    /// Indexes the packages of `repositories` for `arch` (packages of another
    /// architecture than `arch` or `noarch` are kept only to explain rejections).
    pub fn new(repositories: &'r [Repository], arch: &str) -> Self {
        let mut packages = Vec::new();
        let mut providers: HashMap<&'r str, Vec<Provider<'r>>> = HashMap::new();
        for (repository, repo) in repositories.iter().enumerate() {
            for info in &repo.packages {
                let package = packages.len();
                packages.push(Candidate { info, repository });
                providers
                    .entry(info.name.as_str())
                    .or_default()
                    .push(Provider {
                        package,
                        version: Some(&info.version),
                        own_name: true,
                    });
                for provide in &info.provides {
                    providers
                        .entry(provide.name.as_str())
                        .or_default()
                        .push(Provider {
                            package,
                            version: provide.version.as_ref(),
                            own_name: false,
                        });
                }
            }
        }
        let mut install_if_names: Vec<&str> = packages
            .iter()
            .filter(|candidate| !candidate.info.install_if.is_empty())
            .map(|candidate| candidate.info.name.as_str())
            .collect();
        install_if_names.sort_unstable();
        install_if_names.dedup();
        Self {
            repositories,
            arch: arch.to_owned(),
            packages,
            providers,
            install_if_names,
        }
    }

    /// Returns the target architecture.
    pub fn arch(&self) -> &str {
        &self.arch
    }

    /// Returns the repositories.
    pub fn repositories(&self) -> &'r [Repository] {
        self.repositories
    }

    pub(crate) fn package(&self, id: usize) -> &Candidate<'r> {
        // Ids only come from this universe's own provider lists.
        &self.packages[id]
    }

    pub(crate) fn package_count(&self) -> usize {
        self.packages.len()
    }

    /// Returns the names of packages with `install_if` conditions, sorted.
    pub(crate) fn install_if_names(&self) -> &[&'r str] {
        &self.install_if_names
    }

    pub(crate) fn providers(&self, name: &str) -> &[Provider<'r>] {
        self.providers.get(name).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn repository_tag(&self, id: usize) -> Option<&'r str> {
        let repository = self.package(id).repository;
        self.repositories
            .get(repository)
            .and_then(|repo| repo.tag.as_deref())
    }

    pub(crate) fn repository_name(&self, id: usize) -> &'r str {
        let repository = self.package(id).repository;
        self.repositories
            .get(repository)
            .map_or("", |repo| repo.name.as_str())
    }
}
