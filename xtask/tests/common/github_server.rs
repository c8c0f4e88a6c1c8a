//! A stand-in for the GitHub REST API on 127.0.0.1. It serves fixture files from
//! `tests/data/github/` for known request targets and 404 for everything else, and
//! records each request head so that tests can check paths, queries and headers.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread;

/// Connections served at most, so that the thread ends even if a test loops.
const MAX_CONNECTIONS: usize = 64;

/// A running server and the requests it received.
pub struct GitHubServer {
    /// Base URL to put in `GITHUB_API_URL`, such as `http://127.0.0.1:40123`.
    pub url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl GitHubServer {
    /// Starts a server that replies to each request target (path and query, as
    /// sent) in `routes` with the named fixture file.
    pub fn start(routes: &[(&str, &str)]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback port");
        let url = format!("http://{}", listener.local_addr().expect("local address"));
        let routes: HashMap<String, PathBuf> = routes
            .iter()
            .map(|(target, file)| (target.to_string(), fixture(file)))
            .collect();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorded = Arc::clone(&requests);
        thread::spawn(move || {
            for stream in listener.incoming().take(MAX_CONNECTIONS) {
                let Ok(stream) = stream else { continue };
                serve(stream, &routes, &recorded);
            }
        });
        Self { url, requests }
    }

    /// Returns the head of each request received so far, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("request log").clone()
    }
}

fn fixture(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/github")
        .join(file)
}

fn serve(mut stream: TcpStream, routes: &HashMap<String, PathBuf>, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let target = head
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    log.lock().expect("request log").push(head);

    let (status, body) = match routes.get(&target) {
        Some(path) => ("200 OK", std::fs::read(path).expect("read fixture")),
        None => (
            "404 Not Found",
            br#"{"message":"Not Found","documentation_url":"https://docs.github.com/rest","status":"404"}"#.to_vec(),
        ),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // The client may hang up early on an error; nothing is left to do then.
    let _ = stream.write_all(header.as_bytes());
    let _ = stream.write_all(&body);
}
