//! Rendering of the generated README sections from minijinja templates.

use minijinja::syntax::SyntaxConfig;
use minijinja::{Environment, UndefinedBehavior, Value, context};

use super::input::{ImageInput, TableInput, VariantInput};
use super::status::ReleaseState;
use crate::release::ReleaseRecords;

const TABLE_TEMPLATE: &str = "release-table.md";
const HEADER_TEMPLATE: &str = "image-header.md";

/// Renders the release-status table and image headers. Output depends only on its
/// inputs: rows are sorted by image name and the only dates are those of the records.
pub struct Renderer {
    environment: Environment<'static>,
}

impl Renderer {
    /// Creates a renderer with the built-in templates.
    pub fn new() -> Result<Self, minijinja::Error> {
        let mut environment = Environment::new();
        environment.set_undefined_behavior(UndefinedBehavior::Strict);
        environment.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .keep_trailing_newline(true)
                .build()?,
        );
        environment.add_filter("cell", escape_cell);
        environment.add_filter("code_list", code_list);
        environment.add_filter("release_cell", release_cell);
        environment.add_template(
            TABLE_TEMPLATE,
            include_str!("../../templates/release-table.md.j2"),
        )?;
        environment.add_template(
            HEADER_TEMPLATE,
            include_str!("../../templates/image-header.md.j2"),
        )?;
        Ok(Self { environment })
    }

    /// Renders the text between the release table markers of the root README.
    pub fn table(
        &self,
        input: &TableInput,
        records: &ReleaseRecords,
    ) -> Result<String, minijinja::Error> {
        let mut images: Vec<&ImageInput> = input.images.iter().collect();
        images.sort_by(|left, right| left.name.cmp(&right.name));
        let rows: Vec<Value> = images
            .into_iter()
            .flat_map(|image| {
                let link = format!("images/{}/README.md", image.name);
                image
                    .variants
                    .iter()
                    .map(move |variant| row(image, variant, link.clone(), records))
            })
            .collect();
        let template = self.environment.get_template(TABLE_TEMPLATE)?;
        template.render(context! { rows })
    }

    /// Renders the text between the header markers of `image`'s README.
    pub fn header(
        &self,
        input: &TableInput,
        image: &ImageInput,
        records: &ReleaseRecords,
    ) -> Result<String, minijinja::Error> {
        let rows: Vec<Value> = image
            .variants
            .iter()
            .map(|variant| row(image, variant, String::new(), records))
            .collect();
        let pull = format!("{}:{}", input.repository(image), image.pull_tag());
        let image_view = context! {
            name => &image.name,
            description => image.description.as_deref(),
            status => &image.status,
        };
        let template = self.environment.get_template(HEADER_TEMPLATE)?;
        template.render(context! {
            image => image_view,
            pull,
            rows,
            catalog_link => "../../README.md",
        })
    }
}

/// Builds the template value of one row: a variant of an image with its release state.
fn row(
    image: &ImageInput,
    variant: &VariantInput,
    link: String,
    records: &ReleaseRecords,
) -> Value {
    let record = records.get(&image.name, &variant.name);
    let job = records.job_outcome(&image.name, &variant.name);
    let state = ReleaseState::of(record, job);
    // A failed or cancelled job links to its log; a release links to nothing.
    let job_url = match state {
        ReleaseState::Failing | ReleaseState::Cancelled => job.map(|job| job.url.as_str()),
        ReleaseState::Released | ReleaseState::NotReleased => None,
    };
    let tags = published_tags(&variant.tags, record.map(|record| record.tags.as_slice()));
    let release_date = match state {
        ReleaseState::Released => record.map(|record| record.time.date()),
        _ => None,
    };
    context! {
        image => &image.name,
        link,
        variant => &variant.name,
        tags,
        archs => &variant.archs,
        status => &image.status,
        release => state.as_str(),
        release_date,
        job_url,
        digest => record.map(|record| record.digest.as_str()),
        digest_short => record.map(|record| record.digest.short()),
    }
}

/// Lists the catalog's tags followed by released tags the catalog does not name,
/// such as those derived from a package version at build time.
fn published_tags(catalog_tags: &[String], released: Option<&[String]>) -> Vec<String> {
    let mut tags = catalog_tags.to_vec();
    for tag in released.unwrap_or_default() {
        if !tags.contains(tag) {
            tags.push(tag.clone());
        }
    }
    tags
}

/// Escapes text for a Markdown table cell: a `|` would end the cell and a line
/// break would end the row.
fn escape_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// Formats a list as comma-separated code spans, or `none` when it is empty.
fn code_list(items: Vec<String>) -> String {
    if items.is_empty() {
        return "none".to_owned();
    }
    let spans: Vec<String> = items
        .iter()
        .map(|item| format!("`{}`", escape_cell(item)))
        .collect();
    spans.join(", ")
}

/// Formats the release state of a row: the date of a release, or a link to the log
/// of a failed or cancelled job.
fn release_cell(row: Value) -> Result<String, minijinja::Error> {
    let release = row.get_attr("release")?;
    let date = row.get_attr("release_date")?;
    let url = row.get_attr("job_url")?;
    let text = match (date.as_str(), url.as_str()) {
        (Some(date), _) => format!("{release} {date}"),
        (None, Some(url)) => format!("[{release}]({url})"),
        (None, None) => release.to_string(),
    };
    Ok(text)
}
