//! The grammar of an OpenAPI 3.0 document as `openapiv3` reads it (and of the 3.1 members it
//! does not know, written so that it reads them as their 3.0 counterparts), outside Schema Objects:
//! what each member of each kind of object is ([`Shape::member`]), which kinds are read as a
//! `ReferenceOr`, and the stand-ins accepted at each kind. The walk (`super`) is led by it.

use serde_json::Value;

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A Reference, which `openapiv3` accepts wherever it reads a `ReferenceOr`.
pub(super) const REFERENCE: &[u8] = br#"{"$ref":""}"#;

/// How many kinds have a stand-in ([`Shape::stand_in`]).
pub(super) const STAND_INS: usize = 10;

/// What a value is in the document's structure, as `openapiv3` reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Copied as is.
    Copy,
    /// A string `openapiv3` reads as any string: `""` in the compact copy.
    Free,
    Document,
    Paths,
    Components,
    /// Each member's value is of the kind given.
    Each(&'static Shape),
    /// A Path Item; `referable` where `openapiv3` reads a `ReferenceOr` of one (in Paths, not
    /// in Callbacks).
    PathItem {
        referable: bool,
    },
    /// A list of Parameters.
    Parameters,
    Operation,
    Responses,
    /// A Callback: Path Items under any key; `referable` in Components.
    Callback {
        referable: bool,
    },
    RequestBody,
    Response,
    Parameter,
    /// Read as a Parameter, but a Header Object for `openapiv3`.
    Header,
    Content,
    MediaType,
    Encoding,
    /// A Schema Object position: `{}` (`null` stays when `optional`).
    Schema {
        optional: bool,
    },
    /// A list of Security Requirements.
    Security,
    /// A Security Requirement: each member a list of scopes.
    Requirement,
    /// A list of scopes: `null` is written `[]`.
    Scopes,
    /// A list `openapiv3` reads as any strings (an Operation's `tags`): `[]` in the compact
    /// copy when it is one.
    Strings,
    /// An Example Object.
    Example,
    /// An External Documentation Object (of an Operation): its `url` is free text too.
    ExternalDocs,
    /// A Security Scheme (OpenAPI 3.1 only; copied as is in 3.0): 3.1's `mutualTLS` type,
    /// which `openapiv3` does not know, is written as a stand-in it accepts.
    SecurityScheme,
    /// A map of Path Items outside `paths` (OpenAPI 3.1's `webhooks` and
    /// `components.pathItems`; copied as is in 3.0, where `openapiv3` ignores them): written
    /// apart and read by `openapiv3` as such a map.
    PathItems,
    /// A value `openapiv3` reads as any JSON (`serde_json::Value`): an `example`, an Example
    /// Object's `value`, an extension (`x-…`) of an object that has extensions: `null` in the
    /// compact copy (any value is accepted there, so the verdict is the same).
    Opaque,
}

impl Shape {
    /// For a kind whose objects may be replaced when repeated: an index in
    /// [`Copier::written`], and an object `openapiv3` accepts at that kind.
    pub(super) fn stand_in(self) -> Option<(usize, &'static [u8])> {
        match self {
            Shape::Parameter => Some((0, REFERENCE)),
            Shape::Header => Some((1, REFERENCE)),
            Shape::RequestBody => Some((2, REFERENCE)),
            Shape::Response => Some((3, REFERENCE)),
            Shape::MediaType => Some((4, b"{}")),
            Shape::Encoding => Some((5, b"{}")),
            Shape::Operation => Some((6, br#"{"responses":{}}"#)),
            Shape::Example => Some((7, REFERENCE)),
            Shape::PathItem { referable: true } => Some((8, REFERENCE)),
            Shape::PathItem { referable: false } => Some((9, b"{}")),
            _ => None,
        }
    }

    /// Whether `openapiv3` reads an object of this kind as a `ReferenceOr`: with a string
    /// `$ref`, it reads the Reference and ignores the rest.
    pub(super) fn reads_reference(self) -> bool {
        matches!(
            self,
            Shape::PathItem { referable: true }
                | Shape::Callback { referable: true }
                | Shape::Parameter
                | Shape::Header
                | Shape::RequestBody
                | Shape::Response
                | Shape::Example
        )
    }

    /// The kind of each element of a list of this kind.
    pub(super) fn item(self) -> Shape {
        match self {
            Shape::Parameters => Shape::Parameter,
            Shape::Security => Shape::Requirement,
            _ => Shape::Copy,
        }
    }

    /// The kind of the member `key` of an object of this kind: the grammar of the document
    /// as `openapiv3` reads it. `first` is whether a Parameter's or Header's `schema` or
    /// `content` has been seen: `openapiv3` reads the first of the two and ignores the other.
    pub(super) fn member(self, key: &str, first: &mut bool) -> Shape {
        if self.extensible() && key.starts_with("x-") {
            return Shape::Opaque;
        }
        // A `$ref` string too: `openapiv3` reads any string as a Reference, without resolving it.
        let free = if key == "description" || key == "summary" || key == "$ref" {
            Shape::Free
        } else {
            Shape::Copy
        };
        match self {
            Shape::Copy
            | Shape::Free
            | Shape::Schema { .. }
            | Shape::Parameters
            | Shape::Security
            | Shape::Scopes
            | Shape::Strings
            | Shape::Opaque => Shape::Copy,
            Shape::PathItems => Shape::PathItem { referable: true },
            Shape::Requirement => Shape::Scopes,
            Shape::Each(kind) => *kind,
            Shape::Document => match key {
                "paths" => Shape::Paths,
                "components" => Shape::Components,
                "security" => Shape::Security,
                "webhooks" => Shape::PathItems,
                _ => free,
            },
            Shape::Paths if key.starts_with('/') => Shape::PathItem { referable: true },
            Shape::Components => match key {
                "schemas" => Shape::Each(&Shape::Schema { optional: false }),
                "responses" => Shape::Each(&Shape::Response),
                "parameters" => Shape::Each(&Shape::Parameter),
                "headers" => Shape::Each(&Shape::Header),
                "requestBodies" => Shape::Each(&Shape::RequestBody),
                "callbacks" => Shape::Each(&Shape::Callback { referable: true }),
                "examples" => Shape::Each(&Shape::Example),
                "securitySchemes" => Shape::Each(&Shape::SecurityScheme),
                "pathItems" => Shape::PathItems,
                _ => free,
            },
            Shape::PathItem { .. } if METHODS.contains(&key) => Shape::Operation,
            Shape::PathItem { .. } if key == "parameters" => Shape::Parameters,
            Shape::Operation => match key {
                "parameters" => Shape::Parameters,
                "requestBody" => Shape::RequestBody,
                "responses" => Shape::Responses,
                "callbacks" => Shape::Each(&Shape::Callback { referable: false }),
                "operationId" => Shape::Free,
                "tags" => Shape::Strings,
                "externalDocs" => Shape::ExternalDocs,
                "security" => Shape::Security,
                _ => free,
            },
            Shape::Responses if status_code(key) => Shape::Response,
            Shape::Callback { .. } => Shape::PathItem { referable: false },
            Shape::RequestBody if key == "content" => Shape::Content,
            Shape::Response => match key {
                "headers" => Shape::Each(&Shape::Header),
                "content" => Shape::Content,
                _ => free,
            },
            Shape::Parameter | Shape::Header | Shape::MediaType if key == "example" => {
                Shape::Opaque
            }
            Shape::Parameter | Shape::Header | Shape::MediaType if key == "examples" => {
                Shape::Each(&Shape::Example)
            }
            // Any string: its name matters only beside the others, which `openapiv3` does
            // not compare.
            Shape::Parameter if key == "name" => Shape::Free,
            Shape::Example if key == "value" => Shape::Opaque,
            Shape::ExternalDocs if key == "url" => Shape::Free,
            Shape::Parameter | Shape::Header
                if !*first && (key == "schema" || key == "content") =>
            {
                *first = true;
                if key == "schema" {
                    Shape::Schema { optional: false }
                } else {
                    Shape::Content
                }
            }
            Shape::Content => Shape::MediaType,
            Shape::MediaType => match key {
                "schema" => Shape::Schema { optional: true },
                "encoding" => Shape::Each(&Shape::Encoding),
                _ => free,
            },
            Shape::Encoding if key == "headers" => Shape::Each(&Shape::Header),
            Shape::Paths
            | Shape::PathItem { .. }
            | Shape::Responses
            | Shape::RequestBody
            | Shape::Parameter
            | Shape::Header
            | Shape::Encoding
            | Shape::Example
            | Shape::ExternalDocs
            | Shape::SecurityScheme => free,
        }
    }

    /// Whether `openapiv3` reads this kind as a struct with extensions: its `x-…` members
    /// are any JSON. (Not a Callback: its members are all Path Items, `x-…` too.)
    fn extensible(self) -> bool {
        matches!(
            self,
            Shape::Document
                | Shape::Paths
                | Shape::Components
                | Shape::PathItem { .. }
                | Shape::Operation
                | Shape::Responses
                | Shape::RequestBody
                | Shape::Response
                | Shape::Parameter
                | Shape::Header
                | Shape::MediaType
                | Shape::Encoding
                | Shape::Example
                | Shape::ExternalDocs
        )
    }
}

/// Whether `openapiv3` reads a Responses key as a status code.
fn status_code(key: &str) -> bool {
    key == "default"
        || serde_json::from_value::<openapiv3::StatusCode>(Value::String(key.to_owned())).is_ok()
}
