//! The bwrap runtime: runs the image's process with the unpacked root as `/`, in its own
//! mount, PID, IPC and UTS namespaces, with the image's environment, user and working
//! folder. Emulated architectures run through `qemu-<arch>-static`, bound into the
//! sandbox because no binfmt handler is registered.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::launch::{LaunchKind, LaunchSpec};
use super::user::ImageUser;
use crate::catalog::Arch;
use crate::image::oci_config::DEFAULT_PATH;
use crate::oci::RuntimeConfig;

/// Path of the host's qemu binary inside the sandbox. `/dev` is bwrap's own tmpfs, so the
/// mount point never touches the image's files.
const QEMU_IN_SANDBOX: &str = "/dev/.xtask-qemu";

/// Inputs of one image launch through bwrap.
pub struct BwrapImage<'a> {
    /// The unpacked root, bound read-write as `/`.
    pub rootfs: &'a Path,
    /// The image's runtime settings.
    pub config: &'a RuntimeConfig,
    /// The resolved `User`.
    pub user: &'a ImageUser,
    /// The image's architecture.
    pub arch: Arch,
    /// A host folder bound into the sandbox, and its mount point in the image.
    pub shared: (&'a Path, &'a str),
}

/// Creates the mount points bwrap needs in the unpacked root: as a non-root user it
/// cannot create them in folders that root owns.
pub fn prepare_rootfs(
    rootfs: &Path,
    config: &RuntimeConfig,
    shared_mount: &str,
) -> anyhow::Result<()> {
    let working_dir = config.working_dir.as_deref().unwrap_or("/");
    for folder in ["proc", "dev", "tmp", shared_mount, working_dir] {
        let path = rootfs.join(folder.trim_start_matches('/'));
        if std::fs::symlink_metadata(&path).is_err() {
            fs_err::create_dir_all(&path)?;
            fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    Ok(())
}

/// Returns the launch spec that runs the image through bwrap.
pub fn launch_spec(image: &BwrapImage<'_>) -> anyhow::Result<LaunchSpec> {
    let rootfs = utf8(image.rootfs)?;
    let (shared_host, shared_mount) = image.shared;
    let mut args: Vec<String> = vec![
        "bwrap".into(),
        "--bind".into(),
        rootfs.into(),
        "/".into(),
        "--proc".into(),
        "/proc".into(),
        "--dev".into(),
        "/dev".into(),
        "--bind".into(),
        utf8(shared_host)?.into(),
        shared_mount.into(),
    ];
    if !tmp_is_writable(image.rootfs, image.user)? {
        args.extend(["--perms", "01777", "--tmpfs", "/tmp"].map(String::from));
    }
    // The image's process becomes PID 1 of its namespace, as in a container, so that
    // the launcher can signal it directly.
    args.extend(
        [
            "--unshare-pid",
            "--as-pid-1",
            "--unshare-ipc",
            "--unshare-uts",
            "--hostname",
            "xtask-test",
            "--die-with-parent",
        ]
        .map(String::from),
    );
    if image.user.uid != 0 {
        // bwrap runs as the image's user (the launcher switches before starting it), so
        // it needs a user namespace, which maps only that user: files of other owners
        // show as the overflow id inside, but access checks use the real owners.
        args.push("--unshare-user".into());
    }
    args.push("--clearenv".into());
    for (name, value) in environment(image.config, image.user) {
        args.extend(["--setenv".to_owned(), name, value]);
    }
    let working_dir = image.config.working_dir.as_deref().unwrap_or("/");
    args.extend(["--chdir".to_owned(), working_dir.to_owned()]);
    if let Some(qemu) = emulator(image.arch)? {
        args.extend([
            "--ro-bind".to_owned(),
            utf8(&qemu)?.to_owned(),
            QEMU_IN_SANDBOX.to_owned(),
        ]);
    }
    args.push("--".into());
    let mut entrypoint = Vec::new();
    if emulator(image.arch)?.is_some() {
        // `-L /`: the image's own root contains its dynamic loader and libraries.
        entrypoint.extend([QEMU_IN_SANDBOX, "-L", "/"].map(String::from));
    }
    entrypoint.extend(image.config.entrypoint.clone().unwrap_or_default());
    Ok(LaunchSpec {
        kind: LaunchKind::Bwrap,
        runtime: args,
        entrypoint,
        cmd: image.config.cmd.clone().unwrap_or_default(),
        uid: (image.user.uid != 0).then_some(image.user.uid),
        gid: (image.user.gid != 0).then_some(image.user.gid),
    })
}

/// Returns the image's `Env` with `PATH` and `HOME` added when missing, as Docker adds them.
fn environment(config: &RuntimeConfig, user: &ImageUser) -> Vec<(String, String)> {
    let mut variables: Vec<(String, String)> = config
        .env
        .iter()
        .map(|entry| match entry.split_once('=') {
            Some((name, value)) => (name.to_owned(), value.to_owned()),
            None => (entry.clone(), String::new()),
        })
        .collect();
    if !variables.iter().any(|(name, _)| name == "PATH") {
        variables.push(("PATH".to_owned(), DEFAULT_PATH.to_owned()));
    }
    if !variables.iter().any(|(name, _)| name == "HOME") {
        variables.push(("HOME".to_owned(), user.home.clone()));
    }
    variables
}

/// Returns whether the image's `/tmp` is a folder its user may write, so no tmpfs is needed.
fn tmp_is_writable(rootfs: &Path, user: &ImageUser) -> anyhow::Result<bool> {
    let Ok(metadata) = std::fs::symlink_metadata(rootfs.join("tmp")) else {
        return Ok(false);
    };
    if !metadata.is_dir() {
        return Ok(false);
    }
    let mode = metadata.mode();
    Ok(user.uid == 0 || mode & 0o002 != 0 || (metadata.uid() == user.uid && mode & 0o200 != 0))
}

/// Returns the qemu binary that runs `arch` on this host, or `None` for the host's own
/// architecture.
pub fn emulator(arch: Arch) -> anyhow::Result<Option<PathBuf>> {
    let host: Arch = std::env::consts::ARCH.parse().map_err(|_| {
        anyhow::anyhow!(
            "the host architecture `{}` is not supported",
            std::env::consts::ARCH
        )
    })?;
    if host == arch {
        return Ok(None);
    }
    let name = format!("qemu-{}-static", arch.apk_name());
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(&name))
            .find(|candidate| candidate.is_file())
    });
    match found {
        Some(path) => Ok(Some(path)),
        None => bail!(
            "`{name}` is not on PATH, so {arch} images cannot run on this {host} host; install it with `apt-get install qemu-user-static`"
        ),
    }
}

fn utf8(path: &Path) -> anyhow::Result<&str> {
    path.to_str()
        .with_context(|| format!("path `{}` is not UTF-8", path.display()))
}
