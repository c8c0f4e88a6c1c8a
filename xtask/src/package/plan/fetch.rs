//! The `fetch` step: which source it names (a URL, an expected checksum, optionally a
//! Debian source package and alternatives) and how it is unpacked.

use std::collections::BTreeMap;

use serde_json::Value;

use super::PlanErrorKind;
use crate::package::sources::{Algorithm, Candidate, DebianSource, Digest, SourceSpec};
use crate::package::substitute::Variables;

/// Keys `fetch` accepts in `with:`. `debian-source` and `alternatives` are this
/// builder's additions to melange's set.
const KEYS: [&str; 9] = [
    "uri",
    "expected-sha256",
    "expected-sha512",
    "extract",
    "strip-components",
    "directory",
    "delete",
    "debian-source",
    "alternatives",
];

/// Keys accepted in each entry of `alternatives`.
const ALTERNATIVE_KEYS: [&str; 4] = ["uri", "expected-sha256", "expected-sha512", "debian-source"];

/// A `fetch` step, ready to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchStep {
    /// The source and its alternatives.
    pub source: SourceSpec,
    /// Whether the file is unpacked (with `tar`, which detects the compression).
    pub extract: bool,
    /// Leading path components removed while unpacking.
    pub strip_components: u32,
    /// Folder it is unpacked into, as the scripts see it.
    pub directory: String,
    /// Whether the file is removed from the workspace after unpacking.
    pub delete: bool,
}

impl FetchStep {
    /// Reads `with:`, substituting every text value.
    pub fn from_with(
        with: &BTreeMap<String, Value>,
        variables: &Variables,
        working_directory: &str,
    ) -> Result<FetchStep, PlanErrorKind> {
        check_keys(with, &KEYS)?;
        let mut candidates = vec![candidate(with, variables)?];
        if let Some(alternatives) = with.get("alternatives") {
            let Value::Array(entries) = alternatives else {
                return Err(invalid("alternatives", "expected a list of mappings"));
            };
            for entry in entries {
                let Value::Object(map) = entry else {
                    return Err(invalid("alternatives", "expected a list of mappings"));
                };
                let map: BTreeMap<String, Value> = map.clone().into_iter().collect();
                check_keys(&map, &ALTERNATIVE_KEYS)?;
                candidates.push(candidate(&map, variables)?);
            }
        }
        let extract = optional(with, "extract", variables)?
            .map(|text| parse_bool("extract", &text))
            .transpose()?
            .unwrap_or(true);
        let delete = optional(with, "delete", variables)?
            .map(|text| parse_bool("delete", &text))
            .transpose()?
            .unwrap_or(false);
        let strip_components = optional(with, "strip-components", variables)?
            .map(|text| {
                text.parse::<u32>()
                    .map_err(|_| invalid("strip-components", "expected a whole number"))
            })
            .transpose()?
            .unwrap_or(1);
        let directory = match optional(with, "directory", variables)? {
            Some(directory) if directory.starts_with('/') => directory,
            Some(directory) => format!("{}/{directory}", working_directory.trim_end_matches('/')),
            None => working_directory.to_string(),
        };
        Ok(FetchStep {
            source: SourceSpec { candidates },
            extract,
            strip_components,
            directory,
            delete,
        })
    }
}

fn candidate(
    with: &BTreeMap<String, Value>,
    variables: &Variables,
) -> Result<Candidate, PlanErrorKind> {
    let uri = optional(with, "uri", variables)?;
    let sha256 = optional(with, "expected-sha256", variables)?;
    let sha512 = optional(with, "expected-sha512", variables)?;
    let digest = match (sha256, sha512) {
        (Some(hex), None) => Digest::parse(Algorithm::Sha256, &hex),
        (None, Some(hex)) => Digest::parse(Algorithm::Sha512, &hex),
        _ => {
            return Err(invalid(
                "expected-sha256",
                "set exactly one of `expected-sha256` and `expected-sha512`; sources are always verified",
            ));
        }
    }
    .map_err(|error| invalid("expected-sha256", &error.to_string()))?;
    let debian = optional(with, "debian-source", variables)?
        .map(|text| DebianSource::parse(&text))
        .transpose()
        .map_err(|error| invalid("debian-source", &error.to_string()))?;
    if uri.is_none() && debian.is_none() {
        return Err(invalid("uri", "set `uri`, `debian-source` or both"));
    }
    Ok(Candidate {
        uri,
        digest,
        debian,
    })
}

fn check_keys(with: &BTreeMap<String, Value>, known: &[&str]) -> Result<(), PlanErrorKind> {
    for key in with.keys() {
        if !known.contains(&key.as_str()) {
            return Err(PlanErrorKind::UnknownInput {
                pipeline: super::FETCH.to_string(),
                input: key.clone(),
                known: known.iter().map(|key| key.to_string()).collect(),
            });
        }
    }
    Ok(())
}

fn optional(
    with: &BTreeMap<String, Value>,
    key: &str,
    variables: &Variables,
) -> Result<Option<String>, PlanErrorKind> {
    with.get(key)
        .map(|value| with_text(key, value, variables))
        .transpose()
}

/// Returns the text of a `with:` value or input default, substituted. Numbers and booleans
/// are accepted as YAML writes them unquoted.
pub fn with_text(key: &str, value: &Value, variables: &Variables) -> Result<String, PlanErrorKind> {
    let text = match value {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(flag) => flag.to_string(),
        Value::Null => String::new(),
        Value::Array(_) | Value::Object(_) => {
            return Err(invalid(key, "expected text, a number or a boolean"));
        }
    };
    Ok(variables.substitute(&text)?)
}

fn parse_bool(key: &str, text: &str) -> Result<bool, PlanErrorKind> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(invalid(key, "expected `true` or `false`")),
    }
}

fn invalid(key: &str, message: &str) -> PlanErrorKind {
    PlanErrorKind::InvalidWith {
        key: key.to_string(),
        message: message.to_string(),
    }
}
