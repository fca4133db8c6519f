//! Rust types of both checkout APIs, generated from `spec/` by `cargo codegen sync`.
//!
//! The modules are generated files: edit the spec and run `cargo codegen sync`, never the
//! modules themselves (`cargo test -p codegen` fails when they are stale). This file is
//! hand-written.
//!
//! Each module holds one type per schema (component schemas keep their names), an
//! `operations` module with one submodule per operation (method, path, parameters, body and a
//! `Response` enum whose `decode` never panics), and a `support` module.

/// Chargily Pay V2, from `spec/chargily-pay-v2.yaml`.
#[rustfmt::skip]
#[allow(deprecated, clippy::all, clippy::pedantic, rustdoc::all)]
pub mod chargily_pay_v2;

/// ReCharge Checkouts API version 2021-01, from `spec/recharge-2021-01.yaml`.
#[rustfmt::skip]
#[allow(deprecated, clippy::all, clippy::pedantic, rustdoc::all)]
pub mod recharge_2021_01;

/// Signing, verifying and decoding both APIs' webhooks (hand-written; the `webhooks` feature).
#[cfg(feature = "webhooks")]
pub mod webhooks;

pub use chargily_pay_v2 as chargily;
pub use recharge_2021_01 as recharge;
