//! Cargo features per tag (`Features::PerTag`): what each item is compiled under, and that a
//! module compiles without a warning under every set of features (a fixture), or with no
//! feature, each feature alone and every feature (real tagged specs of the corpus).

use std::path::Path;

use crate::corpus::{
    corpus_dir, scratch_cargo, scratch_crate, scratch_workspace, write_if_changed,
};

const FIXTURE: &str = "tests/fixtures/features-client-3-1.yaml";

fn per_tag(prefix: &str) -> codegen::Settings {
    codegen::Settings {
        client: codegen::ClientCode::Portable,
        features: codegen::Features::PerTag {
            prefix: prefix.to_owned(),
        },
        server: true,
        ..codegen::Settings::default()
    }
}

fn generate(path: &Path, settings: &codegen::Settings) -> (String, Vec<String>) {
    let name = path.display().to_string();
    let (text, json) = codegen::read_spec_text(path, &name).unwrap();
    let code = codegen::generate(&name, &text, json, settings).unwrap();
    let features = codegen::cargo_features(&name, &text, json, settings).unwrap();
    (code, features)
}

/// The `cfg` predicate of the item whose line is exactly `head`, when its first attribute is
/// one; panics when there is no such line.
fn gate_of(code: &str, head: &str) -> Option<String> {
    let lines: Vec<&str> = code.lines().collect();
    let at = lines
        .iter()
        .position(|l| *l == head)
        .unwrap_or_else(|| panic!("no line {head:?}"));
    // Back to the end of the item before (or the start of the enclosing module).
    let mut start = at;
    while start > 0 {
        let l = lines[start - 1].trim();
        if !l.starts_with("///") && (l.ends_with('}') || l.ends_with(';') || l.ends_with('{')) {
            break;
        }
        start -= 1;
    }
    let first = lines[start].trim();
    first
        .strip_prefix("#[cfg(")
        .and_then(|r| r.strip_suffix(")]"))
        .map(str::to_owned)
}

#[test]
fn each_item_is_compiled_under_the_features_of_the_operations_that_reach_it() {
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let (code, features) = generate(&spec, &per_tag(""));
    assert_eq!(features, ["customers", "orders", "stores", "webhooks"]);
    assert!(
        code.contains(
            "// Cargo features (declare each in the crate's [features]):\n// customers orders stores webhooks\n\n"
        ),
        "the header lists the features"
    );
    let gate = |head: &str| gate_of(&code, head);
    let orders = Some("feature = \"orders\"".to_owned());
    // Reached by one tag: its declaration and each of its impls.
    assert_eq!(gate("pub struct Order {"), orders);
    assert_eq!(gate("impl Order {"), orders);
    assert_eq!(gate("pub enum OrderStatus {"), orders);
    assert_eq!(gate("impl std::str::FromStr for OrderStatus {"), orders);
    // The first tag decides: `createOrder` is tagged Orders, then Customers.
    assert_eq!(gate("    pub mod create_order {"), orders);
    assert_eq!(gate("pub struct CreateOrderRequest {"), orders);
    // Untagged: its resource, after the `v1` all paths share.
    assert_eq!(
        gate("    pub mod get_store {"),
        Some("feature = \"stores\"".to_owned())
    );
    // Webhooks: their module and payloads.
    assert_eq!(
        gate("pub mod webhooks {"),
        Some("feature = \"webhooks\"".to_owned())
    );
    assert_eq!(
        gate("pub struct Shipment {"),
        Some("feature = \"webhooks\"".to_owned())
    );
    // Reached by some features: any of them.
    assert_eq!(
        gate("pub struct Error {"),
        Some("any(feature = \"customers\", feature = \"orders\", feature = \"stores\")".to_owned())
    );
    // Reached by every feature: always.
    assert_eq!(gate("pub struct Stamp {"), None);
    // Reached by no operation: always, and so is what it mentions.
    assert_eq!(gate("pub struct Report {"), None);
    assert_eq!(gate("pub struct Customer {"), None);
    assert_eq!(gate("pub struct Money {"), None);
    // The dispatch functions name a gated operation or schema only under its gate.
    assert!(
        code.contains("            #[cfg(feature = \"orders\")]\n            \"listOrders\" => {")
    );
    assert!(code.contains(
        "            #[cfg(feature = \"orders\")]\n            \"Order\" => Some(super::support::round_trip::<super::Order>(json)),"
    ));
    assert!(code.contains(
        "            \"Report\" => Some(super::support::round_trip::<super::Report>(json)),"
    ));

    // A prefix keeps the features apart from the crate's own.
    let (code, features) = generate(&spec, &per_tag("api-"));
    assert_eq!(
        features,
        ["api-customers", "api-orders", "api-stores", "api-webhooks"]
    );
    assert_eq!(
        gate_of(&code, "pub struct Order {"),
        Some("feature = \"api-orders\"".to_owned())
    );

    // Without the setting: no gate at all, and no features.
    let (code, features) = generate(
        &spec,
        &codegen::Settings {
            client: codegen::ClientCode::Portable,
            ..codegen::Settings::default()
        },
    );
    assert!(features.is_empty());
    assert!(!code.contains("#[cfg("), "an ungated module carries a cfg");
    assert!(!code.contains("// Cargo features"));
}

/// Real specs with tags (and what the fixture's code calls under each feature).
const TAGGED_CORPUS_SPECS: &[&str] = &[
    "paypal-payments_payment_v1.json",
    "apisguru-brexio-1.0.0.yaml",
];

/// Code using the fixture's module: what each feature brings must be there under it, and what
/// no operation reaches must be there always.
const FIXTURE_USE: &str = r#"
pub fn always() -> (api::Report, api::Money) {
    (api::Report::new(), api::Money::new(1, api::MoneyCurrency::Dzd))
}
#[cfg(feature = "orders")]
pub fn orders() -> (&'static str, api::Order) {
    let total = api::Money::new(1, api::MoneyCurrency::Usd);
    (api::operations::list_orders::PATH, api::Order::new("o".into(), total))
}
#[cfg(feature = "customers")]
pub fn customers() -> &'static str {
    api::operations::get_customer::PATH
}
#[cfg(feature = "stores")]
pub fn stores() -> &'static str {
    api::operations::get_store::PATH
}
#[cfg(feature = "webhooks")]
pub fn webhooks() -> &'static [&'static str] {
    api::webhooks::NAMES
}
"#;

#[test]
fn each_feature_alone_and_all_together_compile_without_a_warning() {
    let mut modules: Vec<(String, String, Vec<String>, &str)> = Vec::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join(FIXTURE);
    let (code, features) = generate(&fixture, &per_tag(""));
    modules.push(("features_fixture".into(), code, features, FIXTURE_USE));
    let corpus = corpus_dir();
    for file in TAGGED_CORPUS_SPECS {
        let path = corpus.join(file);
        if !path.is_file() {
            println!(
                "features: {file} skipped: no corpus at {}",
                corpus.display()
            );
            continue;
        }
        let (code, features) = generate(&path, &per_tag(""));
        assert!(features.len() >= 4, "{file}: {features:?}");
        modules.push((crate::corpus::module_name(file), code, features, ""));
    }

    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let root = tmp.join("codegen-features");
    // The corpus test's target directory: the dependencies are built once for both.
    let target = tmp.join("codegen-corpus-target");
    let names: Vec<&str> = modules.iter().map(|(m, ..)| m.as_str()).collect();
    scratch_workspace(
        &root,
        &names,
        "codegen/tests/it/features.rs: a crate per spec, features per tag",
    );
    for (module, code, features, uses) in &modules {
        let dir = scratch_crate(&root, module, features);
        write_if_changed(
            &dir.join("src/lib.rs"),
            &format!(
                "#[rustfmt::skip]\n#[allow(deprecated, clippy::all, clippy::pedantic, rustdoc::all)]\nmod api;\n{uses}"
            ),
        );
        write_if_changed(&dir.join("src/api.rs"), code);
    }
    let mut checked = 0;
    for (module, _, features, _) in &modules {
        // The fixture: every set of features. A real spec: none, each alone, all.
        let sets: Vec<Vec<&str>> = if module == "features_fixture" {
            (0..1_usize << features.len())
                .map(|bits| {
                    (features.iter().enumerate())
                        .filter(|(i, _)| bits & (1 << i) != 0)
                        .map(|(_, f)| f.as_str())
                        .collect()
                })
                .collect()
        } else {
            let mut sets = vec![Vec::new()];
            sets.extend(features.iter().map(|f| vec![f.as_str()]));
            sets.push(features.iter().map(String::as_str).collect());
            sets
        };
        for set in sets {
            let joined = set.join(",");
            let mut args = vec![
                "check",
                "--offline",
                "--lib",
                "-p",
                module,
                "--message-format",
                "short",
            ];
            if !set.is_empty() {
                args.extend(["--features", &joined]);
            }
            let out = scratch_cargo(&root, &target, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            let problems: Vec<&str> = stderr
                .lines()
                .filter(|l| l.contains(": warning:") || l.contains(": error"))
                .collect();
            assert!(
                out.status.success() && problems.is_empty(),
                "{module} with features [{joined}]:\n{}",
                if problems.is_empty() {
                    stderr.to_string()
                } else {
                    problems.join("\n")
                }
            );
            checked += 1;
        }
    }
    println!(
        "features: {} modules, {checked} feature sets compiled without a warning",
        modules.len()
    );
}
