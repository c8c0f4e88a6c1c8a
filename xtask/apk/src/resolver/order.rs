//! Install order: dependencies before dependants.

use super::universe::Universe;
use crate::dependency::Dependency;

/// Orders `chosen` so that every package comes after the packages that satisfy its
/// dependencies. Dependency cycles (which real indexes have) are broken at the edge that
/// closes the cycle. The walk starts from the world dependencies in order, then the rest
/// in choice order, so the result is deterministic.
pub(super) fn install_order(
    universe: &Universe<'_>,
    chosen: &[usize],
    world: &[Dependency],
) -> Vec<usize> {
    let mut walk = Walk {
        universe,
        chosen,
        state: vec![Mark::Unvisited; chosen.len()],
        order: Vec::with_capacity(chosen.len()),
    };
    for dependency in world.iter().filter(|d| !d.conflict) {
        if let Some(position) = walk.provider_position(dependency) {
            walk.visit(position);
        }
    }
    for position in 0..chosen.len() {
        walk.visit(position);
    }
    walk.order
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Unvisited,
    InProgress,
    Done,
}

struct Walk<'a, 'r> {
    universe: &'a Universe<'r>,
    chosen: &'a [usize],
    state: Vec<Mark>,
    order: Vec<usize>,
}

impl Walk<'_, '_> {
    /// Returns the position in `chosen` of the package that satisfies `dependency`.
    fn provider_position(&self, dependency: &Dependency) -> Option<usize> {
        let matches = |id: usize| {
            let info = self.universe.package(id).info;
            if info.name == dependency.name {
                return dependency.matches(Some(&info.version), None);
            }
            info.provides
                .iter()
                .any(|p| p.name == dependency.name && dependency.matches(p.version.as_ref(), None))
        };
        self.chosen.iter().position(|&id| matches(id))
    }

    fn visit(&mut self, position: usize) {
        // An explicit stack instead of recursion, so long chains cannot overflow it.
        let mut stack = vec![(position, 0usize)];
        while let Some((current, next_dependency)) = stack.pop() {
            if next_dependency == 0 {
                if self.state.get(current) != Some(&Mark::Unvisited) {
                    continue;
                }
                if let Some(mark) = self.state.get_mut(current) {
                    *mark = Mark::InProgress;
                }
            }
            let Some(&id) = self.chosen.get(current) else {
                continue;
            };
            let depends = &self.universe.package(id).info.depends;
            let pending = depends
                .iter()
                .enumerate()
                .skip(next_dependency)
                .filter(|(_, d)| !d.conflict)
                .find_map(|(index, d)| {
                    let target = self.provider_position(d)?;
                    (self.state.get(target) == Some(&Mark::Unvisited)).then_some((index, target))
                });
            match pending {
                Some((index, target)) => {
                    stack.push((current, index + 1));
                    stack.push((target, 0));
                }
                None => {
                    if let Some(mark) = self.state.get_mut(current) {
                        *mark = Mark::Done;
                    }
                    self.order.push(id);
                }
            }
        }
    }
}
