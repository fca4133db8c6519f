//! Integration tests of `oas`: the lint fixtures and the two specs.
//!
//! One integration-test binary for the crate, as ripgrep's `tests/it`: every file
//! here is a module of it, so the tests link once.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod json_schema_2020_12;
mod lint_fixtures;
mod specs;
mod specs_3_1;
