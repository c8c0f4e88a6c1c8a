//! Unpacking an image's layers into a root folder, as a container runtime does: later
//! layers replace earlier entries, OCI whiteouts delete them, and no entry lands outside
//! the root, whether through `..` or through a symlink.

use std::collections::{HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{PermissionsExt, lchown};
use std::path::{Component, Path, PathBuf};

use anyhow::{Context as _, bail};
use sha2::{Digest as _, Sha256};

use super::platform::PlatformImage;
use crate::oci::Digest;

/// Prefix of a whiteout entry, which deletes the named sibling from lower layers.
const WHITEOUT_PREFIX: &str = ".wh.";
/// Name of an opaque whiteout, which hides every entry of its folder in lower layers.
const OPAQUE_WHITEOUT: &str = ".wh..wh..opq";
/// Max symlinks followed while resolving one path, as Linux's `MAXSYMLINKS`.
const MAX_SYMLINKS: usize = 40;

/// Unpacks every layer of `image`, base first, into the existing folder `rootfs`.
/// Owners are kept when the process runs as root, and dropped (with a warning)
/// otherwise. Each layer's size and digest are checked before it is unpacked, and its
/// diff ID while it is read.
pub fn unpack_image(image: &PlatformImage, rootfs: &Path) -> anyhow::Result<()> {
    let keep_owners = rustix::process::geteuid().is_root();
    if !keep_owners {
        tracing::warn!(
            rootfs = %rootfs.display(),
            "not running as root: unpacked files belong to the current user, not to the image's owners"
        );
    }
    let diff_ids = &image.config.rootfs.diff_ids;
    for (position, layer) in image.manifest.layers.iter().enumerate() {
        let blob = image.layout.blob_path(&layer.digest);
        let layer_label = format!("layer {} ({})", position + 1, layer.digest);
        // Checked before unpacking, so that a damaged blob is reported as such and not
        // as whatever tar or gzip error its damaged bytes happen to cause.
        image
            .layout
            .verify_blob(layer)
            .with_context(|| format!("cannot unpack {layer_label}"))?;
        let file = fs_err::File::open(&blob)?;
        let compressed = HashingReader::new(file);
        let (compressed, uncompressed) = match layer.media_type.as_str() {
            "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
                let decoder = flate2::read::GzDecoder::new(compressed);
                let mut tar = HashingReader::new(decoder);
                unpack_layer(&mut tar, rootfs, keep_owners)
                    .with_context(|| format!("cannot unpack {layer_label}"))?;
                let uncompressed = tar.finish()?;
                let (decoder, uncompressed_digest) = uncompressed;
                let (_, compressed_digest) = decoder.into_inner().finish()?;
                (compressed_digest, uncompressed_digest)
            }
            "application/vnd.oci.image.layer.v1.tar" => {
                let mut tar = compressed;
                unpack_layer(&mut tar, rootfs, keep_owners)
                    .with_context(|| format!("cannot unpack {layer_label}"))?;
                let (_, digest) = tar.finish()?;
                (digest.clone(), digest)
            }
            other => bail!(
                "{layer_label} has media type `{other}`; only uncompressed and gzip tar layers can be unpacked"
            ),
        };
        if compressed != layer.digest {
            bail!(
                "{layer_label}: blob `{}` hashes to {compressed}",
                blob.display()
            );
        }
        if diff_ids.get(position) != Some(&uncompressed) {
            bail!(
                "{layer_label}: uncompressed content {uncompressed} does not match the config's diff ID"
            );
        }
    }
    Ok(())
}

/// A reader that hashes everything read through it.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
        }
    }

    /// Reads what is left (tar readers stop at the end-of-archive blocks, before any
    /// padding) and returns the inner reader with the digest of the whole stream.
    fn finish(mut self) -> io::Result<(R, Digest)> {
        io::copy(&mut self, &mut io::sink())?;
        let digest = Digest::parse(&format!("sha256:{}", hex::encode(self.hasher.finalize())))
            .map_err(io::Error::other)?;
        Ok((self.inner, digest))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let count = self.inner.read(buf)?;
        self.hasher.update(buf.get(..count).unwrap_or_default());
        Ok(count)
    }
}

/// Unpacks one tar layer. Paths this layer wrote are remembered, because its own
/// whiteouts delete entries of lower layers only.
fn unpack_layer(tar: &mut dyn Read, rootfs: &Path, keep_owners: bool) -> anyhow::Result<()> {
    let mut archive = tar::Archive::new(tar);
    let mut written: HashSet<PathBuf> = HashSet::new();
    // Folder modes are set last, so that a read-only folder can still receive entries.
    let mut folder_modes: Vec<(PathBuf, u32)> = Vec::new();
    for entry in archive.entries().context("cannot read the tar stream")? {
        let mut entry = entry.context("cannot read a tar entry")?;
        let raw_path = entry.path().context("invalid entry path")?.into_owned();
        let relative = entry_path(&raw_path)?;
        let Some(name) = relative.file_name().map(OsStr::to_owned) else {
            // The root folder itself (`./`): the sandbox needs it as it is.
            continue;
        };
        let parent_relative = relative.parent().unwrap_or(Path::new(""));
        let parent = resolve_within(rootfs, parent_relative)
            .with_context(|| format!("entry `{}`", raw_path.display()))?;
        if let Some(hidden) = name.to_str().and_then(|n| n.strip_prefix(WHITEOUT_PREFIX)) {
            if name == OPAQUE_WHITEOUT {
                remove_children_except(&parent, parent_relative, &written)?;
            } else if !written.contains(&parent_relative.join(hidden)) {
                remove_existing(&parent.join(hidden))?;
            }
            continue;
        }
        let target = parent.join(&name);
        let header = entry.header();
        let mode = header.mode().context("invalid mode")? & 0o7777;
        let uid = u32::try_from(header.uid().context("invalid uid")?).unwrap_or(u32::MAX);
        let gid = u32::try_from(header.gid().context("invalid gid")?).unwrap_or(u32::MAX);
        let kind = header.entry_type();
        match kind {
            tar::EntryType::Directory => {
                let is_folder = fs::symlink_metadata(&target).is_ok_and(|m| m.is_dir());
                if !is_folder {
                    remove_existing(&target)?;
                    fs_err::create_dir(&target)?;
                }
                folder_modes.push((target.clone(), mode));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                remove_existing(&target)?;
                let mut file = fs_err::File::create(&target)?;
                io::copy(&mut entry, &mut file)
                    .with_context(|| format!("cannot write `{}`", target.display()))?;
            }
            tar::EntryType::Symlink => {
                let link = entry
                    .link_name()
                    .context("invalid link target")?
                    .with_context(|| format!("symlink `{}` has no target", raw_path.display()))?;
                remove_existing(&target)?;
                std::os::unix::fs::symlink(&link, &target)
                    .with_context(|| format!("cannot create symlink `{}`", target.display()))?;
            }
            tar::EntryType::Link => {
                let link = entry
                    .link_name()
                    .context("invalid link target")?
                    .with_context(|| format!("hard link `{}` has no target", raw_path.display()))?;
                let link_relative = entry_path(&link)?;
                let link_parent =
                    resolve_within(rootfs, link_relative.parent().unwrap_or(Path::new("")))?;
                let source = match link_relative.file_name() {
                    Some(file_name) => link_parent.join(file_name),
                    None => bail!("hard link `{}` points at the root", raw_path.display()),
                };
                remove_existing(&target)?;
                fs_err::hard_link(&source, &target)?;
                written.insert(relative);
                // A hard link shares the owner and mode of its source.
                continue;
            }
            other => bail!(
                "entry `{}` has tar type {other:?}; device nodes, FIFOs and sparse files are not supported",
                raw_path.display()
            ),
        }
        if keep_owners {
            lchown(&target, Some(uid), Some(gid))
                .with_context(|| format!("cannot set the owner of `{}`", target.display()))?;
        }
        // chown clears set-user-ID bits, so the mode comes after it. Symlinks have no mode.
        if kind != tar::EntryType::Symlink && kind != tar::EntryType::Directory {
            fs_err::set_permissions(&target, fs::Permissions::from_mode(mode))?;
        }
        written.insert(relative);
    }
    for (folder, mode) in folder_modes.iter().rev() {
        fs_err::set_permissions(folder, fs::Permissions::from_mode(*mode))?;
    }
    Ok(())
}

/// Returns an entry path relative to the root, rejecting `..`. A leading `/` or `./`
/// is dropped, as tar and container runtimes drop it.
fn entry_path(path: &Path) -> anyhow::Result<PathBuf> {
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => bail!(
                "entry path `{}` contains `..`, which would leave the image root",
                path.display()
            ),
        }
    }
    Ok(relative)
}

/// Returns the host path of the folder `relative` under `root`, creating missing folders
/// (mode 0755). Symlinks on the way are followed as if `root` were `/`, so an absolute
/// or `..` target resolves inside the root, as in a chroot.
fn resolve_within(root: &Path, relative: &Path) -> anyhow::Result<PathBuf> {
    resolve_in_root(root, relative, true)
}

/// Returns the host path of the existing file `path` (absolute inside the image) under
/// `root`, following every symlink, the last one included, as if `root` were `/`.
pub fn resolve_existing(root: &Path, path: &Path) -> anyhow::Result<PathBuf> {
    resolve_in_root(root, path, false)
}

fn resolve_in_root(root: &Path, relative: &Path, create_folders: bool) -> anyhow::Result<PathBuf> {
    let mut resolved: Vec<OsString> = Vec::new();
    let mut pending: VecDeque<OsString> = components(relative).into();
    let mut links = 0;
    while let Some(component) = pending.pop_front() {
        if component == ".." {
            resolved.pop();
            continue;
        }
        let mut candidate = root.to_path_buf();
        candidate.extend(&resolved);
        candidate.push(&component);
        match fs::symlink_metadata(&candidate) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    bail!(
                        "more than {MAX_SYMLINKS} symlinks while resolving `{}`",
                        relative.display()
                    );
                }
                let target = fs_err::read_link(&candidate)?;
                if target.is_absolute() {
                    resolved.clear();
                }
                for part in components(&target).into_iter().rev() {
                    pending.push_front(part);
                }
            }
            Ok(metadata) if metadata.is_dir() => resolved.push(component),
            Ok(_) if !create_folders && pending.is_empty() => resolved.push(component),
            Ok(_) => bail!(
                "`{}` is not a folder, so nothing can be unpacked inside it",
                candidate.display()
            ),
            Err(error) if error.kind() == io::ErrorKind::NotFound && !create_folders => {
                bail!("`{}` is not in the image", relative.display());
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                fs_err::create_dir(&candidate)?;
                fs_err::set_permissions(&candidate, fs::Permissions::from_mode(0o755))?;
                resolved.push(component);
            }
            Err(error) => {
                return Err(error)
                    .with_context(|| format!("cannot stat `{}`", candidate.display()));
            }
        }
    }
    let mut path = root.to_path_buf();
    path.extend(&resolved);
    Ok(path)
}

/// Splits a path into names and `..`, dropping `/` and `.`.
fn components(path: &Path) -> Vec<OsString> {
    path.components()
        .filter_map(|component| match component {
            Component::Normal(part) => Some(part.to_owned()),
            Component::ParentDir => Some(OsString::from("..")),
            _ => None,
        })
        .collect()
}

/// Deletes whatever is at `path`, folder or not; a missing path is fine.
fn remove_existing(path: &Path) -> anyhow::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => fs_err::remove_dir_all(path)?,
        Ok(_) => fs_err::remove_file(path)?,
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("cannot stat `{}`", path.display()));
        }
    }
    Ok(())
}

/// Applies an opaque whiteout: deletes the folder's entries that lower layers wrote.
fn remove_children_except(
    folder: &Path,
    relative: &Path,
    written: &HashSet<PathBuf>,
) -> anyhow::Result<()> {
    for child in fs_err::read_dir(folder)? {
        let child = child?;
        if !written.contains(&relative.join(child.file_name())) {
            remove_existing(&child.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    pub(in crate::imagetest) fn tar_of(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, kind, content) in entries {
            let mut header = tar::Header::new_gnu();
            header.set_entry_type(*kind);
            header.set_mode(if *kind == tar::EntryType::Directory {
                0o750
            } else {
                0o640
            });
            header.set_uid(0);
            header.set_gid(0);
            match kind {
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    header.set_size(0);
                    builder
                        .append_link(&mut header, path, content)
                        .expect("append link");
                }
                _ => {
                    header.set_size(content.len() as u64);
                    // Raw names, so that `..` reaches the unpacker as a real layer would.
                    let name = header.as_old_mut().name.as_mut();
                    name.fill(0);
                    name[..path.len()].copy_from_slice(path.as_bytes());
                    header.set_cksum();
                    builder
                        .append(&header, content.as_bytes())
                        .expect("append entry");
                }
            }
        }
        builder.into_inner().expect("finish tar")
    }

    /// Writes a one-layer amd64 image of `entries` as a gzip layer into `dir`, and
    /// returns the layer's descriptor.
    pub(in crate::imagetest) fn write_image(
        dir: &Path,
        entries: &[(&str, tar::EntryType, &str)],
    ) -> crate::oci::Descriptor {
        use std::io::Write as _;

        let tar = tar_of(entries);
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gzip.write_all(&tar).expect("compress layer");
        let gzip = gzip.finish().expect("finish gzip");
        let writer = crate::oci::LayoutWriter::create(dir).expect("create layout");
        let layer = writer
            .write_blob(crate::oci::MEDIA_TYPE_LAYER_GZIP, &gzip)
            .expect("write layer");
        let config = serde_json::json!({
            "created": "1970-01-01T00:00:00Z",
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(&tar).to_string()]},
            "history": [],
        });
        let config = writer
            .write_json(crate::oci::MEDIA_TYPE_CONFIG, &config)
            .expect("write config");
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": crate::oci::MEDIA_TYPE_MANIFEST,
            "config": config,
            "layers": [layer],
        });
        let manifest = writer
            .write_json(crate::oci::MEDIA_TYPE_MANIFEST, &manifest)
            .expect("write manifest");
        writer
            .write_index(&manifest, &["latest".to_owned()])
            .expect("write index");
        layer
    }

    #[test]
    fn unpack_image_rejects_flipped_layer_bytes() {
        let dir = tempfile::tempdir().expect("temp dir");
        let layout = dir.path().join("layout");
        let content = "x".repeat(4096);
        let layer = write_image(&layout, &[("data", Regular, &content)]);
        let image =
            super::super::platform::read_platform_image(&layout, crate::catalog::Arch::Amd64)
                .expect("read image");
        let blob = image.layout.blob_path(&layer.digest);
        let mut bytes = fs::read(&blob).expect("read layer");
        for byte in bytes.iter_mut().skip(12).take(16) {
            *byte = !*byte;
        }
        fs::write(&blob, &bytes).expect("write layer");
        let rootfs = dir.path().join("rootfs");
        fs::create_dir(&rootfs).expect("create rootfs");

        let message = format!("{:#}", unpack_image(&image, &rootfs).expect_err("flipped"));
        let actual = Digest::sha256_of(&bytes).to_string();
        assert!(message.contains("is corrupt"), "{message}");
        assert!(message.contains(&blob.display().to_string()), "{message}");
        assert!(
            message.contains(&format!("expected digest {}", layer.digest)),
            "{message}"
        );
        assert!(message.contains(&format!("actual {actual}")), "{message}");
        assert!(
            !rootfs.join("data").exists(),
            "unpacked despite the mismatch"
        );
    }

    #[test]
    fn unpack_image_rejects_truncated_layer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let layout = dir.path().join("layout");
        let layer = write_image(&layout, &[("data", Regular, "content")]);
        let image =
            super::super::platform::read_platform_image(&layout, crate::catalog::Arch::Amd64)
                .expect("read image");
        let blob = image.layout.blob_path(&layer.digest);
        let bytes = fs::read(&blob).expect("read layer");
        fs::write(&blob, &bytes[..bytes.len() - 1]).expect("truncate layer");
        let rootfs = dir.path().join("rootfs");
        fs::create_dir(&rootfs).expect("create rootfs");

        let message = format!(
            "{:#}",
            unpack_image(&image, &rootfs).expect_err("truncated")
        );
        let sizes = format!("expected {} bytes, actual {}", bytes.len(), bytes.len() - 1);
        assert!(message.contains(&sizes), "{message}");
    }

    #[test]
    fn unpack_image_accepts_intact_layer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let layout = dir.path().join("layout");
        write_image(&layout, &[("data", Regular, "content")]);
        let image =
            super::super::platform::read_platform_image(&layout, crate::catalog::Arch::Amd64)
                .expect("read image");
        let rootfs = dir.path().join("rootfs");
        fs::create_dir(&rootfs).expect("create rootfs");
        unpack_image(&image, &rootfs).expect("unpack");
        assert_eq!(
            fs::read(rootfs.join("data")).expect("read data"),
            b"content"
        );
    }

    fn unpack(rootfs: &Path, entries: &[(&str, tar::EntryType, &str)]) -> anyhow::Result<()> {
        let bytes = tar_of(entries);
        unpack_layer(&mut bytes.as_slice(), rootfs, false)
    }

    use tar::EntryType::{Directory, Link, Regular, Symlink};

    #[test]
    fn unpack_keeps_modes_and_links() {
        let dir = tempfile::tempdir().expect("temp dir");
        unpack(
            dir.path(),
            &[
                ("etc/", Directory, ""),
                ("etc/motd", Regular, "hi\n"),
                ("etc/alias", Symlink, "motd"),
                ("etc/hard", Link, "etc/motd"),
            ],
        )
        .expect("unpack");
        let motd = dir.path().join("etc/motd");
        assert_eq!(fs::read_to_string(&motd).expect("read"), "hi\n");
        let mode = fs::metadata(&motd).expect("stat").permissions().mode() & 0o7777;
        assert_eq!(mode, 0o640);
        let folder_mode = fs::metadata(dir.path().join("etc"))
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(folder_mode & 0o7777, 0o750);
        assert_eq!(
            fs::read_link(dir.path().join("etc/alias")).expect("link"),
            PathBuf::from("motd")
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("etc/hard")).expect("read"),
            "hi\n"
        );
    }

    #[test]
    fn unpack_rejects_parent_components() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("root");
        fs::create_dir(&root).expect("create root");
        let error = unpack(&root, &[("../escape", Regular, "x")]).expect_err("must fail");
        assert!(format!("{error:#}").contains("contains `..`"), "{error:#}");
        assert!(!dir.path().join("escape").exists());
    }

    #[test]
    fn unpack_resolves_symlinks_inside_root() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("root");
        fs::create_dir(&root).expect("create root");
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).expect("create outside");
        let absolute = outside.to_str().expect("utf-8 path").to_owned();
        unpack(
            &root,
            &[
                ("abs", Symlink, &absolute),
                ("abs/file", Regular, "a"),
                ("up", Symlink, "../../.."),
                ("up/other", Regular, "b"),
            ],
        )
        .expect("unpack");
        assert!(!outside.join("file").exists(), "wrote outside the root");
        let inside = root.join(absolute.trim_start_matches('/')).join("file");
        assert_eq!(fs::read_to_string(inside).expect("read"), "a");
        assert_eq!(fs::read_to_string(root.join("other")).expect("read"), "b");
    }

    #[test]
    fn whiteouts_delete_lower_layers_only() {
        let dir = tempfile::tempdir().expect("temp dir");
        unpack(
            dir.path(),
            &[
                ("a/old", Regular, "1"),
                ("a/keep", Regular, "1"),
                ("b/old", Regular, "1"),
                ("gone", Regular, "1"),
            ],
        )
        .expect("lower layer");
        unpack(
            dir.path(),
            &[
                ("b/new", Regular, "2"),
                ("b/.wh..wh..opq", Regular, ""),
                ("a/.wh.old", Regular, ""),
                (".wh.gone", Regular, ""),
            ],
        )
        .expect("upper layer");
        assert!(!dir.path().join("a/old").exists());
        assert!(dir.path().join("a/keep").exists());
        assert!(!dir.path().join("b/old").exists());
        assert!(dir.path().join("b/new").exists());
        assert!(!dir.path().join("gone").exists());
    }

    #[test]
    fn unpack_replaces_folder_with_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        unpack(dir.path(), &[("x/y", Regular, "1")]).expect("lower layer");
        unpack(dir.path(), &[("x", Regular, "2")]).expect("upper layer");
        assert_eq!(fs::read_to_string(dir.path().join("x")).expect("read"), "2");
    }
}
