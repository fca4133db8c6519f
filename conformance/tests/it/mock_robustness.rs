//! No input crashes the mock: garbage bytes, truncated bodies, huge headers, slow clients,
//! oversized bodies, wrong content types, malformed and mutated JSON, wrong methods. Every
//! test talks to the server over real loopback TCP and checks it still serves afterwards.

use crate::support;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::{Duration, Instant};

use conformance::mock::MockServer;
use serde_json::{Value, json};
use support::{CHARGILY_AUTH, RECHARGE_AUTH, cg, raw, rc, request, server, server_with};

fn still_serves(s: &MockServer) {
    let r = cg(s, "GET", "/balance", None);
    assert_eq!(r.status, 200, "the server stopped serving: {}", r.text());
}

fn status_of(bytes: &[u8]) -> Option<u16> {
    let text = String::from_utf8_lossy(bytes);
    text.split_whitespace().nth(1)?.parse().ok()
}

/// A client that shuts down its sending side after its request (`nc -N`) is answered, every
/// time: hyper's default drops such a request about half the time.
#[test]
fn a_half_closed_request_is_answered() {
    let s = server();
    let request = format!(
        "GET /chargily/test/api/v2/balance HTTP/1.1\r\nHost: x\r\n{}: {}\r\n\r\n",
        CHARGILY_AUTH.0, CHARGILY_AUTH.1
    );
    for round in 0..50 {
        let mut stream = TcpStream::connect(s.addr()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        stream.shutdown(Shutdown::Write).unwrap();
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert_eq!(status_of(&answer), Some(200), "round {round}");
    }
}

#[test]
fn garbage_bytes_get_400_or_a_closed_connection() {
    let s = server();
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..40 {
        let len = (next() % 4096) as usize + 1;
        let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if round % 4 == 0 {
            // Garbage after a plausible request line.
            let mut prefixed = b"POST /chargily/test/api/v2/checkouts HTTP/1.1\r\n".to_vec();
            prefixed.append(&mut bytes);
            bytes = prefixed;
        }
        let answer = raw(s.addr(), &bytes);
        if let Some(status) = status_of(&answer) {
            assert!((400..500).contains(&status), "round {round}: {status}");
        }
    }
    for junk in [
        &b"\r\n\r\n\r\n"[..],
        b"GET\r\n\r\n",
        b"GET / HTTP/9.9\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ] {
        let _ = raw(s.addr(), junk);
    }
    still_serves(&s);
}

#[test]
fn truncated_bodies_time_out_or_fail_without_harm() {
    let s = server();
    // The client promises 200 bytes, sends 20 and waits: 408 after the read timeout.
    let mut stream = TcpStream::connect(s.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let started = Instant::now();
    stream
        .write_all(
            b"POST /chargily/test/api/v2/checkouts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test_sk_conformance\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"amount\": 2000, \"cu",
        )
        .unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    assert_eq!(
        status_of(&answer),
        Some(408),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(text.contains("connection: close"), "{text}");

    // The client sends half the body and closes its side.
    let mut stream = TcpStream::connect(s.addr()).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    stream
        .write_all(
            b"POST /recharge/checkouts HTTP/1.1\r\nHost: x\r\nX-Recharge-Access-Token: conformance\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"line_items\"",
        )
        .unwrap();
    stream.shutdown(Shutdown::Write).unwrap();
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    if let Some(status) = status_of(&answer) {
        assert!((400..500).contains(&status));
    }
    // Nothing half-created.
    let list = cg(&s, "GET", "/checkouts", None).json();
    assert_eq!(list["total"], 0);
    still_serves(&s);
}

#[test]
fn huge_headers_get_431() {
    let s = server();
    let big = "x".repeat(200 * 1024);
    let request =
        format!("GET /chargily/test/api/v2/balance HTTP/1.1\r\nHost: x\r\nX-Big: {big}\r\n\r\n");
    let answer = raw(s.addr(), request.as_bytes());
    assert_eq!(
        status_of(&answer),
        Some(431),
        "{}",
        String::from_utf8_lossy(&answer[..answer.len().min(200)])
    );
    let many: String = (0..2000).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let answer = raw(
        s.addr(),
        format!("GET /recharge/checkouts/x HTTP/1.1\r\nHost: x\r\n{many}\r\n").as_bytes(),
    );
    assert!(status_of(&answer).is_none_or(|st| (400..500).contains(&st)));
    still_serves(&s);
}

#[test]
fn slow_clients_are_disconnected_and_others_are_served_meanwhile() {
    let s = server(); // read timeout 500 ms
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr()).unwrap();
            c.write_all(b"GET /chargily/test/api/v2/balance HTTP/1.1\r\nHost: x\r\n")
                .unwrap();
            c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            c
        })
        .collect();
    // Served while the slow clients hold their connections.
    for _ in 0..10 {
        still_serves(&s);
    }
    let started = Instant::now();
    for c in &mut slow {
        let mut buf = Vec::new();
        // The server closes the connection (maybe after a 408) instead of waiting forever.
        let _ = c.read_to_end(&mut buf);
        if let Some(status) = status_of(&buf) {
            assert_eq!(status, 408);
        }
    }
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );

    // A client that trickles its body byte by byte also runs out of time.
    let mut c = TcpStream::connect(s.addr()).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    c.write_all(b"POST /recharge/checkouts HTTP/1.1\r\nHost: x\r\nX-Recharge-Access-Token: conformance\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    for b in b"{\"line_items\": [" {
        if c.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(60));
    }
    let _ = c.read_to_end(&mut answer);
    assert_eq!(
        status_of(&answer),
        Some(408),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    assert!(String::from_utf8_lossy(&answer).contains("\"errors\""));
    still_serves(&s);
}

#[test]
fn oversized_bodies_get_413_in_each_apis_shape() {
    let s = server_with(|c| c.max_body_bytes = 1024);
    let big = format!("{{\"note\": \"{}\"}}", "x".repeat(4096));
    let r = request(
        s.addr(),
        "POST",
        "/chargily/test/api/v2/checkouts",
        &[CHARGILY_AUTH, ("Content-Type", "application/json")],
        Some(big.as_bytes()),
    );
    assert_eq!(r.status, 413);
    assert_eq!(
        r.json(),
        json!({"message": "The request body is larger than 1024 bytes."})
    );
    let r = request(
        s.addr(),
        "POST",
        "/recharge/checkouts",
        &[RECHARGE_AUTH, ("Content-Type", "application/json")],
        Some(big.as_bytes()),
    );
    assert_eq!(r.status, 413);
    assert_eq!(
        r.json(),
        json!({"errors": "The request body is larger than 1024 bytes."})
    );
    // Chunked, so the size is only known while reading.
    let mut chunked = b"POST /recharge/checkouts HTTP/1.1\r\nHost: x\r\nX-Recharge-Access-Token: conformance\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n".to_vec();
    for _ in 0..8 {
        chunked.extend_from_slice(format!("200\r\n{}\r\n", "y".repeat(512)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let answer = raw(s.addr(), &chunked);
    assert_eq!(
        status_of(&answer),
        Some(413),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    still_serves(&s);
}

#[test]
fn content_types_json_syntax_methods_and_routes() {
    let s = server();
    let body = br#"{"amount": 2000, "currency": "dzd", "success_url": "https://a.test"}"#;
    let path = "/chargily/test/api/v2/checkouts";
    for ct in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let mut headers = vec![CHARGILY_AUTH];
        if let Some(ct) = ct {
            headers.push(("Content-Type", ct));
        }
        let r = request(s.addr(), "POST", path, &headers, Some(body));
        assert_eq!(r.status, 415, "{ct:?}");
        assert!(r.json()["message"].is_string());
    }
    let ok = request(
        s.addr(),
        "POST",
        path,
        &[
            CHARGILY_AUTH,
            ("Content-Type", "application/json; charset=utf-8"),
        ],
        Some(body),
    );
    assert_eq!(ok.status, 200);

    for bad in [
        &b"{"[..],
        b"{\"amount\": }",
        b"\xff\xfe",
        b"nul",
        b"{\"a\":1}}",
    ] {
        let r = request(
            s.addr(),
            "POST",
            path,
            &[CHARGILY_AUTH, ("Content-Type", "application/json")],
            Some(bad),
        );
        assert_eq!(r.status, 400, "{}", String::from_utf8_lossy(bad));
        assert!(
            r.json()["message"]
                .as_str()
                .unwrap()
                .contains("not valid JSON")
        );
        let r = request(
            s.addr(),
            "POST",
            "/recharge/checkouts",
            &[RECHARGE_AUTH, ("Content-Type", "application/json")],
            Some(bad),
        );
        assert_eq!(r.status, 400);
        assert!(
            r.json()["errors"]
                .as_str()
                .unwrap()
                .starts_with("Malformed JSON")
        );
    }
    // Deep nesting is refused by the parser, not the stack.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let r = request(
        s.addr(),
        "POST",
        path,
        &[CHARGILY_AUTH, ("Content-Type", "application/json")],
        Some(deep.as_bytes()),
    );
    assert_eq!(r.status, 400);

    let r = request(s.addr(), "DELETE", path, &[CHARGILY_AUTH], None);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST, GET"));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("DELETE method is not supported")
    );
    let r = request(
        s.addr(),
        "DELETE",
        "/recharge/checkouts/abc",
        &[RECHARGE_AUTH],
        None,
    );
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("GET, PUT"));
    assert_eq!(r.json(), json!({"errors": "Method Not Allowed"}));
    // Customers take PATCH as an update (the JavaScript SDK's verb): an unknown id is a 404.
    let r = request(
        s.addr(),
        "PATCH",
        "/chargily/test/api/v2/customers/x",
        &[CHARGILY_AUTH, ("Content-Type", "application/json")],
        Some(b"{}"),
    );
    assert_eq!(r.status, 404);
    // Other resources do not.
    let r = request(
        s.addr(),
        "PATCH",
        "/chargily/test/api/v2/products/x",
        &[CHARGILY_AUTH],
        None,
    );
    assert_eq!(r.status, 405);
    assert!(!r.header("allow").unwrap_or_default().contains("PATCH"));

    for p in [
        "/chargily/test/api/v2/nope",
        "/chargily/test/api/v2/checkouts/a/b/c",
        "/chargily/test/api/v2//checkouts",
    ] {
        let r = request(s.addr(), "GET", p, &[CHARGILY_AUTH], None);
        assert_eq!(r.status, 404, "{p}");
        assert!(r.json()["message"].is_string());
    }
    assert_eq!(
        request(s.addr(), "GET", "/recharge/nope", &[RECHARGE_AUTH], None).json(),
        json!({"errors": "Not Found"})
    );
    assert_eq!(request(s.addr(), "GET", "/", &[], None).status, 404);
    assert_eq!(
        request(s.addr(), "GET", "/_mock/health", &[], None).json(),
        json!({"ok": true})
    );
    // Percent-encoded and odd ids are just unknown ids.
    for id in ["%00", "%ff%fe", "..%2f..%2fetc", "a%20b", &"z".repeat(5000)] {
        let r = request(
            s.addr(),
            "GET",
            &format!("/chargily/test/api/v2/checkouts/{id}"),
            &[CHARGILY_AUTH],
            None,
        );
        assert_eq!(r.status, 404, "{id}");
        let r = request(
            s.addr(),
            "GET",
            &format!("/recharge/checkouts/{id}"),
            &[RECHARGE_AUTH],
            None,
        );
        assert_eq!(r.status, 404, "{id}");
    }
    // A trailing slash is the same route.
    assert_eq!(
        request(
            s.addr(),
            "GET",
            "/chargily/test/api/v2/checkouts/",
            &[CHARGILY_AUTH],
            None
        )
        .status,
        200
    );
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

/// Valid bodies, mutated (truncated, bytes flipped, types swapped, keys removed): the mock
/// answers every one with a 2xx/4xx JSON body that still matches the spec.
#[test]
fn mutated_bodies_never_crash_and_answers_stay_valid() {
    let s = server_with(|c| {
        c.recharge_rate_limit = false;
        c.charge_delay = Duration::ZERO;
    });
    let product = cg(&s, "POST", "/products", Some(&json!({"name": "P"}))).json();
    let price = cg(
        &s,
        "POST",
        "/prices",
        Some(&json!({"amount": 100, "currency": "dzd", "product_id": product["id"]})),
    )
    .json();
    let token = rc(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"line_items": [{"variant_id": 1, "quantity": 1}]})),
    )
    .json()["checkout"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let cases: Vec<(&str, String, Value)> = vec![
        (
            "cg",
            "/checkouts".into(),
            json!({"items": [{"price": price["id"], "quantity": 2}], "success_url": "https://a.test", "metadata": {"a": [1, {"b": null}]}, "percentage_discount": 5, "locale": "fr"}),
        ),
        (
            "cg",
            "/customers".into(),
            json!({"name": "A", "address": {"country": "dz", "state": "s", "address": "a"}, "metadata": []}),
        ),
        (
            "cg",
            "/payment-links".into(),
            json!({"name": "L", "items": [{"price": price["id"], "quantity": 1, "adjustable_quantity": true}], "collect_shipping_address": 1}),
        ),
        (
            "cg",
            "/prices".into(),
            json!({"amount": 5, "currency": "dzd", "product_id": product["id"]}),
        ),
        (
            "rc",
            "/checkouts".into(),
            json!({"checkout": {"line_items": [{"variant_id": 1, "quantity": 2, "price": "1.50", "properties": [{"name": "a", "value": "b"}]}], "billing_address": {"city": "X"}}}),
        ),
        (
            "rc",
            format!("/checkouts/{token}"),
            json!({"shipping_address": {"country": "US"}, "note_attributes": [{"name": "n", "value": "v"}]}),
        ),
        (
            "rc",
            format!("/checkouts/{token}/charge"),
            json!({"checkout_charge": {"payment_processor": "braintree", "payment_token": "tok_chargeDeclined"}}),
        ),
    ];
    let mut seed = 0x9e37_79b9_u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize
    };
    let replacements = [
        json!(null),
        json!(-1),
        json!(""),
        json!([]),
        json!({}),
        json!(1e308),
        json!("\u{0}\u{ffff}"),
        json!(i64::MIN),
    ];
    for (api, path, valid) in &cases {
        let text = serde_json::to_string(valid).unwrap();
        for round in 0..30 {
            let body: Vec<u8> = match round % 3 {
                0 => text.as_bytes()[..next() % text.len()].to_vec(),
                1 => {
                    let mut b = text.clone().into_bytes();
                    let i = next() % b.len();
                    b[i] = (next() % 256) as u8;
                    b
                }
                _ => {
                    let mut v = valid.clone();
                    mutate(&mut v, &mut next, &replacements);
                    serde_json::to_vec(&v).unwrap()
                }
            };
            let (full, method, auth) = match *api {
                "cg" => (
                    format!("/chargily/test/api/v2{path}"),
                    "POST",
                    CHARGILY_AUTH,
                ),
                _ if path.ends_with(&token) => (format!("/recharge{path}"), "PUT", RECHARGE_AUTH),
                _ => (format!("/recharge{path}"), "POST", RECHARGE_AUTH),
            };
            let r = request(
                s.addr(),
                method,
                &full,
                &[auth, ("Content-Type", "application/json")],
                Some(&body),
            );
            assert!(
                matches!(r.status, 200 | 400 | 404 | 409 | 415 | 422),
                "{full} {}: {} for {}",
                r.status,
                r.text(),
                String::from_utf8_lossy(&body)
            );
            let _ = r.json();
        }
    }
    let violations = s.self_check_violations();
    assert!(violations.is_empty(), "{violations:#?}");
    still_serves(&s);
}

/// Replaces one value somewhere in `v`, or drops one key.
fn mutate(v: &mut Value, next: &mut impl FnMut() -> usize, replacements: &[Value]) {
    match v {
        Value::Object(map) if !map.is_empty() => {
            let keys: Vec<String> = map.keys().cloned().collect();
            let k = &keys[next() % keys.len()];
            match next() % 3 {
                0 => {
                    map.remove(k);
                }
                1 => mutate(map.get_mut(k).unwrap(), next, replacements),
                _ => {
                    map.insert(k.clone(), replacements[next() % replacements.len()].clone());
                }
            }
        }
        Value::Array(items) if !items.is_empty() => {
            let i = next() % items.len();
            mutate(&mut items[i], next, replacements);
        }
        other => *other = replacements[next() % replacements.len()].clone(),
    }
}

/// Amounts whose fees overflow 64-bit arithmetic are refused with the API's 422, never wrapped
/// into negative fees (release) or an overflow panic (debug).
#[test]
fn amounts_whose_fees_overflow_are_refused_with_422() {
    let s = server();
    for amount in [370_000_000_000_000_000_i64, i64::MAX] {
        let r = cg(
            &s,
            "POST",
            "/checkouts",
            Some(
                &json!({"amount": amount, "currency": "dzd", "success_url": "https://shop.test/ok"}),
            ),
        );
        assert_eq!(r.status, 422, "{amount}: {}", r.text());
        assert_eq!(
            r.json()["errors"]["amount"][0],
            "The checkout amount is too large.",
            "{amount}"
        );
    }
    // The largest amount whose fees fit is still served, with non-negative fees.
    let fits = (i64::MAX - 500) / 25;
    let r = cg(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"amount": fits, "currency": "dzd", "success_url": "https://shop.test/ok"})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["fees"].as_i64().unwrap() >= 0);
    still_serves(&s);
}

/// The fixed clock moves forward only, and within its bound: a huge advance is refused and time
/// never wraps round to the past.
#[test]
fn the_clock_never_wraps_to_negative_time() {
    let s = server_with(|c| c.clock = conformance::mock::ClockMode::Fixed);
    let now = |s: &MockServer| {
        support::control(s, "POST", "/clock/advance", Some(&json!({"seconds": 0}))).json()["now"]
            .as_i64()
            .unwrap()
    };
    let start = now(&s);
    for body in [
        json!({"seconds": i64::MAX}),
        json!({"seconds": u64::MAX}),
        json!({"seconds": -1}),
        json!({"seconds": 1.5}),
        json!({}),
    ] {
        let r = support::control(&s, "POST", "/clock/advance", Some(&body));
        assert_eq!(r.status, 422, "{body}: {}", r.text());
    }
    assert_eq!(now(&s), start);
    let year = 366 * 24 * 3600;
    for _ in 0..1000 {
        assert_eq!(
            support::control(
                &s,
                "POST",
                "/clock/advance",
                Some(&json!({"seconds": year}))
            )
            .status,
            200
        );
    }
    let r = support::control(
        &s,
        "POST",
        "/clock/advance",
        Some(&json!({"seconds": year})),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(now(&s) > start);
    still_serves(&s);
}

/// A long-lived mock stays bounded: past `store_limit` objects of a kind, creating one more
/// evicts the oldest, which then answers 404 and leaves the list; the newest stay whole.
#[test]
fn a_full_store_evicts_its_oldest_objects() {
    let s = server_with(|c| c.store_limit = 2);
    let body =
        json!({"amount": 2000, "currency": "dzd", "success_url": "https://shop.example.test/ok"});
    let ids: Vec<String> = (0..3)
        .map(|_| {
            let r = cg(&s, "POST", "/checkouts", Some(&body));
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        cg(&s, "GET", &format!("/checkouts/{}", ids[0]), None).status,
        404
    );
    for id in &ids[1..] {
        let r = cg(&s, "GET", &format!("/checkouts/{id}"), None);
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.json()["id"], json!(id));
    }
    let listed: Vec<Value> = cg(&s, "GET", "/checkouts", None).json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(!listed.contains(&json!(ids[0])));

    let body = json!({"line_items": [{"variant_id": 3844924611_u64, "quantity": 1, "price": "12.50"}], "email": "a@example.test"});
    let tokens: Vec<String> = (0..3)
        .map(|_| {
            let r = rc(&s, "POST", "/checkouts", Some(&body));
            assert_eq!(r.status, 200, "{}", r.text());
            r.json()["checkout"]["token"].as_str().unwrap().to_owned()
        })
        .collect();
    let r = rc(&s, "GET", &format!("/checkouts/{}", tokens[0]), None);
    assert_eq!(r.status, 404, "{}", r.text());
    for token in &tokens[1..] {
        assert_eq!(
            rc(&s, "GET", &format!("/checkouts/{token}"), None).status,
            200
        );
    }
    still_serves(&s);
}
