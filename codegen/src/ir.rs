//! The ordered intermediate representation between lowering and emission.
//!
//! Types live in a `Vec` indexed by [`TypeId`], in the order lowering first met them (document
//! order), so output order never depends on hashing. Names are not decided here: each type
//! carries a [`NameHint`] that the naming pass turns into a unique identifier.

use std::collections::BTreeMap;

/// Index into [`Ir::types`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypeId(pub usize);

/// A Rust type expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    Named(TypeId),
    String,
    Bool,
    I32,
    I64,
    U32,
    U64,
    F32,
    F64,
    /// Any JSON value (`serde_json::Value`).
    Json,
    /// Any JSON object (`serde_json::Map<String, Value>`).
    JsonObject,
    Vec(Box<Ty>),
    /// `BTreeMap<String, T>`: ordered, so output and `Hash` are deterministic.
    Map(Box<Ty>),
    /// A nullable position that is not a struct field (array items, map values, variants).
    Option(Box<Ty>),
    /// Indirection inserted where a cycle of direct containment needs it.
    Box(Box<Ty>),
}

/// Where a type's name comes from: a path of words, most significant first
/// (`["Checkout", "status"]` → `CheckoutStatus`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct NameHint {
    pub words: Vec<String>,
    /// Component schemas claim their names before inline schemas get theirs.
    pub component: bool,
}

#[derive(Debug, Clone)]
pub struct TypeDef {
    pub hint: NameHint,
    /// JSON pointer of the schema this type was lowered from (for docs and diagnostics).
    pub origin: String,
    pub doc: Option<String>,
    pub deprecated: bool,
    /// The schema also admits `null` (uses of the type are wrapped in `Option`).
    pub nullable: bool,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub enum Kind {
    Struct(Struct),
    /// A string enum.
    Enum(StringEnum),
    IntEnum(IntEnum),
    /// `oneOf`/`anyOf` without a discriminator: the first variant that decodes wins.
    Untagged(Vec<Variant>),
    /// `oneOf`/`anyOf` with a discriminator: dispatch on the tag property.
    Tagged(Tagged),
    /// A named primitive, container or free-form schema: a type alias.
    Alias(Ty),
    /// An alias that would be recursive (`type Tree = Vec<Tree>` is an error in Rust): a
    /// `#[serde(transparent)]` tuple struct around the type instead. Made by analysis only.
    Newtype(Ty),
    /// An array whose items are typed by position (JSON Schema 2020-12's `prefixItems`): a
    /// tuple struct.
    Tuple(Tuple),
}

/// The positions of a `prefixItems` array, as the fields of a tuple struct.
#[derive(Debug, Clone)]
pub struct Tuple {
    /// The field types: each position's (an `Option` from [`Tuple::required`] on), then, with
    /// [`Tuple::rest`], the `Vec` of the items after them.
    pub items: Vec<Ty>,
    /// How many leading positions every array has (`minItems`).
    pub required: usize,
    /// Items may follow the positions (the last field holds them).
    pub rest: bool,
}

impl Tuple {
    /// Every array has exactly the positions: serde's derive reads and writes the tuple
    /// struct as such an array.
    pub fn fixed(&self) -> bool {
        !self.rest && self.required == self.items.len()
    }

    /// The number of positions (fields before the rest).
    pub fn positions(&self) -> usize {
        self.items.len() - usize::from(self.rest)
    }
}

#[derive(Debug, Clone)]
pub struct Struct {
    pub fields: Vec<Field>,
    /// Undeclared properties, kept in a flattened map (`additionalProperties`).
    pub additional: Option<Ty>,
    /// `additionalProperties: false`.
    pub deny_unknown: bool,
}

#[derive(Debug, Clone)]
pub struct Field {
    /// The property name on the wire, exactly as in the spec.
    pub wire: String,
    pub ty: Ty,
    pub presence: Presence,
    pub doc: Option<String>,
    pub deprecated: bool,
}

/// The four states of a property; see `codegen/README.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// `T`.
    Required,
    /// `Option<T>`: must be present, may be `null`, serialized as `null`.
    RequiredNullable,
    /// `Option<T>`: may be absent (omitted on output), never `null`.
    Optional,
    /// `OptionalNullable<T>`: absent, `null` or a value, each kept as it came.
    OptionalNullable,
    /// `support::Forbidden`: the schema says `not: {required: [name]}`; present is an error.
    /// This is how one branch of an envelope union (`{checkout: …}` or unwrapped) refuses the
    /// other's shape.
    Forbidden,
}

#[derive(Debug, Clone)]
pub struct StringEnum {
    /// Wire values in spec order.
    pub values: Vec<String>,
    pub catch_all: bool,
}

#[derive(Debug, Clone)]
pub struct IntEnum {
    pub values: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct Variant {
    /// Words for the variant name (`["Address"]`, `["String"]`).
    pub hint: Vec<String>,
    pub ty: Ty,
}

#[derive(Debug, Clone)]
pub struct Tagged {
    pub property: String,
    /// Tag value → variant, in mapping (or `oneOf`) order.
    pub variants: Vec<(String, Variant)>,
}

/// One operation: parameters, body and responses.
#[derive(Debug, Clone)]
pub struct Operation {
    pub id: String,
    pub method: String,
    pub path: String,
    pub summary: Option<String>,
    /// Its first tag, if any (what [`crate::Features::PerTag`] groups operations by).
    pub tag: Option<String>,
    pub deprecated: bool,
    /// The parameters struct, if the operation has parameters.
    pub params: Option<TypeId>,
    /// The JSON request body type, if any.
    pub body: Option<Ty>,
    pub body_required: bool,
    /// The media type the request body is sent as: the one [`Operation::body`] is typed by
    /// (JSON, or with a client a form), else the first one declared (sent as bytes).
    pub body_media: Option<String>,
    /// With a client, for an `application/x-www-form-urlencoded` body typed by
    /// [`Operation::body`]: each property's `encoding` (name, `style`, `explode`) as the media
    /// type declares it; `None` for every other body.
    pub form: Option<Vec<FormEncoding>>,
    /// Every media type the request body declares, in document order.
    pub body_content: Vec<String>,
    pub responses: Vec<Response>,
    /// How each parameter is sent, in the order of the parameters struct's fields.
    pub wires: Vec<ParamWire>,
    /// The operation's security requirements (its own, else the document's): alternatives,
    /// each a list of indexes into [`Ir::schemes`]; an empty alternative needs no credentials.
    /// Alternatives naming a scheme that is not declared, or not supported, are left out.
    pub security: Vec<Vec<usize>>,
    /// The operation's `x-pagination` names (page parameter, items property, next-link
    /// property), when it declares them; a paginated list is otherwise recognised by Laravel's
    /// (`page`, `data`, `next_page_url`).
    pub pagination: Option<[String; 3]>,
}

/// A form-encoded body property's `encoding`: its name, `style` and `explode`.
pub type FormEncoding = (String, String, bool);

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

/// How one parameter is sent: OpenAPI's `in`, `style`, `explode` and `allowReserved`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamWire {
    /// The parameter's name on the wire.
    pub name: String,
    /// Its key in the parameters struct's serialized form (the name, qualified by location
    /// when two locations share it).
    pub key: String,
    pub location: Location,
    /// As written, or the location's default (`simple` for path and header, `form` for query
    /// and cookie); `json` for a parameter given by `content` instead of `schema`.
    pub style: String,
    pub explode: bool,
    pub allow_reserved: bool,
    /// `required` (always for a path parameter).
    pub required: bool,
}

/// One entry of `components/securitySchemes`, as the client supplies it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityScheme {
    /// Its name in the spec.
    pub name: String,
    pub kind: SchemeKind,
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SchemeKind {
    /// `Authorization: Bearer <token>`: HTTP `bearer`, OAuth 2 and OpenID Connect.
    Bearer,
    /// `Authorization: Basic <base64(user:password)>`.
    Basic,
    /// A key sent as the named header, query parameter or cookie.
    ApiKey { location: Location, name: String },
}

#[derive(Debug, Clone)]
pub struct Response {
    /// `200`, `4XX` or `default`.
    pub status: String,
    pub description: Option<String>,
    pub body: ResponseBody,
}

#[derive(Debug, Clone)]
pub enum ResponseBody {
    /// No content declared.
    Empty,
    /// A JSON media type, decoded into this type.
    Json(Ty),
    /// Only non-JSON media types: kept as bytes.
    Raw,
}

/// One webhook the API sends (OpenAPI 3.1's `webhooks`): a request to the receiver.
#[derive(Debug, Clone)]
pub struct Webhook {
    /// Its name in the spec (the key under `webhooks`).
    pub name: String,
    pub method: String,
    pub summary: Option<String>,
    pub deprecated: bool,
    /// The JSON payload type, if the request has a JSON body.
    pub payload: Option<Ty>,
}

/// The whole lowered document.
#[derive(Debug, Clone, Default)]
pub struct Ir {
    pub types: Vec<TypeDef>,
    pub operations: Vec<Operation>,
    /// In document order; empty for OpenAPI 3.0.
    pub webhooks: Vec<Webhook>,
    /// The security schemes a client can supply, in document order (others are left out).
    pub schemes: Vec<SecurityScheme>,
    /// The `servers` URLs, their variables replaced by their defaults.
    pub servers: Vec<String>,
    /// The document's `x-rate-limit` leaky bucket: the response header reporting it as
    /// `used/size`, and how many calls leak from it per second.
    pub bucket: Option<(String, f64)>,
    /// What was generated other than as the spec says (a position typed as
    /// `serde_json::Value` past a limit), each naming its JSON pointer.
    pub warnings: Vec<String>,
}

/// Names chosen by the naming pass.
#[derive(Debug, Clone, Default)]
pub struct Names {
    pub types: Vec<String>,
    /// Per struct type: field identifiers, in field order (plus the flattened map last).
    pub fields: BTreeMap<TypeId, Vec<String>>,
    /// Per enum/union type: variant identifiers, in variant order (plus the catch-all last).
    pub variants: BTreeMap<TypeId, Vec<String>>,
    /// Per operation: its module name.
    pub operations: Vec<String>,
    /// Per webhook: its module name.
    pub webhooks: Vec<String>,
    /// Per security scheme: its field in the client's `Credentials`.
    pub schemes: Vec<String>,
}
