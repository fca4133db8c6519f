//! Payment simulation and webhooks: a loopback receiver on 127.0.0.1:0 gets the events, and
//! the test recomputes each signature itself (HMAC-SHA256 for Chargily, SHA-256 of secret +
//! body for ReCharge). Retries are bounded in count and in time.

use crate::support;

use std::time::Duration;

use conformance::mock::DeliveryState;
use conformance::specs::Api;
use hmac::{Hmac, Mac};
use oas::{Direction, SchemaValidator};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use support::{Receiver, cg, control, rc, server, server_with};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn chargily_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    hex(&mac.finalize().into_bytes())
}

fn recharge_signature(secret: &str, body: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(body);
    hex(&h.finalize())
}

fn validator(api: Api, at: &str) -> (SchemaValidator, Value) {
    let root = api.document().unwrap().root;
    (
        SchemaValidator::compile(&root, at, Direction::Request).unwrap(),
        root,
    )
}

#[test]
fn paying_a_chargily_checkout_sends_a_signed_checkout_paid_event() {
    let receiver = Receiver::start(vec![]);
    let s = server_with(|c| c.chargily_secret_key = "test_sk_signing".into());
    let auth = ("Authorization", "Bearer test_sk_signing");
    let body = json!({"amount": 5000, "currency": "dzd", "success_url": "https://a.test/ok",
                      "webhook_endpoint": receiver.url("/hooks/chargily"), "metadata": {"order": "7"}});
    let created = support::request(
        s.addr(),
        "POST",
        "/chargily/test/api/v2/checkouts",
        &[auth, ("Content-Type", "application/json")],
        Some(&serde_json::to_vec(&body).unwrap()),
    )
    .json();
    let id = created["id"].as_str().unwrap();
    let sim = control(
        &s,
        "POST",
        &format!("/chargily/test/checkouts/{id}/pay"),
        None,
    );
    assert_eq!(sim.status, 200, "{}", sim.text());
    assert_eq!(sim.json()["checkout"]["status"], "paid");

    let got = receiver.wait_for(1);
    let hook = &got[0];
    assert_eq!(hook.path, "/hooks/chargily");
    assert_eq!(hook.header("content-type"), Some("application/json"));
    let signature = hook.header("signature").unwrap();
    assert_eq!(signature, chargily_signature("test_sk_signing", &hook.body));
    assert_ne!(
        signature,
        chargily_signature("test_sk_conformance", &hook.body)
    );

    let event: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(event["type"], "checkout.paid");
    assert_eq!(event["entity"], "event");
    assert_eq!(event["livemode"], "false");
    assert_eq!(event["data"]["id"], id);
    assert_eq!(event["data"]["status"], "paid");
    assert_eq!(event["data"]["amount"], 5000);
    assert_eq!(event["data"]["url"], created["checkout_url"]);
    assert_eq!(event["data"]["metadata"], json!({"order": "7"}));
    assert!(event["data"].get("checkout_url").is_none());
    assert_eq!(event["id"].as_str().unwrap().len(), 26);
    let (v, _) = validator(Api::Chargily, "/components/schemas/WebhookEvent");
    assert!(v.validate(&event).is_empty(), "{:?}", v.validate(&event));
    let typed: generated::chargily::WebhookEvent = serde_json::from_value(event).unwrap();
    assert_eq!(typed.data.id, id);

    // The API shows the new status; the balance has the money.
    assert_eq!(
        support::request(
            s.addr(),
            "GET",
            &format!("/chargily/test/api/v2/checkouts/{id}"),
            &[auth],
            None
        )
        .json()["status"],
        "paid"
    );
    let deliveries = s.webhook_deliveries();
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].state, DeliveryState::Delivered);
    assert_eq!(deliveries[0].attempts, 1);
    // Only pending checkouts can be paid or failed.
    assert_eq!(
        control(
            &s,
            "POST",
            &format!("/chargily/test/checkouts/{id}/fail"),
            None
        )
        .status,
        409
    );
    assert_eq!(
        control(&s, "POST", "/chargily/test/checkouts/nope/pay", None).status,
        404
    );
    assert_eq!(
        control(
            &s,
            "POST",
            &format!("/chargily/live/checkouts/{id}/pay"),
            None
        )
        .status,
        404
    );
}

#[test]
fn failing_a_checkout_sends_checkout_failed_and_no_endpoint_sends_nothing() {
    let receiver = Receiver::start(vec![]);
    let s = server();
    let with_hook = cg(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"amount": 900, "currency": "dzd", "success_url": "https://a.test", "webhook_endpoint": receiver.url("/h")})),
    )
    .json();
    let without = cg(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"amount": 900, "currency": "dzd", "success_url": "https://a.test"})),
    )
    .json();
    let id = with_hook["id"].as_str().unwrap();
    assert_eq!(
        control(
            &s,
            "POST",
            &format!("/chargily/test/checkouts/{id}/fail"),
            None
        )
        .status,
        200
    );
    let other = without["id"].as_str().unwrap();
    assert_eq!(
        control(
            &s,
            "POST",
            &format!("/chargily/test/checkouts/{other}/pay"),
            None
        )
        .status,
        200
    );
    let got = receiver.wait_for(1);
    let event: Value = serde_json::from_slice(&got[0].body).unwrap();
    assert_eq!(event["type"], "checkout.failed");
    assert_eq!(event["data"]["status"], "failed");
    assert_eq!(
        got[0].header("signature").unwrap(),
        chargily_signature("test_sk_conformance", &got[0].body)
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(receiver.received.lock().unwrap().len(), 1);
    assert_eq!(s.webhook_deliveries().len(), 1);
}

#[test]
fn failed_deliveries_are_retried_with_backoff_then_given_up() {
    // 500, 503, then 200: three attempts, the delays growing.
    let receiver = Receiver::start(vec![500, 503]);
    let s = server();
    let c = cg(&s, "POST", "/checkouts", Some(&json!({"amount": 900, "currency": "dzd", "success_url": "https://a.test", "webhook_endpoint": receiver.url("/h")}))).json();
    let id = c["id"].as_str().unwrap();
    control(
        &s,
        "POST",
        &format!("/chargily/test/checkouts/{id}/pay"),
        None,
    );
    let got = receiver.wait_for(3);
    assert_eq!(got.len(), 3);
    assert_eq!(got[0].body, got[2].body, "a retry resends the same event");
    let first_gap = got[1].at - got[0].at;
    let second_gap = got[2].at - got[1].at;
    assert!(first_gap >= Duration::from_millis(20), "{first_gap:?}");
    assert!(second_gap >= Duration::from_millis(40), "{second_gap:?}");
    let d = support::eventually("delivered", || {
        let d = s.webhook_deliveries()[0].clone();
        (d.state == DeliveryState::Delivered).then_some(d)
    });
    assert_eq!((d.attempts, d.last_status), (3, Some(200)));

    // Always failing: stops after `webhook_attempts` (4 in tests).
    let down = Receiver::start(vec![500; 100]);
    let s = server();
    let c = cg(&s, "POST", "/checkouts", Some(&json!({"amount": 900, "currency": "dzd", "success_url": "https://a.test", "webhook_endpoint": down.url("/h")}))).json();
    control(
        &s,
        "POST",
        &format!("/chargily/test/checkouts/{}/pay", c["id"].as_str().unwrap()),
        None,
    );
    down.wait_for(4);
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(down.received.lock().unwrap().len(), 4);
    let d = &s.webhook_deliveries()[0];
    assert_eq!((d.state, d.attempts), (DeliveryState::Failed, 4));

    // Bounded in time too: no attempt starts after the deadline.
    let down = Receiver::start(vec![500; 100]);
    let s = server_with(|c| {
        c.webhook_attempts = 50;
        c.webhook_backoff = Duration::from_millis(50);
        c.webhook_deadline = Duration::from_millis(300);
    });
    let c = cg(&s, "POST", "/checkouts", Some(&json!({"amount": 900, "currency": "dzd", "success_url": "https://a.test", "webhook_endpoint": down.url("/h")}))).json();
    control(
        &s,
        "POST",
        &format!("/chargily/test/checkouts/{}/pay", c["id"].as_str().unwrap()),
        None,
    );
    std::thread::sleep(Duration::from_millis(800));
    let n = down.received.lock().unwrap().len();
    assert!((2..=4).contains(&n), "{n} attempts");
    assert_eq!(s.webhook_deliveries()[0].state, DeliveryState::Failed);

    // Nobody listening: the delivery fails without hurting the server.
    let s = server();
    let c = cg(&s, "POST", "/checkouts", Some(&json!({"amount": 900, "currency": "dzd", "success_url": "https://a.test", "webhook_endpoint": "http://127.0.0.1:9/h"}))).json();
    assert_eq!(
        control(
            &s,
            "POST",
            &format!("/chargily/test/checkouts/{}/pay", c["id"].as_str().unwrap()),
            None
        )
        .status,
        200
    );
    let d = support::eventually("failed", || {
        let d = s.webhook_deliveries()[0].clone();
        (d.state == DeliveryState::Failed).then_some(d)
    });
    assert!(d.last_error.is_some());
}

#[test]
fn recharge_checkout_topics_are_signed_with_the_client_secret() {
    let receiver = Receiver::start(vec![]);
    let s = server_with(|c| {
        c.recharge_client_secret = "shh".into();
        c.charge_delay = Duration::ZERO;
    });
    let reg = control(
        &s,
        "POST",
        "/recharge/webhooks",
        Some(&json!({"address": receiver.url("/rc")})),
    );
    assert_eq!(reg.status, 200, "{}", reg.text());
    let created = rc(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"line_items": [{"variant_id": 1, "quantity": 1, "price": "3.00"}]})),
    );
    let token = created.json()["checkout"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    receiver.wait_for(1);
    rc(
        &s,
        "PUT",
        &format!("/checkouts/{token}"),
        Some(&json!({"email": "a@b.test"})),
    );
    receiver.wait_for(2);
    let charged = rc(
        &s,
        "POST",
        &format!("/checkouts/{token}/charge"),
        Some(&json!({"payment_processor": "stripe", "payment_token": "tok_visa"})),
    );
    assert_eq!(charged.status, 200);
    let got = receiver.wait_for(4);
    let mut topics: Vec<&str> = got
        .iter()
        .map(|h| h.header("x-recharge-topic").unwrap())
        .collect();
    topics[2..].sort_unstable();
    assert_eq!(
        topics,
        [
            "checkout/created",
            "checkout/updated",
            "checkout/completed",
            "checkout/processed"
        ]
    );
    let (v, _) = validator(Api::Recharge, "/components/schemas/CheckoutResponse");
    for hook in &got {
        assert_eq!(
            hook.header("x-recharge-hmac-sha256").unwrap(),
            recharge_signature("shh", &hook.body)
        );
        let body: Value = serde_json::from_slice(&hook.body).unwrap();
        assert_eq!(body["checkout"]["token"], token.as_str());
        assert!(v.validate(&body).is_empty(), "{:?}", v.validate(&body));
    }
    let last: Value = serde_json::from_slice(&got[3].body).unwrap();
    assert!(last["checkout"]["completed_at"].is_string());

    // Topic filters.
    let only_created = Receiver::start(vec![]);
    control(
        &s,
        "POST",
        "/recharge/webhooks",
        Some(&json!({"address": only_created.url("/c"), "topics": ["checkout/created"]})),
    );
    rc(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"line_items": [{"variant_id": 1, "quantity": 1}]})),
    );
    only_created.wait_for(1);
    assert_eq!(
        control(
            &s,
            "POST",
            "/recharge/webhooks",
            Some(&json!({"address": "http://x", "topics": ["order/created"]}))
        )
        .status,
        422
    );
    assert_eq!(
        control(&s, "GET", "/recharge/webhooks", None).json()["webhooks"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

/// `generated::webhooks`, the receiver's side: the mock's own deliveries verify and decode
/// into typed events; a body altered by one byte, a wrong secret, or a missing header does not.
#[test]
fn the_webhook_helpers_accept_the_mocks_deliveries_and_nothing_else() {
    use generated::webhooks::{WebhookError, chargily, recharge};
    let receiver = Receiver::start(vec![]);
    let s = server_with(|c| {
        c.chargily_secret_key = "test_sk_signing".into();
        c.recharge_client_secret = "shh".into();
        c.charge_delay = Duration::ZERO;
    });
    let auth = ("Authorization", "Bearer test_sk_signing");
    let body = json!({"amount": 5000, "currency": "dzd", "success_url": "https://a.test/ok",
                      "webhook_endpoint": receiver.url("/cg")});
    let created = support::request(
        s.addr(),
        "POST",
        "/chargily/test/api/v2/checkouts",
        &[auth, ("Content-Type", "application/json")],
        Some(&serde_json::to_vec(&body).unwrap()),
    )
    .json();
    let id = created["id"].as_str().unwrap();
    let paid = control(
        &s,
        "POST",
        &format!("/chargily/test/checkouts/{id}/pay"),
        None,
    );
    assert_eq!(paid.status, 200, "{}", paid.text());
    let hook = receiver.wait_for(1).remove(0);
    let headers: Vec<(String, String)> = hook.headers.clone();
    match chargily::verify(
        headers.iter().map(|(k, v)| (k, v)),
        &hook.body,
        "test_sk_signing",
    ) {
        Ok(chargily::Event::CheckoutPaid(event)) => assert_eq!(event.data.id, id),
        other => panic!("{other:?}"),
    }
    let mut altered = hook.body.clone();
    let at = altered.iter().position(|b| *b == b'5').unwrap();
    altered[at] = b'6';
    let refused = |body: &[u8], secret: &str| {
        chargily::verify(headers.iter().map(|(k, v)| (k, v)), body, secret)
    };
    assert_eq!(
        refused(&altered, "test_sk_signing"),
        Err(WebhookError::BadSignature)
    );
    assert_eq!(
        refused(&hook.body, "test_sk_conformance"),
        Err(WebhookError::BadSignature)
    );
    let unsigned: [(&str, &str); 0] = [];
    assert_eq!(
        chargily::verify(unsigned, &hook.body, "test_sk_signing"),
        Err(WebhookError::MissingHeader("signature"))
    );

    let reg = control(
        &s,
        "POST",
        "/recharge/webhooks",
        Some(&json!({"address": receiver.url("/rc")})),
    );
    assert_eq!(reg.status, 200, "{}", reg.text());
    let created = rc(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"line_items": [{"variant_id": 1, "quantity": 1}]})),
    );
    let token = created.json()["checkout"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let hook = receiver.wait_for(2).remove(1);
    let headers = hook.headers.clone();
    match recharge::verify(headers.iter().map(|(k, v)| (k, v)), &hook.body, "shh") {
        Ok(recharge::Event::CheckoutCreated(r)) => assert_eq!(r.checkout.token, token),
        other => panic!("{other:?}"),
    }
    let mut altered = hook.body.clone();
    altered.push(b' ');
    let verify = |body: &[u8], secret: &str| {
        recharge::verify(headers.iter().map(|(k, v)| (k, v)), body, secret)
    };
    assert_eq!(verify(&altered, "shh"), Err(WebhookError::BadSignature));
    assert_eq!(verify(&hook.body, "shh!"), Err(WebhookError::BadSignature));
    // A topic this version does not list: verified, kept whole.
    let mut renamed: Vec<(String, String)> = headers.clone();
    for (k, v) in &mut renamed {
        if k.eq_ignore_ascii_case("x-recharge-topic") {
            *v = "checkout/archived".into();
        }
    }
    match recharge::verify(renamed.iter().map(|(k, v)| (k, v)), &hook.body, "shh") {
        Ok(recharge::Event::Unknown { topic, json }) => {
            assert_eq!(topic, "checkout/archived");
            assert_eq!(json["checkout"]["token"], token);
        }
        other => panic!("{other:?}"),
    }
}
