//! Property-test instances of OpenAPI 3.0 schemas: values that validate, and values broken in
//! exactly one way.
//!
//! # Using this module
//!
//! It is `support::instances` of the crate's one test binary (`tests/it/main.rs`).
//!
//! The test crate needs the dev-dependencies `oas`, `proptest` and `serde_json`.
//!
//! # API
//!
//! - [`valid`] / [`valid_with`] / [`valid_declared`]: values that satisfy the schema at a pointer,
//!   with the semantics of `oas::SchemaValidator` (OpenAPI 3.0 `nullable`, boolean exclusive
//!   bounds, `int32`/`int64` ranges, `readOnly`/`writeOnly` by direction, `$ref` siblings ignored).
//! - [`invalid`]: a valid value with exactly one mutation that a serde-derived Rust type would
//!   also reject, and a description `"<kind> at <pointer>: <detail>"` where kind is `type`,
//!   `required`, `null` or `enum` and pointer is the instance pointer of the broken field
//!   (`(root)` for the whole value).
//! - [`component_schemas`]: `/components/schemas/<Name>` pointers in document order.
//!
//! # How values are built
//!
//! The schemas met on the way (`$ref` targets, `allOf` members) are merged: types intersect,
//! enums intersect, bounds tighten, `properties` and `required` unite. `oneOf`/`anyOf` pick one
//! branch, merged into the rest; a `oneOf` value is kept only if it matches no other branch.
//! `not: {required: [a, b, …]}` is satisfied by leaving one of the names out; any other `not`
//! filters. Optional properties are absent half the time; nullable schemas are `null` a quarter
//! of the time. Arrays have at most 3 items (or `minItems`), plain strings at most 12 characters
//! (or `minLength` + 12), and a schema reached through a `$ref` that already appears
//! [`Options::max_recursion`] times on the way in gets minimal values only (`null` when
//! nullable, required properties only, `minItems` items).
//!
//! "Undeclared" keys are keys an object schema with `properties` does not declare: they are added
//! (as `zz_extra_…`) only with [`Options::undeclared`], unless `additionalProperties: false`.
//! Objects without `properties` are maps: their entries are content and are always generated.
//!
//! Limits: `multipleOf` on `number`, several `pattern`s, or a `pattern` beside a `format` are
//! handled by filtering; a regex that proptest cannot generate from (look-around, inner anchors)
//! falls back to filtering plain strings, which rarely succeeds. `uniqueItems`,
//! `minProperties`/`maxProperties` are filtered. A required property hidden by
//! `readOnly`/`writeOnly` in one `allOf` member but required by another is unsatisfiable.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

use oas::{Direction, SchemaValidator, pointer};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::strategy::{BoxedStrategy, Just, Union};
use proptest::string::string_regex;
use serde_json::{Map, Number, Value, json};

/// Items of a generated array, beyond `minItems`.
const MAX_ITEMS: u64 = 3;
/// Characters of a plain generated string, beyond `minLength`.
const MAX_STRING: u64 = 12;
/// `$ref`s on one path beyond which nothing but minimal values are generated.
const MINIMAL_DEPTH: usize = 16;
/// `$ref`s on one path beyond which generation gives up (only reached by non-terminating schemas).
const HARD_DEPTH: usize = 32;

/// How [`valid_with`] generates.
#[derive(Debug, Clone)]
pub struct Options {
    /// Add keys that `properties` does not declare to objects that allow them.
    pub undeclared: bool,
    /// How many times one `$ref` target may already be on the path before only minimal values are
    /// generated for it: with 2, a recursive schema nests at most 3 levels deep.
    pub max_recursion: usize,
    /// Let `type: number` produce integral JSON numbers (`3`) as well as fractional ones (`2.5`).
    /// A round trip through `f64` turns `3` into `3.0`; turn this off to avoid comparing those.
    pub integral_numbers: bool,
    /// Drop every value that `oas::SchemaValidator` rejects. On by default in debug builds; the
    /// self-tests turn it off to check that the generator is right by construction.
    pub check: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            undeclared: true,
            max_recursion: 2,
            integral_numbers: true,
            check: cfg!(debug_assertions),
        }
    }
}

/// Values that validate against the schema at `pointer` of `root`, sent in `direction`,
/// sometimes with undeclared keys.
///
/// Panics when the pointer holds no schema or the generator finds no way to satisfy it.
pub fn valid(root: &Value, pointer: &str, direction: Direction) -> BoxedStrategy<Value> {
    valid_with(root, pointer, direction, &Options::default())
}

/// [`valid`] without undeclared keys: every object key is declared by its schema (or is an entry
/// of a map).
pub fn valid_declared(root: &Value, pointer: &str, direction: Direction) -> BoxedStrategy<Value> {
    let options = Options {
        undeclared: false,
        ..Options::default()
    };
    valid_with(root, pointer, direction, &options)
}

/// [`valid`] with explicit [`Options`].
pub fn valid_with(
    root: &Value,
    pointer: &str,
    direction: Direction,
    options: &Options,
) -> BoxedStrategy<Value> {
    let ctx = Ctx::new(root, direction, options.clone());
    let strategy = schema(&ctx, &[pointer.to_owned()], &[], false).unwrap_or_else(|| {
        panic!("{pointer}: the generator finds no value that satisfies this schema")
    });
    if !options.check {
        return strategy;
    }
    let validator = compile(root, pointer, direction);
    strategy
        .prop_filter("rejected by oas::SchemaValidator", move |v| {
            validator.is_valid(v)
        })
        .boxed()
}

/// Values that fail the schema at `pointer` because of exactly one mutation, with its
/// description (`"type at /amount: expected integer, got string"`).
///
/// The mutations are those a serde-derived Rust type would reject too:
/// - `type`: a value of a JSON type that the schema (every `oneOf`/`anyOf` branch included)
///   does not accept; never an integer where a number is expected, never an array for an
///   object, never where the schema has no `type` (free-form);
/// - `required`: a required property removed, unless it is nullable (an `Option` field accepts a
///   missing key), has a `default`, or is free-form; required sets that are only `anyOf`/`oneOf`
///   branches (`{required: [...]}`) are not structural and are not mutated;
/// - `null`: `null` where the schema is not nullable, only for required properties, array items,
///   map values and the root (an optional `Option` field reads `null` as absent);
/// - `enum`: a string outside a string enum.
///
/// Nothing inside free-form values or undeclared keys is mutated. Every value is checked to
/// fail `oas::SchemaValidator`.
pub fn invalid(
    root: &Value,
    pointer: &str,
    direction: Direction,
) -> BoxedStrategy<(Value, String)> {
    let options = Options {
        undeclared: false,
        ..Options::default()
    };
    let base = valid_with(root, pointer, direction, &options);
    let ctx = Ctx::new(root, direction, options);
    let validator = compile(root, pointer, direction);
    let at = pointer.to_owned();
    (base, any::<Index>())
        .prop_filter_map(
            "no single mutation breaks this value",
            move |(value, index)| {
                let mut sites = Vec::new();
                collect_sites(
                    &ctx,
                    std::slice::from_ref(&at),
                    &value,
                    "",
                    true,
                    0,
                    &mut sites,
                );
                if sites.is_empty() {
                    return None;
                }
                let start = index.index(sites.len());
                (0..sites.len())
                    .map(|k| &sites[(start + k) % sites.len()])
                    .find_map(|site| {
                        let mutated = site.apply(&value)?;
                        (!validator.is_valid(&mutated)).then(|| (mutated, site.to_string()))
                    })
            },
        )
        .boxed()
}

/// Pointers of every component schema, `/components/schemas/<Name>`, in document order.
pub fn component_schemas(root: &Value) -> Vec<String> {
    root.pointer("/components/schemas")
        .and_then(Value::as_object)
        .map(|schemas| {
            schemas
                .keys()
                .map(|name| pointer::push("/components/schemas", name))
                .collect()
        })
        .unwrap_or_default()
}

fn compile(root: &Value, pointer: &str, direction: Direction) -> SchemaValidator {
    SchemaValidator::compile(root, pointer, direction)
        .unwrap_or_else(|e| panic!("{pointer}: cannot compile the schema: {e}"))
}

type Strat = BoxedStrategy<Value>;

/// The document and the validators of its sub-schemas, shared by the strategies' closures.
struct Ctx {
    root: Value,
    direction: Direction,
    options: Options,
    validators: Mutex<HashMap<String, Option<Arc<SchemaValidator>>>>,
}

impl Ctx {
    fn new(root: &Value, direction: Direction, options: Options) -> Arc<Self> {
        Arc::new(Self {
            root: root.clone(),
            direction,
            options,
            validators: Mutex::new(HashMap::new()),
        })
    }

    fn node(&self, at: &str) -> Option<&Value> {
        pointer::get(&self.root, at)
    }

    /// The first non-reference node reached from `at` (siblings of `$ref` are ignored).
    fn resolve(&self, at: &str) -> Option<&Value> {
        let node = self.node(at)?;
        pointer::deref(&self.root, at, node).ok().map(|(_, n)| n)
    }

    /// The validator of the sub-schema at `at`, compiled once.
    fn validator(&self, at: &str) -> Option<Arc<SchemaValidator>> {
        let mut cache = self
            .validators
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        cache
            .entry(at.to_owned())
            .or_insert_with(|| {
                SchemaValidator::compile(&self.root, at, self.direction)
                    .ok()
                    .map(Arc::new)
            })
            .clone()
    }

    fn accepts(&self, at: &str, value: &Value) -> bool {
        self.validator(at).is_some_and(|v| v.is_valid(value))
    }

    fn flag(&self, at: &str, key: &str) -> bool {
        self.resolve(at).and_then(|n| n.get(key)) == Some(&Value::Bool(true))
    }

    /// `nullable` beside `type`, or a union with a null-only member (the portable nullable
    /// reference `anyOf: [{$ref}, {…, enum: [null]}]`), as `oas::SchemaValidator` reads them.
    fn nullable(&self, at: &str) -> bool {
        let Some(node) = self.resolve(at) else {
            return false;
        };
        (node.get("nullable") == Some(&Value::Bool(true)) && node.get("type").is_some())
            || is_null_only(node)
            || ["oneOf", "anyOf"].iter().any(|k| {
                node.get(*k)
                    .and_then(Value::as_array)
                    .is_some_and(|m| m.iter().any(is_null_only))
            })
    }

    /// Whether the property schema at `at` must not appear in this direction, as the validator
    /// decides it: the flag on the property schema or on its `$ref` target.
    fn hidden(&self, at: &str) -> bool {
        let key = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
            Direction::Neutral => return false,
        };
        let own = self.node(at).and_then(|n| n.get(key)) == Some(&Value::Bool(true));
        own || self.flag(at, key)
    }
}

/// A `oneOf` or `anyOf` whose branch is not chosen yet.
#[derive(Debug, Clone)]
struct Group {
    one_of: bool,
    branches: Vec<String>,
}

/// Everything the schemas met so far require of one value.
#[derive(Debug, Clone, Default)]
struct Merged {
    unsat: bool,
    ty: Option<String>,
    enumeration: Option<Vec<Value>>,
    formats: Vec<String>,
    patterns: Vec<String>,
    /// (limit, exclusive)
    minimum: Option<(f64, bool)>,
    maximum: Option<(f64, bool)>,
    multiple_of: Option<f64>,
    min_length: Option<u64>,
    max_length: Option<u64>,
    min_items: Option<u64>,
    max_items: Option<u64>,
    unique_items: bool,
    min_properties: Option<u64>,
    max_properties: Option<u64>,
    items: Vec<String>,
    /// Property name → pointers of its schemas, in document order.
    properties: Vec<(String, Vec<String>)>,
    declares_properties: bool,
    required: Vec<String>,
    /// Required by a schema with `type` or `properties` (a Rust struct), not by a bare
    /// `{required: [...]}` branch.
    hard_required: BTreeSet<String>,
    hidden: BTreeSet<String>,
    forbidden: BTreeSet<String>,
    ap_closed: bool,
    ap_schemas: Vec<String>,
    groups: Vec<Group>,
    nots: Vec<String>,
    /// `$ref` targets entered, in order.
    refs: Vec<String>,
}

impl Merged {
    fn of(ctx: &Ctx, conjuncts: &[String]) -> Self {
        let mut m = Self::default();
        for c in conjuncts {
            m.absorb(ctx, c);
        }
        m
    }

    fn absorb(&mut self, ctx: &Ctx, at: &str) {
        let mut at = at.to_owned();
        for _ in 0..64 {
            let Some(reference) = ctx
                .node(&at)
                .and_then(|n| n.get("$ref"))
                .and_then(Value::as_str)
            else {
                break;
            };
            let Some(target) = pointer::local_target(reference) else {
                self.unsat = true;
                return;
            };
            self.refs.push(target.clone());
            at = target;
        }
        let obj = match ctx.node(&at) {
            Some(Value::Bool(true)) => return,
            Some(Value::Object(obj)) if !obj.contains_key("$ref") => obj,
            _ => {
                self.unsat = true;
                return;
            }
        };
        if let Some(t) = obj.get("type").and_then(Value::as_str) {
            self.ty = match self.ty.take() {
                None => Some(t.to_owned()),
                Some(prev) if prev == t => Some(prev),
                Some(prev) if is_numeric(&prev) && is_numeric(t) => Some("integer".to_owned()),
                Some(prev) => {
                    self.unsat = true;
                    Some(prev)
                }
            };
        }
        if let Some(values) = obj.get("enum").and_then(Value::as_array) {
            self.enumeration = Some(match self.enumeration.take() {
                None => values.clone(),
                Some(prev) => prev.into_iter().filter(|v| values.contains(v)).collect(),
            });
        }
        if let Some(p) = obj.get("pattern").and_then(Value::as_str) {
            self.patterns.push(p.to_owned());
        }
        self.bounds(obj);
        // As the validator reads them: range checks on any numeric type, beside other bounds.
        match obj.get("format").and_then(Value::as_str) {
            Some("int32") => self.range(i32::MIN.into(), i32::MAX.into()),
            Some("int64") => self.range(i64::MIN, i64::MAX),
            Some(f) => self.formats.push(f.to_owned()),
            None => {}
        }
        if let Some(m) = obj.get("multipleOf").and_then(Value::as_f64) {
            self.multiple_of.get_or_insert(m);
        }
        tighten(&mut self.min_length, obj.get("minLength"), u64::max);
        tighten(&mut self.max_length, obj.get("maxLength"), u64::min);
        tighten(&mut self.min_items, obj.get("minItems"), u64::max);
        tighten(&mut self.max_items, obj.get("maxItems"), u64::min);
        tighten(&mut self.min_properties, obj.get("minProperties"), u64::max);
        tighten(&mut self.max_properties, obj.get("maxProperties"), u64::min);
        self.unique_items |= obj.get("uniqueItems") == Some(&Value::Bool(true));
        let mut hidden_here = Vec::new();
        if let Some(props) = obj.get("properties").and_then(Value::as_object) {
            self.declares_properties = true;
            for name in props.keys() {
                let p = pointer::push(&format!("{at}/properties"), name);
                if ctx.hidden(&p) {
                    self.hidden.insert(name.clone());
                    hidden_here.push(name.as_str());
                    continue;
                }
                match self.properties.iter_mut().find(|(n, _)| n == name) {
                    Some((_, list)) => list.push(p),
                    None => self.properties.push((name.clone(), vec![p])),
                }
            }
        }
        let structural = obj.contains_key("type") || obj.contains_key("properties");
        for name in obj
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            // The validator drops required names that are hidden in the same schema.
            if hidden_here.contains(&name) {
                continue;
            }
            if !self.required.iter().any(|r| r == name) {
                self.required.push(name.to_owned());
            }
            if structural {
                self.hard_required.insert(name.to_owned());
            }
        }
        match obj.get("additionalProperties") {
            Some(Value::Bool(false)) => self.ap_closed = true,
            None | Some(Value::Bool(true)) => {}
            Some(_) => self.ap_schemas.push(format!("{at}/additionalProperties")),
        }
        if obj.contains_key("items") {
            self.items.push(format!("{at}/items"));
        }
        for i in 0..obj
            .get("allOf")
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
        {
            self.absorb(ctx, &format!("{at}/allOf/{i}"));
        }
        for (key, one_of) in [("oneOf", true), ("anyOf", false)] {
            if let Some(branches) = obj.get(key).and_then(Value::as_array) {
                // Null-only branches (`{…, enum: [null]}`) make the schema nullable
                // (`Ctx::nullable`); values are drawn from the others.
                self.groups.push(Group {
                    one_of,
                    branches: (0..branches.len())
                        .filter(|&i| !is_null_only(&branches[i]))
                        .map(|i| format!("{at}/{key}/{i}"))
                        .collect(),
                });
            }
        }
        if obj.contains_key("not") {
            self.nots.push(format!("{at}/not"));
        }
    }

    fn bounds(&mut self, obj: &Map<String, Value>) {
        let lower = [
            (obj.get("minimum"), obj.get("exclusiveMinimum")),
            (obj.get("exclusiveMinimum"), None),
        ];
        for (i, (limit, flag)) in lower.into_iter().enumerate() {
            if let Some(limit) = limit.and_then(Value::as_f64) {
                let exclusive = i == 1 || flag == Some(&Value::Bool(true));
                if self
                    .minimum
                    .is_none_or(|(l, e)| limit > l || (limit == l && exclusive && !e))
                {
                    self.minimum = Some((limit, exclusive));
                }
            }
        }
        let upper = [
            (obj.get("maximum"), obj.get("exclusiveMaximum")),
            (obj.get("exclusiveMaximum"), None),
        ];
        for (i, (limit, flag)) in upper.into_iter().enumerate() {
            if let Some(limit) = limit.and_then(Value::as_f64) {
                let exclusive = i == 1 || flag == Some(&Value::Bool(true));
                if self
                    .maximum
                    .is_none_or(|(l, e)| limit < l || (limit == l && exclusive && !e))
                {
                    self.maximum = Some((limit, exclusive));
                }
            }
        }
    }

    fn range(&mut self, lo: i64, hi: i64) {
        let bounds = Map::from_iter([
            ("minimum".to_owned(), json!(lo)),
            ("maximum".to_owned(), json!(hi)),
        ]);
        self.bounds(&bounds);
    }

    fn property(&self, name: &str) -> Option<&Vec<String>> {
        self.properties
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, p)| p)
    }
}

fn tighten(slot: &mut Option<u64>, value: Option<&Value>, pick: fn(u64, u64) -> u64) {
    if let Some(v) = value.and_then(Value::as_u64) {
        *slot = Some(slot.map_or(v, |s| pick(s, v)));
    }
}

/// A schema that admits `null` and nothing else (`{type: …, nullable: true, enum: [null]}`).
fn is_null_only(node: &Value) -> bool {
    node.get("enum")
        .and_then(Value::as_array)
        .is_some_and(|e| !e.is_empty() && e.iter().all(Value::is_null))
}

fn is_numeric(t: &str) -> bool {
    t == "number" || t == "integer"
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_matches(ty: &str, v: &Value) -> bool {
    let actual = json_type(v);
    actual == ty || (ty == "number" && actual == "integer")
}

fn union(mut alternatives: Vec<Strat>) -> Option<Strat> {
    match alternatives.len() {
        0 => None,
        1 => alternatives.pop(),
        _ => Some(Union::new(alternatives).boxed()),
    }
}

/// Adds the `$ref` targets entered to the path; past the recursion limit, values get minimal.
fn enter(ctx: &Ctx, refs: &[String], path: &mut Vec<String>, minimal: &mut bool) {
    for r in refs {
        if path.iter().filter(|p| *p == r).count() >= ctx.options.max_recursion {
            *minimal = true;
        }
        path.push(r.clone());
    }
    if path.len() > MINIMAL_DEPTH {
        *minimal = true;
    }
}

/// Values satisfying every schema in `conjuncts` (an empty list accepts anything).
fn schema(ctx: &Arc<Ctx>, conjuncts: &[String], path: &[String], minimal: bool) -> Option<Strat> {
    if conjuncts.is_empty() {
        return Some(free_form(if minimal { 0 } else { 1 }));
    }
    let m = Merged::of(ctx, conjuncts);
    let mut path = path.to_vec();
    let mut minimal = minimal;
    enter(ctx, &m.refs, &mut path, &mut minimal);
    let null_ok = conjuncts.iter().all(|c| ctx.nullable(c));
    if null_ok && minimal {
        return Some(Just(Value::Null).boxed());
    }
    let value = if path.len() > HARD_DEPTH {
        None
    } else {
        let seen = m.refs.len();
        build(ctx, m, seen, &path, minimal)
    };
    match (value, null_ok) {
        (Some(s), true) => Some(prop_oneof![1 => Just(Value::Null), 3 => s].boxed()),
        (Some(s), false) => Some(s),
        (None, true) => Some(Just(Value::Null).boxed()),
        (None, false) => None,
    }
}

/// `{required: [names]}` and nothing else that constrains: the names.
fn required_only(ctx: &Ctx, at: &str) -> Option<Vec<String>> {
    let obj = ctx.resolve(at)?.as_object()?;
    let annotation = |k: &str| matches!(k, "description" | "title" | "example" | "deprecated");
    if !obj.keys().all(|k| k == "required" || annotation(k)) {
        return None;
    }
    obj.get("required")?
        .as_array()?
        .iter()
        .map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Non-null values of the merged schema; `refs_seen` of its `$ref`s are already on `path`.
fn build(
    ctx: &Arc<Ctx>,
    mut m: Merged,
    refs_seen: usize,
    path: &[String],
    minimal: bool,
) -> Option<Strat> {
    if m.unsat {
        return None;
    }
    if !m.groups.is_empty() {
        let group = m.groups.remove(0);
        let mut alternatives = Vec::new();
        for (i, branch) in group.branches.iter().enumerate() {
            let mut with_branch = m.clone();
            with_branch.absorb(ctx, branch);
            let mut branch_path = path.to_vec();
            let mut branch_minimal = minimal;
            enter(
                ctx,
                &with_branch.refs[refs_seen..],
                &mut branch_path,
                &mut branch_minimal,
            );
            let seen = with_branch.refs.len();
            let Some(s) = build(ctx, with_branch, seen, &branch_path, branch_minimal) else {
                continue;
            };
            if group.one_of && group.branches.len() > 1 {
                let others: Vec<String> = group
                    .branches
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, b)| b.clone())
                    .collect();
                let ctx = Arc::clone(ctx);
                alternatives.push(
                    s.prop_filter("oneOf: matches another branch too", move |v| {
                        !others.iter().any(|o| ctx.accepts(o, v))
                    })
                    .boxed(),
                );
            } else {
                alternatives.push(s);
            }
        }
        return union(alternatives);
    }
    if let Some(i) = m.nots.iter().position(|n| required_only(ctx, n).is_some()) {
        let not = m.nots.remove(i);
        let mut alternatives = Vec::new();
        for name in required_only(ctx, &not).unwrap_or_default() {
            if m.required.contains(&name) {
                continue;
            }
            let mut without = m.clone();
            without.forbidden.insert(name);
            alternatives.extend(build(ctx, without, refs_seen, path, minimal));
        }
        return union(alternatives);
    }
    let nots = std::mem::take(&mut m.nots);
    let value = typed(ctx, &m, path, minimal)?;
    if nots.is_empty() {
        return Some(value);
    }
    let ctx = Arc::clone(ctx);
    Some(
        value
            .prop_filter("matches a `not`", move |v| {
                !nots.iter().any(|n| ctx.accepts(n, v))
            })
            .boxed(),
    )
}

fn infer_type(m: &Merged) -> Option<&'static str> {
    if m.declares_properties
        || !m.required.is_empty()
        || m.ap_closed
        || !m.ap_schemas.is_empty()
        || m.min_properties.is_some()
        || m.max_properties.is_some()
    {
        Some("object")
    } else if !m.items.is_empty() || m.min_items.is_some() || m.max_items.is_some() {
        Some("array")
    } else if m.minimum.is_some() || m.maximum.is_some() || m.multiple_of.is_some() {
        Some("number")
    } else if m.min_length.is_some() || m.max_length.is_some() || !m.patterns.is_empty() {
        Some("string")
    } else {
        None
    }
}

fn typed(ctx: &Arc<Ctx>, m: &Merged, path: &[String], minimal: bool) -> Option<Strat> {
    let ty = m.ty.as_deref().or_else(|| infer_type(m));
    if let Some(values) = &m.enumeration {
        let values: Vec<Value> = values
            .iter()
            .filter(|v| !v.is_null() && ty.is_none_or(|t| type_matches(t, v)))
            .cloned()
            .collect();
        if values.is_empty() {
            return None;
        }
        return Some(select(values).boxed());
    }
    match ty {
        None => Some(free_form(if minimal { 0 } else { 2 })),
        Some("string") => string(ctx, m),
        Some("integer") => integer(m),
        Some("number") => number(m, ctx.options.integral_numbers),
        Some("boolean") => Some(any::<bool>().prop_map(Value::Bool).boxed()),
        Some("array") => array(ctx, m, path, minimal),
        Some("object") => object(ctx, m, path, minimal),
        Some(_) => None,
    }
}

fn plain_char() -> BoxedStrategy<char> {
    prop_oneof![
        12 => proptest::char::range(' ', '~'),
        1 => select(vec!['é', 'ß', 'ğ', 'ش', '中', '€', '😀', '\n', '\t']),
    ]
    .boxed()
}

fn plain_string(lo: u64, hi: u64) -> BoxedStrategy<String> {
    vec(plain_char(), lo as usize..=hi as usize)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

fn regex(re: &str) -> BoxedStrategy<String> {
    string_regex(re)
        .unwrap_or_else(|e| panic!("built-in regex {re}: {e}"))
        .boxed()
}

fn scalar() -> Strat {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-1000i64..=1000).prop_map(Value::from),
        plain_string(0, 8).prop_map(Value::String),
    ]
    .boxed()
}

/// Any JSON value, nested at most `depth` levels.
fn free_form(depth: u32) -> Strat {
    if depth == 0 {
        return scalar();
    }
    let inner = free_form(depth - 1);
    prop_oneof![
        4 => scalar(),
        1 => vec(inner.clone(), 0..=2).prop_map(Value::Array),
        1 => btree_map(regex("[a-z][a-z0-9_]{0,7}"), inner, 0..=2)
            .prop_map(|m| Value::Object(m.into_iter().collect())),
    ]
    .boxed()
}

const DATE: &str = "20[0-3][0-9]-(0[1-9]|1[0-2])-(0[1-9]|1[0-9]|2[0-8])";
const TIME: &str =
    "([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,6})?(Z|[+-](0[0-9]|1[0-3]):[0-5][0-9])";
const URI: &str =
    "https://[a-z]{1,8}\\.(com|dz|org)(/[a-zA-Z0-9_-]{1,8}){0,2}(\\?[a-z]{1,4}=[a-z0-9]{1,4})?";
const EMAIL: &str = "[a-z]{1,8}(\\.[a-z0-9]{1,4})?@[a-z]{1,8}\\.(com|dz|org)";
const UUID: &str = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}";
const HOSTNAME: &str = "[a-z]{1,8}(\\.[a-z]{1,8}){0,2}";

/// Strings of a format the validator checks; `None` for annotation-only formats.
fn format_strategy(format: &str) -> Option<BoxedStrategy<String>> {
    Some(match format {
        "date-time" => regex(&format!("{DATE}T{TIME}")),
        "date" => regex(DATE),
        "time" => regex(TIME),
        "uri" | "uri-reference" | "iri" | "iri-reference" => regex(URI),
        "email" | "idn-email" => regex(EMAIL),
        "uuid" => regex(UUID),
        "hostname" | "idn-hostname" => regex(HOSTNAME),
        "ipv4" => any::<[u8; 4]>()
            .prop_map(|b| format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3]))
            .boxed(),
        "ipv6" => any::<[u16; 8]>()
            .prop_map(|w| {
                w.iter()
                    .map(|x| format!("{x:x}"))
                    .collect::<Vec<_>>()
                    .join(":")
            })
            .boxed(),
        "byte" => vec(any::<u8>(), 0..=9).prop_map(|b| base64(&b)).boxed(),
        _ => return None,
    })
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A proptest regex for an ECMA-262 `pattern`: outer anchors dropped (a full match also matches
/// the unanchored search), `\d`/`\w`/`\s` made ASCII, unbounded repetitions capped at 6.
fn pattern_strategy(pattern: &str) -> Option<BoxedStrategy<String>> {
    let body = pattern.strip_prefix('^').unwrap_or(pattern);
    let body = match body.strip_suffix('$') {
        Some(b) if !b.ends_with('\\') => b,
        _ => body,
    };
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else { break };
                let class = match e {
                    'd' => Some("0-9"),
                    'w' => Some("A-Za-z0-9_"),
                    's' => Some(" "),
                    _ => None,
                };
                match class {
                    Some(c) if in_class => out.push_str(c),
                    Some(c) => {
                        out.push('[');
                        out.push_str(c);
                        out.push(']');
                    }
                    None => {
                        out.push('\\');
                        out.push(e);
                    }
                }
            }
            '[' if !in_class => {
                in_class = true;
                out.push(c);
                // A leading `]` or `^]` is literal.
                if chars.peek() == Some(&'^') {
                    out.push('^');
                    chars.next();
                }
                if chars.peek() == Some(&']') {
                    out.push(']');
                    chars.next();
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(c);
            }
            '+' if !in_class => out.push_str("{1,6}"),
            '*' if !in_class => out.push_str("{0,6}"),
            '{' if !in_class => {
                let mut spec = String::new();
                while let Some(&d) = chars.peek() {
                    chars.next();
                    if d == '}' {
                        break;
                    }
                    spec.push(d);
                }
                match spec.split_once(',') {
                    Some((lo, "")) => {
                        let lo: u32 = lo.trim().parse().ok()?;
                        out.push_str(&format!("{{{lo},{}}}", lo + 6));
                    }
                    _ => out.push_str(&format!("{{{spec}}}")),
                }
            }
            _ => out.push(c),
        }
    }
    string_regex(&out).ok().map(|s| s.boxed())
}

fn string(ctx: &Arc<Ctx>, m: &Merged) -> Option<Strat> {
    let lo = m.min_length.unwrap_or(0);
    let cap = m.max_length.unwrap_or(u64::MAX);
    if lo > cap {
        return None;
    }
    let special = m
        .formats
        .iter()
        .find_map(|f| format_strategy(f))
        .or_else(|| m.patterns.first().and_then(|p| pattern_strategy(p)));
    let mut s = match special {
        Some(s) if m.min_length.is_some() || m.max_length.is_some() => s
            .prop_filter("length", move |s| {
                let n = s.chars().count() as u64;
                n >= lo && n <= cap
            })
            .boxed(),
        Some(s) => s,
        None => plain_string(lo, cap.min(lo + MAX_STRING)),
    };
    if !m.patterns.is_empty() {
        // Checked by the validator's own regex engine: the generator's regex is a rewrite.
        let patterns: Vec<Value> = m
            .patterns
            .iter()
            .map(|p| json!({"type": "string", "pattern": p}))
            .collect();
        let doc = json!({ "s": { "allOf": patterns } });
        let check = SchemaValidator::compile(&doc, "/s", ctx.direction).ok()?;
        s = s
            .prop_filter("pattern", move |s| {
                check.is_valid(&Value::String(s.clone()))
            })
            .boxed();
    }
    Some(s.prop_map(Value::String).boxed())
}

/// A window of at most 2001 values inside `lo..=hi`, around 0 when it can be.
fn small_window(lo: i64, hi: i64) -> (i64, i64) {
    if lo > 1000 {
        (lo, hi.min(lo.saturating_add(1000)))
    } else if hi < -1000 {
        (lo.max(hi.saturating_sub(1000)), hi)
    } else {
        (lo.max(-1000), hi.min(1000))
    }
}

fn integer(m: &Merged) -> Option<Strat> {
    let mut lo = i128::from(i64::MIN);
    let mut hi = i128::from(i64::MAX);
    let (mut lo_edge, mut hi_edge) = (false, false);
    if let Some((v, exclusive)) = m.minimum {
        let l = if exclusive {
            v.floor() as i128 + 1
        } else {
            v.ceil() as i128
        };
        lo = lo.max(l);
        lo_edge = true;
    }
    if let Some((v, exclusive)) = m.maximum {
        let h = if exclusive {
            v.ceil() as i128 - 1
        } else {
            v.floor() as i128
        };
        hi = hi.min(h);
        hi_edge = true;
    }
    let step: i128 = match m.multiple_of {
        Some(s) if s >= 1.0 && s.fract() == 0.0 && s < 1e18 => s as i128,
        // Fractional steps: every integer that is a multiple passes the final filter.
        _ => 1,
    };
    let (klo, khi) = (
        lo.div_euclid(step) + i128::from(lo.rem_euclid(step) != 0),
        hi.div_euclid(step),
    );
    if klo > khi {
        return None;
    }
    let (klo, khi) = (klo as i64, khi as i64);
    let (slo, shi) = small_window(klo, khi);
    let mut alternatives: Vec<(u32, BoxedStrategy<i64>)> =
        vec![(8, (slo..=shi).boxed()), (1, (klo..=khi).boxed())];
    if lo_edge {
        alternatives.push((1, Just(klo).boxed()));
    }
    if hi_edge {
        alternatives.push((1, Just(khi).boxed()));
    }
    let step = step as i64;
    Some(
        Union::new_weighted(alternatives)
            .prop_map(move |k| Value::from(k * step))
            .boxed(),
    )
}

fn number(m: &Merged, integral: bool) -> Option<Strat> {
    let (min, max) = (m.minimum, m.maximum);
    if let (Some((l, le)), Some((h, he))) = (min, max) {
        if l > h || (l == h && (le || he)) {
            return None;
        }
    }
    let inside = move |x: f64| {
        min.is_none_or(|(l, e)| if e { x > l } else { x >= l })
            && max.is_none_or(|(h, e)| if e { x < h } else { x <= h })
    };
    let to_value = move |x: f64| {
        if integral && x.fract() == 0.0 && x.abs() < 9e15 {
            Value::from(x as i64)
        } else {
            Number::from_f64(x).map_or(Value::Null, Value::Number)
        }
    };
    let lo = min.map_or(i64::MIN, |(l, _)| l.floor() as i64);
    let hi = max.map_or(i64::MAX, |(h, _)| h.floor() as i64);
    let (slo, shi) = small_window(lo, hi.max(lo));
    let fractions: Vec<f64> = if integral {
        vec![0.0, 0.0, 0.5, 0.25, 0.75, 0.125]
    } else {
        vec![0.5, 0.25, 0.75, 0.125]
    };
    let grid = (slo..=shi, select(fractions))
        .prop_map(|(i, f)| i as f64 + f)
        .prop_filter("bounds", move |x| inside(*x));
    let s = match (min, max) {
        (Some((l, _)), Some((h, _))) => {
            prop_oneof![4 => grid, 1 => Just(l / 2.0 + h / 2.0).prop_filter("bounds", move |x| inside(*x))].boxed()
        }
        _ => grid.boxed(),
    };
    Some(s.prop_map(to_value).boxed())
}

fn array(ctx: &Arc<Ctx>, m: &Merged, path: &[String], minimal: bool) -> Option<Strat> {
    let lo = m.min_items.unwrap_or(0);
    let cap = m.max_items.unwrap_or(u64::MAX);
    if lo > cap {
        return None;
    }
    let hi = if minimal {
        lo
    } else {
        cap.min(lo.max(MAX_ITEMS))
    };
    if hi == 0 {
        return Some(Just(json!([])).boxed());
    }
    let Some(item) = schema(ctx, &m.items, path, minimal) else {
        return (lo == 0).then(|| Just(json!([])).boxed());
    };
    let s = vec(item, lo as usize..=hi as usize).prop_map(Value::Array);
    if m.unique_items {
        return Some(
            s.prop_filter("uniqueItems", |v| {
                let items = v.as_array().map_or(&[][..], Vec::as_slice);
                items
                    .iter()
                    .enumerate()
                    .all(|(i, a)| items[i + 1..].iter().all(|b| a != b))
            })
            .boxed(),
        );
    }
    Some(s.boxed())
}

fn object(ctx: &Arc<Ctx>, m: &Merged, path: &[String], minimal: bool) -> Option<Strat> {
    let mut names: Vec<String> = m.properties.iter().map(|(n, _)| n.clone()).collect();
    for r in &m.required {
        if !names.contains(r) {
            names.push(r.clone());
        }
    }
    let mut fields: Vec<BoxedStrategy<Option<(String, Value)>>> = Vec::new();
    for name in &names {
        let required = m.required.contains(name);
        let declared = m.property(name);
        let excluded = m.hidden.contains(name)
            || m.forbidden.contains(name)
            || (declared.is_none() && m.ap_closed);
        if excluded {
            if required {
                return None;
            }
            continue;
        }
        if !required && minimal {
            continue;
        }
        let conjuncts = declared.unwrap_or(&m.ap_schemas);
        let Some(value) = schema(ctx, conjuncts, path, minimal) else {
            if required {
                return None;
            }
            continue;
        };
        let key = name.clone();
        let entry = value.prop_map(move |v| Some((key.clone(), v)));
        fields.push(if required {
            entry.boxed()
        } else {
            prop_oneof![Just(None), entry].boxed()
        });
    }
    let map_like = !m.declares_properties;
    let extras = if m.ap_closed || minimal || !(map_like || ctx.options.undeclared) {
        None
    } else {
        let value = if !m.ap_schemas.is_empty() {
            schema(ctx, &m.ap_schemas, path, minimal)
        } else if map_like {
            Some(free_form(1))
        } else {
            Some(scalar())
        };
        value.map(|value| {
            let reserved: BTreeSet<String> = names
                .iter()
                .chain(&m.hidden)
                .chain(&m.forbidden)
                .cloned()
                .collect();
            let key = if map_like {
                regex("[a-z][a-z0-9_]{0,7}")
            } else {
                regex("zz_extra_[a-z0-9]{1,4}")
            };
            let key = key.prop_filter("declared name", move |k| !reserved.contains(k));
            let lo = if map_like {
                m.min_properties
                    .unwrap_or(0)
                    .saturating_sub(names.len() as u64)
            } else {
                0
            };
            let hi = lo + if map_like { 3 } else { 2 };
            btree_map(key, value, lo as usize..=hi as usize).boxed()
        })
    };
    let extras = extras.unwrap_or_else(|| Just(BTreeMap::new()).boxed());
    let s = (fields, extras).prop_map(|(fields, extras)| {
        let mut map = Map::new();
        for (k, v) in fields.into_iter().flatten() {
            map.insert(k, v);
        }
        for (k, v) in extras {
            map.entry(k).or_insert(v);
        }
        Value::Object(map)
    });
    if m.min_properties.is_some() || m.max_properties.is_some() {
        let (lo, hi) = (m.min_properties, m.max_properties);
        return Some(
            s.prop_filter("minProperties/maxProperties", move |v| {
                let n = v.as_object().map_or(0, Map::len) as u64;
                lo.is_none_or(|l| n >= l) && hi.is_none_or(|h| n <= h)
            })
            .boxed(),
        );
    }
    Some(s.boxed())
}

// ---------------------------------------------------------------------------------------------
// Mutations

#[derive(Debug, Clone)]
enum Mutation {
    Type {
        expected: String,
        found: &'static str,
        value: Value,
    },
    Remove,
    Null,
    Enum(Value),
}

/// One way to break a value, at an instance pointer.
#[derive(Debug, Clone)]
struct Site {
    at: String,
    mutation: Mutation,
}

impl Site {
    fn apply(&self, value: &Value) -> Option<Value> {
        let mut out = value.clone();
        match &self.mutation {
            Mutation::Remove => {
                let (parent, key) = self.at.rsplit_once('/')?;
                out.pointer_mut(parent)?
                    .as_object_mut()?
                    .shift_remove(&pointer::unescape(key))?;
            }
            Mutation::Type { value, .. } | Mutation::Enum(value) => {
                *out.pointer_mut(&self.at)? = value.clone();
            }
            Mutation::Null => *out.pointer_mut(&self.at)? = Value::Null,
        }
        Some(out)
    }
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.at.is_empty() {
            "(root)"
        } else {
            &self.at
        };
        match &self.mutation {
            Mutation::Type {
                expected, found, ..
            } => write!(f, "type at {at}: expected {expected}, got {found}"),
            Mutation::Remove => write!(f, "required at {at}: required property removed"),
            Mutation::Null => write!(f, "null at {at}: null where the schema is not nullable"),
            Mutation::Enum(v) => write!(f, "enum at {at}: {v} is not in the enum"),
        }
    }
}

/// Replacement values, one per JSON type.
fn replacements() -> [(&'static str, Value); 6] {
    [
        ("string", json!("mutated")),
        ("integer", json!(7)),
        ("number", json!(1.5)),
        ("boolean", json!(true)),
        ("object", json!({})),
        ("array", json!([])),
    ]
}

fn widen(t: &str) -> BTreeSet<&'static str> {
    match t {
        "number" => ["number", "integer"].into(),
        "integer" => ["integer"].into(),
        "string" => ["string"].into(),
        "boolean" => ["boolean"].into(),
        "array" => ["array"].into(),
        "object" => ["object"].into(),
        _ => BTreeSet::new(),
    }
}

fn intersect(
    a: Option<BTreeSet<&'static str>>,
    b: BTreeSet<&'static str>,
) -> BTreeSet<&'static str> {
    match a {
        None => b,
        Some(a) => a.intersection(&b).copied().collect(),
    }
}

/// The non-null JSON types the merged schema can accept, every branch included; `None` when it
/// does not restrict types (free-form).
fn accepted_types(ctx: &Ctx, m: &Merged, depth: usize) -> Option<BTreeSet<&'static str>> {
    if depth > 8 || m.unsat {
        return None;
    }
    let mut set = m.ty.as_deref().map(widen);
    if let Some(values) = &m.enumeration {
        let types = values
            .iter()
            .filter(|v| !v.is_null())
            .map(json_type)
            .collect();
        set = Some(intersect(set, types));
    }
    for group in &m.groups {
        let mut types = BTreeSet::new();
        let mut free = false;
        for branch in &group.branches {
            let b = Merged::of(ctx, std::slice::from_ref(branch));
            match accepted_types(ctx, &b, depth + 1) {
                Some(t) => types.extend(t),
                None => free = true,
            }
        }
        if !free {
            set = Some(intersect(set, types));
        }
    }
    set
}

/// Every single mutation of `value` (valid against `conjuncts`, found at instance pointer `at`)
/// that a Rust type would reject. `null_rejected`: whether `null` here fails to deserialize.
fn collect_sites(
    ctx: &Ctx,
    conjuncts: &[String],
    value: &Value,
    at: &str,
    null_rejected: bool,
    depth: usize,
    out: &mut Vec<Site>,
) {
    if conjuncts.is_empty() || depth > HARD_DEPTH {
        return;
    }
    let mut m = Merged::of(ctx, conjuncts);
    if m.unsat {
        return;
    }
    let nullable = conjuncts.iter().all(|c| ctx.nullable(c));
    if let Some(accepted) = accepted_types(ctx, &m, 0) {
        let expected = accepted.iter().copied().collect::<Vec<_>>().join(" or ");
        for (found, replacement) in replacements() {
            // An array can deserialize into a struct (as a tuple of its fields).
            if accepted.contains(found) || (value.is_object() && found == "array") {
                continue;
            }
            out.push(Site {
                at: at.to_owned(),
                mutation: Mutation::Type {
                    expected: expected.clone(),
                    found,
                    value: replacement,
                },
            });
        }
        if !nullable && null_rejected && !value.is_null() {
            out.push(Site {
                at: at.to_owned(),
                mutation: Mutation::Null,
            });
        }
    }
    if value.is_null() {
        return;
    }
    // Descend through the branches this value takes.
    for _ in 0..16 {
        if m.groups.is_empty() {
            break;
        }
        let group = m.groups.remove(0);
        let Some(branch) = group.branches.iter().find(|b| ctx.accepts(b, value)) else {
            return;
        };
        m.absorb(ctx, branch);
        if m.unsat {
            return;
        }
    }
    if let (Some(values), Some(_)) = (&m.enumeration, value.as_str()) {
        if m.ty.as_deref().is_none_or(|t| t == "string") && values.iter().all(Value::is_string) {
            let mut outside = String::from("zz-not-in-enum");
            while values.contains(&Value::String(outside.clone())) {
                outside.push('z');
            }
            out.push(Site {
                at: at.to_owned(),
                mutation: Mutation::Enum(Value::String(outside)),
            });
        }
    }
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                if m.hidden.contains(key) || m.forbidden.contains(key) {
                    continue;
                }
                let child_at = pointer::push(at, key);
                if let Some(schemas) = m.property(key) {
                    let required = m.hard_required.contains(key)
                        && !schemas.iter().all(|p| ctx.nullable(p))
                        && !schemas.iter().any(|p| {
                            ctx.resolve(p).is_some_and(|n| n.get("default").is_some())
                                || ctx.node(p).is_some_and(|n| n.get("default").is_some())
                        })
                        && accepted_types(ctx, &Merged::of(ctx, schemas), 0).is_some();
                    if required {
                        out.push(Site {
                            at: child_at.clone(),
                            mutation: Mutation::Remove,
                        });
                    }
                    collect_sites(
                        ctx,
                        schemas,
                        child,
                        &child_at,
                        m.hard_required.contains(key),
                        depth + 1,
                        out,
                    );
                } else if !m.ap_schemas.is_empty() {
                    collect_sites(ctx, &m.ap_schemas, child, &child_at, true, depth + 1, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_sites(
                    ctx,
                    &m.items,
                    item,
                    &format!("{at}/{i}"),
                    true,
                    depth + 1,
                    out,
                );
            }
        }
        _ => {}
    }
}
