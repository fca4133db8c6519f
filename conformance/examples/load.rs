//! Load benchmark of the mock (issue #4): GET a checkout and POST a checkout over keep-alive
//! connections, reporting throughput, latency percentiles, resident memory and start-up time.
//!
//! ```sh
//! cargo run --release -p conformance --example load                # both phases, 5 s each
//! cargo run --release -p conformance --example load -- --seconds 10 --connections 32
//! cargo run --release -p conformance --example load -- --api recharge --only post
//! cargo run --release -p conformance --example load -- --ready-only 20
//! # A soak: a minute of POSTs, a line per 10 s (RSS and p99 as the store fills):
//! cargo run --release -p conformance --example load -- --only post --seconds 60 --interval 10
//! # Another server, started by the benchmark (ready time, RSS and CPU of its process):
//! cargo run --release -p conformance --example load -- --target 127.0.0.1:4010 --prefix '' \
//!     --server-cmd 'prism mock -v silent -p 4010 spec/chargily-pay-v2.yaml'
//! ```
//!
//! The mock runs in a child process (this same executable with `--serve`), built from the
//! library exactly as `conformance mock` builds it (ReCharge's rate limit off), so its resident
//! memory is measured alone (`/proc/<pid>/status`) and "ready" is the time from spawning the
//! process to its first answer. With `--server-cmd`, that command is the child instead and
//! "ready" is its first HTTP answer of any status on `--target`. Client and server share the
//! machine's cores. The client is a minimal HTTP/1.1 writer/reader so that it costs less than
//! the server.
//!
//! Every POST stores a checkout, so the mock's resident memory grows with the POST phase until
//! its store is full (`--store-limit`, default the mock's): from then on the oldest checkouts
//! are evicted and memory stays flat. The report gives RSS idle, after the GET phase and after
//! the POST phase, and the growth divided by the POSTs sent (which, past the limit, is not the
//! size of a stored checkout).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

// The same allocator as the `conformance` binary (in place of `malloc`, see
// src/main.rs), so the mock measured is the one users run.
#[cfg(not(windows))]
use mimalloc as _;
#[cfg(windows)]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::io::BufRead;
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use conformance::mock::{MockConfig, MockServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Args {
    seconds: u64,
    connections: usize,
    client_threads: usize,
    server_workers: usize,
    recharge: bool,
    /// Only measure start-up, this many times.
    ready_runs: u64,
    /// Run only the GET or only the POST phase.
    only: Option<&'static str>,
    /// Benchmark the server at this address instead of spawning the mock.
    target: Option<SocketAddr>,
    /// The command that starts the server at `target` (split on whitespace, no shell).
    server_cmd: Option<String>,
    /// The API's path prefix (default: the mock's, e.g. `/chargily/test/api/v2`).
    prefix: Option<String>,
    /// Report each phase per interval of this many seconds (0: once for the whole phase):
    /// the curve of a long run.
    interval: u64,
    /// The mock's `store_limit` (objects of each kind it keeps).
    store_limit: usize,
}

fn parse_args() -> Result<(bool, Args), String> {
    let mut serve = false;
    let mut args = Args {
        seconds: 5,
        connections: 16,
        client_threads: 1,
        server_workers: 2,
        recharge: false,
        ready_runs: 0,
        only: None,
        target: None,
        server_cmd: None,
        prefix: None,
        interval: 0,
        store_limit: conformance::mock::DEFAULT_STORE_LIMIT,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .ok_or(format!("{name} needs a value"))?
                .parse::<u64>()
                .map_err(|e| format!("{name}: {e}"))
        };
        match a.as_str() {
            "--serve" => serve = true,
            "--seconds" => args.seconds = value("--seconds")?,
            "--connections" => args.connections = value("--connections")? as usize,
            "--client-threads" => args.client_threads = value("--client-threads")? as usize,
            "--server-workers" => args.server_workers = value("--server-workers")? as usize,
            "--ready-only" => args.ready_runs = value("--ready-only")?.max(1),
            "--api" => match it.next().as_deref() {
                Some("chargily") => args.recharge = false,
                Some("recharge") => args.recharge = true,
                other => return Err(format!("--api chargily|recharge, not {other:?}")),
            },
            "--only" => match it.next().as_deref() {
                Some("get") => args.only = Some("GET"),
                Some("post") => args.only = Some("POST"),
                other => return Err(format!("--only get|post, not {other:?}")),
            },
            "--target" => {
                let t = it.next().ok_or("--target needs HOST:PORT")?;
                args.target = Some(t.parse().map_err(|e| format!("--target {t}: {e}"))?);
            }
            "--server-cmd" => {
                args.server_cmd = Some(it.next().ok_or("--server-cmd needs a value")?)
            }
            "--prefix" => args.prefix = Some(it.next().ok_or("--prefix needs a value")?),
            "--interval" => args.interval = value("--interval")?,
            "--store-limit" => args.store_limit = value("--store-limit")? as usize,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    if args.server_cmd.is_some() && args.target.is_none() {
        return Err("--server-cmd needs --target (the address the command listens on)".into());
    }
    Ok((serve, args))
}

fn main() {
    let (serve, args) = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    };
    if serve {
        run_server(&args);
    } else {
        run_benchmark(&args);
    }
}

/// Child mode: serve until stdin closes.
fn run_server(args: &Args) {
    let config = MockConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        recharge_rate_limit: false,
        workers: args.server_workers,
        store_limit: args.store_limit,
        ..MockConfig::default()
    };
    let server = MockServer::start(config).unwrap();
    println!("{}", server.addr());
    let mut sink = String::new();
    while std::io::stdin().read_line(&mut sink).is_ok_and(|n| n > 0) {}
    drop(server);
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) of a process, from `/proc/<pid>/stat`.
fn cpu_time(pid: u32) -> Duration {
    let ticks = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            // Fields after the command name, which is in parentheses.
            let rest = &s[s.rfind(')')? + 2..];
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10) // USER_HZ is 100 on Linux.
}

/// A server under test: our mock in a child process, a `--server-cmd` child, or an external
/// server (no process to measure).
struct Server {
    child: Option<Child>,
    addr: SocketAddr,
    /// When the process was spawned.
    spawned: Instant,
    /// Whether it is this mock (which has `/_mock/health`).
    ours: bool,
}

impl Server {
    fn start(args: &Args) -> Self {
        let spawned = Instant::now();
        if let Some(cmd) = &args.server_cmd {
            let mut words = cmd.split_whitespace();
            let child = Command::new(words.next().unwrap())
                .args(words)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            return Self {
                child: Some(child),
                addr: args.target.unwrap(),
                spawned,
                ours: false,
            };
        }
        if let Some(addr) = args.target {
            return Self {
                child: None,
                addr,
                spawned,
                ours: false,
            };
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--serve",
                "--server-workers",
                &args.server_workers.to_string(),
                "--store-limit",
                &args.store_limit.to_string(),
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        Self {
            addr: line.trim().parse().unwrap(),
            child: Some(child),
            spawned,
            ours: true,
        }
    }

    fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Time from spawn to the first answer: `200` from `/_mock/health` for the mock, any HTTP
    /// answer for another server.
    async fn ready(&self, prefix: &str) -> Duration {
        let probe = if self.ours {
            "GET /_mock/health HTTP/1.1\r\nHost: b\r\n\r\n".to_owned()
        } else {
            format!("GET {prefix}/checkouts/ready-probe HTTP/1.1\r\nHost: b\r\n\r\n")
        };
        loop {
            let r = one(self.addr, probe.as_bytes()).await;
            if r.is_some_and(|(status, _)| status == 200 || !self.ours) {
                break self.spawned.elapsed();
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    fn stop(mut self) {
        if let Some(mut child) = self.child.take() {
            if self.ours {
                drop(child.stdin.take());
            } else {
                let _ = child.kill();
            }
            let _ = child.wait();
        }
    }
}

fn prefix(args: &Args) -> String {
    args.prefix.clone().unwrap_or_else(|| {
        if args.recharge {
            "/recharge".into()
        } else {
            "/chargily/test/api/v2".into()
        }
    })
}

/// Starts the server `runs` times and reports the time to its first answer.
fn ready_only(args: &Args) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let prefix = prefix(args);
    let mut times: Vec<f64> = (0..args.ready_runs)
        .map(|_| {
            let server = Server::start(args);
            let ready = runtime.block_on(server.ready(&prefix));
            server.stop();
            ready.as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "ready after spawn over {} runs: min {:.1} ms, median {:.1} ms, max {:.1} ms",
        times.len(),
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

fn run_benchmark(args: &Args) {
    if args.ready_runs > 0 {
        ready_only(args);
        return;
    }
    let server = Server::start(args);
    let addr = server.addr;
    let prefix = prefix(args);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.client_threads.max(1))
        .enable_all()
        .build()
        .unwrap();
    let ready = runtime.block_on(server.ready(&prefix));
    let pid = server.pid();
    let rss =
        |pid: Option<u32>| pid.map_or_else(|| "n/a".to_owned(), |p| format!("{} KiB", rss_kib(p)));
    let idle = pid.map_or(0, rss_kib);
    match pid {
        Some(pid) => println!(
            "server: pid {pid}, {}ready {:.1} ms after spawn, RSS {} idle",
            if server.ours {
                format!("{} worker threads, ", args.server_workers)
            } else {
                String::new()
            },
            ready.as_secs_f64() * 1000.0,
            rss(Some(pid))
        ),
        None => println!("server: external at {addr} (no process to measure)"),
    }
    println!(
        "client: {} connections on {} thread(s), {} s per phase\n",
        args.connections, args.client_threads, args.seconds
    );

    let (get_request, post_request) = runtime.block_on(requests(addr, args.recharge, &prefix));
    let duration = Duration::from_secs(args.seconds);
    let api = if args.recharge {
        "ReCharge"
    } else {
        "Chargily"
    };
    let mut stored = 1u64; // the checkout `requests` created
    let mut before_post = idle;
    for (method, request) in [("GET", get_request), ("POST", post_request)] {
        if args.only.is_some_and(|only| only != method) {
            continue;
        }
        if method == "POST" {
            before_post = pid.map_or(0, rss_kib);
        }
        // Warm-up, then the measured run.
        let (warm, _, _) = runtime.block_on(phase(
            addr,
            &request,
            args.connections,
            Duration::from_millis(500),
        ));
        let cpu = |p: Option<u32>| p.map_or(Duration::ZERO, cpu_time);
        let (server_before, client_before) = (cpu(pid), cpu_time(std::process::id()));
        let (count, mut latencies, errors) = if args.interval == 0 {
            runtime.block_on(phase(addr, &request, args.connections, duration))
        } else {
            // Consecutive phases of `interval` seconds, a line each.
            let step = Duration::from_secs(args.interval);
            let (mut count, mut all, mut errors) = (0, Vec::new(), 0);
            let mut elapsed = Duration::ZERO;
            while elapsed < duration {
                let step = step.min(duration - elapsed);
                let (n, mut l, e) = runtime.block_on(phase(addr, &request, args.connections, step));
                elapsed += step;
                l.sort_unstable();
                println!(
                    "  {method} {:>4} s: {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms  max {:.3} ms  errors {e}  RSS {}",
                    elapsed.as_secs(),
                    n as f64 / step.as_secs_f64(),
                    percentile(&l, 0.50),
                    percentile(&l, 0.99),
                    l.last().copied().unwrap_or(0) as f64 / 1000.0,
                    rss(pid),
                );
                count += n;
                errors += e;
                all.extend(l);
            }
            (count, all, errors)
        };
        let server_cpu = cpu(pid).saturating_sub(server_before);
        let client_cpu = cpu_time(std::process::id()).saturating_sub(client_before);
        if method == "POST" {
            stored += warm + count;
        }
        latencies.sort_unstable();
        let pct = |p: f64| percentile(&latencies, p);
        let name = format!("{method:<4} {api} checkout");
        println!(
            "{name}: {:>8.0} req/s  p50 {:.3} ms  p99 {:.3} ms  p99.9 {:.3} ms  max {:.3} ms  errors {errors}  RSS {}",
            count as f64 / duration.as_secs_f64(),
            pct(0.50),
            pct(0.99),
            pct(0.999),
            latencies.last().copied().unwrap_or(0) as f64 / 1000.0,
            rss(pid),
        );
        if pid.is_some() {
            let per_request = server_cpu.as_secs_f64() * 1e6 / count.max(1) as f64;
            println!(
                "      CPU: server {:.2} s ({per_request:.1} µs/request, i.e. {:.0} req/s per core), client {:.2} s",
                server_cpu.as_secs_f64(),
                1e6 / per_request,
                client_cpu.as_secs_f64(),
            );
        }
    }
    if let (Some(p), true) = (pid, args.only != Some("GET")) {
        // The mock stores POSTed checkouts up to its limit; a stateless server (Prism) stores
        // nothing, and its growth is its heap's.
        let after = rss_kib(p);
        println!(
            "\nRSS: {idle} KiB idle, {before_post} KiB after GET (before POST), {after} KiB after {stored} POSTs: +{:.0} bytes per POST",
            after.saturating_sub(before_post) as f64 * 1024.0 / stored.max(1) as f64
        );
    }
    server.stop();
}

/// The `p` quantile of sorted latencies in µs, in ms.
fn percentile(sorted: &[u32], p: f64) -> f64 {
    sorted
        .get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1)))
        .copied()
        .unwrap_or(0) as f64
        / 1000.0
}

/// The two requests: GET of one existing checkout, POST of a new one.
async fn requests(addr: SocketAddr, recharge: bool, prefix: &str) -> (Vec<u8>, Vec<u8>) {
    let create_path = format!("{prefix}/checkouts");
    let (auth, body) = if recharge {
        (
            "X-Recharge-Access-Token: conformance",
            r#"{"line_items":[{"variant_id":3844924611,"quantity":2,"price":"12.50"}],"email":"load@example.test"}"#,
        )
    } else {
        (
            "Authorization: Bearer test_sk_conformance",
            r#"{"amount":2000,"currency":"dzd","success_url":"https://shop.example.test/ok"}"#,
        )
    };
    let post = format!(
        "POST {create_path} HTTP/1.1\r\nHost: bench\r\n{auth}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes();
    let (status, created) = one(addr, &post).await.unwrap();
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&created));
    let created: serde_json::Value = serde_json::from_slice(&created).unwrap();
    let id = if recharge {
        created["checkout"]["token"].as_str().unwrap().to_owned()
    } else {
        created["id"].as_str().unwrap().to_owned()
    };
    let get =
        format!("GET {create_path}/{id} HTTP/1.1\r\nHost: bench\r\n{auth}\r\n\r\n").into_bytes();
    (get, post)
}

/// One request on a fresh connection.
async fn one(addr: SocketAddr, request: &[u8]) -> Option<(u16, Vec<u8>)> {
    let mut conn = Conn::connect(addr).await?;
    conn.exchange(request).await
}

/// `connections` keep-alive loops for `duration`: (requests, latencies in µs, errors).
async fn phase(
    addr: SocketAddr,
    request: &[u8],
    connections: usize,
    duration: Duration,
) -> (u64, Vec<u32>, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let request: Arc<[u8]> = Arc::from(request);
    let tasks: Vec<_> = (0..connections)
        .map(|_| {
            let stop = Arc::clone(&stop);
            let request = Arc::clone(&request);
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 16);
                let mut errors = 0u64;
                let mut conn = None;
                while !stop.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        conn = Conn::connect(addr).await;
                    }
                    let Some(c) = conn.as_mut() else {
                        errors += 1;
                        continue;
                    };
                    let t = Instant::now();
                    match c.exchange(&request).await {
                        Some((200, _)) => latencies.push(t.elapsed().as_micros() as u32),
                        Some(_) => errors += 1,
                        None => {
                            errors += 1;
                            conn = None;
                        }
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        all.extend(l);
        errors += e;
    }
    (all.len() as u64, all, errors)
}

/// A keep-alive HTTP/1.1 connection that reads `Content-Length` responses.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
}

impl Conn {
    async fn connect(addr: SocketAddr) -> Option<Self> {
        let stream = TcpStream::connect(addr).await.ok()?;
        stream.set_nodelay(true).ok()?;
        Some(Self {
            stream,
            buf: Vec::with_capacity(8192),
        })
    }

    async fn exchange(&mut self, request: &[u8]) -> Option<(u16, Vec<u8>)> {
        self.stream.write_all(request).await.ok()?;
        loop {
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let head = std::str::from_utf8(&self.buf[..end]).ok()?;
                let status: u16 = head.split(' ').nth(1)?.parse().ok()?;
                let length: usize = head
                    .split("\r\n")
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse().ok())?
                    })
                    .unwrap_or(0);
                let total = end + 4 + length;
                while self.buf.len() < total {
                    self.fill().await?;
                }
                let body = self.buf[end + 4..total].to_vec();
                self.buf.drain(..total);
                return Some((status, body));
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Option<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Some(())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
