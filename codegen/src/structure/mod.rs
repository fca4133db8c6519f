//! The structure check of [`crate::load`] and [`crate::generate`]: `openapiv3` for the
//! document's structure, a walk of the parsed `Value` for its Schema Objects.
//!
//! Deserializing `openapiv3`'s whole model costs about four times a JSON parse of the same
//! text, nearly all of it in Schema Objects (its untagged and flattened types make serde
//! buffer and re-read every node). So the check is split where `openapiv3` reads schemas. One
//! walk of the parsed `Value` follows the document as `openapiv3` reads it, by one table of
//! what each member of each kind of object is ([`Shape::member`]: Path Items, Operations,
//! Parameters, Request Bodies, Responses, Headers, Media Types, Encodings, Examples,
//! Callbacks, Components), and does two things:
//! - it checks each Schema Object it meets with [`schema`], which refuses what `openapiv3`
//!   refuses in a schema (a keyword of the wrong JSON type, a `discriminator` or
//!   `externalDocs` `openapiv3` cannot read), and two things it lets through that lowering
//!   cannot use: a `type` that is not one of OpenAPI 3.0's six, and a `$ref` that is not a
//!   string. It names the offending keyword by its JSON pointer (`#/components/schemas/A/type`);
//! - it writes a copy of the rest as JSON text, which `openapiv3::OpenAPI` is deserialized from
//!   (faster than from a `Value`: serde's buffers borrow its strings). The copy is the
//!   smallest that has `openapiv3`'s verdict on the document: every Schema Object position
//!   (`components.schemas`' values, `schema` in Parameters, Headers and Media Types) holds
//!   `{}`, an empty schema; what `openapiv3` reads as any JSON (`example`s, Example Objects'
//!   `value`s, `x-…` extensions of objects that have extensions) is `null`; the strings it
//!   reads as any string (`description`, `summary`, `$ref`, an Operation's `operationId` and
//!   `externalDocs.url`, a Parameter's `name`) are `""`, and so are the lists of strings (an
//!   Operation's `tags`) `[]`; an object read as a Reference is `{"$ref":""}`; an object of a
//!   kind whose verdict depends only on its own text, byte for byte one written before, is a
//!   stand-in `openapiv3` accepts there ([`Shape::stand_in`]): the first stays, so does its
//!   verdict. Every place of such a kind may also be absent (a map's member, a list's item,
//!   an optional field), so what is written as a Reference or as a stand-in is left out,
//!   which makes more of the objects around it repeats. On GitHub's spec (3.7 MB, 1.2 MB of it
//!   examples) the copy is about 12 KB, and `openapiv3` reads it in about 0.5 ms.
//!
//! When `openapiv3` refuses the copy, a faithful copy (only the Schema Objects replaced) is
//! read again as a `Value` with `serde_path_to_error`, to name the failing path and value as
//! `openapiv3` does on the whole document. A document with errors both outside and inside
//! Schema Objects reports the one outside. A position `openapiv3` ignores (a Response under a
//! key that is not a status code, the `schema` of a Parameter that has `content` first, the
//! siblings of a `$ref`) is not checked.

mod grammar;
mod schema;

use std::collections::HashSet;

use oas::pointer::{At, member};
use serde_json::{Map, Value};

use grammar::{REFERENCE, STAND_INS, Shape};
use schema::schema;

/// Why a document was refused: where (the path `serde_path_to_error` gives for `openapiv3`'s
/// refusals, a JSON pointer for a Schema Object's) and why.
#[derive(Debug)]
pub struct Refusal {
    pub path: String,
    pub message: String,
}

/// Checks a parsed document: `openapiv3` on its compact copy, [`schema`] on each Schema
/// Object. Returns the warnings: in OpenAPI 3.1, meta-schema violations at keywords lowering
/// does not read, one per keyword (how many, and the first's pointer and message).
pub fn check(root: &Value) -> Result<Vec<String>, Refusal> {
    let v31 = oas::Version::of(root) == oas::Version::V3_1;
    let mut compact = Copier::new(true, v31);
    compact.value(root, Shape::Document, &ROOT);
    if serde_json::from_slice::<openapiv3::OpenAPI>(&compact.out).is_err() {
        // Again from the `Value` of a faithful copy, which names the failing path and value
        // as the whole document's `Value` does (tracking the path costs, so only when it
        // fails).
        let mut faithful = Copier::new(false, v31);
        faithful.value(root, Shape::Document, &ROOT);
        refused_as::<openapiv3::OpenAPI>(&faithful.out, "")?;
    }
    // OpenAPI 3.1's Path Items outside `paths`, each map read as `openapiv3` reads `paths`.
    type PathItems =
        std::collections::BTreeMap<String, openapiv3::ReferenceOr<openapiv3::PathItem>>;
    for (pointer, written) in &compact.apart {
        if serde_json::from_slice::<PathItems>(written).is_err()
            && let Some(items) = root.pointer(pointer)
        {
            let mut faithful = Copier::new(false, v31);
            faithful.value(
                items,
                Shape::Each(&Shape::PathItem { referable: true }),
                &ROOT,
            );
            let prefix = pointer.trim_start_matches('/').replace('/', ".");
            refused_as::<PathItems>(&faithful.out, &prefix)?;
        }
    }
    if let Some(refusal) = compact.refusal {
        return Err(refusal);
    }
    let mut by_keyword: std::collections::BTreeMap<String, (usize, String, String)> =
        std::collections::BTreeMap::new();
    for (pointer, keyword, message) in compact.warnings {
        by_keyword.entry(keyword).or_insert((0, pointer, message)).0 += 1;
    }
    Ok(by_keyword
        .into_iter()
        .map(|(keyword, (count, first, message))| {
            format!(
                "`{keyword}` breaks the JSON Schema 2020-12 meta-schema ({count}×, the first at \
                 {first}: {message}); generated anyway, as the types do not depend on it \
                 (validators may refuse the document)"
            )
        })
        .collect())
}

/// `openapiv3`'s refusal of a faithful copy as a `T`, with the path `serde_path_to_error`
/// gives, behind `prefix` (the copy's place in the document, dotted).
fn refused_as<T: serde::de::DeserializeOwned>(copy: &[u8], prefix: &str) -> Result<(), Refusal> {
    let reduced: Value = serde_json::from_slice(copy).unwrap_or(Value::Null);
    match serde_path_to_error::deserialize::<_, T>(&reduced) {
        Ok(_) => Ok(()),
        Err(e) => {
            let path = e.path().to_string();
            Err(Refusal {
                path: match (prefix, path.as_str()) {
                    ("", _) => path,
                    (_, ".") => prefix.to_owned(),
                    _ => format!("{prefix}.{path}"),
                },
                message: e.inner().to_string(),
            })
        }
    }
}

/// The document's root, as refusals name positions (`#/components/schemas/A/type`); a
/// position's pointer is written out only for a refusal.
const ROOT: At<'static> = At::Str("#");

/// The walk: the copy `openapiv3` reads, written as JSON text, and the first Schema Object
/// refusal.
struct Copier {
    out: Vec<u8>,
    /// The compact copy (see the module's documentation), or the faithful one: as the
    /// document is, but for Schema Objects (`{}`) and `null` scope lists (`[]`).
    compact: bool,
    /// For each kind with a stand-in, the objects written already (compact copy only).
    written: [HashSet<Box<[u8]>>; STAND_INS],
    refusal: Option<Refusal>,
    /// The document is OpenAPI 3.1: Schema Objects are JSON Schema 2020-12, and the members
    /// 3.1 adds are written as `openapiv3` can read them.
    v31: bool,
    /// OpenAPI 3.1's maps of Path Items outside `paths`, written apart (each with its
    /// document pointer): `openapiv3` ignores them in the document.
    apart: Vec<(String, Vec<u8>)>,
    /// Meta-schema violations at keywords lowering does not read: (pointer, keyword, message).
    warnings: Vec<(String, String, String)>,
}

/// What `openapiv3` requires and OpenAPI 3.1 does not: written when absent.
fn required_by_openapiv3(kind: Shape) -> Option<(&'static str, &'static [u8])> {
    match kind {
        Shape::Document => Some(("paths", b"{}")),
        Shape::Operation => Some(("responses", b"{}")),
        _ => None,
    }
}

impl Copier {
    fn new(compact: bool, v31: bool) -> Copier {
        Copier {
            out: Vec::new(),
            compact,
            written: Default::default(),
            refusal: None,
            v31,
            apart: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Writes a value of the given kind, at `at`.
    fn value(&mut self, value: &Value, kind: Shape, at: &At<'_>) {
        match (kind, value) {
            (Shape::Schema { optional: true }, Value::Null) => self.put(b"null"),
            (Shape::Schema { .. }, _) => {
                if self.refusal.is_none() {
                    self.refusal = if self.v31 {
                        schema::schema_2020_12(value, at, &mut self.warnings).err()
                    } else {
                        schema(value, at).err()
                    };
                }
                self.put(b"{}");
            }
            // Members OpenAPI 3.0 does not have: as they were, which `openapiv3` ignores.
            (Shape::SecurityScheme | Shape::PathItems, _) if !self.v31 => self.copy(value),
            (Shape::SecurityScheme, Value::Object(map))
                if member(map, "type").and_then(Value::as_str) == Some("mutualTLS") =>
            {
                self.put(br#"{"type":"http","scheme":"mutual-tls"}"#);
            }
            (Shape::PathItems, Value::Object(_)) => {
                let main = std::mem::take(&mut self.out);
                self.value(value, Shape::Each(&Shape::PathItem { referable: true }), at);
                let written = std::mem::replace(&mut self.out, main);
                self.apart
                    .push((at.string().trim_start_matches('#').to_owned(), written));
                self.put(b"null");
            }
            // Security Requirements: a `null` scope list (`security: [{oauth2: null}]`,
            // written by real specs) is read as an empty one, as tools generally do;
            // `openapiv3` refuses it.
            (Shape::Scopes, Value::Null) => self.put(b"[]"),
            (Shape::Opaque, _) if self.compact => self.put(b"null"),
            (Shape::Free, Value::String(_)) if self.compact => self.put(b"\"\""),
            (Shape::Strings, Value::Array(items))
                if self.compact && items.iter().all(Value::is_string) =>
            {
                self.put(b"[]")
            }
            (Shape::Copy | Shape::Free | Shape::Opaque, _) => self.copy(value),
            (_, Value::Object(map)) => self.object(map, kind, at),
            (_, Value::Array(items)) => {
                let item = kind.item();
                let start = self.out.len();
                self.out.push(b'[');
                for (i, x) in items.iter().enumerate() {
                    let at_item = self.out.len();
                    if at_item != start + 1 {
                        self.out.push(b',');
                    }
                    let written = self.out.len();
                    self.value(x, item, &at.index(i));
                    self.leave_out_accepted(item, at_item, written);
                }
                self.out.push(b']');
            }
            _ => self.copy(value),
        }
    }

    /// In the compact copy, leaves out a member or item written (from `written` on) as its
    /// kind's stand-in (a repeat's, or an object that is the stand-in's text), or as a
    /// Reference where its kind is read as one: `openapiv3` accepts either there, and each
    /// place of such a kind (a map's member, a list's item, an optional field) may also be
    /// absent. Repeats left out make more of their parents repeats.
    fn leave_out_accepted(&mut self, kind: Shape, member: usize, written: usize) {
        let Some(text) = self.out.get(written..) else {
            return;
        };
        let accepted = kind
            .stand_in()
            .is_some_and(|(_, stand_in)| text == stand_in)
            || (kind.reads_reference() && text == REFERENCE);
        if self.compact && accepted {
            self.out.truncate(member);
        }
    }

    fn put(&mut self, bytes: &[u8]) {
        self.out.extend_from_slice(bytes);
    }

    /// A value, as is.
    fn copy<T: serde::Serialize + ?Sized>(&mut self, value: &T) {
        // Writing a `Value` to a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.out, value);
    }

    fn object(&mut self, map: &Map<String, Value>, kind: Shape, at: &At<'_>) {
        if kind.reads_reference() && member(map, "$ref").is_some_and(Value::is_string) {
            // `openapiv3` reads the Reference and ignores the rest, which is not checked.
            if self.compact {
                self.put(REFERENCE);
            } else {
                self.copy(map);
            }
            return;
        }
        let start = self.out.len();
        // `components.schemas`: its members are all `{}`, which `openapiv3` accepts, so the
        // compact copy leaves them out (they are still checked).
        let leave_out = self.compact && kind == Shape::Each(&Shape::Schema { optional: false });
        self.out.push(b'{');
        let mut first = false;
        for (key, x) in map {
            let member = self.out.len();
            if member != start + 1 {
                self.out.push(b',');
            }
            self.copy(key);
            self.out.push(b':');
            let written = self.out.len();
            let member_kind = kind.member(key, &mut first);
            self.value(x, member_kind, &at.key(key));
            if leave_out {
                self.out.truncate(member);
            }
            self.leave_out_accepted(member_kind, member, written);
        }
        if self.v31
            && let Some((key, value)) = required_by_openapiv3(kind)
            && member(map, key).is_none()
        {
            if self.out.len() != start + 1 {
                self.out.push(b',');
            }
            self.copy(key);
            self.out.push(b':');
            self.put(value);
        }
        self.out.push(b'}');
        if let Some((index, stand_in)) = kind.stand_in().filter(|_| self.compact) {
            // `openapiv3` reads every object of these kinds the walk writes (it does not go
            // into References), and its verdict on one depends only on its text: a repeat
            // adds nothing.
            let written = &self.out[start..];
            if self.written[index].contains(written) {
                self.out.truncate(start);
                self.put(stand_in);
            } else {
                let written: Box<[u8]> = written.into();
                self.written[index].insert(written);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// OpenAPI 3.1: what 3.1 allows passes (no `paths`, operations without `responses`,
    /// `mutualTLS`, JSON Schema 2020-12 schemas), and an error inside `webhooks`,
    /// `components.pathItems` or a 2020-12 schema is refused with its path.
    #[test]
    fn openapi_3_1_documents_are_checked_as_3_1() {
        let ok = json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "webhooks": {"paid": {"post": {"requestBody": {"content": {"application/json": {
                "schema": {"type": ["object", "null"], "prefixItems": [true], "const": 1,
                    "properties": {"discriminator": {"type": "string"}}}}}}}}},
            "components": {
                "pathItems": {"P": {"get": {"responses": {"200": {"description": "ok"}}}}},
                "securitySchemes": {"tls": {"type": "mutualTLS"}},
                "schemas": {"B": false, "D": {"$defs": {"x": {"type": "integer"}}, "$ref": "#/components/schemas/D/$defs/x", "description": "d"}},
            },
        });
        assert!(check(&ok).is_ok(), "{:?}", check(&ok));
        let refused = |pointer: &str, value: Value| {
            let mut doc = ok.clone();
            *doc.pointer_mut(pointer).unwrap() = value;
            check(&doc).expect_err(pointer)
        };
        let r = refused("/webhooks/paid/post/requestBody", json!({"content": 7}));
        // (`openapiv3` buffers a Path Item, so the path stops at it, as in `paths`.)
        assert_eq!(r.path, "webhooks.paid");
        let r = refused("/components/pathItems/P/get/responses", json!({"200": 7}));
        assert_eq!(r.path, "components.pathItems.P");
        let r = refused(
            "/webhooks/paid/post/requestBody/content/application~1json/schema/type",
            json!(["object", "date"]),
        );
        assert_eq!(
            r.path,
            "#/webhooks/paid/post/requestBody/content/application~1json/schema/type"
        );
        let r = refused(
            "/components/schemas/B",
            json!({"properties": {"a": {"items": 7}}}),
        );
        assert_eq!(r.path, "#/components/schemas/B/properties/a/items");
        let r = refused(
            "/components/schemas/B",
            json!({"discriminator": {"mapping": {}}}),
        );
        assert!(
            r.path.starts_with("#/components/schemas/B/discriminator"),
            "{r:?}"
        );
        // A property named `discriminator` is a schema, not the keyword (it passed above).
        // In 3.0 the same 3.1 forms are refused: `openapiv3` reads 3.0 only.
        let mut v30 = ok.clone();
        v30["openapi"] = json!("3.0.3");
        assert!(check(&v30).is_err());
        let r = refused("/components/securitySchemes/tls", json!({"type": "magic"}));
        assert!(
            r.path.starts_with("components.securitySchemes.tls"),
            "{r:?}"
        );
        // What the types do not depend on breaks the meta-schema with a warning, one per
        // keyword (OpenAI's spec has `$recursiveAnchor: true` and a repeated `required` name).
        let mut warned = ok.clone();
        warned["components"]["schemas"]["B"] = json!({"$recursiveAnchor": true,
            "required": ["a", "a"], "properties": {"a": {"$recursiveAnchor": 1, "minimum": "0"}}});
        let warnings = check(&warned).unwrap();
        assert_eq!(warnings.len(), 3, "{warnings:#?}");
        assert!(
            warnings[0].starts_with(
                "`$recursiveAnchor` breaks the JSON Schema 2020-12 meta-schema (2×, the first at #/components/schemas/B/"
            ),
            "{warnings:#?}"
        );
        assert!(warnings[1].starts_with("`minimum`"), "{warnings:#?}");
        assert!(
            warnings[2].starts_with("`required` breaks"),
            "{warnings:#?}"
        );
        assert!(check(&ok).unwrap().is_empty());
        // The same kind of error at a keyword the types depend on is refused.
        let r = refused("/components/schemas/B", json!({"required": "a"}));
        assert_eq!(r.path, "#/components/schemas/B/required");
    }

    #[test]
    fn positions_openapiv3_ignores_are_not_checked() {
        let bad = json!({"type": 7});
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "x-not-a-path": {"get": {"parameters": [{"schema": bad}]}},
                "/a": {"get": {
                    "parameters": [
                        {"$ref": "#/components/parameters/P", "schema": bad},
                        {"name": "c", "in": "query", "content": {"text/plain": {}}, "schema": bad},
                    ],
                    "responses": {"x-r": {"content": {"a/b": {"schema": bad}}}, "200": {"description": "d",
                        "content": {"a/b": {"schema": null}}}},
                }},
            },
            "components": {"parameters": {"P": {"name": "p", "in": "query", "schema": {}}}},
        });
        assert!(check(&doc).is_ok());
        let model: Result<openapiv3::OpenAPI, _> = serde_json::from_value(doc);
        assert!(model.is_ok());
    }

    /// The copy of a document, compact or faithful.
    fn copy_of(root: &Value, compact: bool) -> Vec<u8> {
        let mut copier = Copier::new(compact, false);
        copier.value(root, Shape::Document, &ROOT);
        copier.out
    }

    /// `openapiv3`'s verdict on the faithful copy: the reference.
    fn value_verdict(root: &Value) -> bool {
        serde_json::from_slice::<openapiv3::OpenAPI>(&copy_of(root, false)).is_ok()
    }

    /// `openapiv3`'s verdict on the compact copy, which must be the reference's.
    fn compact_verdict(root: &Value) -> bool {
        serde_json::from_slice::<openapiv3::OpenAPI>(&copy_of(root, true)).is_ok()
    }

    /// An Operation's `tags` and a Parameter's `name` are blanked in the compact copy only
    /// when they are what `openapiv3` reads there (strings), and a Reference left out of a
    /// list or map leaves the verdict on the rest.
    #[test]
    fn blanked_and_left_out_members_keep_the_verdict() {
        let doc = |tags: Value, name: Value, deprecated: Value| {
            json!({
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "paths": {"/a": {"get": {
                    "tags": tags,
                    "deprecated": deprecated,
                    "parameters": [{"$ref": "#/p"}, {"name": name, "in": "query", "schema": {}}],
                    "responses": {"200": {"$ref": ""}, "default": {"description": "d"}},
                }}},
            })
        };
        for (tags, name, deprecated, verdict) in [
            (json!(["a", "b"]), json!("p"), json!(false), true),
            (json!(["a", 7]), json!("p"), json!(false), false),
            (json!("a"), json!("p"), json!(false), false),
            (json!([]), json!(7), json!(false), false),
            // Not a place that reads a Reference: kept, and refused.
            (json!([]), json!("p"), json!({"$ref": ""}), false),
        ] {
            let d = doc(tags, name, deprecated);
            assert_eq!(value_verdict(&d), verdict, "{d}");
            assert_eq!(compact_verdict(&d), verdict, "{d}");
        }
        let copy = String::from_utf8(copy_of(&doc(json!(["a"]), json!("p"), json!(false)), true));
        assert!(
            copy.as_deref().is_ok_and(|c| c.contains(
                r#""tags":[],"deprecated":false,"parameters":[{"name":"","in":"query","schema":{}}],"responses":{"default""#
            )),
            "{copy:?}"
        );
    }

    /// The compact copy gets the verdict of the faithful one, References with odd siblings,
    /// examples and extensions of every JSON type included.
    #[test]
    fn the_compact_copy_has_the_verdict_of_the_faithful_one() {
        let base = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1", "description": "d"},
            "security": [{"k": []}, {}],
            "paths": {
                "/a/{id}": {
                    "summary": "s",
                    "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string"}}],
                    "get": {
                        "description": "d",
                        "externalDocs": {"url": "https://example.com/a", "description": "d", "x-d": 1},
                        "x-op": {"deep": [1, {"a": null}]},
                        "security": [{"k": ["s"]}],
                        "parameters": [
                            {"$ref": "#/components/parameters/P"},
                            {"name": "q", "in": "query", "content": {"text/plain": {"schema": {}}}, "schema": 7, "example": [1], "examples": {"e": {"value": 1}}},
                        ],
                        "requestBody": {"content": {"a/b": {"schema": null, "encoding": {"x": {"headers": {"H": {"schema": {}}}}}}}},
                        "responses": {
                            "200": {"description": "ok", "headers": {"H": {"schema": {"type": "integer"}}},
                                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}, "example": {"a": [1, 2.5, -3, null, true, "x\u{e9}\n"]},
                                    "examples": {"e1": {"summary": "s", "value": {"k": 1}}, "e2": {"$ref": "#/components/examples/E"}}}}},
                            "x-r": {"anything": 1},
                            "default": {"$ref": "#/components/responses/R"},
                        },
                        "callbacks": {"cb": {"{$request.body#/url}": {"post": {"responses": {"200": {"description": "ok"}}}}}},
                    },
                },
                "/ref": {"$ref": "#/paths/~1a~1{id}", "get": 7},
                "x-ext": [1, {"a": null}],
            },
            "components": {
                "schemas": {"A": {"type": "object", "properties": {"n": {"type": "integer"}}}, "B": null},
                "responses": {"R": {"description": "r", "content": {"a/b": {"schema": {}}}}},
                "parameters": {"P": {"name": "p", "in": "query", "schema": {}}},
                "headers": {"H": {"schema": {}, "example": {"h": 1}, "examples": {"e": {"$ref": "#/x"}}}},
                "examples": {"E": {"summary": "s", "value": [1, {"b": 2}], "x-e": 1, "externalValue": "https://example.com/e"}},
                "requestBodies": {"Q": {"$ref": "#/x", "content": 7}},
                "callbacks": {"C": {"$ref": "#/x", "/p": 7}, "D": {"/p": {"get": {"responses": {}}}}},
            },
        });
        let mut cases = vec![base.clone()];
        let mut labels = vec![String::from("base")];
        for (pointer, replacement) in [
            ("/info", json!("t")),
            ("/info/description", json!(7)),
            ("/info/title", json!(null)),
            ("/paths/~1a~1{id}/summary", json!(["s"])),
            ("/paths/~1a~1{id}/parameters/0/in", json!("nowhere")),
            ("/paths/~1a~1{id}/parameters", json!({"a": 1})),
            ("/paths/~1a~1{id}/get/description", json!({})),
            ("/paths/~1a~1{id}/get/parameters/0", json!({"$ref": 7})),
            (
                "/paths/~1a~1{id}/get/parameters/0",
                json!({"$ref": "#/x", "in": 7, "description": 7}),
            ),
            ("/paths/~1a~1{id}/get/parameters/1/content", json!(7)),
            (
                "/paths/~1a~1{id}/get/parameters/1/schema",
                json!({"type": 7}),
            ),
            ("/paths/~1a~1{id}/get/requestBody", json!({"content": 7})),
            (
                "/paths/~1a~1{id}/get/requestBody",
                json!({"$ref": "#/x", "content": 7}),
            ),
            (
                "/paths/~1a~1{id}/get/requestBody/content/a~1b/encoding/x/headers/H",
                json!({"schema": {}, "style": 7}),
            ),
            (
                "/paths/~1a~1{id}/get/requestBody/content/a~1b/schema",
                json!(7),
            ),
            ("/paths/~1a~1{id}/get/responses", json!([])),
            ("/paths/~1a~1{id}/get/responses/200/description", json!(7)),
            (
                "/paths/~1a~1{id}/get/responses/200/headers/H",
                json!({"schema": {}, "content": 7}),
            ),
            (
                "/paths/~1a~1{id}/get/responses/default",
                json!({"$ref": "#/x", "description": 7}),
            ),
            ("/paths/~1a~1{id}/get/responses/x-r", json!(7)),
            ("/paths/~1a~1{id}/get/callbacks/cb", json!({"$ref": "#/x"})),
            (
                "/paths/~1a~1{id}/get/callbacks/cb/{$request.body#~1url}/post/responses",
                json!(7),
            ),
            ("/paths/~1ref", json!({"$ref": 7, "get": {"responses": {}}})),
            ("/paths/~1ref", json!(["#/x"])),
            ("/paths/x-ext", json!("x")),
            ("/components", json!([])),
            ("/components/schemas", json!([{"type": 7}])),
            ("/components/responses/R", json!({"content": {}})),
            ("/components/parameters/P/schema", json!(null)),
            (
                "/components/headers/H",
                json!({"schema": {}, "in": "query"}),
            ),
            ("/components/callbacks/C", json!({"$ref": 7, "/p": 7})),
            ("/components/callbacks/D/~1p/get", json!([])),
            ("/openapi", json!(3)),
            // Examples, extensions and external documentation: any JSON where `openapiv3`
            // reads any JSON, the rest checked.
            ("/components/examples/E", json!(7)),
            ("/components/examples/E/value", json!("anything")),
            ("/components/examples/E/summary", json!(7)),
            ("/components/examples/E/externalValue", json!([])),
            ("/components/examples/E/x-e", json!(null)),
            ("/components/examples", json!([])),
            ("/components/headers/H/example", json!(null)),
            ("/components/headers/H/examples", json!(7)),
            (
                "/paths/~1a~1{id}/get/externalDocs",
                json!({"description": "d"}),
            ),
            ("/paths/~1a~1{id}/get/externalDocs/url", json!(7)),
            ("/paths/~1a~1{id}/get/externalDocs/x-d", json!([[]])),
            ("/paths/~1a~1{id}/get/x-op", json!("x")),
            ("/paths/~1a~1{id}/get/parameters/1/example", json!({"a": 1})),
            ("/paths/~1a~1{id}/get/parameters/1/examples", json!([1])),
            ("/paths/~1a~1{id}/get/parameters/1/examples/e", json!(7)),
            (
                "/paths/~1a~1{id}/get/responses/200/content/application~1json/examples/e2",
                json!({"$ref": 7}),
            ),
            (
                "/paths/~1a~1{id}/get/responses/200/content/application~1json/examples/e1/value",
                json!(null),
            ),
            (
                "/paths/~1a~1{id}/get/responses/200/content/application~1json/example",
                json!(7),
            ),
            // A null scope list reads as empty, at the top and in an Operation; other wrong
            // shapes are still refused.
            ("/security/0/k", json!(null)),
            (
                "/paths/~1a~1{id}/get/security",
                json!([{"k": null, "j": ["a"]}]),
            ),
            ("/security", json!({"k": null})),
            ("/security/0/k", json!(7)),
            ("/security/1", json!([null])),
            ("/paths/~1a~1{id}/get/security/0/k", json!([null])),
        ] {
            let mut doc = base.clone();
            labels.push(format!("{pointer} = {replacement}"));
            match doc.pointer_mut(pointer) {
                Some(target) => *target = replacement,
                None => panic!("no {pointer}"),
            }
            cases.push(doc);
        }
        let mut accepted = 0;
        for (doc, label) in cases.iter().zip(&labels) {
            let verdict = value_verdict(doc);
            accepted += usize::from(verdict);
            assert_eq!(compact_verdict(doc), verdict, "{label}");
        }
        // Both verdicts are tried.
        assert!(accepted > 5 && accepted < cases.len() - 5, "{accepted}");
        // Null scope lists are accepted on both paths.
        for doc in &cases[cases.len() - 6..cases.len() - 4] {
            assert!(value_verdict(doc), "{doc}");
        }
    }

    fn stand_in(kind: Shape) -> Value {
        serde_json::from_slice(kind.stand_in().unwrap().1).unwrap()
    }

    /// Each stand-in is accepted wherever its kind is read.
    #[test]
    fn stand_ins_are_accepted_at_their_kind() {
        let [p, h, b, r, m, e, o] = [
            Shape::Parameter,
            Shape::Header,
            Shape::RequestBody,
            Shape::Response,
            Shape::MediaType,
            Shape::Encoding,
            Shape::Operation,
        ]
        .map(stand_in);
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/a": {
                    "parameters": [p],
                    "get": o,
                    "put": {
                        "parameters": [p, {"name": "q", "in": "query", "content": {"a/b": m}}],
                        "requestBody": b,
                        "responses": {"200": r, "default": r},
                        "callbacks": {"c": {"/u": {"post": o}}},
                    },
                    "post": {
                        "requestBody": {"content": {"a/b": m, "c/d": {"encoding": {"e": e, "f": {"headers": {"H": h}}}}}},
                        "responses": {"200": {"description": "", "headers": {"H": h}, "content": {"a/b": m}}},
                    },
                },
            },
            "components": {
                "responses": {"R": r},
                "parameters": {"P": p},
                "headers": {"H": {"content": {"a/b": m}}, "I": h},
                "requestBodies": {"B": b},
                "callbacks": {"C": {"/u": {"get": o}}},
            },
        });
        assert!(serde_json::from_value::<openapiv3::OpenAPI>(doc.clone()).is_ok());
        assert!(compact_verdict(&doc));
        assert!(value_verdict(&doc));
    }

    /// A repeated object is replaced by its stand-in, and the verdict is kept: a repeat that
    /// differs is read, a first that is refused stays, and a first `openapiv3` does not read
    /// (inside a Reference) is not stood in for.
    #[test]
    fn repeated_objects_keep_the_verdict() {
        let operation = |p: &Value, h: &Value, e: &Value, r: &Value, m: &Value| {
            json!({
                "operationId": "o",
                "parameters": [p],
                "requestBody": {"content": {"a/b": {"schema": {}, "encoding": {"e": e}}}},
                "responses": {
                    "200": r,
                    "default": {"description": "d", "headers": {"H": h}, "content": {"c/d": m}},
                },
            })
        };
        let good = [
            json!({"name": "p", "in": "query", "schema": {"type": "string"}}),
            json!({"schema": {}, "style": "simple"}),
            json!({"style": "form", "explode": true}),
            json!({"description": "r", "content": {"a/b": {"schema": {}}}}),
            json!({"schema": {"type": "object"}, "example": 1}),
        ];
        let bad = [
            json!({"name": "p", "in": "nowhere", "schema": {}}),
            json!({"schema": {}, "style": 7}),
            json!({"style": 7}),
            json!({"description": 7}),
            json!({"schema": {}, "encoding": 7}),
        ];
        let document = |first: Value, second: Value, masked: bool| {
            let mut a = json!({"get": first});
            if masked {
                // Last, after what it hides.
                a["$ref"] = json!("#/x");
            }
            json!({
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "paths": {"/a": a, "/b": {"get": second}},
            })
        };
        let mut cases = Vec::new();
        for kind in 0..good.len() {
            let with = |value: &Value| {
                let mut parts = good.clone();
                parts[kind] = value.clone();
                operation(&parts[0], &parts[1], &parts[2], &parts[3], &parts[4])
            };
            let (good, bad) = (with(&good[kind]), with(&bad[kind]));
            // (first, second, first inside a Reference, verdict)
            cases.push((good.clone(), good.clone(), false, true));
            cases.push((good.clone(), bad.clone(), false, false));
            cases.push((bad.clone(), good.clone(), false, false));
            cases.push((bad.clone(), bad.clone(), false, false));
            cases.push((bad.clone(), good.clone(), true, true));
            cases.push((bad.clone(), bad.clone(), true, false));
        }
        // Operations.
        let op = operation(&good[0], &good[1], &good[2], &good[3], &good[4]);
        let bad_op = json!({"responses": 7});
        cases.push((op.clone(), op.clone(), false, true));
        cases.push((op.clone(), bad_op.clone(), false, false));
        cases.push((bad_op.clone(), bad_op.clone(), false, false));
        cases.push((bad_op.clone(), bad_op.clone(), true, false));
        cases.push((bad_op.clone(), op.clone(), true, true));
        for (first, second, masked, verdict) in cases {
            let doc = document(first, second, masked);
            assert_eq!(value_verdict(&doc), verdict, "{doc}");
            assert_eq!(compact_verdict(&doc), verdict, "{doc}");
        }

        // Inside a Response or a Parameter that is a Reference, and in the same Path Item.
        let bad_media = json!({"schema": {}, "encoding": 7});
        let read = json!({"description": "d", "content": {"a/b": bad_media}});
        let mut hidden = read.clone();
        hidden["$ref"] = json!("#/x");
        let parameter = json!({"name": "p", "in": "query", "content": {"a/b": bad_media}});
        let mut hidden_parameter = parameter.clone();
        hidden_parameter["$ref"] = json!("#/x");
        for (responses, parameters, verdict) in [
            (json!({"200": hidden, "default": read}), json!([]), false),
            (
                json!({"200": hidden}),
                json!([hidden_parameter, parameter]),
                false,
            ),
            (
                json!({"200": hidden, "default": hidden}),
                json!([hidden_parameter]),
                true,
            ),
        ] {
            let doc = json!({
                "openapi": "3.0.3",
                "info": {"title": "t", "version": "1"},
                "paths": {"/a": {"get": {"parameters": parameters, "responses": responses}}},
            });
            assert_eq!(value_verdict(&doc), verdict, "{doc}");
            assert_eq!(compact_verdict(&doc), verdict, "{doc}");
        }
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": op, "put": op}, "/b": {"get": op, "put": {"responses": {"200": bad[3]}}}},
            "components": {"responses": {"R": bad[3]}},
        });
        assert!(!value_verdict(&doc));
        assert!(!compact_verdict(&doc));
        // The repeats were left out (their stand-in is a Reference): in the second Path Item
        // (the objects inside a Path Item are kept once it is read), and in the Components.
        let copy = String::from_utf8(copy_of(&doc, true)).unwrap();
        assert!(
            copy.contains(r#""/b":{"get":{"operationId":"","parameters":[],"#),
            "{copy}"
        );
        assert!(
            copy.ends_with(r#""components":{"responses":{}}}"#),
            "{copy}"
        );
    }
}
