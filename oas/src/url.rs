//! Percent-encoding of URL parts: the one copy the checker, the mock, the recorder and replay
//! share.

/// Encodes every byte but RFC 3986's unreserved characters (`A-Z a-z 0-9 - . _ ~`) as `%XX`:
/// safe as one path segment, one query name or value, or one form field, whatever it holds.
pub fn encode_component(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 15)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Decodes `%XX` escapes in a path segment or fragment (`+` stays `+`). Invalid escapes are
/// kept as written; bytes that do not form UTF-8 become U+FFFD. Never fails.
pub fn decode(s: &str) -> String {
    decode_with(s, false)
}

/// [`decode`] for query strings and form bodies, where `+` is a space.
pub fn decode_form(s: &str) -> String {
    decode_with(s, true)
}

fn decode_with(s: &str, plus_is_space: bool) -> String {
    if !(s.contains('%') || plus_is_space && s.contains('+')) {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h * 16 + l);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_is_space => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// A query string or form body as decoded pairs (`+` is a space); a pair without `=` has an
/// empty value. Never fails.
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode_form(k), decode_form(v))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding_round_trips_through_decoding() {
        for s in ["plain", "a b/c?d#e%f&g=h+i", "é ünï 日本", "", "~-._"] {
            let e = encode_component(s);
            assert!(
                e.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~%".contains(&b)),
                "{e}"
            );
            assert_eq!(decode(&e), s);
            assert_eq!(decode_form(&e), s);
        }
        assert_eq!(encode_component("a b/c"), "a%20b%2Fc");
    }

    #[test]
    fn decoding_is_lenient() {
        assert_eq!(decode("a+b%20c"), "a+b c");
        assert_eq!(decode_form("a+b%20c"), "a b c");
        assert_eq!(decode("%e9%"), "\u{fffd}%");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz%4"), "%zz%4");
        assert_eq!(decode("%41"), "A");
        assert_eq!(
            parse_query("a=1&b&c=x+y&&d=%3D"),
            [("a", "1"), ("b", ""), ("c", "x y"), ("d", "=")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }
}
