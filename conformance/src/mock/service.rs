//! The mock as a [`Service`] of the shared HTTP server (`crate::http_server`): it turns each
//! request read there into a plain [`Request`], asks the [`App`], and writes the [`Response`].
//!
//! Planted connection bugs (`close-connection`, `never-answer`) are carried out here: the
//! service fails, which makes hyper abort the connection without writing a response, either at
//! once or when the server stops.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, HeaderValue};
use http_body_util::Full;
use tokio::sync::watch;

use super::app::App;
use super::exchange::Request;
use super::{MockConfig, MockError, PlantedBug};
use crate::http_server::{self, Received, Running, Service, Settings, StartError};

/// Binds `config.listen` and serves `app` until the returned handle is dropped.
pub(crate) fn start(app: Arc<App>, config: &MockConfig) -> Result<Running, MockError> {
    let settings = Settings {
        listen: config.listen,
        workers: config.workers,
        max_body: config.max_body_bytes,
        read_timeout: config.read_timeout,
        drain: Duration::from_millis(500),
        name: "mock",
    };
    let served = Arc::clone(&app);
    let running = http_server::start(&settings, move || {
        served.env().outbox.spawn_worker();
        Arc::new(Mock(served))
    })
    .map_err(|e| match e {
        StartError::Bind(error) => MockError::Bind {
            addr: config.listen,
            error,
        },
        StartError::Runtime(error) => MockError::Runtime(error),
    })?;
    // Compile the request validators off the request path.
    let _ = std::thread::Builder::new()
        .name("mock-warm-up".into())
        .spawn(move || app.warm_up());
    Ok(running)
}

struct Mock(Arc<App>);

/// The service's error: hyper aborts the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("planted bug: {0}")]
pub(crate) struct Abort(PlantedBug);

impl Service for Mock {
    type Error = Abort;

    async fn call(
        self: Arc<Self>,
        received: Received,
        mut stopping: watch::Receiver<bool>,
    ) -> Result<hyper::Response<Full<Bytes>>, Abort> {
        let app = &self.0;
        let Received {
            parts,
            body,
            local_addr,
        } = received;
        let (body, body_error) = match body {
            Ok(b) => (b, None),
            Err(e) => (Bytes::new(), Some(e)),
        };
        let connection_bug = app.connection_bug(parts.uri.path());
        let request = Request {
            path: parts.uri.path().to_owned(),
            query: parts.uri.query().map(str::to_owned),
            method: parts.method,
            headers: parts.headers,
            body,
            body_error,
            local_addr,
        };
        let response = app.handle(request).await;
        match connection_bug {
            Some(PlantedBug::NeverAnswer) => {
                // Holds the request until the server stops (or the client goes away, which
                // drops this future), then aborts.
                let _ = stopping.wait_for(|stopping| *stopping).await;
                return Err(Abort(PlantedBug::NeverAnswer));
            }
            Some(bug) => return Err(Abort(bug)),
            None => {}
        }
        let mut out = hyper::Response::new(Full::new(response.body));
        *out.status_mut() = response.status;
        *out.headers_mut() = response.headers;
        if body_error.is_some() {
            // The rest of the body is unread: the connection cannot be reused.
            out.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        Ok(out)
    }
}
