//! OpenAPI 3.0 and 3.1 documents as every tool in this workspace reads them.
//!
//! - [`files`]: input read from regular files only, bounded; output written atomically.
//! - [`load`]: parse YAML or JSON into a [`Document`], with file:line:column on syntax errors and
//!   a clear refusal of other versions (Swagger 2.0, OpenAPI 4); [`Version`] tells 3.0 from 3.1.
//! - [`pointer`]: JSON pointers and local `$ref` resolution.
//! - [`schema`]: translation of Schema Objects to JSON Schema 2020-12 (for 3.0: `nullable`,
//!   boolean exclusive bounds, ignored `$ref` siblings; for 3.1, already 2020-12: its keywords
//!   kept, `$ref` siblings applied; for both: `readOnly`/`writeOnly` by direction, integer formats) and
//!   validation with the `jsonschema` crate, reporting locations in the *OpenAPI* document.
//! - [`lint`]: the structural checks every spec in `spec/` must pass.
//! - [`convert`]: an OpenAPI 3.0 document written as 3.1, accepting the same payloads.
//! - [`url`]: percent-encoding of URL parts (one copy for every crate).
//! - [`check`]: which operation a request addresses, and how a response departs from its spec.
//! - [`cores`]: how many cores a stage that could split over threads finds idle now.
//!
//! The document is kept as a `serde_json::Value` (key order preserved) rather than a typed model:
//! typed models such as `openapiv3` drop the siblings of `$ref` and reject some real specs, and
//! the validators need the exact text of every schema.

pub mod bundle;
pub mod check;
pub mod convert;
pub mod cores;
pub mod files;
pub mod lint;
pub mod load;
pub mod media;
pub mod pointer;
pub mod schema;
pub mod url;
pub mod walk;

pub use lint::{Finding, Report, Rule, lint};
pub use load::{Document, LoadError, Version};
pub use schema::{Direction, SchemaError, SchemaValidator, Violation};
pub use walk::{HTTP_METHODS, Operation, operations, webhooks};
