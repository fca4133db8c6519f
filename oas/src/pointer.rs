//! JSON pointers (RFC 6901) and local `$ref` resolution.

use serde_json::Value;

/// Escapes one reference token: `~` → `~0`, `/` → `~1`.
pub fn escape(token: &str) -> String {
    // Most tokens need no escaping, and `replace` searches even then.
    if !token.contains(['~', '/']) {
        return token.to_owned();
    }
    token.replace('~', "~0").replace('/', "~1")
}

/// Reverses [`escape`].
pub fn unescape(token: &str) -> String {
    if !token.contains('~') {
        return token.to_owned();
    }
    token.replace("~1", "/").replace("~0", "~")
}

/// Appends one unescaped token to a pointer.
pub fn push(pointer: &str, token: &str) -> String {
    let mut out = pointer.to_owned();
    push_token(&mut out, token);
    out
}

/// Appends `/` and one token, escaped (without a copy when it needs no escaping).
pub fn push_token(out: &mut String, token: &str) {
    out.push('/');
    if token.contains(['~', '/']) {
        out.push_str(&escape(token));
    } else {
        out.push_str(token);
    }
}

/// The pointer of a position met while walking a document, built only when needed (an error,
/// a named type): a chain of borrowed links on the walker's stack, written out on demand. Most
/// positions never need theirs, and building every one costs a walk its allocations.
#[derive(Debug, Clone, Copy)]
pub enum At<'a> {
    /// A pointer already built: `""` (the root), `"#"` (the root as a `$ref` names it),
    /// `"/components/schemas/A"`.
    Str(&'a str),
    /// `parent/token`, the token escaped.
    Key(&'a At<'a>, &'a str),
    /// `parent/index`.
    Index(&'a At<'a>, usize),
    /// `parent/keyword/token`: two tokens in one link, the first a fixed keyword
    /// (`properties`, `anyOf`).
    KeywordKey(&'a At<'a>, &'static str, &'a str),
    /// `parent/keyword/index`.
    KeywordIndex(&'a At<'a>, &'static str, usize),
}

impl<'a> At<'a> {
    /// `self/token`.
    pub fn key(&'a self, token: &'a str) -> At<'a> {
        At::Key(self, token)
    }

    /// `self/index`.
    pub fn index(&'a self, index: usize) -> At<'a> {
        At::Index(self, index)
    }

    /// The pointer, written out.
    pub fn string(&self) -> String {
        // Without recursion: a chain is as long as the document is deep.
        let mut links = Vec::new();
        let mut at = self;
        let root = loop {
            match at {
                At::Str(s) => break *s,
                At::Key(p, _)
                | At::Index(p, _)
                | At::KeywordKey(p, ..)
                | At::KeywordIndex(p, ..) => {
                    links.push(at);
                    at = p;
                }
            }
        };
        let mut out = String::from(root);
        for link in links.iter().rev() {
            match link {
                At::Str(_) => {}
                At::Key(_, token) => push_token(&mut out, token),
                At::Index(_, i) => {
                    out.push('/');
                    out.push_str(&i.to_string());
                }
                At::KeywordKey(_, keyword, token) => {
                    push_token(&mut out, keyword);
                    push_token(&mut out, token);
                }
                At::KeywordIndex(_, keyword, i) => {
                    push_token(&mut out, keyword);
                    out.push('/');
                    out.push_str(&i.to_string());
                }
            }
        }
        out
    }
}

impl std::fmt::Display for At<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.string())
    }
}

/// The pointer of a local `$ref` (`#/components/schemas/X` → `/components/schemas/X`), or `None`
/// when the reference is not local to the document.
pub fn local_target(reference: &str) -> Option<String> {
    let fragment = reference.strip_prefix('#')?;
    // Fragments are URI-encoded; `%25`, `%20`… occur in real specs' schema names.
    Some(crate::url::decode(fragment))
}

/// An object's member by key. Most objects in a spec are small, and a scan of their few
/// entries is cheaper than hashing the key (the same result: keys are unique).
#[inline]
pub fn member<'a>(map: &'a serde_json::Map<String, Value>, key: &str) -> Option<&'a Value> {
    if map.len() <= 16 {
        map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v)
    } else {
        map.get(key)
    }
}

/// Follows a pointer from the document root, as `serde_json::Value::pointer` does (`""` is the
/// root; array indexes without sign or leading zeros), without unescaping tokens that hold no
/// `~` and with [`member`]'s lookup: `$ref` targets are followed thousands of times in a big
/// spec.
pub fn get<'a>(root: &'a Value, pointer: &str) -> Option<&'a Value> {
    if pointer.is_empty() {
        return Some(root);
    }
    let rest = pointer.strip_prefix('/')?;
    let mut target = root;
    for token in rest.split('/') {
        let unescaped;
        let token = if token.contains('~') {
            unescaped = unescape(token);
            unescaped.as_str()
        } else {
            token
        };
        target = match target {
            Value::Object(map) => member(map, token)?,
            Value::Array(list) => {
                if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
                    return None;
                }
                list.get(token.parse::<usize>().ok()?)?
            }
            _ => return None,
        };
    }
    Some(target)
}

/// Follows `$ref` chains starting at `node` (found at `pointer`) until a non-reference node,
/// returning it with its own pointer. Fails on an unresolvable, external or cyclic chain.
pub fn deref<'a>(
    root: &'a Value,
    pointer: &str,
    node: &'a Value,
) -> Result<(String, &'a Value), RefError> {
    deref_lazy(root, || pointer.to_owned(), node)
}

/// [`deref`], with `node`'s pointer written only if it is needed: when `node` is no reference,
/// or to name it in an error. A walker that holds its position as a lazy chain
/// ([`At`]) follows a reference without writing where it stands.
pub fn deref_lazy<'a>(
    root: &'a Value,
    pointer: impl FnOnce() -> String,
    node: &'a Value,
) -> Result<(String, &'a Value), RefError> {
    // `None` while still at `node`.
    let mut at: Option<String> = None;
    let mut current = node;
    let mut failure = None;
    for _ in 0..64 {
        let Some(reference) = current.get("$ref").and_then(Value::as_str) else {
            return Ok((at.unwrap_or_else(pointer), current));
        };
        let Some(target) = local_target(reference) else {
            failure = Some((true, reference));
            break;
        };
        let Some(next) = get(root, &target) else {
            failure = Some((false, reference));
            break;
        };
        at = Some(target);
        current = next;
    }
    match failure {
        None => Err(RefError::Cycle { at: pointer() }),
        Some((external, reference)) => {
            let at = at.unwrap_or_else(pointer);
            let reference = reference.to_owned();
            Err(if external {
                RefError::External { at, reference }
            } else {
                RefError::Unresolved { at, reference }
            })
        }
    }
}

/// Follows local `$ref` chains from `node` as far as they resolve: the schema a reference
/// stands for, or `node` itself when it is no reference (or its first link does not resolve).
/// For readers that take what they can (normalization, redaction); [`deref`] reports why a
/// chain fails.
pub fn follow<'a>(root: &'a Value, node: &'a Value) -> &'a Value {
    let mut current = node;
    for _ in 0..64 {
        let next = current
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(local_target)
            .and_then(|target| get(root, &target));
        match next {
            Some(next) => current = next,
            None => break,
        }
    }
    current
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
        assert_eq!(escape("plain"), "plain");
        assert_eq!(unescape("plain/~01"), "plain/~1");
        assert_eq!(unescape("~1~0"), "/~");
    }

    #[test]
    fn lazy_pointers_write_what_push_builds() {
        let root = At::Str("#");
        let schemas = At::KeywordKey(&root, "components", "schemas");
        let a = schemas.key("a/b~c");
        let any = At::KeywordIndex(&a, "anyOf", 2);
        let item = any.index(0);
        assert_eq!(item.string(), "#/components/schemas/a~1b~0c/anyOf/2/0");
        let built = push(&push(&push("#/components", "schemas"), "a/b~c"), "anyOf");
        assert_eq!(any.string(), format!("{built}/2"));
        assert_eq!(At::Str("").key("x").string(), "/x");
        // Deep chains are written without recursion (leaked: a test's few megabytes).
        let mut at: &'static At<'static> = Box::leak(Box::new(At::Str("")));
        for _ in 0..100_000 {
            at = Box::leak(Box::new(At::Index(at, 0)));
        }
        assert_eq!(at.string().len(), 200_000);
    }

    #[test]
    fn follow_goes_as_far_as_the_chain_resolves() {
        let root = json!({"components": {"schemas": {
            "A B": {"$ref": "#/components/schemas/B"},
            "B": {"type": "string"},
            "Dangling": {"$ref": "#/components/schemas/Nowhere"},
            "Loop": {"$ref": "#/components/schemas/Loop"}}}});
        let a = json!({"$ref": "#/components/schemas/A%20B"});
        assert_eq!(follow(&root, &a), &json!({"type": "string"}));
        let dangling = &root["components"]["schemas"]["Dangling"];
        assert_eq!(follow(&root, dangling), dangling);
        let looped = &root["components"]["schemas"]["Loop"];
        assert_eq!(follow(&root, looped), looped);
        let plain = json!({"type": "integer"});
        assert_eq!(follow(&root, &plain), &plain);
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

    #[test]
    fn a_lazy_deref_names_where_a_chain_fails_and_writes_the_start_only_when_needed() {
        let doc = json!({
            "a": {"$ref": "#/b"}, "b": {"$ref": "#/zz"}, "x": {"$ref": "other.yaml#/y"},
            "c": {"$ref": "#/d"}, "d": {"$ref": "#/c"}, "p": 1, "q": {"$ref": "#/p"},
        });
        let at = |e: RefError| match e {
            RefError::External { at, .. }
            | RefError::Unresolved { at, .. }
            | RefError::Cycle { at } => at,
        };
        // The link that fails is named, not the start.
        assert_eq!(at(deref(&doc, "/a", &doc["a"]).unwrap_err()), "/b");
        assert_eq!(at(deref(&doc, "/x", &doc["x"]).unwrap_err()), "/x");
        assert!(matches!(
            deref(&doc, "/x", &doc["x"]),
            Err(RefError::External { .. })
        ));
        assert_eq!(at(deref(&doc, "/c", &doc["c"]).unwrap_err()), "/c");
        // A node that is no reference stays where it is.
        assert_eq!(deref(&doc, "/p", &doc["p"]).unwrap().0, "/p");
        // A chain that resolves never writes its start.
        let resolved = deref_lazy(&doc, || panic!("the start was written"), &doc["q"]);
        assert_eq!(resolved.unwrap(), ("/p".to_owned(), &json!(1)));
    }

    #[test]
    fn get_follows_pointers_as_serde_json_does() {
        let doc = json!({
            "a": {"b~c": {"d/e": [10, 20, {"f": null}]}, "": {"": 3}},
            "many": (0..40).map(|i| (format!("k{i}"), json!(i))).collect::<serde_json::Map<_, _>>(),
            "list": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11],
        });
        let pointers = [
            "",
            "/",
            "//",
            "/a",
            "/a/b~0c",
            "/a/b~0c/d~1e",
            "/a/b~0c/d~1e/2/f",
            "/a/b~0c/d~1e/1",
            "/a/b~0c/d~1e/01",
            "/a/b~0c/d~1e/+1",
            "/a/b~0c/d~1e/-1",
            "/a/b~0c/d~1e/3",
            "/a//",
            "/a/",
            "a",
            "/many/k39",
            "/many/k40",
            "/list/11",
            "/list/12",
            "/list/1/x",
            "/a/b~c",
            "/a/b~1c",
            "/a/b~2c",
            "/list/00",
            "/list/0",
            "/list/ 1",
        ];
        for p in pointers {
            assert_eq!(get(&doc, p), doc.pointer(p), "{p:?}");
        }
    }
}
