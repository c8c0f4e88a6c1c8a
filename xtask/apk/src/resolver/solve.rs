//! The backtracking search.

use std::cmp::Ordering;
use std::collections::HashMap;

use super::error::{Rejection, ResolveError, Unsatisfiable};
use super::universe::{Provider, Universe};
use crate::dependency::{Constraint, Dependency};

/// Max candidate attempts in one resolution. Real closures need a few hundred; the cap
/// stops exponential backtracking over hostile or broken indexes.
const MAX_STEPS: usize = 200_000;

/// Max depth of a dependency chain, which bounds recursion (stack) depth.
const MAX_DEPTH: usize = 512;

enum Undo<'r> {
    Chosen,
    Owner(&'r str),
    Unversioned(&'r str),
    Conflict,
}

/// Returns the chosen package ids, in the order they were chosen.
pub(super) fn solve<'a>(
    universe: &'a Universe<'a>,
    world: &'a [Dependency],
) -> Result<Vec<usize>, ResolveError> {
    let mut state = State::new(universe, world);
    let chain = vec!["world".to_owned()];
    for dependency in world {
        state.satisfy(dependency, &chain, None)?;
    }
    state.add_install_if()?;
    Ok(state.chosen)
}

struct State<'r> {
    universe: &'r Universe<'r>,
    /// World constraints by package name; every chosen package must meet these.
    pins: HashMap<&'r str, Vec<&'r Dependency>>,
    chosen: Vec<usize>,
    is_chosen: Vec<bool>,
    /// Owner of each real or versioned name.
    owners: HashMap<&'r str, usize>,
    /// Chosen providers of each unversioned provide.
    unversioned: HashMap<&'r str, Vec<usize>>,
    /// `!name` dependencies in force, with the package that declared them (None: world).
    conflicts: Vec<(&'r Dependency, Option<usize>)>,
    world_conflicts: Vec<&'r Dependency>,
    trail: Vec<Undo<'r>>,
    steps: usize,
}

/// Failure of one dependency, with what to report.
type Failure = Box<Unsatisfiable>;

impl<'r> State<'r> {
    fn new(universe: &'r Universe<'r>, world: &'r [Dependency]) -> Self {
        let mut pins: HashMap<&str, Vec<&Dependency>> = HashMap::new();
        let mut world_conflicts = Vec::new();
        for dependency in world {
            if dependency.conflict {
                world_conflicts.push(dependency);
            } else {
                pins.entry(dependency.name.as_str())
                    .or_default()
                    .push(dependency);
            }
        }
        Self {
            universe,
            pins,
            chosen: Vec::new(),
            is_chosen: vec![false; universe.package_count()],
            owners: HashMap::new(),
            unversioned: HashMap::new(),
            conflicts: Vec::new(),
            world_conflicts,
            trail: Vec::new(),
            steps: 0,
        }
    }

    fn label(&self, id: usize) -> String {
        self.universe.package(id).info.name_version()
    }

    /// Returns true when a chosen package already satisfies `dependency`.
    fn is_satisfied(&self, dependency: &Dependency) -> bool {
        let name = dependency.name.as_str();
        if let Some(&owner) = self.owners.get(name) {
            let info = self.universe.package(owner).info;
            let version = if info.name == name {
                Some(&info.version)
            } else {
                info.provides
                    .iter()
                    .find(|p| p.name == name)
                    .and_then(|p| p.version.as_ref())
            };
            let checksum = info.checksum.map(|c| c.to_string());
            if dependency.matches(version, checksum.as_deref()) {
                return true;
            }
        }
        dependency.constraint == Constraint::Any && self.unversioned.contains_key(name)
    }

    fn satisfy(
        &mut self,
        dependency: &'r Dependency,
        chain: &[String],
        declared_by: Option<usize>,
    ) -> Result<(), ResolveError> {
        if dependency.conflict {
            return self.add_conflict(dependency, chain, declared_by);
        }
        match self.choose(dependency, chain)? {
            Ok(()) => Ok(()),
            Err(failure) => Err(ResolveError::Unsatisfiable(failure)),
        }
    }

    fn add_conflict(
        &mut self,
        dependency: &'r Dependency,
        chain: &[String],
        declared_by: Option<usize>,
    ) -> Result<(), ResolveError> {
        if let Some(id) = self.chosen_matching(dependency) {
            let failure = Unsatisfiable {
                constraint: dependency.to_string(),
                required_by: chain.to_vec(),
                rejections: vec![Rejection {
                    package: self.label(id),
                    repository: self.universe.repository_name(id).to_owned(),
                    reason: "already chosen, and the conflict forbids it".to_owned(),
                }],
                cause: None,
            };
            return Err(ResolveError::Unsatisfiable(Box::new(failure)));
        }
        self.conflicts.push((dependency, declared_by));
        self.trail.push(Undo::Conflict);
        Ok(())
    }

    /// Returns a chosen package that a conflict `dependency` (`!name...`) forbids.
    fn chosen_matching(&self, dependency: &Dependency) -> Option<usize> {
        self.universe
            .providers(&dependency.name)
            .iter()
            .find(|p| self.is_chosen[p.package] && dependency.matches(p.version, None))
            .map(|p| p.package)
    }

    /// Tries candidates for `dependency`. The outer error stops the whole resolution; the
    /// inner one reports this dependency as unsatisfiable so the caller can backtrack.
    fn choose(
        &mut self,
        dependency: &'r Dependency,
        chain: &[String],
    ) -> Result<Result<(), Failure>, ResolveError> {
        if self.is_satisfied(dependency) {
            return Ok(Ok(()));
        }
        if chain.len() > MAX_DEPTH {
            return Err(ResolveError::TooDeep { limit: MAX_DEPTH });
        }
        let mut rejections = Vec::new();
        let mut cause = None;
        for provider in self.ordered_providers(dependency) {
            let id = provider.package;
            if let Err(reason) = self.check_candidate(dependency, provider) {
                rejections.push(self.rejection(id, reason));
                continue;
            }
            self.steps += 1;
            if self.steps > MAX_STEPS {
                return Err(ResolveError::TooManySteps { limit: MAX_STEPS });
            }
            let mark = self.trail.len();
            match self.choose_package(id, chain)? {
                Ok(()) => return Ok(Ok(())),
                Err(failure) => {
                    self.rollback(mark);
                    let reason =
                        format!("needs `{}`, which cannot be satisfied", failure.constraint);
                    rejections.push(self.rejection(id, reason));
                    cause = Some(failure);
                }
            }
        }
        Ok(Err(Box::new(Unsatisfiable {
            constraint: dependency.to_string(),
            required_by: chain.to_vec(),
            rejections,
            cause,
        })))
    }

    fn rejection(&self, id: usize, reason: String) -> Rejection {
        Rejection {
            package: self.label(id),
            repository: self.universe.repository_name(id).to_owned(),
            reason,
        }
    }

    /// Marks `id` chosen and satisfies its dependencies.
    fn choose_package(
        &mut self,
        id: usize,
        chain: &[String],
    ) -> Result<Result<(), Failure>, ResolveError> {
        let info = self.universe.package(id).info;
        self.mark_chosen(id);
        let mut next_chain = chain.to_vec();
        next_chain.push(info.name_version());
        for dependency in &info.depends {
            if dependency.conflict {
                if let Err(ResolveError::Unsatisfiable(failure)) =
                    self.add_conflict(dependency, &next_chain, Some(id))
                {
                    return Ok(Err(failure));
                }
                continue;
            }
            if let Err(failure) = self.choose(dependency, &next_chain)? {
                return Ok(Err(failure));
            }
        }
        Ok(Ok(()))
    }

    fn mark_chosen(&mut self, id: usize) {
        let info = self.universe.package(id).info;
        self.is_chosen[id] = true;
        self.chosen.push(id);
        self.trail.push(Undo::Chosen);
        self.owners.insert(info.name.as_str(), id);
        self.trail.push(Undo::Owner(info.name.as_str()));
        for provide in &info.provides {
            let name = provide.name.as_str();
            if provide.version.is_some() {
                if !self.owners.contains_key(name) {
                    self.owners.insert(name, id);
                    self.trail.push(Undo::Owner(name));
                }
            } else {
                self.unversioned.entry(name).or_default().push(id);
                self.trail.push(Undo::Unversioned(name));
            }
        }
    }

    fn rollback(&mut self, mark: usize) {
        while self.trail.len() > mark {
            let Some(undo) = self.trail.pop() else {
                break;
            };
            match undo {
                Undo::Chosen => {
                    if let Some(id) = self.chosen.pop() {
                        self.is_chosen[id] = false;
                    }
                }
                Undo::Owner(name) => {
                    self.owners.remove(name);
                }
                Undo::Unversioned(name) => {
                    if let Some(list) = self.unversioned.get_mut(name) {
                        list.pop();
                        if list.is_empty() {
                            self.unversioned.remove(name);
                        }
                    }
                }
                Undo::Conflict => {
                    self.conflicts.pop();
                }
            }
        }
    }

    /// Returns the providers of the dependency's name in preference order.
    fn ordered_providers(&self, dependency: &Dependency) -> Vec<Provider<'r>> {
        let mut providers = self.universe.providers(&dependency.name).to_vec();
        providers.sort_by(|a, b| self.prefer(a, b));
        providers
    }

    fn prefer(&self, a: &Provider<'r>, b: &Provider<'r>) -> Ordering {
        let pa = self.universe.package(a.package);
        let pb = self.universe.package(b.package);
        b.own_name
            .cmp(&a.own_name)
            .then_with(|| pb.info.provider_priority.cmp(&pa.info.provider_priority))
            .then_with(|| b.version.cmp(&a.version))
            .then_with(|| pb.info.version.cmp(&pa.info.version))
            .then_with(|| pa.repository.cmp(&pb.repository))
            .then_with(|| pa.info.name.cmp(&pb.info.name))
            .then_with(|| a.package.cmp(&b.package))
    }

    /// Returns why a provider cannot satisfy `dependency` in the current state.
    fn check_candidate(
        &self,
        dependency: &Dependency,
        provider: Provider<'r>,
    ) -> Result<(), String> {
        let id = provider.package;
        let info = self.universe.package(id).info;
        let arch = self.universe.arch();
        if info.arch != arch && info.arch != "noarch" {
            return Err(format!("built for {}, not {arch}", info.arch));
        }

        let tag = self.universe.repository_tag(id);
        if let Some(tag) = tag
            && dependency.tag.as_deref() != Some(tag)
            && !self.pinned_to(&info.name, tag)
        {
            return Err(format!(
                "its repository is tagged @{tag}, so it needs `{}@{tag}`",
                info.name
            ));
        }

        let checksum = info.checksum.map(|c| c.to_string());
        if !dependency.matches(provider.version, checksum.as_deref()) {
            return Err(match provider.version {
                Some(version) if provider.own_name => {
                    format!("version {version} does not match `{dependency}`")
                }
                Some(version) => format!(
                    "provides `{}={version}`, which does not match `{dependency}`",
                    dependency.name
                ),
                None => format!("provides `{}` without a version", dependency.name),
            });
        }
        if !provider.own_name && provider.version.is_none() && info.provider_priority.is_none() {
            return Err(format!(
                "provides `{}` without a version or provider_priority, so it is only \
                 installed when named explicitly",
                dependency.name
            ));
        }

        self.check_pins(id)?;
        self.check_owners(id)?;
        self.check_conflicts(id)
    }

    fn pinned_to(&self, name: &str, tag: &str) -> bool {
        self.pins
            .get(name)
            .is_some_and(|pins| pins.iter().any(|pin| pin.tag.as_deref() == Some(tag)))
    }

    fn check_pins(&self, id: usize) -> Result<(), String> {
        let info = self.universe.package(id).info;
        let checksum = info.checksum.map(|c| c.to_string());
        for pin in self.pins.get(info.name.as_str()).into_iter().flatten() {
            if !pin.matches(Some(&info.version), checksum.as_deref()) {
                return Err(format!("the world pins `{pin}`"));
            }
        }
        for conflict in &self.world_conflicts {
            if conflict.name == info.name && conflict.matches_version(&info.version) {
                return Err(format!("the world forbids it with `{conflict}`"));
            }
        }
        Ok(())
    }

    fn check_owners(&self, id: usize) -> Result<(), String> {
        let info = self.universe.package(id).info;
        let owned = std::iter::once(info.name.as_str()).chain(
            info.provides
                .iter()
                .filter(|p| p.version.is_some())
                .map(|p| p.name.as_str()),
        );
        for name in owned {
            if let Some(&owner) = self.owners.get(name) {
                return Err(format!(
                    "`{name}` is already provided by {}",
                    self.label(owner)
                ));
            }
        }
        Ok(())
    }

    fn check_conflicts(&self, id: usize) -> Result<(), String> {
        let info = self.universe.package(id).info;
        for (conflict, declared_by) in &self.conflicts {
            let hit = std::iter::once((info.name.as_str(), Some(&info.version))).chain(
                info.provides
                    .iter()
                    .map(|p| (p.name.as_str(), p.version.as_ref())),
            );
            for (name, version) in hit {
                if name == conflict.name && conflict.matches(version, None) {
                    let by = declared_by.map_or_else(|| "the world".to_owned(), |p| self.label(p));
                    return Err(format!("{by} conflicts with it (`{conflict}`)"));
                }
            }
        }
        for dependency in info.depends.iter().filter(|d| d.conflict) {
            if let Some(other) = self.chosen_matching(dependency) {
                return Err(format!(
                    "it conflicts with chosen {} (`{dependency}`)",
                    self.label(other)
                ));
            }
        }
        Ok(())
    }

    /// Returns true when some package named `name` has all its `install_if` conditions
    /// met, a cheap test done before ranking candidates.
    fn any_install_if_holds(&self, name: &str) -> bool {
        self.universe.providers(name).iter().any(|provider| {
            let info = self.universe.package(provider.package).info;
            provider.own_name
                && !info.install_if.is_empty()
                && info
                    .install_if
                    .iter()
                    .all(|condition| self.is_satisfied(condition))
        })
    }

    /// Adds `install_if` packages whose conditions hold, until nothing changes. Only the
    /// preferred version of each name is considered; one whose dependencies fail is
    /// skipped, as apk-tools does.
    fn add_install_if(&mut self) -> Result<(), ResolveError> {
        let names = self.universe.install_if_names();
        loop {
            let mut added = false;
            for &name in names {
                if self.owners.contains_key(name) || !self.any_install_if_holds(name) {
                    continue;
                }
                let dependency = Dependency::any(name);
                let Some(provider) = self
                    .ordered_providers(&dependency)
                    .into_iter()
                    .filter(|p| p.own_name)
                    .find(|p| self.check_candidate(&dependency, *p).is_ok())
                else {
                    continue;
                };
                let info = self.universe.package(provider.package).info;
                if !info
                    .install_if
                    .iter()
                    .all(|condition| self.is_satisfied(condition))
                {
                    continue;
                }
                let mark = self.trail.len();
                let chain = vec!["install_if".to_owned()];
                match self.choose_package(provider.package, &chain)? {
                    Ok(()) => added = true,
                    Err(_) => self.rollback(mark),
                }
            }
            if !added {
                return Ok(());
            }
        }
    }
}
