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

use std::collections::BTreeSet;

use heck::{ToSnakeCase, ToUpperCamelCase};

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
const RESERVED_MODULES: &[&str] = &[
    "operations",
    "support",
    "schemas",
    "serde",
    "serde_json",
    "serde_path_to_error",
    "std",
    "core",
    "alloc",
];

/// Runs the naming pass over the whole IR.
pub fn assign(ir: &Ir) -> Names {
    let mut names = Names {
        types: vec![String::new(); ir.types.len()],
        ..Names::default()
    };

    // Types: component schemas first (they keep their spec names), then inline ones.
    let mut order: Vec<usize> = (0..ir.types.len()).collect();
    order.sort_by_key(|&i| (!ir.types[i].hint.component, i));
    let mut taken: BTreeSet<String> = RESERVED_TYPES
        .iter()
        .map(|s| s.to_ascii_lowercase())
        .collect();
    for i in order {
        let base = type_ident(&ir.types[i].hint.words.join(" "));
        names.types[i] = unique(&base, &mut taken, |b, n| format!("{b}{n}"));
    }

    for (i, def) in ir.types.iter().enumerate() {
        let id = TypeId(i);
        match &def.kind {
            Kind::Struct(s) => {
                let mut taken = BTreeSet::new();
                let mut fields: Vec<String> = s
                    .fields
                    .iter()
                    .map(|f| unique(&field_ident(&f.wire), &mut taken, suffix_snake))
                    .collect();
                if s.additional.is_some() {
                    fields.push(unique("additional_properties", &mut taken, suffix_snake));
                }
                names.fields.insert(id, fields);
            }
            Kind::Enum(e) => {
                let mut taken = BTreeSet::new();
                let mut variants: Vec<String> = e
                    .values
                    .iter()
                    .map(|v| unique(&variant_ident(v), &mut taken, |b, n| format!("{b}{n}")))
                    .collect();
                if e.catch_all {
                    variants.push(unique("Unknown", &mut taken, |b, n| format!("{b}{n}")));
                }
                names.variants.insert(id, variants);
            }
            Kind::IntEnum(e) => {
                let mut taken = BTreeSet::new();
                let variants = e
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
                names.variants.insert(id, variants);
            }
            Kind::Untagged(vs) => {
                let mut taken = BTreeSet::new();
                let variants = vs
                    .iter()
                    .map(|v| {
                        unique(&variant_ident(&v.hint.join(" ")), &mut taken, |b, n| {
                            format!("{b}{n}")
                        })
                    })
                    .collect();
                names.variants.insert(id, variants);
            }
            Kind::Tagged(t) => {
                let mut taken = BTreeSet::new();
                let mut variants: Vec<String> = t
                    .variants
                    .iter()
                    .map(|(tag, _)| {
                        unique(&variant_ident(tag), &mut taken, |b, n| format!("{b}{n}"))
                    })
                    .collect();
                variants.push(unique("Unknown", &mut taken, |b, n| format!("{b}{n}")));
                names.variants.insert(id, variants);
            }
            Kind::Alias(_) | Kind::Newtype(_) => {}
        }
    }

    let mut taken: BTreeSet<String> = BTreeSet::new();
    names.operations = ir
        .operations
        .iter()
        .map(|op| unique(&module_ident(&op.id), &mut taken, suffix_snake))
        .collect();
    names
}

fn suffix_snake(base: &str, n: usize) -> String {
    format!("{base}_{n}")
}

/// Returns `base` if free, else `base2`, `base3`… (via `with`), and marks it taken.
/// `taken` holds lowercase keys: names differing only in case are kept apart too, since they
/// confuse readers and case-insensitive file systems (rustdoc writes one file per type).
fn unique(
    base: &str,
    taken: &mut BTreeSet<String>,
    with: impl Fn(&str, usize) -> String,
) -> String {
    let mut candidate = base.to_owned();
    let mut n = 2;
    while taken.contains(&candidate.to_ascii_lowercase()) {
        candidate = with(base, n);
        n += 1;
    }
    taken.insert(candidate.to_ascii_lowercase());
    candidate
}

/// Words only: separators and symbols become spaces, so heck sees word boundaries. Non-ASCII
/// letters and digits are dropped first (`Ünïcödé` → `ncd`), so case conversion sees what
/// remains: a type name still starts with an uppercase letter.
fn words(raw: &str) -> String {
    raw.chars()
        .filter(|c| c.is_ascii() || !c.is_alphanumeric())
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect()
}

/// An UpperCamelCase type name.
pub fn type_ident(raw: &str) -> String {
    let mut s = ascii_only(&words(raw).to_upper_camel_case());
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
    let mut s = ascii_only(&words(raw).to_upper_camel_case());
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
    let mut s = ascii_only(&words(raw).to_snake_case());
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

/// Identifiers must be ASCII here (non-ASCII identifiers trip `non_ascii_idents` and are
/// hard to type); other characters are transliterated to nothing.
fn ascii_only(s: &str) -> String {
    s.chars().filter(char::is_ascii).collect()
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

    #[test]
    fn collisions_after_case_conversion_get_suffixes() {
        let mut taken = BTreeSet::new();
        let got: Vec<String> = ["foo-bar", "foo_bar", "fooBar"]
            .iter()
            .map(|w| unique(&field_ident(w), &mut taken, suffix_snake))
            .collect();
        assert_eq!(got, ["foo_bar", "foo_bar_2", "foo_bar_3"]);
        let mut taken: BTreeSet<String> = RESERVED_TYPES
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
