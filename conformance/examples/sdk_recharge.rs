//! The ReCharge Checkouts SDK (`generated::recharge`) against the reference mock as a test
//! double: create a checkout and read it back. (ReCharge has no list endpoint for checkouts,
//! so nothing to stream; the client paces itself by the `X-Recharge-Limit` bucket the spec
//! declares.)
//!
//! ```sh
//! cargo run -p conformance --example sdk_recharge
//! ```

use conformance::mock::{MockConfig, MockServer};
use generated::recharge::client::{Client, hyper_transport::HyperTransport};
use generated::recharge::{self, operations as ops};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The mock's API token is `conformance`.
    let mock = MockServer::start(MockConfig::for_tests())?;
    let mut client = Client::new(mock.recharge_url(), HyperTransport::new()?);
    client.credentials.api_key = Some("conformance".into());
    let version = recharge::CreateCheckoutParamsXRechargeVersion::V202101;

    let line_items = vec![recharge::LineItemInput::new(31258201636931, 2)];
    let body =
        recharge::CheckoutCreateRequest::CheckoutCreate(recharge::CheckoutCreate::new(line_items));
    let params = ops::create_checkout::Params::new(version);
    let token = match client.create_checkout(&params, &body).await? {
        ops::create_checkout::Response::Status200(created)
        | ops::create_checkout::Response::Status201(created) => created.checkout.token,
        other => return Err(format!("unexpected answer: {other:?}").into()),
    };
    println!("created checkout {token}");

    let params = ops::retrieve_checkout::Params::new(token.clone(), version);
    match client.retrieve_checkout(&params).await? {
        ops::retrieve_checkout::Response::Status200(read) => {
            println!("read back: {} line item(s)", read.checkout.line_items.len());
        }
        other => return Err(format!("unexpected answer: {other:?}").into()),
    }
    Ok(())
}
