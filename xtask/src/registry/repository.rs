//! A repository in a registry (`127.0.0.1:5000/example/images/nginx`), parsed once so
//! that the registry host and the repository path never get mixed up.

use std::fmt;

use oci_client::Reference;

use super::digest::Digest;

/// A registry host (with port) and a repository path inside it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Repository {
    pub registry: String,
    pub path: String,
}

/// A repository string without a registry host or a path.
#[derive(Debug, thiserror::Error)]
#[error("invalid repository `{0}`: expected `<registry>/<path>`, e.g. `ghcr.io/org/image`")]
pub struct InvalidRepository(pub String);

impl Repository {
    /// Parses `<registry>/<path>`, as `Catalog::repository_of` writes it.
    pub fn parse(text: &str) -> Result<Repository, InvalidRepository> {
        let Some((registry, path)) = text.split_once('/') else {
            return Err(InvalidRepository(text.to_owned()));
        };
        let valid_path = !path.is_empty()
            && path.split('/').all(|part| {
                !part.is_empty()
                    && part.bytes().all(|b| {
                        b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)
                    })
            });
        if registry.is_empty() || !valid_path {
            return Err(InvalidRepository(text.to_owned()));
        }
        Ok(Repository {
            registry: registry.to_owned(),
            path: path.to_owned(),
        })
    }

    /// Returns a repository of the same registry with another path.
    pub fn sibling(&self, path: &str) -> Repository {
        Repository {
            registry: self.registry.clone(),
            path: path.to_owned(),
        }
    }

    /// Returns an oci-client reference to `digest` in this repository.
    pub fn at_digest(&self, digest: &Digest) -> Reference {
        Reference::with_digest(self.registry.clone(), self.path.clone(), digest.to_string())
    }

    /// Returns an oci-client reference to `tag` in this repository.
    pub fn at_tag(&self, tag: &str) -> Reference {
        Reference::with_tag(self.registry.clone(), self.path.clone(), tag.to_owned())
    }
}

impl fmt::Display for Repository {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.path)
    }
}

/// A tag or digest in a repository, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageReference {
    Tag(Repository, String),
    Digest(Repository, Digest),
}

/// A reference that is neither `<repository>:<tag>` nor `<repository>@sha256:<hex>`.
#[derive(Debug, thiserror::Error)]
#[error(
    "invalid image reference `{0}`: expected `<registry>/<path>:<tag>` or `<registry>/<path>@sha256:<hex>`"
)]
pub struct InvalidReference(pub String);

impl ImageReference {
    /// Parses `<registry>/<path>:<tag>` or `<registry>/<path>@sha256:<hex>`.
    pub fn parse(text: &str) -> Result<ImageReference, InvalidReference> {
        let invalid = || InvalidReference(text.to_owned());
        if let Some((repository, digest)) = text.split_once('@') {
            let repository = Repository::parse(repository).map_err(|_| invalid())?;
            let digest = Digest::parse(digest).map_err(|_| invalid())?;
            return Ok(ImageReference::Digest(repository, digest));
        }
        // The tag follows the last colon after the last slash, so a port is not a tag.
        let slash = text.rfind('/').ok_or_else(invalid)?;
        let (repository, tag) = match text[slash..].rfind(':') {
            Some(colon) => (&text[..slash + colon], &text[slash + colon + 1..]),
            None => (text, "latest"),
        };
        let repository = Repository::parse(repository).map_err(|_| invalid())?;
        if tag.is_empty()
            || tag.len() > 128
            || !tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        {
            return Err(invalid());
        }
        Ok(ImageReference::Tag(repository, tag.to_owned()))
    }

    pub fn repository(&self) -> &Repository {
        match self {
            ImageReference::Tag(repository, _) | ImageReference::Digest(repository, _) => {
                repository
            }
        }
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageReference::Tag(repository, tag) => write!(f, "{repository}:{tag}"),
            ImageReference::Digest(repository, digest) => write!(f, "{repository}@{digest}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reference_with_port_and_tag() {
        let reference = ImageReference::parse("127.0.0.1:5000/org/nginx:1.27").expect("valid");
        let repository = Repository::parse("127.0.0.1:5000/org/nginx").expect("valid");
        assert_eq!(reference, ImageReference::Tag(repository, "1.27".into()));
    }

    #[test]
    fn parse_reference_without_tag_is_latest() {
        let reference = ImageReference::parse("127.0.0.1:5000/nginx").expect("valid");
        assert!(matches!(reference, ImageReference::Tag(_, ref tag) if tag == "latest"));
    }

    #[test]
    fn parse_reference_with_digest() {
        let digest = Digest::of(b"x");
        let reference = ImageReference::parse(&format!("ghcr.io/a/b@{digest}")).expect("valid");
        assert!(matches!(reference, ImageReference::Digest(_, ref d) if *d == digest));
    }

    #[test]
    fn parse_rejects_invalid_references() {
        for text in [
            "nginx",
            "ghcr.io/",
            "ghcr.io/A/b:x",
            "ghcr.io/a@sha256:12",
            "ghcr.io/a:",
        ] {
            assert!(ImageReference::parse(text).is_err(), "{text} was accepted");
        }
    }
}
