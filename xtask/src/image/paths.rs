//! `paths` entries of a config, applied in order after accounts, as apko applies them.
//! `directory`, `empty-file`, `hardlink` and `symlink` create an entry (with missing
//! parents, 0755) and then set the entry's permissions and owner. `permissions` changes
//! an existing entry, and with `recursive` everything under it.

use std::path::Path;

use crate::catalog::apko::PathEntry;

use super::error::BuildError;
use super::tree::{Content, Node, NodeKind, Tree, normalize, parent_of};

/// Mode used when an entry gives no `permissions`.
/// NOTE: apko applies mode 0 then; here folders get 0755 and files 0644 instead.
fn default_mode(kind: &str) -> u32 {
    if kind == "directory" { 0o755 } else { 0o644 }
}

/// Applies every `paths` entry; `file` names the config in errors.
pub fn apply_paths(tree: &mut Tree, entries: &[PathEntry], file: &Path) -> Result<(), BuildError> {
    for entry in entries {
        apply_one(tree, entry).map_err(|message| {
            BuildError::config(
                file,
                format!(
                    "paths entry `{}` ({}): {message}",
                    entry.path.value, entry.kind.value
                ),
            )
        })?;
    }
    Ok(())
}

fn apply_one(tree: &mut Tree, entry: &PathEntry) -> Result<(), String> {
    let path = image_path(&entry.path.value)?;
    let kind = entry.kind.value.as_str();
    let mode = entry
        .permissions
        .as_ref()
        .map_or_else(|| default_mode(kind), |p| p.value & 0o7777);
    match kind {
        "directory" => {
            if !tree.create_dir_all(&path, mode) {
                return Err("a parent or the path itself exists and is not a folder".to_owned());
            }
        }
        "empty-file" => insert_with_parents(tree, &path, Node::file(mode, Vec::new()))?,
        "symlink" => {
            let target = source(entry)?;
            insert_with_parents(tree, &path, Node::symlink(target))?;
            // Symlinks have no permissions of their own, so only the owner applies.
            if let Some(node) = tree.get_mut(&path) {
                node.uid = u64::from(entry.uid);
                node.gid = u64::from(entry.gid);
            }
            return Ok(());
        }
        "hardlink" => {
            let target = image_path(&source(entry)?)?;
            match tree.get(&target).map(|node| &node.kind) {
                Some(NodeKind::File(_) | NodeKind::HardLink(_)) => {}
                _ => {
                    return Err(format!(
                        "hard link source `/{target}` is not a regular file"
                    ));
                }
            }
            let link = Node {
                kind: NodeKind::HardLink(target.clone()),
                ..Node::file(mode, Vec::new())
            };
            insert_with_parents(tree, &path, link)?;
            // A hard link shares its target's inode, so the permissions go to the target.
            return set_permissions(tree, &target, mode, entry, false);
        }
        "permissions" => {}
        other => return Err(format!("unknown type `{other}`")),
    }
    set_permissions(tree, &path, mode, entry, entry.recursive)
}

fn source(entry: &PathEntry) -> Result<String, String> {
    entry
        .source
        .as_ref()
        .map(|source| source.value.clone())
        .ok_or_else(|| "`source` is missing".to_owned())
}

/// Normalizes a path from a config, rejecting any that leaves the image root.
fn image_path(path: &str) -> Result<String, String> {
    let normalized = normalize(path).map_err(|error| format!("`{path}`: {error}"))?;
    if normalized.is_empty() {
        return Err("the image root itself cannot be changed".to_owned());
    }
    Ok(normalized)
}

fn insert_with_parents(tree: &mut Tree, path: &str, node: Node) -> Result<(), String> {
    if let Some(parent) = parent_of(path)
        && !tree.create_dir_all(parent, 0o755)
    {
        return Err(format!("parent `/{parent}` is not a folder"));
    }
    if tree.get(path).is_some_and(Node::is_dir) {
        return Err("a folder exists at this path".to_owned());
    }
    tree.insert(path, node);
    Ok(())
}

/// Sets the mode (except on symlinks) and the owner of `path`, or of everything under
/// it when `recursive`.
/// NOTE: apko leaves the owner alone when an entry sets neither `uid` nor `gid`. The
/// catalog model reads a missing id as 0, so such entries make the owner root here.
fn set_permissions(
    tree: &mut Tree,
    path: &str,
    mode: u32,
    entry: &PathEntry,
    recursive: bool,
) -> Result<(), String> {
    if tree.get(path).is_none() {
        return Err("no such file or folder in the image".to_owned());
    }
    let targets = if recursive {
        tree.paths_under(path)
    } else {
        vec![path.to_owned()]
    };
    for target in targets {
        if let Some(node) = tree.get_mut(&target) {
            if !matches!(node.kind, NodeKind::Symlink(_)) {
                node.mode = mode;
            }
            node.uid = u64::from(entry.uid);
            node.gid = u64::from(entry.gid);
        }
    }
    Ok(())
}

/// Writes `/sv/<service>/run` for each service of a `service-bundle` entrypoint, run by
/// s6-svscan with execline, as apko writes them.
pub fn write_service_bundle<'a>(
    tree: &mut Tree,
    services: impl IntoIterator<Item = (&'a String, &'a String)>,
    file: &Path,
) -> Result<(), BuildError> {
    for (name, command) in services {
        if name.is_empty() || name.contains('/') || name == "." || name == ".." {
            return Err(BuildError::config(
                file,
                format!("service name `{name}` must be one path component"),
            ));
        }
        // apko creates these folders with mode 0777.
        tree.create_dir_all(&format!("sv/{name}"), 0o777);
        let script = format!("#!/bin/execlineb\n{command}\n");
        let node = Node {
            kind: NodeKind::File(Content::Inline(script.into_bytes())),
            ..Node::file(0o755, Vec::new())
        };
        tree.insert(&format!("sv/{name}/run"), node);
    }
    Ok(())
}
