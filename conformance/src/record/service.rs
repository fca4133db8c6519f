//! The recording proxy as a [`Service`] of the shared HTTP server (`crate::http_server`): it hands
//! each request read there to the [`Proxy`] as plain values and writes what the proxy returns.
//!
//! Requests that cannot be read are answered by the proxy itself and never forwarded or
//! recorded: 413 (too large), 408 (body too slow), 400 (body cut short).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http_body_util::Full;
use tokio::sync::watch;

use super::{Inbound, Outbound, Proxy, RecordConfig, RecordError};
use crate::http_server::{self, BodyError, Received, Running, Service, Settings, StartError};
use crate::replay::Client;

/// How long a stopping proxy waits for in-flight exchanges (an upstream call and a write).
const DRAIN: Duration = Duration::from_secs(5);

pub(crate) fn start(proxy: Arc<Proxy>, config: &RecordConfig) -> Result<Running, RecordError> {
    let settings = Settings {
        listen: config.listen,
        workers: config.workers,
        max_body: config.max_body_bytes,
        read_timeout: config.read_timeout,
        drain: DRAIN,
        name: "record",
    };
    let timeout = config.timeout;
    let max_body = config.max_body_bytes;
    let tls = crate::replay::client::tls_config(&[]).map_err(RecordError::Tls)?;
    http_server::start(&settings, move || {
        Arc::new(Forward {
            proxy,
            // Created inside the runtime: its connection pool spawns onto it.
            client: Client::new(timeout, Arc::clone(&tls), max_body),
            max_body,
        })
    })
    .map_err(|e| match e {
        StartError::Bind(error) => RecordError::Bind {
            addr: config.listen,
            error,
        },
        StartError::Runtime(error) => RecordError::Runtime(error),
    })
}

struct Forward {
    proxy: Arc<Proxy>,
    client: Client,
    max_body: usize,
}

impl Service for Forward {
    type Error = Infallible;

    async fn call(
        self: Arc<Self>,
        received: Received,
        _stopping: watch::Receiver<bool>,
    ) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
        let parts = received.parts;
        let method = parts.method.as_str().to_owned();
        let path = parts.uri.path().to_owned();
        let outbound = match received.body {
            Err(e) => {
                let (status, message) = match e {
                    BodyError::TooLarge => (
                        413,
                        format!("the request body exceeds {} bytes", self.max_body),
                    ),
                    BodyError::TimedOut => {
                        (408, "the request body was not received in time".into())
                    }
                    BodyError::Incomplete => (400, "the request body was cut short".into()),
                };
                self.proxy.not_recorded(&method, &path, message.clone());
                let mut out = Outbound::own(status, &message);
                // The rest of the body is unread: the connection cannot be reused.
                out.headers.push(("connection".into(), "close".into()));
                out
            }
            Ok(body) => {
                let inbound = Inbound {
                    method,
                    path,
                    query: parts.uri.query().map(str::to_owned),
                    headers: parts
                        .headers
                        .iter()
                        .map(|(n, v)| {
                            (
                                n.as_str().to_owned(),
                                String::from_utf8_lossy(v.as_bytes()).into_owned(),
                            )
                        })
                        .collect(),
                    body,
                };
                self.proxy.forward(&self.client, inbound).await
            }
        };
        let mut response = hyper::Response::new(Full::new(outbound.body));
        *response.status_mut() =
            http::StatusCode::from_u16(outbound.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
        for (name, value) in outbound.headers {
            // The upstream's headers were valid on the way in; anything that no longer parses
            // is dropped rather than failing the response.
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                response.headers_mut().append(n, v);
            }
        }
        Ok(response)
    }
}
