//! Passes over the lowered IR: `Box` where a cycle needs it, and which traits each type can
//! honestly derive.

use crate::ir::{Ir, Kind, Presence, Ty, TypeId};

/// Boxes every direct containment edge (struct field, union variant, alias) that stays inside a
/// strongly connected component of the type graph. `Vec` and maps already provide indirection,
/// so only edges through plain values and `Option` can make a type infinitely large.
pub fn insert_boxes(ir: &mut Ir) {
    let n = ir.types.len();
    let edges: Vec<Vec<usize>> = (0..n).map(|i| direct_targets(&ir.types[i].kind)).collect();
    let component = tarjan(&edges);
    for i in 0..n {
        let same =
            |t: TypeId| component[t.0] == component[i] && (t.0 != i || edges[i].contains(&i));
        match &mut ir.types[i].kind {
            Kind::Struct(s) => {
                for f in &mut s.fields {
                    box_direct(&mut f.ty, &same);
                }
            }
            Kind::Untagged(vs) => {
                for v in vs {
                    box_direct(&mut v.ty, &same);
                }
            }
            Kind::Tagged(t) => {
                for (_, v) in &mut t.variants {
                    box_direct(&mut v.ty, &same);
                }
            }
            Kind::Alias(_) | Kind::Enum(_) | Kind::IntEnum(_) => {}
        }
    }
}

fn direct_targets(kind: &Kind) -> Vec<usize> {
    let mut out = Vec::new();
    let mut add = |ty: &Ty| {
        if let Some(id) = direct(ty) {
            out.push(id.0);
        }
    };
    match kind {
        Kind::Struct(s) => s.fields.iter().for_each(|f| add(&f.ty)),
        Kind::Untagged(vs) => vs.iter().for_each(|v| add(&v.ty)),
        Kind::Tagged(t) => t.variants.iter().for_each(|(_, v)| add(&v.ty)),
        Kind::Alias(ty) => add(ty),
        Kind::Enum(_) | Kind::IntEnum(_) => {}
    }
    out
}

/// The named type held inline (not behind a `Vec`, map or `Box`), if any.
fn direct(ty: &Ty) -> Option<TypeId> {
    match ty {
        Ty::Named(id) => Some(*id),
        Ty::Option(inner) => direct(inner),
        _ => None,
    }
}

fn box_direct(ty: &mut Ty, same: &impl Fn(TypeId) -> bool) {
    match ty {
        Ty::Named(id) if same(*id) => *ty = Ty::Box(Box::new(Ty::Named(*id))),
        Ty::Option(inner) => box_direct(inner, same),
        _ => {}
    }
}

/// Strongly connected components (iterative Tarjan); returns each node's component number.
fn tarjan(edges: &[Vec<usize>]) -> Vec<usize> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut component = vec![usize::MAX; n];
    let mut next_index = 0;
    let mut next_component = 0;
    for start in 0..n {
        if index[start] != usize::MAX {
            continue;
        }
        let mut work = vec![(start, 0usize)];
        while let Some((v, edge)) = work.pop() {
            if edge == 0 {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = edges[v].get(edge) {
                work.push((v, edge + 1));
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component[w] = next_component;
                    if w == v {
                        break;
                    }
                }
                next_component += 1;
            }
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
        }
    }
    component
}

/// Traits a type can derive beyond `Debug`, `Clone`, `PartialEq`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Derives {
    pub eq: bool,
    pub hash: bool,
    pub default: bool,
    pub copy: bool,
}

/// Chooses derives by analysis: `Eq` without floats, `Hash` without floats or JSON values,
/// `Default` only for structs whose every field may be absent, `Copy` for field-less enums.
pub fn derives(ir: &Ir) -> Vec<Derives> {
    let n = ir.types.len();
    // Start optimistic and remove what any reachable part forbids, until nothing changes.
    let mut eq = vec![true; n];
    let mut hash = vec![true; n];
    loop {
        let mut changed = false;
        for i in 0..n {
            let (e, h) = match &ir.types[i].kind {
                Kind::Struct(s) => {
                    let tys = s.fields.iter().map(|f| &f.ty).chain(s.additional.iter());
                    tys.fold((true, true), |(e, h), t| {
                        let (te, th) = ty_traits(t, &eq, &hash);
                        (e && te, h && th)
                    })
                }
                Kind::Untagged(vs) => vs.iter().fold((true, true), |(e, h), v| {
                    let (te, th) = ty_traits(&v.ty, &eq, &hash);
                    (e && te, h && th)
                }),
                // The unknown-tag variant holds a `serde_json::Value`: `Eq` but not `Hash`.
                Kind::Tagged(t) => t.variants.iter().fold((true, false), |(e, h), (_, v)| {
                    let (te, th) = ty_traits(&v.ty, &eq, &hash);
                    (e && te, h && th)
                }),
                Kind::Alias(ty) => ty_traits(ty, &eq, &hash),
                Kind::Enum(_) | Kind::IntEnum(_) => (true, true),
            };
            if (e, h) != (eq[i], hash[i]) {
                changed = true;
                eq[i] = e;
                hash[i] = h;
            }
        }
        if !changed {
            break;
        }
    }
    (0..n)
        .map(|i| {
            let (default, copy) = match &ir.types[i].kind {
                Kind::Struct(s) => (
                    s.fields.iter().all(|f| {
                        matches!(f.presence, Presence::Optional | Presence::OptionalNullable)
                    }),
                    false,
                ),
                Kind::Enum(e) => (false, !e.catch_all),
                Kind::IntEnum(_) => (false, true),
                _ => (false, false),
            };
            Derives {
                eq: eq[i],
                hash: hash[i],
                default,
                copy,
            }
        })
        .collect()
}

fn ty_traits(ty: &Ty, eq: &[bool], hash: &[bool]) -> (bool, bool) {
    match ty {
        Ty::F32 | Ty::F64 => (false, false),
        Ty::Json | Ty::JsonObject => (true, false),
        Ty::Named(id) => (eq[id.0], hash[id.0]),
        Ty::Vec(t) | Ty::Map(t) | Ty::Option(t) | Ty::Box(t) => ty_traits(t, eq, hash),
        Ty::String | Ty::Bool | Ty::I32 | Ty::I64 | Ty::U32 | Ty::U64 => (true, true),
    }
}

#[cfg(test)]
mod tests {
    use super::tarjan;

    #[test]
    fn tarjan_finds_cycles_and_singletons() {
        // 0 → 1 → 2 → 0, 3 → 3, 4 alone.
        let c = tarjan(&[vec![1], vec![2], vec![0], vec![3], vec![]]);
        assert_eq!(c[0], c[1]);
        assert_eq!(c[1], c[2]);
        assert_ne!(c[3], c[0]);
        assert_ne!(c[4], c[3]);
    }
}
