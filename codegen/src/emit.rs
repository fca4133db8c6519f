//! Stage 5: the [`Ir`] and its [`Names`] → the module's text, laid out as
//! `prettyplease` lays it out.
//!
//! This is the one description of generated output. Generated code depends only on `serde`,
//! `serde_json` and `serde_path_to_error`, the crates the `generated` crate depends on; each
//! output carries its own `support` module (`support.txt`) so it is self-contained.
//!
//! Building tokens, parsing them with `syn` and pretty-printing the tree cost about twenty
//! times a JSON parse of the spec; writing the text directly costs a fraction of one. The
//! generated code is regular (structs, enums, their impls, one module per operation), so the
//! layout `prettyplease` gives it follows from a few rules of its algorithm (an
//! Oppen-style printer, `MARGIN` 89, `INDENT` 4, `MIN_SPACE` 60):
//!
//! - a group breaks when the text from where it starts to the next break of an enclosing
//!   group does not fit on the line (byte lengths; groups that follow it inside count whole);
//!   a line indented by `i` holds `max(89 - i, 60)` bytes after the indentation;
//! - items, fields, variants, statements and match arms are separated by hard breaks, so each
//!   line of them is laid out on its own;
//! - attribute lists (`#[derive(…)]`, `#[serde(…)]`), generic arguments, tuple and struct
//!   variants and array literals are consistent groups: on one line, or one element per line
//!   indented by 4 more (the indentation of the innermost broken group, plus 4);
//! - a match arm whose pattern, `=>` and body do not fit (the trailing comma aside) puts its
//!   body in a block on the next line; the dispatch functions' bodies then break at fixed
//!   lengths of the one name they contain (worked out in [`Writer::response_arm`] and
//!   [`Writer::round_trip_arm`]).
//!
//! What these rules do not cover is written as plain Rust text too, on as few lines as it
//! takes, and laid out by `prettyplease` (parsed by `syn`): whole items of the rare kinds
//! (discriminated unions, integer enums, recursive newtypes, empty enums, a string enum whose
//! catch-all arm does not fit), the rare `status` and `body_json` arms that do not fit, and the
//! statements of `decode` (method chains, closures, struct literals), rendered once per
//! distinct text and reused: their variant names repeat.
//!
//! `tests/it/layout.rs` holds the whole output to `prettyplease`'s layout: it is a fixed
//! point of `prettyplease::unparse(syn::parse_file(..))`, for both enum policies, on every
//! fixture, hard case and checked-in spec, on a synthetic spec with names and types of every
//! length around the thresholds, and on the whole corpus with `CODEGEN_LAYOUT_CORPUS=1`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;

use heck::ToSnakeCase as _;
use std::time::{Duration, Instant};

use crate::analysis::Derives;
use crate::ir::{
    Field, Ir, Kind, Location, Names, Operation, Presence, ResponseBody, SchemeKind, Ty, TypeDef,
    TypeId,
};

/// What the module is written from.
pub struct Emitter<'a> {
    pub ir: &'a Ir,
    pub names: &'a Names,
    pub derives: &'a [Derives],
    pub client: &'a crate::ClientCode,
    /// Whether the `server` module is written ([`crate::Settings::server`]).
    pub server: bool,
    /// With [`crate::Features::PerTag`]: the `cfg` of each item.
    pub gates: Option<&'a crate::features::Gates>,
}

/// Calls `f` with each line of a doc comment as they are written: lines end at `\n`,
/// `\r\n` and a bare `\r` (which rustc refuses inside a doc comment; specs written on Windows
/// carry them), trailing white space is trimmed, and any other control character but a tab is
/// written as its escape (`\u{1b}`), so no text from a spec makes a comment that does not
/// compile. Ordinary text gives exactly `str::lines` with trimmed ends.
pub(crate) fn for_doc_lines(doc: &str, mut f: impl FnMut(&str)) {
    let normalized;
    let doc = if doc.contains('\r') {
        normalized = doc.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        doc
    };
    for line in doc.lines() {
        let line = line.trim_end();
        if has_control(line) {
            let escaped: String = line
                .chars()
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        c.escape_unicode().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            f(&escaped);
        } else {
            f(line);
        }
    }
}

/// Whether `line` holds a control character (Unicode `Cc`: U+0000–U+001F, U+007F–U+009F)
/// other than a tab, read from its UTF-8 bytes: U+0080–U+009F is `C2 80`–`C2 9F`.
fn has_control(line: &str) -> bool {
    let bytes = line.as_bytes();
    // First a pass without early exit, which the compiler vectorises: most lines hold none
    // of these bytes (a tab is one, and is sorted out below).
    let suspect = bytes.iter().fold(false, |any, &b| {
        any | (b < 0x20) | (b == 0x7f) | (b == 0xc2)
    });
    suspect
        && bytes.iter().enumerate().any(|(i, &b)| {
            (b < 0x20 && b != b'\t')
                || b == 0x7f
                || (b == 0xc2 && matches!(bytes.get(i + 1), Some(0x80..=0x9f)))
        })
}

/// A run of top-level items of the module. Top-level items print independently, so the
/// parts can be emitted and rendered separately (on several threads) and their texts
/// concatenated in order: the result is the text of the whole module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The declarations of these types, in order.
    Types(std::ops::Range<usize>),
    /// The `operations` module.
    Operations,
    /// The `webhooks` module (OpenAPI 3.1 documents that declare webhooks only).
    Webhooks,
    /// The `schemas` module.
    Schemas,
    /// The `client` module (with a client only).
    Client,
    /// The `server` module (with a server only).
    Server,
    /// The `support` module.
    Support,
}

/// Types per [`Part::Types`]: small enough to balance threads, large enough to amortise.
const TYPES_PER_PART: usize = 128;

impl Emitter<'_> {
    /// The module's parts, in output order.
    pub fn parts(&self) -> Vec<Part> {
        let n = self.ir.types.len();
        let mut parts: Vec<Part> = (0..n)
            .step_by(TYPES_PER_PART)
            .map(|start| Part::Types(start..n.min(start + TYPES_PER_PART)))
            .collect();
        parts.push(Part::Operations);
        if !self.ir.webhooks.is_empty() {
            parts.push(Part::Webhooks);
        }
        parts.push(Part::Schemas);
        if self.with_client() {
            parts.push(Part::Client);
        }
        if self.server {
            parts.push(Part::Server);
        }
        parts.push(Part::Support);
        parts
    }

    /// Whether a client is generated.
    fn with_client(&self) -> bool {
        *self.client != crate::ClientCode::None
    }
}

/// How a documented response is selected by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Matcher {
    /// One status (`200`).
    Exact(u16),
    /// A range (`4XX`): `lo..=hi`.
    Range(u16, u16),
    /// `default`.
    Default,
}

/// One documented response of an operation, as the `Response` enum has it.
pub struct Resp<'a> {
    /// The variant name (`Status200`, `Status4xx`, `Default`).
    pub name: String,
    pub matcher: Matcher,
    pub response: &'a crate::ir::Response,
}

impl Resp<'_> {
    /// Whether the status is fixed (the variant then carries no `status` field).
    pub fn fixed(&self) -> bool {
        matches!(self.matcher, Matcher::Exact(_))
    }
}

/// The documented responses of an operation that get a variant, in spec order: statuses that
/// are not statuses (the lint reports them) and repeated variant names are skipped.
pub fn responses_of(op: &Operation) -> Vec<Resp<'_>> {
    let mut used = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in &op.responses {
        let upper = r.status.to_ascii_uppercase();
        let (name, matcher) = if let Ok(code) = upper.parse::<u16>() {
            (format!("Status{code}"), Matcher::Exact(code))
        } else if upper.len() == 3 && upper.ends_with("XX") && upper.as_bytes()[0].is_ascii_digit()
        {
            let lo = u16::from(upper.as_bytes()[0] - b'0') * 100;
            (
                format!("Status{}xx", &upper[..1]),
                Matcher::Range(lo, lo + 99),
            )
        } else if upper == "DEFAULT" {
            ("Default".to_owned(), Matcher::Default)
        } else {
            continue; // not a status; the lint reports it
        };
        if !used.insert(name.clone()) {
            continue;
        }
        out.push(Resp {
            name,
            matcher,
            response: r,
        });
    }
    out
}

/// prettyplease's target line width.
const MARGIN: usize = 89;
/// Every line gets at least this much room, however deeply indented.
const MIN_SPACE: usize = 60;
const INDENT: usize = 4;
/// The widest struct expression prettyplease keeps on one line (`end_with_max_width(34)`
/// around its fields: `Self { … }` up to 35 characters).
const STRUCT_LITERAL_WIDTH: usize = 35;

/// The `support` module every output carries, as `prettyplease` lays it out (a unit test
/// checks that it is a fixed point).
const SUPPORT: &str = include_str!("support.txt");

/// The `client` module's fixed part (all but the spec's own items and the closing brace), as
/// `prettyplease` lays it out (a unit test checks that it is a fixed point).
const CLIENT: &str = include_str!("client.txt");

/// The `client::hyper_transport` module, as `prettyplease` lays it out at the client module's
/// depth.
const HYPER_TRANSPORT: &str = include_str!("client_hyper.txt");

/// The `server` module's fixed part (all but the spec's trait, routes and router), as
/// `prettyplease` lays it out (a unit test checks that it is a fixed point).
const SERVER: &str = include_str!("server.txt");

/// The most aliases and newtypes [`Writer::shape`] follows in a row (real specs chain a few).
const MAX_ALIAS_HOPS: usize = 64;

/// How many levels of nested objects a `server::Shape` describes property by property.
const SHAPE_DEPTH: usize = 3;

/// The `server::hyper_service` module, as `prettyplease` lays it out at the server module's
/// depth.
const HYPER_SERVICE: &str = include_str!("server_hyper.txt");

/// Room for text after the indentation of a line indented by `indent`.
fn room(indent: usize) -> usize {
    MARGIN.saturating_sub(indent).max(MIN_SPACE)
}

/// Rust text as `prettyplease` lays it out (parsed by `syn`): for what [`Writer`] does not lay
/// out itself. An error is an internal one: the text written does not parse.
fn layout(text: &str) -> Result<String, String> {
    syn::parse_file(text)
        .map(|file| prettyplease::unparse(&file))
        .map_err(|e| format!("{e}, in:\n{text}"))
}

/// One part of the module, rendered, and how much of the time went to `prettyplease` (for
/// the items and pieces it renders).
pub fn part(emitter: &Emitter<'_>, part: &Part) -> (Result<String, String>, Duration) {
    // Roughly the size of the part, so the text is rarely copied as it grows.
    let capacity = match part {
        Part::Types(range) => range.len() * 3072,
        Part::Operations => emitter.ir.operations.len() * 3072,
        Part::Webhooks => emitter.ir.webhooks.len() * 1024,
        Part::Schemas => emitter.ir.types.len() * 160,
        Part::Client => CLIENT.len() + HYPER_TRANSPORT.len(),
        Part::Server => SERVER.len() + HYPER_SERVICE.len() + emitter.ir.operations.len() * 1024,
        Part::Support => SUPPORT.len(),
    };
    let mut w = Writer {
        em: emitter,
        out: String::with_capacity(capacity.max(1 << 12)),
        memo: HashMap::new(),
        pretty: Duration::ZERO,
    };
    let text = w.part(part).map(|()| w.out);
    (text, w.pretty)
}

impl Writer<'_, '_> {
    fn part(&mut self, part: &Part) -> Result<(), String> {
        match part {
            Part::Types(range) => {
                let types = &self.em.ir.types;
                for i in range.clone() {
                    self.type_def(TypeId(i), &types[i])?;
                }
            }
            Part::Operations => self.operations()?,
            Part::Webhooks => {
                // Rare and small: written plainly, laid out by prettyplease.
                let start = self.out.len();
                self.webhooks();
                let text = self.out.split_off(start);
                let text = self.pretty(&text)?;
                self.out.push_str(&text);
            }
            Part::Schemas => self.schemas()?,
            Part::Client => self.client_module()?,
            Part::Server => self.server_module()?,
            Part::Support => self.out.push_str(SUPPORT),
        }
        Ok(())
    }

    /// [`layout`], timed.
    fn pretty(&mut self, text: &str) -> Result<String, String> {
        let t = Instant::now();
        let text = layout(text);
        self.pretty += t.elapsed();
        text
    }
}

/// Appends a string literal as `proc_macro2` writes it (`Literal::string`), which is how
/// prettyplease prints it.
fn lit(out: &mut String, s: &str) {
    out.push('"');
    // The common case: printable ASCII without quotes or backslashes is written as is.
    if s.bytes()
        .all(|b| matches!(b, b' '..=b'~') && b != b'"' && b != b'\\')
    {
        out.push_str(s);
        out.push('"');
        return;
    }
    let mut chars = s.chars();
    while let Some(ch) = chars.next() {
        match ch {
            '\0' => out.push_str(
                if chars
                    .as_str()
                    .starts_with(|c: char| ('0'..='7').contains(&c))
                {
                    r"\x00"
                } else {
                    r"\0"
                },
            ),
            '\'' => out.push('\''),
            // The common case, and what `escape_debug` leaves as is.
            ' '..='~' if ch != '"' && ch != '\\' => out.push(ch),
            _ => out.extend(ch.escape_debug()),
        }
    }
    out.push('"');
}

/// Appends `text`, the top-level items of one type, with `attr` before each item: an item
/// ends at a line at the margin, not a comment, ending in `}` or `;`.
fn gate_items(out: &mut String, text: &str, attr: &str) {
    let mut at_start = true;
    for line in text.split_inclusive('\n') {
        if at_start {
            out.push_str(attr);
        }
        out.push_str(line);
        let l = line.trim_end();
        at_start = !l.starts_with([' ', '/']) && (l.ends_with('}') || l.ends_with(';'));
    }
}

fn pad(out: &mut String, n: usize) {
    // Written as one slice: one character at a time was a tenth of writing a module.
    const SPACES: &str = "                                                                ";
    let mut n = n;
    while n > 0 {
        let k = n.min(SPACES.len());
        out.push_str(&SPACES[..k]);
        n -= k;
    }
}

/// A type expression as prettyplease sees it: a path, possibly with generic arguments.
#[derive(Clone, Copy)]
enum Node<'t> {
    Leaf(&'static str),
    Ty(&'t Ty),
    /// `prefix<ty>`
    Wrap(&'static str, &'t Ty),
    /// `std::collections::BTreeMap<String, ty>`
    Map(&'t Ty),
}

const STRING: Node<'static> = Node::Leaf("String");
/// An untyped body, from an operation's module.
const RAW_BODY: Node<'static> = Node::Leaf("super::super::support::RawBody");

impl<'t> Node<'t> {
    /// The generic's path and its one or two arguments; `None` for a plain path.
    fn split(self) -> Option<(&'static str, Node<'t>, Option<Node<'t>>)> {
        match self {
            Node::Leaf(_) => None,
            Node::Wrap(p, t) => Some((p, Node::Ty(t), None)),
            Node::Map(t) => Some(("std::collections::BTreeMap", STRING, Some(Node::Ty(t)))),
            Node::Ty(ty) => match ty {
                Ty::JsonObject => Some((
                    "serde_json::Map",
                    STRING,
                    Some(Node::Leaf("serde_json::Value")),
                )),
                Ty::Vec(t) => Some(("Vec", Node::Ty(t), None)),
                Ty::Map(t) => Some(("std::collections::BTreeMap", STRING, Some(Node::Ty(t)))),
                Ty::Option(t) => Some(("Option", Node::Ty(t), None)),
                Ty::Box(t) => Some(("Box", Node::Ty(t), None)),
                _ => None,
            },
        }
    }
}

/// What a memoised rendering is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A piece of `decode`: variant name, matcher, body kind (0 JSON, 1 raw, 2 empty).
    Decode(String, Matcher, u8),
    /// `decode`'s final expression without a `default` response.
    RawFallback,
    /// A `#[cfg(…)]` attribute: its predicate and indentation.
    Cfg(String, usize),
}

struct Writer<'e, 'a> {
    em: &'e Emitter<'a>,
    out: String,
    /// Renderings of `decode` pieces.
    memo: HashMap<Key, String>,
    /// Time spent in `prettyplease`.
    pretty: Duration,
}

impl Writer<'_, '_> {
    // ----- lines, attributes, types -------------------------------------------------------

    /// `///` lines, as prettyplease prints doc attributes.
    fn doc(&mut self, indent: usize, doc: Option<&str>) {
        let Some(doc) = doc else { return };
        let out = &mut self.out;
        for_doc_lines(doc, |line| {
            pad(out, indent);
            out.push_str("///");
            if !line.is_empty() {
                out.push(' ');
                out.push_str(line);
            }
            out.push('\n');
        });
    }

    fn line(&mut self, indent: usize, text: &str) {
        pad(&mut self.out, indent);
        self.out.push_str(text);
        self.out.push('\n');
    }

    /// `#[name(a, b, …)]`: on one line if it fits, else one item per line.
    fn attr_list(&mut self, indent: usize, name: &str, items: &[&str]) {
        let flat = 2
            + name.len()
            + 1
            + items.iter().map(|i| i.len()).sum::<usize>()
            + 2 * items.len().saturating_sub(1)
            + 2;
        pad(&mut self.out, indent);
        self.out.push_str("#[");
        self.out.push_str(name);
        self.out.push('(');
        if flat <= room(indent) {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    self.out.push_str(", ");
                }
                self.out.push_str(item);
            }
        } else {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                self.out.push('\n');
                pad(&mut self.out, indent + INDENT);
                self.out.push_str(item);
            }
            self.out.push('\n');
            pad(&mut self.out, indent);
        }
        self.out.push_str(")]\n");
    }

    /// `#[serde(rename = "wire")]`
    fn rename(&mut self, indent: usize, wire: &str) {
        let mut item = String::with_capacity(wire.len() + 12);
        item.push_str("rename = ");
        lit(&mut item, wire);
        self.attr_list(indent, "serde", &[&item]);
    }

    fn derive(&mut self, indent: usize, id: TypeId, serde: bool) {
        let d = self.em.derives[id.0];
        let mut items: Vec<&str> = vec!["Debug", "Clone", "PartialEq"];
        for (on, name) in [
            (d.eq, "Eq"),
            (d.ord, "PartialOrd"),
            (d.ord, "Ord"),
            (d.hash, "Hash"),
            (d.copy, "Copy"),
            (d.default, "Default"),
        ] {
            if on {
                items.push(name);
            }
        }
        if serde {
            items.extend(["serde::Serialize", "serde::Deserialize"]);
        }
        self.attr_list(indent, "derive", &items);
    }

    fn flat(&self, out: &mut String, node: Node<'_>, up: usize) {
        match node {
            Node::Leaf(s) => out.push_str(s),
            Node::Ty(Ty::Named(id)) => {
                for _ in 0..up {
                    out.push_str("super::");
                }
                out.push_str(&self.em.names.types[id.0]);
            }
            Node::Ty(Ty::String) => out.push_str("String"),
            Node::Ty(Ty::Bool) => out.push_str("bool"),
            Node::Ty(Ty::I32) => out.push_str("i32"),
            Node::Ty(Ty::I64) => out.push_str("i64"),
            Node::Ty(Ty::U32) => out.push_str("u32"),
            Node::Ty(Ty::U64) => out.push_str("u64"),
            Node::Ty(Ty::F32) => out.push_str("f32"),
            Node::Ty(Ty::F64) => out.push_str("f64"),
            Node::Ty(Ty::Json) => out.push_str("serde_json::Value"),
            _ => {
                if let Some((path, a, b)) = node.split() {
                    out.push_str(path);
                    out.push('<');
                    self.flat(out, a, up);
                    if let Some(b) = b {
                        out.push_str(", ");
                        self.flat(out, b, up);
                    }
                    out.push('>');
                }
            }
        }
    }

    fn flat_len(&self, node: Node<'_>, up: usize) -> usize {
        let mut s = String::new();
        self.flat(&mut s, node, up);
        s.len()
    }

    /// Writes a type at column `col` of a line indented by `line`, where `block` is the
    /// indentation a broken group inside adds 4 to and `trail` is the width of what follows
    /// the type up to the next possible break. Returns the column and line indentation after.
    #[allow(clippy::too_many_arguments)]
    fn lay(
        &mut self,
        node: Node<'_>,
        up: usize,
        col: usize,
        line: usize,
        block: usize,
        trail: usize,
    ) -> (usize, usize) {
        let Some((path, a, b)) = node.split() else {
            let start = self.out.len();
            let mut out = std::mem::take(&mut self.out);
            self.flat(&mut out, node, up);
            self.out = out;
            return (col + self.out.len() - start, line);
        };
        self.out.push_str(path);
        self.out.push('<');
        let col = col + path.len() + 1;
        let args = self.flat_len(a, up) + b.map_or(0, |b| 2 + self.flat_len(b, up));
        if col + args + 1 + trail <= line + room(line) {
            let mut out = std::mem::take(&mut self.out);
            self.flat(&mut out, a, up);
            if let Some(b) = b {
                out.push_str(", ");
                self.flat(&mut out, b, up);
            }
            out.push('>');
            self.out = out;
            return (col + args + 1, line);
        }
        let inner = block + INDENT;
        let list: Vec<Node<'_>> = std::iter::once(a).chain(b).collect();
        for (i, arg) in list.iter().enumerate() {
            self.out.push('\n');
            pad(&mut self.out, inner);
            let last = i + 1 == list.len();
            self.lay(*arg, up, inner, inner, inner, usize::from(!last));
            self.out.push(',');
        }
        self.out.push('\n');
        pad(&mut self.out, block);
        self.out.push('>');
        (block + 1, block)
    }

    /// Finishes a line that started at `line_start` (indented by `indent`, its head already
    /// written) with a type and `tail` (text up to the next break: `,` or `;`).
    fn typed_line(
        &mut self,
        line_start: usize,
        indent: usize,
        node: Node<'_>,
        up: usize,
        tail: &str,
    ) {
        self.typed_line_counting(line_start, indent, node, up, tail, tail.len());
    }

    /// [`Writer::typed_line`] where only `counted` bytes of `tail` count against the line's
    /// room: a list's trailing comma, which prettyplease prints only when the list breaks,
    /// counts for nothing.
    fn typed_line_counting(
        &mut self,
        line_start: usize,
        indent: usize,
        node: Node<'_>,
        up: usize,
        tail: &str,
        counted: usize,
    ) {
        let head_end = self.out.len();
        let mut out = std::mem::take(&mut self.out);
        self.flat(&mut out, node, up);
        self.out = out;
        if self.out.len() + counted - line_start - indent > room(indent) {
            self.out.truncate(head_end);
            let col = head_end - line_start;
            self.lay(node, up, col, indent, indent, counted);
        }
        self.out.push_str(tail);
        self.out.push('\n');
    }

    /// A tuple variant `Name(Type),`.
    fn tuple_variant(&mut self, indent: usize, name: &str, node: Node<'_>, up: usize) {
        let flat = name.len() + 1 + self.flat_len(node, up) + 2;
        pad(&mut self.out, indent);
        self.out.push_str(name);
        self.out.push('(');
        if flat <= room(indent) {
            let mut out = std::mem::take(&mut self.out);
            self.flat(&mut out, node, up);
            self.out = out;
        } else {
            let inner = indent + INDENT;
            self.out.push('\n');
            pad(&mut self.out, inner);
            self.lay(node, up, inner, inner, inner, 0);
            self.out.push_str(",\n");
            pad(&mut self.out, indent);
        }
        self.out.push_str("),\n");
    }

    /// A struct variant `Name { a: A, b: B },`.
    fn struct_variant(
        &mut self,
        indent: usize,
        name: &str,
        fields: &[(&str, Node<'_>)],
        up: usize,
    ) {
        let flat = name.len()
            + 2
            + fields
                .iter()
                .map(|(n, t)| 1 + n.len() + 2 + self.flat_len(*t, up) + 1)
                .sum::<usize>()
            + 2;
        pad(&mut self.out, indent);
        self.out.push_str(name);
        self.out.push_str(" {");
        if flat <= room(indent) {
            for (i, (n, t)) in fields.iter().enumerate() {
                self.out.push_str(if i == 0 { " " } else { ", " });
                self.out.push_str(n);
                self.out.push_str(": ");
                let mut out = std::mem::take(&mut self.out);
                self.flat(&mut out, *t, up);
                self.out = out;
            }
            self.out.push_str(" },\n");
        } else {
            let inner = indent + INDENT;
            for (i, (n, t)) in fields.iter().enumerate() {
                self.out.push('\n');
                pad(&mut self.out, inner);
                self.out.push_str(n);
                self.out.push_str(": ");
                let last = i + 1 == fields.len();
                self.lay(
                    *t,
                    up,
                    inner + n.len() + 2,
                    inner,
                    inner,
                    usize::from(!last),
                );
                self.out.push(',');
            }
            self.out.push('\n');
            pad(&mut self.out, indent);
            self.out.push_str("},\n");
        }
    }

    /// A match arm `pat => body,` if it fits on its line (the comma aside); `false` if not.
    fn flat_arm(&mut self, indent: usize, pat: &str, body: &str) -> bool {
        if pat.len() + 4 + body.len() > room(indent) {
            return false;
        }
        pad(&mut self.out, indent);
        self.out.push_str(pat);
        self.out.push_str(" => ");
        self.out.push_str(body);
        self.out.push_str(",\n");
        true
    }

    // ----- types ------------------------------------------------------------------------

    fn type_def(&mut self, id: TypeId, def: &TypeDef) -> Result<(), String> {
        let start = self.out.len();
        if !self.write_type_def(id, def) {
            let text = self.out.split_off(start);
            let text = self.pretty(&text)?;
            self.out.push_str(&text);
        }
        if let Some(predicate) = self.em.gates.and_then(|g| g.types[id.0].as_deref()) {
            let attr = self.cfg_attr(predicate, 0)?;
            let text = self.out.split_off(start);
            gate_items(&mut self.out, &text, &attr);
        }
        Ok(())
    }

    /// `#[cfg(predicate)]` at `indent`, as prettyplease lays it out (its lines, each ending
    /// in a newline), memoised.
    fn cfg_attr(&mut self, predicate: &str, indent: usize) -> Result<String, String> {
        let key = Key::Cfg(predicate.to_owned(), indent);
        if let Some(text) = self.memo.get(&key) {
            return Ok(text.clone());
        }
        let depth = indent / INDENT;
        let text = self.pretty(&format!(
            "{}#[cfg({predicate})] struct S;{}",
            "mod m { ".repeat(depth),
            " }".repeat(depth)
        ))?;
        let mut attr = String::new();
        for line in text.lines().skip(depth) {
            if line.trim() == "struct S;" {
                break;
            }
            attr.push_str(line);
            attr.push('\n');
        }
        self.memo.insert(key, attr.clone());
        Ok(attr)
    }

    /// The gate of an operation, at `indent`; nothing without gates.
    fn operation_gate(&mut self, op: usize, indent: usize) -> Result<(), String> {
        if let Some(gates) = self.em.gates {
            let attr = self.cfg_attr(&gates.operations[op], indent)?;
            self.out.push_str(&attr);
        }
        Ok(())
    }

    /// Writes the declaration (and impls) of one type; `false` when the text is not laid out
    /// as `prettyplease` would (the kinds and cases it is left to).
    fn write_type_def(&mut self, id: TypeId, def: &TypeDef) -> bool {
        let em = self.em;
        let name = em.names.types[id.0].as_str();
        match &def.kind {
            Kind::Alias(ty) => {
                self.head(def);
                let line_start = self.out.len();
                self.out.push_str("pub type ");
                self.out.push_str(name);
                self.out.push_str(" = ");
                self.typed_line(line_start, 0, Node::Ty(ty), 0, ";");
            }
            Kind::Struct(s) => {
                self.head(def);
                self.derive(0, id, true);
                if s.deny_unknown {
                    self.out.push_str("#[serde(deny_unknown_fields)]\n");
                }
                self.out.push_str("pub struct ");
                self.out.push_str(name);
                if s.fields.is_empty() && s.additional.is_none() {
                    self.out.push_str(" {}\n");
                    return true;
                }
                self.out.push_str(" {\n");
                let field_names = &em.names.fields[&id];
                for (f, n) in s.fields.iter().zip(field_names) {
                    self.field(f, n);
                }
                if let Some(ty) = &s.additional {
                    let n = field_names
                        .last()
                        .map_or("additional_properties", String::as_str);
                    self.out.push_str(
                        "    /// Properties not declared by the schema (`additionalProperties`).\n    #[serde(flatten)]\n",
                    );
                    let line_start = self.out.len();
                    self.out.push_str("    pub ");
                    self.out.push_str(n);
                    self.out.push_str(": ");
                    self.typed_line(line_start, INDENT, Node::Map(ty), 0, ",");
                }
                self.out.push_str("}\n");
                self.constructor(name, s, field_names);
            }
            Kind::Enum(e) => {
                // An empty enum is left to prettyplease (`{}` on one line).
                let mut exact = !e.values.is_empty();
                let variants = &em.names.variants[&id];
                self.head(def);
                self.derive(0, id, true);
                self.out.push_str("pub enum ");
                self.out.push_str(name);
                self.out.push_str(" {\n");
                for (wire, v) in e.values.iter().zip(variants) {
                    self.rename(INDENT, wire);
                    pad(&mut self.out, INDENT);
                    self.out.push_str(v);
                    self.out.push_str(",\n");
                }
                let catch_all = variants.last().map_or("Unknown", String::as_str);
                if e.catch_all {
                    self.out.push_str(
                        "    /// A value this version of the spec does not list, kept as sent.\n    #[serde(untagged)]\n",
                    );
                    self.tuple_variant(INDENT, catch_all, STRING, 0);
                }
                self.out.push_str("}\n#[allow(dead_code)]\nimpl ");
                self.out.push_str(name);
                self.out.push_str(
                    " {\n    /// The value as sent on the wire.\n    pub fn as_str(&self) -> &str {\n        match self {\n",
                );
                let (mut body, mut pat) = (String::new(), String::new());
                for (wire, v) in e.values.iter().zip(variants) {
                    pat.clear();
                    pat.push_str("Self::");
                    pat.push_str(v);
                    body.clear();
                    lit(&mut body, wire);
                    if !self.flat_arm(12, &pat, &body) {
                        // The body goes into a block on the next line.
                        self.line(12, &format!("{pat} => {{"));
                        self.line(16, &body);
                        self.line(12, "}");
                    }
                }
                if e.catch_all {
                    let pat = format!("Self::{catch_all}(other)");
                    if !self.flat_arm(12, &pat, "other.as_str()") {
                        exact = false;
                        self.line(12, &format!("{pat} => other.as_str(),"));
                    }
                }
                self.out.push_str("        }\n    }\n}\n");
                self.impl_header("std::fmt::Display", name);
                self.out.push_str(
                    "\n    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\n        f.write_str(self.as_str())\n    }\n}\n",
                );
                exact &= self.parse_impl(name, e, variants);
                return exact;
            }
            Kind::Untagged(vs) => {
                self.head(def);
                self.derive(0, id, true);
                self.out.push_str("#[serde(untagged)]\npub enum ");
                self.out.push_str(name);
                self.out.push_str(" {\n");
                for (v, n) in vs.iter().zip(&em.names.variants[&id]) {
                    self.tuple_variant(INDENT, n, Node::Ty(&v.ty), 0);
                }
                self.out.push_str("}\n");
                return !vs.is_empty();
            }
            // The rare kinds: written plainly, laid out by prettyplease.
            Kind::Newtype(ty) => {
                self.head(def);
                self.derive(0, id, true);
                self.out.push_str("#[serde(transparent)]\npub struct ");
                self.out.push_str(name);
                self.out.push_str("(pub ");
                self.plain(Node::Ty(ty));
                self.out.push_str(");\n");
                return false;
            }
            Kind::Tuple(t) => {
                self.head(def);
                self.derive(0, id, t.fixed());
                self.out.push_str("pub struct ");
                self.out.push_str(name);
                self.out.push('(');
                for (i, ty) in t.items.iter().enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.out.push_str("pub ");
                    self.plain(Node::Ty(ty));
                }
                self.out.push_str(");\n");
                if !t.fixed() {
                    self.tuple_serde(name, t);
                }
                return false;
            }
            Kind::IntEnum(e) => {
                self.int_enum(id, def, e);
                return false;
            }
            Kind::Tagged(t) => return self.tagged(id, def, t),
        }
        true
    }

    /// `new`: the required properties as parameters (in declaration order), the others
    /// absent. Code that builds a value on it (`Name { x: Some(1), ..Name::new(a) }`) needs no
    /// change when the spec adds an optional property.
    fn constructor(&mut self, name: &str, s: &crate::ir::Struct, field_names: &[String]) {
        let mut params: Vec<(&str, Node<'_>)> = Vec::new();
        let mut inits: Vec<String> = Vec::new();
        for (f, n) in s.fields.iter().zip(field_names) {
            let absent = match f.presence {
                Presence::Required => {
                    params.push((n, Node::Ty(&f.ty)));
                    None
                }
                Presence::RequiredNullable => {
                    params.push((n, Node::Wrap("Option", &f.ty)));
                    None
                }
                Presence::Optional => Some("None"),
                Presence::OptionalNullable => Some("support::OptionalNullable::Absent"),
                Presence::Forbidden => Some("support::Forbidden"),
            };
            inits.push(match absent {
                Some(value) => [n, ": ", value].concat(),
                None => (*n).to_owned(),
            });
        }
        if s.additional.is_some() {
            let n = field_names
                .last()
                .map_or("additional_properties", String::as_str);
            inits.push(format!("{n}: Default::default()"));
        }
        self.out.push_str("#[allow(dead_code)]\nimpl ");
        self.out.push_str(name);
        self.out.push_str(
            " {\n    /// The required properties given, the others absent: a base for\n    /// `..Self::new(…)`.\n",
        );
        if s.fields.iter().any(|f| f.deprecated) {
            self.out.push_str("    #[allow(deprecated)]\n");
        }
        // The signature on one line when it fits, else a parameter per line.
        let mut flat = String::from("pub fn new(");
        for (i, (n, node)) in params.iter().enumerate() {
            if i > 0 {
                flat.push_str(", ");
            }
            flat.push_str(n);
            flat.push_str(": ");
            self.flat(&mut flat, *node, 0);
        }
        flat.push_str(") -> Self {");
        if flat.len() <= room(INDENT) {
            self.line(INDENT, &flat);
        } else {
            self.line(INDENT, "pub fn new(");
            for (i, (n, node)) in params.iter().enumerate() {
                let line_start = self.out.len();
                pad(&mut self.out, 2 * INDENT);
                self.out.push_str(n);
                self.out.push_str(": ");
                // The last parameter's comma is printed only because the list breaks.
                let counted = usize::from(i + 1 < params.len());
                self.typed_line_counting(line_start, 2 * INDENT, *node, 0, ",", counted);
            }
            self.line(INDENT, ") -> Self {");
        }
        // The literal on one line up to prettyplease's width for struct expressions.
        let joined =
            inits.iter().map(String::len).sum::<usize>() + 2 * inits.len().saturating_sub(1);
        if "Self {  }".len() + joined <= STRUCT_LITERAL_WIDTH {
            pad(&mut self.out, 2 * INDENT);
            self.out.push_str("Self { ");
            self.out.push_str(&inits.join(", "));
            self.out.push_str(" }\n");
        } else {
            self.line(2 * INDENT, "Self {");
            for init in &inits {
                pad(&mut self.out, 3 * INDENT);
                self.out.push_str(init);
                self.out.push_str(",\n");
            }
            self.line(2 * INDENT, "}");
        }
        self.out.push_str("    }\n}\n");
    }

    /// The reading and writing of a [`Kind::Tuple`] that serde's derive cannot do (positions
    /// an array may lack, items after them), written plainly for prettyplease. Writing refuses
    /// a value whose set positions have a gap: an array cannot skip one. The type is named by
    /// `self::` in the reader, as its visitor's name could hide it.
    fn tuple_serde(&mut self, name: &str, t: &crate::ir::Tuple) {
        use std::fmt::Write as _;
        let positions = t.positions();
        let optional = t.required..positions;
        let out = &mut self.out;
        // Writing: the required positions, the set optional ones up to the first unset, the rest.
        let mut len: Vec<String> = Vec::new();
        if t.required > 0 {
            len.push(t.required.to_string());
        }
        len.extend(
            optional
                .clone()
                .map(|i| format!("usize::from(self.{i}.is_some())")),
        );
        if t.rest {
            len.push(format!("self.{positions}.len()"));
        }
        let _ = write!(
            out,
            "impl serde::Serialize for {name} {{ fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{ use serde::ser::SerializeSeq as _; let mut seq = serializer.serialize_seq(Some({}))?;",
            len.join(" + ")
        );
        for i in 0..t.required {
            let _ = write!(out, " seq.serialize_element(&self.{i})?;");
        }
        let gap = |out: &mut String, what: &str| {
            let _ = write!(
                out,
                " if let Some(unset) = unset {{ return Err(serde::ser::Error::custom(format!(\"{name}: {what} is set but item {{unset}} is not (an array cannot skip a position)\"))); }}"
            );
        };
        // The first unset position, where something set may follow it.
        let tracked = optional.len() > 1 || (t.rest && !optional.is_empty());
        if tracked {
            out.push_str(" let mut unset: Option<usize> = None;");
        }
        for i in optional.clone() {
            if !tracked {
                let _ = write!(
                    out,
                    " if let Some(item) = &self.{i} {{ seq.serialize_element(item)?; }}"
                );
                continue;
            }
            let _ = write!(out, " match &self.{i} {{ Some(item) => {{");
            if i > t.required {
                gap(out, &format!("item {i}"));
            }
            let _ = write!(
                out,
                " seq.serialize_element(item)?; }} None => {{ unset.get_or_insert({i}); }} }}"
            );
        }
        if t.rest {
            let _ = write!(out, " if !self.{positions}.is_empty() {{");
            if tracked {
                gap(out, &format!("an item after item {}", positions - 1));
            }
            let _ = write!(
                out,
                " for item in &self.{positions} {{ seq.serialize_element(item)?; }} }}"
            );
        }
        out.push_str(" seq.end() } }\n");
        // Reading: each position while the array lasts, then the rest (or nothing more).
        let items = |n: usize| {
            if n == 1 {
                "1 item".to_owned()
            } else {
                format!("{n} items")
            }
        };
        let expecting = match (t.rest, t.required) {
            (true, 0) => "an array".to_owned(),
            (true, required) => format!("an array of at least {}", items(required)),
            (false, required) if required == positions => {
                format!("an array of {}", items(positions))
            }
            (false, required) => format!("an array of {required} to {positions} items"),
        };
        let _ = write!(
            out,
            "impl<'de> serde::Deserialize<'de> for {name} {{ fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{ struct Visitor; impl<'de> serde::de::Visitor<'de> for Visitor {{ type Value = self::{name}; fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {{ f.write_str({expecting:?}) }} fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {{"
        );
        for i in 0..t.required {
            let _ = write!(
                out,
                " let item{i} = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length({i}, &self))?;"
            );
        }
        // Whether the array may go on after position `i` (the last read).
        let more = |i: usize| {
            if i < t.required {
                "true".to_owned()
            } else {
                format!("item{i}.is_some()")
            }
        };
        for i in optional.clone() {
            if i == t.required {
                let _ = write!(out, " let item{i} = seq.next_element()?;");
            } else {
                let _ = write!(
                    out,
                    " let item{i} = if {} {{ seq.next_element()? }} else {{ None }};",
                    more(i - 1)
                );
            }
        }
        let last = more(positions - 1);
        if t.rest {
            let _ = write!(
                out,
                " let mut rest = Vec::new(); if {last} {{ while let Some(item) = seq.next_element()? {{ rest.push(item); }} }}"
            );
        } else {
            let _ = write!(
                out,
                " if {last} && seq.next_element::<serde::de::IgnoredAny>()?.is_some() {{ return Err(serde::de::Error::invalid_length({}, &self)); }}",
                positions + 1
            );
        }
        let _ = write!(out, " Ok(self::{name}(");
        for i in 0..positions {
            let _ = write!(out, "item{i}, ");
        }
        if t.rest {
            out.push_str("rest");
        }
        out.push_str(")) } } deserializer.deserialize_seq(Visitor) } }\n");
    }

    /// `impl Trait for Name {`, without its newline: on one line when it fits the margin,
    /// else broken before `for` as prettyplease breaks it.
    fn impl_header(&mut self, trait_path: &str, name: &str) {
        let flat = "impl ".len() + trait_path.len() + " for ".len() + name.len() + " {".len();
        self.out.push_str("impl ");
        self.out.push_str(trait_path);
        self.out
            .push_str(if flat <= MARGIN { " for " } else { "\nfor " });
        self.out.push_str(name);
        self.out.push_str(" {");
    }

    /// A string enum's `FromStr`: its wire values (and with a catch-all variant any other
    /// string) parse as `Deserialize` reads them. `false` when an arm is not laid out as
    /// prettyplease would (written on one line, for prettyplease to lay out).
    fn parse_impl(&mut self, name: &str, e: &crate::ir::StringEnum, variants: &[String]) -> bool {
        let mut exact = true;
        self.impl_header("std::str::FromStr", name);
        self.out.push_str(
            "\n    type Err = support::UnknownValue;\n    fn from_str(value: &str) -> Result<Self, Self::Err> {\n        match value {\n",
        );
        let mut pat = String::new();
        for (wire, v) in e.values.iter().zip(variants) {
            pat.clear();
            lit(&mut pat, wire);
            let body = format!("Result::Ok(Self::{v})");
            if !self.flat_arm(12, &pat, &body) {
                // The body goes into a block on the next line, and the call's argument on a
                // line of its own when even that does not fit.
                self.line(12, &format!("{pat} => {{"));
                if body.len() <= room(16) {
                    self.line(16, &body);
                } else {
                    self.line(16, "Result::Ok(");
                    self.line(20, &format!("Self::{v},"));
                    self.line(16, ")");
                }
                self.line(12, "}");
            }
        }
        let (pat, body) = if e.catch_all {
            let catch_all = variants.last().map_or("Unknown", String::as_str);
            (
                "other",
                format!("Result::Ok(Self::{catch_all}(other.to_owned()))"),
            )
        } else {
            // The type's name from the type, so the arm has one length and always fits.
            (
                "other",
                "Result::Err(support::unknown::<Self>(other))".to_owned(),
            )
        };
        if !self.flat_arm(12, pat, &body) {
            exact = false;
            self.line(12, &format!("{pat} => {body},"));
        }
        self.out.push_str("        }\n    }\n}\n");
        exact
    }

    /// A type on the current line, as is.
    fn plain(&mut self, node: Node<'_>) {
        let mut out = std::mem::take(&mut self.out);
        self.flat(&mut out, node, 0);
        self.out = out;
    }

    /// An integer enum, converted from and to `i64` (the values as written in the spec).
    fn int_enum(&mut self, id: TypeId, def: &TypeDef, e: &crate::ir::IntEnum) {
        let name = self.em.names.types[id.0].as_str();
        let variants = &self.em.names.variants[&id];
        self.head(def);
        self.derive(0, id, true);
        let o = &mut self.out;
        o.push_str("#[serde(try_from = \"i64\", into = \"i64\")]\npub enum ");
        o.push_str(name);
        o.push_str(" {\n");
        for v in variants {
            o.push_str(v);
            o.push_str(",\n");
        }
        o.push_str("}\n");
        let _ = write!(
            o,
            "impl std::convert::From<{name}> for i64 {{\nfn from(value: {name}) -> i64 {{\nmatch value {{\n"
        );
        for (value, v) in e.values.iter().zip(variants) {
            let _ = writeln!(o, "{name}::{v} => {value},");
        }
        o.push_str("}\n}\n}\n");
        let _ = write!(
            o,
            "impl std::convert::TryFrom<i64> for {name} {{\ntype Error = String;\nfn try_from(value: i64) -> Result<Self, Self::Error> {{\nmatch value {{\n"
        );
        for (value, v) in e.values.iter().zip(variants) {
            let _ = writeln!(o, "{value} => Result::Ok(Self::{v}),");
        }
        let listing = e
            .values
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        o.push_str("other => Result::Err(format!(");
        lit(o, &format!("{{other}} is not one of {listing}"));
        o.push_str(")),\n}\n}\n}\n");
    }

    /// A discriminated union: a variant per mapped tag and one for the tags the spec does not
    /// map, with its own `Serialize` (the tag added when the member lacks it) and
    /// `Deserialize` (chosen by the tag).
    /// A discriminated union and its serde impls. `true` when laid out exactly as prettyplease
    /// would (names and tags that fit the rules below); otherwise the text is written plainly
    /// and `false` returned, for prettyplease to lay it out.
    fn tagged(&mut self, id: TypeId, def: &TypeDef, t: &crate::ir::Tagged) -> bool {
        let start = self.out.len();
        if self.tagged_exact(id, def, t) {
            return true;
        }
        self.out.truncate(start);
        self.tagged_plain(id, def, t);
        false
    }

    /// [`Writer::tagged`] in prettyplease's layout, or `false` (leaving partial text) when a
    /// name, tag or the property is beyond the cases worked out here.
    fn tagged_exact(&mut self, id: TypeId, def: &TypeDef, t: &crate::ir::Tagged) -> bool {
        let name = self.em.names.types[id.0].as_str();
        let names = &self.em.names.variants[&id];
        let unknown = names.last().map_or("Unknown", String::as_str);
        // Doc lines from tags and the property, as prettyplease prints doc attributes: plain
        // printable text only.
        let plain = |s: &str| s.bytes().all(|b| matches!(b, b' '..=b'~'));
        if !plain(&t.property) || t.variants.iter().any(|(tag, _)| !plain(tag)) {
            return false;
        }
        let mut property = String::new();
        lit(&mut property, &t.property);
        // The fixed statements of `deserialize`, in the one layout worked out: the
        // discriminator's error message broken at `custom(`, its `concat!` on one line.
        let concat = format!("concat!(\"discriminator `\", {property}, \"` is not a string\"),");
        let custom = format!("D::Error::custom({concat}");
        let missing = format!("return Result::Err(D::Error::missing_field({property}))");
        let get = format!("let tag = match value.get({property}) {{");
        let serialize_header = format!("impl serde::Serialize for {name} {{");
        let deserialize_header = format!("impl<'de> serde::Deserialize<'de> for {name} {{");
        if 20 + custom.len() <= MARGIN
            || 24 + concat.len() > MARGIN
            || "Option::None".len() + 4 + missing.len() > room(12)
            || 8 + get.len() > MARGIN
            || serialize_header.len() > MARGIN
            || deserialize_header.len() > MARGIN
        {
            return false;
        }
        self.head(def);
        self.derive(0, id, false);
        self.out.push_str("pub enum ");
        self.out.push_str(name);
        self.out.push_str(" {\n");
        for ((tag, v), n) in t.variants.iter().zip(names) {
            self.doc(INDENT, Some(&format!("`{}` = `{tag}`.", t.property)));
            self.tuple_variant(INDENT, n, Node::Ty(&v.ty), 0);
        }
        self.doc(
            INDENT,
            Some(&format!(
                "A `{}` value the spec does not map, kept as received.",
                t.property
            )),
        );
        self.tuple_variant(INDENT, unknown, Node::Leaf("serde_json::Value"), 0);
        self.out.push_str("}\n");
        self.out.push_str(&serialize_header);
        self.out.push_str(
            "\n    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {\n        match self {\n",
        );
        let mut tag_lit = String::new();
        for ((tag, _), n) in t.variants.iter().zip(names) {
            tag_lit.clear();
            lit(&mut tag_lit, tag);
            let pat = format!("Self::{n}(value)");
            let call =
                format!("support::serialize_tagged(value, {property}, {tag_lit}, serializer)");
            if self.flat_arm(12, &pat, &call) {
                continue;
            }
            // The brace is not counted: prettyplease adds it only when the line breaks.
            if 12 + pat.len() + " => ".len() > MARGIN {
                // The pattern broken inside its parentheses, then the arm as one of `)`.
                self.line(12, &format!("Self::{n}("));
                self.line(16, "value,");
                if self.flat_arm(12, ")", &call) {
                    continue;
                }
                self.line(12, ") => {");
            } else {
                self.line(12, &format!("{pat} => {{"));
            }
            if call.len() <= room(16) {
                self.line(16, &call);
            } else {
                // Arguments one per line, with a trailing comma (one too wide for its line
                // stays on it).
                self.line(16, "support::serialize_tagged(");
                for arg in ["value", property.as_str(), tag_lit.as_str(), "serializer"] {
                    self.line(20, &format!("{arg},"));
                }
                self.line(16, ")");
            }
            self.line(12, "}");
        }
        let pat = format!("Self::{unknown}(value)");
        if !self.flat_arm(12, &pat, "serde::Serialize::serialize(value, serializer)") {
            return false;
        }
        self.out.push_str("        }\n    }\n}\n");
        self.out.push_str(&deserialize_header);
        self.out.push_str(
            "\n    fn deserialize<D: serde::Deserializer<'de>>(\n        deserializer: D,\n    ) -> Result<Self, D::Error> {\n        use serde::de::Error as _;\n        let value = <serde_json::Value as serde::Deserialize>::deserialize(\n            deserializer,\n        )?;\n",
        );
        self.line(8, &get);
        self.line(
            12,
            "Option::Some(serde_json::Value::String(tag)) => tag.clone(),",
        );
        self.line(12, "Option::Some(_) => {");
        self.line(16, "return Result::Err(");
        self.line(20, "D::Error::custom(");
        self.line(24, &concat);
        self.line(20, "),");
        self.line(16, ");");
        self.line(12, "}");
        self.line(12, &format!("Option::None => {missing},"));
        self.out
            .push_str("        };\n        match tag.as_str() {\n");
        for ((tag, _), n) in t.variants.iter().zip(names) {
            tag_lit.clear();
            lit(&mut tag_lit, tag);
            let map = format!(".map(Self::{n})");
            let body = format!("serde_json::from_value(value){map}.map_err(D::Error::custom)");
            if self.flat_arm(12, &tag_lit, &body) {
                continue;
            }
            if 12 + tag_lit.len() + " => {".len() > MARGIN {
                return false;
            }
            self.line(12, &format!("{tag_lit} => {{"));
            if body.len() <= room(16) {
                self.line(16, &body);
            } else {
                // The chain broken before each method, and `map`'s argument on a line of
                // its own when it does not fit beside it.
                self.line(16, "serde_json::from_value(value)");
                if 20 + map.len() > MARGIN {
                    self.line(20, ".map(");
                    self.line(24, &format!("Self::{n},"));
                    self.line(20, ")");
                } else {
                    self.line(20, &map);
                }
                self.line(20, ".map_err(D::Error::custom)");
            }
            self.line(12, "}");
        }
        let pat = "_";
        let body = format!("Result::Ok(Self::{unknown}(value))");
        if !self.flat_arm(12, pat, &body) {
            return false;
        }
        self.out.push_str("        }\n    }\n}\n");
        true
    }

    /// [`Writer::tagged`] written plainly, for prettyplease.
    fn tagged_plain(&mut self, id: TypeId, def: &TypeDef, t: &crate::ir::Tagged) {
        let name = self.em.names.types[id.0].as_str();
        let names = &self.em.names.variants[&id];
        let unknown = names.last().map_or("Unknown", String::as_str);
        let mut property = String::new();
        lit(&mut property, &t.property);
        self.head(def);
        self.derive(0, id, false);
        self.out.push_str("pub enum ");
        self.out.push_str(name);
        self.out.push_str(" {\n");
        for ((tag, v), n) in t.variants.iter().zip(names) {
            self.out.push_str("#[doc = ");
            lit(&mut self.out, &format!(" `{}` = `{tag}`.", t.property));
            self.out.push_str("]\n");
            self.out.push_str(n);
            self.out.push('(');
            self.plain(Node::Ty(&v.ty));
            self.out.push_str("),\n");
        }
        self.out.push_str("#[doc = ");
        lit(
            &mut self.out,
            &format!(
                " A `{}` value the spec does not map, kept as received.",
                t.property
            ),
        );
        let o = &mut self.out;
        let _ = write!(
            o,
            "]\n{unknown}(serde_json::Value),\n}}\nimpl serde::Serialize for {name} {{\nfn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {{\nmatch self {{\n"
        );
        for ((tag, _), n) in t.variants.iter().zip(names) {
            let _ = write!(
                o,
                "Self::{n}(value) => support::serialize_tagged(value, {property}, "
            );
            lit(o, tag);
            o.push_str(", serializer),\n");
        }
        let _ = write!(
            o,
            "Self::{unknown}(value) => serde::Serialize::serialize(value, serializer),\n}}\n}}\n}}\n\
             impl<'de> serde::Deserialize<'de> for {name} {{\n\
             fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {{\n\
             use serde::de::Error as _;\n\
             let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;\n\
             let tag = match value.get({property}) {{\n\
             Option::Some(serde_json::Value::String(tag)) => tag.clone(),\n\
             Option::Some(_) => return Result::Err(D::Error::custom(concat!(\"discriminator `\", {property}, \"` is not a string\"))),\n\
             Option::None => return Result::Err(D::Error::missing_field({property})),\n\
             }};\n\
             match tag.as_str() {{\n"
        );
        for ((tag, _), n) in t.variants.iter().zip(names) {
            lit(o, tag);
            let _ = writeln!(
                o,
                " => serde_json::from_value(value).map(Self::{n}).map_err(D::Error::custom),"
            );
        }
        let _ = write!(o, "_ => Result::Ok(Self::{unknown}(value)),\n}}\n}}\n}}\n");
    }

    /// Docs and `#[deprecated]` of a type.
    /// A type's docs and attributes before its derive. Every item a crate may leave unused
    /// allows `dead_code`: the module is often included privately (`mod api {
    /// include!(…) }`), where a spec's unused types would each warn, and an included file
    /// cannot carry the crate's inner `#![allow]`.
    fn head(&mut self, def: &TypeDef) {
        self.doc(0, def.doc.as_deref());
        if def.deprecated {
            self.out.push_str("#[deprecated]\n");
        }
        self.out.push_str("#[allow(dead_code)]\n");
    }

    fn field(&mut self, f: &Field, name: &str) {
        self.doc(INDENT, f.doc.as_deref());
        if f.deprecated {
            self.line(INDENT, "#[deprecated]");
        }
        if name.trim_start_matches("r#") != f.wire {
            self.rename(INDENT, &f.wire);
        }
        let node = match f.presence {
            Presence::Required => Node::Ty(&f.ty),
            Presence::RequiredNullable => {
                self.attr_list(
                    INDENT,
                    "serde",
                    &["deserialize_with = \"support::nullable\""],
                );
                Node::Wrap("Option", &f.ty)
            }
            Presence::Optional => {
                self.attr_list(
                    INDENT,
                    "serde",
                    &[
                        "default",
                        "skip_serializing_if = \"Option::is_none\"",
                        "deserialize_with = \"support::present\"",
                    ],
                );
                Node::Wrap("Option", &f.ty)
            }
            Presence::Forbidden => {
                self.attr_list(
                    INDENT,
                    "serde",
                    &[
                        "default",
                        "skip_serializing",
                        "deserialize_with = \"support::forbidden\"",
                    ],
                );
                Node::Leaf("support::Forbidden")
            }
            Presence::OptionalNullable => {
                self.attr_list(
                    INDENT,
                    "serde",
                    &[
                        "default",
                        "skip_serializing_if = \"support::OptionalNullable::is_absent\"",
                    ],
                );
                Node::Wrap("support::OptionalNullable", &f.ty)
            }
        };
        let line_start = self.out.len();
        self.out.push_str("    pub ");
        self.out.push_str(name);
        self.out.push_str(": ");
        self.typed_line(line_start, INDENT, node, 0, ",");
    }

    // ----- operations -------------------------------------------------------------------

    fn operations(&mut self) -> Result<(), String> {
        let em = self.em;
        self.out.push_str(
            "/// One module per operation: its method and path, parameters, body and responses.\n#[allow(dead_code)]\npub mod operations {\n",
        );
        for (i, (op, m)) in em
            .ir
            .operations
            .iter()
            .zip(&em.names.operations)
            .enumerate()
        {
            self.operation_gate(i, INDENT)?;
            self.operation(op, m)?;
        }
        // A repeated `operationId` dispatches to its first operation.
        let mut seen = std::collections::BTreeSet::new();
        let dispatch: Vec<(usize, &Operation, &String)> = em
            .ir
            .operations
            .iter()
            .zip(&em.names.operations)
            .enumerate()
            .filter(|(_, (op, _))| seen.insert(op.id.as_str()))
            .map(|(i, (op, m))| (i, op, m))
            .collect();
        self.out
            .push_str("    /// The `operationId`s, in spec order.\n");
        self.str_array(
            INDENT,
            "pub const IDS: &[&str] = ",
            dispatch.iter().map(|(_, op, _)| op.id.as_str()),
        );
        self.out.push_str(RESPONSE_HEAD);
        let mut pat = String::new();
        for &(i, op, m) in &dispatch {
            self.operation_gate(i, 12)?;
            pat.clear();
            lit(&mut pat, &op.id);
            let body = format!(
                "Some({m}::Response::decode(status, content_type, body).map(|r| r.body_json()))"
            );
            if !self.flat_arm(12, &pat, &body) {
                self.response_arm(&pat, m);
            }
        }
        self.out.push_str(DISPATCH_TAIL);
        self.out.push_str(REQUEST_HEAD);
        for &(i, op, m) in dispatch
            .iter()
            .filter(|(_, op, _)| op.body.is_some() && op.form.is_none())
        {
            self.operation_gate(i, 12)?;
            pat.clear();
            lit(&mut pat, &op.id);
            let body = format!("Some(super::support::round_trip::<{m}::Body>(json))");
            if !self.flat_arm(12, &pat, &body) {
                self.round_trip_arm(&pat, &format!("{m}::Body"), None);
            }
        }
        self.out.push_str(DISPATCH_TAIL);
        self.out.push_str("}\n");
        Ok(())
    }

    fn operation(&mut self, op: &Operation, module: &str) -> Result<(), String> {
        let heading = match &op.summary {
            Some(s) => format!("`{} {}`: {}", op.method, op.path, s.trim()),
            None => format!("`{} {}`", op.method, op.path),
        };
        self.doc(INDENT, Some(&heading));
        if op.deprecated {
            self.line(INDENT, "#[deprecated]");
        }
        let o = &mut self.out;
        o.push_str("    pub mod ");
        o.push_str(module);
        o.push_str(" {\n        /// HTTP method.\n        pub const METHOD: &str = ");
        lit(o, &op.method);
        o.push_str(";\n        /// Path template, relative to the server URL.\n        pub const PATH: &str = ");
        lit(o, &op.path);
        o.push_str(
            ";\n        /// `operationId` in the spec.\n        pub const OPERATION_ID: &str = ",
        );
        lit(o, &op.id);
        o.push_str(";\n");
        if let Some(p) = op.params {
            o.push_str(
                "        /// The operation's parameters.\n        pub type Params = super::super::",
            );
            o.push_str(&self.em.names.types[p.0]);
            o.push_str(";\n");
        }
        if let Some(ty) = &op.body {
            self.out.push_str(if op.form.is_some() {
                "        /// The request body, sent form-encoded.\n"
            } else {
                "        /// The JSON request body.\n"
            });
            let line_start = self.out.len();
            self.out.push_str("        pub type Body = ");
            self.typed_line(line_start, 8, Node::Ty(ty), 2, ";");
            self.out.push_str("        /// Whether the spec requires a body.\n        pub const BODY_REQUIRED: bool = ");
            self.out
                .push_str(if op.body_required { "true" } else { "false" });
            self.out.push_str(";\n");
        }
        self.out.push_str(
            "        /// The documented responses, chosen by status then content type.\n        #[derive(Debug, Clone, PartialEq)]\n        pub enum Response {\n",
        );
        let resps = responses_of(op);
        for resp in &resps {
            self.doc(12, resp.response.description.as_deref());
            let v = resp.name.as_str();
            let fixed = resp.fixed();
            match (&resp.response.body, fixed) {
                (ResponseBody::Json(ty), true) => self.tuple_variant(12, v, Node::Ty(ty), 2),
                (ResponseBody::Json(ty), false) => self.struct_variant(
                    12,
                    v,
                    &[("status", Node::Leaf("u16")), ("body", Node::Ty(ty))],
                    2,
                ),
                (ResponseBody::Raw, true) => self.tuple_variant(12, v, RAW_BODY, 2),
                (ResponseBody::Raw, false) => self.struct_variant(
                    12,
                    v,
                    &[("status", Node::Leaf("u16")), ("body", RAW_BODY)],
                    2,
                ),
                (ResponseBody::Empty, true) => self.line(12, &format!("{v},")),
                (ResponseBody::Empty, false) => {
                    self.struct_variant(12, v, &[("status", Node::Leaf("u16"))], 2);
                }
            }
        }
        self.out.push_str(DECODE_HEAD);
        let pieces = resps
            .iter()
            .filter(|r| matches!(r.matcher, Matcher::Exact(_)))
            .chain(
                resps
                    .iter()
                    .filter(|r| matches!(r.matcher, Matcher::Range(..))),
            );
        for resp in pieces {
            self.decode_piece(resp)?;
        }
        match resps.iter().find(|r| r.matcher == Matcher::Default) {
            Some(resp) => self.decode_piece(resp)?,
            None => {
                let text = self.memo_fn_body(Key::RawFallback, || {
                    "Result::Ok(Self::Other { status, body: body.into() })".to_owned()
                })?;
                self.out.push_str(&text);
            }
        }
        self.out.push_str(STATUS_HEAD);
        for resp in &resps {
            let v = &resp.name;
            let (pat, body) = match (resp.matcher, &resp.response.body) {
                (Matcher::Exact(code), ResponseBody::Empty) => {
                    (format!("Self::{v}"), format!("{code}u16"))
                }
                (Matcher::Exact(code), _) => (format!("Self::{v}(..)"), format!("{code}u16")),
                _ => (format!("Self::{v} {{ status, .. }}"), "*status".to_owned()),
            };
            if !self.flat_arm(20, &pat, &body) {
                let text = self.render_arm(&format!("{pat} => {body},"))?;
                self.out.push_str(&text);
            }
        }
        self.out.push_str(BODY_JSON_HEAD);
        for resp in resps
            .iter()
            .filter(|r| matches!(r.response.body, ResponseBody::Json(_)))
        {
            let v = &resp.name;
            let pat = if resp.fixed() {
                format!("Self::{v}(body)")
            } else {
                format!("Self::{v} {{ body, .. }}")
            };
            let body = "serde_json::to_value(body).ok()";
            if !self.flat_arm(20, &pat, body) {
                let text = self.render_arm(&format!("{pat} => {body},"))?;
                self.out.push_str(&text);
            }
        }
        self.out.push_str(OPERATION_TAIL);
        if self.em.with_client() {
            self.client_method(op, module)?;
        }
        if self.em.server {
            self.server_pieces(op)?;
        }
        self.out.push_str("    }\n");
        Ok(())
    }

    // ----- client -----------------------------------------------------------------------

    /// An operation's `CALL` and its client method, written plainly and laid out by
    /// `prettyplease` inside the operation's module.
    fn client_method(&mut self, op: &Operation, module: &str) -> Result<(), String> {
        let mut t = String::with_capacity(1024);
        t.push_str("/// How the operation is sent, but for the values.\npub const CALL: super::super::client::Call = super::super::client::Call { method: METHOD, path: PATH, params: &[");
        for w in &op.wires {
            t.push_str("super::super::client::Param { name: ");
            lit(&mut t, &w.name);
            t.push_str(", key: ");
            lit(&mut t, &w.key);
            t.push_str(", location: super::super::client::In::");
            t.push_str(match w.location {
                Location::Path => "Path",
                Location::Query => "Query",
                Location::Header => "Header",
                Location::Cookie => "Cookie",
            });
            t.push_str(", style: ");
            lit(&mut t, &w.style);
            let _ = write!(
                t,
                ", explode: {}, allow_reserved: {}, required: {} }}, ",
                w.explode, w.allow_reserved, w.required
            );
        }
        t.push_str("], body_media: ");
        match &op.body_media {
            Some(media) => {
                t.push_str("Some(");
                lit(&mut t, media);
                t.push(')');
            }
            None => t.push_str("None"),
        }
        t.push_str(", security: &[");
        for alternative in &op.security {
            t.push_str("&[");
            for s in alternative {
                let _ = write!(t, "{s}, ");
            }
            t.push_str("], ");
        }
        t.push_str("] };\n");
        if let Some(encodings) = &op.form {
            t.push_str("/// How each property of the form-encoded body is written (`encoding`): its\n/// `style` and `explode`; properties not listed are written `form`, exploded.\nconst FORM: &[(&str, &str, bool)] = &[");
            for (name, style, explode) in encodings {
                t.push('(');
                lit(&mut t, name);
                t.push_str(", ");
                lit(&mut t, style);
                let _ = write!(t, ", {explode}), ");
            }
            t.push_str("];\n");
        }
        t.push_str("impl<T: super::super::client::Transport> super::super::client::Client<T> {\n");
        let heading = match &op.summary {
            Some(s) => format!("`{} {}`: {}", op.method, op.path, s.trim()),
            None => format!("`{} {}`", op.method, op.path),
        };
        for_doc_lines(&heading, |line| {
            t.push_str("///");
            if !line.is_empty() {
                t.push(' ');
                t.push_str(line);
            }
            t.push('\n');
        });
        if op.deprecated {
            t.push_str("#[deprecated]\n");
        }
        t.push_str("pub async fn ");
        t.push_str(module);
        t.push_str("(&self");
        if op.params.is_some() {
            t.push_str(", params: &Params");
        }
        // A JSON body is typed; another media type is sent as bytes.
        let body = match (&op.body, &op.body_media) {
            (Some(_), _) if op.form.is_some() => {
                t.push_str(if op.body_required {
                    ", body: &Body"
                } else {
                    ", body: Option<&Body>"
                });
                if op.body_required {
                    "super::super::client::form(body, FORM)?"
                } else {
                    "body.map_or(Ok(None), |body| super::super::client::form(body, FORM))?"
                }
            }
            (Some(_), _) if op.body_required => {
                t.push_str(", body: &Body");
                "super::super::client::json(body)?"
            }
            (Some(_), _) => {
                t.push_str(", body: Option<&Body>");
                "body.map_or(Ok(None), super::super::client::json)?"
            }
            (None, Some(_)) if op.body_required => {
                t.push_str(", body: Vec<u8>");
                "Some(body)"
            }
            (None, Some(_)) => {
                t.push_str(", body: Option<Vec<u8>>");
                "body"
            }
            (None, None) => "None",
        };
        t.push_str(") -> Result<Response, super::super::client::Error> {\n");
        if op.params.is_some() {
            t.push_str("let params = super::super::client::params(params)?;\n");
        } else {
            t.push_str("let params = serde_json::Value::Null;\n");
        }
        let _ = write!(
            t,
            "self.send(&CALL, &params, {body}, Response::decode).await\n}}\n"
        );
        if let Some((item, [page, items, next])) = self.pagination(op) {
            let mut stream = format!("{}_stream", module.trim_start_matches("r#"));
            if self.em.names.operations.contains(&stream) {
                stream.push_str("_pages");
            }
            let mut item_ty = String::new();
            self.flat(&mut item_ty, Node::Ty(item), 2);
            t.push_str("/// Every item of every page from the one `params` names (the first when none),\n/// requesting each next page with the same parameters: see [`super::super::client::Pages`].\n");
            if op.deprecated {
                t.push_str("#[deprecated]\n");
            }
            let _ = write!(
                t,
                "pub fn {stream}(&self, params: &Params) -> Result<super::super::client::Pages<'_, T, {item_ty}>, super::super::client::Error> {{\nsuper::super::client::Pages::new(self, &CALL, params, ("
            );
            for (i, name) in [page, items, next].into_iter().enumerate() {
                if i > 0 {
                    t.push_str(", ");
                }
                lit(&mut t, name);
            }
            t.push_str("))\n}\n");
        }
        t.push_str("}\n");
        let text = self.pretty(&format!("mod a {{ mod b {{ {t} }} }}"))?;
        self.out.push_str(&inner_lines(&text, 2));
        Ok(())
    }

    /// A paginated list operation's item type and names (page parameter's key, items
    /// property, next-link property): a GET with that page parameter in its query whose 200
    /// response is an object with that array and that next link. The names are the
    /// operation's `x-pagination`, else Laravel's.
    fn pagination<'o>(&'o self, op: &'o Operation) -> Option<(&'o Ty, [&'o str; 3])> {
        let [page, items, next] = match &op.pagination {
            Some([p, i, n]) => [p.as_str(), i.as_str(), n.as_str()],
            None => ["page", "data", "next_page_url"],
        };
        if op.method != "GET" || op.params.is_none() {
            return None;
        }
        let wire = op
            .wires
            .iter()
            .find(|w| w.location == Location::Query && w.name == page)?;
        let ok = op.responses.iter().find(|r| r.status == "200")?;
        let ResponseBody::Json(Ty::Named(id)) = &ok.body else {
            return None;
        };
        let Kind::Struct(s) = &self.em.ir.types.get(id.0)?.kind else {
            return None;
        };
        s.fields.iter().find(|f| f.wire == next)?;
        let field = s
            .fields
            .iter()
            .find(|f| f.wire == items && f.presence == Presence::Required)?;
        let Ty::Vec(item) = &field.ty else {
            return None;
        };
        Some((item, [wire.key.as_str(), items, next]))
    }

    /// The `client` module: its fixed part, then the spec's servers, security schemes,
    /// credentials and bucket, and the hyper transport if asked for.
    fn client_module(&mut self) -> Result<(), String> {
        let em = self.em;
        self.out.push_str(CLIENT);
        let mut t = String::with_capacity(2048);
        t.push_str("/// The spec's `servers`, their variables at their defaults.\npub const SERVERS: &[&str] = &[");
        for url in &em.ir.servers {
            lit(&mut t, url);
            t.push_str(", ");
        }
        t.push_str("];\n/// How each security scheme's credential is sent, in the order of [`Credentials`]' fields.\npub const SCHEMES: &[Scheme] = &[");
        for scheme in &em.ir.schemes {
            match &scheme.kind {
                SchemeKind::Bearer => t.push_str("Scheme::Bearer, "),
                SchemeKind::Basic => t.push_str("Scheme::Basic, "),
                SchemeKind::ApiKey { location, name } => {
                    t.push_str("Scheme::ApiKey(In::");
                    t.push_str(match location {
                        Location::Path | Location::Header => "Header",
                        Location::Query => "Query",
                        Location::Cookie => "Cookie",
                    });
                    t.push_str(", ");
                    lit(&mut t, name);
                    t.push_str("), ");
                }
            }
        }
        t.push_str("];\n/// The leaky bucket the spec declares (`x-rate-limit`): the header reporting it, and\n/// the calls leaking out per second.\npub const BUCKET: Option<(&str, f64)> = ");
        match &em.ir.bucket {
            Some((header, leak)) => {
                t.push_str("Some((");
                lit(&mut t, header);
                let _ = write!(t, ", {leak:?}))");
            }
            None => t.push_str("None"),
        }
        t.push_str(";\n/// Credentials for the spec's security schemes: set those you have. A request carries\n/// the first of its operation's alternatives whose credentials are all set.\n#[derive(Clone, Default, PartialEq, Eq)]\npub struct Credentials {\n");
        for (scheme, field) in em.ir.schemes.iter().zip(&em.names.schemes) {
            let what = match &scheme.kind {
                SchemeKind::Bearer => "a bearer token".to_owned(),
                SchemeKind::Basic => "a username and a password".to_owned(),
                SchemeKind::ApiKey { location, name } => format!(
                    "the value of the {} `{name}`",
                    match location {
                        Location::Path | Location::Header => "header",
                        Location::Query => "query parameter",
                        Location::Cookie => "cookie",
                    }
                ),
            };
            let mut doc = format!("`{}`: {what}.", scheme.name);
            if let Some(d) = scheme
                .description
                .as_deref()
                .map(str::trim)
                .filter(|d| !d.is_empty())
            {
                doc.push_str("\n\n");
                doc.push_str(d);
            }
            for_doc_lines(&doc, |line| {
                t.push_str("///");
                if !line.is_empty() {
                    t.push(' ');
                    t.push_str(line);
                }
                t.push('\n');
            });
            let ty = match scheme.kind {
                SchemeKind::Basic => "Option<(String, String)>",
                _ => "Option<String>",
            };
            let _ = writeln!(t, "pub {field}: {ty},");
        }
        t.push_str("}\nimpl std::fmt::Debug for Credentials {\nfn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {\nf.debug_struct(\"Credentials\")");
        for (scheme, field) in em.ir.schemes.iter().zip(&em.names.schemes) {
            t.push_str(".field(");
            lit(&mut t, field.trim_start_matches("r#"));
            let _ = write!(t, ", &self.{field}.as_ref().map(|_| \"<set>\"))");
            let _ = scheme;
        }
        t.push_str(".finish()\n}\n}\nimpl Credentials {\n/// The credential of scheme `scheme` (an index into [`SCHEMES`]), if set.\nfn get(&self, scheme: usize) -> Option<Secret<'_>> {\nmatch scheme {\n");
        for (i, (scheme, field)) in em.ir.schemes.iter().zip(&em.names.schemes).enumerate() {
            if scheme.kind == SchemeKind::Basic {
                let _ = writeln!(
                    t,
                    "{i} => self.{field}.as_ref().map(|(user, password)| Secret::Basic(user, password)),"
                );
            } else {
                let _ = writeln!(t, "{i} => self.{field}.as_deref().map(Secret::Token),");
            }
        }
        t.push_str("_ => None,\n}\n}\n}\n");
        let text = self.pretty(&format!("mod a {{ {t} }}"))?;
        self.out.push_str(&inner_lines(&text, 1));
        if let crate::ClientCode::Hyper { feature } = em.client {
            self.hyper_gate(feature.as_deref());
            self.out.push_str(HYPER_TRANSPORT);
        }
        self.out.push_str("}\n");
        Ok(())
    }

    // ----- server -----------------------------------------------------------------------

    /// How the router reads a value typed `ty` from text (`server::Shape`): an object with
    /// each property's shape, down to [`SHAPE_DEPTH`] levels (below that its properties read
    /// as strings, arrays as JSON), so a Stripe-sized form body stays a few lines.
    fn shape(&self, ty: &Ty, depth: usize) -> String {
        self.shape_through(ty, depth, 0)
    }

    /// [`Writer::shape`], `hops` aliases and newtypes followed since the depth last grew: a
    /// chain of them that comes back on itself (`A: anyOf [B]`, `B: anyOf [A]`) ends as any
    /// JSON after [`MAX_ALIAS_HOPS`] rather than recursing for ever.
    fn shape_through(&self, ty: &Ty, depth: usize, hops: usize) -> String {
        let types = &self.em.ir.types;
        let object = |properties: &str, additional: &str| {
            format!("Shape::Object {{ properties: &[{properties}], additional: &{additional} }}")
        };
        let deeper = depth < SHAPE_DEPTH;
        match ty {
            Ty::Option(t) | Ty::Box(t) => self.shape_through(t, depth, hops),
            Ty::String => "Shape::String".to_owned(),
            Ty::Bool => "Shape::Boolean".to_owned(),
            Ty::I32 | Ty::I64 | Ty::U32 | Ty::U64 => "Shape::Integer".to_owned(),
            Ty::F32 | Ty::F64 => "Shape::Number".to_owned(),
            Ty::Json => "Shape::Json".to_owned(),
            Ty::Map(value) if deeper => object("", &self.shape(value, depth + 1)),
            Ty::JsonObject | Ty::Map(_) => object("", "Shape::String"),
            Ty::Vec(item) if deeper => format!("Shape::Array(&{})", self.shape(item, depth + 1)),
            Ty::Vec(_) => "Shape::Json".to_owned(),
            Ty::Named(id) => match types.get(id.0).map(|t| &t.kind) {
                Some(Kind::Enum(_)) => "Shape::String".to_owned(),
                Some(Kind::IntEnum(_)) => "Shape::Integer".to_owned(),
                Some(Kind::Struct(s)) if deeper => {
                    let mut properties = String::new();
                    for f in &s.fields {
                        properties.push('(');
                        lit(&mut properties, &f.wire);
                        let _ = write!(properties, ", {}), ", self.shape(&f.ty, depth + 1));
                    }
                    let additional = match &s.additional {
                        Some(t) => self.shape(t, depth + 1),
                        None => "Shape::String".to_owned(),
                    };
                    object(&properties, &additional)
                }
                Some(Kind::Struct(_)) => object("", "Shape::String"),
                Some(Kind::Alias(t) | Kind::Newtype(t)) if depth < 8 && hops < MAX_ALIAS_HOPS => {
                    self.shape_through(t, depth, hops + 1)
                }
                Some(Kind::Tuple(_)) if depth == 0 => "Shape::Array(&Shape::Json)".to_owned(),
                _ => "Shape::Json".to_owned(),
            },
        }
    }

    /// An operation's `SHAPES` (its parameters' types, for reading them) and how its
    /// `Response` is sent, written plainly and laid out inside the operation's module.
    fn server_pieces(&mut self, op: &Operation) -> Result<(), String> {
        let mut t = String::with_capacity(1024);
        t.push_str("/// How each parameter of [`CALL`] is typed, for the router to read it.\npub const SHAPES: &[super::super::server::Shape] = &[");
        let fields = op
            .params
            .and_then(|p| match &self.em.ir.types.get(p.0)?.kind {
                Kind::Struct(s) => Some(&s.fields),
                _ => None,
            });
        for w in &op.wires {
            let ty = fields.and_then(|f| f.iter().find(|f| f.wire == w.key));
            let shape = match ty {
                Some(f) => self.shape(&f.ty, 0),
                None => "Shape::Json".to_owned(),
            };
            let shape = shape.replace("Shape::", "super::super::server::Shape::");
            let _ = write!(t, "{shape}, ");
        }
        t.push_str("];\nimpl super::super::server::Respond for Response {\nfn into_reply(self) -> super::super::client::Reply {\nmatch self {\n");
        for resp in responses_of(op) {
            let v = &resp.name;
            let status = match resp.matcher {
                Matcher::Exact(code) => format!("{code}u16"),
                _ => "status".to_owned(),
            };
            let (pat, body) = match (&resp.response.body, resp.fixed()) {
                (ResponseBody::Json(_), true) => (
                    format!("Self::{v}(body)"),
                    format!("super::super::server::json_reply({status}, &body)"),
                ),
                (ResponseBody::Json(_), false) => (
                    format!("Self::{v} {{ status, body }}"),
                    "super::super::server::json_reply(status, &body)".to_owned(),
                ),
                (ResponseBody::Raw, true) => (
                    format!("Self::{v}(body)"),
                    format!("super::super::server::bytes_reply({status}, body)"),
                ),
                (ResponseBody::Raw, false) => (
                    format!("Self::{v} {{ status, body }}"),
                    "super::super::server::bytes_reply(status, body)".to_owned(),
                ),
                (ResponseBody::Empty, true) => (
                    format!("Self::{v}"),
                    format!("super::super::server::bytes_reply({status}, Default::default())"),
                ),
                (ResponseBody::Empty, false) => (
                    format!("Self::{v} {{ status }}"),
                    "super::super::server::bytes_reply(status, Default::default())".to_owned(),
                ),
            };
            let _ = writeln!(t, "{pat} => {body},");
        }
        t.push_str("Self::Other { status, body } => super::super::server::bytes_reply(status, body),\n}\n}\n}\n");
        let text = self.pretty(&format!("mod a {{ mod b {{ {t} }} }}"))?;
        self.out.push_str(&inner_lines(&text, 2));
        Ok(())
    }

    /// The `server` module: its fixed part, then the spec's routes, the `Api` trait and
    /// `handle`, and the hyper service if asked for.
    fn server_module(&mut self) -> Result<(), String> {
        let em = self.em;
        self.out.push_str(SERVER);
        let mut t = String::with_capacity(em.ir.operations.len() * 1024 + 2048);
        let gate = |t: &mut String, i: usize| {
            if let Some(gates) = em.gates {
                let _ = writeln!(t, "#[cfg({})]", gates.operations[i]);
            }
        };
        t.push_str(
            "/// Every operation, as the router finds it: a `static`, so a route is known by its address.\npub static ROUTES: &[Route] = &[\n",
        );
        for (i, (op, m)) in em
            .ir
            .operations
            .iter()
            .zip(&em.names.operations)
            .enumerate()
        {
            gate(&mut t, i);
            t.push_str("Route { id: ");
            lit(&mut t, &op.id);
            t.push_str(", module: ");
            lit(&mut t, m.trim_start_matches("r#"));
            let _ = write!(
                t,
                ", call: &super::operations::{m}::CALL, shapes: super::operations::{m}::SHAPES, segments: &["
            );
            let template = op.path.strip_suffix('/').unwrap_or(&op.path);
            let template = template.strip_prefix('/').unwrap_or(template);
            let mut literal = 0u64;
            if !template.is_empty() {
                for (j, segment) in template.split('/').enumerate() {
                    if j > 0 {
                        t.push_str(", ");
                    }
                    lit(&mut t, segment);
                    if j < 64 && !segment.contains('{') {
                        literal |= 1 << j;
                    }
                }
            }
            let _ = writeln!(t, "], literal: {literal:#b} }},");
        }
        t.push_str("];\n/// The API: one method per operation, taking its typed parameters and body and giving its\n/// typed `Response`. Each method answers an empty 501 until it is implemented, which\n/// [`handle`] sends as the dialect's [`Refusal::NotImplemented`].\npub trait Api: Send + Sync {\n");
        let mut arms = String::new();
        let mut serves = String::new();
        let mut bodies = UnionBodies::default();
        for (i, (op, m)) in em
            .ir
            .operations
            .iter()
            .zip(&em.names.operations)
            .enumerate()
        {
            let heading = match &op.summary {
                Some(s) => format!("`{} {}`: {}", op.method, op.path, s.trim()),
                None => format!("`{} {}`", op.method, op.path),
            };
            for_doc_lines(&heading, |line| {
                t.push_str("///");
                if !line.is_empty() {
                    t.push(' ');
                    t.push_str(line);
                }
                t.push('\n');
            });
            gate(&mut t, i);
            let form_shape = match (&op.form, &op.body) {
                (Some(_), Some(body)) => self.shape(body, 0),
                _ => "Shape::Json".to_owned(),
            };
            let method = server_method(op, m, "super::operations::", &form_shape);
            let _ = write!(
                t,
                "fn {m}(&self{}) -> impl std::future::Future<Output = super::operations::{m}::Response> + Send {{\nlet _ = {};\nasync {{ super::operations::{m}::Response::Other {{ status: 501, body: Default::default() }} }}\n}}\n",
                method.params,
                method.bound()
            );
            let (read, body_arg) = (method.read, method.body_arg);
            // The arm of `handle`.
            gate(&mut arms, i);
            lit(&mut arms, m.trim_start_matches("r#"));
            let params = if op.params.is_some() {
                "params"
            } else {
                "_: serde::de::IgnoredAny"
            };
            let (body_pat, raw_pat, body_val) = match body_arg {
                "" => ("_: serde::de::IgnoredAny", "_", String::new()),
                "body" => ("body", "_", ", body".to_owned()),
                raw => ("_: serde::de::IgnoredAny", "raw", format!(", {raw}")),
            };
            let params_val = if op.params.is_some() { ", params" } else { "" };
            let serve = format!("serve_{}", m.trim_start_matches("r#"));
            let _ = writeln!(arms, " => {serve}(api, dialect, &cx, raw),");
            let decode = match (&op.body, op.body_required, &op.form) {
                (Some(ty), true, None) => {
                    bodies.decode(em, ty, em.gates.map(|g| g.operations[i].as_str()))
                }
                _ => None,
            };
            let decode = decode.as_deref().unwrap_or("deserialize");
            // Each operation's future is boxed by a function of its own, so `handle` stays
            // small however many operations there are (a debug build of Stripe's otherwise
            // overflows a worker thread's stack).
            gate(&mut serves, i);
            let _ = writeln!(
                serves,
                "fn {serve}<'a, A: Api + ?Sized, D: Dialect + ?Sized>(api: &'a A, dialect: &'a D, cx: &'a Context, raw: Vec<u8>) -> Pending<'a> {{\nBox::pin(call(dialect, cx, {read}, raw, {decode}, move |{params}, {body_pat}, {raw_pat}| A::{m}(api, cx{params_val}{body_val})))\n}}"
            );
        }
        bodies.write(self, &mut serves);
        t.push_str("}\n/// Answers one request with `api`, refusing through `dialect` what does not reach an\n/// operation, and giving every answer to [`Dialect::finish`].\npub async fn handle<A: Api + ?Sized, D: Dialect + ?Sized>(api: &A, dialect: &D, incoming: Incoming) -> Reply {\nlet (cx, raw) = match begin(dialect, ROUTES, incoming) {\nOk(begun) => begun,\nErr(reply) => return reply,\n};\n// Without operations (or with none of their features on), neither is used.\nlet _ = (api, &raw);\nlet pending: Pending<'_> = match cx.route.map_or(\"\", |r| r.module) {\n");
        t.push_str(&arms);
        t.push_str(
            "_ => Box::pin(std::future::ready(dialect.refuse(&cx, Refusal::NotFound))),\n};\nlet reply = pending.await;\nend(dialect, &cx, reply)\n}\n/// An operation's answer, under way.\ntype Pending<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Reply> + Send + 'a>>;\n",
        );
        t.push_str(&serves);
        let text = self.pretty(&format!("mod a {{ {t} }}"))?;
        self.out.push_str(&inner_lines(&text, 1));
        if let crate::ClientCode::Hyper { feature } = em.client {
            self.hyper_gate(feature.as_deref());
            self.out.push_str(HYPER_SERVICE);
        }
        self.out.push_str("}\n");
        Ok(())
    }

    /// The `cfg` of a hyper module (client transport or server service) behind `feature`,
    /// at a module's item indentation.
    fn hyper_gate(&mut self, feature: Option<&str>) {
        if let Some(feature) = feature {
            self.out.push_str("    #[cfg(feature = ");
            lit(&mut self.out, feature);
            self.out.push_str(")]\n");
        }
    }

    /// A statement (or the final expression) of `decode`, memoised by its exact text.
    fn decode_piece(&mut self, resp: &Resp<'_>) -> Result<(), String> {
        let kind = match resp.response.body {
            ResponseBody::Json(_) => 0,
            ResponseBody::Raw => 1,
            ResponseBody::Empty => 2,
        };
        let key = Key::Decode(resp.name.clone(), resp.matcher, kind);
        let text = self.memo_fn_body(key, || decode_piece(resp))?;
        self.out.push_str(&text);
        Ok(())
    }

    /// The rendering of `tokens` as the body of a function in an `impl` in two modules (where
    /// `decode`'s statements are), memoised under `key`.
    fn memo_fn_body(&mut self, key: Key, piece: impl FnOnce() -> String) -> Result<String, String> {
        if let Some(text) = self.memo.get(&key) {
            return Ok(text.clone());
        }
        let piece = piece();
        let text = self.pretty(&format!(
            "mod a {{ mod b {{ impl R {{ fn f() {{ {piece} }} }} }} }}"
        ))?;
        let text = inner_lines(&text, 4);
        self.memo.insert(key, text.clone());
        Ok(text)
    }

    /// prettyplease's rendering of one match arm of `status` or `body_json` (for the rare ones
    /// that do not fit on a line).
    fn render_arm(&mut self, arm: &str) -> Result<String, String> {
        let text = self.pretty(&format!(
            "mod a {{ mod b {{ impl R {{ fn f() {{ match x {{ {arm} }} }} }} }} }}"
        ))?;
        Ok(inner_lines(&text, 5))
    }

    /// A `round_trip_response` arm that does not fit on its line (none does): the body
    /// `Some(m::Response::decode(status, content_type, body).map(|r| r.body_json()))` in a
    /// block. The `Some(…)` argument and the method chain never fit at this depth; the call's
    /// arguments break when the module name is longer than 23 bytes.
    fn response_arm(&mut self, pat: &str, module: &str) {
        self.line(12, &format!("{pat} => {{"));
        self.line(16, "Some(");
        pad(&mut self.out, 20);
        self.out.push_str(module);
        if module.len() <= 23 {
            self.out.push_str(
                "::Response::decode(status, content_type, body)
",
            );
        } else {
            self.out.push_str(
                "::Response::decode(
",
            );
            for arg in ["status,", "content_type,", "body,"] {
                self.line(28, arg);
            }
            self.line(24, ")");
        }
        self.line(24, ".map(|r| r.body_json()),");
        self.line(16, ")");
        self.line(12, "}");
    }

    /// A `round_trip_request` or `schemas::round_trip` arm that does not fit on its line: the
    /// body `Some(super::support::round_trip::<ty>(json))` in a block, on one line if it fits
    /// there (`ty` up to 31 bytes), else the `Some(…)` argument on a line of its own (up to
    /// 33), else the turbofish broken too, `ty` alone on its line (an `Option<inner>` broken
    /// in turn if even that does not fit).
    fn round_trip_arm(&mut self, pat: &str, ty: &str, option_of: Option<&str>) {
        self.line(12, &format!("{pat} => {{"));
        if ty.len() <= 31 {
            self.line(
                16,
                &format!("Some(super::support::round_trip::<{ty}>(json))"),
            );
        } else {
            self.line(16, "Some(");
            if ty.len() <= 33 {
                self.line(20, &format!("super::support::round_trip::<{ty}>(json),"));
            } else {
                self.line(20, "super::support::round_trip::<");
                match option_of {
                    Some(inner) if ty.len() > room(24) => {
                        self.line(24, "Option<");
                        self.line(28, &format!("{inner},"));
                        self.line(24, ">,");
                    }
                    _ => self.line(24, &format!("{ty},")),
                }
                self.line(20, ">(json),");
            }
            self.line(16, ")");
        }
        self.line(12, "}");
    }

    /// `head&["a", "b"];`: on one line if it fits, else one element per line.
    fn str_array<'s>(
        &mut self,
        indent: usize,
        head: &str,
        items: impl Iterator<Item = &'s str> + Clone,
    ) {
        let line_start = self.out.len();
        pad(&mut self.out, indent);
        self.out.push_str(head);
        self.out.push_str("&[");
        let items_start = self.out.len();
        for (i, item) in items.clone().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            lit(&mut self.out, item);
        }
        self.out.push_str("];");
        if self.out.len() - line_start - indent > room(indent) {
            self.out.truncate(items_start);
            for item in items {
                self.out.push('\n');
                pad(&mut self.out, indent + INDENT);
                lit(&mut self.out, item);
                self.out.push(',');
            }
            self.out.push('\n');
            pad(&mut self.out, indent);
            self.out.push_str("];");
        }
        self.out.push('\n');
    }

    // ----- schemas ----------------------------------------------------------------------

    /// The `webhooks` module: per webhook, its name, method and payload type, and `decode`
    /// for a delivery's body; then `NAMES` and `round_trip` over them all.
    fn webhooks(&mut self) {
        let em = self.em;
        if let Some(predicate) = em.gates.and_then(|g| g.webhooks.as_deref()) {
            let _ = writeln!(self.out, "#[cfg({predicate})]");
        }
        self.out.push_str(
            "/// One module per webhook the API sends (OpenAPI 3.1 `webhooks`): its payload type and\n/// how to decode a delivery.\n#[allow(dead_code)]\npub mod webhooks {\n",
        );
        for (hook, module) in em.ir.webhooks.iter().zip(&em.names.webhooks) {
            let mut title = format!("`{}` (`{}`)", hook.name, hook.method);
            if let Some(summary) = hook
                .summary
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                title.push_str(": ");
                title.push_str(summary);
            }
            if hook.deprecated {
                // Not `#[deprecated]`: `round_trip` below would warn on using it.
                title.push_str("\n\nDeprecated.");
            }
            self.doc(0, Some(&title));
            self.out.push_str("pub mod ");
            self.out.push_str(module);
            self.out
                .push_str(" {\n/// The webhook's name in the spec.\npub const NAME: &str = ");
            lit(&mut self.out, &hook.name);
            self.out
                .push_str(";\n/// The HTTP method it is sent with.\npub const METHOD: &str = ");
            lit(&mut self.out, &hook.method);
            self.out.push_str(";\n");
            if let Some(ty) = &hook.payload {
                self.out
                    .push_str("/// The JSON payload.\npub type Payload = ");
                let mut out = std::mem::take(&mut self.out);
                self.flat(&mut out, Node::Ty(ty), 2);
                self.out = out;
                self.out.push_str(
                    ";\n/// Decodes a delivery's body (its content type, when given, must be JSON). Never\n/// panics: a body that does not fit is an error with the failing JSON path and the body\n/// (its `status` is 0: a delivery is a request).\npub fn decode(content_type: Option<&str>, body: &[u8]) -> Result<Payload, super::super::support::DecodeError> {\nsuper::super::support::decode_json(0, content_type, body)\n}\n",
                );
            }
            self.out.push_str("}\n");
        }
        self.out
            .push_str("/// The webhooks' names, in spec order.\npub const NAMES: &[&str] = &[");
        for hook in &em.ir.webhooks {
            lit(&mut self.out, &hook.name);
            self.out.push_str(", ");
        }
        self.out.push_str(
            "];\n/// Decodes a JSON payload of the named webhook and encodes it back; `None` for an unknown\n/// name or a webhook without a JSON payload.\n#[allow(unused_variables)]\npub fn round_trip(name: &str, json: &serde_json::Value) -> Option<Result<serde_json::Value, super::support::Mismatch>> {\nmatch name {\n",
        );
        let mut seen = std::collections::HashSet::new();
        for (hook, module) in em.ir.webhooks.iter().zip(&em.names.webhooks) {
            // The first of several methods under one name answers for it.
            if hook.payload.is_some() && seen.insert(hook.name.as_str()) {
                lit(&mut self.out, &hook.name);
                self.out.push_str(" => Some(super::support::round_trip::<");
                self.out.push_str(module);
                self.out.push_str("::Payload>(json)),\n");
            }
        }
        self.out.push_str("_ => None,\n}\n}\n}\n");
    }

    fn schemas(&mut self) -> Result<(), String> {
        let em = self.em;
        let components: Vec<(String, TypeId, bool)> = em
            .ir
            .types
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                crate::lower::component_name(&d.origin).map(|n| (n, TypeId(i), d.nullable))
            })
            .collect();
        self.out.push_str(
            "/// The component schemas, by their names in the spec.\n#[allow(dead_code)]\npub mod schemas {\n    /// Component schema names, in spec order.\n",
        );
        self.str_array(
            INDENT,
            "pub const NAMES: &[&str] = ",
            components.iter().map(|(n, _, _)| n.as_str()),
        );
        self.out.push_str(SCHEMAS_HEAD);
        let mut pat = String::new();
        for (spec_name, id, nullable) in &components {
            if let Some(predicate) = em.gates.and_then(|g| g.types[id.0].as_deref()) {
                let attr = self.cfg_attr(predicate, 12)?;
                self.out.push_str(&attr);
            }
            let name = &em.names.types[id.0];
            pat.clear();
            lit(&mut pat, spec_name);
            let body = if *nullable {
                format!("Some(super::support::round_trip::<Option<super::{name}>>(json))")
            } else {
                format!("Some(super::support::round_trip::<super::{name}>(json))")
            };
            if !self.flat_arm(12, &pat, &body) {
                let ty = format!("super::{name}");
                if *nullable {
                    self.round_trip_arm(&pat, &format!("Option<{ty}>"), Some(&ty));
                } else {
                    self.round_trip_arm(&pat, &ty, None);
                }
            }
        }
        self.out.push_str(DISPATCH_TAIL);
        self.out.push_str("}\n");
        Ok(())
    }
}

/// A response's piece of `decode`: `if <status matches> { return <decode>; }`, or for
/// `default` the final expression.
fn decode_piece(resp: &Resp<'_>) -> String {
    let v = &resp.name;
    let decode = match (&resp.response.body, resp.fixed()) {
        (ResponseBody::Json(_), true) => {
            format!("support::decode_json(status, content_type, body).map(Self::{v})")
        }
        (ResponseBody::Json(_), false) => format!(
            "support::decode_json(status, content_type, body).map(|body| Self::{v} {{ status, body }})"
        ),
        (ResponseBody::Raw, true) => format!("Result::Ok(Self::{v}(body.into()))"),
        (ResponseBody::Raw, false) => {
            format!("Result::Ok(Self::{v} {{ status, body: body.into() }})")
        }
        (ResponseBody::Empty, true) => format!("Result::Ok(Self::{v})"),
        (ResponseBody::Empty, false) => format!("Result::Ok(Self::{v} {{ status }})"),
    };
    match resp.matcher {
        Matcher::Exact(code) => format!("if status == {code}u16 {{ return {decode}; }}"),
        Matcher::Range(lo, hi) => {
            format!("if matches!(status, {lo}u16..={hi}u16) {{ return {decode}; }}")
        }
        Matcher::Default => decode,
    }
}

/// The lines of a rendering inside `depth` levels of nesting (dropping `depth` lines at each
/// end), each with its newline.
fn inner_lines(text: &str, depth: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    if lines.len() >= 2 * depth {
        for line in &lines[depth..lines.len() - depth] {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

const RESPONSE_HEAD: &str =
    "    /// Decodes a response of the operation and encodes its body back to JSON
    /// (`Ok(None)` for bodiless and non-JSON responses); `None` for an unknown id.
    #[allow(unused_variables)]
    pub fn round_trip_response(
        operation_id: &str,
        status: u16,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Option<Result<Option<serde_json::Value>, super::support::DecodeError>> {
        match operation_id {
";

const REQUEST_HEAD: &str =
    "    /// Decodes a JSON request body of the operation and encodes it back; `None` for an
    /// unknown id or an operation without a JSON body.
    #[allow(unused_variables)]
    pub fn round_trip_request(
        operation_id: &str,
        json: &serde_json::Value,
    ) -> Option<Result<serde_json::Value, super::support::Mismatch>> {
        match operation_id {
";

const SCHEMAS_HEAD: &str =
    "    /// Decodes `json` as the named schema's type and encodes it back; `None` for a name
    /// the spec does not define.
    #[allow(unused_variables)]
    pub fn round_trip(
        name: &str,
        json: &serde_json::Value,
    ) -> Option<Result<serde_json::Value, super::support::Mismatch>> {
        match name {
";

const DISPATCH_TAIL: &str = "            _ => None,
        }
    }
";

const DECODE_HEAD: &str = "            /// A status the spec does not document: the raw body.
            Other { status: u16, body: super::super::support::RawBody },
        }
        impl Response {
            /// Decodes a response. Never panics: a body that does not fit the documented
            /// type is an error carrying the status, the failing JSON path and the body.
            pub fn decode(
                status: u16,
                content_type: Option<&str>,
                body: &[u8],
            ) -> Result<Self, super::super::support::DecodeError> {
                #[allow(unused_imports)]
                use super::super::support;
                let _ = content_type;
";

const STATUS_HEAD: &str = "            }
            /// The HTTP status.
            pub fn status(&self) -> u16 {
                match self {
";

const BODY_JSON_HEAD: &str = "                    Self::Other { status, .. } => *status,
                }
            }
            /// The decoded body encoded back to JSON; `None` for bodiless, raw and
            /// undocumented responses.
            pub fn body_json(&self) -> Option<serde_json::Value> {
                match self {
";

const OPERATION_TAIL: &str = "                    _ => None,
                }
            }
        }
";

/// An operation's method of the server's `Api` trait.
struct ServerMethod {
    /// The parameters after `&self`, their types written under `ops` (the path of the
    /// `operations` module).
    params: String,
    /// The names they bind.
    args: Vec<&'static str>,
    /// How the router reads the body (a `BodyRead`).
    read: String,
    /// What the router's closure passes as the body: `body`, the raw bytes, or nothing.
    body_arg: &'static str,
}

impl ServerMethod {
    /// The bound names as one expression (`cx`, or a tuple), for `let _ = …;`.
    fn bound(&self) -> String {
        if self.args.len() == 1 {
            self.args[0].to_owned()
        } else {
            format!("({})", self.args.join(", "))
        }
    }
}

/// The router's `body_*` functions: a union body (untagged) typed from the JSON already read
/// without serde's buffering of the value, trying only the variants whose required properties
/// the object has. Each union is written once, under the `cfg` of every operation using it.
#[derive(Default)]
struct UnionBodies {
    /// By union: its function's name, and the gates of the operations using it (none when
    /// one is ungated).
    found: BTreeMap<usize, (String, Option<Vec<String>>)>,
    names: HashSet<String>,
}

impl UnionBodies {
    /// The name of the function typing a body of `ty`, if it is such a union.
    fn decode(&mut self, em: &Emitter<'_>, ty: &Ty, gate: Option<&str>) -> Option<String> {
        let Ty::Named(id) = ty else { return None };
        let Kind::Untagged(variants) = &em.ir.types[id.0].kind else {
            return None;
        };
        if variants.iter().all(|v| required_keys(em, &v.ty).is_empty()) {
            return None;
        }
        let names = &mut self.names;
        let (name, gates) = self.found.entry(id.0).or_insert_with(|| {
            let mut name = format!("body_{}", em.names.types[id.0].to_snake_case());
            if !names.insert(name.clone()) {
                name = format!("{name}_{}", id.0);
                names.insert(name.clone());
            }
            (name, Some(Vec::new()))
        });
        match (gate, gates.as_mut()) {
            (Some(g), Some(list)) if !list.iter().any(|x| x == g) => list.push(g.to_owned()),
            (None, _) => *gates = None,
            _ => {}
        }
        Some(name.clone())
    }

    fn write(&self, w: &Writer<'_, '_>, out: &mut String) {
        let em = w.em;
        for (&id, (name, gates)) in &self.found {
            if let Some(gates) = gates.as_ref().filter(|g| !g.is_empty()) {
                let _ = writeln!(out, "#[cfg(any({}))]", gates.join(", "));
            }
            let union = em.names.types[id].as_str();
            let Kind::Untagged(variants) = &em.ir.types[id].kind else {
                continue;
            };
            let _ = write!(
                out,
                "/// A `{union}` body from the JSON read, as its `Deserialize` reads it (the first\n/// variant that fits), but a variant whose required properties an object lacks is\n/// not tried.\nfn {name}(value: &serde_json::Value) -> Result<super::{union}, serde_json::Error> {{\nlet lacks = |keys: &[&str]| value.as_object().is_some_and(|o| keys.iter().any(|k| !o.contains_key(*k)));\n"
            );
            for (v, vname) in variants.iter().zip(&em.names.variants[&TypeId(id)]) {
                let mut ty = String::new();
                w.flat(&mut ty, Node::Ty(&v.ty), 1);
                let keys = required_keys(em, &v.ty);
                let attempt = format!(
                    "if let Ok(v) = <{ty} as serde::Deserialize>::deserialize(value) {{\nreturn Ok(super::{union}::{vname}(v));\n}}\n"
                );
                if keys.is_empty() {
                    out.push_str(&attempt);
                } else {
                    out.push_str("if !lacks(&[");
                    for k in keys {
                        lit(out, k);
                        out.push_str(", ");
                    }
                    let _ = write!(out, "]) {{\n{attempt}}}\n");
                }
            }
            let _ = writeln!(
                out,
                "<super::{union} as serde::Deserialize>::deserialize(value)\n}}"
            );
        }
    }
}

/// The wire names of the properties a variant of type `ty` cannot decode without: the
/// required, non-nullable fields of a struct (a missing `Option` field reads as `None`).
fn required_keys<'e>(em: &Emitter<'e>, ty: &Ty) -> Vec<&'e str> {
    let ty = match ty {
        Ty::Box(inner) => inner,
        other => other,
    };
    let Ty::Named(id) = ty else { return Vec::new() };
    let Kind::Struct(s) = &em.ir.types[id.0].kind else {
        return Vec::new();
    };
    s.fields
        .iter()
        .filter(|f| f.presence == Presence::Required && !may_be_absent(em, &f.ty))
        .map(|f| f.wire.as_str())
        .collect()
}

/// Whether a value of `ty` reads from a missing field (serde reads an absent `Option` as
/// `None`).
fn may_be_absent(em: &Emitter<'_>, ty: &Ty) -> bool {
    match ty {
        Ty::Option(_) => true,
        Ty::Box(inner) => may_be_absent(em, inner),
        Ty::Named(id) => {
            let def = &em.ir.types[id.0];
            def.nullable
                || matches!(&def.kind, Kind::Alias(t) | Kind::Newtype(t) if may_be_absent(em, t))
        }
        _ => false,
    }
}

/// `form_shape`: the body's `Shape`, for a form-encoded body.
fn server_method(op: &Operation, m: &str, ops: &str, form_shape: &str) -> ServerMethod {
    let mut params = String::from(", cx: &Context");
    let mut args = vec!["cx"];
    if op.params.is_some() {
        let _ = write!(params, ", params: {ops}{m}::Params");
        args.push("params");
    }
    let (read, body_arg) = match (&op.body, &op.body_media) {
        (Some(_), _) => {
            let _ = if op.body_required {
                write!(params, ", body: {ops}{m}::Body")
            } else {
                write!(params, ", body: Option<{ops}{m}::Body>")
            };
            let read = if op.form.is_some() {
                format!(
                    "BodyRead::Form {{ required: {}, shape: &{form_shape} }}",
                    op.body_required
                )
            } else {
                let mut media = String::new();
                lit(
                    &mut media,
                    op.body_media.as_deref().unwrap_or("application/json"),
                );
                format!(
                    "BodyRead::Json {{ required: {}, media: {media} }}",
                    op.body_required
                )
            };
            (read, "body")
        }
        (None, Some(media)) => {
            params.push_str(if op.body_required {
                ", body: Vec<u8>"
            } else {
                ", body: Option<Vec<u8>>"
            });
            // Any media type the body declares is accepted.
            let mut lit_media = String::from("&[");
            let declared = if op.body_content.is_empty() {
                std::slice::from_ref(media)
            } else {
                &op.body_content[..]
            };
            for media in declared {
                lit(&mut lit_media, media);
                lit_media.push_str(", ");
            }
            lit_media.push(']');
            (
                format!(
                    "BodyRead::Raw {{ media: {lit_media}, required: {} }}",
                    op.body_required
                ),
                if op.body_required {
                    "raw"
                } else {
                    "(!raw.is_empty()).then_some(raw)"
                },
            )
        }
        (None, None) => ("BodyRead::None".to_owned(), ""),
    };
    if !body_arg.is_empty() {
        args.push("body");
    }
    ServerMethod {
        params,
        args,
        read,
        body_arg,
    }
}

/// The `impl Api` of a scaffold: every method of the generated `server::Api` trait (the
/// module included as `api`), each answering the empty 501 that the router sends as not
/// implemented, for a vendor to fill in.
pub fn scaffold_impl(em: &Emitter<'_>, type_name: &str) -> Result<String, String> {
    let mut t = String::with_capacity(em.ir.operations.len() * 512 + 1024);
    let _ = writeln!(t, "impl Api for {type_name} {{");
    for (op, m) in em.ir.operations.iter().zip(&em.names.operations) {
        let heading = match &op.summary {
            Some(s) => format!("`{} {}`: {}", op.method, op.path, s.trim()),
            None => format!("`{} {}`", op.method, op.path),
        };
        for_doc_lines(&heading, |line| {
            t.push_str("///");
            if !line.is_empty() {
                t.push(' ');
                t.push_str(line);
            }
            t.push('\n');
        });
        let method = server_method(op, m, "api::operations::", "");
        let _ = write!(
            t,
            "async fn {m}(&self{}) -> api::operations::{m}::Response {{\nlet _ = {};\n// Not implemented yet: the router answers this empty 501 as such.\napi::operations::{m}::Response::Other {{ status: 501, body: Default::default() }}\n}}\n",
            method.params,
            method.bound()
        );
    }
    t.push_str("}\n");
    layout(&t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_found_from_bytes_as_char_is_control_finds_them() {
        let by_chars = |s: &str| s.chars().any(|c| c.is_control() && c != '\t');
        for c in (0..=0x3000u32)
            .chain(0x10_0000..0x10_0100)
            .filter_map(char::from_u32)
        {
            for s in [
                c.to_string(),
                format!("a{c}"),
                format!("{c}\u{85}"),
                format!("é{c}b"),
            ] {
                assert_eq!(has_control(&s), by_chars(&s), "{s:?}");
            }
        }
        assert!(!has_control("tab\tonly"));
        assert!(has_control("bell\u{7}"));
    }

    #[test]
    fn the_support_module_is_laid_out_as_prettyplease_does() {
        assert_eq!(layout(SUPPORT).unwrap(), SUPPORT);
    }

    #[test]
    fn the_client_modules_fixed_parts_are_laid_out_as_prettyplease_does() {
        // The fixed part of `client` ends inside the module; the hyper transport sits in it.
        let client = format!("{CLIENT}}}\n");
        assert_eq!(layout(&client).unwrap(), client);
        let transport = format!("mod client {{\n{HYPER_TRANSPORT}}}\n");
        assert_eq!(layout(&transport).unwrap(), transport);
    }

    #[test]
    fn the_server_modules_fixed_parts_are_laid_out_as_prettyplease_does() {
        let server = format!("{SERVER}}}\n");
        assert_eq!(layout(&server).unwrap(), server);
        let service = format!("mod server {{\n{HYPER_SERVICE}}}\n");
        assert_eq!(layout(&service).unwrap(), service);
    }

    #[test]
    fn literals_mean_the_string_they_are_written_for() {
        for s in [
            "plain",
            "quote \" and backslash \\",
            "tab\tnewline\ncr\r",
            "nul\0 then digit \0 1 \u{0}7",
            "apostrophe ' and unicode é ü 中 \u{200b} \u{301}x \u{feff}",
            "\u{7f} del, \u{1b} esc",
        ] {
            let mut mine = String::new();
            lit(&mut mine, s);
            let parsed: syn::LitStr = syn::parse_str(&mine).unwrap();
            assert_eq!(parsed.value(), s, "{mine}");
            // As prettyplease prints it: the literal is kept as written.
            let item = format!("const A: &str = {mine};\n");
            assert_eq!(layout(&item).unwrap(), item);
        }
    }
}
