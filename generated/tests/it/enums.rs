//! String enums parse from their wire values (`FromStr`) exactly as they deserialize, print
//! back the same (`as_str`, `Display`), and order by declaration (`Ord`).

use std::str::FromStr;

use generated::chargily::{CheckoutStatus, Locale, LocaleInput};

/// `FromStr` and serde agree on `value`, and the parsed value prints back as `value`.
fn agrees<T>(value: &str) -> T
where
    T: FromStr + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug + std::fmt::Display,
    T::Err: std::fmt::Debug,
{
    let parsed: T = value.parse().unwrap();
    let decoded: T = serde_json::from_value(serde_json::Value::String(value.into())).unwrap();
    assert_eq!(parsed, decoded, "{value}");
    assert_eq!(parsed.to_string(), value);
    parsed
}

#[test]
fn closed_enums_parse_their_values_and_refuse_others() {
    for value in ["ar", "en", "fr"] {
        agrees::<LocaleInput>(value);
    }
    let error = "kab".parse::<LocaleInput>().unwrap_err();
    assert_eq!(error.to_string(), "`kab` is not a LocaleInput value");
    assert!(serde_json::from_str::<LocaleInput>("\"kab\"").is_err());
    // Exact: no case folding, no trimming.
    assert!("AR".parse::<LocaleInput>().is_err());
    assert!(" ar".parse::<LocaleInput>().is_err());
}

#[test]
fn open_enums_keep_unknown_values_as_sent() {
    assert_eq!(agrees::<Locale>("ar"), Locale::Ar);
    let unknown = agrees::<Locale>("kab");
    assert_eq!(unknown, Locale::Unknown("kab".into()));
    assert_eq!(unknown.as_str(), "kab");
    for value in [
        "pending",
        "paid",
        "failed",
        "canceled",
        "expired",
        "processing",
    ] {
        assert_eq!(agrees::<CheckoutStatus>(value).as_str(), value);
    }
}

#[test]
fn enums_order_by_declaration_and_key_ordered_maps() {
    // The spec lists a checkout's statuses in lifecycle order, not alphabetically; an
    // unknown value sorts after every declared one.
    let mut statuses: Vec<CheckoutStatus> = ["zzz", "expired", "paid", "canceled", "pending"]
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    statuses.sort();
    let sorted: Vec<&str> = statuses.iter().map(CheckoutStatus::as_str).collect();
    assert_eq!(sorted, ["pending", "paid", "canceled", "expired", "zzz"]);
    let mut alphabetical = sorted[..4].to_vec();
    alphabetical.sort_unstable();
    assert_ne!(
        alphabetical,
        sorted[..4],
        "the check must not pass by alphabet alone"
    );
    let set: std::collections::BTreeSet<Locale> = ["fr", "zz", "ar"]
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(set.len(), 3);
    assert_eq!(set.first(), Some(&Locale::Ar));
}
