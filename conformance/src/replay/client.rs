//! The HTTP client of the runner: the only replay file that touches hyper. HTTP/1.1 over TCP,
//! or over TLS (rustls with the ring provider) for `https` targets: the platform's root
//! certificates are trusted, plus any private CA given (`--ca-cert`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: String,
    /// Absolute `http://` or `https://` URL.
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

/// A pooled HTTP/1.1 client, for `http` and `https` URLs.
#[derive(Debug, Clone)]
pub struct Client {
    inner: HyperClient<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
    max_body: usize,
}

/// The certificates of a PEM file (a private CA), or why there are none.
pub fn ca_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file: {e}"))?;
    if certs.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in it".into());
    }
    Ok(certs)
}

/// The TLS settings of every client: the platform's root certificates plus `extra_roots` (a
/// private CA).
pub fn tls_config(
    extra_roots: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for e in &native.errors {
        tracing::warn!("a platform root certificate could not be read: {e}");
    }
    let (_, unusable) = roots.add_parsable_certificates(native.certs);
    if unusable > 0 {
        tracing::warn!("{unusable} platform root certificate(s) ignored");
    }
    for cert in extra_roots {
        roots
            .add(cert.clone())
            .map_err(|e| format!("the CA certificate is not usable: {e}"))?;
    }
    // The ring provider, named rather than taken from the process default: it builds with a
    // Rust toolchain and a C compiler only (aws-lc-rs needs cmake). rustls deprecates it for
    // lacking post-quantum key exchange, which a conformance client does not need.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl Client {
    /// A client for `http` and `https` URLs, with TLS settings from [`tls_config`], whose every
    /// exchange ends within `timeout` and reads at most `max_body` bytes of a response body.
    pub fn new(timeout: Duration, tls: Arc<rustls::ClientConfig>, max_body: usize) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(timeout));
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(Arc::unwrap_or_clone(tls))
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
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
