//! JSON pointers (RFC 6901) and local `$ref` resolution.

use serde_json::Value;

/// Escapes one reference token: `~` → `~0`, `/` → `~1`.
pub fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Reverses [`escape`].
pub fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Appends one unescaped token to a pointer.
pub fn push(pointer: &str, token: &str) -> String {
    format!("{pointer}/{}", escape(token))
}

/// The pointer of a local `$ref` (`#/components/schemas/X` → `/components/schemas/X`), or `None`
/// when the reference is not local to the document.
pub fn local_target(reference: &str) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    // Fragments are URI-encoded; `%25`, `%20`… occur in real specs' schema names.
    Some(crate::url::decode(fragment))
}

/// Follows a pointer from the document root.
pub fn get<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    root.pointer(pointer)
}

/// Follows `$ref` chains starting at `node` (found at `pointer`) until a non-reference node,
/// returning it with its own pointer. Fails on an unresolvable, external or cyclic chain.
pub fn deref<'a>(
    root: &'a Value,
    pointer: &str,
    node: &'a Value,
) -> Result<(String, &'a Value), RefError> {
    let mut current = (pointer.to_owned(), node);
    for _ in 0..64 {
        let Some(reference) = current.1.get("$ref").and_then(Value::as_str) else {
            return Ok(current);
        };
        let target = local_target(reference).ok_or_else(|| RefError::External {
            at: current.0.clone(),
            reference: reference.to_owned(),
        })?;
        let next = get(root, &target).ok_or_else(|| RefError::Unresolved {
            at: current.0.clone(),
            reference: reference.to_owned(),
        })?;
        current = (target, next);
    }
    Err(RefError::Cycle {
        at: pointer.to_owned(),
    })
}

/// Why a `$ref` could not be followed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RefError {
    /// The target does not exist in the document.
    #[error("{at}: $ref `{reference}` does not resolve")]
    Unresolved { at: String, reference: String },
    /// The target is in another document, which this tool does not read.
    #[error(
        "{at}: $ref `{reference}` points outside the document; external references are not supported (bundle the spec first)"
    )]
    External { at: String, reference: String },
    /// A chain of references that only points at references.
    #[error("{at}: $ref chain is cyclic or longer than 64 links")]
    Cycle { at: String },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn escapes_round_trip() {
        assert_eq!(escape("/checkouts/{id}"), "~1checkouts~1{id}");
        assert_eq!(unescape(&escape("a~/b")), "a~/b");
    }

    #[test]
    fn local_targets_are_percent_decoded() {
        assert_eq!(
            local_target("#/components/schemas/A%20B").as_deref(),
            Some("/components/schemas/A B")
        );
        assert_eq!(local_target("other.yaml#/x"), None);
    }

    #[test]
    fn deref_follows_chains_and_reports_failures() {
        let doc = json!({"a": {"$ref": "#/b"}, "b": {"$ref": "#/c"}, "c": 1, "d": {"$ref": "#/d"}, "e": {"$ref": "#/zz"}});
        assert_eq!(
            deref(&doc, "/a", &doc["a"]).unwrap(),
            ("/c".to_owned(), &json!(1))
        );
        assert!(matches!(
            deref(&doc, "/d", &doc["d"]),
            Err(RefError::Cycle { .. })
        ));
        assert!(matches!(
            deref(&doc, "/e", &doc["e"]),
            Err(RefError::Unresolved { .. })
        ));
    }
}
