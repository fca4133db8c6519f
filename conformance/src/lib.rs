//! `conformance`: checks implementations of the Chargily Pay V2 and ReCharge Checkouts APIs
//! against their OpenAPI specs, and serves a stateful reference mock of both.
//!
//! - [`specs`]: the two specs, embedded in the binary.
//! - [`recording`]: the recording format (scenarios of exchanges) and its loader.
//! - [`mock`]: the reference mock server (`conformance mock`), also usable from tests through
//!   [`mock::MockServer`].
//! - [`record`]: capturing traffic as recordings: the recording proxy (`conformance record`,
//!   [`record::Recorder`]) and HAR import (`conformance import-har`), secrets redacted.

pub mod file_error;
pub mod headers;
mod http_server;
pub mod mock;
pub mod record;
pub mod recording;
pub mod replay;
pub mod report;
pub mod specs;
pub mod time;
pub mod webhooks;
