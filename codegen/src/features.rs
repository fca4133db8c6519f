//! Cargo features per group of operations ([`crate::Features::PerTag`]), so a crate compiles
//! only the operations it uses and the types they need.
//!
//! Operations are grouped by their first tag; an untagged operation by its resource, the first
//! path segment after the prefix every path shares (Stripe tags nothing: `/v1/customers/{id}`
//! is in `customers`). Each group is one feature. A type is compiled when a feature of an
//! operation (or webhook) that reaches it is on: its items carry
//! `#[cfg(any(feature = "a", …))]`. Types every group reaches, and types no operation or
//! webhook reaches (with all they mention), carry no gate: an unreferenced schema stays
//! usable.
//!
//! Reachability is closed under "mentions", so a gated type is never compiled without a type
//! it mentions.

use std::collections::BTreeSet;

use crate::ir::{Ir, Kind, Ty, TypeId};

/// What each item of the output is compiled under.
#[derive(Debug, Clone, Default)]
pub struct Gates {
    /// The features, sorted: what the including crate declares.
    pub features: Vec<String>,
    /// Per operation: the `cfg` predicate (`feature = "a"`).
    pub operations: Vec<String>,
    /// Per type: its `cfg` predicate, or `None` when it is always compiled.
    pub types: Vec<Option<String>>,
    /// The `webhooks` module's predicate, when the document declares webhooks.
    pub webhooks: Option<String>,
}

/// A feature name cargo accepts, from a tag or segment: kebab case of ASCII letters, digits,
/// `-` and `_` (other characters are dropped; `api` when nothing is left), after `prefix`. A
/// name cargo gives a meaning (`default`) or the crate already uses (`reserved`: the hyper
/// transport's feature) gets `tag-` before it.
fn feature_name(prefix: &str, group: &str, reserved: &[&str]) -> String {
    let kebab = heck::ToKebabCase::to_kebab_case(group);
    let mut name: String = kebab
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    name = name.trim_matches('-').to_owned();
    if name.is_empty() {
        name.push_str("api");
    }
    let name = format!("{prefix}{name}");
    if name == "default" || reserved.contains(&name.as_str()) {
        format!("tag-{name}")
    } else {
        name
    }
}

/// `prefix` as the start of a feature name: ASCII letters, digits, `-` and `_` only, not
/// starting with `-`.
pub fn clean_prefix(prefix: &str) -> String {
    let kept: String = prefix
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    kept.trim_start_matches('-').to_owned()
}

/// The group of each operation: its tag, else its resource.
fn groups(ir: &Ir) -> Vec<String> {
    let segments: Vec<Vec<&str>> = ir
        .operations
        .iter()
        .map(|op| op.path.split('/').filter(|s| !s.is_empty()).collect())
        .collect();
    // The literal segments every longer path starts with (`v1`): not a resource. A path that
    // is only that prefix (`/v1`) does not stop it; it is in `root`.
    let mut common = 0;
    loop {
        let longer: Vec<&Vec<&str>> = segments.iter().filter(|s| s.len() > common + 1).collect();
        let Some(first) = longer.first().map(|s| s[common]) else {
            break;
        };
        let shared = !first.starts_with('{')
            && longer.len() > 1
            && longer.iter().all(|s| s[common] == first)
            && segments
                .iter()
                .all(|s| s.len() <= common || s[common] == first);
        if !shared {
            break;
        }
        common += 1;
    }
    ir.operations
        .iter()
        .zip(&segments)
        .map(|(op, segs)| match &op.tag {
            Some(tag) if !tag.trim().is_empty() => tag.clone(),
            _ => segs
                .get(common)
                .filter(|s| !s.starts_with('{'))
                .map_or_else(|| "root".to_owned(), |s| (*s).to_owned()),
        })
        .collect()
}

/// Every named type a type expression mentions.
fn mentions(ty: &Ty, out: &mut Vec<TypeId>) {
    match ty {
        Ty::Named(id) => out.push(*id),
        Ty::Vec(t) | Ty::Map(t) | Ty::Option(t) | Ty::Box(t) => mentions(t, out),
        _ => {}
    }
}

/// The types a type's declaration mentions.
fn edges(kind: &Kind) -> Vec<TypeId> {
    let mut out = Vec::new();
    match kind {
        Kind::Struct(s) => {
            for f in &s.fields {
                mentions(&f.ty, &mut out);
            }
            if let Some(ty) = &s.additional {
                mentions(ty, &mut out);
            }
        }
        Kind::Enum(_) | Kind::IntEnum(_) => {}
        Kind::Untagged(variants) => {
            for v in variants {
                mentions(&v.ty, &mut out);
            }
        }
        Kind::Tagged(t) => {
            for (_, v) in &t.variants {
                mentions(&v.ty, &mut out);
            }
        }
        Kind::Alias(ty) | Kind::Newtype(ty) => mentions(ty, &mut out),
        Kind::Tuple(t) => {
            for ty in &t.items {
                mentions(ty, &mut out);
            }
        }
    }
    out
}

/// Marks every type reachable from `roots` in `seen` (iterative: deep specs cannot overflow
/// the stack), calling `visit` once per newly reached type.
fn reach(
    adjacency: &[Vec<TypeId>],
    roots: Vec<TypeId>,
    seen: &mut [bool],
    mut visit: impl FnMut(usize),
) {
    let mut stack = roots;
    while let Some(TypeId(t)) = stack.pop() {
        if t >= seen.len() || seen[t] {
            continue;
        }
        seen[t] = true;
        visit(t);
        stack.extend(adjacency[t].iter().copied());
    }
}

/// The `cfg` predicate of a set of features.
fn predicate(features: &[String], set: &BTreeSet<usize>) -> String {
    let one = |i: &usize| format!("feature = \"{}\"", features[*i]);
    if set.len() == 1 {
        set.iter().map(one).collect()
    } else {
        let list: Vec<String> = set.iter().map(one).collect();
        format!("any({})", list.join(", "))
    }
}

/// The gates of every item, with feature names after `prefix` (cleaned by [`clean_prefix`]),
/// none of them one of `reserved`.
pub fn gates(ir: &Ir, prefix: &str, reserved: &[&str]) -> Gates {
    let prefix = clean_prefix(prefix);
    let adjacency: Vec<Vec<TypeId>> = ir.types.iter().map(|d| edges(&d.kind)).collect();
    let op_features: Vec<String> = groups(ir)
        .iter()
        .map(|g| feature_name(&prefix, g, reserved))
        .collect();
    let webhook_feature =
        (!ir.webhooks.is_empty()).then(|| feature_name(&prefix, "webhooks", reserved));
    let features: Vec<String> = op_features
        .iter()
        .chain(&webhook_feature)
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let index = |name: &str| features.binary_search_by(|f| f.as_str().cmp(name)).ok();

    // The roots of each feature.
    let mut roots: Vec<Vec<TypeId>> = vec![Vec::new(); features.len()];
    for (op, feature) in ir.operations.iter().zip(&op_features) {
        let Some(i) = index(feature) else { continue };
        roots[i].extend(op.params);
        if let Some(ty) = &op.body {
            mentions(ty, &mut roots[i]);
        }
        for r in &op.responses {
            if let crate::ir::ResponseBody::Json(ty) = &r.body {
                mentions(ty, &mut roots[i]);
            }
        }
    }
    if let Some(i) = webhook_feature.as_deref().and_then(index) {
        for w in &ir.webhooks {
            if let Some(ty) = &w.payload {
                mentions(ty, &mut roots[i]);
            }
        }
    }

    let n = ir.types.len();
    let mut reached_by: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); n];
    for (i, roots) in roots.into_iter().enumerate() {
        let mut seen = vec![false; n];
        reach(&adjacency, roots, &mut seen, |t| {
            reached_by[t].insert(i);
        });
    }
    // What no feature reaches is always compiled, and so is all it mentions.
    let mut always = vec![false; n];
    let unreached: Vec<TypeId> = (0..n)
        .filter(|&t| reached_by[t].is_empty())
        .map(TypeId)
        .collect();
    reach(&adjacency, unreached, &mut always, |_| {});

    let types = (0..n)
        .map(|t| {
            let set = &reached_by[t];
            (!always[t] && set.len() < features.len()).then(|| predicate(&features, set))
        })
        .collect();
    let operations = op_features
        .iter()
        .map(|f| format!("feature = \"{f}\""))
        .collect();
    Gates {
        webhooks: webhook_feature.map(|f| format!("feature = \"{f}\"")),
        features,
        operations,
        types,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_are_ones_cargo_accepts() {
        let name = |prefix, group| feature_name(prefix, group, &["hyper"]);
        assert_eq!(name("", "Payment Links"), "payment-links");
        assert_eq!(name("api-", "payment_intents"), "api-payment-intents");
        assert_eq!(name("", "Über ☃"), "ber");
        assert_eq!(name("", "½ price ²"), "price");
        assert_eq!(name("", "a/b.c"), "a-b-c");
        assert_eq!(name("", "☃"), "api");
        assert_eq!(name("", "CheckoutSessions"), "checkout-sessions");
        // Names cargo or the crate already use.
        assert_eq!(name("", "Default"), "tag-default");
        assert_eq!(name("", "Hyper"), "tag-hyper");
        assert_eq!(name("x-", "Hyper"), "x-hyper");
        assert_eq!(clean_prefix("-a b\"dep:"), "abdep");
    }

    fn op(path: &str, tag: Option<&str>) -> crate::ir::Operation {
        crate::ir::Operation {
            id: path.to_owned(),
            method: "GET".into(),
            path: path.to_owned(),
            summary: None,
            tag: tag.map(str::to_owned),
            deprecated: false,
            params: None,
            body: None,
            body_required: false,
            body_media: None,
            form: None,
            body_content: Vec::new(),
            responses: Vec::new(),
            wires: Vec::new(),
            security: Vec::new(),
            pagination: None,
        }
    }

    #[test]
    fn untagged_operations_are_grouped_by_resource_after_the_shared_prefix() {
        let ir = Ir {
            operations: vec![
                op("/v1", None),
                op("/v1/customers", None),
                op("/v1/customers/{id}", None),
                op("/v1/charges/{id}/refund", None),
                op("/v1/{account}", None),
                op("/v1/things", Some("Things")),
            ],
            ..Ir::default()
        };
        assert_eq!(
            groups(&ir),
            [
                "root",
                "customers",
                "customers",
                "charges",
                "root",
                "Things"
            ]
        );
        // One operation: its first segment.
        let one = Ir {
            operations: vec![op("/balance", None)],
            ..Ir::default()
        };
        assert_eq!(groups(&one), ["balance"]);
    }
}
