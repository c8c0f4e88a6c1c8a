//! The image file system being assembled: metadata of every entry in memory, sorted by
//! path, and file contents either inline (generated files) or in a [`Spool`] on disk
//! (package files), so that large images never sit in memory whole.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::Path;

/// Mode of folders created implicitly as parents.
pub const DEFAULT_DIR_MODE: u32 = 0o755;

/// Storage of a file's content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    /// Bytes held in memory.
    Inline(Vec<u8>),
    /// A byte range of the spool file.
    Spooled {
        /// Start of the content in the spool.
        offset: u64,
        /// Length in bytes.
        len: u64,
    },
}

impl Content {
    /// Returns the content length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Content::Inline(bytes) => bytes.len() as u64,
            Content::Spooled { len, .. } => *len,
        }
    }

    /// Returns true for empty content.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Type of an entry, with its content or link target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NodeKind {
    /// A folder.
    Directory,
    /// A regular file.
    File(Content),
    /// A symbolic link with its target as written.
    Symlink(String),
    /// A hard link to another regular file of the tree (a normalized path).
    HardLink(String),
}

/// One entry of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The entry type and content.
    pub kind: NodeKind,
    /// Permission bits including setuid, setgid and sticky.
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Extended attributes, sorted by name.
    pub xattrs: Vec<(String, Vec<u8>)>,
    /// Index of the package that installed the entry, in install order; `None` for
    /// entries the build generated.
    pub owner: Option<usize>,
}

impl Node {
    /// Creates a root-owned folder with `mode`.
    pub fn directory(mode: u32) -> Self {
        Self::new(NodeKind::Directory, mode)
    }

    /// Creates a root-owned file with inline content.
    pub fn file(mode: u32, content: impl Into<Vec<u8>>) -> Self {
        Self::new(NodeKind::File(Content::Inline(content.into())), mode)
    }

    /// Creates a root-owned symlink.
    pub fn symlink(target: impl Into<String>) -> Self {
        Self::new(NodeKind::Symlink(target.into()), 0o777)
    }

    fn new(kind: NodeKind, mode: u32) -> Self {
        Self {
            kind,
            mode,
            uid: 0,
            gid: 0,
            xattrs: Vec::new(),
            owner: None,
        }
    }

    /// Returns true for a folder.
    pub fn is_dir(&self) -> bool {
        self.kind == NodeKind::Directory
    }
}

/// The assembled file system, keyed by normalized relative path (`etc/passwd`).
#[derive(Debug, Default)]
pub struct Tree {
    nodes: BTreeMap<String, Node>,
}

impl Tree {
    /// Creates an empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// Returns the entry at `path`.
    pub fn get(&self, path: &str) -> Option<&Node> {
        self.nodes.get(path)
    }

    /// Returns the entry at `path` for changing.
    pub fn get_mut(&mut self, path: &str) -> Option<&mut Node> {
        self.nodes.get_mut(path)
    }

    /// Sets the entry at `path`, replacing any entry there, and creates missing parent
    /// folders (mode 0755, owner root).
    pub fn insert(&mut self, path: &str, node: Node) {
        self.create_parents(path);
        self.nodes.insert(path.to_owned(), node);
    }

    /// Removes the entry at `path` and returns it.
    pub fn remove(&mut self, path: &str) -> Option<Node> {
        self.nodes.remove(path)
    }

    /// Creates the folder `path` with `mode` and its missing parents. Existing folders
    /// keep their metadata. Returns false when `path` or a parent exists as a non-folder.
    pub fn create_dir_all(&mut self, path: &str, mode: u32) -> bool {
        if path.is_empty() {
            return true;
        }
        if let Some(parent) = parent_of(path)
            && !self.create_dir_all(parent, DEFAULT_DIR_MODE)
        {
            return false;
        }
        match self.nodes.get(path) {
            Some(node) => node.is_dir(),
            None => {
                self.nodes.insert(path.to_owned(), Node::directory(mode));
                true
            }
        }
    }

    fn create_parents(&mut self, path: &str) {
        let mut parent = parent_of(path);
        let mut missing = Vec::new();
        while let Some(dir) = parent {
            if self.nodes.contains_key(dir) {
                break;
            }
            missing.push(dir.to_owned());
            parent = parent_of(dir);
        }
        for dir in missing {
            self.nodes.insert(dir, Node::directory(DEFAULT_DIR_MODE));
        }
    }

    /// Iterates over every entry in path order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter()
    }

    /// Returns the paths at or under `path`, in order.
    pub fn paths_under(&self, path: &str) -> Vec<String> {
        if path.is_empty() {
            return self.nodes.keys().cloned().collect();
        }
        let prefix = format!("{path}/");
        let children = self
            .nodes
            .range(prefix.clone()..)
            .take_while(|(key, _)| key.starts_with(&prefix))
            .map(|(key, _)| key.clone());
        self.nodes
            .get_key_value(path)
            .map(|(key, _)| key.clone())
            .into_iter()
            .chain(children)
            .collect()
    }

    /// Returns the number of entries.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Returns true when the tree has no entry.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }
}

/// Returns the parent folder of a normalized path, or `None` at the top level.
pub fn parent_of(path: &str) -> Option<&str> {
    path.rsplit_once('/').map(|(parent, _)| parent)
}

/// Reason a path from a config cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    /// `..` would leave the image root.
    #[error("the path leaves the image root")]
    OutsideRoot,
    /// The path contains a NUL byte.
    #[error("the path contains a NUL byte")]
    Nul,
}

/// Normalizes an image path (`/var/lib/../log/`) to the tree's form (`var/log`), resolving
/// `.` and `..` lexically. The root is the empty string.
pub fn normalize(path: &str) -> Result<String, PathError> {
    if path.contains('\0') {
        return Err(PathError::Nul);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop().ok_or(PathError::OutsideRoot)?;
            }
            part => parts.push(part),
        }
    }
    Ok(parts.join("/"))
}

/// An append-only temporary file holding package file contents until the layer is
/// written. It is deleted when dropped.
pub struct Spool {
    file: File,
    len: u64,
}

impl Spool {
    /// Creates a spool file in `dir`.
    pub fn create_in(dir: &Path) -> io::Result<Self> {
        let file = tempfile::tempfile_in(dir)?;
        Ok(Self { file, len: 0 })
    }

    /// Copies everything `reader` yields to the end of the spool and returns where it is.
    pub fn append(&mut self, reader: &mut dyn Read) -> io::Result<Content> {
        let offset = self.len;
        let mut writer = io::BufWriter::with_capacity(1 << 16, &self.file);
        let len = io::copy(reader, &mut writer)?;
        writer.flush()?;
        self.len += len;
        Ok(Content::Spooled { offset, len })
    }

    /// Returns a reader over `content`.
    pub fn reader<'a>(&'a self, content: &'a Content) -> ContentReader<'a> {
        match content {
            Content::Inline(bytes) => ContentReader::Inline(bytes.as_slice()),
            Content::Spooled { offset, len } => ContentReader::Spooled {
                file: &self.file,
                position: *offset,
                end: offset + len,
            },
        }
    }

    /// Reads `content` into memory, for small files the build edits (`/etc/passwd`).
    pub fn read_all(&self, content: &Content) -> io::Result<Vec<u8>> {
        let mut bytes = Vec::new();
        self.reader(content).read_to_end(&mut bytes)?;
        Ok(bytes)
    }
}

/// Reads one file's content from memory or from the spool.
pub enum ContentReader<'a> {
    /// Inline bytes.
    Inline(&'a [u8]),
    /// A byte range of the spool file.
    Spooled {
        /// The spool file.
        file: &'a File,
        /// Next offset to read.
        position: u64,
        /// End offset, exclusive.
        end: u64,
    },
}

impl Read for ContentReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            ContentReader::Inline(bytes) => bytes.read(buf),
            ContentReader::Spooled {
                file,
                position,
                end,
            } => {
                let remaining = end.saturating_sub(*position);
                let want = buf
                    .len()
                    .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                let Some(target) = buf.get_mut(..want) else {
                    return Ok(0);
                };
                if target.is_empty() {
                    return Ok(0);
                }
                let count = file.read_at(target, *position)?;
                if count == 0 {
                    return Err(io::ErrorKind::UnexpectedEof.into());
                }
                *position += count as u64;
                Ok(count)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_resolves_dots() {
        assert_eq!(normalize("/var/lib/../log/").as_deref(), Ok("var/log"));
        assert_eq!(normalize("./etc//passwd").as_deref(), Ok("etc/passwd"));
        assert_eq!(normalize("/").as_deref(), Ok(""));
    }

    #[test]
    fn normalize_rejects_escape() {
        assert_eq!(normalize("/../etc"), Err(PathError::OutsideRoot));
        assert_eq!(normalize("a/../../b"), Err(PathError::OutsideRoot));
    }

    #[test]
    fn insert_creates_parents() {
        let mut tree = Tree::new();
        tree.insert("usr/lib/libc.so", Node::file(0o644, b"x".to_vec()));
        assert!(tree.get("usr").is_some_and(Node::is_dir));
        assert!(tree.get("usr/lib").is_some_and(Node::is_dir));
        assert_eq!(tree.len(), 3);
    }

    #[test]
    fn create_dir_all_stops_at_file() {
        let mut tree = Tree::new();
        tree.insert("etc", Node::file(0o644, Vec::new()));
        assert!(!tree.create_dir_all("etc/apk", 0o755));
    }

    #[test]
    fn paths_under_excludes_siblings() {
        let mut tree = Tree::new();
        for path in ["a/b", "a/b/c", "a/b-c", "a/bc"] {
            tree.insert(path, Node::directory(0o755));
        }
        assert_eq!(tree.paths_under("a/b"), vec!["a/b", "a/b/c"]);
    }

    #[test]
    fn spool_reads_back_ranges() {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut spool = Spool::create_in(dir.path()).expect("spool");
        let first = spool.append(&mut &b"hello"[..]).expect("append");
        let second = spool.append(&mut &b"world!"[..]).expect("append");
        assert_eq!(spool.read_all(&second).expect("read"), b"world!");
        assert_eq!(spool.read_all(&first).expect("read"), b"hello");
    }
}
