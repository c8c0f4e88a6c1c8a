//! What apko writes beyond package files so that `apk` works inside the image: base
//! folders, `/etc/apk/{world,repositories,arch,keys/}`, and the database under
//! `/usr/lib/apk/db` (`installed`, `scripts.tar`, `triggers`, `lock`), reachable through
//! the `/lib/apk` symlink as well, as apko 0.30 lays it out after its usr-merge change.

use std::fmt::Write as _;

use apk::installed_db::{InstalledPackage, write_installed_db};

use super::error::BuildError;
use super::repository::KeyFile;
use super::resolve::SelectedPackage;
use super::tree::{Node, Tree};

/// Folder of the installed database.
pub const DB_DIR: &str = "usr/lib/apk/db";

/// Folders created before any package, with their modes, as apko creates them.
const BASE_DIRS: [(&str, u32); 16] = [
    ("tmp", 0o1777),
    ("dev", 0o755),
    ("etc", 0o755),
    ("opt", 0o755),
    ("proc", 0o555),
    ("var", 0o755),
    ("usr", 0o755),
    ("etc/apk", 0o755),
    ("etc/apk/keys", 0o755),
    ("usr/lib", 0o755),
    ("usr/lib/apk", 0o755),
    ("usr/lib/apk/db", 0o755),
    ("usr/lib/apk/exec", 0o755),
    ("var/cache", 0o755),
    ("var/cache/apk", 0o755),
    ("var/cache/misc", 0o755),
];

/// Returns a tree holding the base folders. Packages are installed on top of it, so
/// their own definitions of these folders are merged into these.
pub fn base_tree() -> Tree {
    let mut tree = Tree::new();
    for (path, mode) in BASE_DIRS {
        tree.insert(path, Node::directory(mode));
    }
    tree
}

/// The apk configuration of an image.
pub struct ApkConfig<'a> {
    /// World constraints as the config writes them.
    pub world: &'a [String],
    /// Repositories written into `/etc/apk/repositories`.
    pub repositories: &'a [String],
    /// Keys copied into `/etc/apk/keys`.
    pub keys: &'a [KeyFile],
    /// The APK architecture name.
    pub apk_arch: &'a str,
}

/// Writes the apk configuration files and the installed database into the tree.
pub fn write_apk_files(
    tree: &mut Tree,
    config: &ApkConfig<'_>,
    packages: &[SelectedPackage],
    records: &[InstalledPackage],
    mtime: u64,
) -> Result<(), BuildError> {
    let mut world: Vec<&str> = config.world.iter().map(|w| w.trim()).collect();
    world.sort_unstable();
    world.dedup();
    tree.insert("etc/apk/world", Node::file(0o644, lines(&world)));
    let repositories: Vec<&str> = config.repositories.iter().map(String::as_str).collect();
    tree.insert(
        "etc/apk/repositories",
        Node::file(0o644, lines(&repositories)),
    );
    tree.insert(
        "etc/apk/arch",
        Node::file(0o644, format!("{}\n", config.apk_arch)),
    );
    for key in config.keys {
        tree.insert(
            &format!("etc/apk/keys/{}", key.name),
            Node::file(0o644, key.pem.clone()),
        );
    }
    let installed = write_installed_db(records);
    tree.insert(&format!("{DB_DIR}/installed"), Node::file(0o644, installed));
    tree.insert(
        &format!("{DB_DIR}/scripts.tar"),
        Node::file(0o644, scripts_tar(packages, mtime)?),
    );
    tree.insert(
        &format!("{DB_DIR}/triggers"),
        Node::file(0o644, triggers(packages)),
    );
    tree.insert(&format!("{DB_DIR}/lock"), Node::file(0o600, Vec::new()));
    link_lib_apk(tree);
    Ok(())
}

fn lines(items: &[&str]) -> String {
    let mut text = items.join("\n");
    text.push('\n');
    text
}

/// Makes `/lib/apk` point at `/usr/lib/apk` unless a package already put something there
/// (Alpine's apk-tools ships `/lib/apk` as a folder; usr-merged images make `/lib` a
/// symlink, through which the path already resolves).
fn link_lib_apk(tree: &mut Tree) {
    match tree.get("lib") {
        None => tree.insert("lib", Node::directory(0o755)),
        Some(node) if node.is_dir() => {}
        Some(_) => return,
    }
    if tree.get("lib/apk").is_none() {
        tree.insert("lib/apk", Node::symlink("../usr/lib/apk"));
    }
}

/// Builds `scripts.tar`: each package's executable control files (the install
/// scripts), named `<name>-<version>.<checksum>.<script>` as apk-tools names them.
fn scripts_tar(packages: &[SelectedPackage], mtime: u64) -> Result<Vec<u8>, BuildError> {
    let mut builder = tar::Builder::new(Vec::new());
    let io_error = BuildError::io(format!("/{DB_DIR}/scripts.tar"));
    let mut append = |name: &str, mode: u32, content: &[u8]| {
        let mut header = tar::Header::new_ustar();
        header.set_size(content.len() as u64);
        header.set_mode(mode);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        builder.append_data(&mut header, name, content)
    };
    let mut result = Ok(());
    'packages: for selected in packages {
        let package = &selected.file.package;
        for script in package.control_files() {
            // apko keeps only executable control files; melange also stores its recipe
            // (`.melange.yaml`) there, which is not a script.
            if script.mode & 0o555 != 0o555 {
                continue;
            }
            let name = format!(
                "{}.{}{}",
                selected.info.name_version(),
                package.checksum(),
                script.name
            );
            result = append(&name, script.mode, &script.content);
            if result.is_err() {
                break 'packages;
            }
        }
    }
    let bytes = result.and_then(|()| builder.into_inner());
    bytes.map_err(io_error)
}

/// Builds the `triggers` file: one line per package with triggers, its checksum then
/// the watched folders.
fn triggers(packages: &[SelectedPackage]) -> String {
    let mut text = String::new();
    for selected in packages {
        let package = &selected.file.package;
        let folders = &package.pkginfo().triggers;
        if folders.is_empty() {
            continue;
        }
        let _ = writeln!(text, "{} {}", package.checksum(), folders.join(" "));
    }
    text
}
