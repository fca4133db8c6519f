//! The structure check of [`crate::load`] and [`crate::generate`]: `openapiv3` for the
//! document's structure, a walk of the parsed `Value` for its Schema Objects.
//!
//! Deserializing `openapiv3`'s whole model costs about four times a JSON parse of the same
//! text, nearly all of it in Schema Objects (its untagged and flattened types make serde
//! buffer and re-read every node). So the check is split where `openapiv3` reads schemas:
//! - the walk follows the document as `openapiv3` reads it (Path Items, Operations,
//!   Parameters, Request Bodies, Responses, Headers, Media Types, Encodings, Callbacks,
//!   Components) and writes a copy as JSON text, with every Schema Object position
//!   (`components.schemas`' values, and `schema` in Parameters, Headers and Media Types)
//!   replaced by `{}`, which `openapiv3` reads as an empty schema, and the `description` and
//!   `summary` strings by `""` (a string is a string wherever `openapiv3` reads those keys:
//!   the verdict cannot change). `openapiv3::OpenAPI` is deserialized from that text (faster
//!   than from a `Value`: serde's buffers borrow its strings). `openapiv3` still decides
//!   everything outside Schema Objects; when it refuses, it runs again on the `Value` of a
//!   copy that keeps the free text, to name the failing path and value as it did for the whole
//!   document's `Value`;
//! - each Schema Object found on the way is checked by [`schema`], which refuses what
//!   `openapiv3` refuses in a schema (a keyword of the wrong JSON type, a `discriminator` or
//!   `externalDocs` `openapiv3` cannot read), and two things it lets through that lowering
//!   cannot use: a `type` that is not one of OpenAPI 3.0's six, and a `$ref` that is not a
//!   string. It names the offending keyword by its JSON pointer (`#/components/schemas/A/type`).
//!
//! For JSON text, [`copy_accepted`] writes a smaller copy for the same verdict from the text
//! (streaming, with the Schema Objects skipped unread) and has `openapiv3` read it while
//! another thread parses the text into the `Value`; [`structure_given`] then only walks the
//! `Value` for the Schema Objects. That copy also leaves out what `openapiv3` reads as any JSON
//! (`example`s, Example Objects' `value`s, `x-…` extensions of objects that have extensions:
//! written `null`), and writes as `""` the strings it reads as any string (`$ref`s, an
//! Operation's `operationId` and `externalDocs.url`): on GitHub's spec, 1.2 MB of the 3.7
//! MB are examples. YAML, and JSON that repeats a key, take the whole path on the `Value`.
//!
//! A document with errors both outside and inside Schema Objects reports the one outside.
//! A position `openapiv3` ignores (a Response under a key that is not a status code, the
//! `schema` of a Parameter that has `content` first, the siblings of a `$ref`) is not checked.

use std::borrow::Cow;
use std::collections::HashSet;

use oas::pointer::{self, At};
use serde::Deserialize as _;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Why a document was refused: where (the path `serde_path_to_error` gives for `openapiv3`'s
/// refusals, a JSON pointer for a Schema Object's) and why.
#[derive(Debug)]
pub struct Refusal {
    pub path: String,
    pub message: String,
}

/// Checks a parsed document, given `openapiv3`'s verdict on its copy when it is known already
/// ([`copy_accepted`], from the document's JSON text).
pub fn structure_given(root: &Value, accepted: Option<bool>) -> Result<(), Refusal> {
    let mut walk = Walk::new(true);
    // With the verdict known, the walk only checks the Schema Objects: no copy is written.
    walk.write = accepted.is_none();
    walk.document(root);
    let accepted =
        accepted.unwrap_or_else(|| serde_json::from_slice::<openapiv3::OpenAPI>(&walk.out).is_ok());
    if !accepted {
        // Again from the `Value` of a copy that keeps the free text, which names the failing
        // path and value as the whole document's `Value` did (tracking the path costs, so
        // only when it fails).
        let mut faithful = Walk::new(false);
        faithful.document(root);
        let reduced: Value = serde_json::from_slice(&faithful.out).unwrap_or(Value::Null);
        let checked: Result<openapiv3::OpenAPI, _> = serde_path_to_error::deserialize(&reduced);
        if let Err(e) = checked {
            return Err(Refusal {
                path: e.path().to_string(),
                message: e.inner().to_string(),
            });
        }
    }
    match walk.refusal {
        Some(refusal) => Err(refusal),
        None => Ok(()),
    }
}

/// The document's root, as refusals name positions (`#/components/schemas/A/type`); a
/// position's pointer is written out only for a refusal.
const ROOT: At<'static> = At::Str("#");

/// The walk over the document's structure, writing the copy `openapiv3` reads as JSON text
/// (which serde reads faster than a `Value`: it buffers borrowed strings, not copies).
struct Walk {
    out: Vec<u8>,
    /// Whether the copy is written at all (not when only the Schema Objects are checked).
    write: bool,
    /// Whether free text (`description`, `summary`) is written as `""` (see [`structure`]).
    blank: bool,
    /// The first Schema Object refusal.
    refusal: Option<Refusal>,
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The member `key` of an object (found by scanning: these objects are small, and the
/// `Value`'s map would hash the key).
fn member<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Whether `openapiv3` reads this `ReferenceOr<T>` as a reference.
fn is_reference(value: &Value) -> bool {
    value
        .as_object()
        .and_then(|m| member(m, "$ref"))
        .is_some_and(Value::is_string)
}

impl Walk {
    fn new(blank: bool) -> Walk {
        Walk {
            out: Vec::new(),
            write: true,
            blank,
            refusal: None,
        }
    }

    /// A value, as is.
    fn copy(&mut self, value: &Value) {
        if self.write {
            // Writing a `Value` to a `Vec` cannot fail.
            let _ = serde_json::to_writer(&mut self.out, value);
        }
    }

    /// Some bytes of the copy.
    fn put(&mut self, bytes: &[u8]) {
        if self.write {
            self.out.extend_from_slice(bytes);
        }
    }

    /// An object with some members rewritten (`member` returns `false` for those it leaves
    /// to be copied); anything else copied as is.
    fn rewrite(&mut self, value: &Value, mut member: impl FnMut(&mut Walk, &str, &Value) -> bool) {
        let Value::Object(map) = value else {
            return self.copy(value);
        };
        self.put(b"{");
        for (i, (key, x)) in map.iter().enumerate() {
            if i > 0 {
                self.put(b",");
            }
            if self.write {
                let _ = serde_json::to_writer(&mut self.out, key);
            }
            self.put(b":");
            if !member(self, key, x) {
                if self.blank && x.is_string() && (key == "description" || key == "summary") {
                    self.put(b"\"\"");
                } else {
                    self.copy(x);
                }
            }
        }
        self.put(b"}");
    }

    /// Each member's value of an object rewritten; anything else copied as is.
    fn each(&mut self, value: &Value, mut rewrite: impl FnMut(&mut Walk, &str, &Value)) {
        self.rewrite(value, |w, key, x| {
            rewrite(w, key, x);
            true
        });
    }

    /// Each element of an array rewritten; anything else copied as is.
    fn items(&mut self, value: &Value, mut item: impl FnMut(&mut Walk, usize, &Value)) {
        let Value::Array(items) = value else {
            return self.copy(value);
        };
        self.put(b"[");
        for (i, x) in items.iter().enumerate() {
            if i > 0 {
                self.put(b",");
            }
            item(self, i, x);
        }
        self.put(b"]");
    }

    fn document(&mut self, doc: &Value) {
        let at = ROOT;
        self.rewrite(doc, |w, key, x| {
            let at = at.key(key);
            match key {
                "paths" => w.rewrite(x, |w, path, item| {
                    path.starts_with('/') && {
                        w.path_item(item, &at.key(path), true);
                        true
                    }
                }),
                "components" => w.components(x, &at),
                "security" => w.security(x),
                _ => return false,
            }
            true
        });
    }

    /// Security Requirements: a `null` scope list (`security: [{oauth2: null}]`, written by
    /// real specs) is read as an empty one, as tools generally do; `openapiv3` refuses it.
    fn security(&mut self, list: &Value) {
        self.items(list, |w, _, requirement| {
            w.rewrite(requirement, |w, _, scopes| {
                scopes.is_null() && {
                    w.put(b"[]");
                    true
                }
            });
        });
    }

    fn components(&mut self, components: &Value, at: &At<'_>) {
        self.rewrite(components, |w, key, x| {
            let at = at.key(key);
            match key {
                "schemas" => w.each(x, |w, name, y| w.schema_position(y, &at.key(name), false)),
                "responses" => w.each(x, |w, name, y| w.response(y, &at.key(name))),
                "parameters" | "headers" => w.each(x, |w, name, y| w.parameter(y, &at.key(name))),
                "requestBodies" => w.each(x, |w, name, y| w.request_body(y, &at.key(name))),
                "callbacks" => w.each(x, |w, name, y| {
                    if is_reference(y) {
                        w.copy(y);
                    } else {
                        w.callback(y, &at.key(name));
                    }
                }),
                _ => return false,
            }
            true
        });
    }

    /// A Path Item; `referable` when `openapiv3` reads it as `ReferenceOr<PathItem>`.
    fn path_item(&mut self, item: &Value, at: &At<'_>, referable: bool) {
        if referable && is_reference(item) {
            return self.copy(item);
        }
        self.rewrite(item, |w, key, x| {
            let at = at.key(key);
            if METHODS.contains(&key) {
                w.operation(x, &at);
            } else if key == "parameters" {
                w.parameters(x, &at);
            } else {
                return false;
            }
            true
        });
    }

    fn parameters(&mut self, list: &Value, at: &At<'_>) {
        self.items(list, |w, i, x| w.parameter(x, &at.index(i)));
    }

    fn operation(&mut self, operation: &Value, at: &At<'_>) {
        self.rewrite(operation, |w, key, x| {
            let at = at.key(key);
            match key {
                "parameters" => w.parameters(x, &at),
                "requestBody" => w.request_body(x, &at),
                "responses" => w.rewrite(x, |w, status, y| {
                    status_code(status) && {
                        w.response(y, &at.key(status));
                        true
                    }
                }),
                "callbacks" => w.each(x, |w, name, y| w.callback(y, &at.key(name))),
                "security" => w.security(x),
                _ => return false,
            }
            true
        });
    }

    /// A Callback: Path Items (not references) under any key.
    fn callback(&mut self, callback: &Value, at: &At<'_>) {
        self.each(callback, |w, key, x| w.path_item(x, &at.key(key), false));
    }

    fn request_body(&mut self, body: &Value, at: &At<'_>) {
        if is_reference(body) {
            return self.copy(body);
        }
        self.rewrite(body, |w, key, x| {
            key == "content" && {
                w.content(x, &at.key(key));
                true
            }
        });
    }

    fn response(&mut self, response: &Value, at: &At<'_>) {
        if is_reference(response) {
            return self.copy(response);
        }
        self.rewrite(response, |w, key, x| {
            let at = at.key(key);
            match key {
                "headers" => w.each(x, |w, name, y| w.parameter(y, &at.key(name))),
                "content" => w.content(x, &at),
                _ => return false,
            }
            true
        });
    }

    /// A Parameter or Header: `openapiv3` reads a `schema` or a `content`, whichever comes
    /// first, and ignores the other.
    fn parameter(&mut self, parameter: &Value, at: &At<'_>) {
        if is_reference(parameter) {
            return self.copy(parameter);
        }
        let first = parameter.as_object().and_then(|m| {
            m.keys()
                .find(|k| *k == "schema" || *k == "content")
                .map(String::as_str)
        });
        self.rewrite(parameter, |w, key, x| {
            if Some(key) != first {
                return false;
            }
            let at = at.key(key);
            match key {
                "schema" => w.schema_position(x, &at, false),
                _ => w.content(x, &at),
            }
            true
        });
    }

    /// A map of Media Types.
    fn content(&mut self, content: &Value, at: &At<'_>) {
        self.each(content, |w, media, x| {
            let at = at.key(media);
            w.rewrite(x, |w, key, y| {
                let at = at.key(key);
                match key {
                    "schema" => w.schema_position(y, &at, true),
                    "encoding" => w.each(y, |w, name, encoding| {
                        let at = at.key(name);
                        w.rewrite(encoding, |w, key, z| {
                            key == "headers" && {
                                let at = at.key(key);
                                w.each(z, |w, name, h| w.parameter(h, &at.key(name)));
                                true
                            }
                        });
                    }),
                    _ => return false,
                }
                true
            });
        });
    }

    /// A place `openapiv3` reads a `ReferenceOr<Schema>` (an `Option` of one when
    /// `optional`): checked here, `{}` in the copy.
    fn schema_position(&mut self, value: &Value, at: &At<'_>, optional: bool) {
        if optional && value.is_null() {
            return self.put(b"null");
        }
        if self.refusal.is_none() {
            self.refusal = schema(value, at).err();
        }
        self.put(b"{}");
    }
}

/// `openapiv3`'s verdict on the copy [`Walk`] writes, computed from the document's JSON text
/// instead of its `Value`, so that it can run while the text is parsed: the copy is written
/// as the text is read (serde_json's streaming deserializer), and `openapiv3` reads it.
///
/// `None` when the text cannot give the verdict the `Value` would: it is not JSON that
/// serde_json reads, or an object has a key twice (the `Value` keeps the last, where the text
/// would show `openapiv3` both). The caller then lets [`structure`] find it on the `Value`.
///
/// The copy is the one [`Walk`] writes but for References (`$ref` may come after the other
/// members, so this cannot know an object is one before writing it): [`Walk`] copies them as
/// they are, this rewrites them like the object they stand for. `openapiv3` reads an object
/// with a string `$ref` as a Reference whatever its other members, so the verdict is the same.
/// It is also smaller, for the same verdict: an object read already is not read again
/// ([`Stream`]), an Operation's `operationId` string is `""` (a string either way), and
/// `components.schemas` has no members (all `{}`, which `openapiv3` accepts).
pub fn copy_accepted(text: &str) -> Option<bool> {
    let copy = streamed_copy(text)?;
    Some(serde_json::from_slice::<openapiv3::OpenAPI>(&copy).is_ok())
}

/// The copy [`copy_accepted`] has `openapiv3` read, if it gives the verdict.
fn streamed_copy(text: &str) -> Option<Vec<u8>> {
    let mut stream = Stream {
        out: Vec::with_capacity(text.len() / 4),
        repeated: false,
        open: 0,
        pending: Vec::new(),
        read: Default::default(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    Node {
        stream: &mut stream,
        kind: Shape::Document,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    if stream.repeated {
        return None;
    }
    Some(stream.out)
}

/// The copy being written, and whether a key was seen twice in an object.
///
/// The copy is much smaller when an object `openapiv3` has read once already is written
/// again: `openapiv3`'s verdict on a Parameter, Header, Request Body, Response, Media Type or
/// Encoding depends only on its text (the same type is read wherever the kind is, with nothing
/// from its surroundings), and the document's is that of all of them. So an object of one
/// of those kinds that is byte for byte one written before at the same kind is replaced by
/// a stand-in `openapiv3` accepts there ([`Shape::stand_in`]): `openapiv3` accepted or
/// refused the first, which stays. A first is kept for that only once `openapiv3` is known
/// to read it: inside an object that has a string `$ref` where `openapiv3` reads a
/// `ReferenceOr` (Path Items, Parameters, Headers, Request Bodies, Responses, Callbacks),
/// `openapiv3` reads the Reference and ignores the rest, and the `$ref` may come last. So
/// the objects written inside such an object wait in `pending` until no such object is open.
struct Stream {
    out: Vec<u8>,
    repeated: bool,
    /// How many objects of a kind `openapiv3` reads as a `ReferenceOr` are open.
    open: usize,
    /// Objects of a kind with a stand-in, written whole, that are not known yet to be read:
    /// the index of their kind in `read`, and where they are in `out`.
    pending: Vec<(usize, usize, usize)>,
    /// For each kind with a stand-in, the objects `openapiv3` reads.
    read: [HashSet<Box<[u8]>>; STAND_INS],
}

/// How many kinds have a stand-in ([`Shape::stand_in`]).
const STAND_INS: usize = 7;

/// What a value is in the document's structure, as [`Walk`] reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// Copied as is.
    Copy,
    /// A member that [`Walk::rewrite`] copies: `""` for a `description` or `summary` string.
    Free,
    Document,
    Paths,
    Components,
    /// Each member's value is of the kind given.
    Each(&'static Shape),
    PathItem,
    Parameters,
    Operation,
    Responses,
    Callback,
    RequestBody,
    Response,
    Parameter,
    /// Read as a Parameter, but a Header Object for `openapiv3`.
    Header,
    Content,
    MediaType,
    Encoding,
    /// A Schema Object position: `{}` (`null` stays when `optional`).
    Schema {
        optional: bool,
    },
    /// A list of Security Requirements ([`Walk::security`]).
    Security,
    /// A Security Requirement: each member a list of scopes.
    Requirement,
    /// A list of scopes: `null` is written `[]`.
    Scopes,
    /// An Example Object.
    Example,
    /// An External Documentation Object (of an Operation): its `url` is free text too.
    ExternalDocs,
    /// A value `openapiv3` reads as any JSON (`serde_json::Value`): an `example`, an Example
    /// Object's `value`, an extension (`x-…`) of an object that has extensions. Skipped unread
    /// and written `null`: any value is accepted there, so the verdict is the same.
    Opaque,
}

impl Shape {
    /// For a kind whose objects may be replaced when repeated: an index in
    /// [`Stream::read`], and an object `openapiv3` accepts at that kind.
    fn stand_in(self) -> Option<(usize, &'static [u8])> {
        // A Reference for a `ReferenceOr`.
        const REFERENCE: &[u8] = br#"{"$ref":""}"#;
        match self {
            Shape::Parameter => Some((0, REFERENCE)),
            Shape::Header => Some((1, REFERENCE)),
            Shape::RequestBody => Some((2, REFERENCE)),
            Shape::Response => Some((3, REFERENCE)),
            Shape::MediaType => Some((4, b"{}")),
            Shape::Encoding => Some((5, b"{}")),
            Shape::Operation => Some((6, br#"{"responses":{}}"#)),
            _ => None,
        }
    }

    /// Whether `openapiv3` reads an object of this kind as a `ReferenceOr`: with a string
    /// `$ref`, it reads the Reference and ignores the rest. (Also said of the Path Items of
    /// an Operation's Callbacks, which `openapiv3` does not read so: that only keeps fewer
    /// objects to stand in for.)
    fn reference_or(self) -> bool {
        matches!(
            self,
            Shape::PathItem
                | Shape::Parameter
                | Shape::Header
                | Shape::RequestBody
                | Shape::Response
                | Shape::Callback
        )
    }

    /// The kind of the member `key` of an object of this kind. `first` is whether a
    /// Parameter's `schema` or `content` has been seen ([`Walk::parameter`]).
    fn member(self, key: &str, first: &mut bool) -> Shape {
        if self.extensible() && key.starts_with("x-") {
            return Shape::Opaque;
        }
        // A `$ref` string too: `openapiv3` reads any string as a Reference, without resolving it.
        let free = if key == "description" || key == "summary" || key == "$ref" {
            Shape::Free
        } else {
            Shape::Copy
        };
        match self {
            Shape::Copy
            | Shape::Free
            | Shape::Schema { .. }
            | Shape::Parameters
            | Shape::Security
            | Shape::Scopes
            | Shape::Opaque => Shape::Copy,
            Shape::Requirement => Shape::Scopes,
            Shape::Each(kind) => *kind,
            Shape::Document => match key {
                "paths" => Shape::Paths,
                "components" => Shape::Components,
                "security" => Shape::Security,
                _ => free,
            },
            Shape::Paths if key.starts_with('/') => Shape::PathItem,
            Shape::Components => match key {
                "schemas" => Shape::Each(&Shape::Schema { optional: false }),
                "responses" => Shape::Each(&Shape::Response),
                "parameters" => Shape::Each(&Shape::Parameter),
                "headers" => Shape::Each(&Shape::Header),
                "requestBodies" => Shape::Each(&Shape::RequestBody),
                "callbacks" => Shape::Each(&Shape::Callback),
                "examples" => Shape::Each(&Shape::Example),
                _ => free,
            },
            Shape::PathItem if METHODS.contains(&key) => Shape::Operation,
            Shape::PathItem if key == "parameters" => Shape::Parameters,
            Shape::Operation => match key {
                "parameters" => Shape::Parameters,
                "requestBody" => Shape::RequestBody,
                "responses" => Shape::Responses,
                "callbacks" => Shape::Each(&Shape::Callback),
                "operationId" => Shape::Free,
                "externalDocs" => Shape::ExternalDocs,
                "security" => Shape::Security,
                _ => free,
            },
            Shape::Responses if status_code(key) => Shape::Response,
            Shape::Callback => Shape::PathItem,
            Shape::RequestBody if key == "content" => Shape::Content,
            Shape::Response => match key {
                "headers" => Shape::Each(&Shape::Header),
                "content" => Shape::Content,
                _ => free,
            },
            Shape::Parameter | Shape::Header | Shape::MediaType if key == "example" => {
                Shape::Opaque
            }
            Shape::Parameter | Shape::Header | Shape::MediaType if key == "examples" => {
                Shape::Each(&Shape::Example)
            }
            Shape::Example if key == "value" => Shape::Opaque,
            Shape::ExternalDocs if key == "url" => Shape::Free,
            Shape::Parameter | Shape::Header
                if !*first && (key == "schema" || key == "content") =>
            {
                *first = true;
                if key == "schema" {
                    Shape::Schema { optional: false }
                } else {
                    Shape::Content
                }
            }
            Shape::Content => Shape::MediaType,
            Shape::MediaType => match key {
                "schema" => Shape::Schema { optional: true },
                "encoding" => Shape::Each(&Shape::Encoding),
                _ => free,
            },
            Shape::Encoding if key == "headers" => Shape::Each(&Shape::Header),
            Shape::Paths
            | Shape::PathItem
            | Shape::Responses
            | Shape::RequestBody
            | Shape::Parameter
            | Shape::Header
            | Shape::Encoding
            | Shape::Example
            | Shape::ExternalDocs => free,
        }
    }

    /// Whether `openapiv3` reads this kind as a struct with extensions: its `x-…` members
    /// are any JSON. (Not a Callback: its members are all Path Items, `x-…` too.)
    fn extensible(self) -> bool {
        matches!(
            self,
            Shape::Document
                | Shape::Paths
                | Shape::Components
                | Shape::PathItem
                | Shape::Operation
                | Shape::Responses
                | Shape::RequestBody
                | Shape::Response
                | Shape::Parameter
                | Shape::Header
                | Shape::MediaType
                | Shape::Encoding
                | Shape::Example
                | Shape::ExternalDocs
        )
    }
}

/// A value of the text being read, and what it is.
struct Node<'s> {
    stream: &'s mut Stream,
    kind: Shape,
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        match self.kind {
            Shape::Schema { optional } => {
                // Skipped without being read into anything (serde_json's fastest path).
                let out = &mut self.stream.out;
                if optional {
                    match Option::<IgnoredAny>::deserialize(deserializer)? {
                        None => out.extend_from_slice(b"null"),
                        Some(_) => out.extend_from_slice(b"{}"),
                    }
                } else {
                    IgnoredAny::deserialize(deserializer)?;
                    out.extend_from_slice(b"{}");
                }
                Ok(())
            }
            Shape::Opaque => {
                IgnoredAny::deserialize(deserializer)?;
                self.stream.out.extend_from_slice(b"null");
                Ok(())
            }
            _ => deserializer.deserialize_any(self),
        }
    }
}

impl Node<'_> {
    /// Writes a scalar as serde_json writes it in a `Value`.
    fn scalar<T: serde::Serialize + ?Sized>(self, value: &T) {
        // Writing to a `Vec` cannot fail.
        let _ = serde_json::to_writer(&mut self.stream.out, value);
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<(), E> {
        self.scalar(&v);
        Ok(())
    }

    fn visit_i64<E>(self, v: i64) -> Result<(), E> {
        self.scalar(&v);
        Ok(())
    }

    fn visit_u64<E>(self, v: u64) -> Result<(), E> {
        self.scalar(&v);
        Ok(())
    }

    fn visit_f64<E>(self, v: f64) -> Result<(), E> {
        // As the `Value` holds it.
        self.scalar(&serde_json::Number::from_f64(v));
        Ok(())
    }

    fn visit_str<E>(self, v: &str) -> Result<(), E> {
        if self.kind == Shape::Free {
            self.stream.out.extend_from_slice(b"\"\"");
        } else {
            self.scalar(v);
        }
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        let null: &[u8] = if self.kind == Shape::Scopes {
            b"[]"
        } else {
            b"null"
        };
        self.stream.out.extend_from_slice(null);
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let kind = match self.kind {
            Shape::Parameters => Shape::Parameter,
            Shape::Security => Shape::Requirement,
            _ => Shape::Copy,
        };
        self.stream.out.push(b'[');
        let mut first = true;
        loop {
            if !first {
                self.stream.out.push(b',');
            }
            let at = self.stream.out.len();
            let node = Node {
                stream: &mut *self.stream,
                kind,
            };
            if seq.next_element_seed(node)?.is_none() {
                if !first {
                    // The comma written for an element that was not there.
                    self.stream.out.truncate(at - 1);
                }
                break;
            }
            first = false;
        }
        self.stream.out.push(b']');
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let start = self.stream.out.len();
        let mark = self.stream.pending.len();
        let reference_or = self.kind.reference_or();
        self.stream.open += usize::from(reference_or);
        let mut reference = false;
        // `components.schemas`: its members are all `{}`, which `openapiv3` accepts, so
        // they are left out.
        let schemas = self.kind == Shape::Each(&Shape::Schema { optional: false });
        self.stream.out.push(b'{');
        let mut keys: Vec<Cow<'de, str>> = Vec::new();
        let mut first = false;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let member = self.stream.out.len();
            if member != start + 1 {
                self.stream.out.push(b',');
            }
            let _ = serde_json::to_writer(&mut self.stream.out, key.as_ref());
            self.stream.out.push(b':');
            let kind = self.kind.member(&key, &mut first);
            let at = self.stream.out.len();
            let is_ref = key == "$ref";
            keys.push(key);
            map.next_value_seed(Node {
                stream: &mut *self.stream,
                kind,
            })?;
            // A string is written as one, whatever its kind.
            reference |= is_ref && self.stream.out.get(at) == Some(&b'"');
            if schemas {
                self.stream.out.truncate(member);
            }
        }
        self.stream.out.push(b'}');
        if repeats(&mut keys) {
            self.stream.repeated = true;
        }
        let stream = &mut *self.stream;
        if reference_or {
            stream.open -= 1;
            if reference {
                // `openapiv3` does not read what is inside.
                stream.pending.truncate(mark);
            }
        }
        if let Some((index, stand_in)) = self.kind.stand_in() {
            if stream.read[index].contains(&stream.out[start..]) {
                stream.out.truncate(start);
                stream.out.extend_from_slice(stand_in);
                // What was inside is no longer in the copy.
                stream.pending.truncate(mark);
            } else {
                stream.pending.push((index, start, stream.out.len()));
            }
        }
        if stream.open == 0 {
            for (index, start, end) in stream.pending.drain(..) {
                stream.read[index].insert(stream.out[start..end].into());
            }
        }
        Ok(())
    }
}

/// Whether a key is in the list twice (reorders it).
fn repeats(keys: &mut [Cow<'_, str>]) -> bool {
    if keys.len() <= 8 {
        return keys.iter().enumerate().any(|(i, k)| keys[..i].contains(k));
    }
    keys.sort_unstable();
    keys.windows(2).any(|pair| pair[0] == pair[1])
}

/// An object's key, borrowed from the text unless it has escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
}

/// Whether `openapiv3` reads a Responses key as a status code.
fn status_code(key: &str) -> bool {
    key == "default"
        || serde_json::from_value::<openapiv3::StatusCode>(Value::String(key.to_owned())).is_ok()
}

/// OpenAPI 3.0's `type`s.
const TYPES: [&str; 6] = ["array", "boolean", "integer", "number", "object", "string"];

/// How a refusal describes a JSON value.
fn found(value: &Value) -> String {
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => format!("boolean `{b}`"),
        Value::Number(n) => format!("number `{n}`"),
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "an array".to_owned(),
        Value::Object(_) => "an object".to_owned(),
    }
}

fn refuse(at: &At<'_>, expected: &str, value: &Value) -> Refusal {
    Refusal {
        path: at.string(),
        message: format!("expected {expected}, found {}", found(value)),
    }
}

/// The pointer of what `serde_path_to_error` found failing inside the value at `at`.
fn pointer_within(at: &At<'_>, path: &serde_path_to_error::Path) -> String {
    let mut out = at.string();
    for segment in path.iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } => {
                out.push('/');
                out.push_str(&index.to_string());
            }
            serde_path_to_error::Segment::Map { key } => pointer::push_token(&mut out, key),
            _ => {}
        }
    }
    out
}

/// Checks a Schema Object (or Reference Object) and the schemas inside it.
fn schema(value: &Value, at: &At<'_>) -> Result<(), Refusal> {
    let Value::Object(map) = value else {
        return Err(refuse(at, "a Schema Object (a JSON object)", value));
    };
    if let Some(reference) = member(map, "$ref") {
        // `openapiv3` reads an object with a string `$ref` as a reference, and ignores the
        // rest.
        return match reference {
            Value::String(_) => Ok(()),
            _ => Err(refuse(&at.key("$ref"), "a string", reference)),
        };
    }
    for (key, x) in map {
        let at = at.key(key);
        // `null` is an absent keyword for `openapiv3`, but for the four booleans it reads
        // without `Option` and for schemas inside lists and maps.
        let expected = match key.as_str() {
            "nullable" | "readOnly" | "writeOnly" | "deprecated" => {
                (!x.is_boolean()).then_some("a boolean")
            }
            _ if x.is_null() => None,
            "type" => match x {
                // `"null"` is OpenAPI 3.1's spelling, which real 3.0 specs carry (OpenAI's);
                // lowering reads it as a null-only schema.
                Value::String(s) if TYPES.contains(&s.as_str()) || s == "null" => None,
                _ => Some(
                    "one of \"array\", \"boolean\", \"integer\", \"number\", \"object\", \"string\" (or \"null\")",
                ),
            },
            "exclusiveMinimum" | "exclusiveMaximum" | "uniqueItems" => {
                (!x.is_boolean()).then_some("a boolean")
            }
            "title" | "description" | "pattern" | "format" => {
                (!x.is_string()).then_some("a string")
            }
            "multipleOf" | "minimum" | "maximum" => (!x.is_number()).then_some("a number"),
            "minLength" | "maxLength" | "minItems" | "maxItems" | "minProperties"
            | "maxProperties" => x
                .as_u64()
                .and_then(|n| usize::try_from(n).ok())
                .is_none()
                .then_some("a non-negative integer"),
            "required" => match x {
                Value::Array(items) => {
                    if let Some((i, item)) = items.iter().enumerate().find(|(_, s)| !s.is_string())
                    {
                        return Err(refuse(&at.index(i), "a string", item));
                    }
                    None
                }
                _ => Some("an array of strings"),
            },
            "enum" => (!x.is_array()).then_some("an array"),
            "properties" => match x {
                Value::Object(properties) => {
                    for (name, property) in properties {
                        schema(property, &at.key(name))?;
                    }
                    None
                }
                _ => Some("an object of Schema Objects"),
            },
            "allOf" | "oneOf" | "anyOf" => match x {
                Value::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        schema(item, &at.index(i))?;
                    }
                    None
                }
                _ => Some("an array of Schema Objects"),
            },
            "items" | "not" => {
                schema(x, &at)?;
                None
            }
            "additionalProperties" => match x {
                Value::Bool(_) => None,
                Value::Object(_) => {
                    schema(x, &at)?;
                    None
                }
                _ => Some("a boolean or a Schema Object"),
            },
            "discriminator" => {
                let read: Result<openapiv3::Discriminator, _> = serde_path_to_error::deserialize(x);
                if let Err(e) = read {
                    return Err(Refusal {
                        path: pointer_within(&at, e.path()),
                        message: e.inner().to_string(),
                    });
                }
                None
            }
            "externalDocs" => {
                let read: Result<openapiv3::ExternalDocumentation, _> =
                    serde_path_to_error::deserialize(x);
                if let Err(e) = read {
                    return Err(Refusal {
                        path: pointer_within(&at, e.path()),
                        message: e.inner().to_string(),
                    });
                }
                None
            }
            _ => None,
        };
        if let Some(expected) = expected {
            return Err(refuse(&at, expected, x));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Whether `openapiv3` reads a value as a `ReferenceOr<Schema>`.
    fn openapiv3_accepts(value: &Value) -> bool {
        serde_json::from_value::<openapiv3::ReferenceOr<openapiv3::Schema>>(value.clone()).is_ok()
    }

    /// The walk refuses exactly what `openapiv3` refuses in a schema, and, beyond it, a
    /// `type` outside the six and a `$ref` that is not a string.
    #[test]
    fn schemas_are_refused_as_openapiv3_refuses_them() {
        let s = json!({"type": "string"});
        let mut cases: Vec<(Value, bool)> = Vec::new();
        let ok = |v: Value| (v, true);
        let bad = |v: Value| (v, false);
        for (keyword, good, wrong) in [
            ("type", json!("integer"), json!(7)),
            ("nullable", json!(true), json!("yes")),
            ("nullable", json!(false), Value::Null),
            ("readOnly", json!(true), json!(1)),
            ("writeOnly", json!(true), Value::Null),
            ("deprecated", json!(false), json!([])),
            ("exclusiveMinimum", json!(true), json!(3)),
            ("exclusiveMaximum", Value::Null, json!("x")),
            ("uniqueItems", json!(true), json!({})),
            ("title", json!("t"), json!(1)),
            ("description", Value::Null, json!(true)),
            ("pattern", json!("^a$"), json!([])),
            ("format", json!("int32"), json!(32)),
            ("multipleOf", json!(2.5), json!("2")),
            ("minimum", json!(-3), json!(true)),
            ("maximum", Value::Null, json!([1])),
            ("minLength", json!(0), json!(-1)),
            ("maxLength", json!(3), json!(1.5)),
            ("minItems", json!(1), json!("1")),
            ("maxItems", Value::Null, json!(true)),
            ("minProperties", json!(2), json!(-2)),
            ("maxProperties", json!(9), json!(2.0)),
            ("required", json!(["a"]), json!("a")),
            ("required", json!([]), json!(["a", 1])),
            ("required", Value::Null, json!({})),
            ("enum", json!([1, "a", null]), json!("a")),
            ("enum", Value::Null, json!(1)),
            ("properties", json!({"a": s}), json!([s])),
            ("properties", Value::Null, json!({"a": 1})),
            ("properties", json!({}), json!({"a": null})),
            (
                "properties",
                json!({"a": {"$ref": "#/x"}}),
                json!({"a": {"type": 1}}),
            ),
            ("items", s.clone(), json!([s])),
            ("items", Value::Null, json!(true)),
            (
                "items",
                json!({"$ref": "#/x"}),
                json!({"items": {"maxItems": "x"}}),
            ),
            ("not", s.clone(), json!("string")),
            ("additionalProperties", json!(true), json!("yes")),
            ("additionalProperties", json!({}), json!({"type": false})),
            ("additionalProperties", Value::Null, json!(1)),
            ("allOf", json!([s]), json!(s)),
            ("oneOf", json!([]), json!([s, 1])),
            ("anyOf", Value::Null, json!([null])),
            ("discriminator", json!({"propertyName": "k"}), json!({})),
            (
                "discriminator",
                json!({"propertyName": "k", "mapping": {"a": "#/A"}}),
                json!({"propertyName": "k", "mapping": {"a": 1}}),
            ),
            ("discriminator", Value::Null, json!("k")),
            (
                "externalDocs",
                json!({"url": "u"}),
                json!({"description": "d"}),
            ),
            ("example", json!(1), json!(1)),
            ("default", Value::Null, Value::Null),
            ("x-any", json!([{}]), json!(null)),
        ] {
            cases.push(ok(json!({ keyword: good })));
            let wrong_verdict = keyword == "example" || keyword == "default" || keyword == "x-any";
            cases.push((json!({ keyword: wrong }), wrong_verdict));
            // Beside `type`, inside `allOf`, in a property.
            cases.push(ok(json!({"allOf": [{ keyword: good, "type": "object" }]})));
            cases.push((
                json!({"properties": {"p": { keyword: wrong }}}),
                wrong_verdict,
            ));
        }
        cases.extend([
            ok(json!({})),
            ok(json!({"$ref": "#/a", "type": 7})),
            bad(json!(7)),
            bad(json!("string")),
            bad(json!([])),
            bad(Value::Null),
        ]);
        for (value, verdict) in &cases {
            let mine = schema(value, &ROOT).is_ok();
            assert_eq!(mine, *verdict, "{value}");
            assert_eq!(openapiv3_accepts(value), *verdict, "openapiv3: {value}");
        }
        // Beyond `openapiv3`.
        for value in [
            json!({"type": "file"}),
            json!({"$ref": 7}),
            json!({"type": ""}),
        ] {
            assert!(openapiv3_accepts(&value), "{value}");
            assert!(schema(&value, &ROOT).is_err(), "{value}");
        }
        // 3.1's `"null"` type, which `openapiv3` reads as an any-schema and lowering as null.
        let null = json!({"anyOf": [{"type": "string"}, {"type": "null"}]});
        assert!(openapiv3_accepts(&null));
        assert!(schema(&null, &ROOT).is_ok());
    }

    #[test]
    fn refusals_name_the_keyword() {
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a/{b}": {"get": {"parameters": [{"name": "b", "in": "path", "required": true,
                "schema": {"type": "object", "properties": {"x~/y": {"type": "text"}}}}],
                "responses": {}}}},
        });
        let refusal = structure_given(&doc, None).unwrap_err();
        assert_eq!(
            refusal.path,
            "#/paths/~1a~1{b}/get/parameters/0/schema/properties/x~0~1y/type"
        );
        assert_eq!(
            refusal.message,
            "expected one of \"array\", \"boolean\", \"integer\", \"number\", \"object\", \
             \"string\" (or \"null\"), found string \"text\""
        );
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
        assert!(structure_given(&doc, None).is_ok());
        let model: Result<openapiv3::OpenAPI, _> = serde_json::from_value(doc);
        assert!(model.is_ok());
    }

    /// `openapiv3`'s verdict on the copy [`Walk`] writes from the `Value`.
    fn value_verdict(root: &Value) -> bool {
        let mut walk = Walk::new(true);
        walk.document(root);
        serde_json::from_slice::<openapiv3::OpenAPI>(&walk.out).is_ok()
    }

    /// The copy written from the text gets the verdict of the copy written from the `Value`,
    /// References with odd siblings included; repeated keys and bad JSON give no verdict.
    #[test]
    fn the_verdict_from_the_text_is_the_verdict_from_the_value() {
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
            match doc.pointer_mut(pointer) {
                Some(target) => *target = replacement,
                None => panic!("no {pointer}"),
            }
            cases.push(doc);
        }
        let mut accepted = 0;
        for doc in &cases {
            let verdict = value_verdict(doc);
            accepted += usize::from(verdict);
            for text in [doc.to_string(), serde_json::to_string_pretty(doc).unwrap()] {
                assert_eq!(copy_accepted(&text), Some(verdict), "{text}");
            }
        }
        // Both verdicts are tried.
        assert!(accepted > 5 && accepted < cases.len() - 5, "{accepted}");
        // Null scope lists are accepted on both paths.
        for doc in &cases[cases.len() - 6..cases.len() - 4] {
            assert!(value_verdict(doc), "{doc}");
        }

        let text = base.to_string();
        let repeated = text.replacen(r#""title":"t""#, r#""title":"t","title":7"#, 1);
        assert_ne!(repeated, text);
        assert_eq!(copy_accepted(&repeated), None);
        // Repeated keys inside a Schema Object are not read: they do not matter.
        let in_schema = text.replacen(r#""type":"integer""#, r#""type":"integer","type":7"#, 1);
        assert_ne!(in_schema, text);
        assert_eq!(copy_accepted(&in_schema), Some(true));
        assert_eq!(copy_accepted(&text[..text.len() - 1]), None);
        assert_eq!(copy_accepted(&format!("{text} x")), None);
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
        assert_eq!(copy_accepted(&doc.to_string()), Some(true));
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
            for text in [doc.to_string(), serde_json::to_string_pretty(&doc).unwrap()] {
                assert_eq!(copy_accepted(&text), Some(verdict), "{text}");
            }
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
            assert_eq!(copy_accepted(&doc.to_string()), Some(verdict), "{doc}");
        }
        let doc = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": op, "put": op}, "/b": {"get": op, "put": {"responses": {"200": bad[3]}}}},
            "components": {"responses": {"R": bad[3]}},
        });
        assert!(!value_verdict(&doc));
        assert_eq!(copy_accepted(&doc.to_string()), Some(false));
        // The repeats were stood in for: in the second Path Item (the objects inside a Path
        // Item are kept once it is read), and in the Components.
        let copy = String::from_utf8(streamed_copy(&doc.to_string()).unwrap()).unwrap();
        assert!(
            copy.contains(r#""/b":{"get":{"operationId":"","parameters":[{"$ref":""}]"#),
            "{copy}"
        );
        assert!(
            copy.ends_with(r#""components":{"responses":{"R":{"$ref":""}}}}"#),
            "{copy}"
        );
    }
}
