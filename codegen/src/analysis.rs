//! Passes over the lowered IR: `Box` where a cycle needs it, and which traits each type can
//! honestly derive.

use crate::ir::{Ir, Kind, Presence, Ty, TypeId};

/// Boxes the direct containment edges (struct field, union variant) that close a cycle: the
/// back edges of a depth-first search in document order. Removing a DFS's back edges leaves
/// the graph acyclic, so every infinitely sized type gets the indirection it needs, usually
/// one `Box` per cycle rather than one per edge. `Vec` and maps already provide indirection
/// and are not edges.
pub fn insert_boxes(ir: &mut Ir) {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnStack,
        Done,
    }
    let n = ir.types.len();
    // Edges per type: (target, slot), where slot indexes the field or variant holding it.
    let edges: Vec<Vec<(usize, usize)>> =
        (0..n).map(|i| direct_targets(&ir.types[i].kind)).collect();
    let mut back: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut state = vec![State::New; n];
    for start in 0..n {
        if state[start] != State::New {
            continue;
        }
        state[start] = State::OnStack;
        let mut stack = vec![(start, 0usize)];
        while let Some((v, next)) = stack.last_mut() {
            let v = *v;
            if let Some(&(w, slot)) = edges[v].get(*next) {
                *next += 1;
                match state[w] {
                    State::New => {
                        state[w] = State::OnStack;
                        stack.push((w, 0));
                    }
                    State::OnStack => back[v].push(slot),
                    State::Done => {}
                }
            } else {
                state[v] = State::Done;
                stack.pop();
            }
        }
    }
    for (i, slots) in back.into_iter().enumerate() {
        for slot in slots {
            match &mut ir.types[i].kind {
                Kind::Struct(s) => box_direct(&mut s.fields[slot].ty),
                Kind::Untagged(vs) => box_direct(&mut vs[slot].ty),
                Kind::Tagged(t) => box_direct(&mut t.variants[slot].1.ty),
                Kind::Alias(ty) => box_direct(ty),
                Kind::Enum(_) | Kind::IntEnum(_) => {}
            }
        }
    }
}

fn direct_targets(kind: &Kind) -> Vec<(usize, usize)> {
    let tys: Vec<&Ty> = match kind {
        Kind::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
        Kind::Untagged(vs) => vs.iter().map(|v| &v.ty).collect(),
        Kind::Tagged(t) => t.variants.iter().map(|(_, v)| &v.ty).collect(),
        Kind::Alias(ty) => vec![ty],
        Kind::Enum(_) | Kind::IntEnum(_) => Vec::new(),
    };
    tys.into_iter()
        .enumerate()
        .filter_map(|(slot, ty)| direct(ty).map(|id| (id.0, slot)))
        .collect()
}

/// The named type held inline (not behind a `Vec`, map or `Box`), if any.
fn direct(ty: &Ty) -> Option<TypeId> {
    match ty {
        Ty::Named(id) => Some(*id),
        Ty::Option(inner) => direct(inner),
        _ => None,
    }
}

fn box_direct(ty: &mut Ty) {
    match ty {
        Ty::Named(id) => *ty = Ty::Box(Box::new(Ty::Named(*id))),
        Ty::Option(inner) => box_direct(inner),
        _ => {}
    }
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
                    let declared = s
                        .fields
                        .iter()
                        .filter(|f| f.presence != Presence::Forbidden);
                    let tys = declared.map(|f| &f.ty).chain(s.additional.iter());
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
                        !matches!(f.presence, Presence::Required | Presence::RequiredNullable)
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
