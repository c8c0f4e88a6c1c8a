//! Writing the tree as one gzip-compressed tar layer, streamed: entries come from the
//! tree in path order, contents from the spool, and the tar bytes pass through a SHA-256
//! (the diff ID) into the block compressor and through a second SHA-256 (the blob
//! digest) into the output file. Nothing holds the whole layer.
//!
//! Headers are POSIX ustar with PAX records only where ustar cannot hold a value (long
//! paths or link targets, large ids, extended attributes). Every entry carries the build
//! time, numeric ids only (no user or group names), and no device numbers, so the bytes
//! depend on the tree and the time alone.

use std::collections::HashMap;
use std::io::{self, Read, Write};

use crate::oci::{Digest, DigestWriter};

use super::compress::BlockGzipWriter;
use super::tree::{Content, Node, NodeKind, Spool, Tree};

/// gzip level of layers, the same as `gzip -6` and apko's default.
pub const GZIP_LEVEL: u32 = 6;

/// Maximum uid or gid a ustar header field stores (7 octal digits).
const MAX_USTAR_ID: u64 = 0o7_777_777;

/// Maximum length of a name or link target in the ustar `name`/`linkname` fields.
const MAX_USTAR_NAME: usize = 100;

/// How many hard links a chain may have before it is treated as a loop.
const MAX_LINK_DEPTH: usize = 32;

/// Digests and size of a written layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerBlob {
    /// Digest of the compressed blob.
    pub digest: Digest,
    /// Size of the compressed blob in bytes.
    pub size: u64,
    /// Digest of the uncompressed tar (the `diff_id`).
    pub diff_id: Digest,
    /// Size of the uncompressed tar in bytes.
    pub tar_size: u64,
}

/// Writes `tree` as a gzip-compressed tar to `out` and returns `out` with the digests.
pub fn write_layer<W: Write>(
    tree: &Tree,
    spool: &Spool,
    mtime: u64,
    out: W,
) -> io::Result<(W, LayerBlob)> {
    let compressed = DigestWriter::new(out);
    let gzip = BlockGzipWriter::new(compressed, GZIP_LEVEL);
    let uncompressed = DigestWriter::new(io::BufWriter::with_capacity(1 << 20, gzip));
    let mut builder = tar::Builder::new(uncompressed);
    let links = HardLinks::new(tree)?;
    let writer = EntryWriter {
        tree,
        spool,
        mtime,
        links: &links,
    };
    for (path, node) in tree.iter() {
        writer.write(&mut builder, path, node)?;
    }
    let uncompressed = builder.into_inner()?;
    let (buffered, diff_id, tar_size) = uncompressed.finish();
    let gzip = buffered
        .into_inner()
        .map_err(io::IntoInnerError::into_error)?;
    let compressed = gzip.finish()?;
    let (out, digest, size) = compressed.finish();
    Ok((
        out,
        LayerBlob {
            digest,
            size,
            diff_id,
            tar_size,
        },
    ))
}

/// Hard-link groups: every file that hard links point at, with all its names. The
/// first name in path order carries the content and the others link to it, because a
/// tar link must come after its target.
struct HardLinks {
    /// Any name of a group to the group's first name.
    canonical: HashMap<String, String>,
    /// The first name of a group to the file node holding the content.
    file_of: HashMap<String, String>,
}

impl HardLinks {
    fn new(tree: &Tree) -> io::Result<Self> {
        let mut groups: HashMap<String, Vec<String>> = HashMap::new();
        for (path, node) in tree.iter() {
            if let NodeKind::HardLink(_) = node.kind {
                let target = resolve_link(tree, path)?;
                groups.entry(target).or_default().push(path.clone());
            }
        }
        let mut canonical = HashMap::new();
        let mut file_of = HashMap::new();
        for (target, mut names) in groups {
            names.push(target.clone());
            names.sort();
            let first = names.first().cloned().unwrap_or_else(|| target.clone());
            for name in names {
                canonical.insert(name, first.clone());
            }
            file_of.insert(first, target);
        }
        Ok(Self { canonical, file_of })
    }
}

/// Follows hard links from `path` to the regular file they name.
fn resolve_link(tree: &Tree, path: &str) -> io::Result<String> {
    let mut current = path.to_owned();
    for _ in 0..MAX_LINK_DEPTH {
        match tree.get(&current).map(|node| &node.kind) {
            Some(NodeKind::HardLink(target)) => current = target.clone(),
            Some(NodeKind::File(_)) => return Ok(current),
            _ => {
                return Err(io::Error::other(format!(
                    "hard link `/{path}` does not lead to a regular file"
                )));
            }
        }
    }
    Err(io::Error::other(format!(
        "hard link `/{path}` forms a loop"
    )))
}

struct EntryWriter<'a> {
    tree: &'a Tree,
    spool: &'a Spool,
    mtime: u64,
    links: &'a HardLinks,
}

impl EntryWriter<'_> {
    fn write<W: Write>(
        &self,
        builder: &mut tar::Builder<W>,
        path: &str,
        node: &Node,
    ) -> io::Result<()> {
        let mut pax: Vec<(String, Vec<u8>)> = Vec::new();
        let mut header = tar::Header::new_ustar();
        let mut content: Option<&Content> = None;
        // Names of a hard-link group share the content node's metadata.
        let mut meta = node;
        match &node.kind {
            NodeKind::Directory => header.set_entry_type(tar::EntryType::Directory),
            NodeKind::Symlink(target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                set_link(&mut header, &mut pax, target)?;
            }
            NodeKind::File(_) | NodeKind::HardLink(_) => {
                let first = self.links.canonical.get(path).map_or(path, String::as_str);
                let file = self.links.file_of.get(first).map_or(path, String::as_str);
                meta = self.tree.get(file).unwrap_or(node);
                if first == path {
                    let NodeKind::File(file_content) = &meta.kind else {
                        return Err(io::Error::other(format!("`/{path}` has no content")));
                    };
                    header.set_entry_type(tar::EntryType::Regular);
                    content = Some(file_content);
                } else {
                    header.set_entry_type(tar::EntryType::Link);
                    set_link(&mut header, &mut pax, first)?;
                }
            }
        }
        self.set_metadata(&mut header, &mut pax, meta)?;
        set_path(&mut header, &mut pax, path)?;
        header.set_size(content.map_or(0, Content::len));
        header.set_cksum();
        pax.sort();
        if !pax.is_empty() {
            builder.append_pax_extensions(pax.iter().map(|(k, v)| (k.as_str(), v.as_slice())))?;
        }
        match content {
            Some(content) => builder.append(&header, self.spool.reader(content)),
            None => builder.append(&header, io::empty()),
        }
    }

    fn set_metadata(
        &self,
        header: &mut tar::Header,
        pax: &mut Vec<(String, Vec<u8>)>,
        node: &Node,
    ) -> io::Result<()> {
        header.set_mode(node.mode & 0o7777);
        header.set_mtime(self.mtime);
        for (key, id) in [("uid", node.uid), ("gid", node.gid)] {
            let stored = if id > MAX_USTAR_ID {
                pax.push((key.to_owned(), id.to_string().into_bytes()));
                0
            } else {
                id
            };
            if key == "uid" {
                header.set_uid(stored);
            } else {
                header.set_gid(stored);
            }
        }
        for (name, value) in &node.xattrs {
            pax.push((format!("SCHILY.xattr.{name}"), value.clone()));
        }
        Ok(())
    }
}

fn set_path(
    header: &mut tar::Header,
    pax: &mut Vec<(String, Vec<u8>)>,
    path: &str,
) -> io::Result<()> {
    if header.set_path(path).is_ok() {
        return Ok(());
    }
    pax.push(("path".to_owned(), path.as_bytes().to_vec()));
    let short = truncate(path, MAX_USTAR_NAME - 1);
    header.set_path(short)
}

fn set_link(
    header: &mut tar::Header,
    pax: &mut Vec<(String, Vec<u8>)>,
    target: &str,
) -> io::Result<()> {
    if target.len() < MAX_USTAR_NAME {
        return header.set_link_name_literal(target);
    }
    pax.push(("linkpath".to_owned(), target.as_bytes().to_vec()));
    header.set_link_name_literal(truncate(target, MAX_USTAR_NAME - 1))
}

/// Cuts `text` to at most `max` bytes on a character boundary, for the ustar fallback
/// fields that readers without PAX support see.
fn truncate(text: &str, max: usize) -> &str {
    let mut end = max.min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// Reads a gzip layer back into (path, entry type, size) triples, for tests and checks.
pub fn list_entries(layer: impl Read) -> io::Result<Vec<(String, tar::EntryType, u64)>> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(layer));
    let mut entries = Vec::new();
    for entry in archive.entries()? {
        let entry = entry?;
        let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        entries.push((path, entry.header().entry_type(), entry.size()));
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(tree: &Tree, spool: &Spool) -> (Vec<u8>, LayerBlob) {
        write_layer(tree, spool, 1_700_000_000, Vec::new()).expect("write layer")
    }

    #[test]
    fn layer_digests_match_content() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spool = Spool::create_in(dir.path()).expect("spool");
        let mut tree = Tree::new();
        tree.insert("etc/hostname", Node::file(0o644, b"box\n".to_vec()));
        let (bytes, blob) = write(&tree, &spool);
        assert_eq!(blob.digest, Digest::sha256_of(&bytes));
        assert_eq!(blob.size, bytes.len() as u64);
        let mut tar = Vec::new();
        flate2::read::GzDecoder::new(bytes.as_slice())
            .read_to_end(&mut tar)
            .expect("gunzip");
        assert_eq!(blob.diff_id, Digest::sha256_of(&tar));
    }

    #[test]
    fn hard_link_before_target_carries_content() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spool = Spool::create_in(dir.path()).expect("spool");
        let mut tree = Tree::new();
        tree.insert("bin/z", Node::file(0o755, b"binary".to_vec()));
        let link = Node {
            kind: NodeKind::HardLink("bin/z".to_owned()),
            ..Node::file(0o755, Vec::new())
        };
        tree.insert("bin/a", link);
        let (bytes, _) = write(&tree, &spool);
        let entries = list_entries(bytes.as_slice()).expect("list");
        assert_eq!(entries[1], ("bin/a".to_owned(), tar::EntryType::Regular, 6));
        assert_eq!(entries[2], ("bin/z".to_owned(), tar::EntryType::Link, 0));
    }

    #[test]
    fn long_path_uses_pax_record() {
        let dir = tempfile::tempdir().expect("temp dir");
        let spool = Spool::create_in(dir.path()).expect("spool");
        let mut tree = Tree::new();
        let long = format!("usr/share/{}", "x".repeat(240));
        tree.insert(&long, Node::file(0o644, Vec::new()));
        let (bytes, _) = write(&tree, &spool);
        let entries = list_entries(bytes.as_slice()).expect("list");
        assert!(entries.iter().any(|(path, ..)| *path == long));
    }
}
