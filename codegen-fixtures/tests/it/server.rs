//! The generated server (`fixtures/client-server.yaml`): the module's own client sends typed
//! values through a transport that hands each request to `server::handle`, and the router
//! reads them back; requests written by hand show each refusal and each dialect hook.

use codegen_fixtures::client_server::client::{Client, Reply, Request, Transport, TransportError};
use codegen_fixtures::client_server::operations as ops;
use codegen_fixtures::client_server::server::{
    self, Api, BodyError, Context, Dialect, Incoming, Location, PlainDialect, Refusal,
};
use codegen_fixtures::client_server::{self as fx};
use serde_json::{Value, json};

use crate::client::run;

/// Echoes what it read; `deleteItem` is left unimplemented.
struct Echo;

fn echo<T: serde::Serialize>(value: &T) -> serde_json::Map<String, Value> {
    match serde_json::to_value(value).unwrap() {
        Value::Object(map) => map,
        other => panic!("not an object: {other}"),
    }
}

impl Api for Echo {
    async fn list_items(
        &self,
        _: &Context,
        params: ops::list_items::Params,
    ) -> ops::list_items::Response {
        ops::list_items::Response::Status200(echo(&params))
    }
    async fn create_item(&self, cx: &Context, body: fx::Item) -> ops::create_item::Response {
        if body.price > 1_000 {
            return ops::create_item::Response::Status4xx {
                status: 409,
                body: fx::Problem::new("too dear".into()),
            };
        }
        cx.add_header("Location", "/items/7");
        ops::create_item::Response::Status201(fx::Item {
            id: Some(7),
            ..body
        })
    }
    async fn latest_item(&self, _: &Context) -> ops::latest_item::Response {
        ops::latest_item::Response::Status200(fx::Item::new("latest".into(), 1))
    }
    async fn get_item(
        &self,
        _: &Context,
        params: ops::get_item::Params,
    ) -> ops::get_item::Response {
        match params.id {
            1 => ops::get_item::Response::Status200(fx::Item::new("one".into(), 1)),
            2 => ops::get_item::Response::Default {
                status: 503,
                body: fx::Problem::new("down".into()),
            },
            _ => ops::get_item::Response::Status404(fx::Problem::new("no such item".into())),
        }
    }
    async fn replace_item(
        &self,
        _: &Context,
        _: ops::replace_item::Params,
        body: Option<fx::Item>,
    ) -> ops::replace_item::Response {
        match body {
            Some(_) => ops::replace_item::Response::Status204,
            None => ops::replace_item::Response::Status2xx { status: 202 },
        }
    }
    async fn item_colors(
        &self,
        _: &Context,
        params: ops::item_colors::Params,
    ) -> ops::item_colors::Response {
        ops::item_colors::Response::Status200(echo(&params))
    }
    async fn matrix_point(
        &self,
        _: &Context,
        params: ops::matrix_point::Params,
    ) -> ops::matrix_point::Response {
        ops::matrix_point::Response::Status200(echo(&params))
    }
    async fn submit_form(
        &self,
        _: &Context,
        body: ops::submit_form::Body,
    ) -> ops::submit_form::Response {
        ops::submit_form::Response::Status200(echo(&body))
    }
    async fn upload(&self, _: &Context, body: Vec<u8>) -> ops::upload::Response {
        ops::upload::Response::Status200(body.into_iter().rev().collect())
    }
}

/// The client's transport: each request straight into the router (no sockets).
struct InProcess<D>(D);

fn incoming(request: &Request) -> Incoming {
    let rest = request.url.strip_prefix("http://api.test").unwrap();
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (rest.to_owned(), None),
    };
    Incoming {
        method: request.method.to_owned(),
        path,
        query,
        headers: request.headers.clone(),
        body: Ok(request.body.clone().unwrap_or_default()),
    }
}

impl<D: Dialect> Transport for InProcess<D> {
    async fn send(&self, request: Request) -> Result<Reply, TransportError> {
        Ok(server::handle(&Echo, &self.0, incoming(&request)).await)
    }
    async fn sleep(&self, _: std::time::Duration) {}
}

fn client() -> Client<InProcess<PlainDialect>> {
    Client::new("http://api.test", InProcess(PlainDialect))
}

/// A request written by hand, answered by `Echo` through `dialect`.
fn answer(
    dialect: &impl Dialect,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
        None => (target.to_owned(), None),
    };
    run(server::handle(
        &Echo,
        dialect,
        Incoming {
            method: method.to_owned(),
            path,
            query,
            headers: headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            body: Ok(body.to_vec()),
        },
    ))
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_slice(&reply.body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&reply.body)))
}

fn header<'r>(reply: &'r Reply, name: &str) -> Option<&'r str> {
    reply.header(name)
}

#[test]
fn parameters_the_client_writes_are_read_back_by_the_router() {
    let params = fx::ListItemsParams {
        limit: Some(5),
        tags: Some(vec!["a b".into(), "c&d".into()]),
        ids: Some(vec![1, 2, 3]),
        pipes: Some(vec![4, 5]),
        active: Some(true),
        ratio: Some(0.5),
        sort: Some(fx::ListItemsParamsSort::Desc),
        filter: Some(fx::ListItemsParamsFilter {
            color: Some("red".into()),
            size: None,
        }),
        expand: Some(vec!["data.customer".into(), "data.invoice".into()]),
        x_trace: Some("t-1".into()),
        session: Some("s1".into()),
    };
    let got = run(client().list_items(&params)).unwrap();
    assert_eq!(got, ops::list_items::Response::Status200(echo(&params)));

    // Every parameter left out stays out.
    let none = fx::ListItemsParams::new();
    let got = run(client().list_items(&none)).unwrap();
    assert_eq!(got, ops::list_items::Response::Status200(echo(&none)));

    // Path parameters: an integer, a label-style exploded array, a matrix-style object.
    let colors = fx::ItemColorsParams {
        id: 42,
        colors: vec!["blue".into(), "black".into()],
    };
    let got = run(client().item_colors(&colors)).unwrap();
    assert_eq!(got, ops::item_colors::Response::Status200(echo(&colors)));
    let point = fx::MatrixPointParams {
        point: fx::MatrixPointParamsPoint {
            x: Some("1".into()),
            y: Some("2".into()),
        },
    };
    let got = run(client().matrix_point(&point)).unwrap();
    assert_eq!(got, ops::matrix_point::Response::Status200(echo(&point)));
}

#[test]
fn bodies_of_each_kind_and_responses_of_each_shape_round_trip() {
    let c = client();
    let item = fx::Item::new("pen".into(), 3);
    let created = run(c.create_item(&item)).unwrap();
    assert_eq!(
        created,
        ops::create_item::Response::Status201(fx::Item {
            id: Some(7),
            ..item.clone()
        })
    );
    let dear = fx::Item::new("gold".into(), 5_000);
    assert_eq!(
        run(c.create_item(&dear)).unwrap(),
        ops::create_item::Response::Status4xx {
            status: 409,
            body: fx::Problem::new("too dear".into())
        }
    );
    let id = |id| fx::GetItemParams { id };
    assert!(matches!(
        run(c.get_item(&id(1))).unwrap(),
        ops::get_item::Response::Status200(_)
    ));
    assert!(matches!(
        run(c.get_item(&id(9))).unwrap(),
        ops::get_item::Response::Status404(_)
    ));
    assert!(matches!(
        run(c.get_item(&id(2))).unwrap(),
        ops::get_item::Response::Default { status: 503, .. }
    ));
    let replace = fx::ReplaceItemParams { id: 1 };
    assert_eq!(
        run(c.replace_item(&replace, Some(&item))).unwrap(),
        ops::replace_item::Response::Status204
    );
    assert_eq!(
        run(c.replace_item(&replace, None)).unwrap(),
        ops::replace_item::Response::Status2xx { status: 202 }
    );
    let form = fx::SubmitFormRequest {
        name: "a b&c".into(),
        note: None,
    };
    assert_eq!(
        run(c.submit_form(&form)).unwrap(),
        ops::submit_form::Response::Status200(echo(&form))
    );
    assert_eq!(
        run(c.upload(vec![1, 2, 3])).unwrap(),
        ops::upload::Response::Status200(vec![3, 2, 1])
    );
    // A header the operation adds reaches the answer.
    let reply = answer(
        &PlainDialect,
        "POST",
        "/items",
        &[("Content-Type", "application/json")],
        br#"{"name": "pen", "price": 3}"#,
    );
    assert_eq!(
        (reply.status, header(&reply, "location")),
        (201, Some("/items/7"))
    );
}

#[test]
fn the_router_refuses_what_reaches_no_operation_in_the_plain_dialect() {
    let d = &PlainDialect;
    // A literal segment wins over a parameter, and a trailing slash is ignored.
    let latest = answer(d, "GET", "/items/latest/", &[], b"");
    assert_eq!(
        (latest.status, json_of(&latest)["name"].clone()),
        (200, json!("latest"))
    );

    let missing = answer(d, "GET", "/nothing/here", &[], b"");
    assert_eq!(missing.status, 404);
    assert_eq!(
        json_of(&missing)["message"],
        "no operation at /nothing/here"
    );

    let wrong = answer(d, "PATCH", "/items/1", &[], b"");
    assert_eq!(wrong.status, 405);
    assert_eq!(header(&wrong, "allow"), Some("GET, PUT, DELETE"));

    let unimplemented = answer(d, "DELETE", "/items/1", &[], b"");
    assert_eq!(unimplemented.status, 501);
    assert_eq!(
        json_of(&unimplemented)["message"],
        "deleteItem is not implemented"
    );

    let json = [("Content-Type", "application/json")];
    let malformed = answer(d, "POST", "/items", &json, b"{\"name\": ");
    assert_eq!(malformed.status, 400);
    assert!(
        json_of(&malformed)["message"]
            .as_str()
            .unwrap()
            .starts_with("the request body is not valid JSON: EOF"),
        "{}",
        json_of(&malformed)
    );

    let text = answer(
        d,
        "POST",
        "/items",
        &[("Content-Type", "text/plain")],
        b"{}",
    );
    assert_eq!(text.status, 415);
    assert_eq!(
        json_of(&text)["message"],
        "the request body must be application/json"
    );

    let wrong_type = answer(
        d,
        "POST",
        "/items",
        &json,
        br#"{"name": "pen", "price": "3"}"#,
    );
    assert_eq!(wrong_type.status, 422);
    let issue = &json_of(&wrong_type)["issues"][0];
    assert_eq!(
        (issue["in"].clone(), issue["name"].clone()),
        (json!("body"), json!("/price"))
    );

    let no_body = answer(d, "POST", "/items", &[], b"");
    assert_eq!(no_body.status, 422);
    assert_eq!(
        json_of(&no_body)["issues"][0]["message"],
        "a request body is required"
    );

    // A parameter that does not read is named with its location; every one is reported.
    let bad = answer(d, "GET", "/items?limit=ten&active=yes", &[], b"");
    assert_eq!(bad.status, 422);
    let issues = json_of(&bad)["issues"].clone();
    assert_eq!(
        issues[0],
        json!({"in": "query", "name": "limit", "message": "`ten` is not an integer"})
    );
    assert_eq!(issues[1]["name"], "active");
    let bad_path = answer(d, "GET", "/items/x1", &[], b"");
    assert_eq!(bad_path.status, 422);
    assert_eq!(json_of(&bad_path)["issues"][0]["in"], "path");
    // An array sent deepObject-style, as Stripe's clients send `expand`.
    let expand = answer(d, "GET", "/items?expand[]=a&expand[1]=b%2Cc", &[], b"");
    assert_eq!(json_of(&expand), json!({"expand": ["a", "b,c"]}));
    // A value the parameter's enum does not list is refused when typed.
    let bad_enum = answer(d, "GET", "/items?sort=sideways", &[], b"");
    assert_eq!(bad_enum.status, 422);
    assert_eq!(json_of(&bad_enum)["issues"][0]["name"], "sort");

    let too_large = run(server::handle(
        &Echo,
        d,
        Incoming {
            method: "POST".into(),
            path: "/items".into(),
            query: None,
            headers: Vec::new(),
            body: Err(BodyError::TooLarge { limit: 10 }),
        },
    ));
    assert_eq!(too_large.status, 413);
}

/// A dialect of its own: a token required, errors as `{"errors": {name: [message]}}` with
/// 400 for every refusal, a request id on every answer, and a check that refuses negative
/// limits before typing.
struct Strict;

impl Dialect for Strict {
    fn admit(&self, cx: &Context) -> Option<Reply> {
        (cx.header("x-token") != Some("secret"))
            .then(|| server::json_reply(401, &json!({"errors": "token"})))
    }
    fn check(&self, cx: &Context, params: &Value, body: Option<&Value>) -> Result<(), Refusal> {
        if params["limit"].as_i64().is_some_and(|l| l < 0) {
            return Err(Refusal::Invalid {
                issues: vec![server::Issue {
                    location: Location::Query,
                    name: "limit".into(),
                    message: "must not be negative".into(),
                }],
            });
        }
        assert!(cx.operation().is_some());
        let _ = body;
        Ok(())
    }
    fn refuse(&self, cx: &Context, refusal: Refusal) -> Reply {
        let errors: serde_json::Map<String, Value> = match &refusal {
            Refusal::Invalid { issues } => issues
                .iter()
                .map(|i| (i.name.clone(), json!([i.message])))
                .collect(),
            other => [("request".to_owned(), json!([other.message(cx)]))]
                .into_iter()
                .collect(),
        };
        server::json_reply(400, &json!({ "errors": errors }))
    }
    fn finish(&self, _: &Context, mut reply: Reply) -> Reply {
        reply.headers.push(("X-Request-Id".into(), "r-1".into()));
        reply
    }
}

#[test]
fn a_dialect_admits_checks_words_and_finishes_every_answer() {
    let token = [("X-Token", "secret")];
    let denied = answer(&Strict, "GET", "/items", &[], b"");
    assert_eq!(
        (denied.status, header(&denied, "x-request-id")),
        (401, Some("r-1"))
    );
    // Admission comes before routing's refusals, as a gateway's would.
    assert_eq!(answer(&Strict, "GET", "/nowhere", &[], b"").status, 401);

    let ok = answer(&Strict, "GET", "/items?limit=2", &token, b"");
    assert_eq!((ok.status, json_of(&ok)), (200, json!({"limit": 2})));
    assert_eq!(header(&ok, "x-request-id"), Some("r-1"));

    let negative = answer(&Strict, "GET", "/items?limit=-1", &token, b"");
    assert_eq!(
        (negative.status, json_of(&negative)),
        (400, json!({"errors": {"limit": ["must not be negative"]}}))
    );
    let missing = answer(&Strict, "GET", "/nowhere", &token, b"");
    assert_eq!(
        (missing.status, json_of(&missing)),
        (
            400,
            json!({"errors": {"request": ["no operation at /nowhere"]}})
        )
    );
    assert_eq!(header(&missing, "x-request-id"), Some("r-1"));
}
