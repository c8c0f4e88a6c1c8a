//! Running an image's checks and test scripts for each of its architectures: unpack the
//! platform image, check its config and SBOM, prepare the runtime, then run each script
//! with the environment of the test-script contract.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};

use super::bwrap::{self, BwrapImage};
use super::checks::{check_config, check_sbom};
use super::docker::{self, DockerRun, LoadedImage};
use super::launch::write_launcher;
use super::platform::{PlatformImage, layout_archs, read_platform_image};
use super::script::{ScriptRun, declared_ports, find_scripts, run_script};
use super::unpack::unpack_image;
use super::user::resolve_user;
use crate::catalog::Arch;
use crate::oci::LayoutReader;

/// Mount point of the script's shared folder in the image (`SHARED_DIR_IN_IMAGE`).
pub const SHARED_MOUNT: &str = "/xtask-test";

/// The engine that runs the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// bwrap, with qemu for other architectures.
    Bwrap,
    /// The local Docker engine, for its own architecture only.
    Docker,
}

impl fmt::Display for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Runtime::Bwrap => "bwrap",
            Runtime::Docker => "docker",
        })
    }
}

/// One built image variant and its test scripts.
#[derive(Debug, Clone)]
pub struct TestTarget {
    /// Image name.
    pub image: String,
    /// Variant name.
    pub variant: String,
    /// The OCI layout that `cargo xtask build` wrote.
    pub layout: PathBuf,
    /// Folder of the `*.sh` test scripts; may be missing.
    pub tests_dir: PathBuf,
}

/// Settings shared by every target.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The runtime.
    pub runtime: Runtime,
    /// Architectures to test; every one in the layout when empty.
    pub archs: Vec<Arch>,
    /// Time limit of one script.
    pub timeout: Duration,
    /// The `xtask` binary that test scripts call through `RUN`.
    pub xtask: PathBuf,
}

/// The result of one check or script.
#[derive(Debug, Clone)]
pub struct TestResult {
    /// `image:variant arch`.
    pub target: String,
    /// The script's file name, or the name of a built-in check.
    pub test: String,
    /// Whether it passed.
    pub passed: bool,
    /// A one-line summary: the exit status, or what a check found.
    pub detail: String,
    /// The script's output, reported when it failed.
    pub output: String,
}

/// Runs every check and script of `target` for each selected architecture, passing each
/// result to `report` as soon as it is known. A step that fails before the scripts can
/// run is reported as a failed `setup` result, and the other architectures still run.
pub fn run_target(
    target: &TestTarget,
    options: &RunOptions,
    report: &mut dyn FnMut(TestResult),
) -> anyhow::Result<()> {
    let available = layout_archs(&target.layout)?;
    let archs: Vec<Arch> = if !options.archs.is_empty() {
        options.archs.clone()
    } else if options.runtime == Runtime::Docker {
        // The engine runs only its own architecture; asking for another by name with
        // `--arch` reports that as a failure instead.
        let (native, other): (Vec<Arch>, Vec<Arch>) = available
            .iter()
            .partition(|arch| bwrap::emulator(**arch).is_ok_and(|qemu| qemu.is_none()));
        for arch in other {
            tracing::warn!(image = %target.image, %arch, "skipped: Docker runs only the host's architecture; use `--runtime bwrap`");
        }
        native
    } else {
        available.clone()
    };
    for arch in archs {
        let label = format!("{}:{} {arch}", target.image, target.variant);
        if !available.contains(&arch) {
            bail!(
                "{label}: `{}` has no {arch} image; run `cargo xtask build {} --arch {arch}`",
                target.layout.display(),
                target.image
            );
        }
        tracing::info!(target = %label, runtime = %options.runtime, "testing");
        let mut arch_run = ArchRun {
            target,
            options,
            arch,
            label: label.clone(),
            report,
        };
        if let Err(error) = arch_run.run() {
            tracing::error!(target = %label, error = format!("{error:#}"), "setup failed");
            report(TestResult {
                target: label,
                test: "setup".to_owned(),
                passed: false,
                detail: format!("{error:#}"),
                output: String::new(),
            });
        }
    }
    Ok(())
}

/// The tests of one architecture.
struct ArchRun<'a, 'r> {
    target: &'a TestTarget,
    options: &'a RunOptions,
    arch: Arch,
    label: String,
    report: &'r mut dyn FnMut(TestResult),
}

impl ArchRun<'_, '_> {
    fn run(&mut self) -> anyhow::Result<()> {
        let image = read_platform_image(&self.target.layout, self.arch)?;
        let work = tempfile::Builder::new().prefix("xtask-test-").tempdir()?;
        // The image's user must reach the root and the shared folders.
        fs_err::set_permissions(work.path(), std::fs::Permissions::from_mode(0o755))?;
        let rootfs = work.path().join("rootfs");
        fs_err::create_dir(&rootfs)?;
        fs_err::set_permissions(&rootfs, std::fs::Permissions::from_mode(0o755))?;
        tracing::debug!(target = %self.label, rootfs = %rootfs.display(), "unpacking");
        unpack_image(&image, &rootfs)?;

        let config = &image.config.config;
        self.check("image-config", || check_config(config, &rootfs));
        let layout = self.target.layout.clone();
        let arch = self.arch;
        self.check("sbom-packages", || check_sbom(&layout, arch, &rootfs));

        let scripts = find_scripts(&self.target.tests_dir)?;
        if scripts.is_empty() {
            tracing::warn!(target = %self.label, tests = %self.target.tests_dir.display(), "no test scripts");
            return Ok(());
        }
        let loaded = match self.options.runtime {
            Runtime::Bwrap => {
                bwrap::prepare_rootfs(&rootfs, config, SHARED_MOUNT)?;
                bwrap::emulator(self.arch)?;
                None
            }
            Runtime::Docker => {
                docker::check_arch(self.arch)?;
                let reference = format!(
                    "xtask-test/{}:{}-{}-{}",
                    self.target.image,
                    self.target.variant,
                    self.arch.apk_name(),
                    std::process::id()
                );
                Some(docker::load(&image, &reference)?)
            }
        };
        for (number, script) in scripts.iter().enumerate() {
            let context = ScriptContext {
                image: &image,
                loaded: loaded.as_ref(),
                rootfs: &rootfs,
                work: work.path(),
                number,
            };
            let name = script
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let result = match self.run_script(&context, script) {
                Ok(result) => result,
                Err(error) => TestResult {
                    target: self.label.clone(),
                    test: name,
                    passed: false,
                    detail: format!("{error:#}"),
                    output: String::new(),
                },
            };
            (self.report)(result);
        }
        match &loaded {
            Some(loaded) => docker::remove(loaded),
            None => Ok(()),
        }
    }

    fn check(&mut self, name: &str, check: impl FnOnce() -> anyhow::Result<String>) {
        let (passed, detail) = match check() {
            Ok(summary) => (true, summary),
            Err(error) => (false, format!("{error:#}")),
        };
        (self.report)(TestResult {
            target: self.label.clone(),
            test: name.to_owned(),
            passed,
            detail,
            output: String::new(),
        });
    }

    fn run_script(&self, context: &ScriptContext<'_>, script: &Path) -> anyhow::Result<TestResult> {
        let name = script
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let shared = context.work.join(format!("shared-{}", context.number));
        fs_err::create_dir(&shared)?;
        // World-writable like a volume, so that any image user may write results there.
        fs_err::set_permissions(&shared, std::fs::Permissions::from_mode(0o777))?;
        let ports = declared_ports(script)?;
        let run_id = format!(
            "{}-{}-{}",
            std::process::id(),
            self.arch.apk_name(),
            context.number
        );
        let (spec, port_map, image_ref) = match context.loaded {
            None => {
                let user =
                    resolve_user(context.image.config.config.user.as_deref(), context.rootfs)?;
                let spec = bwrap::launch_spec(&BwrapImage {
                    rootfs: context.rootfs,
                    config: &context.image.config.config,
                    user: &user,
                    arch: self.arch,
                    shared: (&shared, SHARED_MOUNT),
                })?;
                let port_map: Vec<(u16, u16)> = ports.iter().map(|port| (*port, *port)).collect();
                let tag = LayoutReader::open(&self.target.layout)?
                    .tags()?
                    .into_iter()
                    .next()
                    .unwrap_or_default();
                (
                    spec,
                    port_map,
                    format!("oci:{}:{tag}", self.target.layout.display()),
                )
            }
            Some(loaded) => {
                let mut port_map = Vec::new();
                for port in &ports {
                    port_map.push((free_loopback_port()?, *port));
                }
                let spec = docker::launch_spec(&DockerRun {
                    image: loaded,
                    run_id: &run_id,
                    shared: (&shared, SHARED_MOUNT),
                    ports: &port_map,
                })?;
                (spec, port_map, loaded.reference.clone())
            }
        };
        let run = write_launcher(
            context.work,
            &format!("run-{}", context.number),
            &spec,
            &self.options.xtask,
        )?;
        let config_blob = context
            .image
            .layout
            .blob_path(&context.image.manifest.config.digest);
        let mut env: Vec<(String, OsString)> = vec![
            ("ROOTFS".into(), context.rootfs.into()),
            ("RUN".into(), run.into()),
            ("IMAGE".into(), image_ref.into()),
            ("ARCH".into(), self.arch.oci_name().into()),
            ("RUNTIME".into(), self.options.runtime.to_string().into()),
            ("CONFIG".into(), config_blob.into()),
            ("SHARED_DIR".into(), shared.clone().into()),
            ("SHARED_DIR_IN_IMAGE".into(), SHARED_MOUNT.into()),
        ];
        for (host_port, container_port) in &port_map {
            env.push((
                format!("PORT_{container_port}"),
                host_port.to_string().into(),
            ));
        }
        tracing::debug!(target = %self.label, script = %script.display(), "running");
        let outcome = run_script(&ScriptRun {
            script,
            env,
            isolate_network: self.options.runtime == Runtime::Bwrap,
            timeout: self.options.timeout,
            log: &context.work.join(format!("output-{}.log", context.number)),
        });
        if context.loaded.is_some()
            && let Err(error) = docker::remove_containers(&run_id)
        {
            tracing::error!(target = %self.label, script = %name, error = format!("{error:#}"), "cannot remove containers");
        }
        let outcome = outcome?;
        Ok(TestResult {
            target: self.label.clone(),
            test: name,
            passed: outcome.passed,
            detail: outcome.status,
            output: outcome.output,
        })
    }
}

/// What one script run needs from its architecture's setup.
struct ScriptContext<'a> {
    image: &'a PlatformImage,
    loaded: Option<&'a LoadedImage>,
    rootfs: &'a Path,
    work: &'a Path,
    number: usize,
}

/// Returns a TCP port on 127.0.0.1 that was free a moment ago.
// NOTE: another process may take the port before Docker binds it; the script then fails
// with Docker's "address already in use" error.
fn free_loopback_port() -> anyhow::Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .context("cannot bind a free port on 127.0.0.1")?;
    Ok(listener.local_addr()?.port())
}
