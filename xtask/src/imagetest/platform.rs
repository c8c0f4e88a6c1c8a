//! The image of one architecture in a built OCI layout: its manifest, config and layers.

use std::path::Path;

use anyhow::{Context as _, bail};

use crate::catalog::Arch;
use crate::oci::{
    Descriptor, Digest, ImageConfig, ImageIndex, ImageManifest, LayoutReader, MEDIA_TYPE_INDEX,
};

/// One platform's image, read from a layout with every blob checked against its digest.
#[derive(Debug, Clone)]
pub struct PlatformImage {
    /// The layout the image was read from.
    pub layout: LayoutReader,
    /// The platform's architecture.
    pub arch: Arch,
    /// Digest of the image manifest.
    pub manifest_digest: Digest,
    /// The image manifest.
    pub manifest: ImageManifest,
    /// The raw config blob, as `docker load` needs it byte for byte.
    pub config_bytes: Vec<u8>,
    /// The parsed config.
    pub config: ImageConfig,
}

/// Returns the architectures that the layout's first `index.json` entry has images for,
/// in index order.
pub fn layout_archs(layout_dir: &Path) -> anyhow::Result<Vec<Arch>> {
    let layout = LayoutReader::open(layout_dir)?;
    let target = first_target(&layout)?;
    if target.media_type != MEDIA_TYPE_INDEX {
        let manifest: ImageManifest = layout.read_json(&target.digest)?;
        let config: ImageConfig = layout.read_json(&manifest.config.digest)?;
        return Ok(vec![parse_arch(&config.architecture, layout_dir)?]);
    }
    let index: ImageIndex = layout.read_json(&target.digest)?;
    let mut archs = Vec::new();
    for descriptor in &index.manifests {
        if let Some(platform) = &descriptor.platform {
            archs.push(parse_arch(&platform.architecture, layout_dir)?);
        }
    }
    Ok(archs)
}

/// Reads the image of `arch` from the layout in `layout_dir`.
pub fn read_platform_image(layout_dir: &Path, arch: Arch) -> anyhow::Result<PlatformImage> {
    let layout = LayoutReader::open(layout_dir)?;
    let target = first_target(&layout)?;
    let manifest_digest = if target.media_type == MEDIA_TYPE_INDEX {
        let index: ImageIndex = layout.read_json(&target.digest)?;
        let found = index.manifests.iter().find(|descriptor| {
            descriptor
                .platform
                .as_ref()
                .is_some_and(|platform| platform.architecture == arch.oci_name())
        });
        match found {
            Some(descriptor) => descriptor.digest.clone(),
            None => bail!(
                "`{}` has no {arch} image; build it with `--arch {arch}`",
                layout_dir.display()
            ),
        }
    } else {
        target.digest.clone()
    };
    let manifest: ImageManifest = layout.read_json(&manifest_digest)?;
    let config_bytes = layout.read_blob(&manifest.config.digest)?;
    let config: ImageConfig = serde_json::from_slice(&config_bytes).with_context(|| {
        format!(
            "invalid image config {} in `{}`",
            manifest.config.digest,
            layout_dir.display()
        )
    })?;
    if config.architecture != arch.oci_name() {
        bail!(
            "the image config {} in `{}` is for `{}`, not {arch}",
            manifest.config.digest,
            layout_dir.display(),
            config.architecture
        );
    }
    Ok(PlatformImage {
        layout,
        arch,
        manifest_digest,
        manifest,
        config_bytes,
        config,
    })
}

/// Returns the first entry of `index.json`: a build tags one index several times, so
/// every entry names the same image.
fn first_target(layout: &LayoutReader) -> anyhow::Result<Descriptor> {
    let index = layout.index()?;
    match index.manifests.into_iter().next() {
        Some(target) => Ok(target),
        None => bail!("`{}/index.json` lists no image", layout.dir().display()),
    }
}

fn parse_arch(name: &str, layout_dir: &Path) -> anyhow::Result<Arch> {
    name.parse().map_err(|_| {
        anyhow::anyhow!(
            "`{}` has an image for architecture `{name}`, which this tool does not know",
            layout_dir.display()
        )
    })
}
