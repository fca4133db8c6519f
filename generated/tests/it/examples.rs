//! Every example in both specs round-trips through the generated types: it deserializes into
//! the type generated for its schema and serializes back to the same JSON (numbers compared by
//! value: `50` and `50.0` are the same JSON number).
//!
//! Request bodies go through each operation's `Body` type, responses through its
//! `Response::decode` (so status dispatch is exercised too), schema-level examples through the
//! component type.

use std::path::Path;

use serde_json::Value;

use crate::support::json;
use json::{differences, examples_of};

type ResponseTrip = fn(&str, u16, Option<&str>, &[u8]) -> Option<Result<Option<Value>, String>>;
type RequestTrip = fn(&str, &Value) -> Option<Result<Value, String>>;
type SchemaTrip = fn(&str, &Value) -> Option<Result<Value, String>>;

struct Api {
    spec: &'static str,
    response: ResponseTrip,
    request: RequestTrip,
    schema: SchemaTrip,
}

macro_rules! api {
    ($spec:literal, $module:path) => {{
        use $module as m;
        Api {
            spec: $spec,
            response: |id, status, ct, body| {
                m::operations::round_trip_response(id, status, ct, body)
                    .map(|r| r.map_err(|e| e.to_string()))
            },
            request: |id, json| {
                m::operations::round_trip_request(id, json).map(|r| r.map_err(|e| e.to_string()))
            },
            schema: |name, json| {
                m::schemas::round_trip(name, json).map(|r| r.map_err(|e| e.to_string()))
            },
        }
    }};
}

fn apis() -> [Api; 2] {
    [
        api!("chargily-pay-v2.yaml", generated::chargily),
        api!("recharge-2021-01.yaml", generated::recharge),
    ]
}

fn load(spec: &str) -> oas::Document {
    oas::Document::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../spec")
            .join(spec),
    )
    .unwrap()
}

#[test]
fn every_example_round_trips() {
    let mut checked = 0;
    let mut failures = Vec::new();
    for api in apis() {
        let doc = load(api.spec);
        let root = &doc.root;
        for op in oas::operations(root)
            .into_iter()
            .filter(|op| op.callback_of.is_none())
        {
            let id = op.id().unwrap();
            if let Some(body) = op.node.get("requestBody") {
                let (at, body) = oas::pointer::deref(root, &op.pointer, body).unwrap();
                for (where_, example) in
                    examples_of(root, &at, &body["content"]["application/json"])
                {
                    checked += 1;
                    match (api.request)(id, &example) {
                        None => failures.push(format!("{}: {id}: no request type", api.spec)),
                        Some(Err(e)) => {
                            failures.push(format!("{}: {where_}: does not decode: {e}", api.spec))
                        }
                        Some(Ok(back)) => {
                            for d in differences(&example, &back) {
                                failures.push(format!(
                                    "{}: {where_}: round trip differs at {d}",
                                    api.spec
                                ));
                            }
                        }
                    }
                }
            }
            for (status, response) in op.node["responses"].as_object().unwrap() {
                let Ok(code) = status.parse::<u16>() else {
                    continue;
                };
                let (at, response) = oas::pointer::deref(root, &op.pointer, response).unwrap();
                let Some(media) = response
                    .get("content")
                    .and_then(|c| c.get("application/json"))
                else {
                    continue;
                };
                for (where_, example) in examples_of(root, &at, media) {
                    checked += 1;
                    let bytes = serde_json::to_vec(&example).unwrap();
                    match (api.response)(id, code, Some("application/json"), &bytes) {
                        None => failures.push(format!("{}: {id}: unknown operation", api.spec)),
                        Some(Err(e)) => {
                            failures.push(format!("{}: {where_}: does not decode: {e}", api.spec))
                        }
                        Some(Ok(None)) => {
                            failures.push(format!("{}: {where_}: decoded without a body", api.spec))
                        }
                        Some(Ok(Some(back))) => {
                            for d in differences(&example, &back) {
                                failures.push(format!(
                                    "{}: {where_}: round trip differs at {d}",
                                    api.spec
                                ));
                            }
                        }
                    }
                }
            }
        }
        for (name, schema) in root["components"]["schemas"].as_object().unwrap() {
            if let Some(example) = schema.get("example") {
                checked += 1;
                match (api.schema)(name, example) {
                    None => failures.push(format!("{}: schema {name}: no type", api.spec)),
                    Some(Err(e)) => {
                        failures.push(format!("{}: schema {name} example: {e}", api.spec))
                    }
                    Some(Ok(back)) => {
                        for d in differences(example, &back) {
                            failures.push(format!(
                                "{}: schema {name} example differs at {d}",
                                api.spec
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} examples failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Both specs carry well over a hundred body examples; a sudden drop means the walk broke.
    assert!(checked > 100, "only {checked} examples found");
    println!("{checked} examples round-tripped");
}

#[test]
fn documented_but_invalid_bodies_fail_to_decode_naming_the_field() {
    use generated::chargily::operations::retrieve_checkout::Response;
    let doc = load("chargily-pay-v2.yaml");
    let mut checkout = doc
        .root
        .pointer("/paths/~1checkouts~1{id}/get/responses/200/content/application~1json/examples")
        .and_then(|e| e.as_object())
        .and_then(|e| e.values().next())
        .map(|e| e["value"].clone())
        .unwrap();
    checkout["amount"] = Value::from("2500");
    let err = Response::decode(
        200,
        Some("application/json"),
        &serde_json::to_vec(&checkout).unwrap(),
    )
    .unwrap_err();
    assert_eq!(err.path, "amount", "{err}");
    checkout["amount"] = Value::from(2500);
    checkout.as_object_mut().unwrap().remove("checkout_url");
    let err = Response::decode(
        200,
        Some("application/json"),
        &serde_json::to_vec(&checkout).unwrap(),
    )
    .unwrap_err();
    assert!(
        err.message.contains("missing field `checkout_url`"),
        "{err}"
    );
    // Undocumented statuses keep the raw body; garbage never panics.
    let other = Response::decode(599, Some("text/plain"), b"\xff\xfe").unwrap();
    assert_eq!(
        other,
        Response::Other {
            status: 599,
            body: b"\xff\xfe".to_vec().into()
        }
    );
    assert!(Response::decode(200, Some("application/json"), b"{\"amount\": 1").is_err());
    assert!(Response::decode(200, Some("text/html"), b"{}").is_err());
}
