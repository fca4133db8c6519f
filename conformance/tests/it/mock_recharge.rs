//! The ReCharge side of the mock, over loopback HTTP: both envelopes, totals, updates, shipping
//! rates, charges (Stripe test tokens, reuse, concurrency), rate limiting, versions, auth.

use crate::support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{RECHARGE_AUTH, rc, request, server, server_with};

fn recorded_2019_request() -> Value {
    json!({"checkout": {
        "line_items": [{
            "charge_interval_frequency": 1, "cutoff_day_of_month": null, "cutoff_day_of_week": null,
            "expire_after_specific_number_of_charges": null, "fulfillment_service": "manual", "grams": 0,
            "line_price": "39.95", "order_day_of_month": null, "order_day_of_week": null,
            "order_interval_frequency": 1, "order_interval_unit_type": "month", "price": "39.95",
            "product_id": 1_663_704_662_067_i64,
            "properties": {"leggings": "XS", "product_collection": "True Blue - 3 Items", "tops": "XS"},
            "quantity": 1, "requires_shipping": true, "sku": "764204268269", "taxable": true,
            "title": "True Blue - 3 Items", "variant_id": 15_983_728_099_379_i64,
            "variant_title": "Default Title", "vendor": "Ellie"
        }],
        "shipping_address": {
            "address1": "5553 B Bandini Blvd", "address2": null, "city": "Bell", "company": "Fambrands LLC",
            "country": "United States", "first_name": "Funky2", "last_name": "Chicken2",
            "phone": "5557778888", "province": "California", "zip": "90201"
        },
        "email": "funky_chicken2@gmail.com"
    }})
}

fn create(s: &conformance::mock::MockServer, body: &Value) -> Value {
    let r = rc(s, "POST", "/checkouts", Some(body));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["checkout"].clone()
}

fn token(c: &Value) -> String {
    c["token"].as_str().unwrap().to_owned()
}

#[test]
fn create_accepts_both_envelopes_and_retrieve_returns_the_checkout() {
    let s = server();
    let r = rc(&s, "POST", "/checkouts", Some(&recorded_2019_request()));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-recharge-limit"), Some("1/40"));
    let request_id = r.header("x-request-id").unwrap();
    assert!(request_id.len() == 32 && request_id.bytes().all(|b| b.is_ascii_hexdigit()));
    let c = r.json()["checkout"].clone();
    let t = token(&c);
    assert_eq!(t.len(), 32);
    assert!(
        t.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );
    assert_eq!(c["email"], "funky_chicken2@gmail.com");
    assert_eq!(c["line_items"][0]["line_price"], "39.95");
    assert_eq!(c["line_items"][0]["order_interval_unit_type"], "month");
    assert_eq!(c["line_items"][0]["properties"]["tops"], "XS");
    assert_eq!(c["subtotal_price"], "39.95");
    assert_eq!(c["total_price"], "39.95");
    assert_eq!(c["total_tax"], "0.00");
    assert_eq!(c["shipping_address"]["city"], "Bell");
    assert_eq!(c["completed_at"], Value::Null);
    assert_eq!(c["created_at"], "2023-12-21T07:42:47.000000+00:00");

    let unwrapped = create(
        &s,
        &json!({"line_items": [
            {"variant_id": 3_844_924_611_i64, "product_id": 1_255_183_683_i64, "quantity": 6, "price": "10.50"},
            {"variant_id": 2, "quantity": 1, "price": "0.99", "requires_shipping": false}
        ]}),
    );
    assert_eq!(unwrapped["line_items"][0]["line_price"], "63.00");
    assert_eq!(unwrapped["subtotal_price"], "63.99");
    assert_eq!(unwrapped["total_price"], "63.99");
    assert_eq!(unwrapped["requires_shipping"], true);

    let got = rc(&s, "GET", &format!("/checkouts/{t}"), None);
    assert_eq!(got.status, 200);
    assert_eq!(got.json()["checkout"], c);
    let missing = rc(
        &s,
        "GET",
        "/checkouts/00000000000000000000000000000000",
        None,
    );
    assert_eq!(missing.status, 404);
    assert_eq!(missing.json(), json!({"errors": "Not Found"}));
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn shipping_rates_follow_the_address_and_put_selects_one() {
    let s = server();
    let c = create(&s, &recorded_2019_request());
    let t = token(&c);
    let rates = rc(&s, "GET", &format!("/checkouts/{t}/shipping_rates"), None);
    assert_eq!(rates.status, 200);
    let rates = rates.json()["shipping_rates"].clone();
    assert_eq!(rates.as_array().unwrap().len(), 2);
    assert_eq!(rates[0]["handle"], "shopify-Standard-5.00");
    assert_eq!(rates[0]["checkout"]["total_price"], "44.95");
    assert_eq!(rates[1]["price"], "15.00");

    let r = rc(
        &s,
        "PUT",
        &format!("/checkouts/{t}"),
        Some(&json!({"checkout": {"shipping_line": {"handle": "shopify-Express-15.00"}}})),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let u = r.json()["checkout"].clone();
    assert_eq!(
        u["shipping_line"],
        json!({"code": "Express", "price": "15.00", "title": "Express"})
    );
    assert_eq!(u["total_price"], "54.95");
    assert_eq!(u["subtotal_price"], "39.95");

    let bad = rc(
        &s,
        "PUT",
        &format!("/checkouts/{t}"),
        Some(&json!({"shipping_line": {"handle": "shopify-Teleport-0.00"}})),
    );
    assert_eq!(bad.status, 422);
    assert!(bad.json()["errors"]["shipping_line.handle"].is_array());

    // Moving abroad: one international rate, and the chosen domestic rate is dropped.
    let moved = rc(
        &s,
        "PUT",
        &format!("/checkouts/{t}"),
        Some(&json!({"shipping_address": {"country": "France", "city": "Lyon"}, "email": "new@example.test"})),
    )
    .json()["checkout"]
        .clone();
    assert_eq!(moved["email"], "new@example.test");
    assert_eq!(moved["shipping_line"], Value::Null);
    assert_eq!(moved["total_price"], "39.95");
    let abroad = rc(&s, "GET", &format!("/checkouts/{t}/shipping_rates"), None).json();
    assert_eq!(abroad["shipping_rates"][0]["code"], "International");
    assert_eq!(abroad["shipping_rates"].as_array().unwrap().len(), 1);

    let bare = create(
        &s,
        &json!({"line_items": [{"variant_id": 5, "quantity": 1}]}),
    );
    let none = rc(
        &s,
        "GET",
        &format!("/checkouts/{}/shipping_rates", token(&bare)),
        None,
    )
    .json();
    assert_eq!(none, json!({"shipping_rates": []}));
    assert_eq!(
        rc(&s, "PUT", "/checkouts/nope", Some(&json!({}))).status,
        404
    );
    assert_eq!(
        rc(&s, "GET", "/checkouts/nope/shipping_rates", None).status,
        404
    );
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

fn charge(s: &conformance::mock::MockServer, t: &str, payment_token: &str) -> support::Resp {
    rc(
        s,
        "POST",
        &format!("/checkouts/{t}/charge"),
        Some(
            &json!({"checkout_charge": {"free": false, "payment_processor": "stripe", "payment_token": payment_token}}),
        ),
    )
}

#[test]
fn charges_follow_stripe_test_tokens_and_happen_once() {
    let s = server_with(|c| c.charge_delay = Duration::ZERO);
    let t = token(&create(&s, &recorded_2019_request()));
    for (payment_token, message) in [
        ("tok_chargeDeclined", "Your card was declined."),
        (
            "tok_chargeDeclinedInsufficientFunds",
            "Your card has insufficient funds.",
        ),
        ("tok_chargeDeclinedExpiredCard", "Your card has expired."),
        (
            "tok_chargeDeclinedIncorrectCvc",
            "Your card's security code is incorrect.",
        ),
        (
            "tok_chargeDeclinedProcessingError",
            "An error occurred while processing your card. Try again in a little bit.",
        ),
        (
            "pm_card_authenticationRequired",
            "Your card was declined. This transaction requires authentication.",
        ),
    ] {
        let r = charge(&s, &t, payment_token);
        assert_eq!(r.status, 422, "{payment_token}");
        assert_eq!(
            r.json(),
            json!({"errors": {"payment": [message]}}),
            "{payment_token}"
        );
    }
    // Declines leave the checkout open.
    let c = rc(&s, "GET", &format!("/checkouts/{t}"), None).json()["checkout"].clone();
    assert_eq!(c["completed_at"], Value::Null);

    let ok = rc(
        &s,
        "POST",
        &format!("/checkouts/{t}/charge"),
        Some(
            &json!({"payment_processor": "stripe", "payment_token": "tok_visa", "payment_type": "CREDIT_CARD"}),
        ),
    );
    assert_eq!(ok.status, 200, "{}", ok.text());
    let cc = ok.json()["checkout_charge"].clone();
    assert_eq!(cc["status"], "success");
    assert_eq!(cc["payment_token"], "tok_visa");
    assert_eq!(cc["payment_type"], "CREDIT_CARD");
    assert!(cc["charge_id"].as_i64().unwrap() > 0);
    assert!(
        cc["payment_processor_transaction_id"]
            .as_str()
            .unwrap()
            .starts_with("ch_")
    );
    let c = rc(&s, "GET", &format!("/checkouts/{t}"), None).json()["checkout"].clone();
    assert_eq!(c["completed_at"], "2023-12-21T07:42:47.000000+00:00");
    assert_eq!(c["charge_id"], cc["charge_id"]);
    assert_eq!(c["payment_processor"], "stripe");

    let again = charge(&s, &t, "tok_visa");
    assert_eq!(again.status, 422);
    assert_eq!(
        again.json(),
        json!({"errors": {"payment": ["Checkout has already been processed."]}})
    );
    let update = rc(
        &s,
        "PUT",
        &format!("/checkouts/{t}"),
        Some(&json!({"note": "late"})),
    );
    assert_eq!(update.status, 422);

    // A real-looking token is single-use.
    let a = token(&create(&s, &recorded_2019_request()));
    let b = token(&create(&s, &recorded_2019_request()));
    assert_eq!(charge(&s, &a, "tok_1NqL7k2eZvKYlo2CabcdEFGH").status, 200);
    let reused = charge(&s, &b, "tok_1NqL7k2eZvKYlo2CabcdEFGH");
    assert_eq!(reused.status, 422);
    assert_eq!(
        reused.json()["errors"]["payment"][0],
        "You cannot use a Stripe token more than once: tok_1NqL7k2eZvKYlo2CabcdEFGH."
    );
    assert_eq!(charge(&s, "0000", "tok_visa").status, 404);
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn concurrent_charges_of_one_checkout_one_succeeds_the_other_gets_409() {
    let s = server_with(|c| c.charge_delay = Duration::from_millis(300));
    for _ in 0..3 {
        let t = token(&create(&s, &recorded_2019_request()));
        let results: Vec<support::Resp> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..2)
                .map(|_| scope.spawn(|| charge(&s, &t, "tok_visa")))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let mut statuses: Vec<u16> = results.iter().map(|r| r.status).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409]);
        let conflict = results.iter().find(|r| r.status == 409).unwrap();
        assert_eq!(
            conflict.json(),
            json!({"errors": {"payment": ["A call to this route is already in progress."]}})
        );
        assert_eq!(charge(&s, &t, "tok_visa").status, 422);
    }
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn the_leaky_bucket_holds_40_calls_and_drains_2_per_second() {
    let s = server();
    let filled = std::time::Instant::now();
    for i in 1..=40 {
        let r = rc(&s, "GET", "/checkouts/missing", None);
        assert_eq!(r.status, 404);
        assert_eq!(
            r.header("x-recharge-limit"),
            Some(format!("{i}/40").as_str())
        );
    }
    let full = rc(&s, "GET", "/checkouts/missing", None);
    assert_eq!(full.status, 429);
    assert_eq!(full.header("x-recharge-limit"), Some("40/40"));
    assert_eq!(full.json(), json!({"errors": "Too many requests"}));
    // After at least 1.1 s, at least two calls have drained; how many more depends on how long
    // the machine took, so the upper bound is computed from the time that really passed.
    std::thread::sleep(Duration::from_millis(1100));
    let mut admitted = 0;
    loop {
        let r = rc(&s, "GET", "/checkouts/missing", None);
        if r.status == 429 {
            break;
        }
        assert_eq!(r.status, 404);
        admitted += 1;
        assert!(admitted <= 40, "the bucket never filled again");
    }
    let drained_at_most = (filled.elapsed().as_secs_f64() * 2.0).ceil() as usize;
    assert!(
        (2..=drained_at_most).contains(&admitted),
        "{admitted} calls admitted after draining for {:?}",
        filled.elapsed()
    );

    let unlimited = server_with(|c| c.recharge_rate_limit = false);
    for _ in 0..60 {
        let r = rc(&unlimited, "GET", "/checkouts/missing", None);
        assert_eq!(r.status, 404);
        assert_eq!(r.header("x-recharge-limit"), Some("1/40"));
    }
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn versions_other_than_2021_01_get_426_and_tokens_are_checked() {
    let s = server();
    let path = "/recharge/checkouts/missing";
    for version in ["2021-11", "2020-01", "latest"] {
        let r = request(
            s.addr(),
            "GET",
            path,
            &[RECHARGE_AUTH, ("X-Recharge-Version", version)],
            None,
        );
        assert_eq!(r.status, 426, "{version}");
        assert_eq!(
            r.json(),
            json!({"errors": "The request was made using an invalid API version."})
        );
    }
    let r = request(
        s.addr(),
        "GET",
        path,
        &[RECHARGE_AUTH, ("X-Recharge-Version", "2021-01")],
        None,
    );
    assert_eq!(r.status, 404);
    for headers in [vec![], vec![("X-Recharge-Access-Token", "wrong")]] {
        let r = request(s.addr(), "GET", path, &headers, None);
        assert_eq!(r.status, 401);
        assert_eq!(
            r.json(),
            json!({"errors": "A valid API token is required."})
        );
    }
    let custom = server_with(|c| c.recharge_access_token = "sk_other".into());
    assert_eq!(rc(&custom, "GET", "/checkouts/missing", None).status, 401);
    let r = request(
        custom.addr(),
        "GET",
        path,
        &[("X-Recharge-Access-Token", "sk_other")],
        None,
    );
    assert_eq!(r.status, 404);
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn invalid_bodies_get_marshmallow_style_errors() {
    let s = server();
    let r = rc(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"line_items": [{"quantity": "x"}], "email": 5})),
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json(),
        json!({"errors": {
            "email": ["Not a valid string."],
            "line_items.0.quantity": ["Not a valid integer."],
            "line_items.0.variant_id": ["Missing data for required field."]
        }})
    );
    let r = rc(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"checkout": {"line_items": null}})),
    );
    assert_eq!(
        r.json(),
        json!({"errors": {"checkout.line_items": ["Field may not be null."]}})
    );
    let r = rc(&s, "POST", "/checkouts", Some(&json!({"note": "no items"})));
    assert_eq!(
        r.json(),
        json!({"errors": {"line_items": ["Missing data for required field."]}})
    );
    let t = token(&create(
        &s,
        &json!({"line_items": [{"variant_id": 1, "quantity": 1}]}),
    ));
    let r = rc(
        &s,
        "POST",
        &format!("/checkouts/{t}/charge"),
        Some(&json!({"payment_processor": "paypal", "payment_token": "tok_visa"})),
    );
    assert_eq!(
        r.json(),
        json!({"errors": {"payment_processor": ["Must be one of: stripe, braintree, mollie, authorize."]}})
    );
    let r = rc(&s, "POST", "/checkouts", Some(&json!([1, 2])));
    assert_eq!(r.status, 415);
    assert_eq!(
        r.json(),
        json!({"errors": "The request body must be a JSON object."})
    );
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}
