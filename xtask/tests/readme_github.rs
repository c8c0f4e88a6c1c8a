//! Reading release job outcomes from a loopback stand-in for the GitHub REST API.

mod common;

use common::github_server::GitHubServer;
use xtask::readme::github::{self, GitHubError, GitHubSettings, RunSelector, Token, VariantJob};
use xtask::readme::{ImageInput, TableInput, VariantInput};
use xtask::release::{Conclusion, ReleaseRecords};

const RUNS: &str = "/repos/example-org/images/actions/workflows/release.yaml/runs?branch=main&status=completed&per_page=1";
const JOBS_PAGE_1: &str =
    "/repos/example-org/images/actions/runs/12045678901/jobs?filter=latest&per_page=100&page=1";
const JOBS_PAGE_2: &str =
    "/repos/example-org/images/actions/runs/12045678901/jobs?filter=latest&per_page=100&page=2";
const TOKEN: &str = "ghs_loopbackTestToken0123456789";

fn full_server() -> GitHubServer {
    GitHubServer::start(&[
        (RUNS, "workflow-runs.json"),
        (JOBS_PAGE_1, "jobs-page-1.json"),
        (JOBS_PAGE_2, "jobs-page-2.json"),
    ])
}

fn settings(server: &GitHubServer) -> GitHubSettings {
    GitHubSettings {
        api_url: server.url.clone(),
        owner: "example-org".into(),
        repo: "images".into(),
        token: Some(Token::new(TOKEN.into())),
    }
}

fn summary(jobs: &[VariantJob]) -> Vec<(&str, &str, Conclusion)> {
    jobs.iter()
        .map(|job| {
            (
                job.image.as_str(),
                job.variant.as_str(),
                job.outcome.conclusion,
            )
        })
        .collect()
}

#[test]
fn latest_completed_run_jobs() {
    let server = full_server();
    let run = github::fetch_release_run(&settings(&server), RunSelector::LatestCompleted)
        .expect("fetch release run");

    assert_eq!(run.id, 12045678901);
    let expected = [
        ("nginx", "latest", Conclusion::Success),
        ("busybox", "latest", Conclusion::Failure),
        ("static", "latest", Conclusion::Cancelled),
        ("retired", "latest", Conclusion::Success),
    ];
    assert_eq!(summary(&run.jobs), expected);
    let busybox = &run.jobs[1].outcome;
    assert_eq!(busybox.run, 12045678901);
    assert_eq!(
        busybox.url,
        "https://github.com/example-org/images/actions/runs/12045678901/job/33512345703"
    );

    let requests = server.requests();
    assert_eq!(requests.len(), 3, "{requests:#?}");
    assert!(
        requests[0].starts_with(&format!("GET {RUNS} HTTP/1.1\r\n")),
        "{}",
        requests[0]
    );
    assert!(
        requests[1].starts_with(&format!("GET {JOBS_PAGE_1} ")),
        "{}",
        requests[1]
    );
    assert!(
        requests[2].starts_with(&format!("GET {JOBS_PAGE_2} ")),
        "{}",
        requests[2]
    );
    let authorization = format!("authorization: Bearer {TOKEN}\r\n");
    assert!(
        requests[0]
            .to_lowercase()
            .contains(&authorization.to_lowercase()),
        "{}",
        requests[0]
    );
}

#[test]
fn selected_run_skips_run_lookup() {
    let server = full_server();
    let run = github::fetch_release_run(&settings(&server), RunSelector::Id(12045678901))
        .expect("fetch release run");
    assert_eq!(run.jobs.len(), 4);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    assert!(
        requests[0].contains("/actions/runs/12045678901/jobs"),
        "{}",
        requests[0]
    );
}

#[test]
fn anonymous_requests_send_no_token() {
    let server = full_server();
    let anonymous = GitHubSettings {
        token: None,
        ..settings(&server)
    };
    github::fetch_release_run(&anonymous, RunSelector::LatestCompleted).expect("fetch");
    for request in server.requests() {
        assert!(
            !request.to_lowercase().contains("authorization:"),
            "{request}"
        );
    }
}

#[test]
fn no_completed_run() {
    let server = GitHubServer::start(&[(RUNS, "workflow-runs-empty.json")]);
    let error = github::fetch_release_run(&settings(&server), RunSelector::LatestCompleted)
        .expect_err("no run");
    assert!(
        matches!(error, GitHubError::NoCompletedRun { .. }),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("release.yaml"), "{message}");
    assert!(message.contains("example-org/images"), "{message}");
}

#[test]
fn not_found_names_route_not_token() {
    let server = GitHubServer::start(&[]);
    let error = github::fetch_release_run(&settings(&server), RunSelector::Id(5)).expect_err("404");
    assert!(matches!(error, GitHubError::Request { .. }), "{error:?}");
    let chain = format!("{:#}", anyhow::Error::from(error));
    assert!(
        chain.contains("/repos/example-org/images/actions/runs/5/jobs"),
        "{chain}"
    );
    assert!(!chain.contains(TOKEN), "{chain}");
}

#[test]
fn apply_skips_unknown_variants() {
    let server = full_server();
    let run = github::fetch_release_run(&settings(&server), RunSelector::LatestCompleted)
        .expect("fetch release run");
    let image = |name: &str| ImageInput {
        name: name.into(),
        description: None,
        status: "stable".into(),
        variants: vec![VariantInput {
            name: "latest".into(),
            tags: vec!["latest".into()],
            archs: vec!["amd64".into()],
        }],
    };
    let input = TableInput {
        registry: "ghcr.io".into(),
        namespace: "example-org/images".into(),
        images: vec![image("busybox"), image("nginx"), image("static")],
    };
    let mut records = ReleaseRecords::default();
    assert_eq!(run.apply(&mut records, &input), 3);
    let conclusion = |name| {
        records
            .job_outcome(name, "latest")
            .map(|job| job.conclusion)
    };
    assert_eq!(conclusion("busybox"), Some(Conclusion::Failure));
    assert_eq!(conclusion("nginx"), Some(Conclusion::Success));
    assert_eq!(conclusion("static"), Some(Conclusion::Cancelled));
    assert_eq!(conclusion("retired"), None);
}
