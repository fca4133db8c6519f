//! Round trips (issue #6): a scenario is sent through the recording proxy to a mock; the
//! recording replays against a fresh mock (other seed: every id differs, so rebinding is
//! exercised) with zero violations and the same normalized responses as the traffic the client
//! actually saw; and a HAR file written from that same traffic imports into the same exchanges
//! and replays the same way.
//!
//! "The traffic normalized the same way" is obtained by replaying the recording against a
//! playback server that answers each request with the response the client saw through the
//! proxy (the upstream's origin rewritten to the playback's, so URLs under the base normalize
//! to `{base}` alike): replay's own checks and normalization then run on the recorded traffic.

use crate::support;
use crate::support::{Answer, Received, serve_http, temp_dir};

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use conformance::mock::{MockConfig, MockServer};
use conformance::record::{self, ApiSpec, Event, RecordConfig, Recorder};
use conformance::recording::{self, Auth, Exchange, Loaded};
use conformance::replay::{self, ApiContext, Options, RunReport, Target};
use conformance::specs::Api;
use serde_json::{Value, json};

/// One request as the client sent it through the proxy, and the response it got.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    /// Relative to the API's base URL, query included.
    target: String,
    request_headers: Vec<(String, String)>,
    request_body: Vec<u8>,
    status: u16,
    response_headers: Vec<(String, String)>,
    response_body: Vec<u8>,
}

/// A client of the proxy that remembers what it saw.
struct Session<'a> {
    proxy: &'a Recorder,
    auth: (&'static str, &'static str),
    seen: Vec<Seen>,
}

impl Session<'_> {
    fn send(&mut self, method: &str, target: &str, body: Option<Value>) -> support::Resp {
        let bytes = body.map(|b| serde_json::to_vec(&b).unwrap());
        self.send_raw(method, target, bytes)
    }

    fn send_raw(&mut self, method: &str, target: &str, body: Option<Vec<u8>>) -> support::Resp {
        let mut headers = vec![self.auth];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        let resp = support::request(self.proxy.addr(), method, target, &headers, body.as_deref());
        self.seen.push(Seen {
            method: method.into(),
            target: target.into(),
            request_headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            request_body: body.unwrap_or_default(),
            status: resp.status,
            response_headers: resp.headers.clone(),
            response_body: resp.body.clone(),
        });
        resp
    }
}

fn events() -> (record::EventSink, Arc<Mutex<Vec<Event>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    (
        Arc::new(move |e: &Event| sink.lock().unwrap().push(e.clone())),
        log,
    )
}

/// Chargily: product, price, checkout from items, retrieve, list, a 404, a 422 (its body
/// fails the schema: reported, not flagged), and a path of no operation (flagged).
fn chargily_scenario(s: &mut Session<'_>) {
    let product = s.send(
        "POST",
        "/products",
        Some(json!({"name": "Tapis berbère", "description": "Hand-woven rug"})),
    );
    assert_eq!(product.status, 200, "{}", product.text());
    let product_id = product.json()["id"].as_str().unwrap().to_owned();
    let price = s.send(
        "POST",
        "/prices",
        Some(json!({"amount": 1500, "currency": "dzd", "product_id": product_id})),
    );
    assert_eq!(price.status, 200, "{}", price.text());
    let price_id = price.json()["id"].as_str().unwrap().to_owned();
    let checkout = s.send(
        "POST",
        "/checkouts",
        Some(json!({
            "items": [{"price": price_id, "quantity": 2}],
            "success_url": "https://merchant.example/payments/success",
            "failure_url": "https://merchant.example/payments/failure",
            "locale": "fr"
        })),
    );
    assert_eq!(checkout.status, 200, "{}", checkout.text());
    let checkout_id = checkout.json()["id"].as_str().unwrap().to_owned();
    let got = s.send("GET", &format!("/checkouts/{checkout_id}"), None);
    assert_eq!(got.status, 200);
    let list = s.send("GET", "/checkouts?per_page=5&page=1", None);
    assert_eq!(list.status, 200, "{}", list.text());
    let missing = s.send("GET", "/checkouts/01hzzzzzzzzzzzzzzzzzzzzzzz", None);
    assert_eq!(missing.status, 404);
    let invalid = s.send(
        "POST",
        "/checkouts",
        Some(json!({"amount": "a lot", "currency": "dzd"})),
    );
    assert_eq!(invalid.status, 422, "{}", invalid.text());
    let nowhere = s.send("GET", "/no-such-endpoint", None);
    assert_eq!(nowhere.status, 404);
}

/// ReCharge: create with a US address, shipping rates, a charge with Stripe's test token, and
/// the same charge again (422: already processed).
fn recharge_scenario(s: &mut Session<'_>) {
    let created = s.send(
        "POST",
        "/checkouts",
        Some(json!({
            "line_items": [{"variant_id": 31_258_201_604_163_u64, "product_id": 4_420_147_003_459_u64,
                "quantity": 1, "price": "24.00", "title": "Coffee subscription",
                "requires_shipping": true}],
            "email": "jane@example.com",
            "shipping_address": {"first_name": "Jane", "last_name": "Doe",
                "address1": "101 Main St", "city": "Portland", "province": "Oregon",
                "zip": "97201", "country": "United States", "phone": "5035550100"}
        })),
    );
    assert_eq!(created.status, 200, "{}", created.text());
    let token = created.json()["checkout"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let rates = s.send("GET", &format!("/checkouts/{token}/shipping_rates"), None);
    assert_eq!(rates.status, 200, "{}", rates.text());
    let charge = json!({"checkout_charge": {"payment_processor": "stripe",
        "payment_token": "tok_visa", "payment_type": "CREDIT_CARD"}});
    let first = s.send(
        "POST",
        &format!("/checkouts/{token}/charge"),
        Some(charge.clone()),
    );
    assert_eq!(first.status, 200, "{}", first.text());
    let second = s.send("POST", &format!("/checkouts/{token}/charge"), Some(charge));
    assert_eq!(second.status, 422, "{}", second.text());
}

/// A server that answers the n-th request with the n-th canned response and remembers the
/// requests. Keep-alive, like the replay client expects.
struct Playback {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Received>>>,
}

impl Playback {
    /// Binds, then asks `responses` for the canned responses given the playback's origin.
    fn start(responses: impl FnOnce(&str) -> Vec<Answer>) -> Self {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&requests);
        let queue: Arc<Mutex<VecDeque<Answer>>> = Arc::default();
        let canned = Arc::clone(&queue);
        let addr = serve_http(move |request| {
            log.lock().unwrap().push(request);
            let (status, headers, body) = canned.lock().unwrap().pop_front().unwrap_or((
                599,
                Vec::new(),
                b"playback: no more responses".to_vec(),
            ));
            // Framing is the server's own.
            let headers = headers
                .into_iter()
                .filter(|(k, _)| {
                    !["content-length", "transfer-encoding", "connection", "date"]
                        .contains(&k.to_ascii_lowercase().as_str())
                })
                .collect();
            (status, headers, body)
        });
        queue
            .lock()
            .unwrap()
            .extend(responses(&format!("http://{addr}")));
        Self { addr, requests }
    }
}

fn replay_one(loaded: Loaded, target: Option<Target>) -> RunReport {
    let api = loaded.api();
    let mut options = Options {
        jobs: 1,
        // Beyond the spec: every normalized body must equal the recorded one.
        compare_bodies: true,
        ..Options::default()
    };
    if let Some(t) = target {
        options.targets.insert(api, t);
    }
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(replay::run(vec![loaded], &options))
}

/// Replays `loaded` against the playback of what the client saw (the exchanges the recording
/// does not flag), and checks the playback received the recorded requests.
fn replay_seen(loaded: &Loaded, seen: &[Seen], upstream_origin: &str, prefix: &str) -> RunReport {
    let kept: Vec<&Seen> = seen
        .iter()
        .zip(&loaded.recording.exchanges)
        .filter(|(_, ex)| ex.flagged.is_none())
        .map(|(s, _)| s)
        .collect();
    // The playback's origin replaces the upstream's, so URLs the upstream built under its
    // base URL normalize to `{base}` exactly as the live ones do.
    let playback = Playback::start(|origin| {
        kept.iter()
            .map(|s| {
                let rewrite = |t: &str| t.replace(upstream_origin, origin);
                (
                    s.status,
                    s.response_headers
                        .iter()
                        .map(|(k, v)| (k.clone(), rewrite(v)))
                        .collect(),
                    rewrite(&String::from_utf8_lossy(&s.response_body)).into_bytes(),
                )
            })
            .collect()
    });
    let report = replay_one(
        loaded.clone(),
        Some(Target::Url {
            base: format!("http://{}{prefix}", playback.addr),
            control: None,
        }),
    );
    let received = playback.requests.lock().unwrap().clone();
    assert_eq!(received.len(), kept.len(), "{received:?}");
    for (
        Received {
            method,
            path: target,
            body,
            ..
        },
        s,
    ) in received.iter().zip(&kept)
    {
        assert_eq!(method, &s.method);
        assert_eq!(target, &format!("{prefix}{}", s.target));
        let sent: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        let seen: Value = serde_json::from_slice(&s.request_body).unwrap_or(Value::Null);
        assert_eq!(
            sent, seen,
            "{method} {target}: the recording holds the request as sent"
        );
    }
    report
}

/// What recording one scenario produced.
struct Captured {
    loaded: Loaded,
    seen: Vec<Seen>,
    events: Vec<Event>,
    /// The upstream's origin and the API's prefix on it.
    origin: String,
    prefix: &'static str,
    /// Holds the recording's file.
    _dir: support::TempDir,
}

fn capture(api: Api, name: &str, scenario: fn(&mut Session<'_>)) -> Captured {
    let dir = temp_dir(name);
    let out = dir.join("scenario.yaml");
    let mock = MockServer::start(MockConfig::for_tests()).unwrap();
    let (prefix, auth) = match api {
        Api::Chargily => ("/chargily/test/api/v2", support::CHARGILY_AUTH),
        Api::Recharge => ("/recharge", support::RECHARGE_AUTH),
    };
    let (sink, log) = events();
    let proxy = Recorder::start(RecordConfig {
        on_event: Some(sink),
        ..RecordConfig::new(api, format!("{}{prefix}", mock.origin()), &out)
    })
    .unwrap();
    let mut session = Session {
        proxy: &proxy,
        auth,
        seen: Vec::new(),
    };
    scenario(&mut session);
    let seen = session.seen;
    // Every exchange is on disk before its response leaves the proxy: no need to stop first.
    let loaded = recording::load(&out).unwrap();
    assert_eq!(loaded.recording, proxy.recording());
    let stats = proxy.stop();
    assert_eq!(stats.recorded, seen.len());
    assert_eq!(stats.write_errors, 0);
    let text = std::fs::read_to_string(&out).unwrap();
    for credential in ["test_sk_conformance", "Bearer", "conformance\n"] {
        assert!(!text.contains(credential), "{credential} in\n{text}");
    }
    let events = log.lock().unwrap().clone();
    Captured {
        loaded,
        seen,
        events,
        origin: mock.origin(),
        prefix,
        _dir: dir,
    }
}

/// Replays against a fresh embedded mock: no violations, the recorded statuses.
fn replay_fresh(loaded: &Loaded) -> RunReport {
    let ctx = ApiContext::new(loaded.api()).unwrap();
    assert_eq!(replay::validate(loaded, &ctx), Vec::new());
    let report = replay_one(loaded.clone(), None);
    let scenario = &report.scenarios[0];
    assert_eq!(scenario.error, None);
    for (ex, recorded) in scenario.exchanges.iter().zip(&loaded.recording.exchanges) {
        assert_eq!(
            ex.violations,
            Vec::new(),
            "#{} {} {}",
            ex.index,
            ex.method,
            ex.path
        );
        match &recorded.flagged {
            Some(_) => assert!(ex.skipped.is_some(), "flagged exchanges are not replayed"),
            None => assert_eq!(ex.status, Some(recorded.response.status)),
        }
    }
    report
}

fn normalized(report: &RunReport) -> Vec<Value> {
    report.scenarios[0]
        .exchanges
        .iter()
        .filter(|e| e.skipped.is_none())
        .map(|e| e.normalized.clone())
        .collect()
}

/// `2024-05-01T10:00:00Z` plus `millis`, written in UTC or at +02:00.
fn timestamp(millis: u64, plus_two: bool) -> String {
    let total = 10 * 3600 * 1000 + millis + if plus_two { 2 * 3600 * 1000 } else { 0 };
    let (h, rest) = (total / 3_600_000, total % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    let zone = if plus_two { "+02:00" } else { "Z" };
    format!("2024-05-01T{h:02}:{m:02}:{s:02}.{ms:03}{zone}")
}

fn pairs(headers: &[(String, String)]) -> Value {
    headers
        .iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect()
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.len();
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let v = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= n {
                out.push(ALPHABET[((v >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A HAR 1.2 file of the traffic the client saw, as a browser would have captured it going to
/// the upstream directly: list responses base64-encoded, plus an unrelated asset and a request
/// that never got a response (both must be dropped), entries written newest first and with
/// mixed time zones (import orders by start time).
fn har_of(c: &Captured) -> Value {
    let base = format!("{}{}", c.origin, c.prefix);
    let mut entries = Vec::new();
    for (i, s) in c.seen.iter().enumerate() {
        let at = i as u64 * 1500;
        let content_type = s
            .response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map_or("", |(_, v)| v.as_str());
        let content = if s.target.contains('?') || s.target.ends_with("/shipping_rates") {
            json!({"size": s.response_body.len(), "mimeType": content_type,
                   "text": base64(&s.response_body), "encoding": "base64"})
        } else {
            json!({"size": s.response_body.len(), "mimeType": content_type,
                   "text": String::from_utf8_lossy(&s.response_body)})
        };
        let mut request = json!({
            "method": s.method, "url": format!("{base}{}", s.target), "httpVersion": "HTTP/1.1",
            "headers": pairs(&s.request_headers), "queryString": [], "cookies": [],
            "headersSize": -1, "bodySize": s.request_body.len()
        });
        if !s.request_body.is_empty() {
            request["postData"] = json!({"mimeType": "application/json",
                "text": String::from_utf8_lossy(&s.request_body)});
        }
        entries.push(json!({
            "startedDateTime": timestamp(at, i % 2 == 1),
            "time": 12.5,
            "request": request,
            "response": {"status": s.status, "statusText": "", "httpVersion": "HTTP/1.1",
                "headers": pairs(&s.response_headers), "cookies": [], "content": content,
                "redirectURL": "", "headersSize": -1, "bodySize": s.response_body.len()},
            "cache": {},
            "timings": {"send": 0, "wait": 12, "receive": 0.5},
            "_initiator": {"type": "script"}
        }));
    }
    entries.push(json!({
        "startedDateTime": timestamp(700, false),
        "time": 3,
        "request": {"method": "GET", "url": "https://fonts.example.com/css2?family=Inter",
            "httpVersion": "HTTP/2", "headers": [{"name": ":authority", "value": "fonts.example.com"}],
            "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0},
        "response": {"status": 200, "statusText": "OK", "httpVersion": "HTTP/2", "headers": [],
            "cookies": [], "content": {"size": 20, "mimeType": "text/css",
            "text": "@font-face { x: y }"}, "redirectURL": "", "headersSize": -1, "bodySize": 20},
        "cache": {}, "timings": {"send": 0, "wait": 3, "receive": 0}
    }));
    entries.push(json!({
        "startedDateTime": timestamp(2200, true),
        "time": 0,
        "request": {"method": "GET", "url": format!("{base}/checkouts/never-answered"),
            "httpVersion": "HTTP/1.1", "headers": [], "queryString": [], "cookies": [],
            "headersSize": -1, "bodySize": 0},
        "response": {"status": 0, "statusText": "", "httpVersion": "", "headers": [],
            "cookies": [], "content": {"size": 0, "mimeType": "x-unknown"}, "redirectURL": "",
            "headersSize": -1, "bodySize": -1, "_error": "net::ERR_CONNECTION_RESET"},
        "cache": {}, "timings": {"send": 0, "wait": 0, "receive": 0}
    }));
    entries.reverse();
    json!({"log": {"version": "1.2", "creator": {"name": "record_roundtrip", "version": "1"},
        "pages": [], "entries": entries}})
}

/// The HAR round trip: import, compare with the proxy's recording, replay.
fn har_round_trip(c: &Captured, name: &str, played: &[Value]) {
    let dir = temp_dir(name);
    let har_path = dir.join("traffic.har");
    std::fs::write(&har_path, serde_json::to_vec_pretty(&har_of(c)).unwrap()).unwrap();
    let spec = ApiSpec::new(c.loaded.api()).unwrap();
    let imported = record::har::import_file(&har_path, &spec, None).unwrap();
    let flagged = c
        .loaded
        .recording
        .exchanges
        .iter()
        .filter(|e| e.flagged.is_some())
        .count();
    assert_eq!(imported.dropped.outside_api, 1 + flagged);
    assert_eq!(imported.dropped.no_response, 1);
    assert_eq!(imported.dropped.unrecordable, 0);
    let out = dir.join("imported.yaml");
    recording::write_atomic(&out, &imported.recording).unwrap();
    let loaded = recording::load(&out).unwrap();
    // The same exchanges as the proxy recorded (what it flagged, import drops).
    let proxied: Vec<&Exchange> = c
        .loaded
        .recording
        .exchanges
        .iter()
        .filter(|e| e.flagged.is_none())
        .collect();
    let from_har: Vec<&Exchange> = loaded.recording.exchanges.iter().collect();
    assert_eq!(from_har, proxied);
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(!text.contains("test_sk_conformance"), "{text}");
    let fresh = replay_fresh(&loaded);
    assert_eq!(normalized(&fresh), played);
}

#[test]
fn chargily_round_trip_through_the_proxy_and_har() {
    let c = capture(Api::Chargily, "rt-chargily", chargily_scenario);
    let ex = &c.loaded.recording.exchanges;
    let operations: Vec<Option<&str>> = ex.iter().map(|e| e.operation.as_deref()).collect();
    assert_eq!(
        operations,
        [
            Some("createProduct"),
            Some("createPrice"),
            Some("createCheckout"),
            Some("retrieveCheckout"),
            Some("listCheckouts"),
            Some("retrieveCheckout"),
            Some("createCheckout"),
            None
        ]
    );
    assert!(ex.iter().take(7).all(|e| e.flagged.is_none()));
    assert!(
        ex[7]
            .flagged
            .as_deref()
            .unwrap()
            .contains("matches no operation")
    );
    assert!(ex.iter().all(|e| e.request.auth == Auth::Inject));
    assert_eq!(ex[4].request.query.as_deref(), Some("per_page=5&page=1"));
    // The 422's body fails the schema: recorded (replay needs it), and reported.
    let invalid: Vec<(usize, &str)> = c
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Recorded {
                index,
                invalid_body: Some(why),
                ..
            } => Some((*index, why.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(invalid.len(), 1, "{invalid:?}");
    assert_eq!(invalid[0].0, 6);
    assert!(invalid[0].1.contains("/amount"), "{}", invalid[0].1);

    let fresh = replay_fresh(&c.loaded);
    let played = replay_seen(&c.loaded, &c.seen, &c.origin, c.prefix);
    for e in &played.scenarios[0].exchanges {
        assert_eq!(e.violations, Vec::new(), "the recorded traffic conforms");
    }
    let played = normalized(&played);
    assert_eq!(played.len(), 7);
    assert_eq!(normalized(&fresh), played);
    // The list response normalizes its pagination URLs to the base in both.
    assert!(
        played[4].to_string().contains("{base}/checkouts"),
        "{}",
        played[4]
    );

    har_round_trip(&c, "rt-chargily-har", &played);
}

#[test]
fn recharge_round_trip_through_the_proxy_and_har() {
    let c = capture(Api::Recharge, "rt-recharge", recharge_scenario);
    let ex = &c.loaded.recording.exchanges;
    let operations: Vec<&str> = ex.iter().filter_map(|e| e.operation.as_deref()).collect();
    assert_eq!(
        operations,
        [
            "createCheckout",
            "retrieveCheckoutShippingRates",
            "chargeCheckout",
            "chargeCheckout"
        ]
    );
    // Stripe's test token is not a secret and is kept, so the replayed charge takes the
    // recorded path.
    assert_eq!(
        ex[2].request.body.json.as_ref().unwrap()["checkout_charge"]["payment_token"],
        "tok_visa"
    );
    assert_eq!(ex[3].response.status, 422);

    let fresh = replay_fresh(&c.loaded);
    let played = replay_seen(&c.loaded, &c.seen, &c.origin, c.prefix);
    let played = normalized(&played);
    assert_eq!(played.len(), 4);
    assert_eq!(normalized(&fresh), played);

    har_round_trip(&c, "rt-recharge-har", &played);
}

#[test]
fn a_redacted_payment_token_replays_as_a_successful_charge() {
    // A real (single-use) token is redacted; `[redacted]` is an ordinary reusable token to a
    // Stripe-convention implementation, so the replayed charge succeeds as recorded, and the
    // echoed token matches the recorded (redacted) one.
    fn scenario(s: &mut Session<'_>) {
        let created = s.send(
            "POST",
            "/checkouts",
            Some(
                json!({"line_items": [{"variant_id": 1, "quantity": 1, "price": "5.00",
                "title": "Mug"}]}),
            ),
        );
        assert_eq!(created.status, 200, "{}", created.text());
        let token = created.json()["checkout"]["token"]
            .as_str()
            .unwrap()
            .to_owned();
        let charged = s.send(
            "POST",
            &format!("/checkouts/{token}/charge"),
            Some(json!({"payment_processor": "stripe",
                "payment_token": "tok_1PqRealLooking42Token"})),
        );
        assert_eq!(charged.status, 200, "{}", charged.text());
    }
    let c = capture(Api::Recharge, "rt-redacted-token", scenario);
    let charge = &c.loaded.recording.exchanges[1];
    assert_eq!(
        charge.request.body.json.as_ref().unwrap()["payment_token"],
        record::REDACTED
    );
    assert_eq!(
        charge.response.body.json.as_ref().unwrap()["checkout_charge"]["payment_token"],
        record::REDACTED
    );
    let text = std::fs::read_to_string(&c.loaded.file).unwrap();
    assert!(!text.contains("tok_1PqRealLooking42Token"), "{text}");
    let fresh = replay_fresh(&c.loaded);
    let live = &fresh.scenarios[0].exchanges[1];
    assert_eq!(live.status, Some(200));
}
