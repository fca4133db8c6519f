//! The HTTP/1.1 server under the mock and the recording proxy: with the replay client, the only
//! code that touches hyper. It runs on its own thread and runtime, reads each request whole
//! (body with a size and a time limit), hands it to a [`Service`] as plain values, and writes
//! what the service returns. Dropping the [`Running`] handle stops it.
//!
//! Robustness comes from hyper plus three limits: `header_read_timeout` drops clients that send
//! headers too slowly; the read buffer caps the request head (hyper answers 431); the body is
//! read through `Limited` under a timeout, and what went wrong is handed to the service as a
//! [`BodyError`] so the answer has the API's shape. Garbage that is not HTTP gets hyper's 400
//! and the connection is closed; the server keeps serving.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_LENGTH;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::{oneshot, watch};

/// Largest request head (request line + headers) accepted; larger gets 431 from hyper.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Why a request body is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyError {
    /// Larger than the configured limit (declared or sent).
    TooLarge,
    /// The client stopped sending before the end of the body (read timeout).
    TimedOut,
    /// The connection failed mid-body.
    Incomplete,
}

/// How a server listens and reads.
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub listen: SocketAddr,
    pub workers: usize,
    pub max_body: usize,
    /// For the request head and, separately, for the body.
    pub read_timeout: Duration,
    /// How long a stopping server waits for requests in flight.
    pub drain: Duration,
    /// Names the server's threads (`<name>-server`, `<name>-worker`).
    pub name: &'static str,
}

/// A request read whole.
#[derive(Debug)]
pub(crate) struct Received {
    pub parts: http::request::Parts,
    pub body: Result<Bytes, BodyError>,
    /// The address the server listens on.
    pub local_addr: SocketAddr,
}

/// What answers requests. Its error makes hyper abort the connection without a response.
pub(crate) trait Service: Send + Sync + 'static {
    type Error: std::error::Error + Send + Sync + 'static;

    /// Answers one request. `stopping` turns true when the server stops.
    fn call(
        self: Arc<Self>,
        request: Received,
        stopping: watch::Receiver<bool>,
    ) -> impl Future<Output = Result<hyper::Response<Full<Bytes>>, Self::Error>> + Send;
}

/// Why a server did not start.
#[derive(Debug)]
pub(crate) enum StartError {
    Bind(std::io::Error),
    Runtime(std::io::Error),
}

/// A server running on its own thread and runtime; dropping it stops both.
#[derive(Debug)]
pub(crate) struct Running {
    pub addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
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

/// Binds `settings.listen` and serves until the returned handle is dropped. `make` runs inside
/// the server's runtime (what it spawns, a connection pool or a worker, lives there) and
/// returns the service.
pub(crate) fn start<S, F>(settings: &Settings, make: F) -> Result<Running, StartError>
where
    S: Service,
    F: FnOnce() -> Arc<S> + Send + 'static,
{
    let listener = std::net::TcpListener::bind(settings.listen).map_err(StartError::Bind)?;
    listener.set_nonblocking(true).map_err(StartError::Bind)?;
    let addr = listener.local_addr().map_err(StartError::Bind)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(settings.workers.max(1))
        .thread_name(format!("{}-worker", settings.name))
        .enable_all()
        .build()
        .map_err(StartError::Runtime)?;
    let (tx, rx) = oneshot::channel();
    let settings = settings.clone();
    let thread = std::thread::Builder::new()
        .name(format!("{}-server", settings.name))
        .spawn(move || {
            runtime.block_on(serve(listener, addr, settings, make, rx));
            runtime.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(StartError::Runtime)?;
    Ok(Running {
        addr,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

async fn serve<S: Service>(
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    settings: Settings,
    make: impl FnOnce() -> Arc<S>,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot serve: {e}");
            return;
        }
    };
    let service = make();
    let (stopping, stop_signal) = watch::channel(false);
    let graceful = GracefulShutdown::new();
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(settings.read_timeout)
        .max_buf_size(MAX_HEAD_BYTES)
        // A client that shuts down its sending side once its request is sent (`nc -N`, some
        // scripts) still gets its answer; hyper's default drops the request.
        .half_close(true)
        .keep_alive(true);
    let limits = (settings.max_body, settings.read_timeout);
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
                let service = Arc::clone(&service);
                let stop_signal = stop_signal.clone();
                let handler = service_fn(move |req| {
                    let service = Arc::clone(&service);
                    let stop_signal = stop_signal.clone();
                    async move {
                        let request = read(req, limits, local_addr).await;
                        service.call(request, stop_signal).await
                    }
                });
                let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), handler));
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
    let _ = tokio::time::timeout(settings.drain, graceful.shutdown()).await;
}

/// Reads the body whole, within the size limit and the time limit.
async fn read(
    req: hyper::Request<Incoming>,
    (max_body, read_timeout): (usize, Duration),
    local_addr: SocketAddr,
) -> Received {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = if declared.is_some_and(|n| n > max_body as u64) {
        Err(BodyError::TooLarge)
    } else if body.is_end_stream() {
        // No body (most GETs): no read, no timer.
        Ok(Bytes::new())
    } else {
        let read = Limited::new(body, max_body).collect();
        match tokio::time::timeout(read_timeout, read).await {
            Err(_) => Err(BodyError::TimedOut),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                Err(BodyError::TooLarge)
            }
            Ok(Err(_)) => Err(BodyError::Incomplete),
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
        }
    };
    Received {
        parts,
        body,
        local_addr,
    }
}
