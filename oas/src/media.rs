//! Media types, compared as the tools need them: a spec's `content` keys (which may be ranges,
//! `*/*` or `application/*`) against a message's `Content-Type`. Parameters (`; charset=…`) are
//! ignored and case does not matter (RFC 9110 §8.3.1).

/// The type and subtype of a media type, without parameters: `application/json` of
/// `Application/JSON; charset=utf-8` (case kept; compare ignoring ASCII case).
pub fn essence(media: &str) -> &str {
    media.split(';').next().unwrap_or_default().trim()
}

/// Whether a message's `Content-Type` is JSON: `application/json` or a `+json` suffix
/// (`application/problem+json`).
pub fn is_json(content_type: &str) -> bool {
    let e = essence(content_type).as_bytes();
    e.eq_ignore_ascii_case(b"application/json")
        || e.len()
            .checked_sub(5)
            .is_some_and(|start| e[start..].eq_ignore_ascii_case(b"+json"))
}

/// Whether a documented media type (a spec's `content` key, possibly a range) admits JSON:
/// [`is_json`], `*/*` or `application/*`.
pub fn admits_json(documented: &str) -> bool {
    let e = essence(documented);
    is_json(e) || e == "*/*" || e.eq_ignore_ascii_case("application/*")
}

/// Whether a documented media type (possibly `*/*`, `application/*`) covers a `Content-Type`.
pub fn matches(documented: &str, content_type: &str) -> bool {
    let (d, c) = (essence(documented), essence(content_type));
    if d == "*/*" {
        return true;
    }
    match d.strip_suffix("/*") {
        Some(family) => c
            .split('/')
            .next()
            .is_some_and(|f| f.eq_ignore_ascii_case(family)),
        None => d.eq_ignore_ascii_case(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_ranges() {
        for t in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/problem+json ",
            "application/vnd.api+JSON",
        ] {
            assert!(is_json(t), "{t}");
            assert!(admits_json(t), "{t}");
        }
        for t in ["text/plain", "application/jsonp", "json", ""] {
            assert!(!is_json(t), "{t}");
        }
        assert!(!is_json("application/json-seq"));
        for t in ["*/*", "application/*", "APPLICATION/*; q=1"] {
            assert!(!is_json(t), "{t}");
            assert!(admits_json(t), "{t}");
        }
        assert!(!admits_json("text/*"));
        assert!(matches("*/*", "image/png"));
        assert!(matches("Application/*", "application/json"));
        assert!(matches(
            "application/json",
            "APPLICATION/JSON; charset=utf-8"
        ));
        assert!(!matches("application/*", "text/plain"));
        assert!(!matches("application/json", "application/problem+json"));
    }
}
