//! A loopback proxy in front of a registry that injects faults: every `period`-th
//! request gets, in turn, HTTP 500, HTTP 429 with `Retry-After`, or a closed connection
//! without a reply, until `max_faults` faults have been injected. In rate-limit mode it
//! instead replies to every request with 429 and `Retry-After: 1` for one second after a
//! chosen request. In ping mode it fails a set number of `GET /v2/` requests, which
//! clients send to find the auth challenge: the first ones, or the next ones after
//! [`FaultProxy::fail_next_pings`]. Each request is forwarded on its own upstream
//! connection; the proxy also counts request bytes.

use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::http::read_request;

/// Counters of a running proxy.
#[derive(Default)]
pub struct ProxyStats {
    pub requests: AtomicU64,
    pub faults: AtomicU64,
    /// Request bytes (head and body) forwarded to the registry.
    pub bytes_forwarded: AtomicU64,
    /// Body bytes of blob upload requests (`PUT`/`PATCH` under `/blobs/uploads/`).
    pub blob_upload_bytes: AtomicU64,
    /// Requests rejected with 429 in rate-limit mode.
    pub rate_limited: AtomicU64,
    /// `GET /v2/` requests received, the failed ones included.
    pub pings: AtomicU64,
    /// `GET /v2/` requests that got a fault.
    pub ping_faults: AtomicU64,
}

/// Which faults the proxy injects.
#[derive(Clone, Copy, Default)]
struct Faults {
    /// Every `period`-th request fails; 0 for none.
    period: u64,
    max_faults: u64,
    /// Request number that starts a one-second 429 window.
    rate_limit_from: Option<u64>,
}

pub struct FaultProxy {
    pub port: u16,
    pub stats: Arc<ProxyStats>,
    /// `GET /v2/` requests still to fail; see [`FaultProxy::fail_next_pings`].
    ping_faults_left: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy to `127.0.0.1:<upstream>`. `period` 0 injects no faults.
    pub fn start(upstream: u16, period: u64, max_faults: u64) -> FaultProxy {
        FaultProxy::start_with(
            upstream,
            Faults {
                period,
                max_faults,
                rate_limit_from: None,
            },
        )
    }

    /// Starts a proxy that fails the first `max_ping_faults` `GET /v2/` requests with, in
    /// turn, HTTP 500, HTTP 429 and a closed connection, and forwards everything else.
    pub fn start_failing_pings(upstream: u16, max_ping_faults: u64) -> FaultProxy {
        let proxy = FaultProxy::start_with(upstream, Faults::default());
        proxy.fail_next_pings(max_ping_faults);
        proxy
    }

    /// Makes the next `count` `GET /v2/` requests fail, in place of any still pending.
    pub fn fail_next_pings(&self, count: u64) {
        self.ping_faults_left.store(count, Ordering::SeqCst);
    }

    /// Starts a proxy that rate-limits every request for one second from request
    /// number `from` on, and injects nothing else.
    pub fn start_rate_limited(upstream: u16, from: u64) -> FaultProxy {
        FaultProxy::start_with(
            upstream,
            Faults {
                rate_limit_from: Some(from),
                ..Faults::default()
            },
        )
    }

    fn start_with(upstream: u16, faults: Faults) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("address").port();
        let stats = Arc::new(ProxyStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let ping_faults_left = Arc::new(AtomicU64::new(0));
        let (thread_stats, thread_stop) = (stats.clone(), stop.clone());
        let thread_ping_faults_left = ping_faults_left.clone();
        let window_end = Arc::new(std::sync::Mutex::new(None::<Instant>));
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if thread_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let stats = thread_stats.clone();
                let window_end = window_end.clone();
                let ping_faults_left = thread_ping_faults_left.clone();
                std::thread::spawn(move || {
                    handle(
                        stream,
                        upstream,
                        faults,
                        &stats,
                        &window_end,
                        &ping_faults_left,
                    )
                });
            }
        });
        FaultProxy {
            port,
            stats,
            ping_faults_left,
            stop,
            thread: Some(thread),
        }
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn handle(
    stream: TcpStream,
    upstream: u16,
    faults: Faults,
    stats: &ProxyStats,
    window_end: &std::sync::Mutex<Option<Instant>>,
    ping_faults_left: &AtomicU64,
) {
    let mut client = stream.try_clone().expect("clone stream");
    let mut reader = BufReader::new(stream);
    // One request per connection: the upstream reply is read to EOF and the reply to
    // the client carries `Connection: close`, so keep-alive never carries a second request here.
    let Some(request) = read_request(&mut reader) else {
        return;
    };

    let number = stats.requests.fetch_add(1, Ordering::SeqCst) + 1;
    if rate_limited(faults, number, window_end) {
        stats.rate_limited.fetch_add(1, Ordering::SeqCst);
        reply(&mut client, "429 Too Many Requests", "Retry-After: 1\r\n");
        return;
    }
    let is_ping = request.method == "GET" && request.path == "/v2/";
    if is_ping {
        stats.pings.fetch_add(1, Ordering::SeqCst);
        let take_fault =
            ping_faults_left.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(1)
            });
        if take_fault.is_ok() {
            let fault = stats.ping_faults.fetch_add(1, Ordering::SeqCst);
            inject_fault(&mut client, fault);
            return;
        }
    }
    let inject = faults.period > 0
        && number.is_multiple_of(faults.period)
        && stats.faults.load(Ordering::SeqCst) < faults.max_faults;
    if inject {
        let fault = stats.faults.fetch_add(1, Ordering::SeqCst);
        inject_fault(&mut client, fault);
        return;
    }

    let is_upload = request.path.contains("/blobs/uploads/")
        && (request.method == "PUT" || request.method == "PATCH");
    if is_upload {
        stats
            .blob_upload_bytes
            .fetch_add(request.body.len() as u64, Ordering::SeqCst);
    }
    stats.bytes_forwarded.fetch_add(
        (request.head.len() + request.body.len()) as u64,
        Ordering::SeqCst,
    );
    if let Some(response) = forward(&request, upstream) {
        let _ = client.write_all(&response);
    }
}

/// Replies with HTTP 500, HTTP 429 or nothing (a closed connection), by `fault` modulo 3.
fn inject_fault(client: &mut TcpStream, fault: u64) {
    match fault % 3 {
        0 => reply(client, "500 Internal Server Error", ""),
        1 => reply(client, "429 Too Many Requests", "Retry-After: 1\r\n"),
        _ => {}
    }
}

fn rate_limited(
    faults: Faults,
    number: u64,
    window_end: &std::sync::Mutex<Option<Instant>>,
) -> bool {
    let Some(from) = faults.rate_limit_from else {
        return false;
    };
    let mut end = window_end.lock().expect("window lock");
    if number == from {
        *end = Some(Instant::now() + Duration::from_secs(1));
    }
    end.is_some_and(|end| Instant::now() < end)
}

fn reply(client: &mut TcpStream, status: &str, extra_headers: &str) {
    let text = format!(
        "HTTP/1.1 {status}\r\n{extra_headers}Content-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let _ = client.write_all(text.as_bytes());
}

fn forward(request: &super::http::Request, upstream: u16) -> Option<Vec<u8>> {
    let mut connection = TcpStream::connect(("127.0.0.1", upstream)).ok()?;
    let head = String::from_utf8_lossy(&request.head);
    let mut rewritten = String::new();
    for line in head.split("\r\n") {
        if line.is_empty() || line.to_ascii_lowercase().starts_with("connection:") {
            continue;
        }
        rewritten.push_str(line);
        rewritten.push_str("\r\n");
    }
    rewritten.push_str("Connection: close\r\n\r\n");
    connection.write_all(rewritten.as_bytes()).ok()?;
    connection.write_all(&request.body).ok()?;
    let mut response = Vec::new();
    connection.read_to_end(&mut response).ok()?;
    Some(response)
}
