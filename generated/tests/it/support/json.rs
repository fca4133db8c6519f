//! JSON helpers for the round-trip tests. Included with
//! `#[path = "support/json.rs"] mod json;`.

#![allow(dead_code)] // each test crate uses a different subset

use serde_json::Value;

/// Where `back` differs from `original`, as JSON pointers with both values. Numbers compare
/// by value (`50` == `50.0`); object key order is ignored.
pub fn differences(original: &Value, back: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff("", original, back, &mut out);
    out
}

fn diff(at: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let same = match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(i), Some(j), _, _) => i == j,
                (_, _, Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            };
            if !same {
                out.push(format!("{at}: {a} became {b}"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                let child = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                match y.get(k) {
                    Some(w) => diff(&child, v, w, out),
                    None => out.push(format!("{child}: {v} was dropped")),
                }
            }
            for k in y.keys().filter(|k| !x.contains_key(*k)) {
                out.push(format!("{at}/{k}: added {}", y[k]));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (v, w)) in x.iter().zip(y).enumerate() {
                diff(&format!("{at}/{i}"), v, w, out);
            }
        }
        _ if a == b => {}
        _ => out.push(format!(
            "{}: {a} became {b}",
            if at.is_empty() { "(root)" } else { at }
        )),
    }
}

/// The example values of a media type (or parameter/header) object at pointer `at`:
/// `example`, and each of `examples` (following `$ref`s), with where each was found.
pub fn examples_of(root: &Value, at: &str, holder: &Value) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    if let Some(e) = holder.get("example") {
        out.push((format!("{at}/example"), e.clone()));
    }
    for (name, e) in holder
        .get("examples")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let Ok((where_, e)) = oas::pointer::deref(root, &format!("{at}/examples/{name}"), e) else {
            continue;
        };
        if let Some(v) = e.get("value") {
            out.push((where_, v.clone()));
        }
    }
    out
}
