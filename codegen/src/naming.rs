//! The one place that turns spec names into Rust identifiers.
//!
//! Guarantees: every identifier is valid (keywords become raw identifiers or get a suffix,
//! leading digits get a prefix, empty and symbol-only names get a placeholder) and unique in its
//! scope (types in the module, fields in a struct, variants in an enum), including names that
//! collide only after case conversion (`foo-bar`, `foo_bar`, `fooBar`) and prelude names that
//! would shadow what generated code uses (`Option`, `Result`, `Box`, `String`, `Vec`).
//! Wire names are never changed: emission adds `#[serde(rename)]` where they differ.
//! Collisions are resolved in a fixed order (component schemas first, then document order),
//! so the same spec always gets the same names.

use std::collections::BTreeMap;

use crate::fxhash::{FxHashMap, FxHashSet};
use crate::ir::{Ir, Kind, Names, TypeId};

/// Rust keywords (all editions) and reserved words.
const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum", "extern",
    "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub",
    "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "gen", "macro",
    "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "union",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// Type names generated code refers to unqualified, or that users would be surprised to see
/// shadowed; a schema with such a name gets a suffix.
const RESERVED_TYPES: &[&str] = &[
    "Option",
    "Result",
    "Box",
    "String",
    "Vec",
    "Some",
    "None",
    "Ok",
    "Err",
    "Self",
    "Default",
    "Clone",
    "Copy",
    "Debug",
    "PartialEq",
    "Eq",
    "Hash",
    "BTreeMap",
    "Serialize",
    "Deserialize",
    "Value",
    "Map",
    "OptionalNullable",
    "DecodeError",
    "Send",
    "Sync",
    "Sized",
    "Drop",
    "Fn",
    "From",
    "Into",
    "Iterator",
    "ToString",
    "ToOwned",
];

/// Module-level names taken by the generated support code.
/// (Crate names too: generated code refers to `serde`, `serde_json`, `std` by path.)
/// An operation's module name is also its client method's name, so the client's own methods
/// (`new`, `send`, `base_url`, `transport`) are reserved too.
const RESERVED_MODULES: &[&str] = &[
    "operations",
    "new",
    "send",
    "base_url",
    "transport",
    "support",
    "schemas",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "std",
    "core",
    "alloc",
];

/// Runs the naming pass over the whole IR. Type and operation names (one scope each) are
/// assigned on this thread while each type's field and variant names (a scope per type) are
/// on another: the two do not depend on each other.
pub fn assign(ir: &Ir) -> Names {
    std::thread::scope(|scope| {
        let members = scope.spawn(|| members(ir));
        let types = types(ir);
        let mut taken: FxHashSet<String> = FxHashSet::default();
        let operations = ir
            .operations
            .iter()
            .map(|op| unique(&module_ident(&op.id), &mut taken, suffix_snake))
            .collect();
        let mut hooks: FxHashSet<String> = FxHashSet::default();
        let webhooks = ir
            .webhooks
            .iter()
            .map(|hook| unique(&module_ident(&hook.name), &mut hooks, suffix_snake))
            .collect();
        // `Credentials` fields, one per scheme.
        let mut credentials: FxHashSet<String> = FxHashSet::default();
        let schemes = ir
            .schemes
            .iter()
            .map(|scheme| unique(&field_ident(&scheme.name), &mut credentials, suffix_snake))
            .collect();
        let (fields, variants) = match members.join() {
            Ok(members) => members,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        Names {
            types,
            fields,
            variants,
            operations,
            webhooks,
            schemes,
        }
    })
}

/// Type names: component schemas first (they keep their spec names), then inline ones.
fn types(ir: &Ir) -> Vec<String> {
    let mut names = vec![String::new(); ir.types.len()];
    let mut order: Vec<usize> = (0..ir.types.len()).collect();
    order.sort_by_key(|&i| (!ir.types[i].hint.component, i));
    let mut taken: FxHashSet<String> = FxHashSet::with_capacity_and_hasher(
        ir.types.len() + RESERVED_TYPES.len(),
        Default::default(),
    );
    taken.extend(RESERVED_TYPES.iter().map(|s| s.to_ascii_lowercase()));
    let mut cache = Cache::default();
    for i in order {
        let base = cache.type_ident(&ir.types[i].hint.words);
        names[i] = unique(&base, &mut taken, |b, n| format!("{b}{n}"));
    }
    names
}

/// Field names per struct, variant names per enum and union.
#[allow(clippy::type_complexity)]
fn members(ir: &Ir) -> (BTreeMap<TypeId, Vec<String>>, BTreeMap<TypeId, Vec<String>>) {
    let mut fields = BTreeMap::new();
    let mut variants = BTreeMap::new();
    let mut cache = Cache::default();
    for (i, def) in ir.types.iter().enumerate() {
        let id = TypeId(i);
        match &def.kind {
            Kind::Struct(s) => {
                for f in &s.fields {
                    cache.field_ident(&f.wire);
                }
                let mut bases: Vec<&str> = s.fields.iter().map(|f| cache.field(&f.wire)).collect();
                if s.additional.is_some() {
                    bases.push("additional_properties");
                }
                fields.insert(id, unique_all(&bases, suffix_snake));
            }
            Kind::Enum(e) => {
                for v in &e.values {
                    cache.variant_ident(v);
                }
                let mut bases: Vec<&str> = e.values.iter().map(|v| cache.variant(v)).collect();
                if e.catch_all {
                    bases.push("Unknown");
                }
                variants.insert(id, unique_all(&bases, |b, n| format!("{b}{n}")));
            }
            Kind::IntEnum(e) => {
                let mut taken = FxHashSet::default();
                let names = e
                    .values
                    .iter()
                    .map(|v| {
                        let base = if *v < 0 {
                            format!("Minus{}", v.unsigned_abs())
                        } else {
                            format!("V{v}")
                        };
                        unique(&base, &mut taken, |b, n| format!("{b}Alt{n}"))
                    })
                    .collect();
                variants.insert(id, names);
            }
            Kind::Untagged(vs) => {
                let mut taken = FxHashSet::default();
                let names = vs
                    .iter()
                    .map(|v| {
                        unique(&variant_ident(&v.hint.join(" ")), &mut taken, |b, n| {
                            format!("{b}{n}")
                        })
                    })
                    .collect();
                variants.insert(id, names);
            }
            Kind::Tagged(t) => {
                let mut taken = FxHashSet::default();
                let mut names: Vec<String> = t
                    .variants
                    .iter()
                    .map(|(tag, _)| {
                        unique(&variant_ident(tag), &mut taken, |b, n| format!("{b}{n}"))
                    })
                    .collect();
                names.push(unique("Unknown", &mut taken, |b, n| format!("{b}{n}")));
                variants.insert(id, names);
            }
            Kind::Alias(_) | Kind::Newtype(_) | Kind::Tuple(_) => {}
        }
    }
    (fields, variants)
}

/// Case conversions, memoised: the same property names, enum values and name words recur
/// across a spec's schemas. Only
/// looked up, never iterated, so no hash order reaches the output.
#[derive(Default)]
struct Cache<'a> {
    /// Word of a name hint → its UpperCamelCase part.
    camel: FxHashMap<&'a str, String>,
    field: FxHashMap<&'a str, String>,
    variant: FxHashMap<&'a str, String>,
}

impl<'a> Cache<'a> {
    /// [`type_ident`] of the words joined by spaces. [`convert`] converts the words between
    /// separators independently and UpperCamelCase joins them with nothing, so the
    /// conversion of the whole is the concatenation of each word's.
    fn type_ident(&mut self, words: &'a [String]) -> String {
        let mut s = String::new();
        for word in words {
            s.push_str(self.camel.entry(word).or_insert_with(|| camel_part(word)));
        }
        finish_type_ident(s)
    }

    /// Converts a property name (once); [`Cache::field`] then has it.
    fn field_ident(&mut self, raw: &'a str) {
        self.field.entry(raw).or_insert_with(|| field_ident(raw));
    }

    fn field(&self, raw: &str) -> &str {
        self.field.get(raw).map_or("", String::as_str)
    }

    /// Converts an enum value (once); [`Cache::variant`] then has it.
    fn variant_ident(&mut self, raw: &'a str) {
        self.variant
            .entry(raw)
            .or_insert_with(|| variant_ident(raw));
    }

    fn variant(&self, raw: &str) -> &str {
        self.variant.get(raw).map_or("", String::as_str)
    }
}

fn suffix_snake(base: &str, n: usize) -> String {
    format!("{base}_{n}")
}

/// [`unique`] for each of `bases` in order, in a scope of their own. Most scopes have no
/// collision at all: then the names are the bases, found without building the set.
fn unique_all(bases: &[&str], with: impl Fn(&str, usize) -> String) -> Vec<String> {
    let collision = bases.len() > 64
        || bases
            .iter()
            .enumerate()
            .any(|(i, a)| bases[..i].iter().any(|b| a.eq_ignore_ascii_case(b)));
    if !collision {
        return bases.iter().map(|b| (*b).to_owned()).collect();
    }
    let mut taken = FxHashSet::default();
    bases.iter().map(|b| unique(b, &mut taken, &with)).collect()
}

/// Returns `base` if free, else `base2`, `base3`… (via `with`), and marks it taken.
/// `taken` holds lowercase keys: names differing only in case are kept apart too, since they
/// confuse readers and case-insensitive file systems (rustdoc writes one file per type).
fn unique(
    base: &str,
    taken: &mut FxHashSet<String>,
    with: impl Fn(&str, usize) -> String,
) -> String {
    let mut candidate = base.to_owned();
    let mut n = 2;
    loop {
        let key = candidate.to_ascii_lowercase();
        if !taken.contains(&key) {
            taken.insert(key);
            return candidate;
        }
        candidate = with(base, n);
        n += 1;
    }
}

/// Words only: separators and symbols become spaces, so the case conversion sees word
/// boundaries. Non-ASCII letters and digits are dropped first (`Ünïcödé` → `ncd`), so case
/// conversion sees what remains: a type name still starts with an uppercase letter. The result
/// holds ASCII letters, digits and spaces only.
fn words(raw: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c as u8);
        } else if c.is_ascii() || !c.is_alphanumeric() {
            out.push(b' ');
        }
    }
    out
}

/// A case convention of [`convert`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Case {
    /// `UpperCamelCase`: each word capitalised, joined with nothing.
    UpperCamel,
    /// `snake_case`: each word lowercased, joined with `_`.
    Snake,
}

/// heck's conversion of [`words`]' output (ASCII letters, digits and spaces). Most names are
/// words whose uppercase letters each begin a word: `created`, `payment method`,
/// `CreateChatCompletionRequest`, `paymentMethod`. For those heck's result is known without
/// running it: heck splits a word before an uppercase letter that follows a lowercase one, so
/// each word is capitalised (UpperCamelCase: the first letter uppercased, the rest as is) or
/// lowercased and joined with `_` (snake_case). Everything else goes through heck, which
/// decides word boundaries in runs of capitals and after digits (`XMLHttpRequest`, `a1B`). A
/// unit test holds the shortcut to heck on many names.
fn convert(words: &[u8], case: Case) -> String {
    use heck::{ToSnakeCase, ToUpperCamelCase};
    let simple = words.iter().enumerate().all(|(i, b)| {
        !b.is_ascii_uppercase() || i == 0 || matches!(words[i - 1], b' ' | b'a'..=b'z')
    });
    if simple {
        let mut out = String::with_capacity(words.len() + 8);
        for word in words.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
            match case {
                Case::UpperCamel => {
                    out.push(char::from(word[0].to_ascii_uppercase()));
                    out.extend(word[1..].iter().map(|&b| char::from(b)));
                }
                Case::Snake => {
                    if !out.is_empty() {
                        out.push('_');
                    }
                    for (i, &b) in word.iter().enumerate() {
                        if i > 0 && b.is_ascii_uppercase() {
                            out.push('_');
                        }
                        out.push(char::from(b.to_ascii_lowercase()));
                    }
                }
            }
        }
        return out;
    }
    // `words` holds ASCII only, so this is valid UTF-8 and heck's output is ASCII.
    let text = String::from_utf8_lossy(words);
    match case {
        Case::UpperCamel => text.to_upper_camel_case(),
        Case::Snake => text.to_snake_case(),
    }
}

/// An UpperCamelCase type name.
#[cfg(test)]
pub fn type_ident(raw: &str) -> String {
    finish_type_ident(camel_part(raw))
}

/// The UpperCamelCase conversion of a name or one of its words, ASCII only.
fn camel_part(raw: &str) -> String {
    convert(&words(raw), Case::UpperCamel)
}

fn finish_type_ident(mut s: String) -> String {
    if s.is_empty() {
        s = "Unnamed".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert_str(0, "Type");
    }
    s
}

/// An UpperCamelCase variant name for an enum value or union member.
pub fn variant_ident(raw: &str) -> String {
    let mut s = convert(&words(raw), Case::UpperCamel);
    if s.is_empty() {
        s = if raw.is_empty() {
            "Empty".into()
        } else {
            "Symbol".into()
        };
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    if s == "Self" {
        s.push_str("Value");
    }
    s
}

/// A snake_case field name; keywords become raw identifiers (`r#type`).
pub fn field_ident(raw: &str) -> String {
    let mut s = convert(&words(raw), Case::Snake);
    if s.is_empty() {
        s = "empty".into();
    }
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, '_');
    }
    escape_keyword(s)
}

/// A snake_case module name for an operation.
pub fn module_ident(raw: &str) -> String {
    let s = field_ident(raw);
    if RESERVED_MODULES.contains(&s.as_str()) {
        format!("{s}_op")
    } else {
        s
    }
}

fn escape_keyword(s: String) -> String {
    if NOT_RAW.contains(&s.as_str()) {
        format!("{s}_")
    } else if KEYWORDS.contains(&s.as_str()) {
        format!("r#{s}")
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_valid_identifiers() {
        assert_eq!(field_ident(" fees_on_customer"), "fees_on_customer");
        assert_eq!(field_ident("type"), "r#type");
        assert_eq!(field_ident("self"), "self_");
        assert_eq!(field_ident("gen"), "r#gen");
        assert_eq!(field_ident("3ds"), "_3ds");
        assert_eq!(field_ident(""), "empty");
        assert_eq!(field_ident("fooBar"), "foo_bar");
        assert_eq!(field_ident("$ref"), "r#ref");
        assert_eq!(field_ident("@@"), "empty");
    }

    #[test]
    fn types_and_variants_are_valid_identifiers() {
        assert_eq!(type_ident("checkout-item"), "CheckoutItem");
        assert_eq!(type_ident("3DSecure"), "Type3dSecure");
        assert_eq!(type_ident(""), "Unnamed");
        assert_eq!(variant_ident("checkout.paid"), "CheckoutPaid");
        assert_eq!(variant_ident(""), "Empty");
        assert_eq!(variant_ident("+"), "Symbol");
        assert_eq!(variant_ident("1"), "V1");
        assert_eq!(variant_ident("Self"), "SelfValue");
        assert_eq!(type_ident("ünï"), "N");
        assert_eq!(type_ident("日本"), "Unnamed");
        assert_eq!(variant_ident("é"), "Symbol");
        assert_eq!(field_ident("ünïcödé"), "ncd");
    }

    /// The conversion with heck alone: `words` as a string, heck, then only the ASCII
    /// characters kept.
    fn with_heck(raw: &str, case: Case) -> String {
        use heck::{ToSnakeCase, ToUpperCamelCase};
        let words: String = raw
            .chars()
            .filter(|c| c.is_ascii() || !c.is_alphanumeric())
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        let converted = match case {
            Case::UpperCamel => words.to_upper_camel_case(),
            Case::Snake => words.to_snake_case(),
        };
        converted.chars().filter(char::is_ascii).collect()
    }

    #[test]
    fn conversions_are_hecks() {
        let mut names: Vec<String> = [
            "",
            " ",
            "a",
            "A",
            "1",
            "XMLHttpRequest",
            "HTTPServer",
            "api Key",
            "ABCdef",
            "EF9x",
            "get_accounts_account_bank_accounts_id",
            "fooBar",
            "foo-bar",
            "foo_bar",
            "FOO_BAR11",
            "3DSecure",
            "3ds",
            "x-y",
            "  leading and trailing  ",
            "This is Human case.",
            "MixedUP CamelCase, with some Spaces",
            "this-contains_ ALLKinds OfWord_Boundaries",
            "XΣXΣ baﬄe",
            "ünïcödé",
            "日本",
            "Σ",
            "aΣb",
            "ÀB",
            "aÉb",
            "a—b",
            "a\u{2003}b",
            "Last-Event-ID",
            "$ref",
            "@@",
            "ISO8601DateTime",
            "v2Beta1API",
            "A1B2c3D4",
            "ABc",
            "AbC",
            "aBC",
            "a1A",
            "A1a",
            "1aA",
            "CreateChatCompletionRequest",
            "paymentMethod details",
            "aB",
            "abC1d",
            "a1B",
            "Ab1Cd",
            "x9Y z",
            "fooBarBAZ",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // And many pseudo-random ones over an alphabet with every class of character.
        let alphabet: Vec<char> = "aAbBzZ019 _-./$ÉéΣσ日ﬄ\u{2003}".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let len = (state % 12) as usize;
            let mut name = String::new();
            let mut bits = state;
            for _ in 0..len {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                bits = bits.rotate_left(7) ^ state;
                name.push(alphabet[(bits % alphabet.len() as u64) as usize]);
            }
            names.push(name);
        }
        for name in &names {
            for case in [Case::UpperCamel, Case::Snake] {
                assert_eq!(
                    convert(&words(name), case),
                    with_heck(name, case),
                    "{name:?} {case:?}"
                );
            }
        }
    }

    #[test]
    fn memoised_type_names_are_the_names_of_the_joined_words() {
        let hints: &[&[&str]] = &[
            &["Checkout", "status"],
            &["get_accounts", "Params"],
            &["3ds", "Request"],
            &["", ""],
            &["ünï", "日本", "x-y"],
            &["HTTPServer", "api Key", "ABCdef"],
            &["a", "B", "cD", "EF9x"],
            &["Σ", "ΣΣ"],
            &["-", "3"],
        ];
        for hint in hints {
            let words: Vec<String> = hint.iter().map(|w| (*w).to_owned()).collect();
            assert_eq!(
                Cache::default().type_ident(&words),
                type_ident(&words.join(" ")),
                "{hint:?}"
            );
        }
    }

    #[test]
    fn collisions_after_case_conversion_get_suffixes() {
        let mut taken = FxHashSet::default();
        let got: Vec<String> = ["foo-bar", "foo_bar", "fooBar"]
            .iter()
            .map(|w| unique(&field_ident(w), &mut taken, suffix_snake))
            .collect();
        assert_eq!(got, ["foo_bar", "foo_bar_2", "foo_bar_3"]);
        let mut taken: FxHashSet<String> = RESERVED_TYPES
            .iter()
            .map(|s| s.to_ascii_lowercase())
            .collect();
        assert_eq!(
            unique(&type_ident("Option"), &mut taken, |b, n| format!("{b}{n}")),
            "Option2"
        );
        assert_eq!(
            unique(&type_ident("Thing"), &mut taken, |b, n| format!("{b}{n}")),
            "Thing"
        );
        assert_eq!(
            unique(&type_ident("thing"), &mut taken, |b, n| format!("{b}{n}")),
            "Thing2"
        );
    }
}
