//! The plain request and response values handlers work on: no sockets, no hyper. The server
//! (`service.rs`) converts to and from the wire; tests can build them by hand.

use std::borrow::Cow;
use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HeaderName, HeaderValue};
use http::{HeaderMap, Method, StatusCode};

/// One HTTP request, body already read.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    /// The path as received (still percent-encoded), without the query.
    pub path: String,
    /// The raw query string, without `?`.
    pub query: Option<String>,
    pub headers: HeaderMap,
    pub body: Bytes,
    /// Why the body could not be read whole, if it could not.
    pub body_error: Option<BodyError>,
    /// The address the server listens on, used when the request has no usable `Host`.
    pub local_addr: SocketAddr,
}

pub use crate::http_server::BodyError;

impl Request {
    /// A request with no headers and no body; tests add what they need.
    pub fn new(method: Method, path_and_query: &str) -> Self {
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (path_and_query.to_owned(), None),
        };
        Self {
            method,
            path,
            query,
            headers: HeaderMap::new(),
            body: Bytes::new(),
            body_error: None,
            local_addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }

    /// Adds a header; invalid names or values are ignored.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.headers.append(n, v);
        }
        self
    }

    /// Sets a JSON body and its content type.
    pub fn json(self, body: &serde_json::Value) -> Self {
        let mut req = self.header("content-type", "application/json");
        req.body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        req
    }

    /// A header's value as text, if present and visible ASCII.
    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Every header's name and text (a value that is not UTF-8 read lossily), in order.
pub fn each_header(headers: &HeaderMap, mut each: impl FnMut(&str, &str)) {
    for (name, value) in headers {
        // `to_str` (visible ASCII, a byte loop) first: header values are short, and UTF-8's
        // check costs more to set up than it saves on them. A value with other bytes is read
        // as UTF-8, lossily.
        match value.to_str() {
            Ok(text) => each(name.as_str(), text),
            Err(_) => each(name.as_str(), &String::from_utf8_lossy(value.as_bytes())),
        }
    }
}

/// The names the mock's answers carry, matched without parsing or allocating a name.
static KNOWN: [HeaderName; 5] = [
    http::header::CONTENT_TYPE,
    HeaderName::from_static("x-request-id"),
    HeaderName::from_static("x-recharge-limit"),
    http::header::ALLOW,
    http::header::CONNECTION,
];

/// The media type of every JSON answer, as a header value made once.
static JSON: HeaderValue = HeaderValue::from_static("application/json");

/// An untyped body of a generated module (each API's `support::RawBody`) as the bytes sent.
pub trait IntoBytes {
    fn into_bytes(self) -> Bytes;
}

macro_rules! raw_bodies {
    ($($api:ident)*) => {$(
        impl IntoBytes for generated::$api::support::RawBody {
            fn into_bytes(self) -> Bytes {
                match self {
                    Self::Owned(bytes) => Bytes::from(bytes),
                    // A stored answer is sent without a copy.
                    Self::Shared(bytes) => Bytes::from_owner(bytes),
                }
            }
        }
    )*};
}
raw_bodies!(chargily recharge);

/// One HTTP response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    /// A JSON response.
    pub fn json(status: StatusCode, body: &impl serde::Serialize) -> Self {
        // Serialising our own types cannot fail (string keys, no non-finite floats); an empty
        // body would fail the response self-check loudly if it ever did.
        Self::json_bytes(
            status,
            Bytes::from(serde_json::to_vec(body).unwrap_or_default()),
        )
    }

    /// A response whose body is JSON already encoded.
    pub fn json_bytes(status: StatusCode, body: Bytes) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        Self {
            status,
            headers,
            body,
        }
    }

    /// A response from the generated router's parts: invalid header names or values are
    /// dropped (the router writes only valid ones), an unknown status is 500.
    pub fn from_parts(
        status: u16,
        headers: Vec<(Cow<'static, str>, Cow<'static, str>)>,
        body: impl IntoBytes,
    ) -> Self {
        let mut map = HeaderMap::with_capacity(headers.len());
        for (name, value) in headers {
            // The router's own spelling first, then any other.
            let known = match &*name {
                "Content-Type" => Some(&KNOWN[0]),
                "X-Request-Id" => Some(&KNOWN[1]),
                "X-Recharge-Limit" => Some(&KNOWN[2]),
                _ => KNOWN
                    .iter()
                    .find(|k| k.as_str().eq_ignore_ascii_case(&name)),
            };
            let name = match known {
                Some(known) => Ok(known.clone()),
                None => HeaderName::from_bytes(name.as_bytes()),
            };
            let value = match value {
                // Every JSON answer's media type, made once.
                Cow::Borrowed("application/json") => Ok(JSON.clone()),
                // A static text is taken as it is, without a copy, when it is what
                // `from_static` accepts (visible ASCII and tabs; it panics on anything else).
                Cow::Borrowed(text)
                    if text
                        .bytes()
                        .all(|b| (0x20..0x7f).contains(&b) || b == b'\t') =>
                {
                    Ok(HeaderValue::from_static(text))
                }
                Cow::Borrowed(text) => HeaderValue::try_from(text),
                Cow::Owned(text) => HeaderValue::try_from(text),
            };
            if let (Ok(n), Ok(v)) = (name, value) {
                map.append(n, v);
            }
        }
        Self {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            headers: map,
            body: body.into_bytes(),
        }
    }

    /// Adds a header (replacing one of the same name).
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// The body parsed as JSON (`Null` if it is not JSON).
    pub fn json_body(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// Header values are checked by `http` (text beyond ASCII kept, control bytes dropped),
    /// never a panic.
    #[test]
    fn from_parts_keeps_valid_headers_and_drops_invalid_ones() {
        let response = Response::from_parts(
            201,
            vec![
                ("Content-Type".into(), "application/json".into()),
                ("X-Recharge-Limit".into(), Cow::Borrowed("3/40")),
                ("X-Tab".into(), Cow::Borrowed("a\tb")),
                ("X-Beyond-Ascii".into(), Cow::Borrowed("caf\u{e9}")),
                ("X-Delete".into(), Cow::Borrowed("a\u{7f}b")),
                ("X-Break".into(), Cow::Borrowed("a\nb")),
                ("X-Owned".into(), Cow::Owned("a\nb".to_owned())),
            ],
            generated::recharge::support::RawBody::from(b"{}".to_vec()),
        );
        assert_eq!(response.status, StatusCode::CREATED);
        let get = |name: &str| response.headers.get(name).map(HeaderValue::as_bytes);
        assert_eq!(get("content-type"), Some(&b"application/json"[..]));
        assert_eq!(get("x-recharge-limit"), Some(&b"3/40"[..]));
        assert_eq!(get("x-tab"), Some(&b"a\tb"[..]));
        assert_eq!(get("x-beyond-ascii"), Some("caf\u{e9}".as_bytes()));
        assert_eq!(get("x-delete"), None);
        assert_eq!(get("x-break"), None);
        assert_eq!(get("x-owned"), None);
        assert_eq!(response.headers.len(), 4);
    }
}
