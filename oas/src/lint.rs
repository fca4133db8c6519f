//! Structural checks that every spec in this project must pass, in OpenAPI 3.0 and 3.1.
//!
//! Each [`Finding`] names its rule and the JSON pointer where the problem is. The checks:
//! references resolve and are local; semantic keywords beside a `$ref` (ignored by OpenAPI 3.0)
//! are flagged, as are 3.0's `nullable` in a 3.1 document and 3.0's `nullable` without a
//! `type`; every operation has a unique `operationId`, a 2xx response and a documented error
//! response; every schema compiles; every example (of operations, webhooks and schemas,
//! including 3.1's `examples` lists) validates against its own schema, with
//! `readOnly`/`writeOnly` applied by direction; `x-extensible-enum` lists are well formed.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::load::Document;
use crate::pointer::{self, RefError};
use crate::schema::{Direction, SchemaError, SchemaValidator};
use crate::walk::{Operation, operations, webhooks};

/// The kinds of problem the lint reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    UnresolvedRef,
    ExternalRef,
    IgnoredRefSibling,
    NullableWithoutType,
    #[serde(rename = "nullable-in-3-1")]
    NullableIn31,
    MalformedExtensibleEnum,
    MissingOperationId,
    DuplicateOperationId,
    MissingSuccessResponse,
    MissingErrorResponse,
    InvalidSchema,
    InvalidExample,
}

impl Rule {
    /// The kebab-case name used in reports and fixture file names.
    pub fn name(self) -> &'static str {
        match self {
            Rule::UnresolvedRef => "unresolved-ref",
            Rule::ExternalRef => "external-ref",
            Rule::IgnoredRefSibling => "ignored-ref-sibling",
            Rule::NullableWithoutType => "nullable-without-type",
            Rule::NullableIn31 => "nullable-in-3-1",
            Rule::MalformedExtensibleEnum => "malformed-extensible-enum",
            Rule::MissingOperationId => "missing-operation-id",
            Rule::DuplicateOperationId => "duplicate-operation-id",
            Rule::MissingSuccessResponse => "missing-success-response",
            Rule::MissingErrorResponse => "missing-error-response",
            Rule::InvalidSchema => "invalid-schema",
            Rule::InvalidExample => "invalid-example",
        }
    }
}

/// Why an open list of known values (`x-extensible-enum`) is not one every reader (and the
/// generator) reads alike: it must be a non-empty list of distinct strings on a string schema,
/// and not beside a closed `enum`, which would make it meaningless.
fn extensible_enum_problem(
    schema: &serde_json::Map<String, Value>,
    list: &Value,
) -> Option<String> {
    let Some(values) = list.as_array().filter(|v| !v.is_empty()) else {
        return Some("must be a non-empty list of strings".into());
    };
    if let Some(v) = values.iter().find(|v| !v.is_string()) {
        return Some(format!("lists {v}, which is not a string"));
    }
    if let Some((i, v)) = values
        .iter()
        .enumerate()
        .find(|(i, v)| values[..*i].contains(v))
    {
        return Some(format!("lists {v} twice (again at index {i})"));
    }
    if schema.contains_key("enum") {
        return Some(
            "beside a closed `enum`, the open list has no effect; keep one of them".into(),
        );
    }
    match schema.get("type").and_then(Value::as_str) {
        None | Some("string") => None,
        Some(other) => Some(format!(
            "on a schema of type `{other}`; open lists hold strings"
        )),
    }
}

/// One problem, located by a JSON pointer into the document.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub pointer: String,
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "[{}] {}: {}",
            self.rule.name(),
            self.pointer,
            self.message
        )
    }
}

/// What [`lint`] found, and how much it looked at.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Sorted by rule, then pointer.
    pub findings: Vec<Finding>,
    /// Operations under `paths` (callbacks excluded).
    pub operations: usize,
    /// Example values validated against their schemas (one per example and schema).
    pub examples_checked: usize,
}

/// Runs every check.
pub fn lint(doc: &Document) -> Report {
    let mut lint = Lint {
        root: &doc.root,
        v31: doc.openapi() == crate::load::Version::V3_1,
        findings: Vec::new(),
        validators: BTreeMap::new(),
        examples: 0,
    };
    lint.references("", &doc.root);
    let ops = operations(&doc.root);
    lint.operations(&ops);
    for op in &ops {
        lint.operation_examples(op);
    }
    // A 3.1 document's webhooks: their examples, as for operations (their responses are the
    // receiver's, so the response rules do not apply).
    for hook in &webhooks(&doc.root) {
        lint.operation_examples(hook);
    }
    lint.schema_examples();
    let mut findings = lint.findings;
    findings.sort();
    findings.dedup();
    let operations = ops.iter().filter(|op| op.callback_of.is_none()).count();
    Report {
        findings,
        operations,
        examples_checked: lint.examples,
    }
}

/// Keywords that change what a schema accepts; beside a `$ref` they are silently ignored.
const SEMANTIC: [&str; 12] = [
    "type",
    "nullable",
    "readOnly",
    "writeOnly",
    "properties",
    "required",
    "enum",
    "items",
    "allOf",
    "oneOf",
    "anyOf",
    "additionalProperties",
];

struct Lint<'a> {
    root: &'a Value,
    /// An OpenAPI 3.1 document: its schemas are JSON Schema 2020-12.
    v31: bool,
    findings: Vec<Finding>,
    /// Compiled once per (schema, direction): many examples share a schema.
    validators: BTreeMap<(String, Direction), Option<SchemaValidator>>,
    examples: usize,
}

impl<'a> Lint<'a> {
    fn report(&mut self, rule: Rule, pointer: &str, message: impl Into<String>) {
        self.findings.push(Finding {
            rule,
            pointer: pointer.to_owned(),
            message: message.into(),
        });
    }

    fn references(&mut self, at: &str, node: &Value) {
        match node {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get("$ref") {
                    match pointer::local_target(reference) {
                        None => self.report(Rule::ExternalRef, at, format!("`{reference}` points outside the document; load the document from its file (`Document::load`) to bundle relative file references")),
                        Some(target) if pointer::get(self.root, &target).is_none() => {
                            self.report(Rule::UnresolvedRef, at, format!("`{reference}` does not resolve"))
                        }
                        Some(_) => {}
                    }
                    let ignored: Vec<&str> = SEMANTIC
                        .iter()
                        .copied()
                        .filter(|k| map.contains_key(*k))
                        .collect();
                    // Inside `examples`/`example` values a `$ref` key is just data. In 3.1 the
                    // siblings apply (JSON Schema 2020-12).
                    if !ignored.is_empty() && !at.contains("/example") && !self.v31 {
                        let advice = if ignored.contains(&"nullable") {
                            "write a nullable reference as `anyOf: [{$ref: …}, {type: …, nullable: true, enum: [null]}]`"
                        } else {
                            "wrap the reference in `allOf: [{$ref: …}]`"
                        };
                        self.report(
                            Rule::IgnoredRefSibling,
                            at,
                            format!(
                                "{} beside `$ref` is ignored in OpenAPI 3.0; {advice}",
                                ignored.join(", ")
                            ),
                        );
                    }
                }
                // A map of names (`properties: {nullable: …}`) is not a schema.
                let names = [
                    "/properties",
                    "/patternProperties",
                    "/$defs",
                    "/dependentSchemas",
                ]
                .iter()
                .any(|suffix| at.ends_with(suffix));
                let flag = !names && !at.contains("/example");
                if self.v31 && flag && matches!(map.get("nullable"), Some(Value::Bool(_))) {
                    self.report(
                        Rule::NullableIn31,
                        &pointer::push(at, "nullable"),
                        "`nullable` is OpenAPI 3.0's keyword; OpenAPI 3.1 ignores it, so null is \
                         refused here: write `type: [T, \"null\"]`, or add `{type: \"null\"}` to a \
                         `oneOf`/`anyOf`",
                    );
                } else if !self.v31
                    && flag
                    && !matches!(map.get("$ref"), Some(Value::String(_)))
                    && map.get("nullable") == Some(&Value::Bool(true))
                    && !map.contains_key("type")
                {
                    self.report(
                        Rule::NullableWithoutType,
                        at,
                        "`nullable: true` without a `type` beside it has no effect in OpenAPI 3.0.3 \
                         (strict readers refuse null here); give the `type`, or write a nullable \
                         reference or union as `anyOf: [{$ref: …}, {type: …, nullable: true, enum: [null]}]`",
                    );
                }
                if let Some(list) = map.get(crate::schema::EXTENSIBLE_ENUM)
                    && !at.contains("/example")
                {
                    if let Some(problem) = extensible_enum_problem(map, list) {
                        self.report(
                            Rule::MalformedExtensibleEnum,
                            &pointer::push(at, crate::schema::EXTENSIBLE_ENUM),
                            problem,
                        );
                    }
                }
                for (k, v) in map {
                    // Example payloads are data: a `$ref` key there is not a reference.
                    // So are a 3.1 schema's `examples` (a list, where a Media Type's is a map).
                    if k == "example"
                        || (k == "value" && at.contains("/examples/"))
                        || (k == "examples" && v.is_array())
                    {
                        continue;
                    }
                    self.references(&pointer::push(at, k), v);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    self.references(&format!("{at}/{i}"), v);
                }
            }
            _ => {}
        }
    }

    fn operations(&mut self, ops: &[Operation<'_>]) {
        let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
        for op in ops.iter().filter(|op| op.callback_of.is_none()) {
            let what = format!("{} {}", op.method.to_uppercase(), op.path);
            match op.id() {
                None | Some("") => self.report(
                    Rule::MissingOperationId,
                    &op.pointer,
                    format!("{what} has no operationId"),
                ),
                Some(id) => {
                    if let Some(first) = seen.insert(id, &op.pointer) {
                        seen.insert(id, first);
                        self.report(
                            Rule::DuplicateOperationId,
                            &op.pointer,
                            format!("operationId `{id}` of {what} is already used at {first}"),
                        );
                    }
                }
            }
            let codes: Vec<&str> = op
                .node
                .get("responses")
                .and_then(Value::as_object)
                .map(|r| r.keys().map(String::as_str).collect())
                .unwrap_or_default();
            if !codes.iter().any(|c| c.starts_with('2')) {
                self.report(
                    Rule::MissingSuccessResponse,
                    &op.pointer,
                    format!("{what} documents no 2xx response"),
                );
            }
            if !codes
                .iter()
                .any(|c| c.starts_with('4') || c.starts_with('5') || *c == "default")
            {
                self.report(
                    Rule::MissingErrorResponse,
                    &op.pointer,
                    format!("{what} documents no error response (4xx, 5xx or default)"),
                );
            }
        }
    }

    fn operation_examples(&mut self, op: &Operation<'a>) {
        let mut params: Vec<(String, &'a Value)> = Vec::new();
        for (base, list) in op.path_parameters.iter().cloned().chain(
            op.node
                .get("parameters")
                .map(|p| (format!("{}/parameters", op.pointer), p)),
        ) {
            for (i, p) in list.as_array().into_iter().flatten().enumerate() {
                params.push((format!("{base}/{i}"), p));
            }
        }
        for (at, param) in params {
            if let Some((at, param)) = self.resolve(&at, param) {
                self.holder_examples(&at, param, Direction::Request);
            }
        }
        if let Some(body) = op.node.get("requestBody") {
            if let Some((at, body)) = self.resolve(&format!("{}/requestBody", op.pointer), body) {
                self.content_examples(&at, body, Direction::Request);
            }
        }
        let responses = op.node.get("responses").and_then(Value::as_object);
        for (code, response) in responses.into_iter().flatten() {
            let at = pointer::push(&format!("{}/responses", op.pointer), code);
            let Some((at, response)) = self.resolve(&at, response) else {
                continue;
            };
            self.content_examples(&at, response, Direction::Response);
            for (name, header) in response
                .get("headers")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let h_at = pointer::push(&format!("{at}/headers"), name);
                if let Some((h_at, header)) = self.resolve(&h_at, header) {
                    self.holder_examples(&h_at, header, Direction::Response);
                }
            }
        }
    }

    /// Request bodies and responses: `content.<media type>`.
    fn content_examples(&mut self, at: &str, holder: &'a Value, direction: Direction) {
        for (media, object) in holder
            .get("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let m_at = pointer::push(&format!("{at}/content"), media);
            self.holder_examples(&m_at, object, direction);
        }
    }

    /// Parameters, headers and media types: a `schema` with `example` or `examples`, or `content`.
    fn holder_examples(&mut self, at: &str, holder: &'a Value, direction: Direction) {
        if holder.get("content").is_some() && holder.get("schema").is_none() {
            return self.content_examples(at, holder, direction);
        }
        if holder.get("schema").is_none() {
            return;
        }
        let schema_at = format!("{at}/schema");
        if let Some(example) = holder.get("example") {
            self.example(&format!("{at}/example"), example, &schema_at, direction);
        }
        for (name, ex) in holder
            .get("examples")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let ex_at = pointer::push(&format!("{at}/examples"), name);
            let Some((ex_at, ex)) = self.resolve(&ex_at, ex) else {
                continue;
            };
            if let Some(value) = ex.get("value") {
                self.example(&format!("{ex_at}/value"), value, &schema_at, direction);
            }
        }
    }

    /// `example` keywords inside schemas, wherever schemas are defined (not through `$ref`).
    fn schema_examples(&mut self) {
        let mut roots: Vec<String> = Vec::new();
        for (name, _) in self
            .root
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            roots.push(pointer::push("/components/schemas", name));
        }
        collect_schema_positions(self.root, "", &mut roots);
        roots.sort();
        roots.dedup();
        for at in roots {
            if let Some(node) = pointer::get(self.root, &at) {
                self.schema_tree_examples(&at, node);
            }
        }
    }

    fn schema_tree_examples(&mut self, at: &str, node: &'a Value) {
        let Some(obj) = node.as_object() else { return };
        if obj.contains_key("$ref") {
            return;
        }
        if let Some(example) = obj.get("example") {
            self.example(&format!("{at}/example"), example, at, Direction::Neutral);
        }
        // 3.1 (JSON Schema 2020-12) lists a schema's examples in an array.
        if self.v31
            && let Some(Value::Array(examples)) = obj.get("examples")
        {
            for (i, example) in examples.iter().enumerate() {
                self.example(
                    &format!("{at}/examples/{i}"),
                    example,
                    at,
                    Direction::Neutral,
                );
            }
        }
        for key in ["items", "not", "additionalProperties"] {
            if let Some(sub) = obj.get(key) {
                self.schema_tree_examples(&format!("{at}/{key}"), sub);
            }
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            for (i, sub) in obj
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.schema_tree_examples(&format!("{at}/{key}/{i}"), sub);
            }
        }
        for (name, sub) in obj
            .get("properties")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            self.schema_tree_examples(&pointer::push(&format!("{at}/properties"), name), sub);
        }
    }

    fn example(&mut self, at: &str, value: &Value, schema_at: &str, direction: Direction) {
        let key = (schema_at.to_owned(), direction);
        if !self.validators.contains_key(&key) {
            let compiled = match SchemaValidator::compile(self.root, schema_at, direction) {
                Ok(v) => Some(v),
                Err(SchemaError::Ref(_)) => None, // reported by the reference check
                Err(SchemaError::Invalid { message, .. }) => {
                    self.report(
                        Rule::InvalidSchema,
                        schema_at,
                        format!("rejected by the JSON Schema compiler: {message}"),
                    );
                    None
                }
                Err(e) => {
                    self.report(Rule::InvalidSchema, schema_at, e.to_string());
                    None
                }
            };
            self.validators.insert(key.clone(), compiled);
        }
        let Some(Some(validator)) = self.validators.get(&key) else {
            return;
        };
        self.examples += 1;
        let violations = validator.validate(value);
        for v in violations {
            let instance = if v.instance_pointer.is_empty() {
                "(root)"
            } else {
                &v.instance_pointer
            };
            let message = format!(
                "example does not validate against {} ({:?}): at {instance}: {} [schema {}]",
                schema_at, direction, v.message, v.schema_pointer
            );
            self.report(Rule::InvalidExample, at, message);
        }
    }

    fn resolve(&mut self, at: &str, node: &'a Value) -> Option<(String, &'a Value)> {
        match pointer::deref(self.root, at, node) {
            Ok(found) => Some(found),
            // Unresolved and external references are reported once, by `references`.
            Err(RefError::Unresolved { .. } | RefError::External { .. }) => None,
            Err(e @ RefError::Cycle { .. }) => {
                self.report(Rule::UnresolvedRef, at, e.to_string());
                None
            }
        }
    }
}

/// Every `schema` key under `paths` and `components` (parameters, media types, headers) that is
/// an inline schema: schema-level examples live there too.
fn collect_schema_positions(node: &Value, at: &str, out: &mut Vec<String>) {
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "example" || k == "examples" {
                    continue;
                }
                let child = pointer::push(at, k);
                if k == "schema" && v.is_object() {
                    out.push(child.clone());
                    continue;
                }
                // Schemas under components/schemas are roots already; inside them, recursion is
                // done by `schema_tree_examples`.
                if child == "/components/schemas" {
                    continue;
                }
                collect_schema_positions(v, &child, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                collect_schema_positions(v, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}
