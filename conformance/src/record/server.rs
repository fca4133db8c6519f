//! The proxy's HTTP/1.1 server: the only file of the recorder that touches hyper's server
//! types. It reads each request whole (with a size and a time limit), hands it to the
//! [`Proxy`] as plain values, and writes what the proxy returns.
//!
//! Requests that cannot be read are answered by the proxy itself and never forwarded or
//! recorded: 413 (too large), 408 (body too slow), 400 (body cut short). Garbage that is not
//! HTTP gets hyper's 400 and the connection is closed; the proxy keeps serving.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::sync::oneshot;

use super::{Inbound, Outbound, Proxy, RecordConfig, RecordError};
use crate::replay::Client;

/// Largest request head accepted; larger gets 431 from hyper.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// How long a stopping proxy waits for in-flight exchanges (an upstream call and a write).
const DRAIN: Duration = Duration::from_secs(5);

#[derive(Debug, Clone, Copy)]
struct Limits {
    max_body: usize,
    read_timeout: Duration,
}

/// The server's thread and runtime; dropping this stops both.
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

pub(crate) fn start(proxy: Arc<Proxy>, config: &RecordConfig) -> Result<Running, RecordError> {
    let bind_error = |error| RecordError::Bind {
        addr: config.listen,
        error,
    };
    let listener = std::net::TcpListener::bind(config.listen).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let addr = listener.local_addr().map_err(bind_error)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.workers.max(1))
        .thread_name("record-worker")
        .enable_all()
        .build()
        .map_err(RecordError::Runtime)?;
    let limits = Limits {
        max_body: config.max_body_bytes,
        read_timeout: config.read_timeout,
    };
    let timeout = config.timeout;
    let (tx, rx) = oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("record-server".into())
        .spawn(move || {
            runtime.block_on(serve(listener, proxy, limits, timeout, rx));
            runtime.shutdown_timeout(Duration::from_millis(200));
        })
        .map_err(RecordError::Runtime)?;
    Ok(Running {
        addr,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

async fn serve(
    listener: std::net::TcpListener,
    proxy: Arc<Proxy>,
    limits: Limits,
    timeout: Duration,
    mut shutdown: oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot serve: {e}");
            return;
        }
    };
    // Created inside the runtime: its connection pool spawns onto it.
    let client = Client::new(timeout);
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
                let proxy = Arc::clone(&proxy);
                let client = client.clone();
                let service = service_fn(move |req| {
                    handle(Arc::clone(&proxy), client.clone(), limits, req)
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
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}

async fn handle(
    proxy: Arc<Proxy>,
    client: Client,
    limits: Limits,
    req: hyper::Request<Incoming>,
) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let method = parts.method.as_str().to_owned();
    let path = parts.uri.path().to_owned();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let body = if declared.is_some_and(|n| n > limits.max_body as u64) {
        Err((
            413,
            format!("the request body exceeds {} bytes", limits.max_body),
        ))
    } else if body.is_end_stream() {
        Ok(Bytes::new())
    } else {
        let read = Limited::new(body, limits.max_body).collect();
        match tokio::time::timeout(limits.read_timeout, read).await {
            Err(_) => Err((408, "the request body was not received in time".into())),
            Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => Err((
                413,
                format!("the request body exceeds {} bytes", limits.max_body),
            )),
            Ok(Err(e)) => Err((400, format!("the request body was cut short: {e}"))),
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
        }
    };
    let outbound = match body {
        Err((status, message)) => {
            proxy.not_recorded(&method, &path, message.clone());
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
            proxy.forward(&client, inbound).await
        }
    };
    let mut response = hyper::Response::new(Full::new(outbound.body));
    *response.status_mut() =
        http::StatusCode::from_u16(outbound.status).unwrap_or(http::StatusCode::BAD_GATEWAY);
    for (name, value) in outbound.headers {
        // The upstream's headers were valid on the way in; anything that no longer parses is
        // dropped rather than failing the response.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    Ok(response)
}
