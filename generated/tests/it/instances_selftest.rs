//! Self-tests of the instance generator in `support/instances.rs`: over every component schema
//! of both specs, in both directions, `valid` values validate and `invalid` values do not; and
//! the tricky schemas produce every shape they allow.

use crate::support::instances;

use std::collections::BTreeSet;
use std::path::Path;

use oas::{Direction, SchemaValidator};
use proptest::strategy::{BoxedStrategy, Strategy, ValueTree};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use instances::{Options, component_schemas, invalid, valid, valid_declared, valid_with};

const CHARGILY: &str = "chargily-pay-v2.yaml";
const RECHARGE: &str = "recharge-2021-01.yaml";
const CASES: u32 = 64;
const DIRECTIONS: [Direction; 2] = [Direction::Request, Direction::Response];

fn spec(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../spec")
        .join(name);
    oas::Document::load(&path).unwrap().root
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// The generator without the validator as a safety net: it must be right by construction.
fn unchecked() -> Options {
    Options {
        check: false,
        ..Options::default()
    }
}

fn sweep_valid(file: &str) {
    let root = spec(file);
    let mut failures = Vec::new();
    let mut runs = 0;
    for direction in DIRECTIONS {
        for at in component_schemas(&root) {
            let validator = SchemaValidator::compile(&root, &at, direction).unwrap();
            let strategy = valid_with(&root, &at, direction, &unchecked());
            let result = runner(CASES).run(&strategy, |value| {
                let violations = validator.validate(&value);
                if violations.is_empty() {
                    Ok(())
                } else {
                    Err(TestCaseError::fail(format!("{value} → {violations:?}")))
                }
            });
            runs += 1;
            if let Err(e) = result {
                failures.push(format!("{at} ({direction:?}): {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{file}: {runs} schema×direction runs of {CASES} valid cases");
}

fn sweep_invalid(file: &str) {
    let root = spec(file);
    let mut failures = Vec::new();
    let mut runs = 0;
    for direction in DIRECTIONS {
        for at in component_schemas(&root) {
            let validator = SchemaValidator::compile(&root, &at, direction).unwrap();
            let strategy = invalid(&root, &at, direction);
            let result = runner(CASES).run(&strategy, |(value, what)| {
                let kind = what.split(' ').next().unwrap_or_default();
                if !["type", "required", "null", "enum"].contains(&kind) || !what.contains(" at ") {
                    return Err(TestCaseError::fail(format!("bad description {what:?}")));
                }
                if validator.is_valid(&value) {
                    return Err(TestCaseError::fail(format!("{what}: {value} validates")));
                }
                Ok(())
            });
            runs += 1;
            if let Err(e) = result {
                failures.push(format!("{at} ({direction:?}): {e}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("{file}: {runs} schema×direction runs of {CASES} invalid cases");
}

#[test]
fn chargily_valid_values_validate() {
    sweep_valid(CHARGILY);
}

#[test]
fn recharge_valid_values_validate() {
    sweep_valid(RECHARGE);
}

#[test]
fn chargily_invalid_values_fail() {
    sweep_invalid(CHARGILY);
}

#[test]
fn recharge_invalid_values_fail() {
    sweep_invalid(RECHARGE);
}

// ---------------------------------------------------------------------------------------------
// Tricky schemas, by name

fn samples<T: std::fmt::Debug>(strategy: &BoxedStrategy<T>, n: usize) -> Vec<T> {
    let mut runner = TestRunner::deterministic();
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect()
}

fn schema(name: &str) -> String {
    format!("/components/schemas/{name}")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn kinds<'a>(values: impl IntoIterator<Item = Option<&'a Value>>) -> BTreeSet<&'static str> {
    values
        .into_iter()
        .map(|v| v.map_or("absent", kind))
        .collect()
}

fn set<const N: usize>(items: [&'static str; N]) -> BTreeSet<&'static str> {
    items.into()
}

#[test]
fn chargily_checkout_has_every_shape() {
    let root = spec(CHARGILY);
    let at = schema("Checkout");
    let values = samples(
        &valid_with(&root, &at, Direction::Response, &unchecked()),
        300,
    );
    let required: Vec<&str> = root["components"]["schemas"]["Checkout"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for v in &values {
        for r in &required {
            assert!(v.get(*r).is_some(), "{r} missing from {v}");
        }
        assert!(v["checkout_url"].as_str().unwrap().starts_with("https://"));
    }
    assert_eq!(
        kinds(values.iter().map(|v| v.get("metadata"))),
        set(["array", "null", "object"])
    );
    assert_eq!(
        kinds(values.iter().map(|v| v.get("pass_fees_to_customer"))),
        set(["boolean", "integer", "null"])
    );
    assert_eq!(
        kinds(values.iter().map(|v| v.get("fees_on_merchant"))),
        set(["absent", "integer"])
    );
    assert_eq!(
        kinds(values.iter().map(|v| v.get("shipping_address"))),
        set(["null", "object", "string"])
    );
    let extra = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .any(|k| k.starts_with("zz_extra_"))
    };
    assert!(values.iter().any(extra), "no undeclared keys");
    let declared = samples(&valid_declared(&root, &at, Direction::Response), 100);
    assert!(
        !declared.iter().any(extra),
        "undeclared keys though turned off"
    );
}

#[test]
fn chargily_create_checkout_request_respects_any_of_and_not() {
    let root = spec(CHARGILY);
    let values = samples(
        &valid_with(
            &root,
            &schema("CreateCheckoutRequest"),
            Direction::Request,
            &unchecked(),
        ),
        300,
    );
    let (mut with_items, mut with_amount, mut percentage, mut amount_discount) = (0, 0, 0, 0);
    for v in &values {
        assert!(v["success_url"].is_string());
        let items = v.get("items").is_some();
        let amount = v.get("amount").is_some() && v.get("currency").is_some();
        assert!(items || amount, "{v}");
        with_items += usize::from(items);
        with_amount += usize::from(amount);
        assert!(
            v.get("percentage_discount").is_none() || v.get("amount_discount").is_none(),
            "{v}"
        );
        if let Some(p) = v.get("percentage_discount") {
            percentage += 1;
            assert!((0..=100).contains(&p.as_i64().unwrap()));
        }
        amount_discount += usize::from(v.get("amount_discount").is_some());
        if let Some(a) = v.get("amount") {
            assert!(a.as_i64().unwrap() >= 1);
        }
    }
    assert!(with_items > 0 && with_amount > 0);
    assert!(percentage > 0 && amount_discount > 0);
}

#[test]
fn chargily_metadata_is_null_object_or_array_of_anything() {
    let root = spec(CHARGILY);
    let values = samples(
        &valid_with(
            &root,
            &schema("Metadata"),
            Direction::Response,
            &unchecked(),
        ),
        200,
    );
    assert_eq!(
        kinds(values.iter().map(Some)),
        set(["array", "null", "object"])
    );
    // Arrays come back as sent (the Python SDK's test reads `metadata[0]`): non-empty ones too.
    assert!(
        values
            .iter()
            .any(|v| v.as_array().is_some_and(|a| !a.is_empty())),
        "array entries are content: some arrays must have them"
    );
    assert!(
        values
            .iter()
            .any(|v| v.as_object().is_some_and(|o| !o.is_empty())),
        "map entries are content: some objects must have them"
    );
}

#[test]
fn chargily_flexible_boolean_is_a_boolean_or_zero_or_one() {
    let root = spec(CHARGILY);
    let values: BTreeSet<String> = samples(
        &valid_with(
            &root,
            &schema("FlexibleBoolean"),
            Direction::Response,
            &unchecked(),
        ),
        200,
    )
    .iter()
    .map(Value::to_string)
    .collect();
    assert_eq!(
        values,
        ["0", "1", "false", "true"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}

#[test]
fn recharge_checkout_create_request_is_wrapped_or_unwrapped() {
    let root = spec(RECHARGE);
    let values = samples(
        &valid_with(
            &root,
            &schema("CheckoutCreateRequest"),
            Direction::Request,
            &unchecked(),
        ),
        200,
    );
    let (mut wrapped, mut unwrapped) = (0, 0);
    for v in &values {
        if let Some(inner) = v.get("checkout") {
            wrapped += 1;
            assert!(inner["line_items"].is_array(), "{v}");
            assert!(inner.get("checkout").is_none(), "{v}");
        } else {
            unwrapped += 1;
            assert!(v["line_items"].is_array(), "{v}");
        }
    }
    assert!(
        wrapped > 0 && unwrapped > 0,
        "{wrapped} wrapped, {unwrapped} unwrapped"
    );
}

#[test]
fn recharge_checkout_charge_id_is_an_integer_none_null_or_absent() {
    let root = spec(RECHARGE);
    let values = samples(
        &valid_with(
            &root,
            &schema("CheckoutCharge"),
            Direction::Response,
            &unchecked(),
        ),
        300,
    );
    assert_eq!(
        kinds(values.iter().map(|v| v.get("charge_id"))),
        set(["absent", "integer", "null", "string"])
    );
    // Strings are digits (RechargeSharp parses them as the number) or "None" in any case.
    let mut strings = BTreeSet::new();
    for v in &values {
        if let Some(Value::String(s)) = v.get("charge_id") {
            let digits = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            assert!(digits || s.eq_ignore_ascii_case("none"), "{s}");
            strings.insert(if digits { "digits" } else { "none" });
        }
    }
    assert_eq!(strings, set(["digits", "none"]));
}

#[test]
fn recharge_error_response_has_errors_or_error() {
    let root = spec(RECHARGE);
    let values = samples(
        &valid_with(
            &root,
            &schema("ErrorResponse"),
            Direction::Response,
            &unchecked(),
        ),
        200,
    );
    assert!(
        values
            .iter()
            .all(|v| v.get("errors").is_some() || v.get("error").is_some())
    );
    assert!(values.iter().any(|v| v.get("errors").is_none()));
    assert!(values.iter().any(|v| v.get("error").is_none()));
    assert_eq!(
        kinds(values.iter().filter_map(|v| v.get("errors")).map(Some)),
        set(["object", "string"])
    );
}

#[test]
fn invalid_values_cover_every_kind_of_mutation() {
    let root = spec(CHARGILY);
    let at = schema("Checkout");
    let validator = SchemaValidator::compile(&root, &at, Direction::Response).unwrap();
    let values = samples(&invalid(&root, &at, Direction::Response), 300);
    let mut seen = BTreeSet::new();
    for (value, what) in &values {
        assert!(!validator.is_valid(value), "{what}: {value}");
        seen.insert(what.split(' ').next().unwrap().to_owned());
        let pointer = what.split(' ').nth(2).unwrap().trim_end_matches(':');
        if what.starts_with("required") {
            assert!(value.pointer(pointer).is_none(), "{what}: {value}");
        } else if pointer != "(root)" {
            assert!(value.pointer(pointer).is_some(), "{what}: {value}");
        }
        // Never a number where a number is expected, nor anything inside free-form metadata.
        assert!(!what.starts_with("type at /metadata/"), "{what}");
        assert!(
            !what.contains("expected integer or number, got integer"),
            "{what}"
        );
    }
    assert_eq!(
        seen,
        ["enum", "null", "required", "type"]
            .into_iter()
            .map(str::to_owned)
            .collect()
    );
}

#[test]
fn invalid_skips_mutations_a_rust_type_would_accept() {
    let root = spec(RECHARGE);
    let at = schema("CheckoutCharge");
    for (value, what) in samples(&invalid(&root, &at, Direction::Response), 200) {
        // Every property is optional: no removal, and no null (an `Option` reads it as absent).
        assert!(!what.starts_with("required"), "{what}: {value}");
        if what.starts_with("null") {
            assert_eq!(
                what,
                "null at (root): null where the schema is not nullable"
            );
        }
        // charge_id is integer or "None": only a non-integer, non-string type breaks it.
        if what.starts_with("type at /charge_id") {
            assert!(!value["charge_id"].is_string() && !value["charge_id"].is_i64());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Constructs the specs do not use

fn synthetic() -> Value {
    json!({
        "components": {"schemas": {
            "Node": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 3},
                "children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}},
                "next": {"nullable": true, "allOf": [{"$ref": "#/components/schemas/Node"}]}}},
            "Account": {"type": "object", "additionalProperties": false,
                "required": ["id", "password", "ratio", "small", "tags"],
                "properties": {
                    "id": {"type": "string", "format": "uuid", "readOnly": true},
                    "password": {"type": "string", "writeOnly": true, "pattern": "^[a-z]{4,}\\d$"},
                    "ratio": {"type": "number", "minimum": 0, "exclusiveMinimum": true,
                              "maximum": 1, "exclusiveMaximum": true},
                    "small": {"type": "integer", "format": "int32", "minimum": -5,
                              "exclusiveMaximum": 5, "multipleOf": 2},
                    "tags": {"type": "array", "minItems": 2, "maxItems": 4, "uniqueItems": true,
                             "items": {"type": "string", "enum": ["a", "b", "c", "d"]}},
                    "born": {"type": "string", "format": "date"},
                    "seen": {"type": "string", "format": "date-time"},
                    "mail": {"type": "string", "format": "email"},
                    "home": {"type": "string", "format": "uri"},
                    "blob": {"type": "string", "format": "byte"},
                    "big": {"type": "integer", "format": "int64"},
                    "scores": {"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}},
                    "either": {"anyOf": [{"type": "string", "maxLength": 2}, {"type": "integer"}]},
                    "neither": {"type": "integer", "not": {"enum": [0, 1, 2]}}
                }}
        }}
    })
}

#[test]
fn synthetic_schemas_generate_valid_values() {
    let root = synthetic();
    for at in component_schemas(&root) {
        for direction in [Direction::Request, Direction::Response, Direction::Neutral] {
            let validator = SchemaValidator::compile(&root, &at, direction).unwrap();
            runner(CASES)
                .run(&valid_with(&root, &at, direction, &unchecked()), |v| {
                    let violations = validator.validate(&v);
                    if violations.is_empty() {
                        Ok(())
                    } else {
                        Err(TestCaseError::fail(format!("{v} → {violations:?}")))
                    }
                })
                .unwrap_or_else(|e| panic!("{at} ({direction:?}): {e}"));
            runner(CASES)
                .run(&invalid(&root, &at, direction), |(v, what)| {
                    if validator.is_valid(&v) {
                        Err(TestCaseError::fail(format!("{what}: {v} validates")))
                    } else {
                        Ok(())
                    }
                })
                .unwrap_or_else(|e| panic!("{at} ({direction:?}): {e}"));
        }
    }
}

#[test]
fn read_only_and_write_only_follow_the_direction() {
    let root = synthetic();
    let at = "/components/schemas/Account";
    for v in samples(&valid(&root, at, Direction::Request), 50) {
        assert!(v.get("id").is_none() && v.get("password").is_some(), "{v}");
    }
    for v in samples(&valid(&root, at, Direction::Response), 50) {
        assert!(v.get("id").is_some() && v.get("password").is_none(), "{v}");
    }
    let both = samples(&valid(&root, at, Direction::Neutral), 50);
    assert!(
        both.iter()
            .all(|v| v.get("id").is_some() && v.get("password").is_some())
    );
    // additionalProperties: false: nothing undeclared even with undeclared keys on.
    let declared: BTreeSet<&str> = root["components"]["schemas"]["Account"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for v in &both {
        assert!(
            v.as_object()
                .unwrap()
                .keys()
                .all(|k| declared.contains(k.as_str()))
        );
    }
}

#[test]
fn recursion_is_bounded() {
    let root = synthetic();
    fn depth(v: &Value) -> usize {
        let children = v["children"].as_array().into_iter().flatten();
        let next = v.get("next").filter(|n| n.is_object());
        1 + children.chain(next).map(depth).max().unwrap_or(0)
    }
    let values = samples(
        &valid(&root, "/components/schemas/Node", Direction::Neutral),
        200,
    );
    let deepest = values.iter().map(depth).max().unwrap();
    assert!((2..=4).contains(&deepest), "deepest {deepest}");
}

#[test]
fn component_schemas_are_in_document_order() {
    let root = spec(RECHARGE);
    let names = component_schemas(&root);
    assert_eq!(names.len(), 43);
    assert_eq!(names[0], "/components/schemas/Money");
    assert_eq!(names[1], "/components/schemas/CheckoutResponse");
}
