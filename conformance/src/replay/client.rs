//! The HTTP client of the runner: the only replay file that touches hyper. Plain HTTP/1.1 over
//! TCP (targets are local implementations or the embedded mock; TLS is not supported, and an
//! `https` URL is refused with a message before anything is sent).

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: String,
    /// Absolute `http://` URL.
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// Shared, not copied, by each attempt of a repeated request.
    pub body: Bytes,
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Received {
    pub status: u16,
    /// Names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    pub elapsed: Duration,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Why no response arrived.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// Nothing listens there (or the name does not resolve): the target is unreachable.
    #[error("cannot connect to {url}: {detail}")]
    Connect { url: String, detail: String },
    /// The connection closed (or broke) before a complete response.
    #[error("the connection closed before a complete response ({detail})")]
    Closed { detail: String },
    /// No complete response within the timeout.
    #[error("no response within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The request could not even be built (bad URL or header from the recording).
    #[error("cannot build the request: {0}")]
    Request(String),
    /// The response body went past the cap: read no further, so an endless body cannot take
    /// all memory.
    #[error("the response body exceeds the limit of {limit} bytes")]
    TooLarge { limit: usize },
}

/// The default cap on a response body: far above any checkout API response, far below memory.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// A pooled HTTP/1.1 client.
#[derive(Debug, Clone)]
pub struct Client {
    inner: HyperClient<HttpConnector, Full<Bytes>>,
    timeout: Duration,
    max_body: usize,
}

impl Client {
    /// A client whose every exchange ends within `timeout` and reads at most `max_body` bytes
    /// of a response body.
    pub fn new(timeout: Duration, max_body: usize) -> Self {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        connector.set_connect_timeout(Some(timeout));
        let inner = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            // A server that never answers must not stall later requests on its connection.
            .retry_canceled_requests(false)
            .build(connector);
        Self {
            inner,
            timeout,
            max_body,
        }
    }

    /// Sends one request and reads the whole response, within the timeout.
    pub async fn send(&self, out: &Outgoing) -> Result<Received, TransportError> {
        let mut builder = http::Request::builder()
            .method(out.method.as_str())
            .uri(out.url.as_str());
        for (name, value) in &out.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(out.body.clone()))
            .map_err(|e| TransportError::Request(e.to_string()))?;
        let started = Instant::now();
        let exchange = async {
            let response = self.inner.request(request).await.map_err(|e| {
                if e.is_connect() {
                    TransportError::Connect {
                        url: out.url.clone(),
                        detail: source_chain(&e),
                    }
                } else {
                    TransportError::Closed {
                        detail: source_chain(&e),
                    }
                }
            })?;
            let (parts, body) = response.into_parts();
            let limit = self.max_body;
            let body = http_body_util::Limited::new(body, limit)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        TransportError::TooLarge { limit }
                    } else {
                        TransportError::Closed {
                            detail: source_chain(&*e),
                        }
                    }
                })?
                .to_bytes();
            Ok::<_, TransportError>((parts, body))
        };
        let (parts, body) = tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| TransportError::Timeout(self.timeout))??;
        let headers = parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok(Received {
            status: parts.status.as_u16(),
            headers,
            body,
            elapsed: started.elapsed(),
        })
    }
}

/// hyper's errors say little at the top ("client error (Connect)"); the cause is below.
fn source_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut next = e.source();
    while let Some(s) = next {
        out.push_str(": ");
        out.push_str(&s.to_string());
        next = s.source();
    }
    out
}
