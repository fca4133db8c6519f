//! Rust types generated from the OpenAPI documents in `spec/` (filled by issue #3).
