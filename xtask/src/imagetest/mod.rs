//! Testing built images: each architecture's image is unpacked from its OCI layout,
//! checked (config and SBOM), and run by the image's test scripts through bwrap (other
//! architectures under qemu) or the local Docker engine.
//!
//! The test-script contract: a script gets `ROOTFS` (the unpacked root), `RUN` (a command
//! whose arguments replace the image's `Cmd`, as in `docker run IMAGE ARGS`), `IMAGE`,
//! `ARCH`, `RUNTIME`, `CONFIG` (the OCI config JSON), `SHARED_DIR` (a host folder mounted
//! in the image at `SHARED_DIR_IN_IMAGE`) and `PORT_<n>` for each port of its
//! `# ports:` line. It passes when it exits 0 within the time limit.

mod bwrap;
mod checks;
mod docker;
pub mod launch;
mod platform;
mod runner;
mod script;
mod unpack;
mod user;

pub use docker::write_docker_archive;
pub use platform::{PlatformImage, layout_archs, read_platform_image};
pub use runner::{RunOptions, Runtime, SHARED_MOUNT, TestResult, TestTarget, run_target};
pub use unpack::unpack_image;
