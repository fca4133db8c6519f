//! The two checkout specs, embedded so the binary works from any directory with no setup.

use std::sync::{Arc, OnceLock};

/// One of the APIs this tool knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, clap::ValueEnum, serde::Serialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Api {
    /// Chargily Pay V2 (`spec/chargily-pay-v2.yaml`).
    Chargily,
    /// ReCharge Checkouts, API version 2021-01 (`spec/recharge-2021-01.yaml`).
    Recharge,
}

impl Api {
    pub const ALL: [Api; 2] = [Api::Chargily, Api::Recharge];

    /// The spec's path relative to the workspace root, used in messages.
    pub fn spec_path(self) -> &'static str {
        match self {
            Api::Chargily => "spec/chargily-pay-v2.yaml",
            Api::Recharge => "spec/recharge-2021-01.yaml",
        }
    }

    /// The spec's text, as compiled into this binary.
    pub fn spec_text(self) -> &'static str {
        match self {
            Api::Chargily => include_str!("../../spec/chargily-pay-v2.yaml"),
            Api::Recharge => include_str!("../../spec/recharge-2021-01.yaml"),
        }
    }

    /// The name used on the command line, in recordings and in folder names.
    pub fn name(self) -> &'static str {
        match self {
            Api::Chargily => "chargily",
            Api::Recharge => "recharge",
        }
    }

    /// The header a webhook's signature travels in (`signature`, `X-Recharge-Hmac-Sha256`).
    pub fn webhook_signature_header(self) -> &'static str {
        match self {
            Api::Chargily => generated::webhooks::chargily::SIGNATURE_HEADER,
            Api::Recharge => generated::webhooks::recharge::SIGNATURE_HEADER,
        }
    }

    /// A webhook body's signature as the vendor makes it: Chargily's hex HMAC-SHA256 keyed
    /// with the API secret key, ReCharge's hex SHA-256 of the client secret and the body.
    pub fn sign_webhook(self, secret: &[u8], body: &[u8]) -> String {
        match self {
            Api::Chargily => generated::webhooks::chargily::sign(secret, body),
            Api::Recharge => generated::webhooks::recharge::sign(secret, body),
        }
    }

    /// The spec's callback operation for the webhooks the vendor sends, and the pointer of the
    /// schema of its body.
    pub fn webhook_callback(self) -> (&'static str, &'static str) {
        match self {
            Api::Chargily => ("receiveCheckoutEvent", "/components/schemas/WebhookEvent"),
            Api::Recharge => (
                "receiveCheckoutWebhook",
                "/components/schemas/CheckoutResponse",
            ),
        }
    }

    /// The parsed spec.
    pub fn document(self) -> Result<oas::Document, oas::LoadError> {
        oas::Document::parse(self.spec_path(), self.spec_text(), false)
    }

    /// The embedded spec prepared for checking, parsed once per process and shared: every
    /// embedded mock (one per scenario in a replay) and every replay context use the same one,
    /// so each schema's validator is compiled once per process, not once per mock.
    pub fn spec(self) -> Result<Arc<oas::check::Spec>, String> {
        static SPECS: [OnceLock<Result<Arc<oas::check::Spec>, String>>; 2] =
            [OnceLock::new(), OnceLock::new()];
        let slot = match self {
            Api::Chargily => &SPECS[0],
            Api::Recharge => &SPECS[1],
        };
        slot.get_or_init(|| {
            self.document()
                .map(|d| Arc::new(oas::check::Spec::new(d.root)))
                .map_err(|e| e.to_string())
        })
        .clone()
    }
}
