//! OpenAPI 3.0 → [`Ir`].
//!
//! Lowering reads the document as JSON (after `openapiv3` has accepted its structure) because
//! real schemas combine keywords that typed models split apart (`type: object` with
//! `properties` *and* `anyOf` of `required` sets). Each schema node is lowered once: named
//! types are memoised by JSON pointer, which also terminates recursion.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::Settings;
use crate::fxhash::FxHashMap;
use crate::ir::{
    Field, IntEnum, Ir, Kind, Location, NameHint, Operation, ParamWire, Presence, Response,
    ResponseBody, SchemeKind, SecurityScheme, StringEnum, Struct, Tagged, Tuple, Ty, TypeDef,
    TypeId, Variant,
};
use oas::pointer::{self, At};

/// Why a document could not be lowered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LowerError {
    #[error(transparent)]
    Ref(#[from] pointer::RefError),
    #[error("{at}: {message}")]
    Invalid { at: String, message: String },
}

/// A lowered schema: its type, and whether `null` is also accepted.
#[derive(Debug, Clone)]
struct Lowered {
    ty: Ty,
    nullable: bool,
}

/// The deepest nesting of schemas lowering follows (properties, items, combinators, and
/// `$ref`s to schemas not yet lowered, each one level). Real specs stay far below it: the deepest
/// of the corpus, Stripe's, reaches 37. Past it a spec is refused with the pointer, rather than
/// overflowing the stack.
pub const MAX_SCHEMA_DEPTH: usize = 1000;

/// The stack a level of [`Lowerer::schema`] starts with at least: room for it and what it
/// calls below the next level (20–24 KiB in a debug build, measured over the corpus).
const STACK_RED_ZONE: usize = 256 * 1024;

/// The stack segment levels go on where the thread's own runs short (about 170 levels of a
/// debug build; a segment is mapped, and only the pages touched are committed).
const STACK_SEGMENT: usize = 4 * 1024 * 1024;

pub fn lower(root: &Value, settings: &Settings) -> Result<Ir, LowerError> {
    let mut cx = Lowerer {
        root,
        settings,
        ir: Ir::default(),
        done: Vec::new(),
        by_pointer: FxHashMap::default(),
        refs: FxHashMap::default(),
        depth: 0,
        v31: oas::Version::of(root) == oas::Version::V3_1,
        untyped: BTreeMap::new(),
    };
    if let Some(schemas) = root
        .pointer("/components/schemas")
        .and_then(Value::as_object)
    {
        // Inline schemas roughly double the count; references recur.
        cx.by_pointer.reserve(schemas.len() * 4);
        cx.refs.reserve(schemas.len());
        for (name, node) in schemas {
            let at = child("/components", "schemas", name);
            cx.named(
                At::Str(&at),
                Some(node),
                Words::Slice(std::slice::from_ref(name)),
                true,
            )?;
        }
    }
    cx.document_client();
    cx.operations()?;
    cx.webhooks()?;
    for (keyword, (count, first)) in std::mem::take(&mut cx.untyped) {
        let schemas = if count == 1 { "schema" } else { "schemas" };
        let typed_as = if keyword == "`prefixItems`" {
            "with no position an array can have (empty, or `maxItems: 0`): no tuple type, such \
             arrays are `Vec<serde_json::Value>`"
        } else {
            "alone shaping a schema: no Rust type, such values are `serde_json::Value`"
        };
        cx.ir.warnings.push(format!(
            "{keyword} {typed_as}, checked by the validator only ({count} {schemas}, the \
             first at #{first})"
        ));
    }
    Ok(cx.ir)
}

struct Lowerer<'a> {
    root: &'a Value,
    settings: &'a Settings,
    ir: Ir,
    /// Per type: whether its lowering is finished (then its `nullable` is known; a type still
    /// being lowered is part of a cycle).
    done: Vec<bool>,
    /// Schema pointer → the named type lowered from it.
    /// (Looked up, never iterated: no hash order reaches the output.)
    by_pointer: FxHashMap<String, TypeId>,
    /// `$ref` text → the type lowered from the schema it points at, and the node its chain of
    /// references ends at ([`resolve`]), once known: most references are met many times.
    refs: FxHashMap<String, (TypeId, Option<&'a Value>)>,
    /// Levels of [`Lowerer::schema`] under way (bounded by [`MAX_SCHEMA_DEPTH`]).
    depth: usize,
    /// The document is OpenAPI 3.1 (a `$ref`'s siblings apply).
    v31: bool,
    /// Keywords without a type mapping, met where they alone shape a schema: how many
    /// schemas, and the first one's pointer (one warning each).
    untyped: BTreeMap<String, (usize, String)>,
}

/// The words a type's name is built from ([`NameHint`]), built only for the schemas that
/// become named types.
#[derive(Debug, Clone, Copy)]
enum Words<'w> {
    Slice(&'w [String]),
    /// The parent's words, then one more.
    Push(&'w Words<'w>, &'w str),
    /// The parent's words, then these.
    Concat(&'w Words<'w>, &'w [String]),
}

impl Words<'_> {
    fn to_vec(self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect(self, out: &mut Vec<String>) {
        match self {
            Words::Slice(words) => out.extend_from_slice(words),
            Words::Push(parent, word) => {
                parent.collect(out);
                out.push(word.to_owned());
            }
            Words::Concat(parent, more) => {
                parent.collect(out);
                out.extend_from_slice(more);
            }
        }
    }
}

fn obj(node: &Value) -> Option<&Map<String, Value>> {
    node.as_object()
}

/// Member lookup by key ([`pointer::member`]).
trait Key {
    fn key(&self, key: &str) -> Option<&Value>;
}

impl Key for Map<String, Value> {
    fn key(&self, key: &str) -> Option<&Value> {
        pointer::member(self, key)
    }
}

impl Key for Value {
    fn key(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Object(o) => o.key(key),
            _ => None,
        }
    }
}

/// Fails as [`pointer::deref`] does when the `$ref` chain starting at `node` (a reference)
/// does not resolve; builds no pointer when it does, and returns the node the reference
/// itself points at.
fn check_ref<'v>(root: &'v Value, at: At<'_>, node: &'v Value) -> Result<&'v Value, LowerError> {
    let mut current = node;
    let mut first = None;
    for _ in 0..64 {
        let Some(reference) = current.key("$ref").and_then(Value::as_str) else {
            return Ok(first.unwrap_or(node));
        };
        match local(reference).and_then(|t| pointer::get(root, &t)) {
            Some(next) => {
                first.get_or_insert(next);
                current = next;
            }
            None => break,
        }
    }
    pointer::deref(root, &at.string(), node)?;
    Ok(first.unwrap_or(node))
}

/// [`pointer::local_target`], borrowed from the reference when there is nothing to decode
/// (no `%`: the decoding is then the identity).
fn local(reference: &str) -> Option<std::borrow::Cow<'_, str>> {
    let fragment = reference.strip_prefix('#')?;
    if fragment.contains('%') {
        pointer::local_target(reference).map(std::borrow::Cow::Owned)
    } else {
        Some(std::borrow::Cow::Borrowed(fragment))
    }
}

/// `pointer::deref` for a node found at `at`: the pointer the chain ends at, built only when
/// the node is a reference (`None`: the node is not one, and stays at `at`).
fn deref_at<'v>(
    root: &'v Value,
    at: At<'_>,
    node: &'v Value,
) -> Result<(Option<String>, &'v Value), LowerError> {
    if node.key("$ref").is_none() {
        return Ok((None, node));
    }
    let (at, node) = pointer::deref_lazy(root, || at.string(), node)?;
    Ok((Some(at), node))
}

/// The node a `$ref` chain starting at `node` ends at, or `node` itself when the chain does
/// not resolve ([`pointer::deref`] without building the pointers).
fn resolve<'v>(root: &'v Value, node: &'v Value) -> &'v Value {
    resolve_in(root, node).unwrap_or(node)
}

/// The node a `$ref` chain starting at `node` ends at, if `node` is a reference and the chain
/// resolves ([`resolve`] is this, else `node`).
fn resolve_in<'v>(root: &'v Value, node: &Value) -> Option<&'v Value> {
    let mut current = node.key("$ref").and_then(Value::as_str)?;
    // Like `pointer::deref`, at most 63 links: its 64 steps include looking at `node` itself.
    for _ in 0..63 {
        let next = local(current).and_then(|t| pointer::get(root, &t))?;
        match next.key("$ref").and_then(Value::as_str) {
            Some(reference) => current = reference,
            None => return Some(next),
        }
    }
    None
}

fn doc_of(node: &Value) -> Option<String> {
    let o = obj(node)?;
    let title = o
        .key("title")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let description = o
        .key("description")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (title, description) {
        (Some(t), Some(d)) if t != d => Some(format!("{t}\n\n{d}")),
        (Some(t), _) => Some(t.to_owned()),
        (None, Some(d)) => Some(d.to_owned()),
        (None, None) => None,
    }
}

fn flag(node: &Value, key: &str) -> bool {
    node.key(key) == Some(&Value::Bool(true))
}

/// Whether a schema's own keywords admit `null`: OpenAPI 3.0's `nullable: true`, 3.1's
/// `"null"` among its types. (`nullable` is honoured in 3.1 documents too, which real ones
/// carry over from 3.0: a type admitting more than the spec says decodes what the server
/// sends; the lint reports the keyword.)
fn admits_null(node: &Value) -> bool {
    flag(node, "nullable")
        || match node.key("type") {
            Some(Value::String(t)) => t == "null",
            Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
            _ => false,
        }
}

/// The one type a schema names, `null` aside: `type: T` (3.0 and 3.1) or `type: [T, "null"]`
/// (3.1); `"null"` for a null-only list. `None` without a `type`, or with several.
fn single_type(o: &Map<String, Value>) -> Option<&str> {
    match o.key("type")? {
        Value::String(t) => Some(t),
        Value::Array(types) => {
            let mut named = types
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| *t != "null");
            match (named.next(), named.next()) {
                (Some(t), None) => Some(t),
                (None, _) if !types.is_empty() => Some("null"),
                _ => None,
            }
        }
        _ => None,
    }
}

/// OpenAPI 3.1's list of several types beside `null` (`type: [string, integer]`), in a
/// deserializable order: `integer` before `number`, which would also read it.
fn several_types(o: &Map<String, Value>) -> Option<Vec<&str>> {
    let types = o.key("type")?.as_array()?;
    let mut named: Vec<&str> = Vec::new();
    for t in types.iter().filter_map(Value::as_str) {
        if t != "null" && !named.contains(&t) {
            named.push(t);
        }
    }
    if named.len() < 2 {
        return None;
    }
    if let (Some(i), Some(n)) = (
        named.iter().position(|t| *t == "integer"),
        named.iter().position(|t| *t == "number"),
    ) && n < i
    {
        named.swap(i, n);
    }
    Some(named)
}

/// A string `const` (JSON Schema 2020-12) on a string schema: a one-value enum, so a union
/// tells its members apart by it as it would by a discriminator.
fn string_const(o: &Map<String, Value>) -> Option<&str> {
    let value = o.key("const")?.as_str()?;
    matches!(single_type(o), None | Some("string")).then_some(value)
}

/// Keywords of JSON Schema 2020-12 with no type mapping here: they constrain or shape values in
/// ways a Rust type does not express. Named in a warning where they are the schema's only shape.
const UNTYPED_KEYWORDS: [&str; 9] = [
    "if",
    "then",
    "else",
    "dependentSchemas",
    "unevaluatedProperties",
    "patternProperties",
    "$dynamicRef",
    "contains",
    "propertyNames",
];

/// A schema that only constrains (`required`, `not`, bounds) and adds no shape: the
/// `anyOf: [{required: [a]}, {required: [b]}]` idiom. Unions of these are validation rules,
/// not types.
/// A union member that admits `null` and nothing else: the portable OpenAPI 3.0.3 null branch
/// (`{type: …, nullable: true, enum: [null]}`) and `{type: "null"}` (not valid 3.0, but seen).
/// Beside it, the union is the other members, nullable.
fn null_only(member: &Value) -> bool {
    member.key("type").and_then(Value::as_str) == Some("null")
        || member
            .key("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_null))
}

fn constraint_only(node: &Value) -> bool {
    obj(node).is_some_and(|o| {
        o.keys().all(|k| {
            matches!(
                k.as_str(),
                "required"
                    | "not"
                    | "description"
                    | "title"
                    | "minProperties"
                    | "maxProperties"
                    | "minimum"
                    | "maximum"
            ) || k.starts_with("x-")
        })
    })
}

impl<'a> Lowerer<'a> {
    fn invalid(at: impl std::fmt::Display, message: impl Into<String>) -> LowerError {
        LowerError::Invalid {
            at: at.to_string(),
            message: message.into(),
        }
    }

    /// Lowers the schema at `at` into a named type (memoised); returns its id.
    /// `node`, when the caller has it, saves resolving `at` again.
    fn named(
        &mut self,
        at: At<'_>,
        node: Option<&Value>,
        words: Words<'_>,
        component: bool,
    ) -> Result<TypeId, LowerError> {
        let built;
        let at: &str = match at {
            At::Str(s) => s,
            _ => {
                built = at.to_string();
                &built
            }
        };
        if let Some(id) = self.by_pointer.get(at) {
            return Ok(*id);
        }
        let root = self.root;
        let node = node
            .or_else(|| pointer::get(root, at))
            .ok_or_else(|| Self::invalid(at, "schema not found"))?;
        // Reserve the id first: recursive references find it while the body is lowered.
        let id = self.push_type(TypeDef {
            hint: NameHint {
                words: words.to_vec(),
                component,
            },
            origin: at.to_owned(),
            doc: doc_of(node),
            deprecated: flag(node, "deprecated"),
            nullable: false,
            kind: Kind::Alias(Ty::Json),
        });
        self.by_pointer.insert(at.to_owned(), id);
        let (kind, nullable) = self.kind(At::Str(at), node, words)?;
        self.ir.types[id.0].kind = kind;
        self.ir.types[id.0].nullable = nullable;
        self.done[id.0] = true;
        Ok(id)
    }

    /// Adds a type (not yet lowered) to the IR.
    fn push_type(&mut self, def: TypeDef) -> TypeId {
        let id = TypeId(self.ir.types.len());
        self.ir.types.push(def);
        self.done.push(false);
        id
    }

    /// Whether the type admits `null`, if its lowering is finished.
    fn nullable_of(&self, id: TypeId) -> Option<bool> {
        self.done[id.0].then(|| self.ir.types[id.0].nullable)
    }

    /// Lowers a schema in a position (property, item, variant…). Inline schemas that need a
    /// declaration become named types with a name built from `words`.
    fn schema(
        &mut self,
        at: At<'_>,
        node: &Value,
        words: Words<'_>,
    ) -> Result<Lowered, LowerError> {
        if self.depth >= MAX_SCHEMA_DEPTH {
            return Err(Self::invalid(
                at,
                format!(
                    "schemas nest more than {MAX_SCHEMA_DEPTH} levels deep here (through \
                     properties, items, combinators or chains of `$ref`); this is the \
                     generator's limit"
                ),
            ));
        }
        self.depth += 1;
        // Each level may take up to about 24 KiB of stack in a debug build, and a caller's
        // thread may have 2 MiB (a test harness's) or less: where the stack runs short, the
        // levels below go on a segment of their own, on the same thread.
        let lowered = stacker::maybe_grow(STACK_RED_ZONE, STACK_SEGMENT, || {
            self.schema_at_depth(at, node, words)
        });
        self.depth -= 1;
        lowered
    }

    /// [`Lowerer::schema`] once the depth is counted.
    fn schema_at_depth(
        &mut self,
        at: At<'_>,
        node: &Value,
        words: Words<'_>,
    ) -> Result<Lowered, LowerError> {
        let Some(o) = obj(node) else {
            return match node {
                Value::Bool(_) => Ok(Lowered {
                    ty: Ty::Json,
                    nullable: false,
                }),
                _ => Err(Self::invalid(at, "expected a Schema Object")),
            };
        };
        if let Some(reference) = o.key("$ref").filter(|_| !self.ref_with_shape(o)) {
            let reference = reference.as_str().unwrap_or_default();
            // A reference met before resolved then (the chain depends on its text only).
            let (id, end) = match self.refs.get(reference) {
                Some(known) => *known,
                None => {
                    let target = check_ref(self.root, at, node)?;
                    let direct = local(reference).unwrap_or_default();
                    let id = self.named(
                        At::Str(&direct),
                        Some(target),
                        Words::Slice(&target_words(&direct)),
                        component_name(&direct).is_some(),
                    )?;
                    let end = resolve_in(self.root, node);
                    self.refs.insert(reference.to_owned(), (id, end));
                    (id, end)
                }
            };
            let nullable = match self.nullable_of(id) {
                Some(nullable) => nullable,
                // Still being lowered (a cycle): read the flag off the node itself.
                None => admits_null(end.unwrap_or(node)),
            };
            return Ok(self.unalias(id, nullable));
        }
        let nullable_here = admits_null(node);
        // allOf with one member and nothing else that shapes a type: the member itself
        // (the `nullable: true, allOf: [$ref]` idiom).
        if let Some([only]) = o.key("allOf").and_then(Value::as_array).map(Vec::as_slice) {
            // A `oneOf`/`anyOf` of validation rules only (`oneOf: [{}]`) shapes nothing either,
            // as in `kind`.
            let shaping_union = ["oneOf", "anyOf"].iter().any(|k| {
                o.key(k)
                    .and_then(Value::as_array)
                    .is_some_and(|m| !m.iter().all(constraint_only))
            });
            if o.key("properties").is_none() && !shaping_union {
                let inner = self.schema(At::KeywordIndex(&at, "allOf", 0), only, words)?;
                return Ok(Lowered {
                    ty: inner.ty,
                    nullable: inner.nullable || nullable_here,
                });
            }
        }
        if needs_declaration(o, self.v31) {
            let id = self.named(at, Some(node), words, false)?;
            let nullable = self.nullable_of(id).unwrap_or(nullable_here);
            return Ok(self.unalias(id, nullable));
        }
        let (kind, nullable) = self.kind(at, node, words)?;
        match kind {
            Kind::Alias(ty) => Ok(Lowered { ty, nullable }),
            // `needs_declaration` is a quick guess from the keywords; a schema it missed still
            // gets its declaration, rather than an error.
            kind => {
                let origin = at.to_string();
                let id = self.push_type(TypeDef {
                    hint: NameHint {
                        words: words.to_vec(),
                        component: false,
                    },
                    origin: origin.clone(),
                    doc: doc_of(node),
                    deprecated: flag(node, "deprecated"),
                    nullable,
                    kind,
                });
                self.done[id.0] = true;
                self.by_pointer.insert(origin, id);
                Ok(self.unalias(id, nullable))
            }
        }
    }

    /// OpenAPI 3.1: a `$ref` beside keywords that shape an object (`properties`,
    /// `additionalProperties`, `required`), which apply with it (in 3.0 they are ignored).
    fn ref_with_shape(&self, o: &Map<String, Value>) -> bool {
        self.v31
            && o.key("allOf").is_none()
            && ["properties", "additionalProperties", "required"]
                .iter()
                .any(|k| o.key(k).is_some())
    }

    /// OpenAPI 3.1's `type: [A, B, …]`: an untagged union with one variant per type, each
    /// lowered from the schema's keywords for that type.
    fn type_union(
        &mut self,
        at: At<'_>,
        o: &Map<String, Value>,
        types: &[&str],
        words: Words<'_>,
    ) -> Result<Kind, LowerError> {
        let mut variants = Vec::new();
        for t in types {
            let word = match *t {
                "string" => "String",
                "integer" => "Integer",
                "number" => "Number",
                "boolean" => "Boolean",
                "array" => "Array",
                "object" => "Object",
                _ => continue,
            };
            let ty = match *t {
                "string" => Ty::String,
                "boolean" => Ty::Bool,
                "integer" => integer(o),
                "number" => number(o),
                "array" => Ty::Vec(Box::new(self.items(&at, o, words)?)),
                _ => match self.object(at, o, Words::Push(&words, word))? {
                    Kind::Alias(ty) => ty,
                    kind => {
                        let origin = format!("{at}/type");
                        let id = self.push_type(TypeDef {
                            hint: NameHint {
                                words: Words::Push(&words, word).to_vec(),
                                component: false,
                            },
                            origin: origin.clone(),
                            doc: None,
                            deprecated: false,
                            nullable: false,
                            kind,
                        });
                        self.done[id.0] = true;
                        self.by_pointer.insert(origin, id);
                        Ty::Named(id)
                    }
                },
            };
            variants.push(Variant {
                hint: vec![word.to_owned()],
                ty,
            });
        }
        order_untagged(self, &mut variants);
        Ok(Kind::Untagged(variants))
    }

    /// An array's item type (`items`; any JSON without it).
    fn items(
        &mut self,
        at: &At<'_>,
        o: &Map<String, Value>,
        words: Words<'_>,
    ) -> Result<Ty, LowerError> {
        Ok(match o.key("items") {
            Some(items) => {
                let l = self.schema(At::Key(at, "items"), items, Words::Push(&words, "Item"))?;
                wrap_nullable(l)
            }
            None => Ty::Json,
        })
    }

    /// JSON Schema 2020-12's `prefixItems`: a tuple struct with a field per position, an
    /// `Option` for the positions an array may lack (from `minItems` on), and when more items
    /// may follow (`items` is not `false` and `maxItems` allows them), a last field with the
    /// `Vec` of them, typed by `items`. With exactly the prefix's items (`minItems` and
    /// `items: false` or `maxItems` equal to its length), serde's derive reads and writes it;
    /// otherwise the emitter writes the array's reading and writing. A prefix no array can
    /// hold an item of (empty, or `maxItems: 0`) is a `Vec` of any JSON, with a warning.
    fn tuple(
        &mut self,
        at: At<'_>,
        o: &Map<String, Value>,
        words: Words<'_>,
    ) -> Result<Kind, LowerError> {
        let prefix = o
            .key("prefixItems")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let max = o
            .key("maxItems")
            .and_then(Value::as_u64)
            .map(|m| usize::try_from(m).unwrap_or(usize::MAX));
        let positions = max.map_or(prefix.len(), |m| m.min(prefix.len()));
        if positions == 0 {
            self.untyped
                .entry("`prefixItems`".to_owned())
                .or_insert_with(|| (0, at.to_string()))
                .0 += 1;
            return Ok(Kind::Alias(Ty::Vec(Box::new(Ty::Json))));
        }
        let min = o
            .key("minItems")
            .and_then(Value::as_u64)
            .map_or(0, |m| usize::try_from(m).unwrap_or(usize::MAX));
        let required = min.min(positions);
        let rest = o.key("items") != Some(&Value::Bool(false)) && max.is_none_or(|m| m > positions);
        let mut items = Vec::with_capacity(positions + usize::from(rest));
        for (i, item) in prefix[..positions].iter().enumerate() {
            let word = format!("Item{i}");
            let l = self.schema(
                At::KeywordIndex(&at, "prefixItems", i),
                item,
                Words::Push(&words, &word),
            )?;
            let ty = wrap_nullable(l);
            items.push(if i < required {
                ty
            } else {
                Ty::Option(Box::new(ty))
            });
        }
        if rest {
            let ty = self.items(&at, o, words)?;
            items.push(Ty::Vec(Box::new(ty)));
        }
        Ok(Kind::Tuple(Tuple {
            items,
            required,
            rest,
        }))
    }

    /// Counts the keywords without a type mapping that a schema with no type of its own uses
    /// (its type is then any JSON), for one warning per keyword.
    fn warn_untyped(&mut self, at: &At<'_>, o: &Map<String, Value>) {
        if [
            "properties",
            "additionalProperties",
            "items",
            "enum",
            "allOf",
            "oneOf",
            "anyOf",
        ]
        .iter()
        .any(|k| o.key(k).is_some())
        {
            return;
        }
        let present: Vec<String> = UNTYPED_KEYWORDS
            .iter()
            .filter(|k| o.key(k).is_some())
            .map(|k| format!("`{k}`"))
            .collect();
        if !present.is_empty() {
            // One entry per combination: `if` and `then` together are one cause.
            self.untyped
                .entry(present.join(", "))
                .or_insert_with(|| (0, at.to_string()))
                .0 += 1;
        }
    }

    /// A named alias of a primitive is used by name; this keeps it so (aliases document intent).
    fn unalias(&self, id: TypeId, nullable: bool) -> Lowered {
        Lowered {
            ty: Ty::Named(id),
            nullable,
        }
    }

    /// The kind of type a schema lowers to, and whether it admits null.
    fn kind(
        &mut self,
        at: At<'_>,
        node: &Value,
        words: Words<'_>,
    ) -> Result<(Kind, bool), LowerError> {
        let Some(o) = obj(node) else {
            return Ok((Kind::Alias(Ty::Json), false));
        };
        let mut nullable = admits_null(node);
        if o.key("$ref").is_some() && self.ref_with_shape(o) {
            // OpenAPI 3.1: the reference and its shaping siblings apply together, as an
            // `allOf` of the two would.
            return self.all_of(at, o, std::slice::from_ref(node), words, nullable);
        }
        if o.key("$ref").is_some() {
            let l = self.schema(at, node, words)?;
            return Ok((Kind::Alias(l.ty), l.nullable));
        }
        // Unions.
        for key in ["oneOf", "anyOf"] {
            let Some(members) = o.key(key).and_then(Value::as_array) else {
                continue;
            };
            if members.iter().all(constraint_only) {
                continue; // validation rules only; the rest of the schema is the type
            }
            let mut shaped = members.iter().enumerate().filter(|(_, m)| !null_only(m));
            if let (Some((i, only)), None) = (shaped.next(), shaped.next()) {
                // One member (beside null branches): that member, nullable if a null branch
                // was there (`anyOf: [{$ref: X}, {…, enum: [null]}]` is `Option<X>`).
                let with_null = members.len() > 1;
                let l = self.schema(At::KeywordIndex(&at, key, i), only, words)?;
                return Ok((Kind::Alias(l.ty), l.nullable || nullable || with_null));
            }
            let (kind, member_nullable) = self.union(at, o, key, members, words)?;
            return Ok((kind, nullable || member_nullable));
        }
        if let Some(parts) = o.key("allOf").and_then(Value::as_array) {
            return self.all_of(at, o, parts, words, nullable);
        }
        // An open list of known strings (`x-extensible-enum`, Zalando's convention): every
        // reader sees a plain string, and the generated type keeps the known values as variants
        // plus `Unknown(String)`, whatever the policy for closed enums.
        if let Some(values) = o.key("x-extensible-enum").and_then(Value::as_array)
            && o.key("enum").is_none()
            && matches!(single_type(o), None | Some("string"))
        {
            let mut strings: Vec<String> = Vec::new();
            for s in values.iter().filter_map(Value::as_str) {
                if !strings.iter().any(|known| known == s) {
                    strings.push(s.to_owned());
                }
            }
            if !strings.is_empty() {
                return Ok((
                    Kind::Enum(StringEnum {
                        values: strings,
                        catch_all: true,
                    }),
                    nullable,
                ));
            }
        }
        // Enums.
        if let Some(values) = o.key("enum").and_then(Value::as_array) {
            if values.iter().any(Value::is_null) {
                nullable = true;
            }
            let non_null: Vec<&Value> = values.iter().filter(|v| !v.is_null()).collect();
            let ty = single_type(o);
            if !non_null.is_empty()
                && non_null.iter().all(|v| v.is_string())
                && matches!(ty, None | Some("string"))
            {
                let mut strings: Vec<String> = Vec::new();
                for v in non_null {
                    let s = v.as_str().unwrap_or_default().to_owned();
                    if !strings.contains(&s) {
                        strings.push(s);
                    }
                }
                let catch_all = self.settings.unknown_enum == crate::UnknownEnum::CatchAll;
                return Ok((
                    Kind::Enum(StringEnum {
                        values: strings,
                        catch_all,
                    }),
                    nullable,
                ));
            }
            if !non_null.is_empty()
                && non_null.iter().all(|v| v.is_i64())
                && matches!(ty, None | Some("integer"))
            {
                let mut ints: Vec<i64> = Vec::new();
                for v in non_null {
                    let i = v.as_i64().unwrap_or_default();
                    if !ints.contains(&i) {
                        ints.push(i);
                    }
                }
                return Ok((Kind::IntEnum(IntEnum { values: ints }), nullable));
            }
            // Other enums (numbers, booleans, mixed): the underlying type; values are
            // checked by the validator, not the type.
        }
        // JSON Schema 2020-12's keywords, which OpenAPI 3.0 does not have (its validators
        // ignore them, and so does the generator there).
        let v31 = self.v31;
        if let Some(value) = string_const(o).filter(|_| v31) {
            return Ok((
                Kind::Enum(StringEnum {
                    values: vec![value.to_owned()],
                    catch_all: false,
                }),
                nullable,
            ));
        }
        if v31 && o.key("const") == Some(&Value::Null) {
            return Ok((Kind::Alias(Ty::Json), true));
        }
        if let Some(types) = several_types(o).filter(|_| v31) {
            return self.type_union(at, o, &types, words).map(|k| (k, nullable));
        }
        if v31 && o.key("prefixItems").is_some() {
            return Ok((self.tuple(at, o, words)?, nullable));
        }
        let ty = single_type(o).or_else(|| match o.key("const").filter(|_| v31) {
            // An untyped `const` has the type of its value.
            Some(Value::Bool(_)) => Some("boolean"),
            Some(Value::Number(n)) if n.is_i64() || n.is_u64() => Some("integer"),
            Some(Value::Number(_)) => Some("number"),
            _ => None,
        });
        if v31 && ty.is_none() {
            self.warn_untyped(&at, o);
        }
        if ty == Some("null") {
            // A schema admitting only `null` (3.1's spelling, seen in 3.0 specs): a field that
            // is always null holds no value of its own.
            return Ok((Kind::Alias(Ty::Json), true));
        }
        let objectish = ty == Some("object")
            || (ty.is_none()
                && (o.key("properties").is_some() || o.key("additionalProperties").is_some()));
        if objectish {
            return self.object(at, o, words).map(|k| (k, nullable));
        }
        let prim = match ty {
            Some("string") => Ty::String,
            Some("boolean") => Ty::Bool,
            Some("integer") => integer(o),
            Some("number") => number(o),
            Some("array") => Ty::Vec(Box::new(self.items(&at, o, words)?)),
            // No type (or an unknown one): anything.
            _ => Ty::Json,
        };
        Ok((Kind::Alias(prim), nullable))
    }

    fn object(
        &mut self,
        at: At<'_>,
        o: &Map<String, Value>,
        words: Words<'_>,
    ) -> Result<Kind, LowerError> {
        let props = o.key("properties").and_then(Value::as_object);
        let additional = o.key("additionalProperties");
        if props.is_none_or(Map::is_empty) {
            return Ok(Kind::Alias(match additional {
                Some(Value::Bool(false)) => {
                    return Ok(Kind::Struct(Struct {
                        fields: Vec::new(),
                        additional: None,
                        deny_unknown: true,
                    }));
                }
                Some(schema @ Value::Object(_)) => {
                    let l = self.schema(
                        At::Key(&at, "additionalProperties"),
                        schema,
                        Words::Push(&words, "Value"),
                    )?;
                    if l.ty == Ty::Json && !l.nullable {
                        Ty::JsonObject
                    } else {
                        Ty::Map(Box::new(wrap_nullable(l)))
                    }
                }
                _ => Ty::JsonObject,
            }));
        }
        let required: Vec<&str> = o
            .key("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut fields = Vec::new();
        for (name, sub) in props.into_iter().flatten() {
            fields.push(self.field(
                At::KeywordKey(&at, "properties", name),
                name,
                sub,
                required.contains(&name.as_str()),
                words,
            )?);
        }
        fields.extend(forbidden(o));
        let (additional, deny_unknown) = match additional {
            Some(Value::Bool(false)) => (None, true),
            Some(Value::Bool(true)) => (Some(Ty::Json), false),
            Some(schema @ Value::Object(m)) if !m.is_empty() => {
                let l = self.schema(
                    At::Key(&at, "additionalProperties"),
                    schema,
                    Words::Push(&words, "Value"),
                )?;
                (Some(wrap_nullable(l)), false)
            }
            Some(Value::Object(_)) => (Some(Ty::Json), false),
            _ => (None, false),
        };
        Ok(Kind::Struct(Struct {
            fields,
            additional,
            deny_unknown,
        }))
    }

    fn field(
        &mut self,
        at: At<'_>,
        wire: &str,
        sub: &Value,
        required: bool,
        words: Words<'_>,
    ) -> Result<Field, LowerError> {
        if sub == &Value::Bool(false) {
            // JSON Schema's `false` admits no value: the property must be absent.
            return Ok(Field {
                wire: wire.to_owned(),
                ty: Ty::Json,
                presence: Presence::Forbidden,
                doc: Some("Must be absent: its schema is `false`.".to_owned()),
                deprecated: false,
            });
        }
        let l = self.schema(at, sub, Words::Push(&words, wire))?;
        // `schema` has followed the reference and kept where its chain ends.
        let known = sub
            .key("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.refs.get(r));
        let resolved = match known {
            Some(&(_, Some(end))) => end,
            _ => resolve(self.root, sub),
        };
        // A readOnly property is absent from requests and a writeOnly one from responses, so
        // neither can be required in a type shared by both directions.
        let one_way = flag(sub, "readOnly")
            || flag(sub, "writeOnly")
            || flag(resolved, "readOnly")
            || flag(resolved, "writeOnly");
        let presence = match (required && !one_way, l.nullable) {
            (true, false) => Presence::Required,
            (true, true) => Presence::RequiredNullable,
            (false, false) => Presence::Optional,
            (false, true) => Presence::OptionalNullable,
        };
        Ok(Field {
            wire: wire.to_owned(),
            ty: l.ty,
            presence,
            doc: doc_of(sub).or_else(|| {
                if sub.key("$ref").is_some() {
                    None
                } else {
                    doc_of(resolved)
                }
            }),
            deprecated: flag(sub, "deprecated"),
        })
    }

    fn union(
        &mut self,
        at: At<'_>,
        o: &Map<String, Value>,
        key: &'static str,
        members: &[Value],
        words: Words<'_>,
    ) -> Result<(Kind, bool), LowerError> {
        let mut nullable = false;
        let mut variants = Vec::new();
        let mut tagged_members = Vec::new();
        for (i, member) in members.iter().enumerate() {
            if null_only(member) {
                nullable = true;
                continue;
            }
            let hint = variant_hint(member, i);
            let l = self.schema(
                At::KeywordIndex(&at, key, i),
                member,
                Words::Concat(&words, &hint),
            )?;
            nullable |= l.nullable;
            if let Some(reference) = member.key("$ref").and_then(Value::as_str) {
                tagged_members.push((
                    pointer::local_target(reference).unwrap_or_default(),
                    variants.len(),
                ));
            }
            variants.push(Variant { hint, ty: l.ty });
        }
        if let Some(discriminator) = o.key("discriminator").and_then(Value::as_object) {
            if let Some(property) = discriminator.key("propertyName").and_then(Value::as_str) {
                let mut tagged: Vec<(String, Variant)> = Vec::new();
                let mapping = discriminator.key("mapping").and_then(Value::as_object);
                // Explicit mapping first, in its order; then members it does not name, by
                // their schema name (the OpenAPI default).
                for (tag, target) in mapping.into_iter().flatten() {
                    let target = target.as_str().unwrap_or_default();
                    let pointer = pointer::local_target(target).unwrap_or_else(|| {
                        format!("/components/schemas/{}", pointer::escape(target))
                    });
                    let variant = match tagged_members.iter().find(|(p, _)| *p == pointer) {
                        Some((_, index)) => variants[*index].clone(),
                        None => {
                            let component = component_name(&pointer).is_some();
                            let id = self.named(
                                At::Str(&pointer),
                                None,
                                Words::Slice(&target_words(&pointer)),
                                component,
                            )?;
                            Variant {
                                hint: target_words(&pointer),
                                ty: Ty::Named(id),
                            }
                        }
                    };
                    tagged.push((tag.clone(), variant));
                }
                for (p, index) in &tagged_members {
                    let mapped = mapping.is_some_and(|m| {
                        m.values().any(|t| {
                            t.as_str().and_then(pointer::local_target).as_deref()
                                == Some(p.as_str())
                        })
                    });
                    if !mapped {
                        let tag = p
                            .rsplit('/')
                            .next()
                            .map(pointer::unescape)
                            .unwrap_or_default();
                        tagged.push((tag, variants[*index].clone()));
                    }
                }
                if !tagged.is_empty() {
                    return Ok((
                        Kind::Tagged(Tagged {
                            property: property.to_owned(),
                            variants: tagged,
                        }),
                        nullable,
                    ));
                }
            }
        }
        order_untagged(self, &mut variants);
        Ok((Kind::Untagged(variants), nullable))
    }

    fn all_of(
        &mut self,
        at: At<'_>,
        o: &Map<String, Value>,
        parts: &[Value],
        words: Words<'_>,
        nullable: bool,
    ) -> Result<(Kind, bool), LowerError> {
        let at = &at.string();
        // Merge every object part (following references and nested allOf) into one struct.
        // Parts are borrowed from the document, never cloned: big specs merge a lot.
        let mut sources: Vec<(String, &Map<String, Value>)> = vec![(at.to_owned(), o)];
        let mut path = vec![at.to_owned()];
        for (i, part) in parts.iter().enumerate() {
            self.collect_all_of(&format!("{at}/allOf/{i}"), part, &mut sources, &mut path)?;
        }
        let non_object = sources.iter().any(|(_, map)| {
            let t = single_type(map);
            let union = ["oneOf", "anyOf"].iter().any(|k| {
                map.key(k)
                    .and_then(Value::as_array)
                    .is_some_and(|m| !m.iter().all(constraint_only))
            });
            matches!(t, Some(t) if t != "object") || union
        });
        if non_object {
            // allOf of non-objects (a string with extra constraints, unions…): the first part
            // with a shape is the type; the others only constrain.
            for (i, part) in parts.iter().enumerate() {
                let l = self.schema(At::KeywordIndex(&At::Str(at), "allOf", i), part, words)?;
                if l.ty != Ty::Json {
                    return Ok((Kind::Alias(l.ty), nullable || l.nullable));
                }
            }
            return Ok((Kind::Alias(Ty::Json), nullable));
        }
        // Properties in first-declaration order, each with the pointer of the part that
        // declared it last: a later part redefining a property wins, as its constraints apply
        // too, and the property lowers at its real location (names and memoisation follow).
        let mut props: Vec<(&str, String, &Value)> = Vec::new();
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        let mut required: Vec<&str> = Vec::new();
        let mut additional: Option<(String, &Value)> = None;
        for (part_at, map) in &sources {
            if let Some(p) = map.key("properties").and_then(Value::as_object) {
                for (k, v) in p {
                    let sub_at = child(part_at, "properties", k);
                    match index.get(k.as_str()) {
                        Some(&i) => props[i] = (k.as_str(), sub_at, v),
                        None => {
                            index.insert(k.as_str(), props.len());
                            props.push((k.as_str(), sub_at, v));
                        }
                    }
                }
            }
            for r in map
                .key("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !required.contains(&r) {
                    required.push(r);
                }
            }
            if let Some(a) = map.key("additionalProperties") {
                // Kept with its real pointer: an inline schema there is lowered in place.
                additional = Some((format!("{part_at}/additionalProperties"), a));
            }
        }
        let shapeless = props.is_empty()
            && additional.is_none()
            && sources.iter().all(|(_, map)| single_type(map).is_none());
        if shapeless {
            // Parts that only annotate (`allOf: [{}, {example: …}, {description: …}]`): any
            // value, not an empty struct (which would refuse a string).
            return Ok((Kind::Alias(Ty::Json), nullable));
        }
        let mut fields = Vec::new();
        for (name, sub_at, sub) in &props {
            fields.push(self.field(At::Str(sub_at), name, sub, required.contains(name), words)?);
        }
        let (additional, deny_unknown) = match &additional {
            Some((_, Value::Bool(false))) => (None, true),
            Some((_, Value::Bool(true))) => (Some(Ty::Json), false),
            Some((additional_at, schema @ Value::Object(m))) if !m.is_empty() => {
                let l =
                    self.schema(At::Str(additional_at), schema, Words::Push(&words, "Value"))?;
                (Some(wrap_nullable(l)), false)
            }
            _ => (None, false),
        };
        Ok((
            Kind::Struct(Struct {
                fields,
                additional,
                deny_unknown,
            }),
            nullable,
        ))
    }

    /// Flattens an allOf member (following references and nested allOf) into `sources`.
    /// `path` holds the pointers of the parts being flattened: a part that includes one of
    /// them (`A: {allOf: [$ref: A, …]}`) adds nothing new and is skipped, not followed forever.
    fn collect_all_of<'n>(
        &self,
        at: &str,
        node: &'n Value,
        sources: &mut Vec<(String, &'n Map<String, Value>)>,
        path: &mut Vec<String>,
    ) -> Result<(), LowerError>
    where
        'a: 'n,
    {
        if path.len() > 64 {
            return Err(Self::invalid(at, "allOf nests more than 64 levels deep"));
        }
        let (at, node) = pointer::deref(self.root, at, node)?;
        if path.contains(&at) {
            return Ok(());
        }
        let Some(map) = obj(node) else { return Ok(()) };
        sources.push((at.clone(), map));
        if let Some(nested) = map.key("allOf").and_then(Value::as_array) {
            path.push(at.clone());
            for (i, n) in nested.iter().enumerate() {
                self.collect_all_of(&format!("{at}/allOf/{i}"), n, sources, path)?;
            }
            path.pop();
        }
        Ok(())
    }

    /// OpenAPI 3.1's `webhooks`: each one's JSON payload, named after the webhook.
    fn webhooks(&mut self) -> Result<(), LowerError> {
        for hook in oas::webhooks(self.root) {
            let words = vec![hook.path.clone()];
            let (payload, _) = self.request_body(&hook, &words, "Payload")?;
            self.ir.webhooks.push(crate::ir::Webhook {
                name: hook.path.clone(),
                method: hook.method.to_ascii_uppercase(),
                summary: hook
                    .node
                    .key("summary")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                deprecated: flag(hook.node, "deprecated"),
                payload,
            });
        }
        Ok(())
    }

    /// An operation's (or webhook's) JSON request body type, named `words` + `word` when
    /// inline, and whether the body is required.
    fn request_body(
        &mut self,
        op: &oas::Operation<'_>,
        words: &[String],
        word: &str,
    ) -> Result<(Option<Ty>, bool), LowerError> {
        let Some(body) = op.node.key("requestBody") else {
            return Ok((None, false));
        };
        let op_at = At::Str(&op.pointer);
        let body_at = At::Key(&op_at, "requestBody");
        let (moved, body) = deref_at(self.root, body_at, body)?;
        let body_at = moved.as_deref().map_or(body_at, At::Str);
        let ty = match json_media(body) {
            Some((media, schema)) => {
                let content = At::KeywordKey(&body_at, "content", media);
                Some(wrap_nullable(self.schema(
                    At::Key(&content, "schema"),
                    schema,
                    Words::Push(&Words::Slice(words), word),
                )?))
            }
            None => None,
        };
        Ok((ty, flag(body, "required")))
    }

    /// A client's typed `application/x-www-form-urlencoded` request body (when the body has
    /// no JSON media type): the media type, the body's type, named like a JSON body's, and each
    /// property's `encoding` (`style` default `form`, `explode` default `true` for `form`).
    fn form_body(
        &mut self,
        op: &oas::Operation<'_>,
        words: &[String],
    ) -> Result<Option<(String, Ty, Vec<crate::ir::FormEncoding>)>, LowerError> {
        let Some(body) = op.node.key("requestBody") else {
            return Ok(None);
        };
        let op_at = At::Str(&op.pointer);
        let body_at = At::Key(&op_at, "requestBody");
        let (moved, body) = deref_at(self.root, body_at, body)?;
        let body_at = moved.as_deref().map_or(body_at, At::Str);
        let Some((media, object)) = body
            .key("content")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .find(|(media, _)| {
                media.split(';').next().is_some_and(|m| {
                    m.trim()
                        .eq_ignore_ascii_case("application/x-www-form-urlencoded")
                })
            })
        else {
            return Ok(None);
        };
        let Some(schema) = object.key("schema") else {
            return Ok(None);
        };
        let content = At::KeywordKey(&body_at, "content", media);
        let ty = wrap_nullable(self.schema(
            At::Key(&content, "schema"),
            schema,
            Words::Push(&Words::Slice(words), "Request"),
        )?);
        let mut encodings = Vec::new();
        for (name, e) in object
            .key("encoding")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let style = e.key("style").and_then(Value::as_str).unwrap_or("form");
            let explode = match e.key("explode") {
                Some(Value::Bool(b)) => *b,
                _ => style == "form",
            };
            encodings.push((name.clone(), style.to_owned(), explode));
        }
        Ok(Some((media.clone(), ty, encodings)))
    }

    /// The media type an operation's request body is sent as: the JSON one its type comes
    /// from, else the first declared.
    fn body_media(&self, op: &oas::Operation<'_>) -> Option<String> {
        let body = op.node.key("requestBody")?;
        let body = resolve(self.root, body);
        if let Some((media, _)) = json_media(body) {
            return Some(media.to_owned());
        }
        let content = body.key("content")?.as_object()?;
        content.keys().next().cloned()
    }

    fn operations(&mut self) -> Result<(), LowerError> {
        let ops: Vec<oas::Operation<'a>> = oas::operations(self.root)
            .into_iter()
            .filter(|op| op.callback_of.is_none())
            .collect();
        for op in ops {
            let id = op
                .id()
                .map_or_else(|| format!("{} {}", op.method, op.path), str::to_owned);
            let words = vec![id.clone()];
            let (params, wires) = self.params(&op, &words)?;
            let op_at = At::Str(&op.pointer);
            let (mut body, body_required) = self.request_body(&op, &words, "Request")?;
            let mut body_media = self.body_media(&op);
            let mut form = None;
            if body.is_none() && self.settings.client != crate::ClientCode::None {
                if let Some((media, ty, encodings)) = self.form_body(&op, &words)? {
                    body = Some(ty);
                    body_media = Some(media);
                    form = Some(encodings);
                }
            }
            let body_content = op
                .node
                .key("requestBody")
                .map(|b| resolve(self.root, b))
                .and_then(|b| b.key("content"))
                .and_then(Value::as_object)
                .map(|c| c.keys().cloned().collect())
                .unwrap_or_default();
            let security = self.security(op.node);
            let mut responses = Vec::new();
            for (status, response) in op
                .node
                .key("responses")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let r_at = At::KeywordKey(&op_at, "responses", status);
                let (moved, response) = deref_at(self.root, r_at, response)?;
                let r_at = moved.as_deref().map_or(r_at, At::Str);
                let content = response.key("content").and_then(Value::as_object);
                let body = match json_media(response) {
                    Some((media, schema)) => {
                        let content_at = At::KeywordKey(&r_at, "content", media);
                        let words = Words::Slice(&words);
                        let words = Words::Push(&words, "Response");
                        let hint = Words::Push(&words, status);
                        ResponseBody::Json(wrap_nullable(self.schema(
                            At::Key(&content_at, "schema"),
                            schema,
                            hint,
                        )?))
                    }
                    None if content.is_some_and(|c| !c.is_empty()) => ResponseBody::Raw,
                    None => ResponseBody::Empty,
                };
                responses.push(Response {
                    status: status.clone(),
                    description: response
                        .key("description")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                    body,
                });
            }
            self.ir.operations.push(Operation {
                id,
                method: op.method.to_uppercase(),
                path: op.path.clone(),
                summary: op
                    .node
                    .key("summary")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                tag: op
                    .node
                    .key("tags")
                    .and_then(|t| t.get(0))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                deprecated: flag(op.node, "deprecated"),
                params,
                body,
                body_required,
                body_media,
                form,
                body_content,
                responses,
                wires,
                security,
                pagination: op.node.key("x-pagination").and_then(|x| {
                    let name = |k| x.key(k).and_then(Value::as_str).map(str::to_owned);
                    Some([name("page")?, name("items")?, name("next")?])
                }),
            });
        }
        Ok(())
    }

    /// Path, query, header and cookie parameters as one struct.
    fn params(
        &mut self,
        op: &oas::Operation<'a>,
        words: &[String],
    ) -> Result<(Option<TypeId>, Vec<ParamWire>), LowerError> {
        // Operation parameters override path-item ones with the same name and location.
        // Each parameter's pointer: where a reference led (built), or its place in its list
        // (list, index: built only if needed).
        let op_at = At::Str(&op.pointer);
        let mut lists: Vec<(At<'_>, &'a Value)> = Vec::with_capacity(2);
        if let Some((base, list)) = &op.path_parameters {
            lists.push((At::Str(base), list));
        }
        if let Some(list) = op.node.key("parameters") {
            lists.push((At::Key(&op_at, "parameters"), list));
        }
        let mut by_key: Vec<Param<'a>> = Vec::new();
        for (l, (base, list)) in lists.iter().enumerate() {
            for (i, p) in list.as_array().into_iter().flatten().enumerate() {
                let (moved, p) = deref_at(self.root, At::Index(base, i), p)?;
                let name = p.key("name").and_then(Value::as_str).unwrap_or_default();
                let location = p.key("in").and_then(Value::as_str).unwrap_or_default();
                let key = (name, location);
                by_key.retain(|(k, _, _)| *k != key);
                by_key.push((key, (l, i, moved), p));
            }
        }
        if by_key.is_empty() {
            return Ok((None, Vec::new()));
        }
        let hint = push(words, "Params");
        let at = format!("{}#params", op.pointer);
        let id = self.push_type(TypeDef {
            hint: NameHint {
                words: hint.clone(),
                component: false,
            },
            origin: op.pointer.clone(),
            doc: Some(format!(
                "Parameters of `{} {}`.",
                op.method.to_uppercase(),
                op.path
            )),
            deprecated: false,
            nullable: false,
            kind: Kind::Alias(Ty::Json),
        });
        self.by_pointer.insert(at, id);
        let mut fields = Vec::with_capacity(by_key.len());
        let mut wires = Vec::with_capacity(by_key.len());
        let no_schema = Value::Object(Map::new());
        let names: Vec<&str> = by_key.iter().map(|((n, _), _, _)| *n).collect();
        for ((name, location), (l, i, moved), p) in by_key {
            let required = flag(p, "required") || location == "path";
            let schema = p.key("schema").unwrap_or(&no_schema);
            // One name in two locations (a query parameter and a header, say): both are
            // qualified by location, as one struct cannot hold two fields of one wire name.
            let qualified;
            let wire = if names.iter().filter(|n| **n == name).count() > 1 {
                qualified = [location, ":", name].concat();
                qualified.as_str()
            } else {
                name
            };
            let p_at = match &moved {
                Some(moved) => At::Str(moved),
                None => At::Index(&lists[l].0, i),
            };
            let mut field = self.field(
                At::Key(&p_at, "schema"),
                wire,
                schema,
                required,
                Words::Slice(&hint),
            )?;
            let doc = p
                .key("description")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|d| !d.is_empty());
            field.doc = Some(match doc {
                Some(d) => ["`", name, "` (", location, "): ", d].concat(),
                None => ["`", name, "` (", location, ")."].concat(),
            });
            field.deprecated = flag(p, "deprecated");
            wires.push(param_wire(p, name, wire, location));
            fields.push(field);
        }
        self.ir.types[id.0].kind = Kind::Struct(Struct {
            fields,
            additional: None,
            deny_unknown: false,
        });
        Ok((Some(id), wires))
    }

    /// An operation's security requirements (its own `security`, else the document's), as
    /// alternatives of indexes into [`Ir::schemes`]. An alternative naming a scheme the client
    /// cannot supply is left out: it can never be met.
    fn security(&self, op: &Value) -> Vec<Vec<usize>> {
        let list = op
            .key("security")
            .or_else(|| self.root.key("security"))
            .and_then(Value::as_array);
        let mut out = Vec::new();
        for requirement in list.into_iter().flatten() {
            let Some(names) = requirement.as_object() else {
                continue;
            };
            let found: Option<Vec<usize>> = names
                .keys()
                .map(|name| self.ir.schemes.iter().position(|s| &s.name == name))
                .collect();
            if let Some(found) = found {
                if !out.contains(&found) {
                    out.push(found);
                }
            }
        }
        out
    }

    /// `components/securitySchemes` the client can supply, `servers`, and the `x-rate-limit`
    /// bucket.
    fn document_client(&mut self) {
        let schemes = self
            .root
            .pointer("/components/securitySchemes")
            .and_then(Value::as_object);
        for (name, scheme) in schemes.into_iter().flatten() {
            let scheme = resolve(self.root, scheme);
            let text = |key: &str| scheme.key(key).and_then(Value::as_str).unwrap_or_default();
            let kind = match text("type") {
                "http" if text("scheme").eq_ignore_ascii_case("bearer") => SchemeKind::Bearer,
                "http" if text("scheme").eq_ignore_ascii_case("basic") => SchemeKind::Basic,
                "oauth2" | "openIdConnect" => SchemeKind::Bearer,
                "apiKey" => {
                    let location = match text("in") {
                        "header" => Location::Header,
                        "query" => Location::Query,
                        "cookie" => Location::Cookie,
                        _ => continue,
                    };
                    if text("name").is_empty() {
                        continue;
                    }
                    SchemeKind::ApiKey {
                        location,
                        name: text("name").to_owned(),
                    }
                }
                _ => continue, // mutualTLS, other HTTP schemes: not supplied by the client
            };
            self.ir.schemes.push(SecurityScheme {
                name: name.clone(),
                kind,
                description: scheme
                    .key("description")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            });
        }
        for server in self
            .root
            .key("servers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(url) = server.key("url").and_then(Value::as_str) else {
                continue;
            };
            let mut url = url.to_owned();
            for (name, var) in server
                .key("variables")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                if let Some(default) = var.key("default").and_then(Value::as_str) {
                    url = url.replace(&format!("{{{name}}}"), default);
                }
            }
            self.ir.servers.push(url);
        }
        if let Some(bucket) = self.root.key("x-rate-limit") {
            let header = bucket.key("header").and_then(Value::as_str);
            let leak = bucket.key("leakPerSecond").and_then(Value::as_f64);
            if let (Some(header), Some(leak)) = (header, leak) {
                if leak > 0.0 && leak.is_finite() {
                    self.ir.bucket = Some((header.to_owned(), leak));
                }
            }
        }
    }
}

/// A parameter of an operation: (name, location), where it is (its list and index there, and
/// the pointer a reference led to), and its node.
type Param<'a> = (
    (&'a str, &'a str),
    (usize, usize, Option<String>),
    &'a Value,
);

/// `not: {required: [name]}` with one undeclared name: the property must be absent. (Several
/// names mean "not all of them", which a field cannot express; the validator checks those.)
fn forbidden(o: &Map<String, Value>) -> Option<Field> {
    let not = o.key("not")?.as_object()?;
    if not.len() != 1 {
        return None;
    }
    let [name] = not.key("required")?.as_array()?.as_slice() else {
        return None;
    };
    let name = name.as_str()?;
    let declared = o
        .key("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| p.contains_key(name));
    (!declared).then(|| Field {
        wire: name.to_owned(),
        ty: Ty::Json,
        presence: Presence::Forbidden,
        doc: Some(format!(
            "Must be absent: the schema says `not: {{required: [{name}]}}`."
        )),
        deprecated: false,
    })
}

/// Whether an inline schema must become a declaration (struct, enum, union) rather than a
/// type expression.
fn needs_declaration(o: &Map<String, Value>, v31: bool) -> bool {
    let has_union = ["oneOf", "anyOf"].iter().any(|k| {
        o.key(k).and_then(Value::as_array).is_some_and(|m| {
            m.iter().filter(|m| !null_only(m)).count() > 1 && !m.iter().all(constraint_only)
        })
    });
    let props = o
        .key("properties")
        .and_then(Value::as_object)
        .is_some_and(|p| !p.is_empty());
    let enum_ = o.key("enum").and_then(Value::as_array).is_some_and(|e| {
        let non_null: Vec<&Value> = e.iter().filter(|v| !v.is_null()).collect();
        !non_null.is_empty()
            && (non_null.iter().all(|v| v.is_string()) || non_null.iter().all(|v| v.is_i64()))
    });
    let closed_empty = o.key("additionalProperties") == Some(&Value::Bool(false)) && !props;
    let shaped_2020_12 = v31 && (string_const(o).is_some() || several_types(o).is_some());
    let all_of = o
        .key("allOf")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() > 1)
        || (o.key("allOf").is_some() && props);
    has_union || props || enum_ || closed_empty || all_of || shaped_2020_12
}

/// An integer schema's Rust type, by its `format`.
fn integer(o: &Map<String, Value>) -> Ty {
    match o.key("format").and_then(Value::as_str) {
        Some("int32") => Ty::I32,
        Some("uint32") => Ty::U32,
        Some("uint64") => Ty::U64,
        _ => Ty::I64,
    }
}

/// A number schema's Rust type, by its `format`.
fn number(o: &Map<String, Value>) -> Ty {
    match o.key("format").and_then(Value::as_str) {
        Some("float") => Ty::F32,
        _ => Ty::F64,
    }
}

/// A nullable position outside a struct field becomes `Option<T>`.
fn wrap_nullable(l: Lowered) -> Ty {
    if l.nullable && !matches!(l.ty, Ty::Json) {
        Ty::Option(Box::new(l.ty))
    } else {
        l.ty
    }
}

/// `at/key/token`, the token escaped as in a JSON pointer (`~0`, `~1`).
fn child(at: &str, key: &str, token: &str) -> String {
    let mut s = String::with_capacity(at.len() + key.len() + token.len() + 2);
    s.push_str(at);
    s.push('/');
    s.push_str(key);
    s.push('/');
    if token.contains(['~', '/']) {
        s.push_str(&pointer::escape(token));
    } else {
        s.push_str(token);
    }
    s
}

fn push(words: &[String], word: &str) -> Vec<String> {
    let mut w = words.to_vec();
    w.push(word.to_owned());
    w
}

/// The schema's name if `at` is a component schema itself (`/components/schemas/Pet`, not
/// `/components/schemas/Pet/properties/id`).
pub fn component_name(at: &str) -> Option<String> {
    let name = at.strip_prefix("/components/schemas/")?;
    (!name.contains('/')).then(|| pointer::unescape(name))
}

/// Name words of a referenced schema: its component name; for a schema inside something else
/// (`/components/schemas/Pet/properties/id`), the owner's name and the last meaningful token
/// (`["Pet", "id"]`), as if it had been met in place.
fn target_words(at: &str) -> Vec<String> {
    if let Some(name) = component_name(at) {
        return vec![name];
    }
    const STRUCTURAL: &[&str] = &[
        "",
        "components",
        "schemas",
        "properties",
        "items",
        "schema",
        "content",
        "parameters",
        "responses",
        "requestBodies",
        "headers",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "additionalProperties",
        "paths",
    ];
    let meaningful: Vec<String> = at
        .split('/')
        .filter(|t| !STRUCTURAL.contains(t) && !t.bytes().all(|b| b.is_ascii_digit()))
        .map(pointer::unescape)
        .collect();
    match meaningful.as_slice() {
        [] => vec!["Schema".to_owned()],
        [only] => vec![only.clone()],
        [first, .., last] => vec![first.clone(), last.clone()],
    }
}

/// Variant name words of a union member: the referenced schema's name, the title, or the type.
fn variant_hint(member: &Value, index: usize) -> Vec<String> {
    if let Some(r) = member.key("$ref").and_then(Value::as_str) {
        return target_words(&pointer::local_target(r).unwrap_or_default());
    }
    if let Some(t) = member.key("title").and_then(Value::as_str) {
        return vec![t.to_owned()];
    }
    let ty = obj(member).and_then(single_type);
    let word = match ty {
        Some("string") => "String",
        Some("integer") => "Integer",
        Some("number") => "Number",
        Some("boolean") => "Boolean",
        Some("array") => "Array",
        Some("object") => "Object",
        _ if member.key("properties").is_some() => "Object",
        _ => return vec![format!("Variant{index}")],
    };
    vec![word.to_owned()]
}

/// Untagged variants are tried in order, so a variant that accepts every object (a struct with
/// no required field, a free-form object or any JSON) would hide the ones after it: such
/// variants go last, keeping the spec order otherwise.
fn order_untagged(cx: &Lowerer<'_>, variants: &mut [Variant]) {
    let accepts_all = |ty: &Ty| -> u8 {
        match ty {
            Ty::Json => 3,
            Ty::JsonObject | Ty::Map(_) => 2,
            Ty::Named(id) => match &cx.ir.types[id.0].kind {
                Kind::Struct(s)
                    if s.fields.iter().all(|f| {
                        !matches!(f.presence, Presence::Required | Presence::RequiredNullable)
                    }) =>
                {
                    1
                }
                Kind::Alias(Ty::Json) => 3,
                Kind::Alias(Ty::JsonObject | Ty::Map(_)) => 2,
                _ => 0,
            },
            _ => 0,
        }
    };
    variants.sort_by_key(|v| accepts_all(&v.ty));
}

/// The first JSON media type of a request body or response, with its schema.
/// How a parameter is sent, from its Parameter Object.
fn param_wire(p: &Value, name: &str, key: &str, location: &str) -> ParamWire {
    let location = match location {
        "path" => Location::Path,
        "header" => Location::Header,
        "cookie" => Location::Cookie,
        _ => Location::Query,
    };
    let default = match location {
        Location::Path | Location::Header => "simple",
        Location::Query | Location::Cookie => "form",
    };
    let style = if p.key("schema").is_none() && p.key("content").is_some() {
        "json"
    } else {
        p.key("style").and_then(Value::as_str).unwrap_or(default)
    };
    let explode = match p.key("explode") {
        Some(Value::Bool(b)) => *b,
        _ => style == "form",
    };
    ParamWire {
        name: name.to_owned(),
        key: key.to_owned(),
        location,
        style: style.to_owned(),
        explode,
        allow_reserved: flag(p, "allowReserved"),
        required: location == Location::Path || flag(p, "required"),
    }
}

fn json_media(holder: &Value) -> Option<(&str, &Value)> {
    let content = holder.key("content")?.as_object()?;
    content.iter().find_map(|(media, object)| {
        let json = oas::media::admits_json(media);
        if json {
            object.key("schema").map(|s| (media.as_str(), s))
        } else {
            None
        }
    })
}
