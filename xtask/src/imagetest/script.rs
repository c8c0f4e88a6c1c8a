//! Finding and running test scripts. Each script has the host's files but has its own
//! PID namespace, so nothing it starts outlives it, and, unless the image runs on Docker,
//! its own network namespace with only loopback up, so that the script and the image it
//! starts share a private `127.0.0.1`.

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

/// Marker of the header line that lists the TCP ports a script reaches the image on.
const PORTS_MARKER: &str = "# ports:";

/// Returns the `*.sh` files of `tests_dir` in name order; none when the folder is missing.
pub fn find_scripts(tests_dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if !tests_dir.is_dir() {
        return Ok(Vec::new());
    }
    let mut scripts = Vec::new();
    for entry in fs_err::read_dir(tests_dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|ext| ext == "sh") {
            scripts.push(path);
        }
    }
    scripts.sort();
    Ok(scripts)
}

/// Returns the ports of the script's `# ports: 8080 9000` header line, if it has one.
pub fn declared_ports(script: &Path) -> anyhow::Result<Vec<u16>> {
    let text = fs_err::read_to_string(script)?;
    let Some(line) = text
        .lines()
        .find_map(|line| line.strip_prefix(PORTS_MARKER))
    else {
        return Ok(Vec::new());
    };
    line.split_whitespace()
        .map(|port| {
            port.parse::<u16>()
                .ok()
                .filter(|port| *port > 0)
                .with_context(|| {
                    format!(
                        "`{}`: `{PORTS_MARKER}` lists `{port}`, which is not a TCP port number",
                        script.display()
                    )
                })
        })
        .collect()
}

/// One script run.
pub struct ScriptRun<'a> {
    /// The script, executed directly (its `#!` line picks the interpreter).
    pub script: &'a Path,
    /// Variables added to the host environment.
    pub env: Vec<(String, OsString)>,
    /// Whether the script gets its own network namespace.
    pub isolate_network: bool,
    /// Time after which the script and everything it started are killed.
    pub timeout: Duration,
    /// File that receives the script's stdout and stderr, interleaved.
    pub log: &'a Path,
}

/// How a script ended.
#[derive(Debug, Clone)]
pub struct ScriptOutcome {
    /// Exit code 0 within the time limit.
    pub passed: bool,
    /// `exit code N`, `killed by signal N` or `timed out after N s`.
    pub status: String,
    /// Everything the script printed.
    pub output: String,
}

/// Runs the script and returns how it ended; an error means it could not be started.
pub fn run_script(run: &ScriptRun<'_>) -> anyhow::Result<ScriptOutcome> {
    let mode = fs_err::metadata(run.script)?.permissions().mode();
    if mode & 0o111 == 0 {
        bail!(
            "`{}` is not executable; run `chmod +x` on it",
            run.script.display()
        );
    }
    let log = fs_err::File::create(run.log)?.into_parts().0;
    // `unshare` makes the PID namespace and its /proc: bwrap's own `--proc` covers parts
    // of /proc with read-only mounts, and then the kernel refuses the /proc mount of a
    // nested, unprivileged bwrap that runs an image as a non-root user.
    let mut command = Command::new("unshare");
    command.args(["--pid", "--fork", "--mount-proc", "--kill-child", "--"]);
    command.args(["bwrap", "--dev-bind", "/", "/"]);
    if run.isolate_network {
        // bwrap brings `lo` up in the namespace it creates.
        command.arg("--unshare-net");
    }
    command
        .args(["--die-with-parent", "--"])
        .arg(run.script)
        .envs(run.env.iter().map(|(name, value)| (name, value)))
        .current_dir(run.script.parent().unwrap_or(Path::new("/")))
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    let mut child = command
        .spawn()
        .context("cannot start `unshare`; install it with `apt-get install util-linux`")?;
    let deadline = Instant::now() + run.timeout;
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break Some(status);
        }
        if Instant::now() >= deadline {
            // `--kill-child` ends the namespace's first process when `unshare` dies, and
            // the kernel then kills every other process in the namespace.
            child.kill()?;
            child.wait()?;
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = String::from_utf8_lossy(&fs_err::read(run.log)?).into_owned();
    Ok(match status {
        Some(status) => ScriptOutcome {
            passed: status.success(),
            status: match (
                status.code(),
                std::os::unix::process::ExitStatusExt::signal(&status),
            ) {
                (Some(code), _) => format!("exit code {code}"),
                (None, Some(signal)) => format!("killed by signal {signal}"),
                (None, None) => "unknown exit status".to_owned(),
            },
            output,
        },
        None => ScriptOutcome {
            passed: false,
            status: format!("timed out after {} s", run.timeout.as_secs()),
            output,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_header_parses() {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = dir.path().join("t.sh");
        std::fs::write(&script, "#!/bin/sh\n# ports: 8080 9000\nexit 0\n").expect("write");
        assert_eq!(declared_ports(&script).expect("ports"), vec![8080, 9000]);
        std::fs::write(&script, "#!/bin/sh\n# ports: http\n").expect("write");
        let error = declared_ports(&script).expect_err("invalid port");
        assert!(error.to_string().contains("`http`"), "{error}");
        std::fs::write(&script, "#!/bin/sh\n").expect("write");
        assert!(declared_ports(&script).expect("ports").is_empty());
    }
}
