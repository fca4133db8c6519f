//! Walks of a document: its operations (including those of `callbacks`), and the properties
//! of every schema in it.

use serde_json::Value;

use crate::pointer;

/// The HTTP methods a Path Item Object may hold, in the order OpenAPI lists them.
pub const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation and where it sits.
#[derive(Debug, Clone)]
pub struct Operation<'a> {
    /// The path template (`/checkouts/{id}`), or the callback expression for callbacks.
    pub path: String,
    /// Lowercase HTTP method.
    pub method: &'static str,
    /// JSON pointer of the Operation Object.
    pub pointer: String,
    pub node: &'a Value,
    /// Parameters declared on the Path Item, which apply unless the operation overrides them.
    pub path_parameters: Option<(String, &'a Value)>,
    /// For callback operations: the pointer of the operation that declares the callback.
    pub callback_of: Option<String>,
}

impl Operation<'_> {
    /// `operationId`, when present and a string.
    pub fn id(&self) -> Option<&str> {
        self.node.get("operationId").and_then(Value::as_str)
    }
}

/// Every operation under `paths`, then every callback operation, in document order.
pub fn operations(root: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    if let Some(paths) = root.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let at = pointer::push("/paths", path);
            collect(root, path, &at, item, None, &mut out);
        }
    }
    let top = out.len();
    for i in 0..top {
        let owner = out[i].pointer.clone();
        let Some(callbacks) = out[i].node.get("callbacks").and_then(Value::as_object) else {
            continue;
        };
        for (name, callback) in callbacks {
            let at = pointer::push(&format!("{owner}/callbacks"), name);
            let Ok((at, callback)) = pointer::deref(root, &at, callback) else {
                continue;
            };
            let Some(expressions) = callback.as_object() else {
                continue;
            };
            for (expression, item) in expressions {
                let item_at = pointer::push(&at, expression);
                collect(
                    root,
                    expression,
                    &item_at,
                    item,
                    Some(owner.clone()),
                    &mut out,
                );
            }
        }
    }
    out
}

/// The operations of an OpenAPI 3.1 document's `webhooks`: requests the API sends to a
/// receiver, each under its name (in [`Operation::path`]), in document order. Not among
/// [`operations`]: no request to the API addresses them.
pub fn webhooks(root: &Value) -> Vec<Operation<'_>> {
    let mut out = Vec::new();
    if let Some(hooks) = root.get("webhooks").and_then(Value::as_object) {
        for (name, item) in hooks {
            let at = pointer::push("/webhooks", name);
            collect(root, name, &at, item, None, &mut out);
        }
    }
    out
}

fn collect<'a>(
    root: &'a Value,
    path: &str,
    at: &str,
    item: &'a Value,
    callback_of: Option<String>,
    out: &mut Vec<Operation<'a>>,
) {
    // Unresolvable Path Item references are reported by the lint's reference check.
    let Ok((at, item)) = pointer::deref(root, at, item) else {
        return;
    };
    let path_parameters = item
        .get("parameters")
        .map(|p| (format!("{at}/parameters"), p));
    for method in HTTP_METHODS {
        if let Some(node) = item.get(method).filter(|n| n.is_object()) {
            out.push(Operation {
                path: path.to_owned(),
                method,
                pointer: pointer::push(&at, method),
                node,
                path_parameters: path_parameters.clone(),
                callback_of: callback_of.clone(),
            });
        }
    }
}

/// Every property of every schema anywhere in the document (components, inline request and
/// response schemas, nested ones): `visit(name, schema)`, the schema through its `$ref`s
/// ([`pointer::follow`]). What the redactor and the normalizer learn from a spec (which names are
/// secrets, identifiers, timestamps). Bounded in depth: a document deeper than 128 levels is
/// walked to that depth.
pub fn properties<'a>(root: &'a Value, mut visit: impl FnMut(&'a str, &'a Value)) {
    fn walk<'a>(
        root: &'a Value,
        node: &'a Value,
        depth: usize,
        visit: &mut impl FnMut(&'a str, &'a Value),
    ) {
        if depth > 128 {
            return;
        }
        match node {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    for (name, schema) in props {
                        visit(name, pointer::follow(root, schema));
                    }
                }
                for v in map.values() {
                    walk(root, v, depth + 1, visit);
                }
            }
            Value::Array(items) => {
                for v in items {
                    walk(root, v, depth + 1, visit);
                }
            }
            _ => {}
        }
    }
    walk(root, root, 0, &mut visit);
}

#[cfg(test)]
mod property_tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_property_anywhere_through_refs() {
        let root = json!({
            "paths": {"/a": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"properties": {"inline": {"$ref": "#/components/schemas/S"}}}}}}}}},
            "components": {"schemas": {"S": {"type": "string", "format": "date"},
                "O": {"properties": {"nested": {"properties": {"deep": {"type": "integer"}}}}}}}
        });
        let mut seen = Vec::new();
        properties(&root, |name, schema| {
            seen.push((name, schema.get("type").cloned()))
        });
        seen.sort_by_key(|(n, _)| *n);
        assert_eq!(
            seen,
            vec![
                ("deep", Some(json!("integer"))),
                ("inline", Some(json!("string"))),
                ("nested", None),
            ]
        );
    }
}
