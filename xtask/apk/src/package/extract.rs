//! Extracting a package's data entries into a folder.

use std::io;
use std::path::{Path, PathBuf};

use super::entries::{DataEntry, EntryKind};

/// Writes one checked entry below `root`. Parent folders are created as needed, and no
/// entry is written through a symlink, because an earlier symlink entry (`a -> /etc`)
/// would otherwise redirect a later entry (`a/passwd`) outside `root`. Ownership and
/// device nodes are not applied (that needs root); modes of files and folders are.
pub(super) fn extract_entry(root: &Path, entry: &mut DataEntry<'_>) -> io::Result<()> {
    let target = root.join(&entry.path);
    check_no_symlink_parents(root, &entry.path)?;
    if let Some(parent) = target.parent() {
        fs_err::create_dir_all(parent)?;
    }
    match entry.kind {
        EntryKind::Directory => {
            fs_err::create_dir_all(&target)?;
            set_mode(&target, entry.mode | 0o700)?;
        }
        EntryKind::File => {
            remove_existing(&target)?;
            let mut file = fs_err::File::create(&target)?;
            io::copy(entry, &mut file)?;
            set_mode(&target, entry.mode)?;
        }
        EntryKind::Symlink => {
            let link = entry.link_target.as_deref().unwrap_or_default();
            remove_existing(&target)?;
            symlink(link, &target)?;
        }
        EntryKind::HardLink => {
            let source = root.join(entry.link_target.as_deref().unwrap_or_default());
            remove_existing(&target)?;
            fs_err::hard_link(&source, &target)?;
        }
        EntryKind::CharDevice | EntryKind::BlockDevice | EntryKind::Fifo => {
            tracing::debug!(path = entry.path, "device entry not extracted");
        }
    }
    Ok(())
}

fn check_no_symlink_parents(root: &Path, relative: &str) -> io::Result<()> {
    let mut current = PathBuf::from(root);
    let mut parts = relative.split('/').peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            break;
        }
        current.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                return Err(io::Error::other(format!(
                    "`{}` is a symlink, so `{relative}` would be written through it",
                    current.display()
                )));
            }
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn remove_existing(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(metadata) if metadata.is_dir() => Err(io::Error::other(format!(
            "`{}` is a folder and cannot be replaced by a file",
            path.display()
        ))),
        Ok(_) => fs_err::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &str, link: &Path) -> io::Result<()> {
    fs_err::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &str, link: &Path) -> io::Result<()> {
    Err(io::Error::other(format!(
        "cannot create symlink `{}` on this platform",
        link.display()
    )))
}
