//! Request validation for the two APIs, on `oas::check::Spec` (which indexes the operations,
//! splits envelope bodies into their branches and caches the validators): violations become
//! API-neutral [`Issue`]s, which each API words its own way (Laravel for Chargily,
//! marshmallow for ReCharge).

use std::collections::BTreeMap;

use oas::check::Spec;
use oas::{Violation, pointer};
use serde_json::Value;

/// One problem with a request, independent of how the API words it.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// Instance path segments; for `Required`, ends with the missing property.
    pub path: Vec<String>,
    pub kind: IssueKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum IssueKind {
    Required,
    /// `expected` is the schema's `type`; `null` when the value sent was `null`.
    Type {
        expected: String,
        null: bool,
    },
    Enum(Vec<Value>),
    Minimum(Value),
    Maximum(Value),
    MinLength(Value),
    MaxLength(Value),
    MinItems(Value),
    MaxItems(Value),
    Format(String),
    Pattern,
    /// `anyOf`, `oneOf` or `not` failed at this path.
    Composite(String),
    Other(String),
}

/// Validates the JSON request body of operation `index`.
pub fn check_body(spec: &Spec, index: usize, body: &Value) -> Vec<Issue> {
    match spec.check_request_body(index, body) {
        Ok(violations) => violations
            .iter()
            .map(|v| issue(spec.root(), v, body, &[]))
            .collect(),
        Err(e) => vec![Issue {
            path: Vec::new(),
            kind: IssueKind::Other(e),
        }],
    }
}

/// Validates the query parameters operation `index` declares; unknown parameters are ignored.
/// Returns the parsed values (integers as numbers) and the issues.
pub fn check_query(
    spec: &Spec,
    index: usize,
    query: &[(String, String)],
) -> (BTreeMap<String, Value>, Vec<Issue>) {
    let mut values = BTreeMap::new();
    let mut issues = Vec::new();
    let Some(request) = spec.request(index) else {
        return (values, issues);
    };
    for param in &request.query {
        // The last occurrence wins, as in PHP.
        let Some((_, raw)) = query.iter().rev().find(|(k, _)| *k == param.name) else {
            continue;
        };
        let value = if param.integer {
            raw.trim()
                .parse::<i64>()
                .map_or_else(|_| Value::String(raw.clone()), Value::from)
        } else {
            Value::String(raw.clone())
        };
        let prefix = std::slice::from_ref(&param.name);
        match param.schema.validate(spec, &value) {
            Ok(violations) => issues.extend(
                violations
                    .iter()
                    .map(|v| issue(spec.root(), v, &value, prefix)),
            ),
            Err(e) => issues.push(Issue {
                path: prefix.to_vec(),
                kind: IssueKind::Other(e),
            }),
        }
        values.insert(param.name.clone(), value);
    }
    (values, issues)
}

/// A violation as an [`Issue`]; `prefix` is prepended to its path.
fn issue(root: &Value, v: &Violation, instance: &Value, prefix: &[String]) -> Issue {
    let mut path: Vec<String> = prefix.to_vec();
    path.extend(v.instance_pointer.split('/').skip(1).map(pointer::unescape));
    let limit = || {
        pointer::get(root, &v.schema_pointer)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let kind = match v.keyword.as_str() {
        "required" => {
            if let Some(name) = v.properties.first() {
                path.push(name.clone());
            }
            IssueKind::Required
        }
        "type" => IssueKind::Type {
            expected: match limit() {
                Value::String(s) => s,
                other => other.to_string(),
            },
            null: instance.pointer(&v.instance_pointer) == Some(&Value::Null),
        },
        "enum" => IssueKind::Enum(match limit() {
            Value::Array(a) => a,
            _ => Vec::new(),
        }),
        "minimum" => IssueKind::Minimum(limit()),
        "maximum" => IssueKind::Maximum(limit()),
        "minLength" => IssueKind::MinLength(limit()),
        "maxLength" => IssueKind::MaxLength(limit()),
        "minItems" => IssueKind::MinItems(limit()),
        "maxItems" => IssueKind::MaxItems(limit()),
        "format" => IssueKind::Format(match limit() {
            Value::String(s) => s,
            _ => String::new(),
        }),
        "pattern" => IssueKind::Pattern,
        "anyOf" | "oneOf" | "not" => IssueKind::Composite(v.keyword.clone()),
        _ => IssueKind::Other(v.message.clone()),
    };
    Issue { path, kind }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::specs::Api;
    use oas::check::BodySchema;
    use serde_json::json;

    fn spec(api: Api) -> Spec {
        Spec::new(api.document().unwrap().root)
    }

    #[test]
    fn envelopes_and_query_parameters_are_indexed() {
        let recharge = spec(Api::Recharge);
        let body = |id| {
            recharge
                .request(recharge.operation(id).unwrap())
                .unwrap()
                .body
                .as_ref()
        };
        assert!(matches!(
            body("createCheckout"),
            Some(BodySchema::Envelope { key, .. }) if key == "checkout"
        ));
        assert!(matches!(
            body("chargeCheckout"),
            Some(BodySchema::Envelope { key, .. }) if key == "checkout_charge"
        ));
        let create = recharge.operation("createCheckout").unwrap();
        assert!(recharge.documented_statuses(create).contains(&426));
        let chargily = spec(Api::Chargily);
        let list = chargily.request(chargily.operation("listCheckouts").unwrap());
        let query = &list.unwrap().query;
        let names: Vec<&str> = query.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, ["per_page", "page"]);
        assert!(query.iter().all(|q| q.integer));
        assert_eq!(chargily.operations().len(), 27);
        assert_eq!(recharge.operations().len(), 5);
        assert!(chargily.warm_up_requests().is_empty());
        assert!(recharge.warm_up_requests().is_empty());
    }

    #[test]
    fn nested_violations_are_reported_one_by_one() {
        let chargily = spec(Api::Chargily);
        let op = chargily.operation("createCheckout").unwrap();
        let issues = check_body(
            &chargily,
            op,
            &json!({"items": [{"quantity": 0}], "locale": "de", "success_url": 5}),
        );
        let paths: Vec<String> = issues.iter().map(|i| i.path.join(".")).collect();
        assert!(paths.contains(&"items.0.price".to_owned()), "{issues:?}");
        assert!(paths.contains(&"items.0.quantity".to_owned()), "{issues:?}");
        assert!(paths.contains(&"locale".to_owned()), "{issues:?}");
        assert!(paths.contains(&"success_url".to_owned()), "{issues:?}");
        let recharge = spec(Api::Recharge);
        let op = recharge.operation("createCheckout").unwrap();
        let issues = check_body(
            &recharge,
            op,
            &json!({"checkout": {"line_items": [{"quantity": "x"}]}}),
        );
        let paths: Vec<String> = issues.iter().map(|i| i.path.join(".")).collect();
        assert!(
            paths.contains(&"checkout.line_items.0.variant_id".to_owned()),
            "{issues:?}"
        );
        assert!(
            paths.contains(&"checkout.line_items.0.quantity".to_owned()),
            "{issues:?}"
        );
        let list = chargily.operation("listCheckouts").unwrap();
        let query = [
            ("per_page".to_owned(), "500".to_owned()),
            ("page".to_owned(), "x".to_owned()),
            ("other".to_owned(), "1".to_owned()),
        ];
        let (values, issues) = check_query(&chargily, list, &query);
        assert_eq!(values["per_page"], json!(500));
        assert_eq!(values["page"], json!("x"));
        assert!(!values.contains_key("other"));
        let kinds: Vec<(String, &IssueKind)> =
            issues.iter().map(|i| (i.path.join("."), &i.kind)).collect();
        assert!(
            kinds.contains(&("per_page".to_owned(), &IssueKind::Maximum(json!(50)))),
            "{kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|(p, k)| p == "page" && matches!(k, IssueKind::Type { .. })),
            "{kinds:?}"
        );
    }
}
