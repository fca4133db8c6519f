//! Integration tests of `codegen`: golden fixtures, hard cases, schema errors, the CLI, rendering and the corpus.
//!
//! One integration-test binary for the crate, as ripgrep's `tests/it`: every file
//! here is a module of it, so the tests link once.

#![allow(clippy::expect_used, clippy::print_stdout, clippy::unwrap_used)] // test code: a panic is a failed test

mod check;
mod corpus;
mod corpus_examples;
mod dependencies;
mod features;
mod golden;
mod hard_cases;
mod layout;
mod scaffold;
mod schema_errors;
mod sync;
