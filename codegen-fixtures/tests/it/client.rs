//! The generated client (`fixtures/client.yaml`): requests as the OpenAPI style-examples table
//! writes them, credentials by requirement alternative, and the retry and pacing policy over a
//! scripted transport that records every request and every wait.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use codegen_fixtures::client::client::{
    self, Client, Credentials, Reply, Request, Transport, TransportError,
};
use codegen_fixtures::client::operations as ops;
use serde_json::{Value, json};

const BASE: &str = "http://api.test";

/// The request a call of `call` makes with `params` (serialized) and `credentials`.
fn request(call: &client::Call, params: Value, credentials: &Credentials) -> Request {
    client::request(BASE, call, &params, None, credentials).unwrap()
}

fn url(call: &client::Call, color: Value) -> String {
    let url = request(call, json!({ "color": color }), &Credentials::default()).url;
    url.strip_prefix(BASE).unwrap().to_owned()
}

/// Each cell of the style-examples table of OpenAPI 3.0.4 (and 3.1.1), section "Style
/// Examples": `color` as the string `blue`, the array `[blue, black, brown]` and the object
/// `{R: 100, G: 200, B: 150}`. (OpenAPI 3.0.3's table wrote `label` without `explode` with
/// dots; 3.0.4 corrected it to RFC 6570's commas, as here.)
#[test]
fn parameters_are_written_as_the_openapi_style_table_says() {
    let string = json!("blue");
    let array = json!(["blue", "black", "brown"]);
    let object = json!({"R": 100, "G": 200, "B": 150});
    let table: &[(&client::Call, &str, [&str; 3])] = &[
        (
            &ops::path_simple::CALL,
            "/simple/",
            ["blue", "blue,black,brown", "R,100,G,200,B,150"],
        ),
        (
            &ops::path_simple_explode::CALL,
            "/simple-explode/",
            ["blue", "blue,black,brown", "R=100,G=200,B=150"],
        ),
        (
            &ops::path_label::CALL,
            "/label/",
            [".blue", ".blue,black,brown", ".R,100,G,200,B,150"],
        ),
        (
            &ops::path_label_explode::CALL,
            "/label-explode/",
            [".blue", ".blue.black.brown", ".R=100.G=200.B=150"],
        ),
        (
            &ops::path_matrix::CALL,
            "/matrix/",
            [
                ";color=blue",
                ";color=blue,black,brown",
                ";color=R,100,G,200,B,150",
            ],
        ),
        (
            &ops::path_matrix_explode::CALL,
            "/matrix-explode/",
            [
                ";color=blue",
                ";color=blue;color=black;color=brown",
                ";R=100;G=200;B=150",
            ],
        ),
        (
            &ops::query_form::CALL,
            "/form?",
            [
                "color=blue",
                "color=blue,black,brown",
                "color=R,100,G,200,B,150",
            ],
        ),
        (
            &ops::query_form_explode::CALL,
            "/form-explode?",
            [
                "color=blue",
                "color=blue&color=black&color=brown",
                "R=100&G=200&B=150",
            ],
        ),
    ];
    for (call, prefix, cells) in table {
        for (value, cell) in [&string, &array, &object].into_iter().zip(cells) {
            assert_eq!(
                url(call, value.clone()),
                format!("{prefix}{cell}"),
                "{} with {value}",
                call.path
            );
        }
    }
    // The delimited styles and deepObject have cells for arrays and objects only.
    assert_eq!(
        url(&ops::query_space_delimited::CALL, array.clone()),
        "/space?color=blue%20black%20brown"
    );
    assert_eq!(
        url(&ops::query_space_delimited::CALL, object.clone()),
        "/space?color=R%20100%20G%20200%20B%20150"
    );
    assert_eq!(
        url(&ops::query_pipe_delimited::CALL, array),
        "/pipe?color=blue%7Cblack%7Cbrown"
    );
    assert_eq!(
        url(&ops::query_pipe_delimited::CALL, object.clone()),
        "/pipe?color=R%7C100%7CG%7C200%7CB%7C150"
    );
    assert_eq!(
        url(&ops::query_deep_object::CALL, object),
        "/deep?color%5BR%5D=100&color%5BG%5D=200&color%5BB%5D=150"
    );
    // The table's empty cells: matrix writes the bare name, form `name=`.
    assert_eq!(url(&ops::path_matrix::CALL, json!("")), "/matrix/;color");
    assert_eq!(url(&ops::query_form::CALL, json!("")), "/form?color=");
    // An absent optional parameter is left out.
    let r = request(&ops::query_form::CALL, json!({}), &Credentials::default());
    assert_eq!(r.url, format!("{BASE}/form"));
}

#[test]
fn every_location_is_filled_and_escaped_where_it_goes() {
    let params = ops::mixed::Params {
        id: "a b/c".into(),
        q: "x&y=z".into(),
        path: Some("/a/b?c".into()),
        at: Some(json!({"lat": 1.5})),
        x_trace: Some(vec![1, 2]),
        session: Some("s1".into()),
        theme: Some("dark".into()),
    };
    let r = request(
        &ops::mixed::CALL,
        client::params(&params).unwrap(),
        &Credentials::default(),
    );
    // Path: reserved characters escaped. Query: `&` and `=` in a value escaped; the
    // `allowReserved` one keeps `/` and `?`; a `content` parameter is its JSON text.
    assert_eq!(
        r.url,
        format!("{BASE}/mixed/a%20b%2Fc?q=x%26y%3Dz&path=/a/b?c&at=%7B%22lat%22%3A1.5%7D")
    );
    assert!(
        r.headers.contains(&("X-Trace".into(), "1,2".into())),
        "{:?}",
        r.headers
    );
    assert!(
        r.headers
            .contains(&("Cookie".into(), "session=s1; theme=dark".into())),
        "{:?}",
        r.headers
    );
    assert_eq!(r.body, None);
    assert_eq!(r.method, "GET");
}

#[test]
fn credentials_follow_the_first_alternative_that_is_set() {
    let mut creds = Credentials::default();
    // Nothing set: the request goes without credentials (the server answers 401, typed).
    let r = request(&ops::mixed::CALL, json!({"id": "1", "q": "x"}), &creds);
    assert!(
        !r.headers
            .iter()
            .any(|(n, _)| n == "Authorization" || n == "X-Key")
    );
    // Half of the first alternative is not enough; the second, Basic, is used.
    creds.key_header = Some("k".into());
    creds.basic_auth = Some(("ann".into(), "pa:ss".into()));
    let r = request(&ops::mixed::CALL, json!({"id": "1", "q": "x"}), &creds);
    // base64("ann:pa:ss"), as `printf 'ann:pa:ss' | base64` gives.
    assert_eq!(auth(&r), Some("Basic YW5uOnBhOnNz"));
    assert!(!r.headers.iter().any(|(n, _)| n == "X-Key"));
    // Both keys set: the first alternative wins, header and query together.
    creds.key_query = Some("q k".into());
    let r = request(&ops::mixed::CALL, json!({"id": "1", "q": "x"}), &creds);
    assert!(r.headers.contains(&("X-Key".into(), "k".into())));
    assert!(r.url.ends_with("?q=x&api_key=q%20k"), "{}", r.url);
    assert_eq!(auth(&r), None);
    // The document's requirement (bearer) applies where an operation names none; `[]` needs
    // none; `[{}, {keyCookie}]` sends the cookie when it is set.
    creds.bearer_auth = Some("sk_test".into());
    assert_eq!(
        auth(&request(
            &ops::path_simple::CALL,
            json!({"color": "x"}),
            &creds
        )),
        Some("Bearer sk_test")
    );
    assert_eq!(
        auth(&request(&ops::public::CALL, Value::Null, &creds)),
        None
    );
    let r = request(&ops::cookie_auth::CALL, Value::Null, &creds);
    assert!(
        !r.headers.iter().any(|(n, _)| n == "Cookie"),
        "{:?}",
        r.headers
    );
    creds.key_cookie = Some("c1".into());
    let r = request(&ops::cookie_auth::CALL, Value::Null, &creds);
    assert!(
        r.headers.contains(&("Cookie".into(), "sid=c1".into())),
        "{:?}",
        r.headers
    );
    // Secrets stay out of `Debug`.
    let shown = format!("{creds:?}");
    assert!(
        !shown.contains("sk_test") && !shown.contains("pa:ss"),
        "{shown}"
    );
}

fn auth(r: &Request) -> Option<&str> {
    r.headers
        .iter()
        .find(|(n, _)| n == "Authorization")
        .map(|(_, v)| v.as_str())
}

#[test]
fn the_spec_gives_servers_schemes_and_bucket() {
    assert_eq!(
        client::SERVERS,
        ["https://eu.example.com/v1", "http://localhost:8080"]
    );
    // The digest scheme cannot be supplied by the client: five schemes, not six.
    assert_eq!(client::SCHEMES.len(), 5);
    assert_eq!(client::BUCKET, Some(("X-Bucket", 2.0)));
    let c = Client::new("http://api.test///", Scripted::new(vec![]));
    assert_eq!(c.base_url(), "http://api.test");
    assert_eq!(c.bucket.as_ref().map(|b| b.leak_per_second), Some(2.0));
}

/// A transport answering from a script, recording requests and waits. Waits take no time.
struct Scripted {
    replies: Mutex<VecDeque<Result<Reply, TransportError>>>,
    sent: Mutex<Vec<Request>>,
    slept: Mutex<Vec<Duration>>,
}

impl Scripted {
    fn new(replies: Vec<Result<Reply, TransportError>>) -> Self {
        Self {
            replies: Mutex::new(replies.into()),
            sent: Mutex::new(Vec::new()),
            slept: Mutex::new(Vec::new()),
        }
    }
    fn sent(&self) -> usize {
        self.sent.lock().unwrap().len()
    }
    fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap().clone()
    }
}

impl Transport for Scripted {
    fn send(
        &self,
        request: Request,
    ) -> impl std::future::Future<Output = Result<Reply, TransportError>> + Send {
        self.sent.lock().unwrap().push(request);
        let next = self.replies.lock().unwrap().pop_front();
        std::future::ready(next.unwrap_or_else(|| {
            Err(TransportError {
                message: "script exhausted".into(),
            })
        }))
    }
    fn sleep(&self, duration: Duration) -> impl std::future::Future<Output = ()> + Send {
        self.slept.lock().unwrap().push(duration);
        std::future::ready(())
    }
}

fn reply(status: u16, headers: &[(&str, &str)], body: &str) -> Result<Reply, TransportError> {
    Ok(Reply {
        status,
        headers: headers
            .iter()
            .map(|(n, v)| ((*n).to_owned().into(), (*v).to_owned().into()))
            .collect(),
        body: body.as_bytes().to_vec().into(),
    })
}

fn down() -> Result<Reply, TransportError> {
    Err(TransportError {
        message: "connection refused".into(),
    })
}

/// Runs a future whose transport never makes it wait (the scripted one is always ready).
pub(crate) fn run<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = f.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

const JSON: (&str, &str) = ("content-type", "application/json");

fn params() -> ops::mixed::Params {
    ops::mixed::Params::new("1".into(), "x".into())
}

#[test]
fn a_get_is_retried_on_failures_and_returns_the_typed_response() {
    let t = Scripted::new(vec![
        down(),
        reply(503, &[], ""),
        reply(200, &[JSON], r#"{"name": "n"}"#),
    ]);
    let mut c = Client::new(BASE, t);
    c.retry.initial_backoff = Duration::from_millis(100);
    let got = run(c.mixed(&params())).unwrap();
    assert!(
        matches!(got, ops::mixed::Response::Status200(ref item) if item.name == "n"),
        "{got:?}"
    );
    assert_eq!(c.transport().sent(), 3);
    // Backoff doubles, less a random part of at most a half.
    let slept = c.transport().slept();
    assert_eq!(slept.len(), 2);
    assert!((50..=100).contains(&slept[0].as_millis()), "{slept:?}");
    assert!((100..=200).contains(&slept[1].as_millis()), "{slept:?}");
}

#[test]
fn a_post_without_an_idempotency_key_is_sent_once() {
    for first in [
        down(),
        reply(503, &[], ""),
        reply(429, &[JSON, ("Retry-After", "1")], r#"{"message": "m"}"#),
    ] {
        let c = Client::new(
            BASE,
            Scripted::new(vec![first, reply(201, &[JSON], r#"{"name": "n"}"#)]),
        );
        let item = codegen_fixtures::client::Item::new("n".into());
        let got = run(c.create_item(&ops::create_item::Params::new(), &item));
        assert_eq!(c.transport().sent(), 1, "{got:?}");
        assert!(c.transport().slept().is_empty());
        match got {
            Err(client::Error::Transport(e)) => assert_eq!(e.message, "connection refused"),
            Ok(ops::create_item::Response::Status503) => {}
            Ok(ops::create_item::Response::Status429(e)) => assert_eq!(e.message, "m"),
            other => panic!("{other:?}"),
        }
    }
    // Nor is a raw-bodied POST.
    let c = Client::new(
        BASE,
        Scripted::new(vec![reply(429, &[], "{}"), reply(204, &[], "")]),
    );
    let _ = run(c.add_note(b"hello".to_vec()));
    assert_eq!(c.transport().sent(), 1);
    let sent = c.transport().sent.lock().unwrap()[0].clone();
    assert_eq!(sent.body.as_deref(), Some(&b"hello"[..]));
    assert!(
        sent.headers
            .contains(&("Content-Type".into(), "text/plain".into()))
    );
}

#[test]
fn a_post_with_an_idempotency_key_is_retried() {
    let c = Client::new(
        BASE,
        Scripted::new(vec![down(), reply(201, &[JSON], r#"{"name": "n"}"#)]),
    );
    let params = ops::create_item::Params {
        idempotency_key: Some("k-1".into()),
    };
    let got =
        run(c.create_item(&params, &codegen_fixtures::client::Item::new("n".into()))).unwrap();
    assert!(matches!(got, ops::create_item::Response::Status201(_)));
    let sent = c.transport().sent.lock().unwrap().clone();
    assert_eq!(sent.len(), 2);
    // The same request both times, key and body included.
    assert_eq!(sent[0], sent[1]);
    assert!(
        sent[0]
            .headers
            .contains(&("Idempotency-Key".into(), "k-1".into()))
    );
    assert_eq!(sent[0].body.as_deref(), Some(&br#"{"name":"n"}"#[..]));
}

#[test]
fn a_429_waits_as_retry_after_says_and_later_calls_wait_too() {
    let t = Scripted::new(vec![
        reply(429, &[JSON, ("Retry-After", "2")], r#"{"message": "slow"}"#),
        reply(200, &[JSON], r#"{"name": "n"}"#),
    ]);
    let c = Client::new(BASE, t);
    run(c.mixed(&params())).unwrap();
    assert_eq!(c.transport().slept(), [Duration::from_secs(2)]);
    // A POST that gets a 429 with Retry-After is not retried, but the next call waits.
    let t = Scripted::new(vec![
        reply(429, &[JSON, ("Retry-After", "3")], r#"{"message": "slow"}"#),
        reply(200, &[JSON], r#"{"name": "n"}"#),
    ]);
    let c = Client::new(BASE, t);
    let got = run(c.create_item(
        &ops::create_item::Params::new(),
        &codegen_fixtures::client::Item::new("n".into()),
    ));
    assert!(matches!(got, Ok(ops::create_item::Response::Status429(_))));
    run(c.mixed(&params())).unwrap();
    let slept = c.transport().slept();
    assert_eq!(slept.len(), 1);
    assert!(
        slept[0] > Duration::from_millis(2900) && slept[0] <= Duration::from_secs(3),
        "{slept:?}"
    );
}

#[test]
fn the_retry_budget_is_bounded() {
    // Always down: the first attempt and `max_retries` more, then the transport error.
    let t = Scripted::new((0..10).map(|_| down()).collect());
    let c = Client::new(BASE, t);
    assert!(matches!(
        run(c.mixed(&params())),
        Err(client::Error::Transport(_))
    ));
    assert_eq!(c.transport().sent(), 1 + c.retry.max_retries as usize);
    assert!(c.transport().slept().iter().sum::<Duration>() <= c.retry.max_total_wait);
    // A Retry-After past the total budget is not waited for: the 429 comes back at once.
    let t = Scripted::new(vec![reply(
        429,
        &[JSON, ("Retry-After", "3600")],
        r#"{"message": "m"}"#,
    )]);
    let c = Client::new(BASE, t);
    assert!(matches!(
        run(c.mixed(&params())),
        Ok(ops::mixed::Response::Status429(_))
    ));
    assert_eq!(c.transport().sent(), 1);
    assert!(c.transport().slept().is_empty());
    // No retries at all when the policy says so.
    let t = Scripted::new(vec![
        reply(503, &[], ""),
        reply(200, &[JSON], r#"{"name": "n"}"#),
    ]);
    let mut c = Client::new(BASE, t);
    c.retry.max_retries = 0;
    let _ = run(c.mixed(&params()));
    assert_eq!(c.transport().sent(), 1);
}

#[test]
fn a_full_bucket_makes_the_next_call_wait_before_the_server_refuses_it() {
    // The server reports 39 of 40 used: one more call fits, and fills the bucket; the one
    // after would overflow, so the client waits for half a second's leak (2 calls per second)
    // before sending it.
    let ok = |level| reply(200, &[JSON, ("X-Bucket", level)], r#"{"name": "n"}"#);
    let c = Client::new(
        BASE,
        Scripted::new(vec![ok("39/40"), ok("40/40"), ok("40/40")]),
    );
    run(c.mixed(&params())).unwrap();
    run(c.mixed(&params())).unwrap();
    assert!(c.transport().slept().is_empty());
    run(c.mixed(&params())).unwrap();
    let slept = c.transport().slept();
    assert_eq!(slept.len(), 1, "{slept:?}");
    assert!(
        slept[0] > Duration::from_millis(400) && slept[0] <= Duration::from_millis(500),
        "{slept:?}"
    );
}

#[test]
fn a_body_that_does_not_fit_is_a_decode_error_not_a_panic() {
    let c = Client::new(
        BASE,
        Scripted::new(vec![reply(200, &[JSON], r#"{"name": 5}"#)]),
    );
    match run(c.mixed(&params())) {
        Err(client::Error::Decode(e)) => {
            assert_eq!((e.status, e.path.as_str()), (200, "name"));
        }
        other => panic!("{other:?}"),
    }
    // An undocumented status is `Other`, with its raw body.
    let c = Client::new(BASE, Scripted::new(vec![reply(418, &[], "teapot")]));
    match run(c.mixed(&params())) {
        Ok(ops::mixed::Response::Other { status: 418, body }) => assert_eq!(body, b"teapot"),
        other => panic!("{other:?}"),
    }
}

fn page(items: &[&str], next: Option<&str>) -> Result<Reply, TransportError> {
    let data: Vec<Value> = items.iter().map(|n| json!({"name": n})).collect();
    // `last_page_url` as an integer, and next links on another host without `per_page`: the
    // quirks of Chargily's pages (reference §1.13 quirk 13).
    let body = json!({"data": data, "current_page": 1, "last_page_url": 3, "next_page_url": next});
    reply(200, &[JSON], &body.to_string())
}

#[test]
fn a_paginated_list_is_streamed_page_after_page_with_the_same_parameters() {
    let t = Scripted::new(vec![
        page(&["a", "b"], Some("http://elsewhere.local/pages?page=2")),
        page(&["c", "d"], Some("http://elsewhere.local/pages?page=3")),
        page(&["e"], None),
    ]);
    let c = Client::new(BASE, t);
    let params = ops::list_things::Params {
        per_page: Some(2),
        ..ops::list_things::Params::new()
    };
    let items = run(c.list_things_stream(&params).unwrap().collect()).unwrap();
    let names: Vec<&str> = items.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c", "d", "e"]);
    let sent: Vec<String> = c
        .transport()
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.url.clone())
        .collect();
    assert_eq!(
        sent,
        [
            format!("{BASE}/pages?page=1&per_page=2"),
            format!("{BASE}/pages?page=2&per_page=2"),
            format!("{BASE}/pages?page=3&per_page=2"),
        ]
    );
}

#[test]
fn paging_stops_at_a_link_that_does_not_move_forward_and_reports_a_failing_page() {
    // A next link back to the same page would loop for ever: it ends the list.
    let t = Scripted::new(vec![
        page(&["a"], Some("/pages?page=1")),
        page(&["x"], None),
    ]);
    let c = Client::new(BASE, t);
    let items = run(c
        .list_things_stream(&ops::list_things::Params::new())
        .unwrap()
        .collect())
    .unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(c.transport().sent(), 1);
    // A page that fails: the items so far, then the error with its status.
    let t = Scripted::new(vec![
        page(&["a"], Some("/pages?page=2")),
        reply(401, &[JSON], r#"{"message": "Unauthenticated."}"#),
    ]);
    let c = Client::new(BASE, t);
    let mut pages = c
        .list_things_stream(&ops::list_things::Params::new())
        .unwrap();
    assert_eq!(run(pages.next()).unwrap().unwrap().name, "a");
    match run(pages.next()) {
        Some(Err(client::Error::Status { status: 401, .. })) => {}
        other => panic!("{other:?}"),
    }
    assert!(run(pages.next()).is_none());
    // A page whose items do not fit: a decode error naming the item.
    let t = Scripted::new(vec![reply(
        200,
        &[JSON],
        r#"{"data": [{"name": 1}], "next_page_url": null}"#,
    )]);
    let c = Client::new(BASE, t);
    match run(c
        .list_things_stream(&ops::list_things::Params::new())
        .unwrap()
        .collect())
    {
        Err(client::Error::Decode(e)) => assert_eq!(e.path, "data[0].name"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn x_pagination_names_another_lists_page_items_and_next_link() {
    let t = Scripted::new(vec![
        reply(200, &[JSON], r#"{"results": ["a", "b"], "next": 7}"#),
        reply(200, &[JSON], r#"{"results": ["c"], "next": null}"#),
    ]);
    let c = Client::new(BASE, t);
    let items = run(c
        .list_others_stream(&ops::list_others::Params::new())
        .unwrap()
        .collect())
    .unwrap();
    assert_eq!(items, ["a", "b", "c"]);
    let sent = c.transport().sent.lock().unwrap().clone();
    assert_eq!(sent[1].url, format!("{BASE}/cursor?p=7"));
}

#[test]
fn a_form_body_is_written_as_its_encoding_says() {
    let t = Scripted::new(vec![reply(200, &[JSON], r#"{"name": "ch_1"}"#)]);
    let c = Client::new(BASE, t);
    let body: ops::create_charge::Body = serde_json::from_value(json!({
        "amount": 2000,
        "description": "Mug & tea",
        "metadata": {"order": "7", "note": "a b"},
        "expand": ["customer", "invoice"],
        "tags": ["x", "y"],
        "shipping": {"name": "Ann", "address": {"city": "Oran"}}
    }))
    .unwrap();
    run(c.create_charge(&body)).unwrap();
    let sent = c.transport().sent.lock().unwrap()[0].clone();
    assert!(sent.headers.contains(&(
        "Content-Type".into(),
        "application/x-www-form-urlencoded".into()
    )));
    // `form` properties: a name per value; `deepObject` ones: bracketed, nested one level per
    // bracket; values percent-encoded. (A map's keys come in its `BTreeMap` order.)
    assert_eq!(
        String::from_utf8(sent.body.unwrap()).unwrap(),
        "amount=2000&description=Mug%20%26%20tea\
         &metadata%5Bnote%5D=a%20b&metadata%5Border%5D=7\
         &expand%5B%5D=customer&expand%5B%5D=invoice\
         &tags=x&tags=y\
         &shipping%5Bname%5D=Ann&shipping%5Baddress%5D%5Bcity%5D=Oran"
    );
}
