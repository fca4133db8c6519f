//! Test helpers: a tiny blocking HTTP/1.1 client over loopback TCP, request shortcuts for both
//! APIs, and a webhook receiver.

#![allow(dead_code, clippy::unwrap_used)]

pub mod proxy;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use conformance::mock::{MockConfig, MockServer};
use serde_json::Value;

pub const CHARGILY_AUTH: (&str, &str) = ("Authorization", "Bearer test_sk_conformance");
pub const RECHARGE_AUTH: (&str, &str) = ("X-Recharge-Access-Token", "conformance");

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Starts a mock with the test configuration.
pub fn server() -> MockServer {
    MockServer::start(MockConfig::for_tests()).unwrap()
}

pub fn server_with(f: impl FnOnce(&mut MockConfig)) -> MockServer {
    let mut config = MockConfig::for_tests();
    f(&mut config);
    MockServer::start(config).unwrap()
}

/// Sends raw bytes and reads the answer until the server closes the connection.
pub fn raw(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    out
}

/// One request on a fresh connection (`Connection: close`).
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Resp {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    if let Some(b) = body {
        bytes.extend_from_slice(b);
    }
    stream.write_all(&bytes).unwrap();
    read_response(&mut BufReader::new(stream))
}

/// Reads one response (Content-Length bodies, as the mock sends).
pub fn read_response(reader: &mut impl BufRead) -> Resp {
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("no status line: {line:?}"))
        .parse()
        .unwrap();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':').unwrap();
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    Resp {
        status,
        headers,
        body,
    }
}

fn json_request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    auth: (&str, &str),
    body: Option<&Value>,
) -> Resp {
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    let mut headers = vec![auth];
    if bytes.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    request(addr, method, path, &headers, bytes.as_deref())
}

/// Chargily, test mode: `path` is relative to `/chargily/test/api/v2`.
pub fn cg(s: &MockServer, method: &str, path: &str, body: Option<&Value>) -> Resp {
    json_request(
        s.addr(),
        method,
        &format!("/chargily/test/api/v2{path}"),
        CHARGILY_AUTH,
        body,
    )
}

/// Chargily, live mode.
pub fn cg_live(s: &MockServer, method: &str, path: &str, body: Option<&Value>) -> Resp {
    json_request(
        s.addr(),
        method,
        &format!("/chargily/api/v2{path}"),
        CHARGILY_AUTH,
        body,
    )
}

/// ReCharge: `path` is relative to `/recharge`.
pub fn rc(s: &MockServer, method: &str, path: &str, body: Option<&Value>) -> Resp {
    json_request(
        s.addr(),
        method,
        &format!("/recharge{path}"),
        RECHARGE_AUTH,
        body,
    )
}

/// The mock's controls: `path` is relative to `/_mock`.
pub fn control(s: &MockServer, method: &str, path: &str, body: Option<&Value>) -> Resp {
    json_request(
        s.addr(),
        method,
        &format!("/_mock{path}"),
        ("X-Nothing", "1"),
        body,
    )
}

/// A request as the tests' hand-written HTTP servers read it ([`serve_http`]).
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    /// The request target: path and query.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What [`serve_http`] answers: status, headers (without `content-length`, which it adds) and
/// body.
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// The tests' hand-written HTTP/1.1 server, on [`listen`]'s accept loop: keep-alive, each
/// request read whole (a `content-length` body) and answered with what `answer` returns.
/// Returns the address.
pub fn serve_http(answer: impl Fn(Received) -> Answer + Send + Sync + 'static) -> SocketAddr {
    listen(move |stream| {
        let _ = serve_connection(&stream, &answer);
    })
}

fn serve_connection(
    stream: &TcpStream,
    answer: &impl Fn(Received) -> Answer,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let method = words.next().unwrap_or_default().to_owned();
        let path = words.next().unwrap_or_default().to_owned();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_owned(), v.trim().to_owned()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, headers, body) = answer(Received {
            method,
            path,
            headers,
            body,
            at: Instant::now(),
        });
        let mut head = format!("HTTP/1.1 {status} Test\r\n");
        for (k, v) in &headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
        // One write: a head and a body written apart wait out the peer's delayed ACK.
        let mut message = head.into_bytes();
        message.extend_from_slice(&body);
        let mut w = stream;
        w.write_all(&message)?;
    }
}

/// An HTTP receiver on 127.0.0.1:0 that records every request and answers with the next
/// status from `statuses` (200 once they run out).
pub struct Receiver {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub fn start(statuses: Vec<u16>) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let statuses = Mutex::new(statuses.into_iter());
        let addr = serve_http(move |request| {
            log.lock().unwrap().push(request);
            let status = statuses.lock().unwrap().next().unwrap_or(200);
            let json = vec![("content-type".to_owned(), "application/json".to_owned())];
            (status, json, b"{}".to_vec())
        });
        Self { addr, received }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Waits until `n` requests have arrived (or panics after 5 s).
    pub fn wait_for(&self, n: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.received.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "expected {n} webhook requests, got {}",
                got.len()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Polls `check` until it returns `Some` (within 10 s, generous for a loaded machine: what it
/// waits for either happens promptly or never), instead of sleeping a fixed time and hoping.
pub fn eventually<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(t) = check() {
            return t;
        }
        assert!(Instant::now() < deadline, "still not {what} after 10 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The one accept loop of the tests' hand-written servers: binds `127.0.0.1:0`, and hands
/// every connection to `handle` on a thread of its own. Returns the address. The server lives
/// as long as the test process (its threads are detached).
pub fn listen(handle: impl Fn(TcpStream) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let handle = Arc::new(handle);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let handle = Arc::clone(&handle);
            std::thread::spawn(move || handle(stream));
        }
    });
    addr
}

/// A server that answers every request with `200` and an endless chunked JSON body, until the
/// client goes away: a target or upstream that would fill memory. Returns its base URL.
pub fn endless_body_server() -> String {
    let addr = listen(|mut stream| {
        {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
                      transfer-encoding: chunked\r\n\r\n1\r\n[\r\n",
            );
            let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, "0,".repeat(32 * 1024));
            // Ends when the client closes the connection.
            while stream.write_all(chunk.as_bytes()).is_ok() {}
        }
    });
    format!("http://{addr}")
}

/// A fresh, empty folder under the system's temporary folder, unique to this call: every test
/// module shares one process, so the process id alone would not separate two tests' folders.
/// Removed when dropped, unless the test is failing (its files are then kept to look at).
pub fn temp_dir(name: &str) -> TempDir {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("conformance-{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// A folder of [`temp_dir`].
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Bytes as text, lossily (a process's output in an assertion message).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A finished process's stdout and stderr as text, once its exit code is asserted to be `code`
/// (the failure message shows both).
pub fn exited(out: &Output, code: i32) -> (String, String) {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "{stdout}{stderr}");
    (stdout, stderr)
}

/// Runs `conformance replay` with `args`, without the credentials of the caller's environment
/// (plus those of `env`).
pub fn replay(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_conformance"));
    cmd.arg("replay")
        .args(args)
        .env_remove("CHARGILY_SECRET_KEY")
        .env_remove("RECHARGE_API_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// A TLS-terminating forwarder on 127.0.0.1:0 in front of `upstream` (plain TCP), with a
/// certificate for `localhost` and `127.0.0.1` signed by a CA made here. Returns its port and
/// the CA's PEM.
pub fn https_forwarder(upstream: std::net::SocketAddr) -> (u16, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "conformance test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let chain = vec![leaf.der().clone(), ca.der().clone()];
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    // A client that refuses the certificate ends here.
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
    });
    (port, ca.pem())
}
