//! The `RUN` command of a test script: an executable wrapper script that calls
//! `xtask launch-image SPEC -- ARGS`, which starts the image through its runtime and
//! forwards signals to the image's process.
//!
//! Forwarding is needed because neither runtime passes signals on by itself in a way a
//! script can rely on: bwrap (0.8) keeps a monitor process between the caller and the
//! sandbox and lets a signal end that monitor while the sandboxed process runs on, and a
//! non-interactive shell starts `$RUN &` with SIGINT and SIGQUIT ignored, which a shell
//! wrapper could not undo. This process installs handlers, so the runtime it starts gets
//! default dispositions again, and sends each signal it receives to the image's process.

use std::ffi::OsString;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde::{Deserialize, Serialize};
use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH};
use signal_hook::iterator::Signals;

/// Signals passed on to the image's process.
const FORWARDED_SIGNALS: [i32; 7] = [SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGWINCH];

/// How long a signal waits for bwrap to start the sandboxed process before it is sent to
/// bwrap itself.
const SANDBOX_START_WAIT: Duration = Duration::from_secs(2);

/// Exit code when the image cannot be started, as `docker run` uses for its own errors.
const LAUNCH_FAILED: u8 = 125;

/// The runtime a launch goes through; it decides where signals go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LaunchKind {
    /// bwrap: signals go to the sandbox's first process, the child of bwrap's monitor.
    Bwrap,
    /// `docker run`: signals go to the client, which passes them to the container
    /// (`--sig-proxy`, on by default).
    Docker,
}

/// What `launch-image` runs, written as JSON next to the wrapper script.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LaunchSpec {
    /// The runtime.
    pub kind: LaunchKind,
    /// The runtime's command line up to the image's own arguments.
    pub runtime: Vec<String>,
    /// The image's `Entrypoint` when the runtime does not apply it itself (bwrap).
    pub entrypoint: Vec<String>,
    /// The image's `Cmd`, used when the caller passes no arguments (bwrap only).
    pub cmd: Vec<String>,
    /// User id to switch to before starting the runtime.
    pub uid: Option<u32>,
    /// Group id to switch to before starting the runtime.
    pub gid: Option<u32>,
}

/// Writes `spec` to `DIR/NAME.json` and an executable wrapper `DIR/NAME` that launches it
/// with the given `xtask` binary; returns the wrapper's path, which test scripts use
/// unquoted and so must have no whitespace.
pub fn write_launcher(
    dir: &Path,
    name: &str,
    spec: &LaunchSpec,
    xtask: &Path,
) -> anyhow::Result<PathBuf> {
    let spec_path = dir.join(format!("{name}.json"));
    fs_err::write(&spec_path, serde_json::to_vec_pretty(spec)?)?;
    let wrapper = dir.join(name);
    if wrapper.to_string_lossy().chars().any(char::is_whitespace) {
        bail!(
            "the temporary folder `{}` contains whitespace, which test scripts cannot pass in `$RUN`; set TMPDIR to a path without spaces",
            dir.display()
        );
    }
    let quote = |path: &Path| -> anyhow::Result<String> {
        let text = path
            .to_str()
            .with_context(|| format!("path `{}` is not UTF-8", path.display()))?;
        Ok(shlex::try_quote(text)?.into_owned())
    };
    let script = format!(
        "#!/bin/sh\n# Runs the image under test; arguments replace its Cmd, as in `docker run IMAGE ARGS`.\nexec {} launch-image {} -- \"$@\"\n",
        quote(xtask)?,
        quote(&spec_path)?
    );
    fs_err::write(&wrapper, script)?;
    let mode = std::os::unix::fs::PermissionsExt::from_mode(0o755);
    fs_err::set_permissions(&wrapper, mode)?;
    Ok(wrapper)
}

/// Runs the launch described by the spec file with the caller's arguments and returns
/// the image process's exit code (128 + N when signal N ended it), or 125 when the
/// image could not be started.
pub fn launch(spec_path: &Path, args: &[OsString]) -> ExitCode {
    match try_launch(spec_path, args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(LAUNCH_FAILED)
        }
    }
}

fn try_launch(spec_path: &Path, args: &[OsString]) -> anyhow::Result<ExitCode> {
    let bytes = fs_err::read(spec_path)?;
    let spec: LaunchSpec = serde_json::from_slice(&bytes)
        .with_context(|| format!("invalid launch spec `{}`", spec_path.display()))?;
    let Some((program, runtime_args)) = spec.runtime.split_first() else {
        bail!(
            "launch spec `{}` has no runtime command",
            spec_path.display()
        );
    };
    let mut command = Command::new(program);
    command.args(runtime_args);
    if spec.kind == LaunchKind::Bwrap {
        let mut image_args: Vec<OsString> = spec.entrypoint.iter().map(OsString::from).collect();
        if args.is_empty() {
            image_args.extend(spec.cmd.iter().map(OsString::from));
        } else {
            image_args.extend(args.iter().cloned());
        }
        if image_args.is_empty() {
            bail!("the image has no Entrypoint and no Cmd; pass the command to run as arguments");
        }
        command.args(image_args);
    } else {
        command.args(args);
    }
    if let Some(gid) = spec.gid {
        std::os::unix::process::CommandExt::gid(&mut command, gid);
    }
    if let Some(uid) = spec.uid {
        // As root, std also drops the supplementary groups before switching.
        std::os::unix::process::CommandExt::uid(&mut command, uid);
    }
    // Handlers go in before the runtime starts, so that an early signal is forwarded
    // instead of ending this process; exec resets them to the default in the child.
    let mut signals = Signals::new(FORWARDED_SIGNALS).context("cannot install signal handlers")?;
    let handle = signals.handle();
    let mut copiers = Vec::new();
    if spec.kind == LaunchKind::Bwrap {
        // The image gets pipes owned by its user, as runc gives a container. Passing the
        // caller's descriptors on would fail for programs that reopen `/dev/stdout` or
        // `/dev/stderr` (nginx does): reopening checks the file's or pipe's owner and
        // mode against the image's user.
        let (stdout_reader, stdout_writer) = owned_pipe(spec.uid, spec.gid)?;
        let (stderr_reader, stderr_writer) = owned_pipe(spec.uid, spec.gid)?;
        command.stdout(stdout_writer).stderr(stderr_writer);
        copiers.push(std::thread::spawn(move || {
            copy_output(stdout_reader, std::io::stdout());
        }));
        copiers.push(std::thread::spawn(move || {
            copy_output(stderr_reader, std::io::stderr());
        }));
    }
    let spawned = command
        .spawn()
        .with_context(|| format!("cannot start `{program}`"));
    // The command owns the pipes' write ends; they must close here, or the copying
    // threads never see the end of the output.
    drop(command);
    let mut child = spawned?;
    let runtime_pid = child.id();
    let kind = spec.kind;
    let forwarder = std::thread::spawn(move || {
        for signal in signals.forever() {
            let target = match kind {
                LaunchKind::Bwrap => sandbox_pid(runtime_pid).unwrap_or(runtime_pid),
                LaunchKind::Docker => runtime_pid,
            };
            forward(target, signal);
        }
    });
    let status = child.wait().context("cannot wait for the runtime")?;
    handle.close();
    for copier in copiers {
        if copier.join().is_err() {
            tracing::warn!("an output copying thread panicked");
        }
    }
    if forwarder.join().is_err() {
        tracing::warn!("the signal forwarding thread panicked");
    }
    let code = match (
        status.code(),
        std::os::unix::process::ExitStatusExt::signal(&status),
    ) {
        (Some(code), _) => code,
        (None, Some(signal)) => 128 + signal,
        (None, None) => i32::from(LAUNCH_FAILED),
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(LAUNCH_FAILED)))
}

/// Returns the first child of bwrap's monitor process, which is the image's process
/// (bwrap runs with `--as-pid-1`), waiting briefly while bwrap is still starting it.
fn sandbox_pid(bwrap_pid: u32) -> Option<u32> {
    let path = format!("/proc/{bwrap_pid}/task/{bwrap_pid}/children");
    let deadline = Instant::now() + SANDBOX_START_WAIT;
    loop {
        let children = std::fs::read_to_string(&path).ok()?;
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().ok();
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Returns a pipe whose write end belongs to `uid` and `gid` (where set).
fn owned_pipe(
    uid: Option<u32>,
    gid: Option<u32>,
) -> anyhow::Result<(std::io::PipeReader, std::io::PipeWriter)> {
    let (reader, writer) = std::io::pipe().context("cannot create a pipe")?;
    if uid.is_some() || gid.is_some() {
        std::os::unix::fs::fchown(&writer, uid, gid)
            .context("cannot give the output pipe to the image's user")?;
    }
    Ok((reader, writer))
}

/// Copies the image's output until it ends or the reader goes away. Returning drops the
/// pipe, so a writer whose reader left gets EPIPE instead of blocking.
fn copy_output(mut from: impl Read, mut to: impl Write) {
    if std::io::copy(&mut from, &mut to).is_ok() {
        // Nothing is left to report to when flushing fails.
        let _ = to.flush();
    }
}

fn forward(pid: u32, signal: i32) {
    let target = i32::try_from(pid)
        .ok()
        .and_then(rustix::process::Pid::from_raw);
    let (Some(target), Some(signal)) = (target, rustix::process::Signal::from_named_raw(signal))
    else {
        return;
    };
    // The process may have exited meanwhile; then there is nothing left to signal.
    if let Err(error) = rustix::process::kill_process(target, signal) {
        tracing::debug!(pid, %error, "signal not delivered");
    }
}
