//! The webhooks both APIs send: signing (what a sender, such as the reference mock, does),
//! verifying a delivery's signature in constant time, and decoding it into a typed event with
//! a catch-all for event types this version does not know.
//!
//! Hand-written (the spec describes each signature in prose only). Verify the raw bytes as
//! received, never a re-serialisation: any change of a byte changes the signature.
//!
//! - Chargily Pay: header `signature` = hex HMAC-SHA256 of the raw body keyed with the API
//!   secret key (reference §1.10; every official SDK checks the same).
//! - ReCharge: header `X-Recharge-Hmac-Sha256` = hex SHA-256 of the API client secret
//!   followed by the raw body, no separator: not an HMAC despite its name (reference §2.10);
//!   `X-Recharge-Topic` names the topic.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Why a delivery was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookError {
    /// The named header is missing (or not text).
    MissingHeader(&'static str),
    /// The signature is not 64 hex digits, or not the body's.
    BadSignature,
    /// The body is signed but does not fit the documented payload (the JSON path and why).
    Body { path: String, message: String },
}

impl std::fmt::Display for WebhookError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MissingHeader(name) => write!(f, "the `{name}` header is missing"),
            Self::BadSignature => f.write_str("the signature does not match the body"),
            Self::Body { path, message } => write!(f, "the payload at {path}: {message}"),
        }
    }
}

impl std::error::Error for WebhookError {}

/// The first header named `name` (case-insensitively) among `headers`, as text.
fn header<I, K, V>(headers: I, name: &'static str) -> Result<String, WebhookError>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    headers
        .into_iter()
        .find(|(k, _)| k.as_ref().eq_ignore_ascii_case(name))
        .and_then(|(_, v)| std::str::from_utf8(v.as_ref()).ok().map(str::to_owned))
        .ok_or(WebhookError::MissingHeader(name))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// 32 bytes from 64 hex digits of either case (surrounding white space ignored).
fn unhex32(text: &str) -> Result<[u8; 32], WebhookError> {
    let text = text.trim().as_bytes();
    if text.len() != 64 {
        return Err(WebhookError::BadSignature);
    }
    let mut out = [0u8; 32];
    for (i, pair) in text.chunks(2).enumerate() {
        let digit = |c: u8| (c as char).to_digit(16).ok_or(WebhookError::BadSignature);
        out[i] = u8::try_from(digit(pair[0])? * 16 + digit(pair[1])?)
            .map_err(|_| WebhookError::BadSignature)?;
    }
    Ok(out)
}

/// Decodes a verified body, naming the failing JSON path.
fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, WebhookError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| WebhookError::Body {
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Chargily Pay's checkout events.
pub mod chargily {
    use super::*;
    use crate::chargily::{WebhookEvent, WebhookEventType};

    /// The header carrying the signature.
    pub const SIGNATURE_HEADER: &str = "signature";

    /// The signature of `body` under the API secret key: hex HMAC-SHA256.
    pub fn sign(secret_key: &[u8], body: &[u8]) -> String {
        // HMAC takes keys of any length: this never fails.
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key)
            .map(|mut mac| {
                mac.update(body);
                mac.finalize().into_bytes()
            })
            .unwrap_or_default();
        hex(&mac)
    }

    /// A verified event, by type; events of a type this version does not list are kept whole.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Event {
        CheckoutPaid(WebhookEvent),
        CheckoutFailed(WebhookEvent),
        CheckoutCanceled(WebhookEvent),
        CheckoutExpired(WebhookEvent),
        /// A type this version does not list: the raw JSON and its `type`.
        Unknown {
            r#type: String,
            json: serde_json::Value,
        },
    }

    /// Checks the delivery's `signature` against `body` (the raw bytes received) and the API
    /// secret key, in constant time, then decodes the event.
    pub fn verify<I, K, V>(headers: I, body: &[u8], secret_key: &str) -> Result<Event, WebhookError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let signature = unhex32(&header(headers, SIGNATURE_HEADER)?)?;
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret_key.as_bytes())
            .map_err(|_| WebhookError::BadSignature)?;
        mac.update(body);
        mac.verify_slice(&signature)
            .map_err(|_| WebhookError::BadSignature)?;
        let json: serde_json::Value = decode(body)?;
        let kind = json.get("type").and_then(serde_json::Value::as_str);
        let known = matches!(
            kind,
            Some("checkout.paid" | "checkout.failed" | "checkout.canceled" | "checkout.expired")
        );
        if !known {
            return Ok(Event::Unknown {
                r#type: kind.unwrap_or_default().to_owned(),
                json,
            });
        }
        let event: WebhookEvent = decode(body)?;
        Ok(match event.r#type {
            WebhookEventType::CheckoutPaid => Event::CheckoutPaid(event),
            WebhookEventType::CheckoutFailed => Event::CheckoutFailed(event),
            WebhookEventType::CheckoutCanceled => Event::CheckoutCanceled(event),
            WebhookEventType::CheckoutExpired => Event::CheckoutExpired(event),
            WebhookEventType::Unknown(kind) => Event::Unknown { r#type: kind, json },
        })
    }
}

/// ReCharge's checkout webhooks.
pub mod recharge {
    use super::*;
    use crate::recharge::CheckoutResponse;

    /// The header carrying the signature.
    pub const SIGNATURE_HEADER: &str = "X-Recharge-Hmac-Sha256";
    /// The header naming the topic.
    pub const TOPIC_HEADER: &str = "X-Recharge-Topic";

    /// The signature of `body` under the API client secret: hex SHA-256 of the secret followed
    /// by the body.
    pub fn sign(client_secret: &[u8], body: &[u8]) -> String {
        hex(&digest(client_secret, body))
    }

    fn digest(client_secret: &[u8], body: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(client_secret);
        h.update(body);
        h.finalize().into()
    }

    /// A verified webhook, by topic (its body is `{"checkout": {...}}`, as the REST
    /// responses); topics this version does not list are kept whole.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Event {
        CheckoutCreated(CheckoutResponse),
        CheckoutUpdated(CheckoutResponse),
        CheckoutCompleted(CheckoutResponse),
        CheckoutProcessed(CheckoutResponse),
        /// A topic this version does not list: the raw JSON and the topic.
        Unknown {
            topic: String,
            json: serde_json::Value,
        },
    }

    /// Checks the delivery's `X-Recharge-Hmac-Sha256` against `body` (the raw bytes
    /// received) and the API client secret, in constant time, then decodes the webhook by its
    /// `X-Recharge-Topic`.
    pub fn verify<I, K, V>(
        headers: I,
        body: &[u8],
        client_secret: &str,
    ) -> Result<Event, WebhookError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let headers: Vec<(K, V)> = headers.into_iter().collect();
        let signature = unhex32(&header(
            headers.iter().map(|(k, v)| (k, v)),
            SIGNATURE_HEADER,
        )?)?;
        let expected = digest(client_secret.as_bytes(), body);
        if !bool::from(signature.ct_eq(&expected)) {
            return Err(WebhookError::BadSignature);
        }
        let topic = header(headers.iter().map(|(k, v)| (k, v)), TOPIC_HEADER)?;
        let event = |wrap: fn(CheckoutResponse) -> Event| decode(body).map(wrap);
        match topic.as_str() {
            "checkout/created" => event(Event::CheckoutCreated),
            "checkout/updated" => event(Event::CheckoutUpdated),
            "checkout/completed" => event(Event::CheckoutCompleted),
            "checkout/processed" => event(Event::CheckoutProcessed),
            _ => Ok(Event::Unknown {
                topic,
                json: decode(body)?,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_match_known_values() {
        // RFC 4231 test case 2.
        assert_eq!(
            chargily::sign(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // SHA-256("abc") (FIPS 180-2), split between secret and body.
        assert_eq!(
            recharge::sign(b"a", b"bc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn an_event_type_this_version_does_not_list_is_kept_whole() {
        let body = br#"{"id": "e1", "type": "checkout.refunded", "data": {}}"#;
        let signature = chargily::sign(b"k", body);
        let got = chargily::verify([("Signature", signature.as_str())], body, "k");
        match got {
            Ok(chargily::Event::Unknown { r#type, json }) => {
                assert_eq!(r#type, "checkout.refunded");
                assert_eq!(json["id"], "e1");
            }
            other => panic!("{other:?}"),
        }
        // A known type whose payload does not fit: signed, but refused naming the path.
        let body = br#"{"id": "e1", "type": "checkout.paid", "data": {}}"#;
        let signature = chargily::sign(b"k", body);
        let got = chargily::verify([("signature", signature)], body, "k");
        assert!(matches!(got, Err(WebhookError::Body { .. })), "{got:?}");
    }

    #[test]
    fn signatures_are_read_in_either_case_and_nothing_else() {
        let sig = recharge::sign(b"s", b"{}");
        for given in [sig.clone(), sig.to_uppercase(), format!(" {sig}\t")] {
            assert!(unhex32(&given).is_ok(), "{given}");
        }
        for bad in [
            "",
            "abc",
            &sig[..62],
            &format!("{}zz", &sig[..62]),
            &format!("{sig}00"),
        ] {
            assert_eq!(unhex32(bad), Err(WebhookError::BadSignature), "{bad}");
        }
    }
}
