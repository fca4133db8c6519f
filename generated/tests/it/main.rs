//! Integration tests of the generated types: examples, instances and round trips against the specs.
//!
//! One integration-test binary for the crate, as ripgrep's `tests/it`: every file
//! here is a module of it, so the tests link once.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod support {
    pub mod instances;
    pub mod json;
}
mod enums;
mod examples;
mod instances_selftest;
mod raw_body;
mod round_trip;
