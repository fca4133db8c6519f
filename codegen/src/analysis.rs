//! Passes over the lowered IR: `Box` where a cycle needs it, a newtype where an alias would be
//! recursive, and which traits each type can honestly derive.

use crate::ir::{Ir, Kind, Presence, ResponseBody, Ty, TypeId};

/// Boxes the direct containment edges (struct field, union variant) that close a cycle: the
/// back edges of a depth-first search in document order. Removing a DFS's back edges leaves
/// the graph acyclic, so every infinitely sized type gets the indirection it needs, usually
/// one `Box` per cycle rather than one per edge. `Vec` and maps already provide indirection
/// and are not edges.
pub fn insert_boxes(ir: &mut Ir) {
    let n = ir.types.len();
    // Edges per type: (target, slot), where slot indexes the field or variant holding it.
    let edges: Vec<Vec<(usize, usize)>> =
        (0..n).map(|i| direct_targets(&ir.types[i].kind)).collect();
    let back = back_edges(&edges);
    for (i, slots) in back.into_iter().enumerate() {
        for slot in slots {
            match &mut ir.types[i].kind {
                Kind::Struct(s) => box_direct(&mut s.fields[slot].ty),
                Kind::Untagged(vs) => box_direct(&mut vs[slot].ty),
                Kind::Tagged(t) => box_direct(&mut t.variants[slot].1.ty),
                Kind::Alias(ty) | Kind::Newtype(ty) => box_direct(ty),
                Kind::Tuple(t) => box_direct(&mut t.items[slot]),
                Kind::Enum(_) | Kind::IntEnum(_) => {}
            }
        }
    }
}

/// Rust type aliases cannot be recursive, even through `Vec` or a map (`type Tree =
/// Vec<Tree>;` is a compile error). An alias that closes a cycle of aliases (a back edge of a
/// depth-first search in document order, as for boxes) becomes a `#[serde(transparent)]`
/// newtype: the same JSON, and a nominal type that ends the expansion.
pub fn break_alias_cycles(ir: &mut Ir) {
    let is_alias = |k: &Kind| matches!(k, Kind::Alias(_));
    let edges: Vec<Vec<(usize, usize)>> = ir
        .types
        .iter()
        .map(|def| match &def.kind {
            Kind::Alias(ty) => {
                let mut named = Vec::new();
                named_in(ty, &mut named);
                named
                    .into_iter()
                    .filter(|t| is_alias(&ir.types[*t].kind))
                    .map(|t| (t, 0))
                    .collect()
            }
            _ => Vec::new(),
        })
        .collect();
    for (i, slots) in back_edges(&edges).into_iter().enumerate() {
        if slots.is_empty() {
            continue;
        }
        let kind = std::mem::replace(&mut ir.types[i].kind, Kind::Alias(Ty::Json));
        ir.types[i].kind = match kind {
            Kind::Alias(ty) => Kind::Newtype(ty),
            other => other,
        };
    }
}

/// Every named type a type expression mentions, at any depth.
fn named_in(ty: &Ty, out: &mut Vec<usize>) {
    match ty {
        Ty::Named(id) => out.push(id.0),
        Ty::Vec(t) | Ty::Map(t) | Ty::Option(t) | Ty::Box(t) => named_in(t, out),
        _ => {}
    }
}

/// The back edges of a depth-first search over `edges` (`(target, slot)` per node), visiting
/// nodes and edges in order: per node, the slots of its edges that close a cycle. Removing
/// them leaves the graph acyclic. Iterative, so deep specs cannot overflow the stack.
fn back_edges(edges: &[Vec<(usize, usize)>]) -> Vec<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        New,
        OnStack,
        Done,
    }
    let n = edges.len();
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
    back
}

fn direct_targets(kind: &Kind) -> Vec<(usize, usize)> {
    let tys: Vec<&Ty> = match kind {
        Kind::Struct(s) => s.fields.iter().map(|f| &f.ty).collect(),
        Kind::Untagged(vs) => vs.iter().map(|v| &v.ty).collect(),
        Kind::Tagged(t) => t.variants.iter().map(|(_, v)| &v.ty).collect(),
        Kind::Alias(ty) | Kind::Newtype(ty) => vec![ty],
        Kind::Tuple(t) => t.items.iter().collect(),
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
    /// `PartialOrd` and `Ord` (string enums: declaration order, as derived).
    pub ord: bool,
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
                Kind::Alias(ty) | Kind::Newtype(ty) => ty_traits(ty, &eq, &hash),
                Kind::Tuple(t) => t.items.iter().fold((true, true), |(e, h), t| {
                    let (te, th) = ty_traits(t, &eq, &hash);
                    (e && te, h && th)
                }),
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
                ord: matches!(ir.types[i].kind, Kind::Enum(_)),
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

/// The most containers (`Vec`, map, `Option`, `Box`) a type expression may nest, counting
/// through type aliases, which expand. rustc gives up on deeper types (E0320, "overflow while
/// adding drop-check rules", between 48 and 64 nested maps), so a position past the limit is
/// typed `serde_json::Value`: it still decodes everything the schema allows (and the validator
/// still checks it), and the code compiles. Named structs, enums and newtypes start afresh.
pub const MAX_CONTAINER_DEPTH: usize = 32;

/// Applies [`MAX_CONTAINER_DEPTH`] to every type expression, aliases first, and records a
/// warning for each position cut.
pub fn cap_container_depth(ir: &mut Ir) {
    let n = ir.types.len();
    // The expanded depth of each alias, once capped (aliases may refer to aliases declared
    // later; cycles were broken into newtypes before this runs).
    let mut alias_depth: Vec<Option<usize>> = vec![None; n];
    let mut warnings = Vec::new();
    for i in 0..n {
        cap_alias(ir, i, &mut alias_depth, &mut warnings, 0);
    }
    for i in 0..n {
        let origin = ir.types[i].origin.clone();
        let mut cut = false;
        match &mut ir.types[i].kind {
            Kind::Struct(s) => {
                for f in &mut s.fields {
                    cut |= cap(&mut f.ty, MAX_CONTAINER_DEPTH, &alias_depth);
                }
                if let Some(a) = &mut s.additional {
                    cut |= cap(a, MAX_CONTAINER_DEPTH, &alias_depth);
                }
            }
            Kind::Untagged(vs) => {
                for v in vs {
                    cut |= cap(&mut v.ty, MAX_CONTAINER_DEPTH, &alias_depth);
                }
            }
            Kind::Tagged(t) => {
                for (_, v) in &mut t.variants {
                    cut |= cap(&mut v.ty, MAX_CONTAINER_DEPTH, &alias_depth);
                }
            }
            Kind::Newtype(ty) => cut |= cap(ty, MAX_CONTAINER_DEPTH, &alias_depth),
            Kind::Tuple(t) => {
                for ty in &mut t.items {
                    cut |= cap(ty, MAX_CONTAINER_DEPTH, &alias_depth);
                }
            }
            Kind::Alias(_) | Kind::Enum(_) | Kind::IntEnum(_) => {}
        }
        if cut {
            warnings.push(cut_warning(&origin));
        }
    }
    for op in &mut ir.operations {
        let mut cut = false;
        if let Some(body) = &mut op.body {
            cut |= cap(body, MAX_CONTAINER_DEPTH, &alias_depth);
        }
        for r in &mut op.responses {
            if let ResponseBody::Json(ty) = &mut r.body {
                cut |= cap(ty, MAX_CONTAINER_DEPTH, &alias_depth);
            }
        }
        if cut {
            warnings.push(cut_warning(&format!("{} {}", op.method, op.path)));
        }
    }
    for hook in &mut ir.webhooks {
        if let Some(payload) = &mut hook.payload
            && cap(payload, MAX_CONTAINER_DEPTH, &alias_depth)
        {
            warnings.push(cut_warning(&format!("webhook {}", hook.name)));
        }
    }
    ir.warnings.extend(warnings);
}

fn cut_warning(at: &str) -> String {
    format!(
        "{at}: containers nest more than {MAX_CONTAINER_DEPTH} deep (rustc's limit is near); the part past it is typed serde_json::Value"
    )
}

/// Caps alias `i` (after the aliases it refers to) and returns its expanded depth.
fn cap_alias(
    ir: &mut Ir,
    i: usize,
    alias_depth: &mut [Option<usize>],
    warnings: &mut Vec<String>,
    guard: usize,
) -> usize {
    if let Some(d) = alias_depth[i] {
        return d;
    }
    let Kind::Alias(ty) = &ir.types[i].kind else {
        return 0;
    };
    // Aliases this one refers to are capped first (a chain is at most as long as the IR).
    let mut named = Vec::new();
    named_in(ty, &mut named);
    if guard < ir.types.len() {
        for j in named {
            if alias_depth[j].is_none() && matches!(ir.types[j].kind, Kind::Alias(_)) {
                cap_alias(ir, j, alias_depth, warnings, guard + 1);
            }
        }
    }
    let Kind::Alias(ty) = &mut ir.types[i].kind else {
        return 0;
    };
    if cap(ty, MAX_CONTAINER_DEPTH, alias_depth) {
        warnings.push(cut_warning(&ir.types[i].origin));
    }
    let Kind::Alias(ty) = &ir.types[i].kind else {
        return 0;
    };
    let d = depth(ty, alias_depth);
    alias_depth[i] = Some(d);
    d
}

/// The containers `ty` nests, aliases expanded (an alias not yet measured counts as 0).
fn depth(ty: &Ty, alias_depth: &[Option<usize>]) -> usize {
    match ty {
        Ty::Vec(t) | Ty::Map(t) | Ty::Option(t) | Ty::Box(t) => 1 + depth(t, alias_depth),
        Ty::Named(id) => alias_depth[id.0].unwrap_or(0),
        _ => 0,
    }
}

/// Cuts `ty` to at most `budget` containers: a container past it, or an alias reference
/// whose expansion would go past it, becomes `serde_json::Value`. Returns whether it cut.
fn cap(ty: &mut Ty, budget: usize, alias_depth: &[Option<usize>]) -> bool {
    match ty {
        Ty::Vec(t) | Ty::Map(t) | Ty::Option(t) | Ty::Box(t) => {
            if budget == 0 {
                *ty = Ty::Json;
                true
            } else {
                cap(t, budget - 1, alias_depth)
            }
        }
        Ty::Named(id) if alias_depth[id.0].is_some_and(|d| d > budget) => {
            *ty = Ty::Json;
            true
        }
        _ => false,
    }
}

/// The most properties one generated struct may declare. serde's derives grow with the square
/// of the field count: rustc checks a struct of 1,000 in about 9 s and 0.6 GB, of 3,000 in 79 s
/// and 1.8 GB, and overflows its stack at 6,000. The widest object of the corpus (Twilio's)
/// declares 203.
pub const MAX_STRUCT_FIELDS: usize = 1000;

/// Types objects of more than [`MAX_STRUCT_FIELDS`] properties as a JSON object (`serde_json::
/// Map`), with a warning: the rest of the spec still generates, and the code compiles.
pub fn cap_struct_width(ir: &mut Ir) {
    for def in &mut ir.types {
        if let Kind::Struct(s) = &def.kind
            && s.fields.len() > MAX_STRUCT_FIELDS
        {
            ir.warnings.push(format!(
                "{}: {} properties, more than the {MAX_STRUCT_FIELDS} a struct may declare; typed as a JSON object (serde_json::Map)",
                def.origin,
                s.fields.len()
            ));
            def.kind = Kind::Alias(Ty::JsonObject);
        }
    }
}
