//! The shipped recordings (`conformance/recordings/<api>/*.yaml`) cover both specs: every
//! operation with a success, every documented error path, and the flows the issue names
//! (pagination, discounts, envelopes, concurrency, rate limits...). Runs without a network or
//! a mock: it reads the recordings and the specs only. Every assertion says what is missing,
//! so a deleted or broken recording fails here with the gap it leaves.

use std::collections::{BTreeMap, BTreeSet};

use conformance::recording::{self, Auth, Destination, Exchange, Loaded};
use conformance::replay::{self, ApiContext};
use conformance::specs::Api;
use serde_json::Value;

/// Every (operation, status) the recordings must hold, per API: each documented status of
/// each operation, except those in [`NOT_RECORDED`].
const REQUIRED: &[(&str, &str, &[u16])] = &[
    ("chargily", "createCheckout", &[200, 400, 401, 422, 429]),
    ("chargily", "listCheckouts", &[200, 401, 422, 429]),
    ("chargily", "retrieveCheckout", &[200, 401, 404, 429]),
    ("chargily", "listCheckoutItems", &[200, 401, 404, 422, 429]),
    (
        "chargily",
        "expireCheckout",
        &[200, 400, 401, 403, 404, 429],
    ),
    ("chargily", "createCustomer", &[200, 400, 401, 422, 429]),
    ("chargily", "listCustomers", &[200, 401, 422, 429]),
    ("chargily", "retrieveCustomer", &[200, 401, 404, 429]),
    (
        "chargily",
        "updateCustomer",
        &[200, 400, 401, 404, 422, 429],
    ),
    ("chargily", "patchCustomer", &[200, 400, 401, 404, 422, 429]),
    ("chargily", "deleteCustomer", &[200, 401, 404, 429]),
    ("chargily", "createProduct", &[200, 400, 401, 422, 429]),
    ("chargily", "listProducts", &[200, 401, 422, 429]),
    ("chargily", "retrieveProduct", &[200, 401, 404, 429]),
    ("chargily", "updateProduct", &[200, 400, 401, 404, 422, 429]),
    ("chargily", "deleteProduct", &[200, 401, 404, 422, 429]),
    ("chargily", "listProductPrices", &[200, 401, 404, 422, 429]),
    ("chargily", "createPrice", &[200, 400, 401, 422, 429]),
    ("chargily", "listPrices", &[200, 401, 422, 429]),
    ("chargily", "retrievePrice", &[200, 401, 404, 429]),
    ("chargily", "updatePrice", &[200, 400, 401, 404, 422, 429]),
    ("chargily", "createPaymentLink", &[200, 400, 401, 422, 429]),
    ("chargily", "listPaymentLinks", &[200, 401, 422, 429]),
    ("chargily", "retrievePaymentLink", &[200, 401, 404, 429]),
    (
        "chargily",
        "updatePaymentLink",
        &[200, 400, 401, 404, 422, 429],
    ),
    (
        "chargily",
        "listPaymentLinkItems",
        &[200, 401, 404, 422, 429],
    ),
    ("chargily", "retrieveBalance", &[200, 401, 429]),
    (
        "recharge",
        "createCheckout",
        &[200, 400, 401, 402, 403, 415, 422, 426, 429, 500, 503],
    ),
    (
        "recharge",
        "retrieveCheckout",
        &[200, 401, 403, 404, 426, 429, 500, 503],
    ),
    (
        "recharge",
        "updateCheckout",
        &[
            200, 400, 401, 402, 403, 404, 409, 415, 422, 426, 429, 500, 503,
        ],
    ),
    (
        "recharge",
        "retrieveCheckoutShippingRates",
        &[200, 401, 403, 404, 426, 429, 500, 503],
    ),
    (
        "recharge",
        "chargeCheckout",
        &[
            200, 400, 401, 402, 403, 404, 409, 415, 422, 426, 429, 500, 503,
        ],
    ),
];

/// Documented statuses no recording holds, and why.
const NOT_RECORDED: &[(&str, &str, u16, &str)] = &[(
    "recharge",
    "createCheckout",
    201,
    "the reference mock answers create with 200 (as recorded in 2019); 201 is an inference \
     and fault injection only fakes error statuses",
)];

/// Fields a recorded 422 of the operation must name in its `errors` object: the field
/// errors the API documents, several distinct ones per resource.
const FIELD_ERRORS: &[(&str, &str, &[&str])] = &[
    (
        "chargily",
        "createCheckout",
        &[
            "success_url",
            "items",
            "amount",
            "currency",
            "items.0.price",
            "items.0.quantity",
            "locale",
            "payment_method",
            "customer_id",
            "percentage_discount",
            "amount_discount",
        ],
    ),
    (
        "chargily",
        "createCustomer",
        &["address.country", "name", "metadata"],
    ),
    ("chargily", "updateCustomer", &["email"]),
    ("chargily", "patchCustomer", &["email"]),
    ("chargily", "createProduct", &["name", "images"]),
    ("chargily", "deleteProduct", &["id"]),
    (
        "chargily",
        "createPrice",
        &["amount", "currency", "product_id"],
    ),
    ("chargily", "updatePrice", &["metadata"]),
    (
        "chargily",
        "createPaymentLink",
        &["name", "items", "items.0.price", "items.0.quantity"],
    ),
    (
        "chargily",
        "updatePaymentLink",
        &["items.0.price", "locale"],
    ),
    ("chargily", "listCheckouts", &["per_page"]),
    ("chargily", "listCustomers", &["page"]),
    (
        "recharge",
        "createCheckout",
        &[
            "line_items",
            "line_items.0.quantity",
            "line_items.0.variant_id",
            "line_items.0.price",
        ],
    ),
    (
        "recharge",
        "updateCheckout",
        &[
            "line_items.0.quantity",
            "shipping_line.price",
            "shipping_line.handle",
            "checkout",
        ],
    ),
    (
        "recharge",
        "chargeCheckout",
        &["payment_token", "payment_processor", "payment"],
    ),
];

struct Shipped {
    /// Per API, the loaded recordings.
    by_api: BTreeMap<Api, Vec<Loaded>>,
    contexts: BTreeMap<Api, ApiContext>,
}

impl Shipped {
    fn load() -> Self {
        let dir = replay::shipped_recordings_dir();
        let files = recording::discover(&dir).unwrap();
        let mut problems = Vec::new();
        let contexts: BTreeMap<Api, ApiContext> = Api::ALL
            .iter()
            .map(|&api| (api, ApiContext::new(api).unwrap()))
            .collect();
        let mut by_api: BTreeMap<Api, Vec<Loaded>> = BTreeMap::new();
        for file in files {
            match recording::load(&file) {
                Ok(loaded) => {
                    let ctx = &contexts[&loaded.api()];
                    problems.extend(
                        replay::validate(&loaded, ctx)
                            .iter()
                            .map(ToString::to_string),
                    );
                    by_api.entry(loaded.api()).or_default().push(loaded);
                }
                Err(e) => problems.push(e.to_string()),
            }
        }
        assert!(
            problems.is_empty(),
            "shipped recordings that do not load or validate:\n{}",
            problems.join("\n")
        );
        for api in Api::ALL {
            assert!(
                by_api.get(&api).is_some_and(|v| !v.is_empty()),
                "no shipped recordings for {} under {}",
                api.name(),
                dir.join(api.name()).display()
            );
        }
        Self { by_api, contexts }
    }

    fn recordings(&self, api: Api) -> &[Loaded] {
        self.by_api.get(&api).map_or(&[], Vec::as_slice)
    }

    /// Every exchange to the API (not to the control API), with its scenario.
    fn api_exchanges(&self, api: Api) -> impl Iterator<Item = (&Loaded, usize, &Exchange)> {
        self.recordings(api).iter().flat_map(|l| {
            l.recording
                .exchanges
                .iter()
                .enumerate()
                .filter(|(_, e)| e.request.to == Destination::Api)
                .map(move |(i, e)| (l, i, e))
        })
    }

    /// Exchanges of `operation` recorded with `status`.
    fn recorded(&self, api: Api, operation: &str, status: u16) -> Vec<(&Loaded, usize, &Exchange)> {
        self.api_exchanges(api)
            .filter(|(_, _, e)| {
                e.operation.as_deref() == Some(operation) && e.response.status == status
            })
            .collect()
    }

    /// The (operation, status) pairs recorded for `api`.
    fn covered(&self, api: Api) -> BTreeSet<(String, u16)> {
        self.api_exchanges(api)
            .filter_map(|(_, _, e)| Some((e.operation.clone()?, e.response.status)))
            .collect()
    }
}

fn api_named(name: &str) -> Api {
    Api::ALL
        .into_iter()
        .find(|a| a.name() == name)
        .unwrap_or_else(|| panic!("unknown API `{name}` in a table of this test"))
}

/// The recorded body's `errors` object keys (422 bodies of both APIs).
fn error_fields(e: &Exchange) -> Vec<String> {
    e.response
        .body
        .json
        .as_ref()
        .and_then(|b| b.get("errors"))
        .and_then(Value::as_object)
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default()
}

fn body_text(e: &Exchange) -> String {
    e.response
        .body
        .json
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default()
}

fn request_json(e: &Exchange) -> Option<&serde_json::Map<String, Value>> {
    e.request.body.json.as_ref().and_then(Value::as_object)
}

fn check(missing: &mut Vec<String>, ok: bool, what: impl FnOnce() -> String) {
    if !ok {
        missing.push(what());
    }
}

#[test]
fn every_recording_loads_validates_and_is_labelled() {
    let shipped = Shipped::load();
    let mut problems = Vec::new();
    for api in Api::ALL {
        for l in shipped.recordings(api) {
            let f = l.file.display();
            if l.recording
                .description
                .as_deref()
                .is_none_or(|d| d.trim().is_empty())
            {
                problems.push(format!("{f}: the scenario has no `description`"));
            }
            for (i, e) in l.recording.exchanges.iter().enumerate() {
                let at = l.error_at(i, "");
                if e.name.as_deref().is_none_or(|n| n.trim().is_empty()) {
                    problems.push(format!("{at}the exchange has no `name`"));
                }
                if e.flagged.is_some() {
                    problems.push(format!("{at}shipped recordings hold no flagged exchanges"));
                }
                if e.request.to == Destination::Api && e.operation.is_none() {
                    problems.push(format!(
                        "{at}{} {} names no `operation`",
                        e.request.method, e.request.path
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_operation_has_a_recorded_success() {
    let shipped = Shipped::load();
    let mut missing = Vec::new();
    for api in Api::ALL {
        let covered = shipped.covered(api);
        for op in shipped.contexts[&api].spec.operations() {
            let ok = covered
                .iter()
                .any(|(id, status)| id == &op.id && (200..300).contains(status));
            check(&mut missing, ok, || {
                format!(
                    "{} {} ({} {}) has no recorded 2xx exchange",
                    api.name(),
                    op.id,
                    op.method.to_uppercase(),
                    op.path
                )
            });
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_documented_status_is_recorded() {
    let shipped = Shipped::load();
    let mut missing = Vec::new();
    // The table.
    for &(api, op, statuses) in REQUIRED {
        let api = api_named(api);
        let covered = shipped.covered(api);
        for &status in statuses {
            check(
                &mut missing,
                covered.contains(&(op.to_string(), status)),
                || format!("{} {op} {status}: no recording holds it", api.name()),
            );
        }
    }
    // The table against the specs: every documented status is in it or explicitly exempt,
    // and nothing in it is undocumented.
    for api in Api::ALL {
        let ctx = &shipped.contexts[&api];
        for op in ctx.spec.operations() {
            let responses = ctx
                .spec
                .root()
                .pointer(&format!("{}/responses", op.pointer))
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            let documented: BTreeSet<u16> =
                responses.keys().filter_map(|k| k.parse().ok()).collect();
            let required: BTreeSet<u16> = REQUIRED
                .iter()
                .filter(|(a, o, _)| *a == api.name() && *o == op.id)
                .flat_map(|(_, _, s)| s.iter().copied())
                .collect();
            let exempt: BTreeSet<u16> = NOT_RECORDED
                .iter()
                .filter(|(a, o, _, _)| *a == api.name() && *o == op.id)
                .map(|(_, _, s, _)| *s)
                .collect();
            for status in &documented {
                check(
                    &mut missing,
                    required.contains(status) || exempt.contains(status),
                    || {
                        format!(
                            "{} {} {status} is documented in {} but neither required by this \
                             test nor listed in NOT_RECORDED",
                            api.name(),
                            op.id,
                            api.spec_path()
                        )
                    },
                );
            }
            for status in required.union(&exempt) {
                check(&mut missing, documented.contains(status), || {
                    format!(
                        "{} {} {status} is in this test's tables but not documented in {}",
                        api.name(),
                        op.id,
                        api.spec_path()
                    )
                });
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing coverage:\n{}",
        missing.join("\n")
    );
}

#[test]
fn field_errors_name_the_offending_fields() {
    let shipped = Shipped::load();
    let mut missing = Vec::new();
    for &(api, op, fields) in FIELD_ERRORS {
        let api = api_named(api);
        let named: BTreeSet<String> = shipped
            .recorded(api, op, 422)
            .iter()
            .flat_map(|(_, _, e)| error_fields(e))
            .collect();
        for field in fields {
            check(&mut missing, named.contains(*field), || {
                format!(
                    "{} {op}: no recorded 422 names the field `{field}` in `errors` (named: {named:?})",
                    api.name()
                )
            });
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn error_paths_are_exercised_the_documented_way() {
    let shipped = Shipped::load();
    let mut missing = Vec::new();
    for api in Api::ALL {
        // 401 for wrong and for missing credentials.
        for (auth, label) in [(Auth::Invalid, "wrong"), (Auth::None, "missing")] {
            let ok = shipped
                .api_exchanges(api)
                .any(|(_, _, e)| e.request.auth == auth && e.response.status == 401);
            check(&mut missing, ok, || {
                format!("{}: no 401 recorded for {label} credentials", api.name())
            });
        }
        // 400 for malformed JSON: a `text` body with a JSON content type that does not parse.
        let ok = shipped.api_exchanges(api).any(|(_, _, e)| {
            e.response.status == 400
                && e.request
                    .headers
                    .get("content-type")
                    .is_some_and(|c| c.contains("json"))
                && e.request
                    .body
                    .text
                    .as_deref()
                    .is_some_and(|t| serde_json::from_str::<Value>(t).is_err())
        });
        check(&mut missing, ok, || {
            format!("{}: no 400 recorded for a malformed JSON body", api.name())
        });
        // 404 for unknown ids, on every operation addressed by id.
        for op in shipped.contexts[&api].spec.operations() {
            if op.path.contains('{') {
                check(
                    &mut missing,
                    !shipped.recorded(api, &op.id, 404).is_empty(),
                    || format!("{} {}: no 404 for an unknown id", api.name(), op.id),
                );
            }
        }
    }

    let chargily = Api::Chargily;
    // Expire: 400 once expired; 403 once paid through the control API.
    let ok = shipped
        .recorded(chargily, "expireCheckout", 403)
        .iter()
        .any(|(l, i, _)| {
            l.recording.exchanges[..*i]
                .iter()
                .any(|p| p.request.to == Destination::Control && p.request.path.ends_with("/pay"))
        });
    check(&mut missing, ok, || {
        "chargily expireCheckout 403: no scenario pays the checkout through the control API \
         (`to: control`, .../pay) before expiring it"
            .into()
    });
    check(
        &mut missing,
        shipped
            .recorded(chargily, "expireCheckout", 400)
            .iter()
            .any(|(l, i, _)| {
                l.recording.exchanges[..*i].iter().any(|p| {
                    p.operation.as_deref() == Some("expireCheckout") && p.response.status == 200
                })
            }),
        || "chargily expireCheckout 400: no scenario expires a checkout twice".into(),
    );
    // Chargily 429 through fault injection.
    let ok = shipped
        .recorded(chargily, "retrieveBalance", 429)
        .iter()
        .any(|(l, i, _)| {
            l.recording.exchanges[..*i].iter().any(|p| {
                p.request.to == Destination::Control
                    && p.request.path == "/faults"
                    && request_json(p).is_some_and(|b| b.get("status") == Some(&Value::from(429)))
            })
        });
    check(&mut missing, ok, || {
        "chargily 429: no rate limit injected through the control API (POST /faults) before a call"
            .into()
    });
    // Items-based and amount-based checkouts; both kinds of discount.
    for (key, what) in [
        ("items", "an items-based checkout"),
        ("amount", "an amount-based checkout"),
        (
            "percentage_discount",
            "a checkout with a percentage discount",
        ),
        ("amount_discount", "a checkout with an amount discount"),
    ] {
        let ok = shipped
            .recorded(chargily, "createCheckout", 200)
            .iter()
            .any(|(_, _, e)| request_json(e).is_some_and(|b| b.contains_key(key)));
        check(&mut missing, ok, || {
            format!("chargily createCheckout: no 200 for {what}")
        });
    }
    // Pagination across several pages: page 1, 2 and the last of a list with 3+ pages.
    for op in ["listCheckouts", "listCustomers"] {
        let pages: BTreeSet<(i64, i64)> = shipped
            .recorded(chargily, op, 200)
            .iter()
            .filter(|(_, _, e)| {
                e.request
                    .query
                    .as_deref()
                    .is_some_and(|q| q.contains("per_page="))
            })
            .filter_map(|(_, _, e)| {
                let b = e.response.body.json.as_ref()?;
                Some((
                    b.get("current_page")?.as_i64()?,
                    b.get("last_page")?.as_i64()?,
                ))
            })
            .collect();
        let has = |n: i64| pages.iter().any(|(c, last)| *c == n && *last >= 3);
        let last = pages.iter().any(|(c, last)| c == last && *last >= 3);
        check(&mut missing, has(1) && has(2) && last, || {
            format!(
                "chargily {op}: pagination needs pages 1, 2 and the last of a list of 3+ pages \
                 with per_page (recorded (current, last): {pages:?})"
            )
        });
    }

    let recharge = Api::Recharge;
    // Both create envelopes, and both charge envelopes.
    for (op, key) in [
        ("createCheckout", "checkout"),
        ("chargeCheckout", "checkout_charge"),
    ] {
        for wrapped in [true, false] {
            let ok = shipped
                .recorded(recharge, op, 200)
                .iter()
                .any(|(_, _, e)| request_json(e).is_some_and(|b| b.contains_key(key) == wrapped));
            check(&mut missing, ok, || {
                format!(
                    "recharge {op}: no 200 for the {} envelope",
                    if wrapped { "wrapped" } else { "bare" }
                )
            });
        }
    }
    // Shipping rates offered.
    let ok = shipped
        .recorded(recharge, "retrieveCheckoutShippingRates", 200)
        .iter()
        .any(|(_, _, e)| {
            e.response
                .body
                .json
                .as_ref()
                .and_then(|b| b.get("shipping_rates"))
                .and_then(Value::as_array)
                .is_some_and(|r| !r.is_empty())
        });
    check(&mut missing, ok, || {
        "recharge retrieveCheckoutShippingRates: no 200 with a non-empty list of rates".into()
    });
    // Double charge; declined payment tokens.
    let charged_422: Vec<String> = shipped
        .recorded(recharge, "chargeCheckout", 422)
        .iter()
        .map(|(_, _, e)| body_text(e))
        .collect();
    for (needle, what) in [
        ("Checkout has already been processed.", "a double charge"),
        ("declined", "a declined payment token"),
        ("more than once", "a reused single-use payment token"),
    ] {
        check(
            &mut missing,
            charged_422.iter().any(|b| b.contains(needle)),
            || format!("recharge chargeCheckout 422: nothing recorded for {what} (`{needle}`)"),
        );
    }
    // Concurrent charge: one group recorded with 200 and 409.
    let ok = shipped.recordings(recharge).iter().any(|l| {
        let mut groups: BTreeMap<&str, BTreeSet<u16>> = BTreeMap::new();
        for e in &l.recording.exchanges {
            if let (Some(label), Some("chargeCheckout")) = (&e.concurrent, e.operation.as_deref()) {
                groups.entry(label).or_default().insert(e.response.status);
            }
        }
        groups
            .values()
            .any(|s| s.contains(&200) && s.contains(&409))
    });
    check(&mut missing, ok, || {
        "recharge chargeCheckout: no `concurrent` group of charges recorded as 200 and 409".into()
    });
    // Rate limit: an exclusive scenario that repeats a call until 429.
    let ok = shipped.recordings(recharge).iter().any(|l| {
        l.recording.exclusive
            && l.recording.exchanges.iter().any(|e| {
                e.repeat.is_some_and(|r| r.until_status == 429) && e.response.status == 429
            })
    });
    check(&mut missing, ok, || {
        "recharge 429: no `exclusive` scenario with `repeat: {until_status: 429}` recorded as 429"
            .into()
    });
    // Invalid version.
    let ok = shipped.api_exchanges(recharge).any(|(_, _, e)| {
        e.response.status == 426
            && e.request
                .headers
                .get("x-recharge-version")
                .is_some_and(|v| v != "2021-01")
    });
    check(&mut missing, ok, || {
        "recharge 426: no exchange with an invalid X-Recharge-Version".into()
    });

    assert!(
        missing.is_empty(),
        "missing from the shipped recordings:\n{}",
        missing.join("\n")
    );
}
