//! Every list of header names the tools treat specially, in one place: what describes a
//! connection, what carries credentials or secrets, what a recording keeps, and what is not
//! worth recording. Names are lower case; callers lower-case what they compare.

/// Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection and are never forwarded
/// in either direction.
pub const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
];

/// The credential headers of the two APIs: their presence means the client authenticated
/// (`auth: inject`); replay injects them and recordings never hold them.
pub const CREDENTIALS: &[&str] = &["authorization", "x-recharge-access-token"];

/// Whether a recording's request may not hold this header: a credential or a cookie (the
/// loader refuses it, naming `auth:` instead).
pub fn is_refused_in_recording(name: &str) -> bool {
    CREDENTIALS.contains(&name) || name == "cookie"
}

/// Whether replay leaves this header of a recorded request out of what it sends: the
/// connection's own (the client frames its request itself) and credentials (injected).
pub fn is_not_replayed(name: &str) -> bool {
    matches!(
        name,
        "host" | "content-length" | "connection" | "transfer-encoding" | "keep-alive"
    ) || is_refused_in_recording(name)
}

/// Request and response headers dropped because they carry credentials or signatures. Replay
/// injects credentials; signatures are computed by whoever sends the webhook.
pub const SECRET: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-recharge-access-token",
    "cookie",
    "set-cookie",
    "signature",
    "x-recharge-hmac-sha256",
    "x-recharge-webhook-signature",
    "x-api-key",
];

/// Parts of header names that mark a header as secret even if it is not listed above (a
/// vendor's `X-Foo-Session` or `X-Csrf-Token`): dropping a harmless header costs nothing,
/// writing an unknown credential to a repository is what this module exists to prevent.
pub const SECRET_PARTS: &[&str] = &[
    "token",
    "secret",
    "password",
    "signature",
    "hmac",
    "cookie",
    "session",
    "api-key",
    "apikey",
    "authorization",
    "credential",
];

/// The request headers a recording keeps: what replay needs to send the same request. Any
/// other request header is dropped (and counted): recording real traffic records whatever
/// the client sends, and an unknown header may be a credential under a name no rule knows.
pub const KEPT_REQUEST: &[&str] = &[
    "content-type",
    "accept",
    "accept-language",
    "content-language",
    "x-recharge-version",
    "idempotency-key",
    "if-match",
    "if-none-match",
    "prefer",
];

/// Request headers not worth recording besides [`HOP_BY_HOP`]: the rest of the connection's
/// own, and what a browser or client library adds that says nothing about the API (and may
/// leak where the user was: `Referer`).
pub const NOISE_REQUEST: &[&str] = &[
    "host",
    "content-length",
    "expect",
    "accept-encoding",
    "user-agent",
    "referer",
    "origin",
    "accept-language",
    "dnt",
    "priority",
    "cache-control",
    "pragma",
    "via",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
    "x-real-ip",
];

/// Whether a request header is not worth recording: [`HOP_BY_HOP`], [`NOISE_REQUEST`], HTTP/2
/// pseudo-headers (`:authority`, in HAR files) and the browser's `Sec-` headers.
pub fn is_noise_request(name: &str) -> bool {
    name.starts_with(':')
        || name.starts_with("sec-")
        || HOP_BY_HOP.contains(&name)
        || NOISE_REQUEST.contains(&name)
}

/// Response headers neither the recorder nor replay's re-recording keeps besides
/// [`HOP_BY_HOP`]: they vary between runs or describe the connection, and recorded bodies are
/// decoded.
pub const NOT_RECORDED_RESPONSE: &[&str] = &[
    "date",
    "server",
    "content-length",
    "content-encoding",
    "via",
    "alt-svc",
    "age",
];

/// Whether a response header is not recorded ([`HOP_BY_HOP`], [`NOT_RECORDED_RESPONSE`],
/// pseudo-headers, `Sec-` headers).
pub fn is_not_recorded_response(name: &str) -> bool {
    name.starts_with(':')
        || name.starts_with("sec-")
        || HOP_BY_HOP.contains(&name)
        || NOT_RECORDED_RESPONSE.contains(&name)
}

/// Response headers whose values are URLs: their query parameters are redacted by name.
pub const URL_VALUED: &[&str] = &["location", "content-location", "link", "refresh"];
