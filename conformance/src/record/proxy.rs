//! The recording proxy's library API ([`Recorder`]): it forwards every request to the
//! upstream, returns the answer unchanged, converts the exchange ([`super::ApiSpec::convert`])
//! and rewrites the recording atomically after each one.

use crate::headers;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;

use super::{ApiSpec, Capture, Secrets};
use crate::recording::{self, Recording};
use crate::replay::{Client, Outgoing, TransportError};
use crate::specs::Api;

/// Why the recorder could not start.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("cannot load the embedded spec: {0}")]
    Spec(String),
    #[error("--upstream `{0}`: {1}")]
    Upstream(String, String),
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        addr: SocketAddr,
        error: std::io::Error,
    },
    #[error("cannot start the proxy runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot set up TLS for the upstream: {0}")]
    Tls(String),
    #[error("cannot write to {}: {error}", path.display())]
    Out {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// What happened to one request through the proxy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Forwarded, answered, and written (`index` in the recording, 0-based).
    Recorded {
        index: usize,
        method: String,
        path: String,
        status: u16,
        operation: Option<String>,
        flagged: Option<String>,
        invalid_body: Option<String>,
    },
    /// Not in the recording: the upstream did not answer (the client got 502 or 504), the
    /// request could not be read, or the format cannot hold the exchange.
    NotRecorded {
        method: String,
        path: String,
        reason: String,
    },
    /// The recording could not be written; the exchange stays in memory and goes out with the
    /// next successful write.
    WriteFailed { error: String },
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Recorded {
                index,
                method,
                path,
                status,
                operation,
                flagged,
                invalid_body,
            } => {
                write!(f, "#{index} {method} {path} -> {status}")?;
                if let Some(op) = operation {
                    write!(f, " ({op})")?;
                }
                if let Some(why) = flagged {
                    write!(f, "; flagged: {why}")?;
                }
                if let Some(why) = invalid_body {
                    write!(f, "; warning: {why}")?;
                }
                Ok(())
            }
            Event::NotRecorded {
                method,
                path,
                reason,
            } => write!(f, "{method} {path}: not recorded: {reason}"),
            Event::WriteFailed { error } => write!(f, "error: cannot write the recording: {error}"),
        }
    }
}

/// Called for every request (from the proxy's threads).
pub type EventSink = Arc<dyn Fn(&Event) + Send + Sync>;

/// How to record.
#[derive(Clone)]
pub struct RecordConfig {
    pub api: Api,
    /// The API's base URL (`http://` only); paths below it map 1:1 to the proxy's.
    pub upstream: String,
    /// Port 0 picks a free port.
    pub listen: SocketAddr,
    /// The recording; written after every exchange, atomically.
    pub out: PathBuf,
    /// Per upstream request.
    pub timeout: Duration,
    /// Larger request bodies get 413 from the proxy and are not forwarded; larger upstream
    /// response bodies are cut off (502, not recorded).
    pub max_body_bytes: usize,
    /// Time a client may take to send a request's headers, and then its body.
    pub read_timeout: Duration,
    /// The recording's `name` and `description`.
    pub name: Option<String>,
    pub description: Option<String>,
    pub on_event: Option<EventSink>,
    /// Proxy worker threads.
    pub workers: usize,
}

impl std::fmt::Debug for RecordConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecordConfig")
            .field("api", &self.api)
            .field("upstream", &self.upstream)
            .field("listen", &self.listen)
            .field("out", &self.out)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RecordConfig {
    /// Defaults: `127.0.0.1:0`, 30 s upstream timeout, 16 MiB bodies, two workers.
    pub fn new(api: Api, upstream: impl Into<String>, out: impl Into<PathBuf>) -> Self {
        Self {
            api,
            upstream: upstream.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            out: out.into(),
            timeout: Duration::from_secs(30),
            max_body_bytes: 16 * 1024 * 1024,
            read_timeout: Duration::from_secs(10),
            name: None,
            description: None,
            on_event: None,
            workers: 2,
        }
    }
}

/// Counts of what the proxy did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Exchanges in the recording (flagged ones included).
    pub recorded: usize,
    pub flagged: usize,
    /// Recorded exchanges whose request body does not validate.
    pub invalid_bodies: usize,
    /// Requests answered without an exchange being recorded.
    pub not_recorded: usize,
    pub write_errors: usize,
    /// Request headers left out of the recording ([`super::Converted::dropped_headers`]).
    pub dropped_headers: usize,
}

/// The recording being written: in memory, and on disk after every exchange.
struct Sink {
    out: PathBuf,
    recording: Recording,
    secrets: Secrets,
}

/// What the server hands the proxy: a request, read whole.
#[derive(Debug)]
pub(crate) struct Inbound {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// What the proxy hands back.
#[derive(Debug)]
pub(crate) struct Outbound {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Outbound {
    /// The proxy's own answer (not the upstream's): plain text, marked as such.
    pub(crate) fn own(status: u16, message: &str) -> Self {
        Self {
            status,
            headers: vec![
                ("content-type".into(), "text/plain; charset=utf-8".into()),
                ("x-conformance-record".into(), "proxy-error".into()),
            ],
            body: Bytes::from(format!("conformance record: {message}\n")),
        }
    }
}

/// The recording proxy's state, shared by the server's tasks.
pub(crate) struct Proxy {
    spec: ApiSpec,
    upstream: String,
    sink: Mutex<Sink>,
    on_event: Option<EventSink>,
    recorded: AtomicUsize,
    flagged: AtomicUsize,
    invalid_bodies: AtomicUsize,
    not_recorded: AtomicUsize,
    write_errors: AtomicUsize,
    dropped_headers: AtomicUsize,
}

impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

impl Proxy {
    fn emit(&self, event: Event) {
        if let Some(sink) = &self.on_event {
            sink(&event);
        }
    }

    /// Reports a request that is not in the recording. Its path went through no redaction, so
    /// the log gets the operation's path template (`/checkouts/{id}`), never the raw segments,
    /// which may hold a token or a reset code.
    pub(crate) fn not_recorded(&self, method: &str, path: &str, reason: String) {
        self.not_recorded.fetch_add(1, Ordering::Relaxed);
        self.emit(Event::NotRecorded {
            method: method.to_owned(),
            path: self.spec.loggable_path(method, path),
            reason,
        });
    }

    /// Forwards one request, records the exchange, and returns the upstream's response. The
    /// recording is on disk before the client gets the response, so whatever a client saw
    /// survives a crash of the proxy.
    pub(crate) async fn forward(self: &Arc<Self>, client: &Client, inbound: Inbound) -> Outbound {
        let mut url = format!("{}{}", self.upstream, inbound.path);
        if let Some(q) = &inbound.query {
            url.push('?');
            url.push_str(q);
        }
        let headers = inbound
            .headers
            .iter()
            .filter(|(n, _)| {
                let n = n.to_ascii_lowercase();
                // `Host` is the upstream's; `Accept-Encoding` is dropped so bodies arrive
                // readable (the client still gets a valid, merely uncompressed, response).
                !headers::HOP_BY_HOP.contains(&n.as_str())
                    && !matches!(
                        n.as_str(),
                        "host" | "content-length" | "accept-encoding" | "expect"
                    )
            })
            .cloned()
            .collect();
        let outgoing = Outgoing {
            method: inbound.method.clone(),
            url,
            headers,
            body: inbound.body.clone(),
        };
        let received = match client.send(&outgoing).await {
            Ok(r) => r,
            Err(e) => {
                let status = if matches!(e, TransportError::Timeout(_)) {
                    504
                } else {
                    502
                };
                // Not `e` itself for a connection failure: its URL carries the query string,
                // which may hold what redaction would remove, and this goes to the log.
                let message = match e {
                    TransportError::Connect { detail, .. } => {
                        format!("cannot connect to {}: {detail}", self.upstream)
                    }
                    TransportError::TooLarge { limit } => {
                        format!("the upstream's response body exceeds {limit} bytes")
                    }
                    other => format!("the upstream did not answer: {other}"),
                };
                self.not_recorded(&inbound.method, &inbound.path, message.clone());
                return Outbound::own(status, &message);
            }
        };
        let capture = Capture {
            method: inbound.method.clone(),
            path: inbound.path.clone(),
            query: inbound.query.clone(),
            request_headers: inbound.headers,
            request_body: inbound.body.to_vec(),
            status: received.status,
            response_headers: received.headers.clone(),
            response_body: received.body.to_vec(),
        };
        let this = Arc::clone(self);
        // Redaction, validation and the file write are blocking work.
        let _ = tokio::task::spawn_blocking(move || this.record(&capture)).await;
        let head = inbound.method.eq_ignore_ascii_case("HEAD");
        Outbound {
            status: received.status,
            headers: received
                .headers
                .into_iter()
                .filter(|(n, _)| {
                    // hyper frames the body itself; the length is the upstream's anyway, except
                    // for HEAD, whose `Content-Length` describes a body that is not sent.
                    !headers::HOP_BY_HOP.contains(&n.as_str()) && (head || n != "content-length")
                })
                .collect(),
            body: received.body,
        }
    }

    fn record(&self, capture: &Capture) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let known = sink.secrets.len();
        let converted = match self.spec.convert(capture, &mut sink.secrets) {
            Ok(c) => {
                self.dropped_headers
                    .fetch_add(c.dropped_headers, Ordering::Relaxed);
                c
            }
            Err(reason) => {
                drop(sink);
                self.not_recorded(&capture.method, &capture.path, reason);
                return;
            }
        };
        let sink = &mut *sink;
        if sink.secrets.len() > known {
            // A value just learnt to be secret may sit in an earlier exchange (a token a
            // response handed out before it was used as a credential).
            for ex in &mut sink.recording.exchanges {
                sink.secrets.scrub_exchange(ex);
            }
        }
        let ex = converted.exchange;
        let event = Event::Recorded {
            index: sink.recording.exchanges.len(),
            method: ex.request.method.clone(),
            path: ex.request.path.clone(),
            status: ex.response.status,
            operation: ex.operation.clone(),
            flagged: ex.flagged.clone(),
            invalid_body: converted.invalid_body.clone(),
        };
        self.recorded.fetch_add(1, Ordering::Relaxed);
        if ex.flagged.is_some() {
            self.flagged.fetch_add(1, Ordering::Relaxed);
        }
        if converted.invalid_body.is_some() {
            self.invalid_bodies.fetch_add(1, Ordering::Relaxed);
        }
        sink.recording.exchanges.push(ex);
        let written = recording::write_atomic(&sink.out, &sink.recording);
        if let Err(e) = written {
            self.write_errors.fetch_add(1, Ordering::Relaxed);
            self.emit(Event::WriteFailed {
                error: format!("{}: {e}", sink.out.display()),
            });
        }
        self.emit(event);
    }

    fn stats(&self) -> Stats {
        Stats {
            recorded: self.recorded.load(Ordering::Relaxed),
            flagged: self.flagged.load(Ordering::Relaxed),
            invalid_bodies: self.invalid_bodies.load(Ordering::Relaxed),
            not_recorded: self.not_recorded.load(Ordering::Relaxed),
            write_errors: self.write_errors.load(Ordering::Relaxed),
            dropped_headers: self.dropped_headers.load(Ordering::Relaxed),
        }
    }
}

/// A running recording proxy. Dropping it stops the server: in-flight exchanges get a short
/// grace period to finish (and be written).
#[derive(Debug)]
pub struct Recorder {
    addr: SocketAddr,
    out: PathBuf,
    proxy: Arc<Proxy>,
    running: Option<crate::http_server::Running>,
}

impl Recorder {
    /// Checks the upstream URL and the output folder, loads the spec, binds `config.listen`
    /// and serves on a background runtime. Nothing is written until the first exchange
    /// completes, so a previous file at `config.out` survives a session that records nothing.
    pub fn start(config: RecordConfig) -> Result<Self, RecordError> {
        let upstream = check_upstream(&config.upstream)?;
        check_writable(&config.out)?;
        let spec = ApiSpec::new(config.api)?;
        let mut recording = Recording::new(config.api);
        // Lets `replay --compare-bodies` normalize the upstream's URLs in recorded bodies.
        recording.base_url = Some(upstream.clone());
        recording.name = config.name.clone();
        recording.description = Some(config.description.clone().unwrap_or_else(|| {
            "Captured through `conformance record` (secrets redacted).".to_owned()
        }));
        let proxy = Arc::new(Proxy {
            spec,
            upstream,
            sink: Mutex::new(Sink {
                out: config.out.clone(),
                recording,
                secrets: Secrets::default(),
            }),
            on_event: config.on_event.clone(),
            recorded: AtomicUsize::new(0),
            flagged: AtomicUsize::new(0),
            invalid_bodies: AtomicUsize::new(0),
            not_recorded: AtomicUsize::new(0),
            write_errors: AtomicUsize::new(0),
            dropped_headers: AtomicUsize::new(0),
        });
        let running = super::service::start(Arc::clone(&proxy), &config)?;
        Ok(Self {
            addr: running.addr,
            out: config.out,
            proxy,
            running: Some(running),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The proxy's base URL, `http://127.0.0.1:PORT`: the API's base URL stands behind it.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn out(&self) -> &Path {
        &self.out
    }

    pub fn stats(&self) -> Stats {
        self.proxy.stats()
    }

    /// The recording as it stands (what is on disk, unless a write failed).
    pub fn recording(&self) -> Recording {
        self.proxy
            .sink
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .recording
            .clone()
    }

    /// Stops the server, waits for in-flight exchanges, and returns the final counts.
    pub fn stop(mut self) -> Stats {
        // Stopping joins the server's thread: done before the other fields go.
        drop(self.running.take());
        self.proxy.stats()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        // Stopping joins the server's thread: done before the other fields go.
        drop(self.running.take());
    }
}

/// `http://host[:port][/path]`, without a trailing slash. https is refused: the client speaks
/// plain HTTP only (as replay's does).
fn check_upstream(url: &str) -> Result<String, RecordError> {
    // The URL goes into messages and the recording's `base_url`: user info never does.
    let shown = without_user_info(url);
    let bad = |why: &str| RecordError::Upstream(shown.clone(), why.to_owned());
    if shown != url {
        return Err(bad(
            "credentials in the URL are not supported (and never written): the client's own \
             requests carry the API's credentials through the proxy",
        ));
    }
    if url.starts_with("https://") {
        return Err(bad("https upstreams are not supported (plain HTTP only)"));
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(bad("not an http:// URL"));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("no host"));
    }
    if url.contains(['?', '#']) {
        return Err(bad("give the API's base URL, without a query or fragment"));
    }
    if url.parse::<http::Uri>().is_err() {
        return Err(bad("not a valid URL"));
    }
    Ok(url.trim_end_matches('/').to_owned())
}

/// `scheme://user:password@host/…` with the user info replaced by `[redacted]`.
fn without_user_info(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://[redacted]@{}", &rest[at + 1..]),
        None => url.to_owned(),
    }
}

/// Fails early (before listening) when the recording could not be written, without touching
/// an existing file: a probe file is created beside it and removed.
fn check_writable(out: &Path) -> Result<(), RecordError> {
    let err = |error| RecordError::Out {
        path: out.to_path_buf(),
        error,
    };
    if out.is_dir() {
        return Err(err(std::io::Error::other("is a folder")));
    }
    // A device or FIFO (`/dev/null`) is written in place, never through a sibling file.
    if out.metadata().is_ok_and(|m| !m.is_file()) {
        return Ok(());
    }
    let dir = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(err)?;
    }
    let mut probe = out.as_os_str().to_owned();
    probe.push(format!(".probe{}", std::process::id()));
    let probe = PathBuf::from(probe);
    std::fs::write(&probe, b"").map_err(err)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    #[test]
    fn upstream_urls_are_checked() {
        assert_eq!(check_upstream("http://h:1/a/").unwrap(), "http://h:1/a");
        for bad in [
            "https://h",
            "ftp://h",
            "http://",
            "http:///x",
            "http://h/?q",
            "h:1",
        ] {
            assert!(check_upstream(bad).is_err(), "{bad}");
        }
    }
}
