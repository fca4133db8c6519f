//! A plain forwarding HTTP proxy (not the project's recorder): every request is sent to the
//! upstream origin with the same method, path, query, headers and body, and the upstream's
//! response comes back unchanged. Its own thread and runtime; stops when dropped.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};

pub struct Proxy {
    addr: SocketAddr,
    forwarded: Arc<AtomicU64>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Proxy {
    /// Listens on 127.0.0.1:0 and forwards to `upstream` (`http://host:port`).
    pub fn start(upstream: &str) -> Self {
        let upstream = upstream.trim_end_matches('/').to_string();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let forwarded = Arc::new(AtomicU64::new(0));
        let counter = Arc::clone(&forwarded);
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).unwrap();
                let client: Client<HttpConnector, Full<Bytes>> =
                    Client::builder(TokioExecutor::new()).build_http();
                loop {
                    let (stream, _) = tokio::select! {
                        accepted = listener.accept() => match accepted {
                            Ok(x) => x,
                            Err(_) => continue,
                        },
                        _ = &mut stopped => break,
                    };
                    let client = client.clone();
                    let upstream = upstream.clone();
                    let counter = Arc::clone(&counter);
                    tokio::spawn(async move {
                        let service = service_fn(move |req: Request<Incoming>| {
                            let client = client.clone();
                            let upstream = upstream.clone();
                            let counter = Arc::clone(&counter);
                            async move {
                                Ok::<_, Infallible>(
                                    forward(&client, &upstream, req, &counter).await,
                                )
                            }
                        });
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
            });
        });
        Self {
            addr,
            forwarded,
            stop: Some(stop),
            thread: Some(thread),
        }
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

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn forward(
    client: &Client<HttpConnector, Full<Bytes>>,
    upstream: &str,
    req: Request<Incoming>,
    counter: &AtomicU64,
) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = match body.collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) => return bad_gateway(&e.to_string()),
    };
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut out = Request::builder()
        .method(parts.method)
        .uri(format!("{upstream}{path}"));
    for (name, value) in &parts.headers {
        if name != hyper::header::HOST
            && name != hyper::header::CONNECTION
            && name != hyper::header::TRANSFER_ENCODING
        {
            out = out.header(name, value);
        }
    }
    let Ok(out) = out.body(Full::new(body)) else {
        return bad_gateway("unbuildable request");
    };
    match client.request(out).await {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            match body.collect().await {
                Ok(b) => {
                    counter.fetch_add(1, Ordering::Relaxed);
                    let mut resp = Response::from_parts(parts, Full::new(b.to_bytes()));
                    // The body is sent whole: the upstream's framing does not apply.
                    resp.headers_mut().remove(hyper::header::TRANSFER_ENCODING);
                    resp.headers_mut().remove(hyper::header::CONNECTION);
                    resp
                }
                Err(e) => bad_gateway(&e.to_string()),
            }
        }
        Err(e) => bad_gateway(&e.to_string()),
    }
}

fn bad_gateway(why: &str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(format!("proxy: {why}"))));
    *r.status_mut() = hyper::StatusCode::BAD_GATEWAY;
    r
}
