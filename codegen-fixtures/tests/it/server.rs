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
    async fn post_shape(&self, _: &Context, body: fx::Shape) -> ops::post_shape::Response {
        ops::post_shape::Response::Status200(body)
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
    async fn root(&self, _: &Context) -> ops::root::Response {
        ops::root::Response::Status200(echo(&json!({"root": true})))
    }
    async fn get_file(
        &self,
        _: &Context,
        params: ops::get_file::Params,
    ) -> ops::get_file::Response {
        ops::get_file::Response::Status200(echo(&params))
    }
    async fn get_deep(
        &self,
        _: &Context,
        params: ops::get_deep::Params,
    ) -> ops::get_deep::Response {
        ops::get_deep::Response::Status200(echo(&params))
    }
    async fn get_note(
        &self,
        _: &Context,
        params: ops::get_note::Params,
    ) -> ops::get_note::Response {
        ops::get_note::Response::Status200(echo(&params))
    }
    async fn mark_item(
        &self,
        _: &Context,
        params: ops::mark_item::Params,
    ) -> ops::mark_item::Response {
        ops::mark_item::Response::Status200(echo(&params))
    }
    async fn search_items(
        &self,
        _: &Context,
        params: ops::search_items::Params,
    ) -> ops::search_items::Response {
        ops::search_items::Response::Status200(echo(&params))
    }
    async fn post_anything(&self, _: &Context, body: fx::Item) -> ops::post_anything::Response {
        ops::post_anything::Response::Status200(body)
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
        headers: request.headers.iter().map(|(n, v)| (n, v)).collect(),
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
            headers: headers.iter().copied().collect(),
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
        names: Some(vec!["a,b".into(), "c|d".into(), "e=f;g".into()]),
        pipes: Some(vec![4, 5]),
        // The client escapes the pipes between items as it does an item's own.
        bars: Some(vec!["x".into(), "z,w".into()]),
        active: Some(true),
        ratio: Some(0.5),
        sort: Some(fx::ListItemsParamsSort::Desc),
        filter: Some(fx::ListItemsParamsFilter {
            color: Some("red,blue".into()),
            size: Some(3),
        }),
        expand: Some(vec!["data.customer".into(), "data.invoice".into()]),
        x_trace: Some("t-1".into()),
        x_tags: Some(vec!["p".into(), "q".into()]),
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
        amount: Some(100),
        tags: Some(vec!["x".into(), "y,z".into()]),
        metadata: Some([("k".to_owned(), "v=w".to_owned())].into_iter().collect()),
    };
    assert_eq!(
        run(c.submit_form(&form)).unwrap(),
        ops::submit_form::Response::Status200(echo(&form))
    );
    assert_eq!(
        run(c.upload(vec![1, 2, 3])).unwrap(),
        ops::upload::Response::Status200(vec![3, 2, 1].into())
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
            headers: server::Headers::default(),
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
    fn check(
        &self,
        cx: &Context,
        params: &server::ParamValues,
        body: Option<&Value>,
    ) -> Result<(), Refusal> {
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

#[test]
fn escaped_delimiters_stay_in_their_item() {
    let d = &PlainDialect;
    let got = answer(d, "GET", "/items?names=a%2Cb,c&bars=x%7Cy|z", &[], b"");
    assert_eq!(
        json_of(&got),
        json!({"names": ["a,b", "c"], "bars": ["x|y", "z"]})
    );
    // An object's pairs too: split on `;`, `=` and `,` before decoding.
    let point = answer(d, "GET", "/matrix/;x=1%3B2;y=a%3Db%2Cc", &[], b"");
    assert_eq!(
        json_of(&point),
        json!({"point": {"x": "1;2", "y": "a=b,c"}})
    );
}

#[test]
fn exploded_form_objects_collect_the_pairs_no_parameter_declares() {
    let got = answer(
        &PlainDialect,
        "GET",
        "/search?q=x&role=admin&age=30&nested[a][b]=1",
        &[],
        b"",
    );
    assert_eq!(
        json_of(&got),
        json!({"q": "x", "who": {"role": "admin", "age": 30}, "nested": {"a": {"b": 1}}})
    );
    let params = fx::SearchItemsParams {
        q: "a&b".into(),
        who: Some(fx::SearchItemsParamsWho {
            role: Some("a=b".into()),
            age: Some(3),
        }),
        created: None,
        nested: None,
    };
    let got = run(client().search_items(&params)).unwrap();
    assert_eq!(got, ops::search_items::Response::Status200(echo(&params)));
}

#[test]
fn object_properties_and_form_fields_are_typed_by_their_shape() {
    let d = &PlainDialect;
    let got = answer(
        d,
        "GET",
        "/items?filter[size]=3&filter[color]=red",
        &[],
        b"",
    );
    assert_eq!(
        json_of(&got),
        json!({"filter": {"size": 3, "color": "red"}})
    );
    let created = answer(d, "GET", "/search?q=x&created[gte]=123", &[], b"");
    assert_eq!(
        json_of(&created),
        json!({"q": "x", "created": {"gte": 123}})
    );
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let got = answer(d, "POST", "/forms", &form, b"name=n&amount=100");
    assert_eq!(
        (got.status, json_of(&got)),
        (200, json!({"name": "n", "amount": 100}))
    );
    // A misfit is named by its pointer.
    let bad = answer(d, "GET", "/items?filter[size]=big", &[], b"");
    assert_eq!(bad.status, 422);
}

#[test]
fn form_bodies_keep_repeated_and_bracketed_keys() {
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let got = answer(
        &PlainDialect,
        "POST",
        "/forms",
        &form,
        b"name=n&tags=a&tags=b%26c&metadata[k]=v&metadata%5Bj%5D=w",
    );
    assert_eq!(
        (got.status, json_of(&got)),
        (
            200,
            json!({"name": "n", "tags": ["a", "b&c"], "metadata": {"j": "w", "k": "v"}})
        )
    );
    // One value of an array is an array of one.
    let one = answer(&PlainDialect, "POST", "/forms", &form, b"name=n&tags=a");
    assert_eq!(json_of(&one)["tags"], json!(["a"]));
}

#[test]
fn deep_objects_given_plainly_are_read_plainly_and_brackets_nest() {
    let d = &PlainDialect;
    let plain = answer(d, "GET", "/search?q=x&created=123", &[], b"");
    assert_eq!(json_of(&plain), json!({"q": "x", "created": 123}));
    let nested = answer(
        d,
        "GET",
        "/search?q=x&nested[a][b]=3&nested[a][c][]=true&nested[a][c][]=false",
        &[],
        b"",
    );
    assert_eq!(
        json_of(&nested),
        json!({"q": "x", "nested": {"a": {"b": 3, "c": [true, false]}}})
    );
}

#[test]
fn the_root_path_is_routed() {
    let d = &PlainDialect;
    for path in ["/", ""] {
        let got = answer(d, "GET", path, &[], b"");
        assert_eq!(
            (got.status, json_of(&got)),
            (200, json!({"root": true})),
            "{path}"
        );
    }
    assert_eq!(
        run(client().root()).unwrap(),
        ops::root::Response::Status200(echo(&json!({"root": true})))
    );
}

#[test]
fn two_parameters_in_one_segment_are_both_read() {
    let d = &PlainDialect;
    let got = answer(d, "GET", "/files/report.final%2Epdf", &[], b"");
    assert_eq!(
        (got.status, json_of(&got)),
        (200, json!({"name": "report", "ext": "final.pdf"}))
    );
    assert_eq!(answer(d, "GET", "/files/report", &[], b"").status, 404);
    assert_eq!(answer(d, "GET", "/files/.pdf", &[], b"").status, 404);
    let params = fx::GetFileParams {
        name: "a b".into(),
        ext: "txt".into(),
    };
    assert_eq!(
        run(client().get_file(&params)).unwrap(),
        ops::get_file::Response::Status200(echo(&params))
    );
}

#[test]
fn paths_outside_the_base_path_are_not_found() {
    assert_eq!(server::below_base("/v1", "/v1/items"), Some("/items"));
    assert_eq!(server::below_base("/v1/", "/v1"), Some(""));
    assert_eq!(server::below_base("", "/items"), Some("/items"));
    assert_eq!(server::below_base("/", "/items"), Some("/items"));
    assert_eq!(server::below_base("/v1", "/v10/items"), None);
    assert_eq!(server::below_base("/v1", "/items"), None);
    let reply = server::not_found(
        &PlainDialect,
        Incoming {
            method: "GET".into(),
            path: "/items".into(),
            query: None,
            headers: server::Headers::default(),
            body: Ok(Vec::new()),
        },
    );
    assert_eq!(
        (reply.status, json_of(&reply)["message"].clone()),
        (404, json!("no operation at /items"))
    );
}

#[test]
fn raw_bodies_take_any_declared_media_type_or_range() {
    let d = &PlainDialect;
    let upload = |content_type: &str| {
        answer(
            d,
            "POST",
            "/uploads",
            &[("Content-Type", content_type)],
            b"ab",
        )
        .status
    };
    assert_eq!(upload("application/pdf"), 200);
    assert_eq!(upload("Application/PDF; version=1.7"), 200);
    assert_eq!(upload("image/png"), 200);
    assert_eq!(upload("IMAGE/webp"), 200);
    assert_eq!(upload("text/plain"), 415);
    assert_eq!(upload("application/pdfx"), 415);
    assert!(server::media_fits("*/*", "text/plain"));
    assert!(!server::media_fits("image/*", "imagex/png"));
}

#[test]
fn json_bodies_declared_as_any_media_type_take_the_clients_content_type() {
    let item = fx::Item::new("pen".into(), 3);
    assert_eq!(
        run(client().post_anything(&item)).unwrap(),
        ops::post_anything::Response::Status200(item)
    );
    let json = answer(
        &PlainDialect,
        "POST",
        "/anything",
        &[("Content-Type", "application/json; charset=utf-8")],
        br#"{"name": "pen", "price": 3}"#,
    );
    assert_eq!(json.status, 200);
}

#[test]
fn empty_bodies_that_are_sent_are_read_and_absent_ones_are_missing() {
    let d = &PlainDialect;
    let form = [("Content-Type", "application/x-www-form-urlencoded")];
    let empty_form = answer(d, "POST", "/forms", &form, b"");
    assert_eq!(empty_form.status, 422);
    let issue = &json_of(&empty_form)["issues"][0];
    assert!(
        issue["message"]
            .as_str()
            .unwrap()
            .contains("missing field `name`"),
        "{issue}"
    );
    let pdf = [("Content-Type", "application/pdf")];
    let empty_upload = answer(d, "POST", "/uploads", &pdf, b"");
    assert_eq!((empty_upload.status, empty_upload.body.len()), (200, 0));
    let absent = answer(d, "POST", "/uploads", &[], b"");
    assert_eq!(absent.status, 422);
    assert_eq!(
        json_of(&absent)["issues"][0]["message"],
        "a request body is required"
    );
}

#[test]
fn a_missing_required_parameter_is_named_with_its_location() {
    let got = answer(&PlainDialect, "GET", "/search?role=admin", &[], b"");
    assert_eq!(got.status, 422);
    assert_eq!(
        json_of(&got)["issues"],
        json!([{"in": "query", "name": "q", "message": "a required parameter is missing"}])
    );
}

#[test]
fn labels_matrices_methods_headers_and_brackets_read_exactly() {
    let d = &PlainDialect;
    // One leading dot is the label's; an empty matrix value is empty.
    let mark = answer(d, "GET", "/marks/..x/;color", &[], b"");
    assert_eq!(json_of(&mark), json!({"tag": ".x", "color": ""}));
    let mark = answer(d, "GET", "/marks/.x/;color=red", &[], b"");
    assert_eq!(json_of(&mark), json!({"tag": "x", "color": "red"}));
    // Methods are case-sensitive.
    let lower = answer(d, "get", "/items", &[], b"");
    assert_eq!(
        (lower.status, header(&lower, "allow")),
        (405, Some("GET, POST"))
    );
    // Repeated header lines are one list.
    let tags = answer(
        d,
        "GET",
        "/items",
        &[("X-Tags", "a, b"), ("x-tags", "c")],
        b"",
    );
    assert_eq!(json_of(&tags), json!({"X-Tags": ["a", "b", "c"]}));
    let trace = answer(
        d,
        "GET",
        "/items",
        &[("X-Trace", "a"), ("X-Trace", "b")],
        b"",
    );
    assert_eq!(json_of(&trace), json!({"X-Trace": "a, b"}));
    // Brackets belong to arrays: a scalar's `name[]` is another key.
    let scalar = answer(d, "GET", "/items?limit[]=abc", &[], b"");
    assert_eq!((scalar.status, json_of(&scalar)), (200, json!({})));
    let both = answer(d, "GET", "/items?limit=2&limit[]=3", &[], b"");
    assert_eq!(json_of(&both), json!({"limit": 2}));
}

#[test]
fn a_union_body_is_read_as_its_deserialize_reads_it_trying_only_the_members_it_can_be() {
    // The router passes over the members whose required properties an object lacks; what it
    // reads must still be exactly what serde's untagged `Deserialize` reads.
    let bodies = [
        json!({"radius": 2.5}),
        json!({"radius": "wide"}),
        json!({"side": 3, "unit": "cm"}),
        json!({"side": 3}),
        json!({"side": 3, "unit": "cm", "radius": 1}),
        json!({"side": "3", "unit": "cm", "radius": 1}),
        json!({"side": 3, "unit": "cm", "label": null}),
        json!({"tag": null}),
        json!({"tag": "x", "radius": "no"}),
        json!({"text": "hello"}),
        json!({}),
        json!([1.5]),
        json!([3, "cm"]),
        json!("round"),
        json!(7),
    ];
    for body in bodies {
        let by_serde = serde_json::from_value::<fx::Shape>(body.clone());
        let reply = answer(
            &PlainDialect,
            "POST",
            "/shapes",
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        );
        match by_serde {
            Ok(shape) => {
                assert_eq!(reply.status, 200, "{body}");
                let read: fx::Shape = serde_json::from_slice(&reply.body).unwrap();
                assert_eq!(read, shape, "{body}");
                assert_eq!(
                    json_of(&reply),
                    serde_json::to_value(&shape).unwrap(),
                    "{body}"
                );
            }
            Err(_) => assert_eq!(reply.status, 422, "{body}: {}", json_of(&reply)),
        }
    }
}

/// A dialect that shows what it is given: each path parameter's text (`Context::path_param`)
/// and the parameters as read (`ParamValues`), in headers of the answer.
struct Shows;

impl Dialect for Shows {
    fn check(
        &self,
        cx: &Context,
        params: &server::ParamValues,
        _: Option<&Value>,
    ) -> Result<(), Refusal> {
        let keys: Vec<&str> = params.iter().map(|(k, _)| k).collect();
        cx.add_header("X-Keys", keys.join(","));
        cx.add_header("X-Params", params.to_value().to_string());
        // Indexing an absent key is `null`, as a `serde_json::Value` indexes.
        assert!(params["absent"].is_null() && params.get("absent").is_none());
        Ok(())
    }
    fn refuse(&self, cx: &Context, refusal: Refusal) -> Reply {
        refusal.plain_reply(cx)
    }
    fn finish(&self, cx: &Context, mut reply: Reply) -> Reply {
        for name in ["tag", "color"] {
            if let Some(text) = cx.path_param(name) {
                reply
                    .headers
                    .push((format!("X-Path-{name}").into(), text.into_owned().into()));
            }
        }
        reply
    }
}

#[test]
fn a_dialect_sees_path_parameters_decoded_and_parameters_as_read() {
    let got = answer(&Shows, "GET", "/marks/.a%20b/;color=r%2Fd", &[], b"");
    assert_eq!(got.status, 200, "{}", String::from_utf8_lossy(&got.body));
    // The whole segment, decoded, before its style (label, matrix) splits it.
    assert_eq!(header(&got, "x-path-tag"), Some(".a b"));
    assert_eq!(header(&got, "x-path-color"), Some(";color=r/d"));
    assert_eq!(header(&got, "x-keys"), Some("tag,color"));
    let params: Value = serde_json::from_str(header(&got, "x-params").unwrap()).unwrap();
    assert_eq!(params, json!({"tag": "a b", "color": "r/d"}));
    assert_eq!(
        json_of(&got),
        params,
        "the typed parameters are the values read"
    );

    // No route, no path parameters; no parameters read.
    let none = answer(&Shows, "GET", "/nowhere", &[], b"");
    assert_eq!(none.status, 404);
    assert_eq!(header(&none, "x-path-tag"), None);
}

#[test]
fn headers_keep_their_order_repeats_and_empty_values_in_one_buffer() {
    let mut headers: server::Headers = [("Accept", "a/b"), ("X-Empty", ""), ("accept", "c/d")]
        .into_iter()
        .collect();
    headers.push("Café", "é, ü");
    headers.extend([("", "no name")]);
    let all: Vec<(&str, &str)> = headers.iter().collect();
    assert_eq!(
        all,
        [
            ("Accept", "a/b"),
            ("X-Empty", ""),
            ("accept", "c/d"),
            ("Café", "é, ü"),
            ("", "no name")
        ]
    );
    assert_eq!((headers.len(), headers.is_empty()), (5, false));
    // The first of a repeated name, by any case; an empty value is a value.
    assert_eq!(headers.get("ACCEPT"), Some("a/b"));
    assert_eq!(headers.get("x-empty"), Some(""));
    assert_eq!(headers.get("café"), Some("é, ü"));
    assert_eq!(headers.get("missing"), None);
    let accepts: Vec<&str> = headers.get_all("Accept").collect();
    assert_eq!(accepts, ["a/b", "c/d"]);
    assert_eq!(headers.get_all("").collect::<Vec<_>>(), ["no name"]);
    assert!(server::Headers::default().is_empty());
}

/// Parameters that are strings sent as plain text (a path segment, headers) are typed
/// straight from their texts; a query parameter sends the same request through the general
/// reading. Both read the same values, refuse the same requests, and show a dialect the same
/// parameters.
#[test]
fn plain_parameters_are_typed_as_the_general_reading_types_them() {
    let headers = [
        ("X-Mode", " cooked "),
        ("X-Note", "first"),
        ("x-note", " second "),
    ];
    let plain = answer(&PlainDialect, "GET", "/notes/a%20b%2Fc", &headers, b"");
    let general = answer(
        &PlainDialect,
        "GET",
        "/notes/a%20b%2Fc?lang=fr",
        &headers,
        b"",
    );
    assert_eq!(
        plain.status,
        200,
        "{}",
        String::from_utf8_lossy(&plain.body)
    );
    let expected = json!({"slug": "a b/c", "X-Mode": "cooked", "X-Note": "first, second"});
    assert_eq!(json_of(&plain), expected);
    let mut general = json_of(&general);
    assert_eq!(
        general.as_object_mut().unwrap().remove("lang"),
        Some(json!("fr"))
    );
    assert_eq!(general, expected);

    // Refusals: a required header missing, a value outside the enum.
    for headers in [&[("X-Note", "n")][..], &[("X-Mode", "boiled")][..]] {
        let plain = answer(&PlainDialect, "GET", "/notes/n", headers, b"");
        let general = answer(&PlainDialect, "GET", "/notes/n?lang=fr", headers, b"");
        assert_eq!(
            plain.status,
            422,
            "{}",
            String::from_utf8_lossy(&plain.body)
        );
        assert_eq!(json_of(&plain), json_of(&general));
    }
    let missing = answer(&PlainDialect, "GET", "/notes/n", &[], b"");
    assert_eq!(
        json_of(&missing)["issues"],
        json!([{"in": "header", "name": "X-Mode", "message": "a required parameter is missing"}])
    );

    // A dialect that looks is given the parameters, read when it asks.
    let shown = answer(&Shows, "GET", "/notes/a%20b", &[("X-Mode", "raw")], b"");
    assert_eq!(
        shown.status,
        200,
        "{}",
        String::from_utf8_lossy(&shown.body)
    );
    assert_eq!(header(&shown, "x-keys"), Some("slug,X-Mode"));
    let params: Value = serde_json::from_str(header(&shown, "x-params").unwrap()).unwrap();
    assert_eq!(params, json!({"slug": "a b", "X-Mode": "raw"}));
}

/// Five path parameters, more than the router keeps inline, are each read from their own
/// segment, by the plain reading and by the general one alike, and shown to a dialect.
#[test]
fn path_parameters_beyond_the_inline_ones_are_read() {
    let expected = json!({"a": "1", "b": "2", "c": "3", "d": "4", "e": "5 x"});
    let plain = answer(&PlainDialect, "GET", "/deep/1/2/3/4/5%20x", &[], b"");
    assert_eq!(json_of(&plain), expected);
    let general = answer(
        &PlainDialect,
        "GET",
        "/deep/1/2/3/4/5%20x?lang=fr",
        &[],
        b"",
    );
    let mut general = json_of(&general);
    general.as_object_mut().unwrap().remove("lang");
    assert_eq!(general, expected);
    let shown = answer(&Shows, "GET", "/deep/1/2/3/4/5%20x", &[], b"");
    assert_eq!(header(&shown, "x-keys"), Some("a,b,c,d,e"));
}
