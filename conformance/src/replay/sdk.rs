//! `replay --via sdk`: each API request is rebuilt from typed values by the generated typed
//! client of its API (`generated`'s `client` modules) and sent through it, instead of as the
//! recording wrote it. The recorded parameters and body are decoded into the operation's
//! `Params` and `Body` types, the client renders the path, query and headers as the spec's
//! parameter styles say, and the response comes back through the client's `Transport`, which
//! here is the runner's own HTTP client: the response is then judged exactly as in a raw run.
//!
//! A request the typed client cannot make (a malformed body, a header the spec does not
//! declare, a query value of the wrong type, credentials in a shape the scheme does not take)
//! is sent as recorded, and the report says why.

use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::recording::{self, Auth};
use crate::specs::Api;

use super::client::{Client, Outgoing, Received, TransportError};

/// A request as the typed client takes it: the operation, its parameters and body as JSON
/// (decoded into the typed ones when sent), and the credential.
#[derive(Debug, Clone)]
pub struct Call {
    api: Api,
    operation: String,
    base: String,
    params: Value,
    body: Option<Value>,
    /// The secret for the API's one security scheme, if the request carries one.
    credential: Option<String>,
}

/// A parameter of an operation as its typed client declares it.
struct Param {
    name: &'static str,
    key: &'static str,
    location: Location,
}

#[derive(PartialEq, Eq)]
enum Location {
    Path,
    Query,
    Header,
    Cookie,
}

/// The request of `request` (relative, after rebinding) as a typed call of operation `index`
/// of `spec`, or why the typed client cannot make it.
pub fn build(
    api: Api,
    spec: &oas::check::Spec,
    base: &str,
    request: &recording::Request,
    credential: Option<String>,
) -> Result<Call, String> {
    let matched = spec
        .find(&request.method, &request.path)
        .ok_or("no operation of the spec has this method and path")?;
    let info = &spec.operations()[matched.index];
    let params_of =
        params_of(api, &info.id).ok_or_else(|| format!("no typed method for `{}`", info.id))?;
    let integers: Vec<&str> = spec
        .request(matched.index)
        .map(|r| {
            r.query
                .iter()
                .filter(|q| q.integer)
                .map(|q| q.name.as_str())
                .collect()
        })
        .unwrap_or_default();
    let mut params = Map::new();
    for p in params_of.iter().filter(|p| p.location == Location::Path) {
        if let Some(v) = matched.params.get(p.name) {
            params.insert(p.key.to_owned(), Value::String(oas::url::decode(v)));
        }
    }
    for (name, value) in oas::url::parse_query(request.query.as_deref().unwrap_or_default()) {
        let p = params_of
            .iter()
            .find(|p| p.location == Location::Query && p.name == name)
            .ok_or_else(|| format!("query parameter `{name}` is not declared"))?;
        let value = if integers.contains(&p.name) {
            value
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| format!("query parameter `{name}` is `{value}`, not an integer"))?
        } else {
            Value::String(value)
        };
        if params.insert(p.key.to_owned(), value).is_some() {
            return Err(format!("query parameter `{name}` is repeated"));
        }
    }
    for (name, value) in &request.headers {
        if name.eq_ignore_ascii_case("content-type") {
            continue;
        }
        let p = params_of
            .iter()
            .find(|p| p.location == Location::Header && p.name.eq_ignore_ascii_case(name))
            .ok_or_else(|| format!("header `{name}` is not a declared parameter"))?;
        params.insert(p.key.to_owned(), Value::String(value.clone()));
    }
    if params_of.iter().any(|p| p.location == Location::Cookie) {
        return Err("the operation has cookie parameters".into());
    }
    if request.body.text.is_some() {
        return Err("the body is not JSON".into());
    }
    if let Some(ct) = request.headers.get("content-type") {
        let essence = ct.split(';').next().unwrap_or_default().trim();
        if !essence.eq_ignore_ascii_case("application/json") {
            return Err(format!("the content type is `{ct}`"));
        }
    }
    Ok(Call {
        api,
        operation: info.id.clone(),
        base: base.to_owned(),
        params: Value::Object(params),
        body: request.body.json.clone(),
        credential,
    })
}

/// The credential a request of `auth` carries: the run's, a wrong one, or none.
pub fn credential(auth: Auth, injected: &str, invalid: &str) -> Option<String> {
    match auth {
        Auth::Inject => Some(injected.to_owned()),
        Auth::Invalid => Some(invalid.to_owned()),
        Auth::None => None,
    }
}

/// The generated clients' transport in a run: the runner's HTTP client, keeping what it
/// received so the response is judged as in a raw run.
struct Relay {
    client: Client,
    received: Mutex<Option<Result<Received, TransportError>>>,
}

impl Relay {
    async fn relay(
        &self,
        method: &str,
        url: String,
        headers: Vec<(String, String)>,
        body: Option<Vec<u8>>,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), String> {
        let outgoing = Outgoing {
            method: method.to_owned(),
            url,
            headers,
            body: body.unwrap_or_default().into(),
        };
        let r = self.client.send(&outgoing).await;
        let reply = match &r {
            Ok(got) => Ok((got.status, got.headers.clone(), got.body.to_vec())),
            Err(e) => Err(e.to_string()),
        };
        *self.received.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        reply
    }
}

/// Implements each API's `Transport` for [`Relay`], and lists each API's operations with
/// their typed methods: `params` and `body` say which arguments a method takes (`body?` an
/// optional body). The compiler checks each entry against the method's signature, and a
/// test checks that every operation of each API is listed.
macro_rules! api {
    ($api:ident, $module:ident, $auth:ident, { $($op:ident ( $($arg:tt)* )),* $(,)? }) => {
        mod $module {
            use generated::$module::{client, operations as ops};
            use serde_json::Value;

            impl client::Transport for super::Relay {
                fn send(
                    &self,
                    request: client::Request,
                ) -> impl std::future::Future<Output = Result<client::Reply, client::TransportError>> + Send {
                    async move {
                        self.relay(request.method, request.url, request.headers, request.body)
                            .await
                            .map(|(status, headers, body)| client::Reply {
                                status,
                                headers: headers.into_iter().map(|(n, v)| (n.into(), v.into())).collect(),
                                body: body.into(),
                            })
                            .map_err(|message| client::TransportError { message })
                    }
                }
                fn sleep(&self, duration: std::time::Duration) -> impl std::future::Future<Output = ()> + Send {
                    tokio::time::sleep(duration)
                }
            }

            pub(super) fn params_of(id: &str) -> Option<Vec<super::Param>> {
                $(
                    if id == ops::$op::OPERATION_ID {
                        return Some(ops::$op::CALL.params.iter().map(|p| super::Param {
                            name: p.name,
                            key: p.key,
                            location: match p.location {
                                client::In::Path => super::Location::Path,
                                client::In::Query => super::Location::Query,
                                client::In::Header => super::Location::Header,
                                client::In::Cookie => super::Location::Cookie,
                            },
                        }).collect());
                    }
                )*
                None
            }

            pub(super) fn ids() -> Vec<&'static str> {
                vec![$(ops::$op::OPERATION_ID),*]
            }

            /// Sends `call` through the typed client; `Err` when its values do not decode into
            /// the typed ones.
            pub(super) async fn send(relay: super::Relay, call: &super::Call) -> Result<super::Outcome, String> {
                let mut c = client::Client::new(call.base.clone(), relay);
                // The runner repeats and retries as the recording says; the client does not.
                c.retry.max_retries = 0;
                c.bucket = None;
                c.credentials.$auth = call.credential.clone();
                dispatch(&c, call).await?;
                let received = c.transport().received.lock().unwrap_or_else(|e| e.into_inner()).take();
                received.ok_or_else(|| "the typed client sent nothing".to_owned())
            }

            async fn dispatch(c: &client::Client<super::Relay>, call: &super::Call) -> Result<(), String> {
                $(
                    if call.operation == ops::$op::OPERATION_ID {
                        api!(@call c, call, $op, $($arg)*);
                        return Ok(());
                    }
                )*
                Err(format!("no typed method for `{}`", call.operation))
            }

            /// `value` as the typed value the client takes, if it is exactly that value: what
            /// encodes back to other JSON (serde reads a struct from an array of its fields,
            /// for one) is not a request the typed client can make.
            #[allow(dead_code)]
            fn typed<T: serde::de::DeserializeOwned + serde::Serialize>(what: &str, value: &Value) -> Result<T, String> {
                let typed: T = serde_path_to_error::deserialize(value)
                    .map_err(|e| format!("{what} not fit the typed client at {}: {}", e.path(), e.inner()))?;
                if serde_json::to_value(&typed).ok().as_ref() != Some(value) {
                    return Err(format!("{what} not encode back to the recorded JSON through the typed client"));
                }
                Ok(typed)
            }
        }
    };
    (@call $c:ident, $call:ident, $op:ident, params) => {{
        let params: ops::$op::Params = typed("the parameters do", &$call.params)?;
        let _ = $c.$op(&params).await;
    }};
    (@call $c:ident, $call:ident, $op:ident, body) => {{
        let body: ops::$op::Body = typed("the body does", $call.body.as_ref().unwrap_or(&Value::Null))?;
        let _ = $c.$op(&body).await;
    }};
    (@call $c:ident, $call:ident, $op:ident, body?) => {{
        let body: Option<ops::$op::Body> = $call.body.as_ref().map(|b| typed("the body does", b)).transpose()?;
        let _ = $c.$op(body.as_ref()).await;
    }};
    (@call $c:ident, $call:ident, $op:ident, params, body) => {{
        let params: ops::$op::Params = typed("the parameters do", &$call.params)?;
        let body: ops::$op::Body = typed("the body does", $call.body.as_ref().unwrap_or(&Value::Null))?;
        let _ = $c.$op(&params, &body).await;
    }};
    (@call $c:ident, $call:ident, $op:ident, params, body?) => {{
        let params: ops::$op::Params = typed("the parameters do", &$call.params)?;
        let body: Option<ops::$op::Body> = $call.body.as_ref().map(|b| typed("the body does", b)).transpose()?;
        let _ = $c.$op(&params, body.as_ref()).await;
    }};
    (@call $c:ident, $call:ident, $op:ident, ) => {{
        let _ = $c.$op().await;
    }};
}

api!(Chargily, chargily, bearer_auth, {
    list_checkouts(params),
    create_checkout(body),
    retrieve_checkout(params),
    list_checkout_items(params),
    expire_checkout(params),
    list_customers(params),
    create_customer(body?),
    retrieve_customer(params),
    update_customer(params, body?),
    delete_customer(params),
    patch_customer(params, body?),
    list_products(params),
    create_product(body),
    retrieve_product(params),
    update_product(params, body?),
    delete_product(params),
    list_product_prices(params),
    list_prices(params),
    create_price(body),
    retrieve_price(params),
    update_price(params, body?),
    list_payment_links(params),
    create_payment_link(body),
    retrieve_payment_link(params),
    update_payment_link(params, body?),
    list_payment_link_items(params),
    retrieve_balance(),
});

api!(Recharge, recharge, api_key, {
    create_checkout(params, body),
    retrieve_checkout(params),
    update_checkout(params, body),
    retrieve_checkout_shipping_rates(params),
    charge_checkout(params, body),
});

fn params_of(api: Api, id: &str) -> Option<Vec<Param>> {
    match api {
        Api::Chargily => chargily::params_of(id),
        Api::Recharge => recharge::params_of(id),
    }
}

/// The operations each API's typed client is driven through here, in spec order.
pub fn operation_ids(api: Api) -> Vec<&'static str> {
    match api {
        Api::Chargily => chargily::ids(),
        Api::Recharge => recharge::ids(),
    }
}

/// Sends `call` through its API's typed client over `client`: the response as received, or
/// `Err` with why the typed client could not make the request (then nothing was sent).
pub async fn send(client: &Client, call: &Call) -> Result<Outcome, String> {
    let relay = Relay {
        client: client.clone(),
        received: Mutex::new(None),
    };
    match call.api {
        Api::Chargily => chargily::send(relay, call).await,
        Api::Recharge => recharge::send(relay, call).await,
    }
}

/// What the runner's client gave the typed one.
type Outcome = Result<Received, TransportError>;
