//! The catalog data that the README renderer uses, kept apart from catalog parsing
//! so that rendering can be tested on its own.

use crate::catalog::Catalog;

/// The catalog as input to the README renderer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableInput {
    /// Registry host images are published to, such as `ghcr.io`.
    pub registry: String,
    /// Namespace under the registry, such as `example/images`.
    pub namespace: String,
    /// Images in any order; rendering sorts them by name.
    pub images: Vec<ImageInput>,
}

/// One image of the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInput {
    /// Image name, which is also its folder under `images/`.
    pub name: String,
    /// One-paragraph description for the image README.
    pub description: Option<String>,
    /// Lifecycle status from the catalog, such as `stable` or `deprecated`.
    pub status: String,
    /// Variants in catalog order.
    pub variants: Vec<VariantInput>,
}

/// One variant of an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariantInput {
    /// Variant name, such as `latest` or `dev`.
    pub name: String,
    /// Tags the variant is published under.
    pub tags: Vec<String>,
    /// Architectures the variant is built for, such as `amd64`.
    pub archs: Vec<String>,
}

impl TableInput {
    /// Returns the registry repository of `image`, without tag
    /// (`ghcr.io/example/images/nginx`). An empty namespace is left out.
    pub fn repository(&self, image: &ImageInput) -> String {
        let namespace = self.namespace.trim_matches('/');
        if namespace.is_empty() {
            format!("{}/{}", self.registry, image.name)
        } else {
            format!("{}/{namespace}/{}", self.registry, image.name)
        }
    }
}

impl From<&Catalog> for TableInput {
    fn from(catalog: &Catalog) -> Self {
        let images = catalog.images.iter().map(|image| ImageInput {
            name: image.name.clone(),
            description: image.description.clone(),
            status: image.status.to_string(),
            variants: image
                .variants
                .iter()
                .map(|variant| VariantInput {
                    name: variant.name.clone(),
                    tags: variant.tags.clone(),
                    archs: variant.archs.iter().map(ToString::to_string).collect(),
                })
                .collect(),
        });
        Self {
            registry: catalog.settings.registry.value.clone(),
            namespace: catalog.settings.namespace.value.clone(),
            images: images.collect(),
        }
    }
}

impl ImageInput {
    /// Returns the tag the pull command in the image README uses: `latest` when a
    /// variant has it, otherwise the first tag of the first variant.
    pub fn pull_tag(&self) -> &str {
        let mut tags = self.variants.iter().flat_map(|variant| &variant.tags);
        if tags.clone().any(|tag| tag == "latest") {
            return "latest";
        }
        tags.next().map_or("latest", String::as_str)
    }
}
