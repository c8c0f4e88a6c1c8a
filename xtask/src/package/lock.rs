//! A lock file per build workspace, so that two runs sharing a cache folder never build
//! the same recipe and architecture in the same workspace at once. The file holds the
//! process id; a lock whose process is gone is taken over.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Errors from taking a workspace lock.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another running process holds the lock.
    #[error(
        "another run (process {pid}) is building in this workspace; wait for it or use another --cache-dir (lock file `{}`)",
        path.display()
    )]
    Busy {
        /// The process holding the lock.
        pid: u32,
        /// The lock file.
        path: PathBuf,
    },
    /// The lock file could not be created or read.
    #[error("failed to take the lock `{}`", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A held lock, released when dropped.
#[derive(Debug)]
pub struct WorkspaceLock {
    path: PathBuf,
}

impl WorkspaceLock {
    /// Takes the lock at `path`, taking over a lock left by a process that has ended.
    pub fn acquire(path: PathBuf) -> Result<WorkspaceLock, LockError> {
        let io_error = |source| LockError::Io {
            path: path.clone(),
            source,
        };
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent).map_err(io_error)?;
        }
        // Two tries: the second follows the removal of a stale lock.
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(mut file) => {
                    write!(file, "{}", std::process::id()).map_err(io_error)?;
                    return Ok(WorkspaceLock { path });
                }
                Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = read_pid(&path);
                    if let Some(pid) = holder.filter(|pid| process_running(*pid)) {
                        return Err(LockError::Busy { pid, path });
                    }
                    tracing::debug!(path = %path.display(), "taking over a stale workspace lock");
                    let _ = fs_err::remove_file(&path);
                }
                Err(error) => return Err(io_error(error)),
            }
        }
        let pid = read_pid(&path).unwrap_or_default();
        Err(LockError::Busy { pid, path })
    }
}

impl Drop for WorkspaceLock {
    fn drop(&mut self) {
        let _ = fs_err::remove_file(&self.path);
    }
}

fn read_pid(path: &Path) -> Option<u32> {
    fs_err::read_to_string(path).ok()?.trim().parse().ok()
}

// Linux lists every running process under /proc.
fn process_running(pid: u32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_is_exclusive_while_held() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("demo-x86_64.lock");
        let held = WorkspaceLock::acquire(path.clone()).expect("first lock");
        let error = WorkspaceLock::acquire(path.clone()).expect_err("second lock");
        assert!(matches!(error, LockError::Busy { .. }), "{error}");
        drop(held);
        assert!(!path.exists());
        assert!(WorkspaceLock::acquire(path).is_ok());
    }

    #[test]
    fn lock_of_ended_process_is_taken_over() {
        let folder = tempfile::tempdir().expect("temporary folder");
        let path = folder.path().join("demo-x86_64.lock");
        // Process ids are below 2^22 on Linux, so this one never runs.
        fs_err::write(&path, "4294967295").expect("write stale lock");
        let lock = WorkspaceLock::acquire(path.clone()).expect("stale lock taken over");
        assert_eq!(read_pid(&path), Some(std::process::id()));
        drop(lock);
    }
}
