//! Reading the catalog's files from disk into the model, collecting every problem.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::apko::ImageConfig;
use super::arch::Arch;
use super::diagnostic::{Diagnostic, Diagnostics, Position};
use super::image_file::ImageFile;
use super::model::{Catalog, ExtractTags, Image, Recipe, Status, SubvariantSpec, Variant};
use super::recipe::RecipeFile;
use super::settings::Settings;
use super::{CATALOG_FILE, rules, yaml};

/// Deepest chain of `include` files followed; apko configs rarely nest more than twice.
const MAX_INCLUDE_DEPTH: usize = 8;

/// Loads what can be loaded and returns it with every problem found. The catalog is
/// `None` only when `catalog.yaml` itself is unusable.
pub fn load(root: &Path) -> (Option<Catalog>, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let root = root.to_path_buf();
    let settings_path = root.join(CATALOG_FILE);
    let settings: Option<Settings> = if !settings_path.is_file() {
        diagnostics.push(
            Diagnostic::error(
                CATALOG_FILE,
                Position::FILE,
                format!("`{}` not found", settings_path.display()),
            )
            .with_hint("run the command in the catalog root, or name the root with `-C DIR`"),
        );
        None
    } else {
        match yaml::read(&settings_path, Path::new(CATALOG_FILE)) {
            Ok(settings) => Some(settings),
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                None
            }
        }
    };
    let archs = settings
        .as_ref()
        .map(|s| rules::parse_archs(&s.archs, Path::new(CATALOG_FILE), &mut diagnostics));
    if let Some(settings) = &settings {
        rules::check_settings(settings, &root, &mut diagnostics);
    }
    let default_archs = archs
        .clone()
        .unwrap_or_else(|| vec![Arch::Amd64, Arch::Arm64]);
    let recipes = load_recipes(&root, &mut diagnostics);
    let images = load_images(&root, &default_archs, &mut diagnostics);
    rules::check_catalog(&images, &recipes, &mut diagnostics);
    let catalog = settings.map(|settings| Catalog {
        root,
        settings,
        archs: default_archs,
        images,
        recipes,
    });
    (catalog, diagnostics)
}

fn load_images(root: &Path, default_archs: &[Arch], diagnostics: &mut Diagnostics) -> Vec<Image> {
    let mut images = Vec::new();
    for dir in sorted_entries(&root.join("images"), diagnostics) {
        if !dir.is_dir() {
            continue;
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if let Some(image) = load_image(root, &name, default_archs, diagnostics) {
            images.push(image);
        }
    }
    images
}

fn load_image(
    root: &Path,
    name: &str,
    default_archs: &[Arch],
    diagnostics: &mut Diagnostics,
) -> Option<Image> {
    let dir = PathBuf::from("images").join(name);
    let file_path = dir.join("image.yaml");
    rules::check_image_name(name, &dir, diagnostics);
    if !root.join(&file_path).is_file() {
        diagnostics.push(
            Diagnostic::error(&dir, Position::FILE, "image folder has no `image.yaml`")
                .with_hint("add `image.yaml` listing the image's variants, or remove the folder"),
        );
        return None;
    }
    let file: ImageFile = match yaml::read(&root.join(&file_path), &file_path) {
        Ok(file) => file,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return None;
        }
    };
    let status = image_status(&file, &file_path, diagnostics);
    let image_archs = if file.archs.is_empty() {
        None
    } else {
        Some(rules::parse_archs(&file.archs, &file_path, diagnostics))
    };
    let mut variants = Vec::new();
    for entry in &file.versions.value {
        let archs = image_archs.as_deref();
        if let Some(variant) = load_variant(
            root,
            &dir,
            &file_path,
            &entry.apko,
            archs,
            default_archs,
            diagnostics,
        ) {
            variants.push(variant);
        }
    }
    if file.versions.value.is_empty() {
        diagnostics.push(Diagnostic::error(
            &file_path,
            file.versions.referenced.into(),
            "image has no variants",
        ));
    }
    rules::check_image(&file, &variants, &file_path, diagnostics);
    let tests = list_tests(root, &dir, diagnostics);
    Some(Image {
        name: name.to_string(),
        dir,
        description: file.description.clone(),
        status,
        variants,
        tests,
    })
}

fn image_status(file: &ImageFile, file_path: &Path, diagnostics: &mut Diagnostics) -> Status {
    let Some(status) = &file.status else {
        return Status::Stable;
    };
    Status::parse(&status.value).unwrap_or_else(|| {
        diagnostics.push(
            Diagnostic::error(
                file_path,
                status.referenced.into(),
                format!("unknown status `{}`", status.value),
            )
            .with_hint(format!("use one of: {}", Status::NAMES.join(", "))),
        );
        Status::Stable
    })
}

fn load_variant(
    root: &Path,
    image_dir: &Path,
    file_path: &Path,
    apko: &super::image_file::ApkoVariant,
    image_archs: Option<&[Arch]>,
    default_archs: &[Arch],
    diagnostics: &mut Diagnostics,
) -> Option<Variant> {
    let config_path = image_dir.join(&apko.config.value);
    let position: Position = apko.config.referenced.into();
    let name = rules::variant_name(&apko.config.value, file_path, position, diagnostics)?;
    if !root.join(&config_path).is_file() {
        diagnostics.push(
            Diagnostic::error(
                file_path,
                position,
                format!("config file `{}` not found", config_path.display()),
            )
            .with_hint("create it or fix the path; it is relative to the image folder"),
        );
        return None;
    }
    let (config, config_files) = load_config(root, &config_path, diagnostics)?;
    // The most specific list wins: the variant's, the image's, the config's, then the
    // catalog default.
    let archs = if !apko.archs.is_empty() {
        rules::parse_archs(&apko.archs, file_path, diagnostics)
    } else if let Some(archs) = image_archs {
        archs.to_vec()
    } else if !config.archs.is_empty() {
        config
            .archs
            .iter()
            .filter_map(|name| name.value.parse().ok())
            .collect()
    } else {
        default_archs.to_vec()
    };
    rules::check_config(&config, &config_path, root, diagnostics);
    let mut tags: Vec<String> = Vec::new();
    if name.starts_with("latest") {
        tags.push(name.clone());
    }
    tags.extend(apko.tags.iter().map(|tag| tag.value.text()));
    let extract_tags_from = apko.extract_tags_from.as_ref().map(|extract| ExtractTags {
        package: extract.package.value.clone(),
        prefix: extract.prefix.clone(),
        exclude: extract.exclude.iter().map(|tag| tag.text()).collect(),
    });
    let subvariants = apko
        .subvariants
        .iter()
        .map(|sub| SubvariantSpec {
            suffix: sub.suffix.value.clone(),
            options: sub.options.iter().map(|o| o.value.clone()).collect(),
        })
        .collect();
    Some(Variant {
        name,
        config_path,
        config_files,
        config,
        tags,
        extract_tags_from,
        archs,
        subvariants,
    })
}

/// Reads a config and its `include` chain. apko resolves `include` against the working
/// directory; here the catalog root is that directory, which is where `cargo xtask` and
/// apko both run in CI.
fn load_config(
    root: &Path,
    path: &Path,
    diagnostics: &mut Diagnostics,
) -> Option<(ImageConfig, Vec<PathBuf>)> {
    let mut files = vec![path.to_path_buf()];
    let mut config: ImageConfig = match yaml::read(&root.join(path), path) {
        Ok(config) => config,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return None;
        }
    };
    let mut current = path.to_path_buf();
    while let Some(include) = config.include.clone() {
        let included = PathBuf::from(&include.value);
        let position: Position = include.referenced.into();
        if files.contains(&included) || files.len() > MAX_INCLUDE_DEPTH {
            diagnostics.push(Diagnostic::error(&current, position, format!(
                "`include` of `{}` forms a cycle or nests deeper than {MAX_INCLUDE_DEPTH} files",
                include.value
            )));
            return None;
        }
        if included.is_absolute() || !root.join(&included).is_file() {
            diagnostics.push(
                Diagnostic::error(
                    &current,
                    position,
                    format!("included file `{}` not found", include.value),
                )
                .with_hint("`include` paths are relative to the catalog root"),
            );
            return None;
        }
        let base: ImageConfig = match yaml::read(&root.join(&included), &included) {
            Ok(base) => base,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                return None;
            }
        };
        let next_include = base.include.clone();
        config.include = None;
        config = config.merged_over(ImageConfig {
            include: None,
            ..base
        });
        config.include = next_include;
        files.push(included.clone());
        current = included;
    }
    Some((config, files))
}

fn load_recipes(root: &Path, diagnostics: &mut Diagnostics) -> Vec<Recipe> {
    let mut recipes = Vec::new();
    for path in sorted_entries(&root.join("packages"), diagnostics) {
        let is_yaml = path
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        if !path.is_file() || !is_yaml {
            continue;
        }
        let relative = path
            .strip_prefix(root)
            .map(Path::to_path_buf)
            .unwrap_or(path.clone());
        let file: RecipeFile = match yaml::read(&path, &relative) {
            Ok(file) => file,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        rules::check_recipe(&file, &relative, diagnostics);
        let version = file.package.version.value.text();
        recipes.push(Recipe {
            name: file.package.name.value.clone(),
            path: relative,
            full_version: format!("{version}-r{}", file.package.epoch),
            file,
        });
    }
    recipes.sort_by(|a, b| a.name.cmp(&b.name));
    recipes
}

fn list_tests(root: &Path, image_dir: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
    let tests_dir = root.join(image_dir).join("tests");
    if !tests_dir.is_dir() {
        return Vec::new();
    }
    sorted_entries(&tests_dir, diagnostics)
        .into_iter()
        .filter(|path| path.is_file())
        .filter_map(|path| path.strip_prefix(root).map(Path::to_path_buf).ok())
        .collect()
}

/// Lists a folder sorted by name, so output never depends on directory order. A missing
/// folder is empty; an unreadable one is a diagnostic.
fn sorted_entries(dir: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            diagnostics.push(Diagnostic::error(
                dir,
                Position::FILE,
                format!("cannot list folder: {error}"),
            ));
            return Vec::new();
        }
    };
    let mut paths: BTreeSet<PathBuf> = BTreeSet::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                paths.insert(entry.path());
            }
            Err(error) => diagnostics.push(Diagnostic::error(
                dir,
                Position::FILE,
                format!("cannot list folder: {error}"),
            )),
        }
    }
    paths.into_iter().collect()
}
