//! Installing packages into the tree, in install order, the way apk-tools extracts them:
//! folders merge (the first definition keeps its metadata), and a file, link or
//! symlink that another package already installed is an error unless one of the two
//! packages `replaces` the other. Package scripts are kept for `scripts.tar` but never
//! run.

use std::io;
use std::path::Path;

use apk::installed_db::InstalledPackage;
use apk::{DataEntry, EntryKind, EntryOptions};

use super::error::BuildError;
use super::resolve::SelectedPackage;
use super::tree::{Node, NodeKind, Spool, Tree};

/// The tree after installing packages, with the installed-database records.
pub struct Installation {
    /// The file system.
    pub tree: Tree,
    /// Contents of the package files.
    pub spool: Spool,
    /// One installed-database record per package, in install order.
    pub records: Vec<InstalledPackage>,
}

/// Installs `packages` in order on top of `tree`, spooling file contents into a
/// temporary file in `spool_dir`.
pub fn install(
    tree: Tree,
    packages: &[SelectedPackage],
    spool_dir: &Path,
) -> Result<Installation, BuildError> {
    let spool = Spool::create_in(spool_dir).map_err(BuildError::io(spool_dir))?;
    let mut installer = Installer {
        tree,
        spool,
        records: Vec::new(),
        packages,
    };
    for (index, selected) in packages.iter().enumerate() {
        installer.install_one(index, selected)?;
    }
    Ok(Installation {
        tree: installer.tree,
        spool: installer.spool,
        records: installer.records,
    })
}

struct Installer<'a> {
    tree: Tree,
    spool: Spool,
    records: Vec<InstalledPackage>,
    packages: &'a [SelectedPackage],
}

/// What to do with an entry whose path is taken.
enum Placement {
    /// Write the entry, replacing what is there.
    Write,
    /// Keep what is there and leave this entry out of the image and the database.
    Skip,
}

impl Installer<'_> {
    fn install_one(&mut self, index: usize, selected: &SelectedPackage) -> Result<(), BuildError> {
        let mut record = InstalledPackage::new(selected.file.package.index_entry());
        record.repository_tag = selected.tag.clone();
        let mut failure = None;
        let result = selected
            .file
            .package
            .for_each_entry(EntryOptions::default(), |entry| {
                match self.place(index, entry) {
                    Ok(true) => record.add_entry(entry),
                    Ok(false) => {}
                    Err(error) => {
                        failure = Some(error);
                        return Err(io::Error::other("installation stopped"));
                    }
                }
                Ok(())
            });
        if let Some(error) = failure {
            return Err(error);
        }
        result.map_err(|source| BuildError::Package {
            package: selected.info.name_version(),
            source: Box::new(source),
        })?;
        tracing::trace!(package = %selected.info.name_version(), "installed package");
        self.records.push(record);
        Ok(())
    }

    /// Puts one entry into the tree; returns whether the database lists it.
    /// NOTE: paths are taken as written. apk-tools follows a symlinked parent folder
    /// (`lib` -> `usr/lib`) when extracting, while here `lib/x` stays a separate entry
    /// under the symlink.
    fn place(&mut self, index: usize, entry: &mut DataEntry<'_>) -> Result<bool, BuildError> {
        let kind = match entry.kind {
            EntryKind::Directory => return self.place_dir(index, entry),
            EntryKind::File => None,
            EntryKind::Symlink => Some(NodeKind::Symlink(
                entry.link_target.clone().unwrap_or_default(),
            )),
            EntryKind::HardLink => Some(NodeKind::HardLink(
                entry.link_target.clone().unwrap_or_default(),
            )),
            // Devices are rejected by the entry reader under the default options.
            EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => {
                return Ok(false);
            }
        };
        if let Placement::Skip = self.check_taken(index, &entry.path)? {
            return Ok(false);
        }
        let kind = match kind {
            Some(kind) => kind,
            None => {
                let content = self.spool.append(entry).map_err(|e| BuildError::Io {
                    path: format!("spool for /{}", entry.path).into(),
                    source: e,
                })?;
                NodeKind::File(content)
            }
        };
        self.tree.insert(&entry.path, self.node(index, entry, kind));
        Ok(true)
    }

    fn node(&self, index: usize, entry: &DataEntry<'_>, kind: NodeKind) -> Node {
        Node {
            kind,
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            xattrs: entry.xattrs.clone(),
            owner: Some(index),
        }
    }

    fn place_dir(&mut self, index: usize, entry: &DataEntry<'_>) -> Result<bool, BuildError> {
        match self.tree.get(&entry.path) {
            Some(existing) if existing.is_dir() => Ok(true),
            Some(existing) => Err(self.conflict(&entry.path, existing.owner, index)),
            None => {
                let node = self.node(index, entry, NodeKind::Directory);
                self.tree.insert(&entry.path, node);
                Ok(true)
            }
        }
    }

    /// Decides what happens when package `index` installs a non-folder at `path`.
    fn check_taken(&mut self, index: usize, path: &str) -> Result<Placement, BuildError> {
        let Some(existing) = self.tree.get(path) else {
            return Ok(Placement::Write);
        };
        let Some(owner) = existing.owner.filter(|_| !existing.is_dir()) else {
            return match existing.is_dir() {
                true => Err(self.conflict(path, existing.owner, index)),
                false => Ok(Placement::Write),
            };
        };
        if self.replaces(index, owner) {
            tracing::debug!(path, "file replaced by a later package");
            self.forget_file(owner, path);
            return Ok(Placement::Write);
        }
        if self.replaces(owner, index) {
            tracing::debug!(path, "file kept because its package replaces the later one");
            return Ok(Placement::Skip);
        }
        Err(self.conflict(path, Some(owner), index))
    }

    /// Returns true when package `by` declares that it replaces package `other`.
    fn replaces(&self, by: usize, other: usize) -> bool {
        let (Some(by), Some(other)) = (self.packages.get(by), self.packages.get(other)) else {
            return false;
        };
        // `.PKGINFO` is read rather than the index entry: indexes written by melange
        // leave `replaces` out.
        let replaces = &by.file.package.pkginfo().info.replaces;
        replaces.iter().any(|dependency| {
            dependency.name == other.info.name && dependency.matches_version(&other.info.version)
        })
    }

    /// Removes a replaced file from its former owner's database record.
    fn forget_file(&mut self, owner: usize, path: &str) {
        let (parent, name) = path.rsplit_once('/').unwrap_or(("", path));
        let Some(record) = self.records.get_mut(owner) else {
            return;
        };
        for dir in record.dirs.iter_mut().filter(|dir| dir.path == parent) {
            dir.files.retain(|file| file.name != name);
        }
    }

    fn conflict(&self, path: &str, first: Option<usize>, second: usize) -> BuildError {
        let name = |index: Option<usize>| {
            index
                .and_then(|i| self.packages.get(i))
                .map_or_else(|| "the image build".to_owned(), |p| p.info.name_version())
        };
        BuildError::Conflict {
            path: path.to_owned(),
            first: name(first),
            second: name(Some(second)),
        }
    }
}
