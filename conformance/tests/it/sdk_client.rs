//! The generated typed clients (`generated`'s `client` modules, with the `hyper` transport)
//! over real loopback HTTP: against the reference mock, and against hand-written servers that
//! fail on purpose, hang, or refuse connections, to show the retry policy as a user gets it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use generated::chargily::{self, operations as cg_ops};
use generated::recharge::{self, operations as rc_ops};

use crate::support::{self, Received};

type CgClient = chargily::client::Client<chargily::client::hyper_transport::HyperTransport>;

fn chargily_client(base: &str) -> CgClient {
    let transport = chargily::client::hyper_transport::HyperTransport::new().unwrap();
    let mut client = chargily::client::Client::new(base, transport);
    client.credentials.bearer_auth = Some("test_sk_conformance".into());
    client.retry.initial_backoff = Duration::from_millis(20);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_chargily_client_creates_reads_and_lists_checkouts_on_the_mock() {
    let mock = support::server();
    let client = chargily_client(&format!("http://{}/chargily/test/api/v2", mock.addr()));
    let body = chargily::CreateCheckoutRequest {
        amount: Some(2500),
        currency: Some(chargily::CurrencyInput::Dzd),
        ..chargily::CreateCheckoutRequest::new("https://shop.example/thanks".into())
    };
    let created = match client.create_checkout(&body).await.unwrap() {
        cg_ops::create_checkout::Response::Status200(checkout) => checkout,
        other => panic!("{other:?}"),
    };
    assert_eq!(created.amount, 2500);
    let params = cg_ops::retrieve_checkout::Params::new(created.id.clone());
    match client.retrieve_checkout(&params).await.unwrap() {
        cg_ops::retrieve_checkout::Response::Status200(checkout) => assert_eq!(checkout, created),
        other => panic!("{other:?}"),
    }
    let params = cg_ops::list_checkouts::Params {
        per_page: Some(5),
        ..cg_ops::list_checkouts::Params::new()
    };
    match client.list_checkouts(&params).await.unwrap() {
        cg_ops::list_checkouts::Response::Status200(page) => {
            assert!(page.data.iter().any(|c| c.id == created.id));
            assert_eq!(page.per_page, 5);
        }
        other => panic!("{other:?}"),
    }
    // Without credentials: the mock's documented 401, typed.
    let mut anonymous = chargily_client(&format!("http://{}/chargily/test/api/v2", mock.addr()));
    anonymous.credentials.bearer_auth = None;
    let got = anonymous.list_checkouts(&params).await.unwrap();
    assert!(
        matches!(got, cg_ops::list_checkouts::Response::Status401(_)),
        "{got:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recharge_client_creates_and_reads_a_checkout_on_the_mock() {
    let mock = support::server();
    let transport = recharge::client::hyper_transport::HyperTransport::new().unwrap();
    let mut client =
        recharge::client::Client::new(format!("http://{}/recharge", mock.addr()), transport);
    client.credentials.api_key = Some("conformance".into());
    // The document declares its leaky bucket: the client paces itself by it.
    assert_eq!(recharge::client::BUCKET, Some(("X-Recharge-Limit", 2.0)));
    let version = recharge::CreateCheckoutParamsXRechargeVersion::V202101;
    let body =
        recharge::CheckoutCreateRequest::CheckoutCreate(recharge::CheckoutCreate::new(vec![
            recharge::LineItemInput::new(1, 2),
        ]));
    let created = match client
        .create_checkout(&rc_ops::create_checkout::Params::new(version), &body)
        .await
        .unwrap()
    {
        rc_ops::create_checkout::Response::Status200(r)
        | rc_ops::create_checkout::Response::Status201(r) => r.checkout,
        other => panic!("{other:?}"),
    };
    let params = rc_ops::retrieve_checkout::Params::new(created.token.clone(), version);
    match client.retrieve_checkout(&params).await.unwrap() {
        rc_ops::retrieve_checkout::Response::Status200(r) => {
            assert_eq!(r.checkout.token, created.token)
        }
        other => panic!("{other:?}"),
    }
}

/// A server answering each request with the next of `answers` (the last one repeated), and
/// recording the requests.
fn scripted(
    answers: Vec<(u16, &'static str, &'static str)>,
) -> (String, Arc<Mutex<Vec<Received>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    let addr = support::serve_http(move |request| {
        let mut seen = seen.lock().unwrap();
        seen.push(request);
        let (status, retry_after, body) = answers[(seen.len() - 1).min(answers.len() - 1)];
        let mut headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        if !retry_after.is_empty() {
            headers.push(("retry-after".to_owned(), retry_after.to_owned()));
        }
        (status, headers, body.as_bytes().to_vec())
    });
    (format!("http://{addr}"), log)
}

const UNAUTHENTICATED: (u16, &str, &str) = (401, "", r#"{"message": "Unauthenticated."}"#);
const UNAVAILABLE: (u16, &str, &str) = (503, "", r#"{"message": "down"}"#);

fn retrieve() -> cg_ops::retrieve_checkout::Params {
    cg_ops::retrieve_checkout::Params::new("01hj5n7c6rd55fjt0tck9k0631".into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_get_is_retried_through_server_errors() {
    let (base, log) = scripted(vec![UNAVAILABLE, UNAVAILABLE, UNAUTHENTICATED]);
    let client = chargily_client(&base);
    let got = client.retrieve_checkout(&retrieve()).await.unwrap();
    assert!(
        matches!(got, cg_ops::retrieve_checkout::Response::Status401(_)),
        "{got:?}"
    );
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 3);
    // The same request each time, credentials included.
    assert!(
        log.iter()
            .all(|r| r.method == "GET" && r.path == "/checkouts/01hj5n7c6rd55fjt0tck9k0631")
    );
    assert!(
        log.iter()
            .all(|r| r.header("authorization") == Some("Bearer test_sk_conformance"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_is_never_retried_without_an_idempotency_header() {
    let (base, log) = scripted(vec![UNAVAILABLE, UNAUTHENTICATED]);
    let client = chargily_client(&base);
    let body = chargily::CreateCheckoutRequest::new("https://shop.example/thanks".into());
    let got = client.create_checkout(&body).await.unwrap();
    // 503 is not documented for this operation: `Other`, with the raw body.
    assert!(
        matches!(
            got,
            cg_ops::create_checkout::Response::Other { status: 503, .. }
        ),
        "{got:?}"
    );
    let (base, log429) = scripted(vec![
        (429, "0", r#"{"message": "Too Many Attempts."}"#),
        UNAUTHENTICATED,
    ]);
    let client = chargily_client(&base);
    let got = client.create_checkout(&body).await.unwrap();
    assert!(
        matches!(got, cg_ops::create_checkout::Response::Status429(_)),
        "{got:?}"
    );
    assert_eq!(log.lock().unwrap().len(), 1);
    assert_eq!(log429.lock().unwrap().len(), 1);
    let sent = &log.lock().unwrap()[0];
    assert_eq!(sent.header("content-type"), Some("application/json"));
    let json: serde_json::Value = serde_json::from_slice(&sent.body).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"success_url": "https://shop.example/thanks"})
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_waits_as_retry_after_says() {
    let (base, log) = scripted(vec![
        (429, "1", r#"{"message": "Too Many Attempts."}"#),
        UNAUTHENTICATED,
    ]);
    let client = chargily_client(&base);
    let got = client.retrieve_checkout(&retrieve()).await.unwrap();
    assert!(
        matches!(got, cg_ops::retrieve_checkout::Response::Status401(_)),
        "{got:?}"
    );
    let log = log.lock().unwrap();
    assert_eq!(log.len(), 2);
    let gap = log[1].at.duration_since(log[0].at);
    assert!(gap >= Duration::from_millis(990), "retried after {gap:?}");
    assert!(gap < Duration::from_secs(3), "retried after {gap:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_stop_at_the_budget() {
    let (base, log) = scripted(vec![UNAVAILABLE]);
    let mut client = chargily_client(&base);
    client.retry.max_retries = 2;
    let got = client.retrieve_checkout(&retrieve()).await.unwrap();
    assert!(
        matches!(
            got,
            cg_ops::retrieve_checkout::Response::Other { status: 503, .. }
        ),
        "{got:?}"
    );
    assert_eq!(log.lock().unwrap().len(), 3);
    // A Retry-After past the total wait allowed is not waited for.
    let (base, log) = scripted(vec![(429, "120", r#"{"message": "Too Many Attempts."}"#)]);
    let client = chargily_client(&base);
    let t = Instant::now();
    let got = client.retrieve_checkout(&retrieve()).await.unwrap();
    assert!(
        matches!(got, cg_ops::retrieve_checkout::Response::Status429(_)),
        "{got:?}"
    );
    assert_eq!(log.lock().unwrap().len(), 1);
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_hangs_or_refuses_is_a_transport_error_not_a_hung_call() {
    // Accepts, reads, never answers.
    let addr = support::listen(|stream| {
        std::thread::sleep(Duration::from_secs(30));
        drop(stream);
    });
    let mut client = chargily_client(&format!("http://{addr}"));
    client.retry.max_retries = 1;
    let mut transport = chargily::client::hyper_transport::HyperTransport::new().unwrap();
    transport.timeout = Duration::from_millis(300);
    let mut hanging = chargily::client::Client::new(format!("http://{addr}"), transport);
    hanging.retry = client.retry.clone();
    let t = Instant::now();
    match hanging.retrieve_checkout(&retrieve()).await {
        Err(chargily::client::Error::Transport(e)) => {
            assert!(e.message.contains("no complete response"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // Two attempts of 300 ms and a short backoff.
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // Nothing listens: connection refused, retried, then the error.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    client = chargily_client(&format!("http://{closed}"));
    match client.retrieve_checkout(&retrieve()).await {
        Err(chargily::client::Error::Transport(e)) => {
            assert!(e.message.contains("request failed"), "{e}")
        }
        other => panic!("{other:?}"),
    }
}

/// Replays every shipped recording against fresh embedded mocks twice: as recorded, and with
/// each API request rebuilt by the typed client of its API (`--via sdk`). Each exchange must
/// get the same status and the same normalized body both ways, and the typed clients must
/// build every request they can express.
#[test]
fn every_shipped_recording_gives_the_same_answers_through_the_typed_clients() {
    use conformance::replay::{self, Options, Via};
    let run = |via| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let scenarios = conformance::replay::plan::load_shipped(None).unwrap();
        let options = Options {
            via,
            ..Options::default()
        };
        runtime.block_on(replay::run(scenarios, &options))
    };
    let raw = run(Via::Http);
    let typed = run(Via::Sdk);
    assert_eq!(raw.totals().failed, 0);
    assert_eq!(
        typed.totals().failed,
        0,
        "{}",
        conformance::report::human(&typed)
    );
    let exchanges = |r: &replay::RunReport| -> Vec<replay::outcome::ExchangeReport> {
        r.scenarios
            .iter()
            .flat_map(|s| s.exchanges.clone())
            .collect()
    };
    let (raw, typed) = (exchanges(&raw), exchanges(&typed));
    assert_eq!(raw.len(), typed.len());
    let mut built = 0;
    for (a, b) in raw.iter().zip(&typed) {
        assert_eq!((&a.name, a.status), (&b.name, b.status));
        assert_eq!(a.normalized, b.normalized, "{:?}", a.name);
        assert_eq!(a.as_recorded, None);
        match &b.as_recorded {
            None => built += 1,
            // Only what a typed client cannot express goes as recorded.
            Some(why) => assert!(
                why == "a request to the mock's control API"
                    || why == "the body is not JSON"
                    || why.contains("not fit the typed client")
                    || why.contains("not encode back")
                    || why.contains("not an integer"),
                "{:?}: {why}",
                b.name
            ),
        }
    }
    // 444 exchanges: 51 control requests, and 50 deliberately malformed or invalid ones.
    assert_eq!((built, typed.len()), (343, 444));
}

#[test]
fn every_operation_of_both_apis_is_driven_through_its_typed_method() {
    use conformance::replay::sdk::operation_ids;
    use conformance::specs::Api;
    assert_eq!(operation_ids(Api::Chargily), chargily::operations::IDS);
    assert_eq!(operation_ids(Api::Recharge), recharge::operations::IDS);
}

/// Creates seven customers with the typed client; returns their ids.
async fn seven_customers(client: &CgClient) -> Vec<String> {
    let mut ids = Vec::new();
    for n in 0..7 {
        let body = chargily::CreateCustomerRequest {
            name: Some(format!("Customer {n}")),
            ..chargily::CreateCustomerRequest::new()
        };
        match client.create_customer(Some(&body)).await.unwrap() {
            cg_ops::create_customer::Response::Status200(c) => ids.push(c.id),
            other => panic!("{other:?}"),
        }
    }
    ids
}

fn per_page(n: i64) -> cg_ops::list_customers::Params {
    cg_ops::list_customers::Params {
        per_page: Some(n),
        ..cg_ops::list_customers::Params::new()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chargily_list_of_four_pages_is_streamed_whole_from_the_mock() {
    let mock = support::server();
    let client = chargily_client(&format!("http://{}/chargily/test/api/v2", mock.addr()));
    let mut created = seven_customers(&client).await;
    let mut streamed: Vec<String> = client
        .list_customers_stream(&per_page(2))
        .unwrap()
        .collect()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(streamed.len(), 7, "{streamed:?}");
    created.sort();
    streamed.sort();
    assert_eq!(streamed, created);
    // From page 3 on: the last three pages' items only.
    let from_third = cg_ops::list_customers::Params {
        page: Some(3),
        ..per_page(2)
    };
    let rest = client
        .list_customers_stream(&from_third)
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(rest.len(), 3);
}

/// The mock's pages with Chargily's documented quirks put back: `last_page_url` as an
/// integer (the `products/prices.mdx` example) and next links on the wrong host
/// (`http://pay.chargily.local`, quirk 13) without `per_page` (Laravel leaves other
/// parameters out of its links). The stream still reads every page, with `per_page` kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chargily_list_with_the_documented_link_quirks_is_streamed_whole() {
    let mock = support::server();
    let client = chargily_client(&format!("http://{}/chargily/test/api/v2", mock.addr()));
    let created = seven_customers(&client).await;
    let mut pages = Vec::new();
    for n in 1..=4 {
        let params = cg_ops::list_customers::Params {
            page: Some(n),
            ..per_page(2)
        };
        let mut page = match client.list_customers(&params).await.unwrap().body_json() {
            Some(page) => page,
            None => panic!("page {n} has no body"),
        };
        page["last_page_url"] = serde_json::json!(4);
        if !page["next_page_url"].is_null() {
            page["next_page_url"] = serde_json::json!(format!(
                "http://pay.chargily.local/api/v2/customers?page={}",
                n + 1
            ));
        }
        pages.push(page.to_string());
    }
    let pages = Arc::new(pages);
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    let addr = support::serve_http(move |request| {
        let n: usize = request
            .path
            .split(['?', '&'])
            .find_map(|p| p.strip_prefix("page="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        seen.lock().unwrap().push(request.path.clone());
        let body = pages.get(n - 1).cloned().unwrap_or_default();
        (
            200,
            vec![("content-type".into(), "application/json".into())],
            body.into_bytes(),
        )
    });
    let quirky = chargily_client(&format!("http://{addr}"));
    let streamed = quirky
        .list_customers_stream(&per_page(2))
        .unwrap()
        .collect()
        .await
        .unwrap();
    assert_eq!(streamed.len(), 7);
    assert!(streamed.iter().all(|c| created.contains(&c.id)));
    assert_eq!(
        *log.lock().unwrap(),
        (1..=4)
            .map(|n| format!("/customers?per_page=2&page={n}"))
            .collect::<Vec<_>>()
    );
}

#[test]
fn replay_via_sdk_says_how_many_requests_the_typed_clients_built_and_why_not_the_others() {
    let out = support::replay(&["--via", "sdk", "--color", "never"], &[]);
    let (stdout, _) = support::exited(&out, 0);
    assert!(
        stdout.contains("requests: 343 of 444 built by the typed clients of the `generated` crate (--via sdk); 101 sent as recorded:\n  51 × a request to the mock's control API\n  26 × the body does not fit the typed client (at `.`, `items[0]`, `currency`, `locale` and 6 more)\n  14 × the body is not JSON\n"),
        "{stdout}"
    );
    // A raw run says nothing of the kind.
    let out = support::replay(&["--color", "never"], &[]);
    assert!(!support::text(&out.stdout).contains("typed clients"));
}
