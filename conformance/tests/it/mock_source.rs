//! The mock builds generated values so that a property the spec adds as optional needs no
//! change in it: every struct literal of a generated type (`g::…` for Chargily, `r::…` for
//! ReCharge) has a base (`..X::new(…)` or an existing value) filling what it does not list.

/// The struct literals of generated types in `source` that list fields without a base, by
/// line. Patterns and function bodies (`-> g::X {`) are not literals.
fn literals_without_a_base(source: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for prefix in ["g::", "r::"] {
        let mut from = 0;
        while let Some(found) = source[from..].find(prefix) {
            let start = from + found;
            from = start + prefix.len();
            // `g::` and `r::` as paths of their own, not the end of `ops::customer::`.
            if source[..start].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &source[from..];
            let name_len = rest
                .find(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .unwrap_or(rest.len());
            let name = &rest[..name_len];
            let after = &rest[name_len..];
            if !name.starts_with(|c: char| c.is_ascii_uppercase()) || !after.starts_with(" {") {
                continue;
            }
            if source[..start].trim_end().ends_with("->") {
                continue;
            }
            // The literal's body, to its matching brace.
            let body_start = from + name_len + 2;
            let mut depth = 1;
            let mut end = body_start;
            for (i, c) in source[body_start..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    end = body_start + i;
                    break;
                }
            }
            let body = &source[body_start..end];
            // A base at the literal's own level: `..` starting a line or following a comma
            // (nested literals were skipped by depth only in `end`, so look for a base that is
            // not inside braces).
            let mut depth = 0;
            let mut has_base = false;
            for (i, c) in body.char_indices() {
                match c {
                    '{' | '(' | '[' => depth += 1,
                    '}' | ')' | ']' => depth -= 1,
                    '.' if depth == 0 && body[i..].starts_with("..") => {
                        has_base = true;
                        break;
                    }
                    _ => {}
                }
            }
            if !has_base {
                out.push(source[..start].lines().count());
            }
        }
    }
    out.sort_unstable();
    out
}

#[test]
fn generated_values_are_built_on_a_base() {
    // The detector: a literal listing every field is found; one with a base, a pattern with
    // `..`, a function body and a call are not.
    assert_eq!(
        literals_without_a_base("let w = g::Wallet {\n    currency,\n    balance,\n};\n"),
        [1]
    );
    assert!(literals_without_a_base("impl From<Fail> for ops::customer::Response {}\n").is_empty());
    assert!(
        literals_without_a_base(
            "let c = g::Customer { livemode: None, ..g::Customer::new(a, b) };\n\
             if let g::X { a, .. } = y {}\nfn f() -> g::X {\n    g::X::new()\n}\n"
        )
        .is_empty()
    );
    for file in ["src/mock/chargily.rs", "src/mock/recharge.rs"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(file);
        let source = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            literals_without_a_base(&source),
            Vec::<usize>::new(),
            "{file}: struct literals of generated types without a base (`..X::new(…)`) at these lines"
        );
    }
}
