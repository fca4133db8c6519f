//! Secrets never reach disk (issue #6). Every secret position gets a unique canary value:
//! credential, cookie and signature headers in both directions, `payment_token` and
//! `authorization_token` in JSON bodies, a `payment_token` inside malformed JSON, a secret
//! query parameter, the spec's `writeOnly` / `format: password` properties (through a spec
//! that has them; the two real specs do not), and values an upstream echoes back. Then every
//! byte of every file in the output folder (the recording, and any temporary file) and of the
//! CLI's output is scanned for every canary. Each test also checks the canaries were really on
//! the wire, so a scan that finds nothing is not vacuous.

use crate::support;
use crate::support::temp_dir;

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

use conformance::mock::MockConfig;
use conformance::record::{self, ApiSpec, RecordConfig, Recorder};
use conformance::recording::{self, Auth};
use conformance::specs::Api;
use serde_json::{Value, json};

/// A unique value per position and run: a scan cannot match leftovers of another run.
struct Canaries {
    run: String,
    all: Vec<(String, String)>,
}

impl Canaries {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        Self {
            run: format!("{:x}{:x}", std::process::id(), nanos),
            all: Vec::new(),
        }
    }

    /// A canary for `position` (letters and digits: survives URLs and JSON unescaped).
    fn get(&mut self, position: &str) -> String {
        let slug: String = position
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let value = format!("cnry{slug}{}", self.run);
        self.all.push((position.to_owned(), value.clone()));
        value
    }

    /// Every file under `dir` (recursively) and every extra text, scanned for every canary.
    fn assert_absent(&self, dir: &Path, extra: &[(&str, &[u8])]) {
        let mut files = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    files.push(p);
                }
            }
        }
        assert!(
            !files.is_empty(),
            "nothing was written under {}",
            dir.display()
        );
        let mut scanned: Vec<(String, Vec<u8>)> = files
            .iter()
            .map(|f| (f.display().to_string(), std::fs::read(f).unwrap()))
            .collect();
        scanned.extend(extra.iter().map(|(n, b)| ((*n).to_owned(), b.to_vec())));
        for (name, bytes) in &scanned {
            for (position, canary) in &self.all {
                assert!(
                    !contains(bytes, canary.as_bytes()),
                    "the {position} canary was written to {name}:\n{}",
                    String::from_utf8_lossy(bytes)
                );
            }
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn json_body(v: &Value) -> Vec<u8> {
    serde_json::to_vec(v).unwrap()
}

#[test]
fn recharge_and_chargily_secrets_never_reach_disk() {
    let mut c = Canaries::new();
    let rc_token = c.get("x-recharge-access-token");
    let cg_key = c.get("chargily secret key");
    let cg_wrong = c.get("refused chargily key");
    let cookie = c.get("cookie");
    let hmac = c.get("x-recharge-hmac-sha256");
    let signature = c.get("signature");
    let payment_token = format!("tok_1{}", c.get("payment_token"));
    let authorization_token = c.get("authorization_token");
    let in_text = c.get("payment_token in malformed JSON");
    let query = c.get("api_key query parameter");
    let mock = support::server_with(|m: &mut MockConfig| {
        m.recharge_access_token = rc_token.clone();
        m.chargily_secret_key = format!("test_sk_{cg_key}");
    });
    let dir = temp_dir("secrets-mock");

    // ReCharge.
    let out = dir.join("recharge.yaml");
    let proxy =
        Recorder::start(RecordConfig::new(Api::Recharge, mock.recharge_url(), &out)).unwrap();
    let cookie_header = format!("theme=dark; session={cookie}");
    let headers = [
        ("X-Recharge-Access-Token", rc_token.as_str()),
        ("Cookie", cookie_header.as_str()),
        ("X-Recharge-Hmac-Sha256", hmac.as_str()),
        ("signature", signature.as_str()),
        ("Content-Type", "application/json"),
    ];
    let send = |method: &str, path: &str, body: &[u8]| {
        support::request(proxy.addr(), method, path, &headers, Some(body))
    };
    let create = json_body(&json!({"line_items": [{"variant_id": 1, "quantity": 1,
        "price": "5.00", "title": "Mug"}]}));
    let a = send("POST", "/checkouts", &create).json()["checkout"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let b = send("POST", "/checkouts", &create).json()["checkout"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let charge = json_body(&json!({"checkout_charge": {"payment_processor": "stripe",
        "payment_token": payment_token, "authorization_token": authorization_token}}));
    let first = send("POST", &format!("/checkouts/{a}/charge"), &charge);
    assert_eq!(first.status, 200, "{}", first.text());
    assert!(
        first.text().contains(&payment_token),
        "the mock echoes the token"
    );
    assert!(first.text().contains(&authorization_token));
    // A single-use token used twice: the error message quotes it.
    let reused = send("POST", &format!("/checkouts/{b}/charge"), &charge);
    assert_eq!(reused.status, 422, "{}", reused.text());
    assert!(reused.text().contains(&payment_token), "{}", reused.text());
    let malformed = format!(r#"{{"payment_processor": "stripe", "payment_token": "{in_text}""#);
    let bad = send(
        "POST",
        &format!("/checkouts/{b}/charge"),
        malformed.as_bytes(),
    );
    assert!(bad.status >= 400);
    let got = support::request(
        proxy.addr(),
        "GET",
        &format!("/checkouts/{a}?api_key={query}&x=1"),
        &headers[..1],
        None,
    );
    assert_eq!(got.status, 200, "{}", got.text());
    let stats = proxy.stop();
    assert_eq!(stats.recorded, 6);

    let loaded = recording::load(&out).unwrap();
    let ex = &loaded.recording.exchanges;
    assert!(ex.iter().all(|e| e.request.auth == Auth::Inject));
    assert_eq!(
        ex[2].request.body.json.as_ref().unwrap()["checkout_charge"]["payment_token"],
        record::REDACTED
    );
    assert_eq!(
        ex[5].request.query.as_deref(),
        Some("api_key=[redacted]&x=1")
    );

    // Chargily: a key the API accepts, and one it refuses (recorded as `auth: invalid`).
    let out = dir.join("chargily.yaml");
    let proxy = Recorder::start(RecordConfig::new(
        Api::Chargily,
        mock.chargily_test_url(),
        &out,
    ))
    .unwrap();
    let good = format!("Bearer test_sk_{cg_key}");
    let wrong = format!("Bearer test_sk_{cg_wrong}");
    let ok = support::request(
        proxy.addr(),
        "GET",
        "/balance",
        &[("Authorization", &good)],
        None,
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let refused = support::request(
        proxy.addr(),
        "GET",
        "/balance",
        &[("Authorization", &wrong)],
        None,
    );
    assert_eq!(refused.status, 401);
    drop(proxy);
    let loaded = recording::load(&out).unwrap();
    let auth: Vec<Auth> = loaded
        .recording
        .exchanges
        .iter()
        .map(|e| e.request.auth)
        .collect();
    assert_eq!(auth, [Auth::Inject, Auth::Invalid]);

    c.assert_absent(&dir, &[]);
}

/// An upstream that echoes every request header and the body back, and sets a cookie and a
/// session header: the scrub must find the secrets wherever the response repeats them.
fn echo_upstream(set_cookie: String, session: String) -> SocketAddr {
    support::serve_http(move |request| {
        let headers: serde_json::Map<String, Value> = request
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let out = serde_json::to_vec(&json!({
            "request_line": format!("{} {} HTTP/1.1", request.method, request.path),
            "headers": headers,
            "body": String::from_utf8_lossy(&request.body),
            "session_id": format!("{session}json"),
        }))
        .unwrap_or_default();
        let headers = [
            ("content-type", "application/json".to_owned()),
            ("set-cookie", format!("sid={set_cookie}; Path=/; HttpOnly")),
            ("x-session-id", session.clone()),
            (
                "location",
                format!("https://shop.example/reset?code={session}loc&next=/"),
            ),
        ];
        let headers = headers.map(|(k, v)| (k.to_owned(), v)).to_vec();
        (200, headers, out)
    })
}

#[test]
fn echoed_secrets_are_scrubbed_and_the_cli_prints_none() {
    let mut c = Canaries::new();
    let key = c.get("authorization");
    let set_cookie = c.get("set-cookie");
    let session = c.get("x-session-id");
    let token = c.get("payment_token");
    let upstream = echo_upstream(set_cookie.clone(), session.clone());
    let dir = temp_dir("secrets-echo");
    let out = dir.join("echo.yaml");
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["record", "--api", "chargily", "--listen", "127.0.0.1:0"])
        .arg("--upstream")
        .arg(format!("http://{upstream}/api/v2"))
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let proxy: SocketAddr = first
        .trim()
        .strip_prefix("proxy:")
        .unwrap()
        .trim()
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap();
    let auth = format!("Bearer {key}");
    let body = json_body(&json!({"amount": 2500, "currency": "dzd",
        "success_url": "https://shop.example/ok", "metadata": {"payment_token": token}}));
    let resp = support::request(
        proxy,
        "POST",
        &format!("/checkouts?access_token={key}"),
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(&body),
    );
    assert_eq!(resp.status, 200);
    // The client got everything unchanged, secrets included.
    for value in [&key, &token, &set_cookie, &session] {
        assert!(
            resp.text().contains(value.as_str())
                || resp.headers.iter().any(|(_, v)| v.contains(value.as_str())),
            "{value} not on the wire"
        );
    }
    // Ctrl-C.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let mut rest = Vec::new();
    stdout.read_to_end(&mut rest).unwrap();
    let mut stderr = Vec::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_end(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&stderr)
    );
    let loaded = recording::load(&out).unwrap();
    let ex = &loaded.recording.exchanges[0];
    assert!(ex.flagged.is_none(), "POST /checkouts is createCheckout");
    let echoed = ex.response.body.json.as_ref().unwrap();
    assert_eq!(echoed["headers"]["authorization"], "[redacted]");
    assert!(!ex.response.headers.contains_key("set-cookie"));
    assert!(!ex.response.headers.contains_key("x-session-id"));
    c.assert_absent(
        &dir,
        &[
            ("stdout", &[first.as_bytes(), &rest].concat()),
            ("stderr", &stderr),
        ],
    );
}

/// A spec with `format: password` and `writeOnly` properties (through `$ref` and `allOf`), to
/// check the spec-derived rules: the two real specs have none.
fn secret_spec() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "servers": [{"url": "https://api.example.test/v1"}],
        "paths": {"/accounts": {"post": {
            "operationId": "createAccount",
            "requestBody": {"required": true, "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/NewAccount"}}}},
            "responses": {"200": {"description": "ok", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/Account"}}}}}
        }}},
        "components": {"schemas": {
            "Pin": {"type": "string", "format": "password"},
            "Recovery": {"allOf": [{"type": "string", "writeOnly": true}]},
            "NewAccount": {"type": "object", "properties": {
                "name": {"type": "string"},
                "pin": {"$ref": "#/components/schemas/Pin"},
                "recovery": {"allOf": [{"$ref": "#/components/schemas/Recovery"}]}
            }},
            "Account": {"type": "object", "properties": {
                "id": {"type": "string"}, "name": {"type": "string"}
            }}
        }}
    })
}

#[test]
fn har_import_redacts_spec_secrets_headers_and_base64_bodies() {
    let mut c = Canaries::new();
    let pin = c.get("pin (format: password)");
    let recovery = c.get("recovery (writeOnly)");
    let bearer = c.get("authorization");
    let cookie = c.get("cookie");
    let set_cookie = c.get("set-cookie");
    let query = c.get("access_token query");
    let response_body = json!({"id": "acc_1", "name": "Ada", "pin": pin,
        "note": format!("recovery code {recovery} stored")});
    let b64 = {
        // Encoded with the standard alphabet by hand: the import must decode it.
        const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let bytes = serde_json::to_vec(&response_body).unwrap();
        let mut s = String::new();
        for ch in bytes.chunks(3) {
            let v = (u32::from(ch[0]) << 16)
                | (u32::from(*ch.get(1).unwrap_or(&0)) << 8)
                | u32::from(*ch.get(2).unwrap_or(&0));
            for i in 0..4 {
                s.push(if i <= ch.len() {
                    A[((v >> (18 - 6 * i)) & 63) as usize] as char
                } else {
                    '='
                });
            }
        }
        s
    };
    assert!(!b64.contains(&pin), "the canary is hidden by the encoding");
    let har = json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
    "entries": [{
        "startedDateTime": "2024-05-01T10:00:00Z",
        "request": {"method": "POST",
            "url": format!("https://api.example.test/v1/accounts?access_token={query}"),
            "headers": [
                {"name": "Authorization", "value": format!("Bearer {bearer}")},
                {"name": "Cookie", "value": format!("sid={cookie}")},
                {"name": "Content-Type", "value": "application/json"}],
            "postData": {"mimeType": "application/json",
                "text": serde_json::to_string(&json!({"name": "Ada", "pin": pin,
                    "recovery": recovery})).unwrap()}},
        "response": {"status": 200,
            "headers": [{"name": "Set-Cookie", "value": format!("sid={set_cookie}; Secure")},
                {"name": "Content-Type", "value": "application/json"}],
            "content": {"mimeType": "application/json", "text": b64, "encoding": "base64"}}
    }]}});
    let dir = temp_dir("secrets-har");
    let har_path = dir.join("capture.har");
    std::fs::write(&har_path, serde_json::to_vec(&har).unwrap()).unwrap();
    let spec = ApiSpec::from_root(Api::Chargily, secret_spec());
    let imported = record::har::import_file(&har_path, &spec, None).unwrap();
    assert_eq!(imported.recording.exchanges.len(), 1);
    let ex = &imported.recording.exchanges[0];
    assert_eq!(ex.operation.as_deref(), Some("createAccount"));
    assert_eq!(
        ex.request.body.json,
        Some(json!({"name": "Ada", "pin": "[redacted]", "recovery": "[redacted]"}))
    );
    assert_eq!(
        ex.response.body.json,
        Some(json!({"id": "acc_1", "name": "Ada", "pin": "[redacted]",
            "note": "recovery code [redacted] stored"}))
    );
    // The HAR itself holds the canaries; the scan covers what the import wrote.
    std::fs::remove_file(&har_path).unwrap();
    let out = dir.join("imported.yaml");
    recording::write_atomic(&out, &imported.recording).unwrap();
    c.assert_absent(&dir, &[]);
}

/// A form body in HAR `params` holds decoded values: a password with spaces, `&`, `;` and `=`
/// must be redacted whole, not up to its first delimiter.
#[test]
fn har_form_params_are_redacted_whole() {
    let mut c = Canaries::new();
    let parts: Vec<String> = (0..5).map(|i| c.get(&format!("pin part {i}"))).collect();
    let pin = format!(
        "{} {}&{};{}={}",
        parts[0], parts[1], parts[2], parts[3], parts[4]
    );
    let har = json!({"log": {"version": "1.2", "creator": {"name": "t", "version": "1"},
    "entries": [{
        "startedDateTime": "2024-05-01T10:00:00Z",
        "request": {"method": "POST", "url": "https://api.example.test/v1/accounts",
            "headers": [{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}],
            "postData": {"mimeType": "application/x-www-form-urlencoded",
                "params": [{"name": "name", "value": "Ada Lovelace"}, {"name": "pin", "value": pin}]}},
        "response": {"status": 200, "headers": [{"name": "Content-Type", "value": "application/json"}],
            "content": {"mimeType": "application/json", "text": "{\"id\": \"acc_1\"}"}}
    }]}});
    let dir = temp_dir("secrets-har-form");
    let har_path = dir.join("capture.har");
    std::fs::write(&har_path, serde_json::to_vec(&har).unwrap()).unwrap();
    let spec = ApiSpec::from_root(Api::Chargily, secret_spec());
    let imported = record::har::import_file(&har_path, &spec, None).unwrap();
    let body = imported.recording.exchanges[0]
        .request
        .body
        .text
        .clone()
        .unwrap();
    // The other field stays readable (and one value), the secret is one redaction.
    assert_eq!(body, "name=Ada%20Lovelace&pin=[redacted]");
    std::fs::remove_file(&har_path).unwrap();
    recording::write_atomic(&dir.join("imported.yaml"), &imported.recording).unwrap();
    c.assert_absent(&dir, &[]);
}

/// Credentials in the upstream URL are refused, and neither the error nor any file shows them.
#[test]
fn upstream_user_info_is_refused_and_never_shown() {
    let mut c = Canaries::new();
    let password = c.get("upstream password");
    let dir = temp_dir("secrets-userinfo");
    let out = Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(["record", "--api", "chargily", "--listen", "127.0.0.1:0"])
        .arg("--upstream")
        .arg(format!("http://user:{password}@127.0.0.1:9/api/v2"))
        .arg("--out")
        .arg(dir.join("r.yaml"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("credentials in the URL"), "{stderr}");
    std::fs::write(dir.join("marker"), "scanned").unwrap();
    c.assert_absent(&dir, &[("stdout", &out.stdout), ("stderr", &out.stderr)]);
}

/// A request the recorder cannot forward (the upstream is down) is not recorded, and its log
/// line shows the operation's path template, not the secret in the raw path.
#[test]
fn unrecorded_requests_log_no_path_secrets() {
    let mut c = Canaries::new();
    let in_path = c.get("token in a path");
    let unknown = c.get("segment of an unknown path");
    // A port with nothing listening: every forward fails with 502.
    let dead = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = temp_dir("secrets-unrecorded");
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let lines = std::sync::Arc::clone(&lines);
        std::sync::Arc::new(move |e: &record::Event| lines.lock().unwrap().push(e.to_string()))
    };
    let recorder = Recorder::start(RecordConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        on_event: Some(sink),
        ..RecordConfig::new(
            Api::Chargily,
            format!("http://{dead}/api/v2"),
            dir.join("r.yaml"),
        )
    })
    .unwrap();
    let addr: SocketAddr = recorder
        .url()
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap();
    for path in [
        format!("/checkouts/{in_path}"),
        format!("/nowhere/{unknown}/x"),
    ] {
        let r = support::request(addr, "GET", &path, &[], None);
        assert_eq!(r.status, 502, "{path}");
    }
    drop(recorder);
    let log = lines.lock().unwrap().join("\n");
    assert!(log.contains("GET /checkouts/{id}: not recorded"), "{log}");
    assert!(
        log.contains("GET /nowhere/… (2 more segments, not shown)"),
        "{log}"
    );
    std::fs::write(dir.join("marker"), "scanned").unwrap();
    c.assert_absent(&dir, &[("log", log.as_bytes())]);
}

/// Secrets under names no fixed list knows, in every place real traffic puts them: request
/// headers (only those replay needs are kept), query parameters, JSON fields in any spelling
/// (nested `card.number` too), a form and a multipart body, a response's `session_id` and a
/// reset code in a `Location`. The echo upstream sends every request back in its response, so
/// each canary also has to be scrubbed where it is echoed.
#[test]
fn secrets_under_any_name_and_in_any_place_never_reach_disk() {
    let mut c = Canaries::new();
    let session = c.get("session");
    let set_cookie = c.get("set-cookie");
    let upstream = echo_upstream(set_cookie, session.clone());
    let headers: Vec<(String, String)> = [
        "X-Auth-Key",
        "Ocp-Apim-Subscription-Key",
        "X-API_KEY",
        "Authentication",
        "X-Unknown-Vendor-Header",
    ]
    .iter()
    .map(|h| ((*h).to_owned(), c.get(h)))
    .collect();
    let query: Vec<(&str, String)> = ["token", "api-key", "key", "X-Amz-Signature", "sig"]
        .iter()
        .map(|q| (*q, c.get(q)))
        .collect();
    let json_fields = json!({
        "name": "Ada",
        "cardNumber": c.get("cardNumber"),
        "secretKey": c.get("secretKey"),
        "new_password": c.get("new_password"),
        "token": c.get("json token"),
        "card": {"number": c.get("card.number"), "exp_month": 12},
        "properties": [{"name": "gift", "value": "yes"},
            {"name": "Card Number", "value": c.get("name/value pair")}],
    });
    let form = format!(
        "name=Ada&card%5Bnumber%5D={}&amount=5",
        c.get("card[number]")
    );
    let multipart = format!(
        "--b0undary\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nAda\r\n--b0undary\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\n{}\r\n--b0undary--\r\n",
        c.get("multipart password")
    );
    // A multipart body labelled as JSON (HAR exports and clients mislabel them).
    let mislabelled = format!(
        "--MiXeD\r\nContent-Disposition: form-data; name=\"apiKey\"\r\n\r\n{}\r\n--MiXeD--\r\n",
        c.get("mislabelled multipart apiKey")
    );

    let dir = temp_dir("secrets-any-name");
    let out = dir.join("r.yaml");
    let lines = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = {
        let lines = std::sync::Arc::clone(&lines);
        std::sync::Arc::new(move |e: &record::Event| lines.lock().unwrap().push(e.to_string()))
    };
    let recorder = Recorder::start(RecordConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        on_event: Some(sink),
        ..RecordConfig::new(Api::Chargily, format!("http://{upstream}/api/v2"), &out)
    })
    .unwrap();
    let addr: SocketAddr = recorder
        .url()
        .strip_prefix("http://")
        .unwrap()
        .parse()
        .unwrap();
    /// Path, method, headers, body.
    type Sent<'a> = (String, &'a str, Vec<(&'a str, &'a str)>, Vec<u8>);
    let mut sent: Vec<Sent<'_>> = Vec::new();
    let q: Vec<String> = query.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let all_headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    sent.push((
        format!("/checkouts?{}", q.join("&")),
        "GET",
        all_headers,
        Vec::new(),
    ));
    sent.push((
        "/customers".into(),
        "POST",
        vec![("Content-Type", "application/json")],
        json_body(&json_fields),
    ));
    sent.push((
        "/customers".into(),
        "POST",
        vec![("Content-Type", "application/x-www-form-urlencoded")],
        form.into_bytes(),
    ));
    sent.push((
        "/customers".into(),
        "POST",
        vec![("Content-Type", "multipart/form-data; boundary=b0undary")],
        multipart.into_bytes(),
    ));
    sent.push((
        "/customers".into(),
        "POST",
        vec![("Content-Type", "application/json")],
        mislabelled.into_bytes(),
    ));
    let mut wire = String::new();
    for (path, method, headers, body) in &sent {
        let body = (!body.is_empty()).then_some(body.as_slice());
        let r = support::request(addr, method, path, headers, body);
        assert_eq!(r.status, 200, "{path}");
        wire.push_str(&r.text());
        for (_, v) in &r.headers {
            wire.push_str(v);
        }
    }
    drop(recorder);
    // Every canary was on the wire (the echo returns each request whole).
    for (position, canary) in &c.all {
        if position != "set-cookie" {
            assert!(wire.contains(canary.as_str()), "{position} not on the wire");
        }
    }
    let loaded = recording::load(&out).unwrap();
    assert_eq!(loaded.recording.exchanges.len(), 5);
    let first = &loaded.recording.exchanges[0];
    assert!(
        first.request.headers.is_empty(),
        "unknown request headers are dropped: {:?}",
        first.request.headers
    );
    let location = &first.response.headers["location"];
    assert!(location.contains("code=[redacted]&next=/"), "{location}");
    let log = lines.lock().unwrap().join("\n");
    c.assert_absent(&dir, &[("events", log.as_bytes())]);
}
