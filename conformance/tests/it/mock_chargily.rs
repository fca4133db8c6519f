//! The Chargily Pay V2 side of the mock, over loopback HTTP: auth, checkouts (amounts, fees,
//! discounts, items, expiry), validation errors, pagination, modes, the other resources.

use crate::support;

use conformance::mock::FIXED_EPOCH_SECONDS;
use serde_json::{Value, json};
use support::{cg, cg_live, control, request, server, server_with};

fn checkout_body(amount: i64) -> Value {
    json!({"amount": amount, "currency": "dzd", "success_url": "https://shop.test/ok"})
}

/// A product with prices of the given amounts; returns the price ids.
fn prices(s: &conformance::mock::MockServer, amounts: &[i64]) -> Vec<String> {
    let product = cg(s, "POST", "/products", Some(&json!({"name": "Tea"})));
    assert_eq!(product.status, 200, "{}", product.text());
    let product_id = product.json()["id"].as_str().unwrap().to_owned();
    amounts
        .iter()
        .map(|a| {
            let p = cg(
                s,
                "POST",
                "/prices",
                Some(&json!({"amount": a, "currency": "dzd", "product_id": product_id})),
            );
            assert_eq!(p.status, 200, "{}", p.text());
            assert_eq!(p.json()["amount"], *a);
            p.json()["id"].as_str().unwrap().to_owned()
        })
        .collect()
}

#[test]
fn requests_without_the_secret_key_get_401() {
    let s = server();
    let path = "/chargily/test/api/v2/checkouts";
    for headers in [
        vec![],
        vec![("Authorization", "Bearer test_sk_wrong")],
        vec![("Authorization", "test_sk_conformance")],
    ] {
        let r = request(s.addr(), "GET", path, &headers, None);
        assert_eq!(r.status, 401, "{headers:?}");
        assert_eq!(r.json(), json!({"message": "Unauthenticated."}));
    }
    assert_eq!(cg(&s, "GET", "/checkouts", None).status, 200);
    assert_eq!(cg_live(&s, "GET", "/balance", None).status, 200);

    let custom = server_with(|c| c.chargily_secret_key = "test_sk_other".into());
    assert_eq!(cg(&custom, "GET", "/checkouts", None).status, 401);
    let r = request(
        custom.addr(),
        "GET",
        path,
        &[("Authorization", "Bearer test_sk_other")],
        None,
    );
    assert_eq!(r.status, 200);
}

#[test]
fn a_checkout_from_amount_and_currency() {
    let s = server();
    let r = cg(&s, "POST", "/checkouts", Some(&checkout_body(2000)));
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json();
    let id = c["id"].as_str().unwrap();
    assert_eq!(id.len(), 26);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
    );
    assert_eq!(c["entity"], "checkout");
    assert_eq!(c["livemode"], false);
    assert_eq!(c["status"], "pending");
    assert_eq!(c["amount"], 2000);
    assert_eq!(c["currency"], "dzd");
    // 2.5 % fees, paid by the customer by default.
    assert_eq!(c["fees"], 50);
    assert_eq!(c["fees_on_customer"], 50);
    assert_eq!(c["fees_on_merchant"], 0);
    assert_eq!(c["chargily_pay_fees_allocation"], "customer");
    assert_eq!(c["locale"], "ar");
    assert_eq!(c["discount"], Value::Null);
    assert_eq!(c["amount_without_discount"], Value::Null);
    assert_eq!(c["created_at"], FIXED_EPOCH_SECONDS);
    assert_eq!(
        c["checkout_url"],
        format!("https://pay.chargily.dz/test/checkouts/{id}/pay")
    );
    let got = cg(&s, "GET", &format!("/checkouts/{id}"), None);
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), c);
    assert_eq!(
        cg(&s, "GET", "/checkouts/01hj5n7cqpaf0mt2d0xx85tgz8", None).status,
        404
    );
}

#[test]
fn a_checkout_from_items_sums_price_times_quantity() {
    let s = server();
    let ids = prices(&s, &[2500, 5000]);
    let body = json!({
        "items": [{"price": ids[0], "quantity": 1}, {"price": ids[1], "quantity": 10}],
        "success_url": "https://shop.test/ok",
        "payment_method": "chargily_app",
        "metadata": {"order": "42"},
        "collect_shipping_address": true,
        "shipping_address": "Alger"
    });
    let r = cg(&s, "POST", "/checkouts", Some(&body));
    assert_eq!(r.status, 200, "{}", r.text());
    let c = r.json();
    assert_eq!(c["amount"], 52_500);
    assert_eq!(c["fees"], 1313);
    assert_eq!(c["payment_method"], "chargily_app");
    assert!(c["qr_code_url"].as_str().unwrap().starts_with("https://"));
    assert_eq!(c["metadata"], json!({"order": "42"}));
    assert_eq!(c["collect_shipping_address"], 1);
    assert_eq!(c["shipping_address"], "Alger");
    let items = cg(
        &s,
        "GET",
        &format!("/checkouts/{}/items", c["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(items.status, 200);
    let items = items.json();
    assert_eq!(items["total"], 2);
    assert_eq!(items["data"][0]["id"], ids[0].as_str());
    assert_eq!(items["data"][0]["quantity"], 1);
    assert_eq!(items["data"][0]["amount"], 2500);
    assert_eq!(items["data"][1]["quantity"], 10);
    assert_eq!(items["data"][1]["entity"], "price");

    // Unknown prices are a validation error on the item's own key.
    let r = cg(
        &s,
        "POST",
        "/checkouts",
        Some(
            &json!({"items": [{"price": ids[0], "quantity": 1}, {"price": "01hhhhhhhhhhhhhhhhhhhhhhhh", "quantity": 1}], "success_url": "https://shop.test/ok"}),
        ),
    );
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["errors"],
        json!({"items.1.price": ["The selected items.1.price is invalid."]})
    );
}

#[test]
fn discounts_and_fee_allocation() {
    let s = server();
    let ids = prices(&s, &[5000]);
    let r = cg(
        &s,
        "POST",
        "/checkouts",
        Some(
            &json!({"items": [{"price": ids[0], "quantity": 1}], "success_url": "https://shop.test/ok", "percentage_discount": 50}),
        ),
    );
    let c = r.json();
    assert_eq!(c["amount"], 2500);
    assert_eq!(c["amount_without_discount"], 5000);
    assert_eq!(c["discount"], json!({"type": "percentage", "value": 50}));

    let mut body = checkout_body(10_000);
    body["amount_discount"] = json!(1500);
    body["chargily_pay_fees_allocation"] = json!("merchant");
    let c = cg(&s, "POST", "/checkouts", Some(&body)).json();
    assert_eq!(c["amount"], 8500);
    assert_eq!(c["amount_without_discount"], 10_000);
    assert_eq!(c["discount"], json!({"type": "amount", "value": 1500}));
    assert_eq!(c["fees"], 213);
    assert_eq!(c["fees_on_merchant"], 213);
    assert_eq!(c["fees_on_customer"], 0);

    let mut body = checkout_body(10_000);
    body["chargily_pay_fees_allocation"] = json!("split");
    let c = cg(&s, "POST", "/checkouts", Some(&body)).json();
    assert_eq!(
        (c["fees_on_customer"].clone(), c["fees_on_merchant"].clone()),
        (json!(125), json!(125))
    );

    // The deprecated flag still decides when the allocation is absent.
    let mut body = checkout_body(10_000);
    body["pass_fees_to_customer"] = json!(false);
    assert_eq!(
        cg(&s, "POST", "/checkouts", Some(&body)).json()["chargily_pay_fees_allocation"],
        "merchant"
    );

    let mut body = checkout_body(1000);
    body["amount_discount"] = json!(1000);
    let r = cg(&s, "POST", "/checkouts", Some(&body));
    assert_eq!(r.status, 422);
    assert!(r.json()["errors"]["amount_discount"].is_array());
}

#[test]
fn schema_violations_list_every_field_in_laravel_shape() {
    let s = server();
    let r = cg(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({
            "items": [{"quantity": 0}, {"price": 7, "quantity": 1}],
            "locale": "de",
            "success_url": "not a url",
            "percentage_discount": 101
        })),
    );
    assert_eq!(r.status, 422, "{}", r.text());
    let body = r.json();
    let errors = body["errors"].as_object().unwrap();
    let keys: Vec<&str> = errors.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "items.0.price",
            "items.0.quantity",
            "items.1.price",
            "locale",
            "percentage_discount",
            "success_url"
        ]
    );
    assert_eq!(
        errors["items.0.price"],
        json!(["The items.0.price field is required."])
    );
    assert_eq!(
        errors["items.0.quantity"],
        json!(["The items.0.quantity field must be at least 1."])
    );
    assert_eq!(
        errors["items.1.price"],
        json!(["The items.1.price field must be a string."])
    );
    assert_eq!(errors["locale"], json!(["The selected locale is invalid."]));
    assert_eq!(
        errors["percentage_discount"],
        json!(["The percentage discount field must not be greater than 100."])
    );
    assert_eq!(
        errors["success_url"],
        json!(["The success url field must be a valid URL."])
    );
    assert_eq!(
        body["message"],
        "The items.0.price field is required. (and 5 more errors)"
    );

    let r = cg(&s, "POST", "/checkouts", Some(&json!({})));
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["errors"],
        json!({
            "amount": ["The amount field is required when items is not present."],
            "items": ["The items field is required when amount is not present."],
            "success_url": ["The success url field is required."]
        })
    );
    let r = cg(
        &s,
        "POST",
        "/checkouts",
        Some(&json!({"amount": 100, "success_url": "https://a.test"})),
    );
    assert_eq!(
        r.json()["errors"],
        json!({"currency": ["The currency field is required when amount is present."]})
    );
    let mut body = checkout_body(5000);
    body["percentage_discount"] = json!(10);
    body["amount_discount"] = json!(10);
    let r = cg(&s, "POST", "/checkouts", Some(&body));
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["errors"]["percentage_discount"],
        json!(["The percentage discount field prohibits amount discount from being present."])
    );
    // Nothing was stored by the failed attempts.
    assert_eq!(cg(&s, "GET", "/checkouts", None).json()["total"], 0);
}

#[test]
fn expire_answers_200_then_400_and_403_when_not_pending() {
    let s = server();
    let id = cg(&s, "POST", "/checkouts", Some(&checkout_body(2000))).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = cg(&s, "POST", &format!("/checkouts/{id}/expire"), None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["status"], "expired");
    let r = cg(&s, "POST", &format!("/checkouts/{id}/expire"), None);
    assert_eq!(r.status, 400);
    assert_eq!(
        r.json(),
        json!({"message": "The checkout is already expired."})
    );

    let paid = cg(&s, "POST", "/checkouts", Some(&checkout_body(2000))).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sim = control(
        &s,
        "POST",
        &format!("/chargily/test/checkouts/{paid}/pay"),
        None,
    );
    assert_eq!(sim.status, 200, "{}", sim.text());
    let r = cg(&s, "POST", &format!("/checkouts/{paid}/expire"), None);
    assert_eq!(r.status, 403);
    assert_eq!(
        cg(&s, "GET", &format!("/checkouts/{paid}"), None).json()["status"],
        "paid"
    );
    assert_eq!(cg(&s, "POST", "/checkouts/nope/expire", None).status, 404);

    // Checkouts expire by themselves after 30 minutes.
    let old = cg(&s, "POST", "/checkouts", Some(&checkout_body(2000))).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(s.app().advance_clock(29 * 60));
    assert_eq!(
        cg(&s, "GET", &format!("/checkouts/{old}"), None).json()["status"],
        "pending"
    );
    assert!(s.app().advance_clock(60));
    let c = cg(&s, "GET", &format!("/checkouts/{old}"), None).json();
    assert_eq!(c["status"], "expired");
    assert_eq!(c["updated_at"], FIXED_EPOCH_SECONDS + 30 * 60);
    assert_eq!(
        cg(&s, "POST", &format!("/checkouts/{old}/expire"), None).status,
        400
    );
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn lists_use_the_laravel_envelope_with_urls_from_the_request() {
    let s = server();
    let mut ids = Vec::new();
    for i in 0..23 {
        ids.push(
            cg(&s, "POST", "/checkouts", Some(&checkout_body(1000 + i))).json()["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let base = format!("http://{}/chargily/test/api/v2/checkouts", s.addr());
    let page = cg(&s, "GET", "/checkouts?per_page=10&page=2", None).json();
    assert_eq!(page["livemode"], false);
    assert_eq!(page["current_page"], 2);
    assert_eq!(page["per_page"], 10);
    assert_eq!(page["total"], 23);
    assert_eq!(page["last_page"], 3);
    assert_eq!(page["path"], base);
    assert_eq!(page["first_page_url"], format!("{base}?page=1"));
    assert_eq!(page["last_page_url"], format!("{base}?page=3"));
    assert_eq!(page["prev_page_url"], format!("{base}?page=1"));
    assert_eq!(page["next_page_url"], format!("{base}?page=3"));
    let got: Vec<&str> = page["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        got,
        ids[10..20].iter().map(String::as_str).collect::<Vec<_>>()
    );
    let last = cg(&s, "GET", "/checkouts?per_page=10&page=3", None).json();
    assert_eq!(last["data"].as_array().unwrap().len(), 3);
    assert_eq!(last["next_page_url"], Value::Null);
    let first = cg(&s, "GET", "/checkouts", None).json();
    assert_eq!(first["per_page"], 10);
    assert_eq!(first["prev_page_url"], Value::Null);
    let beyond = cg(&s, "GET", "/checkouts?page=9", None).json();
    assert_eq!(beyond["data"], json!([]));
    assert_eq!(
        cg(&s, "GET", "/checkouts?per_page=50", None).json()["data"]
            .as_array()
            .unwrap()
            .len(),
        23
    );

    // The base URL is the request's own.
    let r = request(
        s.addr(),
        "GET",
        "/chargily/test/api/v2/checkouts?per_page=5",
        &[support::CHARGILY_AUTH, ("Host", "pay.example.test:8443")],
        None,
    );
    assert_eq!(
        r.json()["next_page_url"],
        "http://pay.example.test:8443/chargily/test/api/v2/checkouts?page=2"
    );

    for (query, key, message) in [
        (
            "per_page=51",
            "per_page",
            "The per page field must not be greater than 50.",
        ),
        (
            "per_page=0",
            "per_page",
            "The per page field must be at least 1.",
        ),
        (
            "per_page=ten",
            "per_page",
            "The per page field must be an integer.",
        ),
        ("page=0", "page", "The page field must be at least 1."),
    ] {
        let r = cg(&s, "GET", &format!("/checkouts?{query}"), None);
        assert_eq!(r.status, 422, "{query}");
        assert_eq!(r.json()["errors"], json!({key: [message]}), "{query}");
    }
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn test_and_live_modes_do_not_share_objects() {
    let s = server();
    let test = cg(&s, "POST", "/checkouts", Some(&checkout_body(2000))).json();
    let live = cg_live(&s, "POST", "/checkouts", Some(&checkout_body(3000))).json();
    assert_eq!(test["livemode"], false);
    assert_eq!(live["livemode"], true);
    assert!(
        live["checkout_url"]
            .as_str()
            .unwrap()
            .starts_with("https://pay.chargily.dz/checkouts/")
    );
    let live_id = live["id"].as_str().unwrap();
    assert_eq!(
        cg(&s, "GET", &format!("/checkouts/{live_id}"), None).status,
        404
    );
    assert_eq!(
        cg_live(&s, "GET", &format!("/checkouts/{live_id}"), None).status,
        200
    );
    let list = cg_live(&s, "GET", "/checkouts", None).json();
    assert_eq!(list["total"], 1);
    assert_eq!(list["livemode"], true);
    assert_eq!(
        cg_live(&s, "GET", "/balance", None).json()["livemode"],
        true
    );
}

#[test]
fn customers_products_prices_payment_links_and_balance() {
    let s = server();
    // Customers.
    let c = cg(
        &s,
        "POST",
        "/customers",
        Some(
            &json!({"name": "Amina", "email": "a@example.test", "address": {"country": "dz", "state": "Alger", "address": "1 rue"}}),
        ),
    );
    assert_eq!(c.status, 200, "{}", c.text());
    let c = c.json();
    assert_eq!(c["entity"], "customer");
    assert_eq!(
        c["address"],
        json!({"country": "Algeria", "state": "Alger", "address": "1 rue"})
    );
    let cid = c["id"].as_str().unwrap();
    let u = cg(
        &s,
        "POST",
        &format!("/customers/{cid}"),
        Some(&json!({"phone": "0550000000"})),
    )
    .json();
    assert_eq!(u["phone"], "0550000000");
    assert_eq!(u["name"], "Amina");
    let list = cg(&s, "GET", "/customers", None).json();
    assert_eq!(list["total"], 1);
    assert!(list["data"][0].get("livemode").is_none(), "quirk 22");
    let bad = cg(
        &s,
        "POST",
        "/customers",
        Some(&json!({"address": {"country": "Algeria"}})),
    );
    assert_eq!(bad.status, 422);
    assert_eq!(
        bad.json()["errors"],
        json!({"address.country": ["The address.country field must not be greater than 2 characters."]})
    );
    // A checkout for the customer; an unknown customer is rejected.
    let mut body = checkout_body(4000);
    body["customer_id"] = json!(cid);
    assert_eq!(
        cg(&s, "POST", "/checkouts", Some(&body)).json()["customer_id"],
        cid
    );
    body["customer_id"] = json!("01hzzzzzzzzzzzzzzzzzzzzzzz");
    assert_eq!(
        cg(&s, "POST", "/checkouts", Some(&body)).json()["errors"],
        json!({"customer_id": ["The selected customer id is invalid."]})
    );
    let d = cg(&s, "DELETE", &format!("/customers/{cid}"), None);
    assert_eq!(d.status, 200);
    assert_eq!(d.json()["id"], cid);
    assert_eq!(
        cg(&s, "GET", &format!("/customers/{cid}"), None).status,
        404
    );
    assert_eq!(
        cg(&s, "DELETE", &format!("/customers/{cid}"), None).status,
        404
    );

    // Products and prices.
    let p = cg(
        &s,
        "POST",
        "/products",
        Some(&json!({"name": "Tea", "images": ["https://img.test/t.png"]})),
    )
    .json();
    let pid = p["id"].as_str().unwrap();
    assert_eq!(p["metadata"], json!([]));
    assert_eq!(
        cg(&s, "POST", "/products", Some(&json!({"description": "x"}))).json()["errors"],
        json!({"name": ["The name field is required."]})
    );
    let up = cg(
        &s,
        "POST",
        &format!("/products/{pid}"),
        Some(&json!({"description": "Green tea"})),
    )
    .json();
    assert_eq!(up["description"], "Green tea");
    assert_eq!(up["name"], "Tea");
    let price = cg(
        &s,
        "POST",
        "/prices",
        Some(&json!({"amount": 1200, "currency": "dzd", "product_id": pid})),
    )
    .json();
    let price_id = price["id"].as_str().unwrap();
    assert_eq!(price["product_id"], pid);
    assert_eq!(
        cg(
            &s,
            "POST",
            "/prices",
            Some(&json!({"amount": 1, "currency": "dzd", "product_id": "nope"}))
        )
        .json()["errors"],
        json!({"product_id": ["The selected product id is invalid."]})
    );
    let mp = cg(
        &s,
        "POST",
        &format!("/prices/{price_id}"),
        Some(&json!({"metadata": {"size": "L"}})),
    )
    .json();
    assert_eq!(mp["metadata"], json!({"size": "L"}));
    assert_eq!(mp["amount"], 1200);
    assert_eq!(
        cg(&s, "GET", &format!("/prices/{price_id}"), None).json()["metadata"],
        json!({"size": "L"})
    );
    let pp = cg(&s, "GET", &format!("/products/{pid}/prices"), None).json();
    assert_eq!(pp["total"], 1);
    assert_eq!(pp["data"][0]["id"], price_id);
    assert_eq!(cg(&s, "GET", "/prices", None).json()["total"], 1);
    assert_eq!(cg(&s, "GET", "/products", None).json()["total"], 1);
    // A product with prices cannot be deleted; one without can.
    assert_eq!(
        cg(&s, "DELETE", &format!("/products/{pid}"), None).status,
        422
    );
    let lone = cg(&s, "POST", "/products", Some(&json!({"name": "Lone"}))).json();
    let lone_id = lone["id"].as_str().unwrap();
    assert_eq!(
        cg(&s, "DELETE", &format!("/products/{lone_id}"), None).status,
        200
    );
    assert_eq!(
        cg(&s, "GET", &format!("/products/{lone_id}"), None).status,
        404
    );

    // Payment links.
    let link = cg(
        &s,
        "POST",
        "/payment-links",
        Some(
            &json!({"name": "FB", "items": [{"price": price_id, "quantity": 2, "adjustable_quantity": true}]}),
        ),
    );
    assert_eq!(link.status, 200, "{}", link.text());
    let link = link.json();
    let lid = link["id"].as_str().unwrap();
    assert_eq!(link["active"], 1);
    assert_eq!(
        link["url"],
        format!("https://pay.chargily.dz/test/payment-links/{lid}")
    );
    let items = cg(&s, "GET", &format!("/payment-links/{lid}/items"), None).json();
    assert_eq!(items["data"][0]["quantity"], 2);
    assert_eq!(items["data"][0]["adjustable_quantity"], 1);
    let ul = cg(
        &s,
        "POST",
        &format!("/payment-links/{lid}"),
        Some(&json!({"name": "Instagram", "locale": "fr"})),
    )
    .json();
    assert_eq!(
        (ul["name"].clone(), ul["locale"].clone()),
        (json!("Instagram"), json!("fr"))
    );
    assert_eq!(
        cg(&s, "GET", &format!("/payment-links/{lid}"), None).json()["name"],
        "Instagram"
    );
    assert_eq!(cg(&s, "GET", "/payment-links", None).json()["total"], 1);
    assert_eq!(
        cg(
            &s,
            "POST",
            "/payment-links",
            Some(&json!({"name": "x", "items": [{"price": "nope", "quantity": 1}]}))
        )
        .json()["errors"],
        json!({"items.0.price": ["The selected items.0.price is invalid."]})
    );

    // Balance: paid checkouts bring in their amount minus the merchant's fees.
    let balance = cg(&s, "GET", "/balance", None).json();
    assert_eq!(
        balance["wallets"][0],
        json!({"currency": "dzd", "balance": 0, "ready_for_payout": "0", "on_hold": 0})
    );
    let mut body = checkout_body(10_000);
    body["chargily_pay_fees_allocation"] = json!("merchant");
    let id = cg(&s, "POST", "/checkouts", Some(&body)).json()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        control(
            &s,
            "POST",
            &format!("/chargily/test/checkouts/{id}/pay"),
            None
        )
        .status,
        200
    );
    let balance = cg(&s, "GET", "/balance", None).json();
    assert_eq!(balance["wallets"][0]["balance"], 10_000 - 250);
    assert_eq!(balance["wallets"][0]["ready_for_payout"], "9750");
    assert_eq!(balance["wallets"].as_array().unwrap().len(), 3);
    assert!(
        s.self_check_violations().is_empty(),
        "{:?}",
        s.self_check_violations()
    );
}

#[test]
fn seed_and_fixed_clock_make_runs_identical() {
    let run = |seed| {
        let s = server_with(|c| c.seed = Some(seed));
        let ids = prices(&s, &[700]);
        let a = cg(&s, "POST", "/checkouts", Some(&checkout_body(2000))).json();
        let b = cg(
            &s,
            "POST",
            "/checkouts",
            Some(&json!({"items": [{"price": ids[0], "quantity": 3}], "success_url": "https://shop.test/ok"})),
        )
        .json();
        (ids, a, b)
    };
    let first = run(42);
    assert_eq!(first, run(42));
    let other = run(43);
    assert_ne!(first.1["id"], other.1["id"]);
    assert_eq!(first.1["created_at"], other.1["created_at"]);
}
