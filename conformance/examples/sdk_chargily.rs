//! The Chargily Pay SDK (`generated::chargily`) against the reference mock as a test double:
//! create checkouts, read one back, and stream every page of the checkout list.
//!
//! ```sh
//! cargo run -p conformance --example sdk_chargily
//! ```
//!
//! Against the real API, replace the mock's URL with one of `client::SERVERS` and the key with
//! yours (`test_sk_…` in test mode).

use conformance::mock::{MockConfig, MockServer};
use generated::chargily::client::{Client, hyper_transport::HyperTransport};
use generated::chargily::{self, operations as ops};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The mock stops when `mock` is dropped. Its test-mode key is `test_sk_conformance`.
    let mock = MockServer::start(MockConfig::for_tests())?;
    let mut client = Client::new(mock.chargily_test_url(), HyperTransport::new()?);
    client.credentials.bearer_auth = Some("test_sk_conformance".into());

    let mut created = Vec::new();
    for amount in [2500, 4000, 900] {
        let body = chargily::CreateCheckoutRequest {
            amount: Some(amount),
            currency: Some(chargily::CurrencyInput::Dzd),
            ..chargily::CreateCheckoutRequest::new("https://shop.example/thanks".into())
        };
        match client.create_checkout(&body).await? {
            ops::create_checkout::Response::Status200(checkout) => created.push(checkout),
            other => return Err(format!("unexpected answer: {other:?}").into()),
        }
    }
    let checkout = &created[0];
    println!("created {} for {} DZD", checkout.id, checkout.amount);

    let params = ops::retrieve_checkout::Params::new(checkout.id.clone());
    match client.retrieve_checkout(&params).await? {
        ops::retrieve_checkout::Response::Status200(read) => {
            println!("read back: {:?}", read.status)
        }
        other => return Err(format!("unexpected answer: {other:?}").into()),
    }

    // Every checkout, two per page: the stream follows `next_page_url` page after page.
    let params = ops::list_checkouts::Params {
        per_page: Some(2),
        ..ops::list_checkouts::Params::new()
    };
    let mut pages = client.list_checkouts_stream(&params)?;
    while let Some(checkout) = pages.next().await {
        let checkout = checkout?;
        println!("listed {} ({:?})", checkout.id, checkout.status);
    }
    Ok(())
}
