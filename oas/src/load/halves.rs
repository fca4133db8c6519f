//! A big JSON text parsed in two halves at once: a big spec's parse is the first stage of
//! every tool, and takes about as long as the rest of code generation.
//!
//! The text is cut at a comma between two members of an object, `{"components": {"schemas":
//! {a, b}}}` read as `{"components": {"schemas": {a}}}` and `{"components": {"schemas": {b}}}`
//! (the second's opening keys are written by us, the *chain*), each half on its own thread,
//! and the two joined. Nothing scans the text to find where that comma is: the layout only
//! suggests a cut, and the parse checks it. If the first half parses with one `}` per level
//! of the chain and one more, exactly that many objects were open at the comma and it stood
//! between two members (a comma in a string or an array leaves a half unclosed); if the
//! second parses too, the text is a valid document, and its value is the first half's with
//! the second's members added where they were cut off. The top levels of both halves keep
//! every member in order, repeats included ([`Node`]): the object open at the comma is the
//! first half's last member (whatever repeated key came before it), and the joined members
//! are inserted into maps in the order written, as one parse inserts them. So the value and
//! the warnings are those of one parse; anything else (no cut found, a half that does not
//! parse, a chain that is not the one open) leaves the text to one parse, for its value or
//! its error's line.

use serde::Deserialize as _;
use serde::de::{DeserializeSeed, IntoDeserializer as _, Visitor};
use serde_json::{Map, Value};

use super::FromYaml;

/// JSON texts at least this long are parsed in two halves (where a second core is idle:
/// [`crate::cores`]); below it a second thread costs more than it saves.
pub(super) const SPLIT_PARSE_BYTES: usize = 512 * 1024;

/// How far the cut may be looked for past the middle (line by line).
const SEARCH_BYTES: usize = 256 * 1024;

/// At most this many levels of objects are kept open across the cut: deeper ones would put
/// more of the document through the slower member-keeping reader for no better balance.
const MAX_CHAIN: usize = 2;

/// Where a text is cut: at the comma at `comma`, inside the objects that `chain`'s keys
/// open, from the top (none: between two top-level members).
#[derive(Debug, PartialEq)]
struct Cut {
    comma: usize,
    chain: Vec<String>,
}

/// `text` (at least [`SPLIT_PARSE_BYTES`] long) parsed in two halves on two threads, or
/// `None` for the caller to parse it whole; `tracked` as for [`parse_json`](super::parse_json).
pub(super) fn parse_json_halves(
    text: &str,
    tracked: bool,
    warnings: &mut Vec<String>,
) -> Option<Value> {
    if text.len() < SPLIT_PARSE_BYTES {
        return None;
    }
    let Cut { comma, chain } = cut(text)?;
    let levels = chain.len();
    let first = || {
        let mut half = String::with_capacity(comma + levels + 1);
        half.push_str(&text[..comma]);
        half.extend(std::iter::repeat_n('}', levels + 1));
        parse_half(&half, levels, tracked)
    };
    let second = || {
        let mut half = String::with_capacity(text.len() - comma + 32 * levels);
        half.push('{');
        for key in &chain {
            half.push_str(&serde_json::to_string(key).ok()?);
            half.push_str(":{");
        }
        half.push_str(&text[comma + 1..]);
        parse_half(&half, levels, tracked)
    };
    // The larger half on the caller's thread, whose allocator arena is likely warm.
    let thread = || std::thread::Builder::new().name("oas-parse".into());
    let ((first, first_warnings), (second, second_warnings)) = std::thread::scope(|scope| {
        if comma < text.len() / 2 {
            let first = thread().spawn_scoped(scope, first).ok()?;
            let second = second();
            Some((first.join().ok()??, second?))
        } else {
            let second = thread().spawn_scoped(scope, second).ok()?;
            let first = first();
            Some((first?, second.join().ok()??))
        }
    })?;
    let joined = join(first, second, &chain)?.into_value();
    warnings.extend(first_warnings);
    warnings.extend(second_warnings);
    Some(joined)
}

/// A half read with its top `levels` levels of objects as [`Node`]s, and its warnings.
fn parse_half(half: &str, levels: usize, tracked: bool) -> Option<(Node, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut at = String::new();
    let mut d = serde_json::Deserializer::from_str(half);
    let node = Levels {
        levels,
        tracked,
        at: &mut at,
        warnings: &mut warnings,
    }
    .deserialize(&mut d)
    .ok()?;
    d.end().ok()?;
    Some((node, warnings))
}

/// The top levels of a half: objects as their members in the order written, repeats kept
/// (a map keeps one of each, in the place of the first), and below them values.
#[derive(Debug, PartialEq)]
enum Node {
    Object(Vec<(String, Node)>),
    Leaf(Value),
}

impl Node {
    /// The value one parse gives: members inserted in order.
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(value) => value,
            Node::Object(members) => {
                let mut map = Map::with_capacity(members.len());
                for (key, node) in members {
                    map.insert(key, node.into_value());
                }
                Value::Object(map)
            }
        }
    }
}

/// The halves joined: at each level of the chain, the first half's last member (the one
/// open at the cut, which must have the chain's key) is joined with the second's first (the
/// chain's own), and the second's other members follow; at the cut, the second's members
/// are inserted after the first's. `None` if the halves do not have that shape.
fn join(first: Node, second: Node, chain: &[String]) -> Option<Node> {
    match (first, second, chain) {
        (Node::Leaf(Value::Object(mut first)), Node::Leaf(Value::Object(second)), []) => {
            // `{,` or `,}` around the cut: not one document.
            if first.is_empty() || second.is_empty() {
                return None;
            }
            first.extend(second);
            Some(Node::Leaf(Value::Object(first)))
        }
        (Node::Object(mut first), Node::Object(second), [key, deeper @ ..]) => {
            let (open, inner) = first.pop()?;
            let mut second = second.into_iter();
            let (own, continued) = second.next()?;
            if open != *key || own != *key {
                return None;
            }
            first.push((open, join(inner, continued, deeper)?));
            first.extend(second);
            Some(Node::Object(first))
        }
        _ => None,
    }
}

/// Reads a value keeping its top `levels` levels of objects as [`Node`]s; below them (and
/// for anything not an object) as [`parse_json`](super::parse_json) reads, with the same warnings.
struct Levels<'w> {
    levels: usize,
    tracked: bool,
    at: &'w mut String,
    warnings: &'w mut Vec<String>,
}

impl Levels<'_> {
    /// A value not kept as a [`Node`], read as [`parse_json`](super::parse_json) reads it.
    fn leaf<'de, D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        if self.tracked {
            let value = FromYaml {
                at: self.at,
                warnings: self.warnings,
                json: true,
            };
            value.deserialize(d).map(Node::Leaf)
        } else {
            Value::deserialize(d).map(Node::Leaf)
        }
    }
}

impl<'de> DeserializeSeed<'de> for Levels<'_> {
    type Value = Node;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        if self.levels == 0 {
            self.leaf(d)
        } else {
            d.deserialize_any(self)
        }
    }
}

impl<'de> Visitor<'de> for Levels<'_> {
    type Value = Node;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0));
        let len = self.at.len();
        while let Some(key) = map.next_key::<String>()? {
            crate::pointer::push_token(self.at, &key);
            let value = map.next_value_seed(Levels {
                levels: self.levels - 1,
                tracked: self.tracked,
                at: &mut *self.at,
                warnings: &mut *self.warnings,
            });
            self.at.truncate(len);
            members.push((key, value?));
        }
        Ok(Node::Object(members))
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Node, A::Error> {
        self.leaf(serde::de::value::SeqAccessDeserializer::new(seq))
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Node, E> {
        self.leaf(v.into_deserializer())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Node, E> {
        self.leaf(v.into_deserializer())
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Node, E> {
        self.leaf(v.into_deserializer())
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Node, E> {
        self.leaf(v.into_deserializer())
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(v.to_owned())))
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Node, E> {
        Ok(Node::Leaf(Value::String(v)))
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf(Value::Null))
    }
}

/// Where to cut `text`: from its line layout ([`cut_in_lines`]) if it has one, else before
/// a top-level `"paths"` or `"components"` key ([`cut_at_top_key`]).
fn cut(text: &str) -> Option<Cut> {
    cut_in_lines(text).or_else(|| {
        cut_at_top_key(text).map(|comma| Cut {
            comma,
            chain: Vec::new(),
        })
    })
}

/// The indentation (spaces and tabs) of the line starting at `start`.
fn indent(b: &[u8], start: usize) -> usize {
    b[start..]
        .iter()
        .take_while(|&&c| c == b' ' || c == b'\t')
        .count()
}

/// Where the line holding byte `at` starts.
fn line_start(b: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &b[..at]).map_or(0, |nl| nl + 1)
}

/// A cut near the middle of a text written one member per line with indentation by depth
/// (as JSON writers lay documents out; a raw line break is never inside a JSON string):
/// back from the middle, each line indented less than those after it is an enclosing
/// `"key": {`; up to [`MAX_CHAIN`] of them from the top are the chain, and forward from the
/// middle the first line at its members' indentation that follows a `,` is the cut.
/// `None` for a text laid out otherwise.
fn cut_in_lines(text: &str) -> Option<Cut> {
    let b = text.as_bytes();
    // The top level's indentation: the second line's.
    let first_break = memchr::memchr(b'\n', &b[..b.len().min(4096)])?;
    let top = indent(b, first_break + 1);
    let middle = line_start(b, b.len() / 2);
    // Enclosing key lines, innermost first: (line start, indentation).
    let mut enclosing = Vec::new();
    let mut limit = indent(b, middle);
    let mut at = middle;
    while limit > top {
        if at == 0 {
            return None;
        }
        let start = line_start(b, at - 1);
        let i = indent(b, start);
        if i < limit {
            let line = text[start + i..at - 1].trim_end();
            if !(line.starts_with('"') && line.ends_with('{')) {
                return None; // inside an array, or a layout not read here
            }
            enclosing.push((start + i, i));
            limit = i;
        }
        at = start;
    }
    enclosing.reverse();
    // The longest chain whose last object has a member starting near the middle.
    (1..=enclosing.len().min(MAX_CHAIN))
        .rev()
        .find_map(|depth| cut_below(text, &enclosing, depth, middle))
}

/// The first cut after the line at `middle` between two members of the object that the
/// first `depth` of `enclosing` open.
fn cut_below(text: &str, enclosing: &[(usize, usize)], depth: usize, middle: usize) -> Option<Cut> {
    let b = text.as_bytes();
    // The members are at the next enclosing line's indentation, or at the middle line's
    // when that is one of them.
    let members = enclosing
        .get(depth)
        .map_or_else(|| indent(b, middle), |&(_, i)| i);
    let end = b.len().min(middle + SEARCH_BYTES);
    let mut at = middle;
    let comma = loop {
        let start = at + memchr::memchr(b'\n', &b[at..end])? + 1;
        let i = indent(b, start);
        if i < members {
            return None; // the object ended first
        }
        if i == members && b.get(start + i) == Some(&b'"') {
            let comma = b[..start].iter().rposition(|c| !c.is_ascii_whitespace())?;
            if b[comma] == b',' {
                break comma;
            }
        }
        at = start;
    };
    let chain = enclosing[..depth]
        .iter()
        .map(|&(key, _)| {
            serde_json::Deserializer::from_str(&text[key..])
                .into_iter::<String>()
                .next()?
                .ok()
        })
        .collect::<Option<Vec<String>>>()?;
    Some(Cut { comma, chain })
}

/// The comma before a `"paths"` or `"components"` key (a comma, whitespace, the key,
/// whitespace, a colon), for a text without a line layout: a key starting a line with the
/// least indentation is preferred, then the one nearest the middle; a cut leaving less than
/// a tenth on one side is not worth a thread.
fn cut_at_top_key(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut best: Option<(usize, usize)> = None; // (indentation, distance from the middle)
    let mut comma_at = 0;
    for key in [&b"\"paths\""[..], b"\"components\""] {
        for at in memchr::memmem::find_iter(b, key) {
            let Some(comma) = b[..at].iter().rposition(|c| !c.is_ascii_whitespace()) else {
                continue;
            };
            let end = at + key.len();
            let colon = b[end..].iter().position(|c| !c.is_ascii_whitespace());
            if b[comma] != b',' || colon.is_none_or(|i| b[end + i] != b':') {
                continue;
            }
            let gap = &b[comma + 1..at];
            let indent = gap
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(usize::MAX, |nl| gap.len() - nl - 1);
            let rank = (indent, comma.abs_diff(b.len() / 2));
            if best.is_none_or(|best| rank < best) {
                best = Some(rank);
                comma_at = comma;
            }
        }
    }
    best?;
    let smaller = comma_at.min(b.len() - comma_at);
    (smaller >= b.len() / 10).then_some(comma_at)
}

#[cfg(test)]
mod tests {
    use super::super::parse_json;
    use super::*;

    /// A value's JSON text: unlike `==` on maps, it holds the members' order too.
    fn text_of(value: &Value) -> String {
        serde_json::to_string(value).unwrap()
    }

    /// A document laid out one member per line, two spaces a level (as `JSON.stringify(doc,
    /// null, 2)` writes it), with `n` schemas of several lines each; `repeats` adds a small
    /// `components` before the real one and a `schemas` after it, both repeated keys. Two
    /// integers beyond 64 bits, one on each side of the middle, give warnings.
    fn laid_out(n: usize, repeats: bool) -> String {
        use std::fmt::Write as _;
        let mut t = String::from("{\n  \"openapi\": \"3.0.3\",\n");
        if repeats {
            t.push_str("  \"components\": {\"early\": 1},\n");
        }
        t.push_str("  \"paths\": {\n    \"/a\": {\n      \"get\": {}\n    }\n  },\n");
        t.push_str("  \"components\": {\n    \"schemas\": {\n");
        for i in 0..n {
            if i > 0 {
                t.push_str(",\n");
            }
            let wide = if i == 1 || i == n / 2 + 3 {
                "2345678901234567890123"
            } else {
                ""
            };
            let _ = write!(
                t,
                "      \"S{i}\": {{\n        \"type\": \"object\",\n        \"description\": \"x,\\n      \\\"S{i}\\\": {{\",\n        \"properties\": {{\n          \"n\": {{\"type\": \"integer\", \"maximum\": 1{wide}}}\n        }}\n      }}"
            );
        }
        t.push_str("\n    }");
        if repeats {
            t.push_str(",\n    \"schemas\": {\"late\": {}}");
        }
        t.push_str("\n  }\n}\n");
        t
    }

    /// A cut two levels down (between two schemas) gives what one parse gives, warnings and
    /// their pointers included, and a key repeated at either level keeps one parse's choice:
    /// the first's place, the last's value.
    #[test]
    fn a_cut_between_two_schemas_is_the_whole_parse() {
        for repeats in [false, true] {
            let text = laid_out(4000, repeats);
            assert!(text.len() > SPLIT_PARSE_BYTES);
            let cut = cut(&text).expect("a cut");
            assert_eq!(cut.chain, ["components", "schemas"]);
            let comma = cut.comma;
            assert!(
                text[comma + 1..].trim_start().starts_with("\"S"),
                "{}",
                &text[comma..comma + 20]
            );
            let mut whole_warnings = Vec::new();
            let whole = parse_json(&text, true, &mut whole_warnings).unwrap();
            let mut warnings = Vec::new();
            let halves = parse_json_halves(&text, true, &mut warnings).expect("split");
            assert_eq!(text_of(&halves), text_of(&whole), "repeats: {repeats}");
            assert_eq!(warnings, whole_warnings);
            assert_eq!(warnings.len(), 2, "{warnings:?}");
            assert!(
                warnings[1].starts_with("/components/schemas/S2003/properties/n/maximum:"),
                "{warnings:?}"
            );
            let plain: Value = serde_json::from_str(&text).unwrap();
            let untracked = parse_json_halves(&text, false, &mut Vec::new()).expect("split");
            assert_eq!(text_of(&untracked), text_of(&plain));
            if repeats {
                assert_eq!(
                    halves["components"]["schemas"],
                    serde_json::json!({"late": {}})
                );
                assert!(
                    halves
                        .as_object()
                        .unwrap()
                        .keys()
                        .eq(["openapi", "components", "paths"])
                );
            } else {
                assert_eq!(
                    halves["components"]["schemas"].as_object().unwrap().len(),
                    4000
                );
            }
        }
    }

    /// Halves whose open members are not the chain's are not joined.
    #[test]
    fn halves_open_elsewhere_are_not_joined() {
        let leaf = |v: Value| Node::Leaf(v);
        let half =
            |key: &str| Node::Object(vec![(key.to_owned(), leaf(serde_json::json!({"a": 1})))]);
        let chain = ["components".to_owned()];
        assert!(join(half("components"), half("components"), &chain).is_some());
        assert_eq!(join(half("paths"), half("components"), &chain), None);
        assert_eq!(join(half("components"), half("paths"), &chain), None);
        assert_eq!(join(half("components"), half("components"), &[]), None);
        let empty = Node::Object(vec![("components".to_owned(), leaf(serde_json::json!({})))]);
        assert_eq!(join(empty, half("components"), &chain), None);
    }

    /// A JSON text of about `bytes` with `"paths"` and `"components"` at the top level, traps
    /// for the split around them: the same keys nested, inside strings, and `, "paths":` in a
    /// string at the middle, with line breaks (`pretty`) or without.
    fn big_json(bytes: usize, pretty: bool) -> String {
        let (nl, i1, i2) = if pretty {
            ("\n", "  ", "    ")
        } else {
            ("", "", "")
        };
        let mut entries = Vec::new();
        let mut len = 0;
        let mut n = 0;
        while len < bytes {
            let entry = format!(
                "{nl}{i2}\"/p{n}\": {{\"paths\": {{\"components\": [{n}, \"x, \\\"paths\\\": {{\"]}}, \"d\": \"\\\", \\\"components\\\": 1\"}}"
            );
            len += entry.len();
            entries.push(entry);
            n += 1;
        }
        let half = entries.len() / 2;
        let paths = entries[..half].join(",");
        let schemas = entries[half..].join(",");
        format!(
            "{{{nl}{i1}\"openapi\": \"3.0.3\",{nl}{i1}\"info\": {{\"title\": \", \\\"paths\\\": {{\"}},{nl}{i1}\"paths\": {{{paths}{nl}{i1}}},{nl}{i1}\"components\": {{{schemas}{nl}{i1}}}{nl}}}{nl}"
        )
    }

    /// The two halves give what one parse gives, whatever the text's layout and traps, and a
    /// key repeated on both sides of the split keeps the position of its first appearance and
    /// the value of its last, as in one parse.
    #[test]
    fn a_big_json_text_parsed_in_halves_is_the_whole_parse() {
        for pretty in [true, false] {
            let text = big_json(SPLIT_PARSE_BYTES + 1000, pretty);
            let cut = cut(&text).expect("a cut");
            assert_eq!(&text[cut.comma..cut.comma + 1], ",");
            // With line breaks, inside a top-level member; without, between two.
            assert_eq!(cut.chain.len(), usize::from(pretty), "{:?}", cut.chain);
            let halves = parse_json_halves(&text, false, &mut Vec::new()).expect("split");
            let whole: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(text_of(&halves), text_of(&whole), "pretty: {pretty}");
            assert!(
                halves
                    .as_object()
                    .unwrap()
                    .keys()
                    .eq(["openapi", "info", "paths", "components"]),
                "pretty: {pretty}"
            );
            let mut repeated = text.trim_end().strip_suffix('}').unwrap().to_owned();
            repeated.push_str(",\"openapi\": \"3.1.0\", \"x-last\": 12345678901234567890123}");
            let mut whole_warnings = Vec::new();
            let whole = parse_json(&repeated, true, &mut whole_warnings).unwrap();
            let mut warnings = Vec::new();
            let halves = parse_json_halves(&repeated, true, &mut warnings).expect("split");
            assert_eq!(text_of(&halves), text_of(&whole));
            assert_eq!(halves["openapi"], "3.1.0");
            assert_eq!(
                halves.as_object().unwrap().keys().next().unwrap(),
                "openapi"
            );
            assert_eq!(warnings, whole_warnings);
            assert_eq!(warnings.len(), 1, "{warnings:?}");
        }
    }

    /// No split is tried where it cannot help, and a text that does not parse is left to the
    /// whole parse, whose error names the line.
    #[test]
    fn small_or_broken_texts_are_parsed_whole() {
        let small = big_json(SPLIT_PARSE_BYTES / 2, true);
        assert!(parse_json_halves(&small, false, &mut Vec::new()).is_none());
        let text = big_json(SPLIT_PARSE_BYTES + 1000, true);
        let comma = cut(&text).unwrap().comma;
        let line = text[..comma].matches('\n').count() + 1;
        let broken = format!("{}, ]{}", &text[..comma], &text[comma..]);
        assert!(parse_json_halves(&broken, false, &mut Vec::new()).is_none());
        match super::super::Document::parse("big.json", &broken, true).unwrap_err() {
            super::super::LoadError::Syntax { line: at, .. } => assert_eq!(at, line),
            other => panic!("{other}"),
        }
        // A top-level key only at the very start leaves too little on one side.
        let lopsided = format!(
            "{{\"a\": 1, \"paths\": {{\"x\": \"{}\"}}}}",
            "y".repeat(SPLIT_PARSE_BYTES)
        );
        assert_eq!(cut(&lopsided), None);
    }

    /// Every big JSON spec of the shared corpus and of the gathered 3.1 documents
    /// (`.ci/gather-corpus-3.1.sh`; each skipped when absent) reads the same in halves as
    /// whole, warnings included.
    #[test]
    fn corpus_specs_read_the_same_in_halves() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let files: Vec<_> = ["shared/corpus", "corpus-3.1", "shared/corpus-3.1"]
            .iter()
            .filter_map(|dir| std::fs::read_dir(root.join(dir)).ok())
            .flat_map(|entries| entries.flatten().map(|e| e.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "json"))
            .collect();
        if files.is_empty() {
            eprintln!("skipped: no corpus next to the workspace");
            return;
        }
        let mut split = 0;
        for path in &files {
            let Ok(text) = std::fs::read_to_string(path) else {
                continue;
            };
            let tracked = super::super::long_digit_run(&text);
            let mut warnings = Vec::new();
            let Some(halves) = parse_json_halves(&text, tracked, &mut warnings) else {
                continue;
            };
            let mut whole_warnings = Vec::new();
            let whole = parse_json(&text, tracked, &mut whole_warnings).unwrap();
            assert!(text_of(&halves) == text_of(&whole), "{}", path.display());
            assert_eq!(warnings, whole_warnings, "{}", path.display());
            split += 1;
        }
        eprintln!("{split} of {} JSON specs read in halves", files.len());
        assert!(split > 0, "no corpus spec was split");
    }
}
