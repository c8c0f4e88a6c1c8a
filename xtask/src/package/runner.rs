//! Running build steps: each script runs with `/bin/sh -e` in a bubblewrap sandbox that
//! has no network, a fresh workspace (sources and destination folders writable) and
//! the host's toolchain read-only. `--no-sandbox` runs the same scripts directly on the
//! host; it is a choice of the user and never a fallback.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use super::plan::ScriptPaths;
use super::target::TargetArch;
use super::tools::{self, MissingTool};

/// Lines of the build log shown when a step fails.
const LOG_TAIL_LINES: usize = 25;

/// Isolation of build steps from the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// In a bubblewrap sandbox.
    Sandbox,
    /// Directly on the host, as the current user.
    None,
}

/// Errors from running a step.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// bubblewrap is not installed.
    #[error("{0}; or pass --no-sandbox to run build steps on the host without isolation")]
    MissingSandbox(MissingTool),
    /// The step could not be started.
    #[error("failed to start `{program}`")]
    Spawn {
        /// The program.
        program: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The build log could not be written.
    #[error("failed to write the build log `{}`", path.display())]
    Log {
        /// The log file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The step exited with a failure.
    #[error("failed with {status}; last lines of the build log `{}`:\n{tail}", log.display())]
    Failed {
        /// Exit status.
        status: ExitStatus,
        /// The log file.
        log: PathBuf,
        /// The log's last lines.
        tail: String,
    },
}

/// The folders of one build, on the host.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The build's folder, holding `home/` and `build.log`.
    pub root: PathBuf,
    /// The workspace, `/home/build` in the sandbox.
    pub home: PathBuf,
    /// The recipe's own folder (`packages/<name>/`), when it exists; read-only.
    pub recipe_dir: Option<PathBuf>,
    /// Everything the steps print.
    pub log: PathBuf,
}

impl Workspace {
    /// Creates a fresh workspace in `root`, removing what an earlier build left there.
    pub fn create(root: PathBuf, recipe_dir: Option<PathBuf>) -> std::io::Result<Self> {
        if root.exists() {
            fs_err::remove_dir_all(&root)?;
        }
        let home = root.join("home");
        fs_err::create_dir_all(home.join("melange-out"))?;
        let log = root.join("build.log");
        fs_err::write(&log, "")?;
        Ok(Workspace {
            root,
            home,
            recipe_dir,
            log,
        })
    }

    /// Returns the host path of the destination folder of package `name`.
    pub fn destdir(&self, name: &str) -> PathBuf {
        self.home.join("melange-out").join(name)
    }
}

/// Runs build scripts for one architecture.
#[derive(Debug, Clone)]
pub struct Runner {
    /// Isolation of the steps.
    pub isolation: Isolation,
    /// The architecture being built.
    pub arch: TargetArch,
    /// `SOURCE_DATE_EPOCH` for every step, in seconds.
    pub source_date_epoch: u64,
}

impl Runner {
    /// Paths as this runner's scripts see them.
    pub fn script_paths(&self, workspace: &Workspace) -> ScriptPaths {
        match self.isolation {
            Isolation::Sandbox => ScriptPaths::sandboxed(),
            Isolation::None => ScriptPaths {
                workspace: workspace.home.display().to_string(),
                outdir: workspace.home.join("melange-out").display().to_string(),
                recipe_dir: workspace
                    .recipe_dir
                    .as_ref()
                    .map(|dir| dir.display().to_string())
                    .unwrap_or_default(),
            },
        }
    }

    /// Maps a folder as the scripts see it to the host, for files the builder itself
    /// puts into the workspace.
    pub fn host_path(&self, workspace: &Workspace, script_path: &str) -> PathBuf {
        let paths = self.script_paths(workspace);
        match script_path.strip_prefix(&paths.workspace) {
            Some(rest) => workspace.home.join(rest.trim_start_matches('/')),
            None => PathBuf::from(script_path),
        }
    }

    /// Checks that the sandbox can be used, before any work starts.
    pub fn check(&self) -> Result<(), RunError> {
        if self.isolation == Isolation::Sandbox {
            tools::BWRAP.find().map_err(RunError::MissingSandbox)?;
        }
        Ok(())
    }

    /// Runs `script` with `/bin/sh -e -x` in `working_directory` (created if missing),
    /// appending its output to the build log.
    pub fn run(
        &self,
        workspace: &Workspace,
        script: &str,
        working_directory: &str,
        environment: &BTreeMap<String, String>,
    ) -> Result<(), RunError> {
        let full_script = format!(
            "set -e\nmkdir -p '{working_directory}'\ncd '{working_directory}'\nset -x\n{script}\n"
        );
        let mut command = match self.isolation {
            Isolation::Sandbox => self.sandbox_command(workspace)?,
            Isolation::None => Command::new("/bin/sh"),
        };
        command.arg("-c").arg(&full_script);
        command.env_clear();
        command.envs(self.environment(workspace));
        command.envs(environment);
        if self.isolation == Isolation::None {
            command.current_dir(&workspace.home);
        }
        let log = open_log(&workspace.log)?;
        let log_error = |source| RunError::Log {
            path: workspace.log.clone(),
            source,
        };
        command.stdin(Stdio::null());
        command.stdout(log.try_clone().map_err(log_error)?);
        command.stderr(log);
        let status = command.status().map_err(|source| RunError::Spawn {
            program: command.get_program().to_string_lossy().into_owned(),
            source,
        })?;
        if status.success() {
            return Ok(());
        }
        Err(RunError::Failed {
            status,
            log: workspace.log.clone(),
            tail: log_tail(&workspace.log),
        })
    }

    fn sandbox_command(&self, workspace: &Workspace) -> Result<Command, RunError> {
        let bwrap = tools::BWRAP.find().map_err(RunError::MissingSandbox)?;
        let paths = ScriptPaths::sandboxed();
        let mut command = Command::new(bwrap);
        command.args(["--unshare-all", "--die-with-parent", "--new-session"]);
        command.args(["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]);
        for dir in ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"] {
            // Merged-/usr systems have these as symlinks into /usr, which the sandbox
            // recreates; elsewhere they are real folders, bound read-only.
            match fs_err::read_link(dir) {
                Ok(target) => {
                    command.arg("--symlink").arg(target).arg(dir);
                }
                Err(_) if Path::new(dir).is_dir() => {
                    command.args(["--ro-bind", dir, dir]);
                }
                Err(_) => {}
            }
        }
        command.args(["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]);
        command
            .arg("--bind")
            .arg(&workspace.home)
            .arg(&paths.workspace);
        if let Some(recipe_dir) = &workspace.recipe_dir {
            command
                .arg("--ro-bind")
                .arg(recipe_dir)
                .arg(&paths.recipe_dir);
        }
        command.args(["--chdir", &paths.workspace, "/bin/sh"]);
        Ok(command)
    }

    /// Returns the variables every step gets: a fixed `PATH` and locale, `SOURCE_DATE_EPOCH`,
    /// and the target's toolchain (`CC=aarch64-linux-gnu-gcc` and so on).
    fn environment(&self, workspace: &Workspace) -> BTreeMap<String, String> {
        let paths = self.script_paths(workspace);
        let triplet = self.arch.gnu_triplet();
        let mut environment = BTreeMap::new();
        let mut set = |name: &str, value: String| {
            environment.insert(name.to_string(), value);
        };
        set(
            "PATH",
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        );
        set("HOME", paths.workspace.clone());
        set("LC_ALL", "C".to_string());
        set("TZ", "UTC".to_string());
        set("SOURCE_DATE_EPOCH", self.source_date_epoch.to_string());
        set("CROSS_COMPILE", format!("{triplet}-"));
        for (name, tool) in [
            ("CC", "gcc"),
            ("CXX", "g++"),
            ("AR", "ar"),
            ("RANLIB", "ranlib"),
            ("STRIP", "strip"),
            ("NM", "nm"),
            ("OBJCOPY", "objcopy"),
        ] {
            set(name, format!("{triplet}-{tool}"));
        }
        // Test programs built for another architecture run through this emulator;
        // empty when they run natively.
        set(
            "TARGET_EMULATOR",
            self.arch.emulator().unwrap_or_default().to_string(),
        );
        if self.arch.emulator().is_some() {
            set("QEMU_LD_PREFIX", self.arch.cross_sysroot().to_string());
        }
        environment
    }
}

fn open_log(path: &Path) -> Result<std::fs::File, RunError> {
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|source| RunError::Log {
            path: path.to_path_buf(),
            source,
        })
}

fn log_tail(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut file) = std::fs::File::open(path) {
        let _ = file.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(LOG_TAIL_LINES);
    lines
        .get(start..)
        .unwrap_or_default()
        .iter()
        .map(|line| format!("  | {line}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
