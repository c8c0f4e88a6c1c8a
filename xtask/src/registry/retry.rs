//! Bounded retries with exponential backoff for registry requests that failed in a
//! way that may pass on a second try: 5xx replies, 429 and broken connections.

use std::future::Future;
use std::time::Duration;

use oci_client::errors::{OciDistributionError, OciErrorCode};
use reqwest::StatusCode;

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in total, the first included; at least 1.
    pub max_attempts: u32,
    /// Wait before the second attempt; doubled for each further one.
    pub base_delay: Duration,
    /// Cap on a single wait.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
        }
    }
}

/// Kind of a failed request, which decides whether it is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth another attempt; the reason goes into the log line.
    Transient(String),
    /// HTTP 429 or a `TOOMANYREQUESTS` error: retried after the registry's
    /// `Retry-After` when it can be read, else after the backoff.
    RateLimited(String),
    /// The credentials were rejected or lack permission.
    Unauthorized(String),
    /// The repository, manifest or blob does not exist.
    NotFound(String),
    /// Any other failure; retrying would not change it.
    Permanent(String),
}

impl RetryPolicy {
    /// Wait before attempt `attempt + 1`, where `attempt` counts from 1.
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// Runs `operation` until it succeeds, fails for good or `max_attempts` is reached.
    /// After a rate-limit reply, `retry_after` is asked for the registry's requested
    /// wait, which replaces the backoff when longer (capped at [`MAX_RETRY_AFTER`]).
    /// Returns the last error with the number of attempts made.
    pub async fn run<T, F, Fut, P, PFut>(
        &self,
        what: &str,
        mut operation: F,
        retry_after: P,
    ) -> Result<T, (OciDistributionError, u32)>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, OciDistributionError>>,
        P: Fn() -> PFut,
        PFut: Future<Output = Option<Duration>>,
    {
        let mut attempt = 1;
        loop {
            let error = match operation().await {
                Ok(value) => return Ok(value),
                Err(error) => error,
            };
            let (reason, rate_limited) = match classify(&error) {
                Failure::Transient(reason) => (reason, false),
                Failure::RateLimited(reason) => (reason, true),
                _ => return Err((error, attempt)),
            };
            if attempt >= self.max_attempts.max(1) {
                return Err((error, attempt));
            }
            let mut delay = self.delay(attempt);
            if rate_limited && let Some(requested) = retry_after().await {
                delay = delay.max(requested.min(MAX_RETRY_AFTER));
            }
            tracing::warn!(
                operation = what,
                attempt,
                max_attempts = self.max_attempts,
                delay_ms = delay.as_millis() as u64,
                "retrying registry request after {reason}"
            );
            tokio::time::sleep(delay).await;
            attempt += 1;
        }
    }
}

/// Longest `Retry-After` wait honoured; a registry asking for more gets this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Parses a `Retry-After` value in seconds. The HTTP-date form is not read.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Sorts an oci-client error into retry, authentication, not-found or permanent.
pub fn classify(error: &OciDistributionError) -> Failure {
    let text = error.to_string();
    match error {
        OciDistributionError::UnauthorizedError { .. }
        | OciDistributionError::AuthenticationFailure(_) => Failure::Unauthorized(text),
        OciDistributionError::ImageManifestNotFoundError(_) => Failure::NotFound(text),
        OciDistributionError::ServerError { code, .. } => classify_status(*code, text),
        OciDistributionError::RegistryError { envelope, .. } => {
            let codes: Vec<&OciErrorCode> =
                envelope.errors.iter().map(|error| &error.code).collect();
            if codes
                .iter()
                .any(|code| matches!(code, OciErrorCode::Toomanyrequests))
            {
                Failure::RateLimited(format!("rate limiting: {text}"))
            } else if codes
                .iter()
                .any(|code| matches!(code, OciErrorCode::Unauthorized | OciErrorCode::Denied))
            {
                Failure::Unauthorized(text)
            } else if codes.iter().any(|code| {
                matches!(
                    code,
                    OciErrorCode::BlobUnknown
                        | OciErrorCode::ManifestUnknown
                        | OciErrorCode::NameUnknown
                )
            }) {
                Failure::NotFound(text)
            } else {
                Failure::Permanent(text)
            }
        }
        OciDistributionError::RequestError(request) => classify_request(request, text),
        OciDistributionError::IoError(_) => Failure::Transient(format!("I/O error: {text}")),
        _ => Failure::Permanent(text),
    }
}

/// Returns whether the registry replied HTTP 401, which oci-client reports in several
/// forms. A 403 is not included because it means the credentials lack permission.
pub fn is_http_unauthorized(error: &OciDistributionError) -> bool {
    match error {
        OciDistributionError::UnauthorizedError { .. } => true,
        OciDistributionError::ServerError { code, .. } => *code == 401,
        OciDistributionError::RegistryError { envelope, .. } => envelope
            .errors
            .iter()
            .any(|error| matches!(error.code, OciErrorCode::Unauthorized)),
        OciDistributionError::RequestError(request) => {
            request.status() == Some(StatusCode::UNAUTHORIZED)
        }
        _ => false,
    }
}

fn classify_request(error: &reqwest::Error, text: String) -> Failure {
    if let Some(status) = error.status() {
        return classify_status(status.as_u16(), text);
    }
    if error.is_connect() {
        return Failure::Transient(format!("connection failure: {}", error_chain(error)));
    }
    if error.is_timeout() || error.is_request() || error.is_body() || error.is_decode() {
        return Failure::Transient(format!("dropped connection: {}", error_chain(error)));
    }
    Failure::Permanent(error_chain(error))
}

fn classify_status(code: u16, text: String) -> Failure {
    match StatusCode::from_u16(code) {
        Ok(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => Failure::Unauthorized(text),
        Ok(StatusCode::NOT_FOUND) => Failure::NotFound(text),
        Ok(StatusCode::TOO_MANY_REQUESTS) => Failure::RateLimited(format!("HTTP 429: {text}")),
        Ok(status) if status.is_server_error() => {
            Failure::Transient(format!("HTTP {code}: {text}"))
        }
        _ => Failure::Permanent(text),
    }
}

/// Formats the error and its sources on one line, because reqwest puts the cause
/// (connection refused, reset) in the sources.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server_error(code: u16) -> OciDistributionError {
        OciDistributionError::ServerError {
            code,
            url: "http://127.0.0.1/v2/".into(),
            message: String::new(),
        }
    }

    #[test]
    fn classify_status_codes() {
        let cases = [
            (500, "transient"),
            (503, "transient"),
            (429, "rate limited"),
            (401, "unauthorized"),
            (403, "unauthorized"),
            (404, "not found"),
            (400, "permanent"),
        ];
        for (code, expected) in cases {
            let kind = match classify(&server_error(code)) {
                Failure::Transient(_) => "transient",
                Failure::RateLimited(_) => "rate limited",
                Failure::Unauthorized(_) => "unauthorized",
                Failure::NotFound(_) => "not found",
                Failure::Permanent(_) => "permanent",
            };
            assert_eq!(kind, expected, "HTTP {code}");
        }
    }

    #[test]
    fn http_unauthorized_forms() {
        assert!(is_http_unauthorized(&server_error(401)));
        assert!(!is_http_unauthorized(&server_error(403)));
        assert!(!is_http_unauthorized(&server_error(500)));
        let unauthorized = OciDistributionError::UnauthorizedError {
            url: "http://127.0.0.1/v2/".into(),
        };
        assert!(is_http_unauthorized(&unauthorized));
        let rejected_token =
            OciDistributionError::AuthenticationFailure("invalid username or password".into());
        assert!(!is_http_unauthorized(&rejected_token));
    }

    #[test]
    fn delay_doubles_up_to_cap() {
        let policy = RetryPolicy {
            max_attempts: 10,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
        };
        assert_eq!(policy.delay(1), Duration::from_millis(100));
        assert_eq!(policy.delay(2), Duration::from_millis(200));
        assert_eq!(policy.delay(3), Duration::from_millis(350));
    }

    #[tokio::test]
    async fn run_stops_after_max_attempts() {
        let policy = RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        };
        let mut calls = 0;
        let result: Result<(), _> = policy
            .run(
                "test",
                || {
                    calls += 1;
                    async { Err(server_error(503)) }
                },
                || async { None },
            )
            .await;
        let (_, attempts) = result.expect_err("always fails");
        assert_eq!(attempts, 3);
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn run_waits_for_retry_after() {
        let policy = RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        };
        let start = std::time::Instant::now();
        let result: Result<(), _> = policy
            .run(
                "test",
                || async { Err(server_error(429)) },
                || async { Some(Duration::from_millis(300)) },
            )
            .await;
        assert!(result.is_err());
        assert!(
            start.elapsed() >= Duration::from_millis(300),
            "{:?}",
            start.elapsed()
        );
    }

    #[test]
    fn retry_after_seconds_only() {
        assert_eq!(parse_retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[tokio::test]
    async fn run_does_not_retry_unauthorized() {
        let policy = RetryPolicy::default();
        let mut calls = 0;
        let result: Result<(), _> = policy
            .run(
                "test",
                || {
                    calls += 1;
                    async { Err(server_error(401)) }
                },
                || async { None },
            )
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1);
    }
}
