//! [`Ir`] + [`Names`] → Rust tokens.
//!
//! Generated code depends only on `serde`, `serde_json` and `serde_path_to_error`, the crates
//! the `generated` crate depends on. Each output carries its own `support` module so it is
//! self-contained.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::quote;

use crate::analysis::Derives;
use crate::ir::{Field, Ir, Kind, Names, Operation, Presence, ResponseBody, Ty, TypeDef, TypeId};

pub struct Emitter<'a> {
    pub ir: &'a Ir,
    pub names: &'a Names,
    pub derives: &'a [Derives],
}

fn ident(name: &str) -> Ident {
    match name.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(name, Span::call_site()),
    }
}

fn doc_attrs(doc: Option<&str>) -> TokenStream {
    let Some(doc) = doc else {
        return TokenStream::new();
    };
    let mut lines = Vec::new();
    for_doc_lines(doc, |l| {
        // A leading space keeps `///` comments readable; rustdoc strips one.
        let l = format!(" {l}");
        lines.push(quote!(#[doc = #l]));
    });
    quote!(#(#lines)*)
}

/// Calls `f` with each line of a doc comment as both emitters write it: lines end at `\n`,
/// `\r\n` and a bare `\r` (which rustc refuses inside a doc comment; specs written on Windows
/// carry them), trailing white space is trimmed, and any other control character but a tab is
/// written as its escape (`\u{1b}`), so no text from a spec makes a comment that does not
/// compile. Ordinary text gives exactly `str::lines` with trimmed ends.
pub(crate) fn for_doc_lines(doc: &str, mut f: impl FnMut(&str)) {
    let normalized;
    let doc = if doc.contains('\r') {
        normalized = doc.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        doc
    };
    for line in doc.lines() {
        let line = line.trim_end();
        if line.chars().any(|c| c.is_control() && c != '\t') {
            let escaped: String = line
                .chars()
                .map(|c| {
                    if c.is_control() && c != '\t' {
                        c.escape_unicode().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect();
            f(&escaped);
        } else {
            f(line);
        }
    }
}

/// A run of top-level items of the module. Top-level items print independently, so the
/// parts can be emitted and rendered separately (on several threads) and their texts
/// concatenated in order: the result is the text of the whole module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The declarations of these types, in order.
    Types(std::ops::Range<usize>),
    /// The `operations` module.
    Operations,
    /// The `schemas` module.
    Schemas,
    /// The `support` module.
    Support,
}

/// Types per [`Part::Types`]: small enough to balance threads, large enough to amortise.
const TYPES_PER_PART: usize = 128;

impl Emitter<'_> {
    /// The module's parts, in output order.
    pub fn parts(&self) -> Vec<Part> {
        let n = self.ir.types.len();
        let mut parts: Vec<Part> = (0..n)
            .step_by(TYPES_PER_PART)
            .map(|start| Part::Types(start..n.min(start + TYPES_PER_PART)))
            .collect();
        parts.extend([Part::Operations, Part::Schemas, Part::Support]);
        parts
    }

    /// One part's items.
    pub fn part(&self, part: &Part) -> TokenStream {
        match part {
            Part::Types(range) => {
                let types = range
                    .clone()
                    .map(|i| self.type_def(TypeId(i), &self.ir.types[i]));
                quote!(#(#types)*)
            }
            Part::Operations => self.operations(),
            Part::Schemas => self.schemas(),
            Part::Support => support(),
        }
    }

    /// Component schemas by spec name: lets tools decode a payload as "the `Checkout` schema"
    /// without knowing the Rust name chosen for it.
    fn schemas(&self) -> TokenStream {
        let components: Vec<(String, TokenStream)> = self
            .ir
            .types
            .iter()
            .enumerate()
            .filter_map(|(i, d)| {
                let spec_name = crate::lower::component_name(&d.origin)?;
                let name = self.name(TypeId(i));
                // A schema that admits null decodes as `Option` of its type.
                let ty = if d.nullable {
                    quote!(Option<super::#name>)
                } else {
                    quote!(super::#name)
                };
                Some((spec_name, ty))
            })
            .collect();
        let names = components.iter().map(|(n, _)| n);
        let arms = components
            .iter()
            .map(|(n, ty)| quote!(#n => Some(super::support::round_trip::<#ty>(json)),));
        quote! {
            /// The component schemas, by their names in the spec.
            pub mod schemas {
                /// Component schema names, in spec order.
                pub const NAMES: &[&str] = &[#(#names),*];

                /// Decodes `json` as the named schema's type and encodes it back; `None` for a name
                /// the spec does not define.
                #[allow(unused_variables)]
                pub fn round_trip(name: &str, json: &serde_json::Value) -> Option<Result<serde_json::Value, super::support::Mismatch>> {
                    match name {
                        #(#arms)*
                        _ => None,
                    }
                }
            }
        }
    }

    fn name(&self, id: TypeId) -> Ident {
        ident(&self.names.types[id.0])
    }

    /// A type expression; `up` is how many modules below the generated module's root we are.
    fn ty(&self, ty: &Ty, up: usize) -> TokenStream {
        let prefix = prefix(up);
        match ty {
            Ty::Named(id) => {
                let name = self.name(*id);
                quote!(#prefix #name)
            }
            Ty::String => quote!(String),
            Ty::Bool => quote!(bool),
            Ty::I32 => quote!(i32),
            Ty::I64 => quote!(i64),
            Ty::U32 => quote!(u32),
            Ty::U64 => quote!(u64),
            Ty::F32 => quote!(f32),
            Ty::F64 => quote!(f64),
            Ty::Json => quote!(serde_json::Value),
            Ty::JsonObject => quote!(serde_json::Map<String, serde_json::Value>),
            Ty::Vec(t) => {
                let t = self.ty(t, up);
                quote!(Vec<#t>)
            }
            Ty::Map(t) => {
                let t = self.ty(t, up);
                quote!(std::collections::BTreeMap<String, #t>)
            }
            Ty::Option(t) => {
                let t = self.ty(t, up);
                quote!(Option<#t>)
            }
            Ty::Box(t) => {
                let t = self.ty(t, up);
                quote!(Box<#t>)
            }
        }
    }

    fn derive_attr(&self, id: TypeId, serde: bool) -> TokenStream {
        let d = self.derives[id.0];
        let mut traits = vec![quote!(Debug), quote!(Clone), quote!(PartialEq)];
        if d.eq {
            traits.push(quote!(Eq));
        }
        if d.hash {
            traits.push(quote!(Hash));
        }
        if d.copy {
            traits.push(quote!(Copy));
        }
        if d.default {
            traits.push(quote!(Default));
        }
        if serde {
            traits.push(quote!(serde::Serialize));
            traits.push(quote!(serde::Deserialize));
        }
        quote!(#[derive(#(#traits),*)])
    }

    pub fn type_def(&self, id: TypeId, def: &TypeDef) -> TokenStream {
        let doc = doc_attrs(def.doc.as_deref());
        let deprecated = if def.deprecated {
            quote!(#[deprecated])
        } else {
            TokenStream::new()
        };
        let name = self.name(id);
        match &def.kind {
            Kind::Alias(ty) => {
                let ty = self.ty(ty, 0);
                quote! { #doc #deprecated pub type #name = #ty; }
            }
            Kind::Newtype(ty) => {
                let derive = self.derive_attr(id, true);
                let ty = self.ty(ty, 0);
                quote! {
                    #doc #deprecated #derive
                    #[serde(transparent)]
                    pub struct #name(pub #ty);
                }
            }
            Kind::Struct(s) => {
                let derive = self.derive_attr(id, true);
                let deny = if s.deny_unknown {
                    quote!(#[serde(deny_unknown_fields)])
                } else {
                    TokenStream::new()
                };
                let field_names = &self.names.fields[&id];
                let fields = s
                    .fields
                    .iter()
                    .zip(field_names)
                    .map(|(f, n)| self.field(f, n, 0));
                let additional = s.additional.as_ref().map(|ty| {
                    let n = ident(
                        field_names
                            .last()
                            .map_or("additional_properties", String::as_str),
                    );
                    let ty = self.ty(ty, 0);
                    quote! {
                        /// Properties not declared by the schema (`additionalProperties`).
                        #[serde(flatten)]
                        pub #n: std::collections::BTreeMap<String, #ty>,
                    }
                });
                quote! {
                    #doc #deprecated #derive #deny
                    pub struct #name { #(#fields)* #additional }
                }
            }
            Kind::Enum(e) => {
                let derive = self.derive_attr(id, true);
                let variants = &self.names.variants[&id];
                let arms = e.values.iter().zip(variants).map(|(wire, v)| {
                    let v = ident(v);
                    quote!(#[serde(rename = #wire)] #v,)
                });
                let as_str = e.values.iter().zip(variants).map(|(wire, v)| {
                    let v = ident(v);
                    quote!(Self::#v => #wire,)
                });
                let (catch_all, catch_all_str) = if e.catch_all {
                    let v = ident(variants.last().map_or("Unknown", String::as_str));
                    (
                        quote! {
                            /// A value this version of the spec does not list, kept as sent.
                            #[serde(untagged)]
                            #v(String),
                        },
                        quote!(Self::#v(other) => other.as_str(),),
                    )
                } else {
                    (TokenStream::new(), TokenStream::new())
                };
                quote! {
                    #doc #deprecated #derive
                    pub enum #name { #(#arms)* #catch_all }
                    impl #name {
                        /// The value as sent on the wire.
                        pub fn as_str(&self) -> &str {
                            match self { #(#as_str)* #catch_all_str }
                        }
                    }
                    impl std::fmt::Display for #name {
                        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                            f.write_str(self.as_str())
                        }
                    }
                }
            }
            Kind::IntEnum(e) => {
                let derive = self.derive_attr(id, true);
                let variants: Vec<Ident> =
                    self.names.variants[&id].iter().map(|v| ident(v)).collect();
                let values: Vec<Literal> = e
                    .values
                    .iter()
                    .map(|v| Literal::i64_unsuffixed(*v))
                    .collect();
                let listing = e
                    .values
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
                let message = format!("{{other}} is not one of {listing}");
                quote! {
                    #doc #deprecated #derive
                    #[serde(try_from = "i64", into = "i64")]
                    pub enum #name { #(#variants,)* }
                    impl std::convert::From<#name> for i64 {
                        fn from(value: #name) -> i64 {
                            match value { #(#name::#variants => #values,)* }
                        }
                    }
                    impl std::convert::TryFrom<i64> for #name {
                        type Error = String;
                        fn try_from(value: i64) -> Result<Self, Self::Error> {
                            match value {
                                #(#values => Result::Ok(Self::#variants),)*
                                other => Result::Err(format!(#message)),
                            }
                        }
                    }
                }
            }
            Kind::Untagged(vs) => {
                let derive = self.derive_attr(id, true);
                let variants = vs.iter().zip(&self.names.variants[&id]).map(|(v, n)| {
                    let n = ident(n);
                    let ty = self.ty(&v.ty, 0);
                    quote!(#n(#ty),)
                });
                quote! {
                    #doc #deprecated #derive
                    #[serde(untagged)]
                    pub enum #name { #(#variants)* }
                }
            }
            Kind::Tagged(t) => {
                let derive = self.derive_attr(id, false);
                let names = &self.names.variants[&id];
                let unknown = ident(names.last().map_or("Unknown", String::as_str));
                let property = &t.property;
                let variants = t.variants.iter().zip(names).map(|((tag, v), n)| {
                    let n = ident(n);
                    let ty = self.ty(&v.ty, 0);
                    let doc = format!(" `{property}` = `{tag}`.");
                    quote!(#[doc = #doc] #n(#ty),)
                });
                let ser = t.variants.iter().zip(names).map(|((tag, _), n)| {
                    let n = ident(n);
                    quote!(Self::#n(value) => support::serialize_tagged(value, #property, #tag, serializer),)
                });
                let de = t.variants.iter().zip(names).map(|((tag, _), n)| {
                    let n = ident(n);
                    quote!(#tag => serde_json::from_value(value).map(Self::#n).map_err(D::Error::custom),)
                });
                let unknown_doc =
                    format!(" A `{property}` value the spec does not map, kept as received.");
                quote! {
                    #doc #deprecated #derive
                    pub enum #name {
                        #(#variants)*
                        #[doc = #unknown_doc]
                        #unknown(serde_json::Value),
                    }
                    impl serde::Serialize for #name {
                        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                            match self {
                                #(#ser)*
                                Self::#unknown(value) => serde::Serialize::serialize(value, serializer),
                            }
                        }
                    }
                    impl<'de> serde::Deserialize<'de> for #name {
                        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                            use serde::de::Error as _;
                            let value = <serde_json::Value as serde::Deserialize>::deserialize(deserializer)?;
                            let tag = match value.get(#property) {
                                Option::Some(serde_json::Value::String(tag)) => tag.clone(),
                                Option::Some(_) => return Result::Err(D::Error::custom(concat!("discriminator `", #property, "` is not a string"))),
                                Option::None => return Result::Err(D::Error::missing_field(#property)),
                            };
                            match tag.as_str() {
                                #(#de)*
                                _ => Result::Ok(Self::#unknown(value)),
                            }
                        }
                    }
                }
            }
        }
    }

    fn field(&self, f: &Field, name: &str, up: usize) -> TokenStream {
        let doc = doc_attrs(f.doc.as_deref());
        let deprecated = if f.deprecated {
            quote!(#[deprecated])
        } else {
            TokenStream::new()
        };
        let n = ident(name);
        let bare = name.trim_start_matches("r#");
        let rename = if bare == f.wire {
            TokenStream::new()
        } else {
            let wire = &f.wire;
            quote!(#[serde(rename = #wire)])
        };
        let ty = self.ty(&f.ty, up);
        let support = support_path(up);
        let (attr, ty) = match f.presence {
            Presence::Required => (TokenStream::new(), ty),
            Presence::RequiredNullable => {
                let with = format!("{support}::nullable");
                (
                    quote!(#[serde(deserialize_with = #with)]),
                    quote!(Option<#ty>),
                )
            }
            Presence::Optional => {
                let with = format!("{support}::present");
                (
                    quote!(#[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = #with)]),
                    quote!(Option<#ty>),
                )
            }
            Presence::Forbidden => {
                let with = format!("{support}::forbidden");
                let path: TokenStream = support.parse().unwrap_or_default();
                (
                    quote!(#[serde(default, skip_serializing, deserialize_with = #with)]),
                    quote!(#path::Forbidden),
                )
            }
            Presence::OptionalNullable => {
                let skip = format!("{support}::OptionalNullable::is_absent");
                let path: TokenStream = support.parse().unwrap_or_default();
                (
                    quote!(#[serde(default, skip_serializing_if = #skip)]),
                    quote!(#path::OptionalNullable<#ty>),
                )
            }
        };
        quote! { #doc #deprecated #rename #attr pub #n: #ty, }
    }

    fn operations(&self) -> TokenStream {
        let ops = self
            .ir
            .operations
            .iter()
            .zip(&self.names.operations)
            .map(|(op, m)| self.operation(op, m));
        // A repeated `operationId` (invalid, but seen) dispatches to its first operation.
        let mut seen = std::collections::BTreeSet::new();
        let dispatch: Vec<(&Operation, &String)> = self
            .ir
            .operations
            .iter()
            .zip(&self.names.operations)
            .filter(|(op, _)| seen.insert(op.id.as_str()))
            .collect();
        let ids = dispatch.iter().map(|(op, _)| &op.id);
        let response_arms = dispatch.iter().map(|(op, m)| {
            let id = &op.id;
            let m = ident(m);
            quote!(#id => Some(#m::Response::decode(status, content_type, body).map(|r| r.body_json())),)
        });
        let request_arms = dispatch
            .iter()
            .filter(|(op, _)| op.body.is_some())
            .map(|(op, m)| {
                let id = &op.id;
                let m = ident(m);
                quote!(#id => Some(super::support::round_trip::<#m::Body>(json)),)
            });
        quote! {
            /// One module per operation: its method and path, parameters, body and responses.
            pub mod operations {
                #(#ops)*

                /// The `operationId`s, in spec order.
                pub const IDS: &[&str] = &[#(#ids),*];

                /// Decodes a response of the operation and encodes its body back to JSON
                /// (`Ok(None)` for bodiless and non-JSON responses); `None` for an unknown id.
                #[allow(unused_variables)]
                pub fn round_trip_response(operation_id: &str, status: u16, content_type: Option<&str>, body: &[u8]) -> Option<Result<Option<serde_json::Value>, super::support::DecodeError>> {
                    match operation_id {
                        #(#response_arms)*
                        _ => None,
                    }
                }

                /// Decodes a JSON request body of the operation and encodes it back; `None` for an
                /// unknown id or an operation without a JSON body.
                #[allow(unused_variables)]
                pub fn round_trip_request(operation_id: &str, json: &serde_json::Value) -> Option<Result<serde_json::Value, super::support::Mismatch>> {
                    match operation_id {
                        #(#request_arms)*
                        _ => None,
                    }
                }
            }
        }
    }

    fn operation(&self, op: &Operation, module: &str) -> TokenStream {
        let m = ident(module);
        let method = &op.method;
        let path = &op.path;
        let id = &op.id;
        let heading = match &op.summary {
            Some(s) => format!("`{method} {path}`: {}", s.trim()),
            None => format!("`{method} {path}`"),
        };
        let doc = doc_attrs(Some(&heading));
        let deprecated = if op.deprecated {
            quote!(#[deprecated])
        } else {
            TokenStream::new()
        };
        let params = op.params.map(|p| {
            let name = self.name(p);
            quote! {
                /// The operation's parameters.
                pub type Params = super::super::#name;
            }
        });
        let body = op.body.as_ref().map(|ty| {
            let ty = self.ty(ty, 2);
            let required = op.body_required;
            quote! {
                /// The JSON request body.
                pub type Body = #ty;
                /// Whether the spec requires a body.
                pub const BODY_REQUIRED: bool = #required;
            }
        });
        let ResponseParts {
            variants,
            arms,
            statuses,
            bodies,
            fallback,
        } = self.responses(op);
        quote! {
            #doc #deprecated
            pub mod #m {
                /// HTTP method.
                pub const METHOD: &str = #method;
                /// Path template, relative to the server URL.
                pub const PATH: &str = #path;
                /// `operationId` in the spec.
                pub const OPERATION_ID: &str = #id;
                #params
                #body
                /// The documented responses, chosen by status then content type.
                #[derive(Debug, Clone, PartialEq)]
                pub enum Response {
                    #(#variants)*
                    /// A status the spec does not document: the raw body.
                    Other { status: u16, body: Vec<u8> },
                }
                impl Response {
                    /// Decodes a response. Never panics: a body that does not fit the documented
                    /// type is an error carrying the status, the failing JSON path and the body.
                    pub fn decode(status: u16, content_type: Option<&str>, body: &[u8]) -> Result<Self, super::super::support::DecodeError> {
                        #[allow(unused_imports)]
                        use super::super::support;
                        let _ = content_type;
                        #(#arms)*
                        #fallback
                    }
                    /// The HTTP status.
                    pub fn status(&self) -> u16 {
                        match self { #(#statuses)* Self::Other { status, .. } => *status }
                    }
                    /// The decoded body encoded back to JSON; `None` for bodiless, raw and
                    /// undocumented responses.
                    pub fn body_json(&self) -> Option<serde_json::Value> {
                        match self {
                            #(#bodies)*
                            _ => None,
                        }
                    }
                }
            }
        }
    }

    /// Response variants, decode arms (exact statuses first, then ranges, then `default`) and
    /// status accessors.
    fn responses(&self, op: &Operation) -> ResponseParts {
        let mut bodies = Vec::new();
        let mut variants = Vec::new();
        let mut exact = Vec::new();
        let mut ranges = Vec::new();
        let mut default = Vec::new();
        let mut statuses = Vec::new();
        for resp in responses_of(op) {
            let v = ident(&resp.name);
            let doc = doc_attrs(resp.response.description.as_deref());
            let fixed = resp.fixed();
            let variant = match &resp.response.body {
                ResponseBody::Json(ty) => {
                    let t = self.ty(ty, 2);
                    if fixed {
                        quote!(#v(#t),)
                    } else {
                        quote!(#v { status: u16, body: #t },)
                    }
                }
                ResponseBody::Raw => {
                    if fixed {
                        quote!(#v(Vec<u8>),)
                    } else {
                        quote!(#v { status: u16, body: Vec<u8> },)
                    }
                }
                ResponseBody::Empty => {
                    if fixed {
                        quote!(#v,)
                    } else {
                        quote!(#v { status: u16 },)
                    }
                }
            };
            variants.push(quote!(#doc #variant));
            if let ResponseBody::Json(_) = &resp.response.body {
                bodies.push(body_arm(&resp));
            }
            statuses.push(status_arm(&resp));
            match resp.matcher {
                Matcher::Exact(_) => exact.push(decode_piece(&resp)),
                Matcher::Range(..) => ranges.push(decode_piece(&resp)),
                Matcher::Default => default.push(decode_piece(&resp)),
            }
        }
        // `default` takes every status not matched above; without it, undocumented statuses
        // keep their raw body.
        let fallback = default.into_iter().next().unwrap_or_else(raw_fallback);
        ResponseParts {
            variants,
            arms: exact.into_iter().chain(ranges).collect(),
            statuses,
            bodies,
            fallback,
        }
    }
}

/// How a documented response is selected by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Matcher {
    /// One status (`200`).
    Exact(u16),
    /// A range (`4XX`): `lo..=hi`.
    Range(u16, u16),
    /// `default`.
    Default,
}

/// One documented response of an operation, as the `Response` enum has it.
pub struct Resp<'a> {
    /// The variant name (`Status200`, `Status4xx`, `Default`).
    pub name: String,
    pub matcher: Matcher,
    pub response: &'a crate::ir::Response,
}

impl Resp<'_> {
    /// Whether the status is fixed (the variant then carries no `status` field).
    pub fn fixed(&self) -> bool {
        matches!(self.matcher, Matcher::Exact(_))
    }
}

/// The documented responses of an operation that get a variant, in spec order: statuses that
/// are not statuses (the lint reports them) and repeated variant names are skipped.
pub fn responses_of(op: &Operation) -> Vec<Resp<'_>> {
    let mut used = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for r in &op.responses {
        let upper = r.status.to_ascii_uppercase();
        let (name, matcher) = if let Ok(code) = upper.parse::<u16>() {
            (format!("Status{code}"), Matcher::Exact(code))
        } else if upper.len() == 3 && upper.ends_with("XX") && upper.as_bytes()[0].is_ascii_digit()
        {
            let lo = u16::from(upper.as_bytes()[0] - b'0') * 100;
            (
                format!("Status{}xx", &upper[..1]),
                Matcher::Range(lo, lo + 99),
            )
        } else if upper == "DEFAULT" {
            ("Default".to_owned(), Matcher::Default)
        } else {
            continue; // not a status; the lint reports it
        };
        if !used.insert(name.clone()) {
            continue;
        }
        out.push(Resp {
            name,
            matcher,
            response: r,
        });
    }
    out
}

/// The expression decoding a response's body into its variant.
fn decode_expr(resp: &Resp<'_>) -> TokenStream {
    let v = ident(&resp.name);
    let fixed = resp.fixed();
    match &resp.response.body {
        ResponseBody::Json(_) => {
            if fixed {
                quote!(support::decode_json(status, content_type, body).map(Self::#v))
            } else {
                quote!(support::decode_json(status, content_type, body).map(|body| Self::#v { status, body }))
            }
        }
        ResponseBody::Raw => {
            if fixed {
                quote!(Result::Ok(Self::#v(body.to_vec())))
            } else {
                quote!(Result::Ok(Self::#v { status, body: body.to_vec() }))
            }
        }
        ResponseBody::Empty => {
            if fixed {
                quote!(Result::Ok(Self::#v))
            } else {
                quote!(Result::Ok(Self::#v { status }))
            }
        }
    }
}

/// A response's piece of `decode`: `if <status matches> { return <decode>; }`, or for
/// `default` the final expression.
pub fn decode_piece(resp: &Resp<'_>) -> TokenStream {
    let decode = decode_expr(resp);
    match resp.matcher {
        Matcher::Exact(code) => quote!(if status == #code { return #decode; }),
        Matcher::Range(lo, hi) => quote!(if matches!(status, #lo..=#hi) { return #decode; }),
        Matcher::Default => decode,
    }
}

/// `decode`'s final expression when the spec has no `default` response.
pub fn raw_fallback() -> TokenStream {
    quote!(Result::Ok(Self::Other {
        status,
        body: body.to_vec()
    }))
}

/// A response's arm of `Response::status`.
pub fn status_arm(resp: &Resp<'_>) -> TokenStream {
    let v = ident(&resp.name);
    match (resp.matcher, &resp.response.body) {
        (Matcher::Exact(code), ResponseBody::Empty) => quote!(Self::#v => #code,),
        (Matcher::Exact(code), _) => quote!(Self::#v(..) => #code,),
        _ => quote!(Self::#v { status, .. } => *status,),
    }
}

/// A JSON response's arm of `Response::body_json`.
pub fn body_arm(resp: &Resp<'_>) -> TokenStream {
    let v = ident(&resp.name);
    if resp.fixed() {
        quote!(Self::#v(body) => serde_json::to_value(body).ok(),)
    } else {
        quote!(Self::#v { body, .. } => serde_json::to_value(body).ok(),)
    }
}

/// The pieces of an operation's `Response` enum and its `decode`.
struct ResponseParts {
    variants: Vec<TokenStream>,
    /// Exact statuses first, then ranges: each returns when it matches.
    arms: Vec<TokenStream>,
    statuses: Vec<TokenStream>,
    bodies: Vec<TokenStream>,
    /// The final expression: the `default` response's decode, or the raw fallback.
    fallback: TokenStream,
}

fn prefix(up: usize) -> TokenStream {
    let supers = (0..up).map(|_| quote!(super::));
    quote!(#(#supers)*)
}

fn support_path(up: usize) -> String {
    let mut s = "super::".repeat(up);
    s.push_str("support");
    s
}

/// Helpers every generated module carries.
pub fn support() -> TokenStream {
    quote! {
        /// Helpers used by the generated types.
        pub mod support {
            /// A property that may be absent, `null`, or a value. Each state is serialized back
            /// as it came: absent stays absent, `null` stays `null`.
            #[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
            pub enum OptionalNullable<T> {
                /// The property was not sent.
                #[default]
                Absent,
                /// The property was sent as `null`.
                Null,
                /// The property was sent with a value.
                Value(T),
            }

            impl<T> OptionalNullable<T> {
                /// Whether the property was absent (used to omit it on output).
                pub fn is_absent(&self) -> bool {
                    matches!(self, Self::Absent)
                }
                /// The value, if one was sent.
                pub fn as_option(&self) -> Option<&T> {
                    match self {
                        Self::Value(v) => Option::Some(v),
                        _ => Option::None,
                    }
                }
            }

            impl<T: serde::Serialize> serde::Serialize for OptionalNullable<T> {
                fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                    match self {
                        Self::Value(v) => v.serialize(serializer),
                        Self::Null | Self::Absent => serializer.serialize_none(),
                    }
                }
            }

            impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for OptionalNullable<T> {
                fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                    Option::<T>::deserialize(deserializer).map(|v| match v {
                        Option::Some(v) => Self::Value(v),
                        Option::None => Self::Null,
                    })
                }
            }

            /// Required and nullable: with `deserialize_with`, serde reports a missing field
            /// instead of defaulting to `None`.
            pub fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
                <Option<T> as serde::Deserialize>::deserialize(deserializer)
            }

            /// Optional, not nullable: absence gives `None` (through `default`), `null` is an error.
            pub fn present<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(deserializer: D) -> Result<Option<T>, D::Error> {
                T::deserialize(deserializer).map(Option::Some)
            }

            /// A property the schema forbids (`not: {required: [name]}`). It is never serialized,
            /// and its presence in input is an error.
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
            pub struct Forbidden;

            /// Fails: the property must not be present.
            pub fn forbidden<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Forbidden, D::Error> {
                use serde::de::Error as _;
                let _ = deserializer;
                Err(D::Error::custom("this property must be absent here"))
            }

            /// Serializes a discriminated-union member, adding the tag if the member's own type
            /// does not carry it (so it is never written twice).
            pub fn serialize_tagged<S: serde::Serializer, T: serde::Serialize>(value: &T, property: &str, tag: &str, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::Error as _;
                let mut json = serde_json::to_value(value).map_err(S::Error::custom)?;
                if let serde_json::Value::Object(map) = &mut json {
                    map.entry(property).or_insert_with(|| serde_json::Value::String(tag.to_owned()));
                }
                serde::Serialize::serialize(&json, serializer)
            }

            /// A JSON value that does not fit a generated type.
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct Mismatch {
                /// JSON path of the failure (`.` for the whole value).
                pub path: String,
                /// What went wrong.
                pub message: String,
            }

            impl std::fmt::Display for Mismatch {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    write!(f, "at {}: {}", self.path, self.message)
                }
            }

            impl std::error::Error for Mismatch {}

            /// Decodes `json` into `T` (naming the failing path) and encodes it back.
            pub fn round_trip<T: serde::de::DeserializeOwned + serde::Serialize>(json: &serde_json::Value) -> Result<serde_json::Value, Mismatch> {
                let value: T = serde_path_to_error::deserialize(json)
                    .map_err(|e| Mismatch { path: e.path().to_string(), message: e.inner().to_string() })?;
                serde_json::to_value(&value).map_err(|e| Mismatch { path: ".".into(), message: e.to_string() })
            }

            /// A response body that does not match its documented type.
            #[derive(Debug, Clone, PartialEq, Eq)]
            pub struct DecodeError {
                /// HTTP status of the response.
                pub status: u16,
                /// JSON path of the failure (`.` for the whole body).
                pub path: String,
                /// What went wrong.
                pub message: String,
                /// The raw body, kept for diagnosis.
                pub body: Vec<u8>,
            }

            impl std::fmt::Display for DecodeError {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    write!(f, "status {}: at {}: {}", self.status, self.path, self.message)
                }
            }

            impl std::error::Error for DecodeError {}

            /// Whether a `Content-Type` names JSON (`application/json`, `*+json`).
            pub fn is_json(content_type: &str) -> bool {
                let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            }

            /// Decodes a JSON body, reporting the JSON path of the first mismatch.
            pub fn decode_json<T: serde::de::DeserializeOwned>(status: u16, content_type: Option<&str>, body: &[u8]) -> Result<T, DecodeError> {
                let fail = |path: String, message: String| DecodeError { status, path, message, body: body.to_vec() };
                if let Option::Some(ct) = content_type {
                    if !is_json(ct) {
                        return Result::Err(fail(".".into(), format!("content type `{ct}` is not JSON")));
                    }
                }
                let deserializer = &mut serde_json::Deserializer::from_slice(body);
                serde_path_to_error::deserialize(deserializer).map_err(|e| fail(e.path().to_string(), e.inner().to_string()))
            }
        }
    }
}
