//! Crash safety of `conformance record` (issue #6): the recording on disk is always a valid
//! file holding every exchange whose response reached the client (the proxy writes before it
//! answers), a killed recorder loses nothing it answered, and a previous file at `--out`
//! survives until the new recording has its first exchange.

use crate::support;
use crate::support::temp_dir;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use conformance::mock::MockConfig;
use conformance::record::{RecordConfig, Recorder};
use conformance::recording;
use conformance::specs::Api;
use serde_json::json;

/// `conformance record` as a child process; returns it, the proxy's address and its stdout.
fn spawn_record(upstream: &str, out: &Path) -> (Child, SocketAddr, BufReader<ChildStdout>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["record", "--api", "chargily", "--listen", "127.0.0.1:0"])
        .args(["--upstream", upstream])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("proxy:")
        .and_then(|u| u.trim().strip_prefix("http://"))
        .unwrap_or_else(|| panic!("no proxy URL in {line:?}"))
        .parse()
        .unwrap();
    (child, addr, stdout)
}

/// One request; `None` when the connection fails or breaks (the proxy was killed).
fn try_request(addr: SocketAddr, method: &str, path: &str, body: Option<&[u8]>) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nAuthorization: Bearer test_sk_conformance\r\n"
    );
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).ok()?;
    if let Some(b) = body {
        stream.write_all(b).ok()?;
    }
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n")?;
    let length: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap_or(usize::MAX))
        })
        .unwrap_or(0);
    // A response cut short by the kill does not count as received.
    if body.len() < length {
        return None;
    }
    head.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_killed_recorder_keeps_every_answered_exchange() {
    let mock = support::server();
    let upstream = mock.chargily_test_url();
    let dir = temp_dir("crash-kill");
    // Killed at different points of a busy session, the file is valid every time.
    for (round, kill_after) in [3usize, 12, 25].into_iter().enumerate() {
        let out = dir.join(format!("run{round}.yaml"));
        let (mut child, addr, _stdout) = spawn_record(&upstream, &out);
        let answered = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let client = {
            let (answered, stop) = (Arc::clone(&answered), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let body =
                        serde_json::to_vec(&json!({"name": format!("product {n}")})).unwrap();
                    let status = if n % 2 == 0 {
                        try_request(addr, "GET", "/balance", None)
                    } else {
                        try_request(addr, "POST", "/products", Some(&body))
                    };
                    match status {
                        Some(200) => {
                            answered.fetch_add(1, Ordering::SeqCst);
                        }
                        Some(other) => panic!("unexpected status {other}"),
                        None => break,
                    }
                }
            })
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while answered.load(Ordering::SeqCst) < kill_after {
            assert!(Instant::now() < deadline, "the proxy is too slow");
            std::thread::sleep(Duration::from_millis(1));
        }
        // SIGKILL: no handler runs, no final write.
        child.kill().unwrap();
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        client.join().unwrap();
        let answered = answered.load(Ordering::SeqCst);
        let loaded = recording::load(&out)
            .unwrap_or_else(|e| panic!("round {round}: not a valid recording after a kill: {e}"));
        let recorded = loaded.recording.exchanges.len();
        // Every answered exchange, plus at most the one written but not yet answered.
        assert!(
            recorded == answered || recorded == answered + 1,
            "round {round}: {answered} answered, {recorded} recorded"
        );
        assert!(
            loaded
                .recording
                .exchanges
                .iter()
                .all(|e| e.operation.is_some() && e.response.status == 200)
        );
    }
}

#[test]
fn a_previous_recording_survives_until_the_first_exchange() {
    let mock = support::server();
    let upstream = mock.chargily_test_url();
    let dir = temp_dir("crash-previous");
    let out = dir.join("scenario.yaml");
    let previous = std::fs::read(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/replay/chargily/smoke.yaml"),
    )
    .unwrap();
    std::fs::write(&out, &previous).unwrap();

    // Killed before any exchange: untouched.
    let (mut child, _, _stdout) = spawn_record(&upstream, &out);
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), previous);

    // Stopped with Ctrl-C before any exchange: untouched, and said so.
    let (mut child, _, _stdout) = spawn_record(&upstream, &out);
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("nothing recorded"), "{stderr}");
    assert_eq!(std::fs::read(&out).unwrap(), previous);

    // One exchange, then killed: the new recording, complete.
    let (mut child, addr, _stdout) = spawn_record(&upstream, &out);
    assert_eq!(try_request(addr, "GET", "/balance", None), Some(200));
    child.kill().unwrap();
    child.wait().unwrap();
    let loaded = recording::load(&out).unwrap();
    assert_eq!(loaded.recording.exchanges.len(), 1);
    assert_eq!(
        loaded.recording.exchanges[0].operation.as_deref(),
        Some("retrieveBalance")
    );
}

#[test]
fn dropping_the_recorder_lets_an_exchange_in_flight_finish() {
    // A slow upstream operation (the simulated payment processor) is in flight when the
    // recorder is dropped: the client still gets its answer and the file has the exchange.
    let mock = support::server_with(|m: &mut MockConfig| {
        m.charge_delay = Duration::from_millis(400);
    });
    let dir = temp_dir("crash-drop");
    let out = dir.join("charge.yaml");
    let proxy =
        Recorder::start(RecordConfig::new(Api::Recharge, mock.recharge_url(), &out)).unwrap();
    let addr = proxy.addr();
    let auth = [support::RECHARGE_AUTH, ("Content-Type", "application/json")];
    let created = support::request(
        addr,
        "POST",
        "/checkouts",
        &auth,
        Some(br#"{"line_items": [{"variant_id": 1, "quantity": 1, "price": "5.00", "title": "Mug"}]}"#),
    );
    assert_eq!(created.status, 200, "{}", created.text());
    let token = created.json()["checkout"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let charging = std::thread::spawn(move || {
        support::request(
            addr,
            "POST",
            &format!("/checkouts/{token}/charge"),
            &auth,
            Some(br#"{"payment_processor": "stripe", "payment_token": "tok_visa"}"#),
        )
        .status
    });
    std::thread::sleep(Duration::from_millis(100));
    let stats = proxy.stop();
    assert_eq!(charging.join().unwrap(), 200);
    assert_eq!(stats.recorded, 2);
    let loaded = recording::load(&out).unwrap();
    assert_eq!(loaded.recording.exchanges.len(), 2);
    assert_eq!(
        loaded.recording.exchanges[1].operation.as_deref(),
        Some("chargeCheckout")
    );
    // Nothing but the recording is left behind.
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(files, ["charge.yaml"]);
}
