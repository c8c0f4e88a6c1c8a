//! The docker runtime: loads one platform's image into the local Docker engine, runs it
//! with `docker run --rm` (the engine applies the config's entrypoint, command,
//! environment, user and working folder itself), and removes what it loaded.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{Context as _, bail};
use serde_json::json;

use super::launch::{LaunchKind, LaunchSpec};
use super::platform::PlatformImage;
use crate::catalog::Arch;

/// Label on every container this runtime starts, with the run's id as value, so that
/// containers a test script left behind can be found and removed.
pub const CONTAINER_LABEL: &str = "xtask.imagetest";

/// An image loaded into the engine under a tag of its own.
#[derive(Debug)]
pub struct LoadedImage {
    /// The tag, `xtask-test/IMAGE:VARIANT-ARCH-ID`.
    pub reference: String,
}

/// Fails unless the engine can run `arch` images: it runs only its own architecture
/// here, because no emulator is registered with the kernel.
pub fn check_arch(arch: Arch) -> anyhow::Result<()> {
    let output = Command::new("docker")
        .args(["version", "--format", "{{.Server.Arch}}"])
        .output()
        .context("cannot run `docker`; install the Docker CLI and start the engine")?;
    if !output.status.success() {
        bail!(
            "`docker version` failed; is the Docker engine running?\n{}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let engine_arch = String::from_utf8_lossy(&output.stdout).trim().to_owned();
    if engine_arch != arch.oci_name() {
        bail!(
            "the Docker engine runs {engine_arch} images and cannot run {arch} ones (it has no emulator); test {arch} with `--runtime bwrap`, which runs it under qemu"
        );
    }
    Ok(())
}

/// Loads `image` with `docker load` under `reference`.
pub fn load(image: &PlatformImage, reference: &str) -> anyhow::Result<LoadedImage> {
    let mut child = Command::new("docker")
        .args(["load", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot run `docker load`")?;
    let written = match child.stdin.take() {
        Some(stdin) => write_docker_archive(image, reference, stdin),
        None => Err(anyhow::anyhow!("`docker load` has no standard input")),
    };
    let output = child
        .wait_with_output()
        .context("cannot wait for `docker load`")?;
    if !output.status.success() {
        bail!(
            "`docker load` of {reference} failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    written.with_context(|| format!("cannot send {reference} to `docker load`"))?;
    tracing::debug!(reference, "loaded into docker");
    Ok(LoadedImage {
        reference: reference.to_owned(),
    })
}

/// Removes the loaded tag, and with it the image unless something else uses it.
pub fn remove(image: &LoadedImage) -> anyhow::Result<()> {
    let output = Command::new("docker")
        .args(["image", "rm", &image.reference])
        .output()
        .context("cannot run `docker image rm`")?;
    if !output.status.success() {
        bail!(
            "`docker image rm {}` failed: {}",
            image.reference,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}

/// Removes every container labelled with `run_id`, such as one a failed script left
/// running.
pub fn remove_containers(run_id: &str) -> anyhow::Result<()> {
    let filter = format!("label={CONTAINER_LABEL}={run_id}");
    let output = Command::new("docker")
        .args(["ps", "--all", "--quiet", "--filter", &filter])
        .output()
        .context("cannot run `docker ps`")?;
    let ids: Vec<String> = String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if ids.is_empty() {
        return Ok(());
    }
    tracing::info!(count = ids.len(), "removing containers a test left behind");
    let status = Command::new("docker")
        .args(["rm", "--force"])
        .args(&ids)
        .stdout(Stdio::null())
        .status()
        .context("cannot run `docker rm`")?;
    if !status.success() {
        bail!("`docker rm --force {}` failed", ids.join(" "));
    }
    Ok(())
}

/// Inputs of one `docker run`.
pub struct DockerRun<'a> {
    /// The loaded image.
    pub image: &'a LoadedImage,
    /// Value of the run label.
    pub run_id: &'a str,
    /// A host folder mounted into the container, and its mount point in the image.
    pub shared: (&'a Path, &'a str),
    /// `(host port, container port)` pairs published on 127.0.0.1.
    pub ports: &'a [(u16, u16)],
}

/// Returns the launch spec that runs the image with `docker run`.
pub fn launch_spec(run: &DockerRun<'_>) -> anyhow::Result<LaunchSpec> {
    let (host, mount) = run.shared;
    let host = host
        .to_str()
        .with_context(|| format!("path `{}` is not UTF-8", host.display()))?;
    let mut args: Vec<String> = [
        "docker",
        "run",
        "--rm",
        "--interactive",
        "--label",
        &format!("{CONTAINER_LABEL}={}", run.run_id),
        "--volume",
        &format!("{host}:{mount}"),
    ]
    .map(String::from)
    .to_vec();
    for (host_port, container_port) in run.ports {
        args.push("--publish".into());
        args.push(format!("127.0.0.1:{host_port}:{container_port}"));
    }
    args.push(run.image.reference.clone());
    Ok(LaunchSpec {
        kind: LaunchKind::Docker,
        runtime: args,
        entrypoint: Vec::new(),
        cmd: Vec::new(),
        uid: None,
        gid: None,
    })
}

/// Writes `image` as a `docker save` archive tagged `reference`.
///
/// Written by hand because Docker Engine 20.10 cannot load an OCI layout, and the tools
/// that convert one (skopeo's `docker-archive:` transport) would be one more dependency
/// for three members. The format, as `docker load` reads it:
/// - `manifest.json`: `[{"Config": "<hex>.json", "RepoTags": [reference], "Layers": [...]}]`;
/// - `<hex>.json`: the image config, byte for byte, so the image ID stays its digest;
/// - `<hex>/layer.tar`: each layer blob as it is; `docker load` decompresses gzip layers
///   and checks them against the config's diff IDs.
pub fn write_docker_archive(
    image: &PlatformImage,
    reference: &str,
    out: impl Write,
) -> anyhow::Result<()> {
    let mut archive = tar::Builder::new(out);
    let config_name = format!("{}.json", image.manifest.config.digest.hex());
    append(&mut archive, &config_name, &image.config_bytes)?;
    let mut layers = Vec::new();
    for layer in &image.manifest.layers {
        let name = format!("{}/layer.tar", layer.digest.hex());
        let path = image.layout.blob_path(&layer.digest);
        // `docker load` checks only diff IDs, after decompressing, so a damaged blob is
        // reported here with its digests instead.
        image
            .layout
            .verify_blob(layer)
            .with_context(|| format!("cannot load layer {} into Docker", layer.digest))?;
        let mut file = fs_err::File::open(&path)?;
        let mut header = tar::Header::new_gnu();
        header.set_size(file.metadata()?.len());
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        archive
            .append_data(&mut header, &name, &mut file)
            .with_context(|| format!("cannot write layer `{}`", path.display()))?;
        layers.push(name);
    }
    let manifest = json!([{
        "Config": config_name,
        "RepoTags": [reference],
        "Layers": layers,
    }]);
    append(
        &mut archive,
        "manifest.json",
        &serde_json::to_vec(&manifest)?,
    )?;
    archive.into_inner()?.flush()?;
    Ok(())
}

fn append<W: Write>(archive: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    archive.append_data(&mut header, name, bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::imagetest::unpack::tests::write_image;

    #[test]
    fn docker_archive_rejects_flipped_layer() {
        let dir = tempfile::tempdir().expect("temp dir");
        let content = "x".repeat(4096);
        let entries = [("data", tar::EntryType::Regular, content.as_str())];
        let layer = write_image(dir.path(), &entries);
        let image = crate::imagetest::read_platform_image(dir.path(), crate::catalog::Arch::Amd64)
            .expect("read image");
        let blob = image.layout.blob_path(&layer.digest);
        let mut bytes = std::fs::read(&blob).expect("read layer");
        bytes[20] = !bytes[20];
        std::fs::write(&blob, &bytes).expect("write layer");

        let mut archive = Vec::new();
        let error = write_docker_archive(&image, "test:latest", &mut archive).expect_err("flipped");
        let message = format!("{error:#}");
        assert!(message.contains("is corrupt"), "{message}");
        assert!(
            message.contains(&format!("expected digest {}", layer.digest)),
            "{message}"
        );
    }
}
