//! Release records of published variants, written to `releases.json` through the
//! release records module.

use std::path::Path;
use std::str::FromStr as _;

use crate::release::{Digest, RecordsError, ReleaseRecord, ReleaseRecords, ReleaseTime};

use super::PublishedVariant;

/// A record that cannot be made or stored.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Records(#[from] RecordsError),
    #[error("invalid release record for {name}: {message}")]
    Invalid { name: String, message: String },
}

/// Records each published variant in `releases.json` under `root`, keyed by image and
/// variant. A variant whose digest and tags match its last record keeps that record,
/// so an unchanged nightly rebuild leaves the file as it was.
pub fn write_records(
    root: &Path,
    published: &[(String, String, PublishedVariant)],
) -> Result<(), RecordError> {
    let mut records = ReleaseRecords::load(root)?;
    let mut changed = false;
    for (image, variant, published) in published {
        let record = release_record(published, now()?)?;
        let previous = records.get(image, variant);
        if previous.is_some_and(|previous| {
            previous.digest == record.digest && previous.tags == record.tags
        }) {
            tracing::info!(image, variant, digest = %record.digest, "release unchanged since the last record");
            continue;
        }
        records.record(image, variant, record);
        changed = true;
    }
    if changed {
        records.save(root)?;
    }
    Ok(())
}

/// Builds the record of one published variant, released at `time`.
pub fn release_record(
    published: &PublishedVariant,
    time: ReleaseTime,
) -> Result<ReleaseRecord, RecordError> {
    let digest =
        Digest::from_str(published.digest.as_str()).map_err(|error| RecordError::Invalid {
            name: published.name.clone(),
            message: error.to_string(),
        })?;
    let mut archs: Vec<String> = published
        .platforms
        .iter()
        .map(|platform| platform.split('/').nth(1).unwrap_or(platform).to_owned())
        .collect();
    archs.sort();
    archs.dedup();
    Ok(ReleaseRecord {
        archs,
        digest,
        signature: published.signature_reference(),
        tags: published.tags.clone(),
        time,
    })
}

fn now() -> Result<ReleaseTime, RecordError> {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|duration| duration.as_secs() as i64)
        .unwrap_or(0);
    ReleaseTime::from_unix_seconds(seconds).map_err(|error| RecordError::Invalid {
        name: "release time".into(),
        message: error.to_string(),
    })
}
