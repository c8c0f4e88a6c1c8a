use std::path::{Path, PathBuf};

use super::{Cause, Graph, Selection};
use crate::changes::{GraphInput, ImageNode, RecipeNode, VariantNode};

fn variant(name: &str, files: &[&str], packages: &[&str]) -> VariantNode {
    VariantNode {
        name: name.to_string(),
        files: files.iter().map(PathBuf::from).collect(),
        packages: packages.iter().map(|package| package.to_string()).collect(),
    }
}

fn image(name: &str, variants: Vec<VariantNode>) -> ImageNode {
    ImageNode {
        name: name.to_string(),
        dir: Path::new("images").join(name),
        variants,
    }
}

fn recipe(path: &str, provides: &[&str], needs: &[&str]) -> RecipeNode {
    RecipeNode {
        path: PathBuf::from(path),
        provides: provides.iter().map(|name| name.to_string()).collect(),
        needs: needs.iter().map(|name| name.to_string()).collect(),
    }
}

/// Image `app` installs local package `app`, whose recipe needs `libfoo` from another
/// local recipe. Image `web` has two variants, and its `dev` variant includes a config
/// of image `base`. Image `tool` installs only upstream packages.
fn input() -> GraphInput {
    GraphInput {
        images: vec![
            image(
                "app",
                vec![variant(
                    "latest",
                    &["images/app/configs/latest.apko.yaml"],
                    &["app"],
                )],
            ),
            image(
                "base",
                vec![variant(
                    "latest",
                    &["images/base/configs/latest.apko.yaml"],
                    &["busybox"],
                )],
            ),
            image(
                "tool",
                vec![variant(
                    "latest",
                    &["images/tool/configs/latest.apko.yaml"],
                    &["curl"],
                )],
            ),
            image(
                "web",
                vec![
                    variant(
                        "latest",
                        &["images/web/configs/latest.apko.yaml"],
                        &["nginx"],
                    ),
                    variant(
                        "dev",
                        &[
                            "images/web/configs/dev.apko.yaml",
                            "images/base/configs/latest.apko.yaml",
                            "shared/debug.apko.yaml",
                        ],
                        &["nginx", "busybox"],
                    ),
                ],
            ),
        ],
        recipes: vec![
            recipe(
                "packages/app.yaml",
                &["app", "app-doc"],
                &["libfoo-dev", "busybox"],
            ),
            recipe("packages/libfoo.yaml", &["libfoo", "libfoo-dev"], &["gcc"]),
        ],
    }
}

fn select(input: &GraphInput, paths: &[&str]) -> Selection {
    Graph::new(input).select(paths.iter().map(Path::new))
}

/// Returns the selected `image/variant` pairs, sorted.
fn selected(selection: &Selection) -> Vec<String> {
    let mut pairs = Vec::new();
    for (image, variants) in &selection.images {
        for variant in variants.keys() {
            pairs.push(format!("{image}/{variant}"));
        }
    }
    pairs
}

fn causes(selection: &Selection, image: &str, variant: &str) -> Vec<Cause> {
    selection.images[image][variant]
        .iter()
        .map(|reason| reason.cause.clone())
        .collect()
}

const ALL: [&str; 5] = [
    "app/latest",
    "base/latest",
    "tool/latest",
    "web/dev",
    "web/latest",
];

#[test]
fn image_file_selects_all_its_variants() {
    let selection = select(&input(), &["images/web/tests/run.sh"]);
    assert_eq!(selected(&selection), ["web/dev", "web/latest"]);
    assert_eq!(causes(&selection, "web", "dev"), [Cause::ImageFolder]);
}

#[test]
fn included_config_selects_other_image() {
    let selection = select(&input(), &["images/base/configs/latest.apko.yaml"]);
    assert_eq!(selected(&selection), ["base/latest", "web/dev"]);
    assert_eq!(causes(&selection, "web", "dev"), [Cause::Config]);
}

#[test]
fn included_file_outside_images_selects_variant_only() {
    let selection = select(&input(), &["shared/debug.apko.yaml"]);
    assert_eq!(selected(&selection), ["web/dev"]);
}

#[test]
fn recipe_change_reaches_dependents() {
    let selection = select(&input(), &["packages/libfoo/fix-build.patch"]);
    assert_eq!(selected(&selection), ["app/latest"]);
    let expected = Cause::Package {
        package: "app".to_string(),
        recipe: PathBuf::from("packages/libfoo.yaml"),
    };
    assert_eq!(causes(&selection, "app", "latest"), [expected]);
}

#[test]
fn recipe_change_selects_installers() {
    let selection = select(&input(), &["packages/app.yaml"]);
    assert_eq!(selected(&selection), ["app/latest"]);
}

#[test]
fn deleted_recipe_matches_package_name() {
    let mut graph_input = input();
    graph_input
        .recipes
        .retain(|recipe| recipe.path != Path::new("packages/libfoo.yaml"));
    graph_input.images[2].variants[0]
        .packages
        .push("libfoo".to_string());

    let selection = select(&graph_input, &["packages/libfoo.yaml"]);
    assert_eq!(selected(&selection), ["tool/latest"]);
}

#[test]
fn recipe_cycle_terminates() {
    let mut graph_input = input();
    graph_input.recipes[1].needs.push("app".to_string());

    let selection = select(&graph_input, &["packages/app.yaml"]);
    assert_eq!(selected(&selection), ["app/latest"]);
}

#[test]
fn global_inputs_select_everything() {
    for path in [
        "catalog.yaml",
        "xtask/src/lib.rs",
        "Cargo.lock",
        ".github/workflows/release.yaml",
    ] {
        let selection = select(&input(), &[path]);
        assert_eq!(selected(&selection), ALL, "path `{path}`");
        assert_eq!(
            causes(&selection, "tool", "latest"),
            [Cause::Global],
            "path `{path}`"
        );
    }
}

#[test]
fn documentation_selects_nothing() {
    let selection = select(&input(), &["README.md", "docs/benchmarks.md", "LICENSE"]);
    assert_eq!(selected(&selection), Vec::<String>::new());
    assert!(selection.unknown_image_dirs.is_empty());
}

#[test]
fn unknown_file_selects_everything() {
    let selection = select(&input(), &["Makefile"]);
    assert_eq!(selected(&selection), ALL);
    assert_eq!(causes(&selection, "app", "latest"), [Cause::Unknown]);
}

#[test]
fn missing_image_folder_is_reported() {
    let selection = select(
        &input(),
        &[
            "images/gone/image.yaml",
            "images/gone/configs/latest.apko.yaml",
        ],
    );
    assert_eq!(selected(&selection), Vec::<String>::new());
    let dirs: Vec<&PathBuf> = selection.unknown_image_dirs.keys().collect();
    assert_eq!(dirs, [&PathBuf::from("images/gone")]);
    assert_eq!(
        selection.unknown_image_dirs[Path::new("images/gone")].len(),
        2
    );
}

#[test]
fn reasons_name_each_changed_file() {
    let selection = select(
        &input(),
        &[
            "images/app/image.yaml",
            "images/app/configs/latest.apko.yaml",
        ],
    );
    let paths: Vec<&Path> = selection.images["app"]["latest"]
        .iter()
        .map(|reason| reason.path.as_path())
        .collect();
    assert!(paths.contains(&Path::new("images/app/image.yaml")));
    assert!(paths.contains(&Path::new("images/app/configs/latest.apko.yaml")));
}
