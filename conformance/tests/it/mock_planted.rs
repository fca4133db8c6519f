//! Planted bugs (`MockConfig::planted`, `conformance mock --plant-bug`): each kind changes the
//! response over real HTTP exactly as its `X-Mock-Planted` header announces, the spec checker
//! (`oas::check`, strict profile) reports a finding at the announced place, and a bug-free
//! mock sends no such header.
//!
//! Each case runs the same requests against a planted mock and a bug-free twin with the same
//! seed and fixed clock, so the two responses differ only by the planted change.

use crate::support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use conformance::mock::{MockServer, PlantedBug, UNDECLARED_PROPERTY};
use conformance::specs::Api;
use oas::check::{Profile, ResponseFinding, ResponseParts, ResponseRule, Spec};
use serde_json::{Value, json};
use support::{CHARGILY_AUTH, RECHARGE_AUTH, Resp, control, request, server, server_with};

const RECHARGE_CREATE: &str =
    r#"{"line_items":[{"variant_id":3844924611,"quantity":2,"price":"12.50"}],"email":"a@b.test"}"#;

fn planted(bug: PlantedBug) -> MockServer {
    server_with(|c| c.planted = Some(bug))
}

/// One exchange every case runs: api, operationId, and how to send it (given the id of the
/// checkout created earlier in the same API).
type Step = (Api, &'static str, fn(&MockServer, &str) -> Resp);

/// One request with a fixed `Host`, so that URLs built from it are the same on both mocks.
fn send(s: &MockServer, method: &str, path: &str, body: Option<&Value>) -> Resp {
    let auth = if path.starts_with("/recharge") {
        RECHARGE_AUTH
    } else {
        CHARGILY_AUTH
    };
    let bytes = body.map(|b| serde_json::to_vec(b).unwrap());
    let mut headers = vec![auth, ("Host", "mock.test")];
    if bytes.is_some() {
        headers.push(("Content-Type", "application/json"));
    }
    request(s.addr(), method, path, &headers, bytes.as_deref())
}

fn chargily_create(s: &MockServer, _: &str) -> Resp {
    let body = json!({"amount": 2000, "currency": "dzd", "success_url": "https://a.test/ok"});
    send(s, "POST", "/chargily/test/api/v2/checkouts", Some(&body))
}

fn chargily_get(s: &MockServer, id: &str) -> Resp {
    send(
        s,
        "GET",
        &format!("/chargily/test/api/v2/checkouts/{id}"),
        None,
    )
}

fn chargily_list(s: &MockServer, _: &str) -> Resp {
    send(s, "GET", "/chargily/test/api/v2/checkouts", None)
}

fn recharge_create(s: &MockServer, _: &str) -> Resp {
    let body: Value = serde_json::from_str(RECHARGE_CREATE).unwrap();
    send(s, "POST", "/recharge/checkouts", Some(&body))
}

fn recharge_get(s: &MockServer, token: &str) -> Resp {
    send(s, "GET", &format!("/recharge/checkouts/{token}"), None)
}

fn steps() -> [Step; 5] {
    [
        (Api::Chargily, "createCheckout", chargily_create),
        (Api::Chargily, "retrieveCheckout", chargily_get),
        (Api::Chargily, "listCheckouts", chargily_list),
        (Api::Recharge, "createCheckout", recharge_create),
        (Api::Recharge, "retrieveCheckout", recharge_get),
    ]
}

/// The pair of responses of each step: (step, bug-free, planted). Ids for the GETs come from
/// the bug-free twin (ids are seeded, so both mocks allocate the same ones).
fn run(bug: PlantedBug) -> Vec<(Step, Resp, Resp)> {
    let clean = server();
    let broken = planted(bug);
    let mut out = Vec::new();
    let (mut chargily_id, mut recharge_token) = (String::new(), String::new());
    for step in steps() {
        let key = match step.0 {
            Api::Chargily => chargily_id.clone(),
            Api::Recharge => recharge_token.clone(),
        };
        let a = (step.2)(&clean, &key);
        let b = (step.2)(&broken, &key);
        if step.1 == "createCheckout" {
            match step.0 {
                Api::Chargily => chargily_id = a.json()["id"].as_str().unwrap().to_owned(),
                Api::Recharge => {
                    recharge_token = a.json()["checkout"]["token"].as_str().unwrap().to_owned();
                }
            }
        }
        out.push((step, a, b));
    }
    assert!(clean.self_check_violations().is_empty());
    // Planted bugs come after the self-check: they are not the mock's violations.
    assert!(
        broken.self_check_violations().is_empty(),
        "{:?}",
        broken.self_check_violations()
    );
    out
}

fn spec(api: Api) -> Spec {
    Spec::new(api.document().unwrap().root)
}

fn findings(spec: &Spec, op: &str, r: &Resp) -> Vec<ResponseFinding> {
    let index = spec.operation(op).unwrap();
    spec.check_response(
        index,
        ResponseParts {
            status: r.status,
            headers: &r.headers,
            body: &r.body,
        },
        Profile::Strict,
    )
}

/// `(kind, target)` of the `X-Mock-Planted` header.
fn announced(r: &Resp) -> Option<(String, String)> {
    let v = r.header("x-mock-planted")?;
    let (kind, target) = v.split_once(' ').unwrap_or((v, ""));
    Some((kind.to_owned(), target.to_owned()))
}

/// The parent pointer and the last token of a JSON pointer.
fn split(pointer: &str) -> (&str, String) {
    let (parent, last) = pointer.rsplit_once('/').unwrap();
    (parent, oas::pointer::unescape(last))
}

fn remove(body: &mut Value, pointer: &str) -> Option<Value> {
    let (parent, last) = split(pointer);
    body.pointer_mut(parent)?.as_object_mut()?.remove(&last)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Checks one planted response against its bug-free twin; returns the announced target.
fn verify(bug: PlantedBug, step: &Step, clean: &Resp, broken: &Resp) -> Option<String> {
    let what = format!("{bug} on {:?} {}", step.0, step.1);
    assert_eq!(
        announced(clean),
        None,
        "bug-free mock announced a bug: {what}"
    );
    let spec = spec(step.0);
    assert_eq!(
        findings(&spec, step.1, clean),
        [],
        "bug-free response has findings: {what}"
    );
    let Some((kind, target)) = announced(broken) else {
        // Not applicable to this response: it must be left exactly as it was.
        assert_eq!(
            (broken.status, &broken.body),
            (clean.status, &clean.body),
            "{what}: changed without announcing it"
        );
        return None;
    };
    assert_eq!(kind, bug.name(), "{what}");
    let found = findings(&spec, step.1, broken);
    let has = |rule: ResponseRule, pointer: &str, mentions: &str| {
        found.iter().any(|f| {
            f.rule == rule && f.instance_pointer == pointer && f.expected.contains(mentions)
        })
    };
    match bug {
        PlantedBug::WrongType | PlantedBug::NullNotNullable | PlantedBug::EnumOutside => {
            let (mut a, mut b) = (clean.json(), broken.json());
            let before = remove(&mut a, &target).unwrap_or_else(|| panic!("{what}: {target}"));
            let after = remove(&mut b, &target).unwrap();
            assert_eq!(a, b, "{what}: more than {target} changed");
            match bug {
                PlantedBug::WrongType => assert_ne!(json_type(&before), json_type(&after)),
                PlantedBug::NullNotNullable => {
                    assert!(after.is_null() && !before.is_null(), "{what}");
                }
                _ => assert_ne!(before, after, "{what}"),
            }
            assert!(has(ResponseRule::Schema, &target, ""), "{what}: {found:#?}");
        }
        PlantedBug::MissingRequired | PlantedBug::UndeclaredProperty => {
            let (mut a, mut b) = (clean.json(), broken.json());
            let (parent, name) = split(&target);
            if bug == PlantedBug::MissingRequired {
                assert!(remove(&mut a, &target).is_some(), "{what}: {target}");
                assert!(
                    remove(&mut b, &target).is_none(),
                    "{what}: {target} still there"
                );
            } else {
                assert_eq!(name, UNDECLARED_PROPERTY);
                assert!(remove(&mut b, &target).is_some(), "{what}: {target}");
            }
            assert_eq!(a, b, "{what}: more than {target} changed");
            let rule = if bug == PlantedBug::MissingRequired {
                ResponseRule::Schema
            } else {
                ResponseRule::UndeclaredProperty
            };
            // At the property's own pointer; JSON Schema itself names the parent object, which
            // is accepted when the message names the property.
            let quoted = format!("{name:?}");
            let single = format!("'{name}'");
            assert!(
                has(rule, &target, "") || has(rule, parent, &quoted) || has(rule, parent, &single),
                "{what}: {found:#?}"
            );
        }
        PlantedBug::UndocumentedStatus => {
            assert_eq!(target, "status");
            assert_ne!(broken.status, clean.status);
            assert_eq!(broken.body, clean.body);
            assert!(
                has(ResponseRule::UndocumentedStatus, "status", ""),
                "{found:#?}"
            );
        }
        PlantedBug::WrongContentType => {
            assert_eq!(target, "content-type");
            assert_eq!(broken.header("content-type"), Some("text/plain"));
            assert_eq!(broken.body, clean.body);
            assert!(
                has(ResponseRule::ContentType, "header:content-type", ""),
                "{found:#?}"
            );
        }
        PlantedBug::MissingHeader => {
            assert!(clean.header(&target).is_some(), "{what}: {target}");
            assert_eq!(broken.header(&target), None, "{what}");
            assert_eq!(broken.body, clean.body);
            assert!(
                found.iter().any(|f| f.rule == ResponseRule::MissingHeader
                    && f.instance_pointer
                        .eq_ignore_ascii_case(&format!("header:{target}"))),
                "{what}: {found:#?}"
            );
        }
        PlantedBug::MalformedJson => {
            assert_eq!(target, "");
            assert_eq!(broken.header("content-type"), clean.header("content-type"));
            assert!(broken.body.len() < clean.body.len());
            assert!(clean.body.starts_with(&broken.body));
            assert!(serde_json::from_slice::<Value>(&broken.body).is_err());
            assert!(has(ResponseRule::MalformedJson, "", ""), "{found:#?}");
        }
        // Connection-level and sender bugs change no response (tested where they act).
        PlantedBug::CloseConnection
        | PlantedBug::NeverAnswer
        | PlantedBug::WebhookHeaderName
        | PlantedBug::WebhookWrongSecret
        | PlantedBug::WebhookMissing
        | PlantedBug::WebhookInvalidPayload
        | PlantedBug::WebhookNoRetry
        | PlantedBug::WebhookNoBackoff => unreachable!(),
    }
    Some(target)
}

/// Every response-level kind, on every step: applied where it can be, announced exactly.
/// The announced targets are pinned, so a change in what the mock plants is noticed.
#[test]
fn each_response_bug_changes_exactly_what_it_announces() {
    let expected: &[(PlantedBug, [Option<&str>; 5])] = &[
        // createCheckout, retrieveCheckout, listCheckouts (Chargily); createCheckout, retrieveCheckout
        // (ReCharge).
        (
            PlantedBug::WrongType,
            [
                Some("/id"),
                Some("/id"),
                Some("/data/0/id"),
                Some("/checkout/token"),
                Some("/checkout/token"),
            ],
        ),
        (
            PlantedBug::MissingRequired,
            [
                Some("/id"),
                Some("/id"),
                Some("/data/0/id"),
                Some("/checkout/applied_discount"),
                Some("/checkout/applied_discount"),
            ],
        ),
        (
            PlantedBug::UndeclaredProperty,
            [
                Some("/mock_undeclared"),
                Some("/mock_undeclared"),
                Some("/data/0/mock_undeclared"),
                Some("/checkout/mock_undeclared"),
                Some("/checkout/mock_undeclared"),
            ],
        ),
        (
            PlantedBug::NullNotNullable,
            [
                Some("/id"),
                Some("/id"),
                Some("/data/0/id"),
                Some("/checkout/token"),
                Some("/checkout/token"),
            ],
        ),
        (
            PlantedBug::EnumOutside,
            // ReCharge's checkout has no closed enum among its own properties: its enums there
            // (`payment_processor`, `external_checkout_source`) are open lists
            // (`x-extensible-enum`), where any string conforms, so nothing is planted.
            [
                Some("/entity"),
                Some("/entity"),
                Some("/data/0/entity"),
                None,
                None,
            ],
        ),
        (PlantedBug::UndocumentedStatus, [Some("status"); 5]),
        (PlantedBug::WrongContentType, [Some("content-type"); 5]),
        (
            PlantedBug::MissingHeader,
            [
                None,
                None,
                None,
                Some("x-recharge-limit"),
                Some("x-recharge-limit"),
            ],
        ),
        (PlantedBug::MalformedJson, [Some(""); 5]),
    ];
    let mut kinds: Vec<PlantedBug> = expected.iter().map(|(b, _)| *b).collect();
    kinds.extend([PlantedBug::CloseConnection, PlantedBug::NeverAnswer]);
    assert_eq!(kinds, PlantedBug::ALL, "every kind is covered");
    let mut mismatches = Vec::new();
    for (bug, targets) in expected {
        let got: Vec<Option<String>> = run(*bug)
            .iter()
            .map(|(step, clean, broken)| verify(*bug, step, clean, broken))
            .collect();
        let want: Vec<Option<String>> = targets.iter().map(|t| t.map(str::to_owned)).collect();
        if got != want {
            mismatches.push(format!("{bug}: got {got:?}, want {want:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

/// The mock's own controls are never broken.
#[test]
fn controls_are_never_planted() {
    for bug in PlantedBug::ALL {
        let s = planted(bug);
        let r = control(&s, "GET", "/health", None);
        assert_eq!((r.status, r.json()), (200, json!({"ok": true})), "{bug}");
        assert_eq!(r.header("x-mock-planted"), None, "{bug}");
    }
}

/// Sends one request on a fresh connection and reads whatever comes back within `wait`.
fn send_and_read(s: &MockServer, path: &str, wait: Duration) -> (std::io::Result<usize>, Vec<u8>) {
    let mut stream = TcpStream::connect(s.addr()).unwrap();
    stream.set_read_timeout(Some(wait)).unwrap();
    let head = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer test_sk_conformance\r\n\r\n",
        s.addr()
    );
    stream.write_all(head.as_bytes()).unwrap();
    let mut out = Vec::new();
    let read = stream.read_to_end(&mut out);
    (read, out)
}

#[test]
fn close_connection_closes_without_a_response() {
    let s = planted(PlantedBug::CloseConnection);
    for path in [
        "/chargily/test/api/v2/balance",
        "/chargily/api/v2/checkouts/nope",
        "/recharge/checkouts/nope",
    ] {
        let started = Instant::now();
        let (read, bytes) = send_and_read(&s, path, Duration::from_secs(5));
        // An orderly close (EOF) or a reset, at once and with not a byte of response.
        assert!(
            read.is_ok()
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
            "{path}: {read:?}"
        );
        assert!(
            bytes.is_empty(),
            "{path}: {}",
            String::from_utf8_lossy(&bytes)
        );
        // Generous: the bug this catches is a connection held forever.
        assert!(started.elapsed() < Duration::from_secs(10), "{path}");
    }
    // The rest of the server is unaffected.
    assert_eq!(control(&s, "GET", "/health", None).status, 200);
    let clean = server();
    let (read, bytes) = send_and_read(
        &clean,
        "/chargily/test/api/v2/balance",
        Duration::from_secs(5),
    );
    assert!(
        read.is_ok() && bytes.starts_with(b"HTTP/1.1 200"),
        "{read:?}"
    );
}

#[test]
fn never_answer_holds_the_request_and_shutdown_stays_prompt() {
    let s = planted(PlantedBug::NeverAnswer);
    let (read, bytes) = send_and_read(&s, "/recharge/checkouts/nope", Duration::from_millis(400));
    assert!(
        read.as_ref()
            .is_err_and(|e| matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)),
        "{read:?}"
    );
    assert!(bytes.is_empty(), "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(control(&s, "GET", "/health", None).status, 200);

    // A held request does not hold up the server's shutdown, and its client then sees the
    // connection end rather than wait forever.
    let mut held = TcpStream::connect(s.addr()).unwrap();
    held.write_all(b"GET /chargily/test/api/v2/balance HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = Instant::now();
    drop(s);
    let stopped = started.elapsed();
    // Generous for a loaded machine: the bug this catches is a shutdown that waits for the
    // held request, forever.
    assert!(
        stopped < Duration::from_secs(5),
        "shutdown took {stopped:?}"
    );
    held.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut rest = Vec::new();
    let read = held.read_to_end(&mut rest);
    assert!(
        read.is_ok()
            || read
                .as_ref()
                .is_err_and(|e| e.kind() == ErrorKind::ConnectionReset),
        "{read:?}"
    );
    assert!(rest.is_empty(), "{}", String::from_utf8_lossy(&rest));
}
