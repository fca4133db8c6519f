//! A plain forwarding HTTP proxy (not the project's recorder): every request is sent to the
//! upstream origin with the same method, path, query, headers and body, and the upstream's
//! response comes back unchanged but for its framing. Built on the tests' one HTTP server
//! ([`super::serve_http`]) and client ([`super::request`]); it lives as long as the test process.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Headers that belong to one connection, not to the message: each side writes its own.
const HOP_BY_HOP: [&str; 4] = ["host", "connection", "content-length", "transfer-encoding"];

pub struct Proxy {
    addr: SocketAddr,
    forwarded: Arc<AtomicU64>,
}

impl Proxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> Self {
        let upstream: SocketAddr = upstream
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .parse()
            .unwrap();
        let forwarded = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&forwarded);
        let addr = super::serve_http(move |request| {
            let headers: Vec<(&str, &str)> = request
                .headers
                .iter()
                .filter(|(k, _)| !HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()))
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            // A body is forwarded when the request framed one, even an empty one.
            let body = request
                .header("content-length")
                .map(|_| request.body.as_slice());
            let response = super::request(upstream, &request.method, &request.path, &headers, body);
            counter.fetch_add(1, Ordering::Relaxed);
            let headers = response
                .headers
                .into_iter()
                .filter(|(k, _)| !HOP_BY_HOP.contains(&k.to_ascii_lowercase().as_str()))
                .collect();
            (response.status, headers, response.body)
        });
        Self { addr, forwarded }
    }

    /// `http://127.0.0.1:port`
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests forwarded so far.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }
}
