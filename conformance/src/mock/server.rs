//! The HTTP/1.1 server: the only file that touches hyper's server types. It turns each hyper
//! request into a plain [`Request`] (body read with a size limit and a time limit), asks the
//! [`App`], and writes the [`Response`].
//!
//! Robustness comes from hyper plus three limits: `header_read_timeout` drops clients that
//! send headers too slowly; the read buffer caps header size (hyper answers 431); the body is
//! read through `Limited` under a timeout (413 / 408, decided by the API so the error has its
//! shape). Garbage that is not HTTP gets hyper's 400 and the connection is closed.
//!
//! Planted connection bugs (`close-connection`, `never-answer`) are carried out here: the
//! service fails, which makes hyper abort the connection without writing a response, either at
//! once or when the server stops.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_LENGTH, HeaderValue};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::{oneshot, watch};

use super::app::App;
use super::exchange::{BodyError, Reply, Request};
use super::{MockConfig, MockError, PlantedBug};

/// Largest request head (request line + headers) accepted; larger gets 431.
const MAX_HEAD_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy)]
struct Limits {
    max_body: usize,
    read_timeout: Duration,
    local_addr: SocketAddr,
}

/// A server running on its own thread and runtime; dropping it stops both.
#[derive(Debug)]
pub(crate) struct Running {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Running {
    pub fn stop(self) {
        drop(self);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `config.listen` and serves `app` until the returned handle is dropped.
pub(crate) fn start(app: Arc<App>, config: &MockConfig) -> Result<Running, MockError> {
    let bind_error = |error| MockError::Bind {
        addr: config.listen,
        error,
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(1))
        .thread_name("mock-worker")
        .enable_all()
        .build()
        .map_err(MockError::Runtime)?;
    let limits = Limits {
        max_body: config.max_body_bytes,
        read_timeout: config.read_timeout,
        local_addr: addr,
    };
    let (tx, rx) = oneshot::channel();
    let served = Arc::clone(&app);
    let thread = std::thread::Builder::new()
        .name("mock-server".into())
        .spawn(move || {
            runtime.block_on(serve(listener, served, limits, rx));
            runtime.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(MockError::Runtime)?;
    // Compile the request validators off the request path.
    let warm = Arc::clone(&app);
    let _ = std::thread::Builder::new()
        .name("mock-warm-up".into())
        .spawn(move || warm.warm_up());
    Ok(Running {
        addr,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

async fn serve(
    listener: std::net::TcpListener,
    app: Arc<App>,
    limits: Limits,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot serve: {e}");
            return;
        }
    };
    app.env().outbox.spawn_worker();
    // Tells requests held by `never-answer` that the server is stopping.
    let (stopping, stop_signal) = watch::channel(false);
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _)) => stream,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning.
                        tracing::warn!("accept failed: {e}");
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let app = Arc::clone(&app);
                let stop_signal = stop_signal.clone();
                let service = service_fn(move |req| {
                    handle(Arc::clone(&app), limits, stop_signal.clone(), req)
                });
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
                tokio::spawn(async move {
                    // Errors here are the client's (garbage, resets, timeouts); nothing to do.
                    let _ = conn.await;
                });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    let _ = stopping.send(true);
    let _ = tokio::time::timeout(Duration::from_millis(500), graceful.shutdown()).await;
}

/// The service's error: hyper aborts the connection without a response.
#[derive(Debug, thiserror::Error)]
#[error("planted bug: {0}")]
struct Abort(PlantedBug);

async fn handle(
    app: Arc<App>,
    limits: Limits,
    mut stop_signal: watch::Receiver<bool>,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Abort> {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let (body, body_error) = if declared.is_some_and(|n| n > limits.max_body as u64) {
        (Bytes::new(), Some(BodyError::TooLarge))
    } else if body.is_end_stream() {
        // No body (most GETs): no read, no timer.
        (Bytes::new(), None)
    } else {
        let read = Limited::new(body, limits.max_body).collect();
        match tokio::time::timeout(limits.read_timeout, read).await {
            Err(_) => (Bytes::new(), Some(BodyError::TimedOut)),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                (Bytes::new(), Some(BodyError::TooLarge))
            }
            Ok(Err(_)) => (Bytes::new(), Some(BodyError::Incomplete)),
            Ok(Ok(collected)) => (collected.to_bytes(), None),
        }
    };
    let connection_bug = app.connection_bug(parts.uri.path());
    let request = Request {
        method: parts.method,
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers: parts.headers,
        body,
        body_error,
        local_addr: limits.local_addr,
    };
    let response = match app.handle(request) {
        Reply::Now(r) => r,
        Reply::After(delay, finish) => {
            tokio::time::sleep(delay).await;
            finish()
        }
    };
    match connection_bug {
        Some(PlantedBug::NeverAnswer) => {
            // Holds the request until the server stops (or the client goes away, which drops
            // this future), then aborts.
            let _ = stop_signal.wait_for(|stopping| *stopping).await;
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
