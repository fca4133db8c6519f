//! Capturing traffic as recordings (issue #6): a recording reverse proxy
//! (`conformance record`) and HAR import (`conformance import-har`), both writing the format
//! `conformance replay` reads (see `conformance/RECORDINGS.md`, "Capturing traffic").
//!
//! Both turn a raw [`Capture`] (what was on the wire) into a recorded
//! [`Exchange`](crate::recording::Exchange) through [`ApiSpec::convert`], so they share one set
//! of rules: secrets are redacted before anything is written ([`redact`]), the operation comes
//! from the spec, exchanges that match no operation are kept but `flagged`, and request bodies
//! that fail their schema are reported (not flagged: a vendor's answer to a bad request is
//! exactly what a conformance scenario needs).
//!
//! Layout: `convert.rs` holds the shared conversion ([`ApiSpec::convert`]), `proxy.rs` the
//! proxy's library API ([`Recorder`]), `service.rs` is the only file touching hyper's server
//! types; [`redact`] the redaction rules;
//! [`har`] the HAR 1.2 reader.
//!
//! ```no_run
//! use conformance::record::{RecordConfig, Recorder};
//! use conformance::specs::Api;
//! let config = RecordConfig::new(Api::Chargily, "http://127.0.0.1:8080/chargily/test/api/v2", "out.yaml");
//! let recorder = Recorder::start(config).expect("starts");
//! let base = recorder.url(); // send requests here; each exchange is in out.yaml once answered
//! # let _ = base;
//! // ... the proxy stops when `recorder` is dropped.
//! ```

mod convert;
pub mod har;
mod proxy;
pub mod redact;
mod service;

pub use convert::{ApiSpec, Capture, Converted};
pub use proxy::{Event, EventSink, RecordConfig, RecordError, Recorder, Stats};
pub(crate) use proxy::{Inbound, Outbound, Proxy};
pub use redact::{REDACTED, Redactor, Secrets};
