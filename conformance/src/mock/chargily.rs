//! Chargily Pay V2: every operation of `spec/chargily-pay-v2.yaml`, on an in-memory store per
//! mode (test and live never see each other's objects).
//!
//! Behaviour (reference §1): Laravel-style errors (`{"message"}`, 422 `{"message", "errors"}`
//! with dot-notation keys such as `items.0.price`); ids are 26-character lowercase ULIDs;
//! timestamps are Unix seconds; checkouts expire 30 minutes after creation; lists use the
//! Laravel pagination envelope with page URLs built from the request's own base URL.
//!
//! Inferences, marked [INF] in the specs and kept here: fees are 2.5 % of the amount (the
//! webhook example: 1250 on 50000), split per `chargily_pay_fees_allocation` (default
//! `customer`); `locale` defaults to `ar`; `customer_id` stays `null` when none is sent (the
//! real server seems to create a customer). Metadata is returned as it was sent, arrays
//! included (the official Python SDK's test reads `metadata[0]` back from the test server).

// Generated values are built on their `new` even where every property is set today: a
// property the spec adds later is then filled there, with no change here.
#![allow(clippy::needless_update)]

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock, RwLock};

use generated::chargily as g;
use generated::chargily::client::Reply;
use generated::chargily::operations as ops;
use generated::chargily::server::{self as gs, Context, Refusal};
use generated::chargily::support::OptionalNullable;
use http::StatusCode;
use oas::check::Spec;
use oas::url::parse_query;
use serde_json::{Value, json};

use super::app::{
    Env, SpecIndexes, body_issues, body_refusal, fails, finish, group, incoming, origin,
};
use super::exchange::{Request, Response};
use super::store::Table;
use super::support::json_bytes;
use super::validate::{Issue, IssueKind, check_body, check_query};
use super::webhook::Delivery;
use super::{CHARGILY_LIVE_PREFIX, CHARGILY_TEST_PREFIX};
use crate::specs::Api;

/// One page of the list endpoint at `$path` (below the base URL) as the generated `$list`:
/// Laravel's pagination envelope around the rows of `$all` (in store order, `$total` of them)
/// on the page asked for, each made by `$row`.
macro_rules! list {
    ($ctx:expr, $paging:expr, $path:expr; $list:ident, $last:ident; $all:expr, $total:expr, $row:expr) => {{
        let (page, per_page) = $paging.resolved();
        let total = i64::try_from($total).unwrap_or(i64::MAX);
        let last_page = ((total + per_page - 1) / per_page).max(1);
        let path = format!("{}/{}", $ctx.base.get(), $path);
        let url = |n: i64| format!("{path}?page={n}");
        let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
        let take = usize::try_from(per_page).unwrap_or(10);
        Ok(g::$list {
            livemode: $ctx.mode.livemode,
            current_page: page,
            data: $all.skip(skip).take(take).map($row).collect(),
            first_page_url: url(1),
            last_page,
            last_page_url: g::$last::String(url(last_page)),
            next_page_url: (page < last_page).then(|| url(page + 1)),
            prev_page_url: (page > 1).then(|| url(page - 1)),
            path,
            per_page,
            total,
            from: OptionalNullable::Absent,
            to: OptionalNullable::Absent,
            links: None,
        })
    }};
}

/// A checkout may be paid for this long after creation [DOC `checkouts/expire.mdx`].
const LIFETIME_SECONDS: i64 = 30 * 60;
/// Fees in per mille of the amount [INF from the webhook example: 1250 on 50000].
const FEE_PER_MILLE: i64 = 25;

#[derive(Debug)]
pub(crate) struct Chargily {
    spec: Arc<Spec>,
    /// Each routed operation's index in `spec`, by `operationId`.
    indexes: SpecIndexes<gs::Route>,
    /// `[test, live]`.
    modes: [Mode; 2],
}

#[derive(Debug)]
struct Mode {
    livemode: bool,
    data: RwLock<Data>,
}

#[derive(Debug)]
struct Data {
    checkouts: Table<CheckoutRecord>,
    customers: Table<g::Customer>,
    products: Table<g::Product>,
    prices: Table<g::Price>,
    links: Table<LinkRecord>,
    /// Sum of (amount − merchant fees) of paid checkouts: the DZD balance.
    paid_total: i64,
}

impl Data {
    /// Empty tables of at most `limit` rows each.
    fn new(limit: usize) -> Self {
        Self {
            checkouts: Table::new(limit),
            customers: Table::new(limit),
            products: Table::new(limit),
            prices: Table::new(limit),
            links: Table::new(limit),
            paid_total: 0,
        }
    }
}

#[derive(Debug, Clone)]
struct CheckoutRecord {
    checkout: g::Checkout,
    items: Vec<g::CheckoutItem>,
}

#[derive(Debug, Clone)]
struct LinkRecord {
    link: g::PaymentLink,
    items: Vec<g::PaymentLinkItem>,
}

/// What a handler gets besides the store.
struct Ctx<'a> {
    env: &'a Env,
    mode: &'a Mode,
    /// `http://host:port/chargily[/test]/api/v2`, made when a list needs it (page URLs).
    base: Base<'a>,
    now: i64,
}

/// The base URL page links are built on: the request's own, or a fixed one.
#[derive(Debug)]
enum Base<'a> {
    Request {
        req: &'a Request,
        prefix: &'static str,
        made: OnceLock<String>,
    },
    Fixed(String),
}

impl Base<'_> {
    fn get(&self) -> &str {
        match self {
            Base::Request { req, prefix, made } => {
                made.get_or_init(|| format!("{}{prefix}", origin(req)))
            }
            Base::Fixed(base) => base,
        }
    }
}

/// A list operation's `page` and `per_page`, as given.
#[derive(Debug, Clone, Copy, Default)]
struct Paging {
    page: Option<i64>,
    per_page: Option<i64>,
}

/// Why a handler refuses, in Laravel's two error bodies.
#[derive(Debug)]
enum Fail {
    /// `{"message"}` with this status.
    Message(u16, String),
    /// 422 `{"message", "errors"}`.
    Invalid(BTreeMap<String, Vec<String>>),
}

impl Fail {
    /// A 422 with one message about `field`.
    fn field(field: &str, message: &str) -> Self {
        Fail::Invalid(group([(field.to_owned(), message.to_owned())]))
    }

    /// The status and JSON body.
    fn encode(self) -> (u16, Vec<u8>) {
        // Our own types always serialise.
        match self {
            Fail::Message(status, text) => (
                status,
                serde_json::to_vec(&error_body(text)).unwrap_or_default(),
            ),
            Fail::Invalid(errors) => (
                422,
                serde_json::to_vec(&validation_body(errors)).unwrap_or_default(),
            ),
        }
    }
}

fails! {
    Fail;
    create_checkout list_checkouts retrieve_checkout list_checkout_items expire_checkout
    create_customer list_customers retrieve_customer update_customer patch_customer
    delete_customer create_product list_products retrieve_product update_product delete_product
    list_product_prices create_price list_prices retrieve_price update_price create_payment_link
    list_payment_links retrieve_payment_link update_payment_link list_payment_link_items
    retrieve_balance
}

/// An operation's response from a handler's result.
fn answer<T, R: From<Fail>>(result: Result<T, Fail>, ok: impl FnOnce(T) -> R) -> R {
    result.map_or_else(R::from, ok)
}

impl Chargily {
    /// Both modes' stores keep at most `limit` objects of each kind (the oldest go first).
    pub fn new(spec: Arc<Spec>, limit: usize) -> Self {
        Self {
            indexes: SpecIndexes::new(&spec, gs::ROUTES, |r| r.id),
            spec,
            modes: [
                Mode {
                    livemode: false,
                    data: RwLock::new(Data::new(limit)),
                },
                Mode {
                    livemode: true,
                    data: RwLock::new(Data::new(limit)),
                },
            ],
        }
    }

    pub fn spec(&self) -> &Arc<Spec> {
        &self.spec
    }

    /// Handles a request below one of the two base URLs (`req.path` starts with its prefix);
    /// returns the operation it reached.
    pub async fn handle(
        &self,
        env: &Env,
        mut req: Request,
        live: bool,
    ) -> (Option<&'static str>, Response) {
        let prefix = if live {
            CHARGILY_LIVE_PREFIX
        } else {
            CHARGILY_TEST_PREFIX
        };
        let incoming = incoming!(gs, &mut req, prefix, env.config.max_body_bytes);
        let req = &req;
        let call = Call {
            api: self,
            ctx: Ctx {
                env,
                mode: &self.modes[usize::from(live)],
                base: Base::Request {
                    req,
                    prefix,
                    made: OnceLock::new(),
                },
                now: env.clock.now_s(),
            },
            prefix,
            reached: OnceLock::new(),
        };
        let reply = gs::handle(&call, &call, incoming).await;
        let response = Response::from_parts(reply.status, reply.headers, reply.body);
        (call.reached.get().copied(), response)
    }
}

/// One request to one mode: Chargily's business logic (the generated [`gs::Api`]) and its
/// Laravel error dialect (the generated [`gs::Dialect`]).
struct Call<'a> {
    api: &'a Chargily,
    ctx: Ctx<'a>,
    /// The mode's path prefix (`/chargily/test/api/v2`).
    prefix: &'static str,
    /// The operation the request reached, once answered.
    reached: OnceLock<&'static str>,
}

impl Call<'_> {
    /// `api/v2/...` or `test/api/v2/...`: the route as Laravel names it.
    fn route(&self, cx: &Context) -> String {
        format!(
            "{}{}",
            self.prefix.trim_start_matches("/chargily/"),
            cx.path
        )
    }
}

/// A Laravel `{"message"}` reply.
fn reply(status: u16, text: &str) -> Reply {
    gs::json_reply(status, &error_body(text.to_owned()))
}

impl gs::Dialect for Call<'_> {
    /// Authentication (`Authorization: Bearer <secret key>` [DOC `authentication.mdx`]), then
    /// an injected fault, for routed requests: an unknown route is 404 before either.
    fn admit(&self, cx: &Context) -> Option<Reply> {
        let route = cx.route?;
        let op = route.id;
        let env = self.ctx.env;
        let expected = &env.config.chargily_secret_key;
        let authorized = cx
            .header("authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .is_some_and(|key| key.trim() == expected);
        if !authorized {
            return Some(reply(401, "Unauthenticated."));
        }
        let status = env.take_fault(Api::Chargily, op)?;
        // The documented response for the fault: the spec's first example.
        let example = self
            .api
            .indexes
            .of(route)
            .and_then(|i| self.api.spec.response_example(i, status))
            .unwrap_or_else(|| json!({"message": "Injected fault."}));
        Some(gs::json_reply(status, &example))
    }

    /// Laravel reads an empty body as empty input.
    fn empty_body(&self, _: &Context) -> Option<Value> {
        Some(Value::Object(serde_json::Map::new()))
    }

    /// The query and the body against the spec, every violation worded as Laravel does.
    fn check(
        &self,
        cx: &Context,
        _: &gs::ParamValues,
        body: Option<&Value>,
    ) -> Result<(), Refusal> {
        let spec = &self.api.spec;
        let Some(index) = cx.route.and_then(|r| self.api.indexes.of(r)) else {
            return Ok(());
        };
        let query = cx.query.as_deref().map(parse_query).unwrap_or_default();
        let (_, mut issues) = check_query(spec, index, &query);
        let empty = Value::Null;
        let body = body.unwrap_or(&empty);
        if spec.request(index).is_some_and(|r| r.body.is_some()) {
            issues.extend(check_body(spec, index, body));
        }
        if issues.is_empty() {
            return Ok(());
        }
        Err(Refusal::Invalid {
            issues: body_issues!(gs, laravel_errors(&issues, body)),
        })
    }

    fn refuse(&self, cx: &Context, refusal: Refusal) -> Reply {
        match refusal {
            Refusal::NotFound => reply(
                404,
                &format!("The route {} could not be found.", self.route(cx)),
            ),
            Refusal::MethodNotAllowed { mut allow } => {
                // In the order the spec's path item lists them, as Laravel lists its routes.
                let paths = self.api.spec.root().get("paths");
                allow.sort_by_key(|method| match gs::route(gs::ROUTES, method, &cx.path) {
                    gs::Routed::Found(r, _) => paths
                        .and_then(|p| p.get(r.call.path))
                        .and_then(Value::as_object)
                        .and_then(|item| item.keys().position(|k| k.eq_ignore_ascii_case(method))),
                    _ => None,
                });
                let names = allow.join(", ");
                let mut out = reply(
                    405,
                    &format!(
                        "The {} method is not supported for route {}. Supported methods: {names}.",
                        cx.method,
                        self.route(cx)
                    ),
                );
                out.headers.push(("Allow".into(), names.into()));
                out
            }
            Refusal::UnsupportedMediaType { .. } => reply(
                415,
                "The request body must be JSON (Content-Type: application/json).",
            ),
            Refusal::MalformedJson { message } => reply(
                400,
                &format!("The request body is not valid JSON: {message}."),
            ),
            Refusal::Invalid { issues } => {
                // The check's issues are Laravel's already; the router's own (a value the
                // validator passed that the types refuse) are about the body as a whole.
                let pairs = issues.into_iter().map(|i| {
                    if i.name.is_empty() || i.name.starts_with('/') {
                        (
                            "body".to_owned(),
                            format!("The request body is invalid: {}.", i.message),
                        )
                    } else {
                        (i.name, i.message)
                    }
                });
                gs::json_reply(422, &validation_body(group(pairs)))
            }
            Refusal::Body(error) => body_refusal!(gs, error, reply),
            Refusal::NotImplemented => reply(501, "Not implemented."),
        }
    }

    fn finish(&self, cx: &Context, reply: Reply) -> Reply {
        finish!(self, self.ctx.env, cx, reply)
    }
}

/// One method of the generated `Api`: the handler's result as the operation's response (a
/// stored object already encoded goes out as `Other`: the bytes `Status200` would send).
macro_rules! serve {
    ($op:ident($($arg:ident: $ty:ty),*) => $handler:ident($($call:expr),*)) => {
        async fn $op(&self, _: &Context, $($arg: $ty),*) -> ops::$op::Response {
            answer(self.api.$handler(&self.ctx, $($call),*), ops::$op::Response::Status200)
        }
    };
    ($op:ident($($arg:ident: $ty:ty),*) => encoded $handler:ident($($call:expr),*)) => {
        async fn $op(&self, _: &Context, $($arg: $ty),*) -> ops::$op::Response {
            let ok = |body: Vec<u8>| ops::$op::Response::Other { status: 200, body: body.into() };
            answer(self.api.$handler(&self.ctx, $($call),*), ok)
        }
    };
}

impl gs::Api for Call<'_> {
    serve!(create_checkout(body: g::CreateCheckoutRequest) => encoded create_checkout(body));
    serve!(list_checkouts(p: g::ListCheckoutsParams) => list_checkouts(Paging::of(p.page, p.per_page)));
    serve!(retrieve_checkout(p: g::RetrieveCheckoutParams) => encoded retrieve_checkout(&p.id));
    serve!(list_checkout_items(p: g::ListCheckoutItemsParams) => list_checkout_items(&p.id, Paging::of(p.page, p.per_page)));
    serve!(expire_checkout(p: g::ExpireCheckoutParams) => expire_checkout(&p.id));
    serve!(create_customer(body: Option<g::CreateCustomerRequest>) => create_customer(body.unwrap_or_default()));
    serve!(list_customers(p: g::ListCustomersParams) => list_customers(Paging::of(p.page, p.per_page)));
    serve!(retrieve_customer(p: g::RetrieveCustomerParams) => encoded retrieve_customer(&p.id));
    serve!(update_customer(p: g::UpdateCustomerParams, body: Option<g::UpdateCustomerRequest>) => update_customer(&p.id, body.unwrap_or_default()));
    // The official JavaScript SDK updates customers with PATCH: the same handler.
    serve!(patch_customer(p: g::PatchCustomerParams, body: Option<g::UpdateCustomerRequest>) => update_customer(&p.id, body.unwrap_or_default()));
    serve!(delete_customer(p: g::DeleteCustomerParams) => delete_customer(&p.id));
    serve!(create_product(body: g::CreateProductRequest) => create_product(body));
    serve!(list_products(p: g::ListProductsParams) => list_products(Paging::of(p.page, p.per_page)));
    serve!(retrieve_product(p: g::RetrieveProductParams) => encoded retrieve_product(&p.id));
    serve!(update_product(p: g::UpdateProductParams, body: Option<g::UpdateProductRequest>) => update_product(&p.id, body.unwrap_or_default()));
    serve!(delete_product(p: g::DeleteProductParams) => delete_product(&p.id));
    serve!(list_product_prices(p: g::ListProductPricesParams) => list_product_prices(&p.id, Paging::of(p.page, p.per_page)));
    serve!(create_price(body: g::CreatePriceRequest) => create_price(body));
    serve!(list_prices(p: g::ListPricesParams) => list_prices(Paging::of(p.page, p.per_page)));
    serve!(retrieve_price(p: g::RetrievePriceParams) => encoded retrieve_price(&p.id));
    serve!(update_price(p: g::UpdatePriceParams, body: Option<g::UpdatePriceRequest>) => update_price(&p.id, body.unwrap_or_default()));
    serve!(create_payment_link(body: g::CreatePaymentLinkRequest) => create_payment_link(body));
    serve!(list_payment_links(p: g::ListPaymentLinksParams) => list_payment_links(Paging::of(p.page, p.per_page)));
    serve!(retrieve_payment_link(p: g::RetrievePaymentLinkParams) => encoded retrieve_payment_link(&p.id));
    serve!(update_payment_link(p: g::UpdatePaymentLinkParams, body: Option<g::UpdatePaymentLinkRequest>) => update_payment_link(&p.id, body.unwrap_or_default()));
    serve!(list_payment_link_items(p: g::ListPaymentLinkItemsParams) => list_payment_link_items(&p.id, Paging::of(p.page, p.per_page)));
    serve!(retrieve_balance() => retrieve_balance());
}

impl Chargily {
    // ----- checkouts -----

    fn create_checkout(
        &self,
        ctx: &Ctx<'_>,
        req: g::CreateCheckoutRequest,
    ) -> Result<Vec<u8>, Fail> {
        let mut errors = Vec::new();
        // "items XOR amount + currency" [DOC]; sending both is rejected, as the JS SDK does.
        if req.items.is_some() && req.amount.is_some() {
            errors.push((
                "items".to_owned(),
                "The items field prohibits amount from being present.".to_owned(),
            ));
        }
        let data = read(&ctx.mode.data);
        if let Some(customer) = &req.customer_id {
            if data.customers.get(customer).is_none() {
                errors.push((
                    "customer_id".into(),
                    "The selected customer id is invalid.".into(),
                ));
            }
        }
        let mut items = Vec::new();
        let mut base: Option<i64> = Some(0);
        if let Some(requested) = &req.items {
            for (i, item) in requested.iter().enumerate() {
                match data.prices.get(&item.price) {
                    None => errors.push((
                        format!("items.{i}.price"),
                        format!("The selected items.{i}.price is invalid."),
                    )),
                    Some(price) => {
                        base = base
                            .and_then(|b| b.checked_add(price.amount.checked_mul(item.quantity)?));
                        items.push(g::CheckoutItem::new(
                            price.id.clone(),
                            g::CheckoutItemEntity::Price,
                            price.amount,
                            item.quantity,
                            price.currency.clone(),
                            price.metadata.clone(),
                            price.created_at,
                            price.updated_at,
                            price.product_id.clone(),
                        ));
                    }
                }
            }
        } else {
            base = req.amount;
        }
        // The rest needs no stored object until the checkout is stored.
        drop(data);
        let Some(base) = base else {
            errors.push(("items".into(), "The checkout amount is too large.".into()));
            return Err(Fail::Invalid(group(errors)));
        };
        let (discount, reduction) = match (req.percentage_discount, req.amount_discount) {
            (Some(p), _) => (
                Some(g::Discount::new(g::DiscountType::Percentage, p)),
                base.saturating_mul(p) / 100,
            ),
            (None, Some(a)) => {
                if a < 0 {
                    errors.push((
                        "amount_discount".into(),
                        "The amount discount field must be at least 0.".into(),
                    ));
                } else if a >= base && errors.is_empty() {
                    errors.push((
                        "amount_discount".into(),
                        format!("The amount discount field must be less than {base}."),
                    ));
                }
                (Some(g::Discount::new(g::DiscountType::Amount, a)), a)
            }
            (None, None) => (None, 0),
        };
        let amount = base.saturating_sub(reduction);
        // Fees are computed in i64: an amount whose fees would overflow is refused like any other
        // out-of-range amount rather than wrapped to a negative fee.
        let fees = amount
            .checked_mul(FEE_PER_MILLE)
            .and_then(|f| f.checked_add(500))
            .map(|f| f / 1000);
        // Amount errors are reported under the field the amount came from.
        let amount_field = if req.items.is_some() {
            "items"
        } else {
            "amount"
        };
        if errors.is_empty() && fees.is_none() {
            errors.push((
                amount_field.into(),
                "The checkout amount is too large.".into(),
            ));
        }
        if errors.is_empty() && amount < 1 {
            errors.push((
                amount_field.into(),
                "The checkout amount must be at least 1.".into(),
            ));
        }
        if !errors.is_empty() {
            return Err(Fail::Invalid(group(errors)));
        }
        #[allow(deprecated)]
        let allocation =
            req.chargily_pay_fees_allocation
                .unwrap_or(match &req.pass_fees_to_customer {
                    Some(g::CreateCheckoutRequestPassFeesToCustomer::Boolean(false))
                    | Some(g::CreateCheckoutRequestPassFeesToCustomer::Integer(
                        g::CreateCheckoutRequestPassFeesToCustomerInteger::V0,
                    ))
                    | Some(g::CreateCheckoutRequestPassFeesToCustomer::String(
                        g::CreateCheckoutRequestPassFeesToCustomerString::V0,
                    )) => g::FeesAllocationInput::Merchant,
                    _ => g::FeesAllocationInput::Customer,
                });
        let fees = fees.unwrap_or_default();
        let (on_customer, on_merchant) = match allocation {
            g::FeesAllocationInput::Customer => (fees, 0),
            g::FeesAllocationInput::Merchant => (0, fees),
            g::FeesAllocationInput::Split => (fees - fees / 2, fees / 2),
        };
        let id = ctx.env.ids.ulid(ctx.env.clock.now_ms());
        let pay_host = if ctx.mode.livemode {
            "https://pay.chargily.dz"
        } else {
            "https://pay.chargily.dz/test"
        };
        // On `new` (the required properties, in the spec's order), so a property the spec
        // adds as optional needs no change here.
        let amount_without_discount =
            (reduction > 0 || req.percentage_discount.is_some() || req.amount_discount.is_some())
                .then_some(base);
        let checkout = g::Checkout {
            qr_code_url: (req.payment_method == Some(g::PaymentMethodInput::ChargilyApp))
                .then(|| [pay_host, "/checkouts/", &id, "/qr-code"].concat()),
            fees_on_merchant: Some(on_merchant),
            fees_on_customer: Some(on_customer),
            chargily_pay_fees_allocation: OptionalNullable::Value(fees_allocation(allocation)),
            webhook_endpoint: req
                .webhook_endpoint
                .map_or(OptionalNullable::Null, OptionalNullable::Value),
            ..g::Checkout::new(
                id.clone(),
                g::CheckoutEntity::Checkout,
                ctx.mode.livemode,
                amount,
                currency(req.currency.unwrap_or(g::CurrencyInput::Dzd)),
                fees,
                None, // pass_fees_to_customer: deprecated, always null here
                g::CheckoutStatus::Pending,
                locale(req.locale.unwrap_or(g::LocaleInput::Ar)),
                req.description,
                req.metadata.map(metadata),
                req.success_url,
                req.failure_url,
                req.payment_method.map(payment_method),
                None, // invoice_id
                req.customer_id,
                None, // payment_link_id
                ctx.now,
                ctx.now,
                req.shipping_address.map(g::ShippingAddress::String),
                flex(req.collect_shipping_address.as_ref().is_some_and(truthy)),
                discount,
                amount_without_discount,
                // Joined without the formatter: one URL per checkout made.
                [pay_host, "/checkouts/", &id, "/pay"].concat(),
            )
        };
        // Encoded here, so the stored checkout is the only copy.
        let body = json_bytes(&checkout);
        write(&ctx.mode.data)
            .checkouts
            .insert(id, CheckoutRecord { checkout, items });
        Ok(body)
    }

    fn list_checkouts(&self, ctx: &Ctx<'_>, paging: Paging) -> Result<g::CheckoutList, Fail> {
        let data = read(&ctx.mode.data);
        list!(ctx, paging, "checkouts"; CheckoutList, CheckoutListLastPageUrl;
            data.checkouts.values(), data.checkouts.len(), |r| effective(&r.checkout, ctx.now))
    }

    fn retrieve_checkout(&self, ctx: &Ctx<'_>, id: &str) -> Result<Vec<u8>, Fail> {
        let data = read(&ctx.mode.data);
        match data.checkouts.get(id) {
            Some(r) if is_due(&r.checkout, ctx.now) => {
                found(Some(&effective(&r.checkout, ctx.now)), "Checkout", id)
            }
            r => found(r.map(|r| &r.checkout), "Checkout", id),
        }
    }

    fn list_checkout_items(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        paging: Paging,
    ) -> Result<g::CheckoutItemList, Fail> {
        let data = read(&ctx.mode.data);
        let Some(record) = data.checkouts.get(id) else {
            return Err(not_found("Checkout", id));
        };
        list!(ctx, paging, format!("checkouts/{id}/items");
            CheckoutItemList, CheckoutItemListLastPageUrl;
            record.items.iter(), record.items.len(), Clone::clone)
    }

    /// 200 for a pending checkout; 400 if it has already expired; 403 if it is not pending
    /// [DOC `checkouts/expire.mdx`]. The new status is `expired`.
    fn expire_checkout(&self, ctx: &Ctx<'_>, id: &str) -> Result<g::Checkout, Fail> {
        let mut data = write(&ctx.mode.data);
        let Some(record) = data.checkouts.get_mut(id) else {
            return Err(not_found("Checkout", id));
        };
        let current = effective(&record.checkout, ctx.now);
        match current.status {
            g::CheckoutStatus::Pending => {
                record.checkout.status = g::CheckoutStatus::Expired;
                record.checkout.updated_at = ctx.now;
                Ok(record.checkout.clone())
            }
            g::CheckoutStatus::Expired => {
                record.checkout = current;
                Err(Fail::Message(
                    400,
                    "The checkout is already expired.".into(),
                ))
            }
            _ => Err(Fail::Message(403, "This action is unauthorized.".into())),
        }
    }

    // ----- customers -----

    fn create_customer(
        &self,
        ctx: &Ctx<'_>,
        req: g::CreateCustomerRequest,
    ) -> Result<g::Customer, Fail> {
        let id = ctx.env.ids.ulid(ctx.env.clock.now_ms());
        let customer = g::Customer {
            livemode: Some(ctx.mode.livemode),
            ..g::Customer::new(
                id.clone(),
                g::CustomerEntity::Customer,
                req.name.unwrap_or_default(),
                req.email,
                req.phone,
                req.address.map(address),
                req.metadata.map(metadata),
                ctx.now,
                ctx.now,
            )
        };
        write(&ctx.mode.data).customers.insert(id, customer.clone());
        Ok(customer)
    }

    fn list_customers(&self, ctx: &Ctx<'_>, paging: Paging) -> Result<g::CustomerList, Fail> {
        let data = read(&ctx.mode.data);
        // List items have no `livemode` (reference §1.13 quirk 22).
        let row = |c: &g::Customer| g::Customer {
            livemode: None,
            ..c.clone()
        };
        list!(ctx, paging, "customers"; CustomerList, CustomerListLastPageUrl;
            data.customers.values(), data.customers.len(), row)
    }

    fn retrieve_customer(&self, ctx: &Ctx<'_>, id: &str) -> Result<Vec<u8>, Fail> {
        found(read(&ctx.mode.data).customers.get(id), "Customer", id)
    }

    fn update_customer(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        req: g::UpdateCustomerRequest,
    ) -> Result<g::Customer, Fail> {
        let mut data = write(&ctx.mode.data);
        let Some(customer) = data.customers.get_mut(id) else {
            return Err(not_found("Customer", id));
        };
        set(&mut customer.name, req.name);
        set(&mut customer.email, req.email.map(Some));
        set(&mut customer.phone, req.phone.map(Some));
        set(&mut customer.address, req.address.map(|a| Some(address(a))));
        set(
            &mut customer.metadata,
            req.metadata.map(|m| Some(metadata(m))),
        );
        customer.updated_at = ctx.now;
        Ok(customer.clone())
    }

    /// Returns the deleted customer [DOC `customers/delete.mdx`].
    fn delete_customer(&self, ctx: &Ctx<'_>, id: &str) -> Result<g::CustomerDeleteResponse, Fail> {
        match write(&ctx.mode.data).customers.remove(id) {
            Some(c) => Ok(g::CustomerDeleteResponse::Customer(c)),
            None => Err(not_found("Customer", id)),
        }
    }

    // ----- products -----

    fn create_product(
        &self,
        ctx: &Ctx<'_>,
        req: g::CreateProductRequest,
    ) -> Result<g::Product, Fail> {
        let id = ctx.env.ids.ulid(ctx.env.clock.now_ms());
        let product = g::Product {
            livemode: Some(ctx.mode.livemode),
            ..g::Product::new(
                id.clone(),
                g::ProductEntity::Product,
                req.name,
                req.description,
                req.images.unwrap_or_default(),
                req.metadata
                    .map(metadata)
                    .or(Some(g::Metadata::Array(Vec::new()))),
                ctx.now,
                ctx.now,
            )
        };
        write(&ctx.mode.data).products.insert(id, product.clone());
        Ok(product)
    }

    fn list_products(&self, ctx: &Ctx<'_>, paging: Paging) -> Result<g::ProductList, Fail> {
        let data = read(&ctx.mode.data);
        let row = |p: &g::Product| g::Product {
            livemode: None,
            ..p.clone()
        };
        list!(ctx, paging, "products"; ProductList, ProductListLastPageUrl;
            data.products.values(), data.products.len(), row)
    }

    fn retrieve_product(&self, ctx: &Ctx<'_>, id: &str) -> Result<Vec<u8>, Fail> {
        found(read(&ctx.mode.data).products.get(id), "Product", id)
    }

    fn update_product(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        req: g::UpdateProductRequest,
    ) -> Result<g::Product, Fail> {
        let mut data = write(&ctx.mode.data);
        let Some(product) = data.products.get_mut(id) else {
            return Err(not_found("Product", id));
        };
        set(&mut product.name, req.name);
        set(&mut product.description, req.description.map(Some));
        set(&mut product.images, req.images);
        set(
            &mut product.metadata,
            req.metadata.map(|m| Some(metadata(m))),
        );
        product.updated_at = ctx.now;
        Ok(product.clone())
    }

    /// Only a product without prices can be deleted [DOC]; otherwise 422 [INF].
    fn delete_product(&self, ctx: &Ctx<'_>, id: &str) -> Result<g::ProductDeleteResponse, Fail> {
        let mut data = write(&ctx.mode.data);
        if data.products.get(id).is_none() {
            return Err(not_found("Product", id));
        }
        if data.prices.values().any(|p| p.product_id == id) {
            return Err(Fail::field(
                "id",
                "The product has prices and cannot be deleted.",
            ));
        }
        match data.products.remove(id) {
            Some(p) => Ok(g::ProductDeleteResponse::Product(p)),
            None => Err(not_found("Product", id)),
        }
    }

    fn list_product_prices(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        paging: Paging,
    ) -> Result<g::PriceList, Fail> {
        let data = read(&ctx.mode.data);
        if data.products.get(id).is_none() {
            return Err(not_found("Product", id));
        }
        let matching: Vec<&g::Price> = data
            .prices
            .values()
            .filter(|p| p.product_id == id)
            .collect();
        list!(ctx, paging, format!("products/{id}/prices"); PriceList, PriceListLastPageUrl;
            matching.iter().copied(), matching.len(), listed_price)
    }

    // ----- prices -----

    fn create_price(&self, ctx: &Ctx<'_>, req: g::CreatePriceRequest) -> Result<g::Price, Fail> {
        let mut data = write(&ctx.mode.data);
        if data.products.get(&req.product_id).is_none() {
            return Err(Fail::field(
                "product_id",
                "The selected product id is invalid.",
            ));
        }
        let id = ctx.env.ids.ulid(ctx.env.clock.now_ms());
        let price = g::Price {
            livemode: Some(ctx.mode.livemode),
            ..g::Price::new(
                id.clone(),
                g::PriceEntity::Price,
                req.amount,
                currency(req.currency),
                req.metadata.map(metadata),
                ctx.now,
                ctx.now,
                req.product_id,
            )
        };
        data.prices.insert(id, price.clone());
        Ok(price)
    }

    fn list_prices(&self, ctx: &Ctx<'_>, paging: Paging) -> Result<g::PriceList, Fail> {
        let data = read(&ctx.mode.data);
        list!(ctx, paging, "prices"; PriceList, PriceListLastPageUrl;
            data.prices.values(), data.prices.len(), listed_price)
    }

    fn retrieve_price(&self, ctx: &Ctx<'_>, id: &str) -> Result<Vec<u8>, Fail> {
        found(read(&ctx.mode.data).prices.get(id), "Price", id)
    }

    /// Only `metadata` can change [DOC].
    fn update_price(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        req: g::UpdatePriceRequest,
    ) -> Result<g::Price, Fail> {
        let mut data = write(&ctx.mode.data);
        let Some(price) = data.prices.get_mut(id) else {
            return Err(not_found("Price", id));
        };
        set(&mut price.metadata, req.metadata.map(|m| Some(metadata(m))));
        price.updated_at = ctx.now;
        Ok(price.clone())
    }

    // ----- payment links -----

    fn link_items(
        data: &Data,
        items: &[g::PaymentLinkItemInput],
        errors: &mut Vec<(String, String)>,
    ) -> Vec<g::PaymentLinkItem> {
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match data.prices.get(&item.price) {
                None => errors.push((
                    format!("items.{i}.price"),
                    format!("The selected items.{i}.price is invalid."),
                )),
                Some(price) => out.push(g::PaymentLinkItem::new(
                    price.id.clone(),
                    g::PaymentLinkItemEntity::Price,
                    price.amount,
                    item.quantity,
                    flex(item.adjustable_quantity.unwrap_or(false)),
                    price.currency.clone(),
                    price.metadata.clone(),
                    price.created_at,
                    price.updated_at,
                    price.product_id.clone(),
                )),
            }
        }
        out
    }

    fn create_payment_link(
        &self,
        ctx: &Ctx<'_>,
        req: g::CreatePaymentLinkRequest,
    ) -> Result<g::PaymentLink, Fail> {
        let mut data = write(&ctx.mode.data);
        let mut errors = Vec::new();
        let items = Self::link_items(&data, &req.items, &mut errors);
        if !errors.is_empty() {
            return Err(Fail::Invalid(group(errors)));
        }
        let id = ctx.env.ids.ulid(ctx.env.clock.now_ms());
        let host = if ctx.mode.livemode {
            "https://pay.chargily.dz"
        } else {
            "https://pay.chargily.dz/test"
        };
        let link = g::PaymentLink {
            livemode: Some(ctx.mode.livemode),
            ..g::PaymentLink::new(
                id.clone(),
                g::PaymentLinkEntity::PaymentLink,
                req.name,
                flex(true),
                req.after_completion_message,
                locale(req.locale.unwrap_or(g::LocaleInput::Ar)),
                Some(g::FlexibleBoolean::Boolean(
                    req.pass_fees_to_customer.unwrap_or(false),
                )),
                req.metadata
                    .map(metadata)
                    .or(Some(g::Metadata::Array(Vec::new()))),
                ctx.now,
                ctx.now,
                flex(req.collect_shipping_address.as_ref().is_some_and(truthy)),
                format!("{host}/payment-links/{id}"),
            )
        };
        data.links.insert(
            id,
            LinkRecord {
                link: link.clone(),
                items,
            },
        );
        Ok(link)
    }

    fn list_payment_links(
        &self,
        ctx: &Ctx<'_>,
        paging: Paging,
    ) -> Result<g::PaymentLinkList, Fail> {
        let data = read(&ctx.mode.data);
        let row = |l: &LinkRecord| g::PaymentLink {
            livemode: None,
            ..l.link.clone()
        };
        list!(ctx, paging, "payment-links"; PaymentLinkList, PaymentLinkListLastPageUrl;
            data.links.values(), data.links.len(), row)
    }

    fn retrieve_payment_link(&self, ctx: &Ctx<'_>, id: &str) -> Result<Vec<u8>, Fail> {
        found(
            read(&ctx.mode.data).links.get(id).map(|l| &l.link),
            "PaymentLink",
            id,
        )
    }

    fn update_payment_link(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        req: g::UpdatePaymentLinkRequest,
    ) -> Result<g::PaymentLink, Fail> {
        let mut data = write(&ctx.mode.data);
        if data.links.get(id).is_none() {
            return Err(not_found("PaymentLink", id));
        }
        let mut errors = Vec::new();
        let items = req
            .items
            .as_ref()
            .map(|items| Self::link_items(&data, items, &mut errors));
        if !errors.is_empty() {
            return Err(Fail::Invalid(group(errors)));
        }
        let Some(record) = data.links.get_mut(id) else {
            return Err(not_found("PaymentLink", id));
        };
        let link = &mut record.link;
        set(&mut link.name, req.name);
        set(
            &mut link.after_completion_message,
            req.after_completion_message.map(Some),
        );
        set(&mut link.locale, req.locale.map(locale));
        let pass_fees = req
            .pass_fees_to_customer
            .map(|p| Some(g::FlexibleBoolean::Boolean(p)));
        set(&mut link.pass_fees_to_customer, pass_fees);
        let collect = req
            .collect_shipping_address
            .as_ref()
            .map(|c| flex(truthy(c)));
        set(&mut link.collect_shipping_address, collect);
        set(&mut link.metadata, req.metadata.map(|m| Some(metadata(m))));
        set(&mut record.items, items);
        record.link.updated_at = ctx.now;
        Ok(record.link.clone())
    }

    fn list_payment_link_items(
        &self,
        ctx: &Ctx<'_>,
        id: &str,
        paging: Paging,
    ) -> Result<g::PaymentLinkItemList, Fail> {
        let data = read(&ctx.mode.data);
        let Some(record) = data.links.get(id) else {
            return Err(not_found("PaymentLink", id));
        };
        list!(ctx, paging, format!("payment-links/{id}/items");
            PaymentLinkItemList, PaymentLinkItemListLastPageUrl;
            record.items.iter(), record.items.len(), Clone::clone)
    }

    // ----- balance -----

    /// The DZD wallet holds what paid checkouts brought in (amount − merchant fees); USD and
    /// EUR stay at 0. `ready_for_payout` is a numeric string as in the examples (quirk 21).
    fn retrieve_balance(&self, ctx: &Ctx<'_>) -> Result<g::Balance, Fail> {
        let total = read(&ctx.mode.data).paid_total;
        let wallet = |currency, amount: i64| {
            g::Wallet::new(
                currency,
                amount,
                g::WalletReadyForPayout::String(amount.to_string()),
                0,
            )
        };
        let balance = g::Balance::new(
            g::BalanceEntity::Balance,
            ctx.mode.livemode,
            vec![
                wallet(g::WalletCurrency::Dzd, total),
                wallet(g::WalletCurrency::Usd, 0),
                wallet(g::WalletCurrency::Eur, 0),
            ],
        );
        Ok(balance)
    }

    // ----- payment simulation (`/_mock/chargily/{mode}/checkouts/{id}/{pay|fail}`) -----

    /// Fills test mode with `count` objects of every kind (products, prices, customers,
    /// checkouts, payment links), made by the create handlers themselves, as if a client had
    /// created them before anything else: a store that already holds data (`--preload`).
    pub fn preload(&self, env: &Env, count: usize) -> Result<(), String> {
        let ctx = Ctx {
            env,
            mode: &self.modes[0],
            base: Base::Fixed(format!("http://preloaded.invalid{CHARGILY_TEST_PREFIX}")),
            now: env.clock.now_s(),
        };
        // Each body as a client would send it, typed as the router would type it.
        fn typed<T: serde::de::DeserializeOwned>(body: Value) -> Result<T, String> {
            serde_json::from_value(body).map_err(|e| format!("preloading Chargily: {e}"))
        }
        let failed =
            |what: &str, fail: Fail| format!("preloading Chargily: {what} refused: {fail:?}");
        for i in 0..count {
            let product = self
                .create_product(
                    &ctx,
                    typed(json!({"name": format!("Preloaded product {i}")}))?,
                )
                .map_err(|f| failed("a product", f))?
                .id;
            let price = self
                .create_price(
                    &ctx,
                    typed(json!({"amount": 1000 + i % 1000, "currency": "dzd", "product_id": product}))?,
                )
                .map_err(|f| failed("a price", f))?
                .id;
            self.create_customer(
                &ctx,
                typed(json!({"name": format!("Preloaded customer {i}"),
                             "email": format!("preloaded{i}@example.com")}))?,
            )
            .map_err(|f| failed("a customer", f))?;
            self.create_checkout(
                &ctx,
                typed(json!({"amount": 2000 + i % 1000, "currency": "dzd",
                             "success_url": "https://shop.example/preloaded"}))?,
            )
            .map_err(|f| failed("a checkout", f))?;
            self.create_payment_link(
                &ctx,
                typed(json!({"name": format!("Preloaded link {i}"),
                             "items": [{"price": price, "quantity": 1}]}))?,
            )
            .map_err(|f| failed("a payment link", f))?;
        }
        Ok(())
    }

    /// Marks a pending checkout paid or failed and sends the `checkout.paid` /
    /// `checkout.failed` event to its `webhook_endpoint`, signed as Chargily signs
    /// (`signature`: hex HMAC-SHA256 of the raw body keyed with the secret key).
    pub fn simulate(&self, env: &Env, live: bool, id: &str, paid: bool) -> Response {
        let mode = &self.modes[usize::from(live)];
        let now = env.clock.now_s();
        let mut data = write(&mode.data);
        let Some(record) = data.checkouts.get_mut(id) else {
            return Response::json(
                StatusCode::NOT_FOUND,
                &json!({"error": format!("no checkout {id} in {} mode", if live { "live" } else { "test" })}),
            );
        };
        let current = effective(&record.checkout, now);
        if current.status != g::CheckoutStatus::Pending {
            return Response::json(
                StatusCode::CONFLICT,
                &json!({"error": format!("checkout {id} is {}; only a pending checkout can be paid or failed", current.status)}),
            );
        }
        record.checkout.status = if paid {
            g::CheckoutStatus::Paid
        } else {
            g::CheckoutStatus::Failed
        };
        record.checkout.updated_at = now;
        let checkout = record.checkout.clone();
        if paid {
            let net = checkout.amount - checkout.fees_on_merchant.unwrap_or(0);
            data.paid_total = data.paid_total.saturating_add(net);
        }
        drop(data);
        let kind = if paid {
            g::WebhookEventType::CheckoutPaid
        } else {
            g::WebhookEventType::CheckoutFailed
        };
        let event = webhook_event(env.ids.ulid(env.clock.now_ms()), &checkout, kind, now);
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let endpoint = checkout.webhook_endpoint.as_option().cloned();
        let delivery = endpoint.map(|url| {
            let signature = generated::webhooks::chargily::sign(
                env.config.chargily_secret_key.as_bytes(),
                &body,
            );
            env.outbox.send(Delivery {
                api: Api::Chargily,
                event: event.r#type.as_str().to_owned(),
                url,
                headers: vec![("signature".into(), signature)],
                body: body.clone().into(),
            })
        });
        Response::json(
            StatusCode::OK,
            &json!({
                "checkout": checkout,
                "event": event,
                "delivery_id": delivery,
            }),
        )
    }
}

/// The event Chargily sends about a paid or failed checkout `c`, in the vendor's shape
/// (reference §1.10): `livemode` is a string, `data` uses `url` and lacks `livemode`,
/// `currency`, `fees_on_*` and `webhook_endpoint` (quirks 4–6). Also what `conformance
/// webhooks` sends to a receiver.
#[allow(deprecated)]
pub(crate) fn webhook_event(
    id: String,
    c: &g::Checkout,
    kind: g::WebhookEventType,
    now: i64,
) -> g::WebhookEvent {
    let data = g::WebhookCheckout {
        chargily_pay_fees_allocation: c.chargily_pay_fees_allocation.clone(),
        url: Some(c.checkout_url.clone()),
        ..g::WebhookCheckout::new(
            c.id.clone(),
            g::WebhookCheckoutEntity::Checkout,
            c.amount,
            c.fees,
            c.pass_fees_to_customer.clone(),
            c.status.clone(),
            c.locale.clone(),
            c.description.clone(),
            c.metadata.clone(),
            c.success_url.clone(),
            c.failure_url.clone(),
            c.payment_method.clone(),
            c.invoice_id.clone(),
            c.customer_id.clone(),
            c.payment_link_id.clone(),
            c.created_at,
            c.updated_at,
            c.shipping_address.clone(),
            c.collect_shipping_address.clone(),
            c.discount.clone().map(g::WebhookCheckoutDiscount::Discount),
            c.amount_without_discount,
        )
    };
    g::WebhookEvent::new(
        id,
        g::WebhookEventEntity::Event,
        g::WebhookLivemode::String(if c.livemode {
            g::WebhookLivemodeString::True
        } else {
            g::WebhookLivemodeString::False
        }),
        kind,
        data,
        now,
        now,
    )
}

/// Whether a pending checkout has outlived its 30 minutes.
fn is_due(c: &g::Checkout, now: i64) -> bool {
    c.status == g::CheckoutStatus::Pending && now >= c.created_at + LIFETIME_SECONDS
}

/// The checkout as of `now`: a pending checkout older than 30 minutes is expired.
fn effective(c: &g::Checkout, now: i64) -> g::Checkout {
    let mut c = c.clone();
    if is_due(&c, now) {
        c.status = g::CheckoutStatus::Expired;
        c.updated_at = c.created_at + LIFETIME_SECONDS;
    }
    c
}

fn read(lock: &RwLock<Data>) -> std::sync::RwLockReadGuard<'_, Data> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write(lock: &RwLock<Data>) -> std::sync::RwLockWriteGuard<'_, Data> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// Laravel's `{"message"}` body.
fn error_body(text: String) -> g::ErrorResponse {
    g::ErrorResponse {
        message: Some(text),
        ..g::ErrorResponse::new()
    }
}

/// The object found, encoded under the store's lock (a clone of one is a score of
/// allocations), or Laravel's 404 for `model`.
fn found<T: serde::Serialize>(row: Option<&T>, model: &str, id: &str) -> Result<Vec<u8>, Fail> {
    row.map(json_bytes).ok_or_else(|| not_found(model, id))
}

fn not_found(model: &str, id: &str) -> Fail {
    Fail::Message(
        404,
        format!("No query results for model [App\\Models\\{model}] {id}"),
    )
}

/// Laravel's 422 body `{"message", "errors"}`: the message is the first error, plus "(and N
/// more errors)".
fn validation_body(errors: BTreeMap<String, Vec<String>>) -> g::ValidationError {
    let all: Vec<&String> = errors.values().flatten().collect();
    let first = all.first().map_or_else(
        || "The given data was invalid.".to_owned(),
        |m| (*m).clone(),
    );
    let message = match all.len() {
        0 | 1 => first,
        2 => format!("{first} (and 1 more error)"),
        n => format!("{first} (and {} more errors)", n - 1),
    };
    g::ValidationError::new(message, errors)
}

/// Laravel's wording for each issue, keyed by dot-notation field.
fn laravel_errors(issues: &[Issue], body: &Value) -> BTreeMap<String, Vec<String>> {
    let mut out = Vec::new();
    for issue in issues {
        let key = issue.path.join(".");
        if key.is_empty() {
            root_issue(issue, body, &mut out);
            continue;
        }
        let a = if key.contains('.') {
            key.clone()
        } else {
            key.replace('_', " ")
        };
        let text = match &issue.kind {
            IssueKind::Required => format!("The {a} field is required."),
            IssueKind::Type { expected, .. } => match expected.as_str() {
                "string" => format!("The {a} field must be a string."),
                "integer" => format!("The {a} field must be an integer."),
                "number" => format!("The {a} field must be a number."),
                "boolean" => format!("The {a} field must be true or false."),
                _ => format!("The {a} field must be an array."),
            },
            IssueKind::Enum(_) => format!("The selected {a} is invalid."),
            IssueKind::Minimum(n) => format!("The {a} field must be at least {n}."),
            IssueKind::Maximum(n) => format!("The {a} field must not be greater than {n}."),
            IssueKind::MinLength(n) => format!("The {a} field must be at least {n} characters."),
            IssueKind::MaxLength(n) => {
                format!("The {a} field must not be greater than {n} characters.")
            }
            IssueKind::MinItems(n) => format!("The {a} field must have at least {n} items."),
            IssueKind::MaxItems(n) => format!("The {a} field must not have more than {n} items."),
            IssueKind::Format(f) if f == "uri" => format!("The {a} field must be a valid URL."),
            IssueKind::Pattern | IssueKind::Format(_) => {
                format!("The {a} field format is invalid.")
            }
            IssueKind::Composite(_) | IssueKind::Other(_) => format!("The {a} field is invalid."),
        };
        out.push((key, text));
    }
    group(out)
}

/// Issues about the body as a whole: the create-checkout `anyOf` (items, or amount +
/// currency) and `not` (one discount kind only) become Laravel's conditional rules.
fn root_issue(issue: &Issue, body: &Value, out: &mut Vec<(String, String)>) {
    let has = |k: &str| body.get(k).is_some();
    match &issue.kind {
        IssueKind::Composite(k) if k == "anyOf" && body.is_object() => {
            if !has("items") && !has("amount") {
                out.push((
                    "items".into(),
                    "The items field is required when amount is not present.".into(),
                ));
                out.push((
                    "amount".into(),
                    "The amount field is required when items is not present.".into(),
                ));
            } else if has("amount") && !has("currency") && !has("items") {
                out.push((
                    "currency".into(),
                    "The currency field is required when amount is present.".into(),
                ));
            }
        }
        IssueKind::Composite(k) if k == "not" && has("percentage_discount") => {
            out.push((
                "percentage_discount".into(),
                "The percentage discount field prohibits amount discount from being present."
                    .into(),
            ));
        }
        IssueKind::Required => {}
        _ => out.push((
            "body".into(),
            "The request body must be a JSON object.".into(),
        )),
    }
}

/// An update: `value`, when the request gives one.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

fn truthy(f: &g::FlexibleBoolean) -> bool {
    match f {
        g::FlexibleBoolean::Boolean(b) => *b,
        g::FlexibleBoolean::Integer(i) => *i == g::FlexibleBooleanInteger::V1,
    }
}

/// Booleans go out as 0/1, as in every vendor example (quirks 1, 20).
fn flex(b: bool) -> g::FlexibleBoolean {
    g::FlexibleBoolean::Integer(if b {
        g::FlexibleBooleanInteger::V1
    } else {
        g::FlexibleBooleanInteger::V0
    })
}

// A request's closed enums become the response's open ones (`x-extensible-enum`): the same
// values, written out so that a value added to a request enum fails to compile here.

fn locale(l: g::LocaleInput) -> g::Locale {
    match l {
        g::LocaleInput::Ar => g::Locale::Ar,
        g::LocaleInput::En => g::Locale::En,
        g::LocaleInput::Fr => g::Locale::Fr,
    }
}

fn currency(c: g::CurrencyInput) -> g::Currency {
    match c {
        g::CurrencyInput::Dzd => g::Currency::Dzd,
    }
}

fn payment_method(m: g::PaymentMethodInput) -> g::PaymentMethod {
    match m {
        g::PaymentMethodInput::Edahabia => g::PaymentMethod::Edahabia,
        g::PaymentMethodInput::Cib => g::PaymentMethod::Cib,
        g::PaymentMethodInput::ChargilyApp => g::PaymentMethod::ChargilyApp,
    }
}

fn fees_allocation(a: g::FeesAllocationInput) -> g::FeesAllocation {
    match a {
        g::FeesAllocationInput::Customer => g::FeesAllocation::Customer,
        g::FeesAllocationInput::Merchant => g::FeesAllocation::Merchant,
        g::FeesAllocationInput::Split => g::FeesAllocation::Split,
    }
}

/// Request metadata → response metadata, unchanged (an object or an array of any values).
fn metadata(input: g::MetadataInput) -> g::Metadata {
    match input {
        g::MetadataInput::Object(m) => g::Metadata::Object(m),
        g::MetadataInput::Array(a) => g::Metadata::Array(a),
    }
}

/// Create takes an ISO alpha-2 country; responses show the country name (quirk 19).
fn address(a: g::AddressInput) -> g::Address {
    let code = a.country.unwrap_or_default();
    let country = match code.to_ascii_lowercase().as_str() {
        "dz" => "Algeria",
        "fr" => "France",
        "ma" => "Morocco",
        "tn" => "Tunisia",
        "us" => "United States",
        "gb" => "United Kingdom",
        "de" => "Germany",
        "es" => "Spain",
        "ca" => "Canada",
        _ => "",
    };
    g::Address::new(
        if country.is_empty() {
            code.to_ascii_uppercase()
        } else {
            country.to_owned()
        },
        a.state.unwrap_or_default(),
        a.address.unwrap_or_default(),
    )
}

/// A price as list endpoints show it: without `livemode` (reference §1.13 quirk 22).
fn listed_price(p: &g::Price) -> g::Price {
    g::Price {
        livemode: None,
        ..p.clone()
    }
}

impl Paging {
    fn of(page: Option<i64>, per_page: Option<i64>) -> Self {
        Self { page, per_page }
    }

    /// `(page, per_page)`: defaults 1 and 10, within bounds.
    fn resolved(self) -> (i64, i64) {
        (
            self.page.unwrap_or(1).max(1),
            self.per_page.unwrap_or(10).clamp(1, 50),
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_generated_routes_are_the_operations_the_checker_knows() {
        let spec = Arc::new(Spec::new(Api::Chargily.document().unwrap().root));
        let c = Chargily::new(Arc::clone(&spec), 10);
        assert_eq!(gs::ROUTES.len(), spec.operations().len());
        for r in gs::ROUTES {
            let op = &spec.operations()[c.indexes.of(r).unwrap()];
            assert_eq!(
                (op.id.as_str(), op.method.as_str(), op.path.as_str()),
                (r.id, r.call.method, r.call.path)
            );
        }
    }

    #[test]
    fn laravel_messages_and_summary() {
        let issues = vec![
            Issue {
                path: vec!["success_url".into()],
                kind: IssueKind::Required,
            },
            Issue {
                path: vec!["items".into(), "0".into(), "price".into()],
                kind: IssueKind::Required,
            },
            Issue {
                path: vec![],
                kind: IssueKind::Composite("anyOf".into()),
            },
        ];
        let errors = laravel_errors(&issues, &json!({"items": [{}]}));
        assert_eq!(
            errors["success_url"],
            ["The success url field is required."]
        );
        assert_eq!(
            errors["items.0.price"],
            ["The items.0.price field is required."]
        );
        assert_eq!(errors.len(), 2);
        let body = serde_json::to_value(validation_body(errors)).unwrap();
        assert_eq!(
            body["message"],
            "The items.0.price field is required. (and 1 more error)"
        );
    }
}
