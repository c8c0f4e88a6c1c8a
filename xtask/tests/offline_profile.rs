//! Which of this repository's own images the offline profile can build, worked out
//! from the recipes in `packages/` and the image configs, and how a config is pointed
//! at the local repository.

use std::path::{Path, PathBuf};

use xtask::catalog::Catalog;
use xtask::offline::{Availability, apply, availability};

fn repository_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

fn catalog() -> Catalog {
    match Catalog::load(&repository_root()) {
        Ok(catalog) => catalog,
        Err(diagnostics) => panic!("catalog does not load: {diagnostics:?}"),
    }
}

fn availability_of(catalog: &Catalog, image: &str) -> Availability {
    let image = catalog.image(image).expect("image in catalog");
    availability(catalog, &image.variants[0].config)
}

fn buildable(names: &[&str]) -> Availability {
    Availability::Buildable(names.iter().map(ToString::to_string).collect())
}

#[test]
fn offline_images_have_recipes() {
    let catalog = catalog();
    let cases = [
        (
            "nginx",
            buildable(&["baselayout", "ca-certificates-bundle", "nginx"]),
        ),
        (
            "static",
            buildable(&["baselayout", "ca-certificates-bundle", "tzdata"]),
        ),
        (
            "busybox",
            buildable(&["baselayout", "busybox", "ca-certificates-bundle"]),
        ),
        ("hello-world", buildable(&["baselayout", "hello"])),
        (
            "git",
            buildable(&[
                "baselayout",
                "ca-certificates-bundle",
                "git",
                "openssh-client",
            ]),
        ),
        (
            "musl-dynamic",
            buildable(&["baselayout", "ca-certificates-bundle", "musl"]),
        ),
    ];
    for (image, expected) in cases {
        assert_eq!(availability_of(&catalog, image), expected, "{image}");
    }
}

#[test]
fn upstream_only_images_list_missing() {
    let catalog = catalog();
    assert_eq!(
        availability_of(&catalog, "wolfi-base"),
        Availability::Missing(vec!["wolfi-base".to_owned()])
    );
}

#[test]
fn apply_replaces_repositories_and_keys() {
    let catalog = catalog();
    let image = catalog.image("nginx").expect("nginx");
    let mut config = image.variants[0].config.clone();
    let key = repository_root().join("out/packages/packages.rsa.pub");
    apply(&catalog, &mut config, &key);
    let repositories: Vec<&str> = config
        .contents
        .repositories
        .iter()
        .map(|entry| entry.value.as_str())
        .collect();
    let keyring: Vec<&str> = config
        .contents
        .keyring
        .iter()
        .map(|entry| entry.value.as_str())
        .collect();
    assert_eq!(repositories, ["out/packages"]);
    assert_eq!(keyring, [key.display().to_string()]);
    let packages: Vec<&str> = config
        .contents
        .packages
        .iter()
        .map(|entry| entry.value.as_str())
        .collect();
    assert_eq!(
        packages,
        ["ca-certificates-bundle", "wolfi-baselayout", "nginx"]
    );
}
