//! The golden fixtures' promises, checked on their compiled output: one test binary.

#![allow(clippy::unwrap_used)] // test code: a panic is a failed test

mod client;
mod mappings;
mod server;
