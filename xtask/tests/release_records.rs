//! Release records in `releases.json`: round trips, deterministic output, merge
//! and error locations.

use std::path::Path;

use xtask::release::{
    Conclusion, Digest, JobOutcome, RECORDS_FILE, RecordsError, ReleaseRecord, ReleaseRecords,
};

fn digest(fill: char) -> Digest {
    format!("sha256:{}", fill.to_string().repeat(64))
        .parse()
        .expect("valid digest")
}

fn record(fill: char, time: &str) -> ReleaseRecord {
    ReleaseRecord {
        archs: vec!["amd64".into(), "arm64".into()],
        digest: digest(fill),
        signature: format!(
            "ghcr.io/example/images/nginx:sha256-{}.sig",
            fill.to_string().repeat(64)
        ),
        tags: vec!["latest".into(), "1.27".into()],
        time: time.parse().expect("valid time"),
    }
}

const EXPECTED_FILE: &str = r#"{
  "images": {
    "nginx": {
      "dev": {
        "archs": [
          "amd64",
          "arm64"
        ],
        "digest": "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "signature": "ghcr.io/example/images/nginx:sha256-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.sig",
        "tags": [
          "latest",
          "1.27"
        ],
        "time": "2025-02-01T00:00:00Z"
      },
      "latest": {
        "archs": [
          "amd64",
          "arm64"
        ],
        "digest": "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "signature": "ghcr.io/example/images/nginx:sha256-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sig",
        "tags": [
          "latest",
          "1.27"
        ],
        "time": "2025-01-31T12:00:00Z"
      }
    }
  },
  "jobs": {
    "nginx": {
      "dev": {
        "conclusion": "failure",
        "run": 42,
        "url": "https://github.com/example/images/actions/runs/42/job/7"
      }
    }
  },
  "version": 1
}
"#;

fn sample() -> ReleaseRecords {
    let mut records = ReleaseRecords::default();
    // Inserted out of order: the file sorts variants by name.
    records.record("nginx", "latest", record('a', "2025-01-31T12:00:00Z"));
    records.record("nginx", "dev", record('b', "2025-02-01T00:00:00Z"));
    records.set_job_outcome(
        "nginx",
        "dev",
        JobOutcome {
            conclusion: Conclusion::Failure,
            run: 42,
            url: "https://github.com/example/images/actions/runs/42/job/7".into(),
        },
    );
    records
}

#[test]
fn missing_file_loads_empty() {
    let root = tempfile::tempdir().expect("temporary folder");
    let records = ReleaseRecords::load(root.path()).expect("load");
    assert_eq!(records, ReleaseRecords::default());
    assert_eq!(records.iter().count(), 0);
}

#[test]
fn save_writes_sorted_json() {
    let root = tempfile::tempdir().expect("temporary folder");
    sample().save(root.path()).expect("save");
    let text = std::fs::read_to_string(root.path().join(RECORDS_FILE)).expect("read");
    assert_eq!(text, EXPECTED_FILE);

    let entries: Vec<_> = std::fs::read_dir(root.path()).expect("list").collect();
    assert_eq!(entries.len(), 1, "temporary file left behind: {entries:?}");
}

#[test]
fn load_round_trips() {
    let root = tempfile::tempdir().expect("temporary folder");
    sample().save(root.path()).expect("save");
    let loaded = ReleaseRecords::load(root.path()).expect("load");
    assert_eq!(loaded, sample());
    let listed: Vec<_> = loaded
        .iter()
        .map(|(image, variant, _)| (image, variant))
        .collect();
    assert_eq!(listed, [("nginx", "dev"), ("nginx", "latest")]);
}

#[test]
fn record_replaces_and_compares() {
    let mut records = sample();
    assert!(records.is_unchanged("nginx", "latest", &digest('a')));
    assert!(!records.is_unchanged("nginx", "latest", &digest('c')));
    assert!(!records.is_unchanged("static", "latest", &digest('a')));

    let previous = records.record("nginx", "latest", record('c', "2025-03-01T00:00:00Z"));
    assert_eq!(previous.map(|record| record.digest), Some(digest('a')));
    assert!(records.is_unchanged("nginx", "latest", &digest('c')));
}

#[test]
fn merge_keeps_newer() {
    let mut records = sample();
    let mut other = ReleaseRecords::default();
    other.record("nginx", "latest", record('c', "2025-03-01T00:00:00Z"));
    other.record("nginx", "dev", record('d', "2024-12-01T00:00:00Z"));
    other.record("static", "latest", record('e', "2025-01-01T00:00:00Z"));
    other.set_job_outcome(
        "nginx",
        "dev",
        JobOutcome {
            conclusion: Conclusion::Success,
            run: 41,
            url: "https://github.com/example/images/actions/runs/41/job/1".into(),
        },
    );
    records.merge(other);

    let digest_of = |image, variant| {
        records
            .get(image, variant)
            .map(|record| record.digest.clone())
    };
    assert_eq!(digest_of("nginx", "latest"), Some(digest('c')));
    assert_eq!(digest_of("nginx", "dev"), Some(digest('b')));
    assert_eq!(digest_of("static", "latest"), Some(digest('e')));
    let job = records.job_outcome("nginx", "dev").expect("job outcome");
    assert_eq!(job.run, 42, "an older run must not replace a newer one");
}

fn load_text(text: &str) -> Result<ReleaseRecords, RecordsError> {
    let root = tempfile::tempdir().expect("temporary folder");
    std::fs::write(root.path().join(RECORDS_FILE), text).expect("write");
    ReleaseRecords::load(root.path())
}

#[test]
fn errors_name_file_line_column() {
    let bad_digest = EXPECTED_FILE.replacen("sha256:bbbb", "sha256:BBBB", 1);
    let cases = [
        (
            "{\n  \"images\": {},\n  \"version\": 1,\n}\n",
            4,
            "trailing comma",
        ),
        (bad_digest.as_str(), 9, "invalid digest"),
        (
            "{\"images\": {}, \"version\": 1, \"extra\": 0}",
            1,
            "unknown field `extra`",
        ),
        (
            "{\"images\": {\"nginx\": {\"latest\": {}}}, \"version\": 1}",
            1,
            "missing field",
        ),
    ];
    for (text, line, fragment) in cases {
        let error = load_text(text).expect_err("invalid records");
        let RecordsError::Parse {
            path, line: found, ..
        } = &error
        else {
            panic!("expected a parse error, found {error:?}");
        };
        assert!(path.ends_with(RECORDS_FILE), "{path:?}");
        assert_eq!(*found, line, "{error}");
        let message = error.to_string();
        assert!(
            message.contains(&format!("{RECORDS_FILE}:{line}:")),
            "{message}"
        );
        assert!(message.contains(fragment), "{message}");
    }
}

#[test]
fn bad_time_is_rejected() {
    let text = EXPECTED_FILE.replacen("2025-02-01T00:00:00Z", "2025-02-01T00:00:00+01:00", 1);
    let error = load_text(&text).expect_err("offset time");
    assert!(error.to_string().contains("must be UTC"), "{error}");
}

#[test]
fn unsupported_version() {
    let error = load_text("{\"images\": {}, \"version\": 2}").expect_err("version 2");
    assert!(
        matches!(error, RecordsError::Version { found: 2, .. }),
        "{error:?}"
    );
}

#[test]
fn save_into_missing_folder_fails() {
    let root = tempfile::tempdir().expect("temporary folder");
    let missing = root.path().join("absent");
    let error = sample().save(&missing).expect_err("no folder");
    assert!(matches!(error, RecordsError::Write { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .contains(&Path::new("absent").join(RECORDS_FILE).display().to_string())
    );
}
