//! Reading the catalog's files from disk into the model, collecting every problem.

use std::collections::BTreeSet;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use super::apko::ImageConfig;
use super::arch::Arch;
use super::diagnostic::{Diagnostic, Diagnostics, Position};
use super::files::{self, PathProblem};
use super::image_file::{ApkoVariant, ImageFile};
use super::model::{Catalog, ExtractTags, Image, Recipe, Status, SubvariantSpec, Variant};
use super::recipe::RecipeFile;
use super::settings::Settings;
use super::{CATALOG_FILE, rules, yaml};

/// Deepest chain of `include` files followed; apko configs rarely nest more than twice.
const MAX_INCLUDE_DEPTH: usize = 8;

/// One config file of a variant with its own content, before merging.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// Path relative to the catalog root.
    pub path: PathBuf,
    pub config: ImageConfig,
}

/// Loads what can be loaded and returns it with every problem found. The catalog is
/// `None` only when `catalog.yaml` itself is unusable.
pub fn load(root: &Path) -> (Option<Catalog>, Diagnostics) {
    let mut diagnostics = Diagnostics::default();
    let root = root.to_path_buf();
    let settings = load_settings(&root, &mut diagnostics);
    let archs = settings
        .as_ref()
        .map(|s| rules::parse_archs(&s.archs, Path::new(CATALOG_FILE), &mut diagnostics));
    if let Some(settings) = &settings {
        rules::check_settings(settings, &root, &mut diagnostics);
    }
    let default_archs = archs.unwrap_or_else(|| vec![Arch::Amd64, Arch::Arm64]);
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

fn load_settings(root: &Path, diagnostics: &mut Diagnostics) -> Option<Settings> {
    let path = match files::file_inside(root, Path::new(CATALOG_FILE)) {
        Ok(path) => path,
        Err(problem) => {
            let hint = match problem {
                PathProblem::NotFound(_) => {
                    "run the command in the catalog root, or name the root with `-C DIR`"
                }
                _ => problem.hint(),
            };
            diagnostics.push(
                Diagnostic::error(CATALOG_FILE, Position::FILE, problem.to_string())
                    .with_hint(hint),
            );
            return None;
        }
    };
    match yaml::read(&root.join(&path), &path) {
        Ok(settings) => Some(settings),
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            None
        }
    }
}

/// Resolves a path the catalog names, reporting why it cannot be used at `file`/`position`.
fn locate(
    root: &Path,
    relative: &Path,
    file: &Path,
    position: Position,
    diagnostics: &mut Diagnostics,
) -> Option<PathBuf> {
    match files::file_inside(root, relative) {
        Ok(path) => Some(path),
        Err(problem) => {
            let hint = problem.hint();
            diagnostics
                .push(Diagnostic::error(file, position, problem.to_string()).with_hint(hint));
            None
        }
    }
}

fn load_images(root: &Path, default_archs: &[Arch], diagnostics: &mut Diagnostics) -> Vec<Image> {
    let mut images = Vec::new();
    for dir in sorted_entries(root, Path::new("images"), diagnostics) {
        let full = root.join(&dir);
        if !full.is_dir() {
            continue;
        }
        if let Err(problem) = files::check_inside(root, &full, &dir.display().to_string()) {
            diagnostics.push(
                Diagnostic::error(&dir, Position::FILE, problem.to_string())
                    .with_hint(problem.hint()),
            );
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
    rules::check_image_name(name, &dir, diagnostics);
    let file_path = match files::file_inside(root, &dir.join("image.yaml")) {
        Ok(path) => path,
        Err(PathProblem::NotFound(_)) => {
            diagnostics.push(
                Diagnostic::error(&dir, Position::FILE, "image folder has no `image.yaml`")
                    .with_hint(
                        "add `image.yaml` listing the image's variants, or remove the folder",
                    ),
            );
            return None;
        }
        Err(problem) => {
            diagnostics.push(
                Diagnostic::error(&dir, Position::FILE, problem.to_string())
                    .with_hint(problem.hint()),
            );
            return None;
        }
    };
    let file: ImageFile = match yaml::read(&root.join(&file_path), &file_path) {
        Ok(file) => file,
        Err(diagnostic) => {
            diagnostics.push(diagnostic);
            return None;
        }
    };
    let status = image_status(&file, &file_path, diagnostics);
    let image_archs =
        (!file.archs.is_empty()).then(|| rules::parse_archs(&file.archs, &file_path, diagnostics));
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
    apko: &ApkoVariant,
    image_archs: Option<&[Arch]>,
    default_archs: &[Arch],
    diagnostics: &mut Diagnostics,
) -> Option<Variant> {
    let position: Position = apko.config.referenced.into();
    let name = rules::variant_name(&apko.config.value, file_path, position, diagnostics)?;
    let config_path = locate(
        root,
        &image_dir.join(&apko.config.value),
        file_path,
        position,
        diagnostics,
    )?;
    let chain = load_config_chain(root, &config_path, diagnostics)?;
    let config = merge_chain(&chain);
    rules::check_config_chain(&chain, &config, root, diagnostics);

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
    let config_files = chain.into_iter().map(|file| file.path).collect();
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

/// Reads a config and its `include` chain, the config itself first. apko resolves
/// `include` against the working directory; here that is the catalog root, which is
/// where `cargo xtask` and apko both run in CI.
fn load_config_chain(
    root: &Path,
    path: &Path,
    diagnostics: &mut Diagnostics,
) -> Option<Vec<ConfigFile>> {
    let mut chain: Vec<ConfigFile> = Vec::new();
    let mut next = Some((path.to_path_buf(), None::<(PathBuf, Position)>));
    while let Some((current, included_from)) = next.take() {
        if chain.iter().any(|file| file.path == current) || chain.len() > MAX_INCLUDE_DEPTH {
            let (file, position) = included_from.unwrap_or((current.clone(), Position::FILE));
            diagnostics.push(Diagnostic::error(
                file,
                position,
                format!(
                    "`include` of `{}` forms a cycle or nests deeper than {MAX_INCLUDE_DEPTH} files",
                    current.display()
                ),
            ));
            return None;
        }
        let config: ImageConfig = match yaml::read(&root.join(&current), &current) {
            Ok(config) => config,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                return None;
            }
        };
        if let Some(include) = &config.include {
            let position: Position = include.referenced.into();
            let included = locate(
                root,
                Path::new(&include.value),
                &current,
                position,
                diagnostics,
            )?;
            next = Some((included, Some((current.clone(), position))));
        }
        chain.push(ConfigFile {
            path: current,
            config,
        });
    }
    Some(chain)
}

/// Merges a chain so that each file's values go over those of the files it includes.
fn merge_chain(chain: &[ConfigFile]) -> ImageConfig {
    let mut files = chain.iter().rev();
    let mut merged = files
        .next()
        .map(|file| file.config.clone())
        .unwrap_or_default();
    for file in files {
        merged = file.config.clone().merged_over(merged);
    }
    merged.include = None;
    merged
}

fn load_recipes(root: &Path, diagnostics: &mut Diagnostics) -> Vec<Recipe> {
    let mut recipes = Vec::new();
    for relative in sorted_entries(root, Path::new("packages"), diagnostics) {
        let is_yaml = relative
            .extension()
            .is_some_and(|ext| ext == "yaml" || ext == "yml");
        if !is_yaml || root.join(&relative).is_dir() {
            continue;
        }
        let Some(path) = locate(root, &relative, &relative, Position::FILE, diagnostics) else {
            continue;
        };
        let file: RecipeFile = match yaml::read(&root.join(&path), &path) {
            Ok(file) => file,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        rules::check_recipe(&file, &path, diagnostics);
        let version = file.package.version.value.text();
        recipes.push(Recipe {
            name: file.package.name.value.clone(),
            path,
            full_version: format!("{version}-r{}", file.package.epoch),
            file,
        });
    }
    recipes.sort_by(|a, b| a.name.cmp(&b.name));
    recipes
}

/// Lists the executable files in an image's `tests/` folder. Hidden files such as
/// `.gitkeep` are skipped; a file that is not executable is reported, since the test
/// runner could not start it.
fn list_tests(root: &Path, image_dir: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
    let mut tests = Vec::new();
    for relative in sorted_entries(root, &image_dir.join("tests"), diagnostics) {
        let hidden = relative
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if hidden || root.join(&relative).is_dir() {
            continue;
        }
        let Some(path) = locate(root, &relative, &relative, Position::FILE, diagnostics) else {
            continue;
        };
        let executable =
            std::fs::metadata(root.join(&path)).is_ok_and(|m| m.permissions().mode() & 0o111 != 0);
        if executable {
            tests.push(path);
        } else {
            diagnostics.push(
                Diagnostic::error(&path, Position::FILE, "test script is not executable")
                    .with_hint(format!(
                        "run `chmod +x {}` and commit the mode change",
                        path.display()
                    )),
            );
        }
    }
    tests
}

/// Lists a folder (relative to `root`) sorted by name, so output never depends on
/// directory order. A missing folder is empty; an unreadable one is a diagnostic.
fn sorted_entries(root: &Path, dir: &Path, diagnostics: &mut Diagnostics) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(root.join(dir)) {
        Ok(entries) => entries,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(error) => {
            diagnostics.push(
                Diagnostic::error(dir, Position::FILE, format!("cannot read folder: {error}"))
                    .with_hint("check that it is a folder and readable"),
            );
            return Vec::new();
        }
    };
    let mut paths: BTreeSet<PathBuf> = BTreeSet::new();
    for entry in entries {
        match entry {
            Ok(entry) => {
                paths.insert(dir.join(entry.file_name()));
            }
            Err(error) => {
                diagnostics.push(Diagnostic::error(
                    dir,
                    Position::FILE,
                    format!("cannot read folder: {error}"),
                ));
            }
        }
    }
    paths.into_iter().collect()
}
