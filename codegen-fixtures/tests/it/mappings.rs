//! What each golden fixture promises, checked on the compiled output.

use serde_json::{Value, json};

/// Decodes `json` as `T` and encodes it back.
fn trip<T: serde::de::DeserializeOwned + serde::Serialize>(json: Value) -> Result<Value, String> {
    let t: T = serde_path_to_error::deserialize(&json)
        .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
    Ok(serde_json::to_value(&t).unwrap())
}

fn err<T: serde::de::DeserializeOwned + serde::Serialize>(json: Value) -> String {
    trip::<T>(json).unwrap_err()
}

#[test]
#[allow(deprecated)] // `label` is deprecated in the fixture: that is what it shows
fn structs_keep_declaration_order_and_derive_honestly() {
    use codegen_fixtures::structs::{Filter, Point, Tag};
    // Declaration order: y before x, as the spec lists them.
    let p = Point {
        y: 1.5,
        x: 2.0,
        label: None,
    };
    assert_eq!(serde_json::to_string(&p).unwrap(), r#"{"y":1.5,"x":2.0}"#);
    // Tag has no float: Eq + Hash. Filter has only optional fields: Default.
    fn eq_hash<T: Eq + std::hash::Hash>() {}
    eq_hash::<Tag>();
    let f = Filter::default();
    assert_eq!(serde_json::to_value(&f).unwrap(), json!({}));
}

#[test]
fn four_presence_states_round_trip_as_they_came() {
    use codegen_fixtures::presence::{Presence, support::OptionalNullable};
    for v in [
        json!({"required": "a", "required_nullable": null}),
        json!({"required": "a", "required_nullable": "b", "optional": "c", "optional_nullable": null}),
        json!({"required": "a", "required_nullable": "b", "optional_nullable": "d", "nullable_ref": null}),
        json!({"required": "a", "required_nullable": null, "nullable_ref": {"v": 1}, "list_of_nullable": [1, null]}),
    ] {
        assert_eq!(trip::<Presence>(v.clone()).unwrap(), v);
    }
    let p: Presence = serde_json::from_value(
        json!({"required": "a", "required_nullable": null, "optional_nullable": null}),
    )
    .unwrap();
    assert_eq!(p.optional_nullable, OptionalNullable::Null);
    assert_eq!(p.nullable_ref, OptionalNullable::Absent);
    // Required+nullable must be present; optional must not be null; required must not be null.
    assert!(
        err::<Presence>(json!({"required": "a"})).contains("missing field `required_nullable`")
    );
    assert!(
        err::<Presence>(json!({"required": "a", "required_nullable": null, "optional": null}))
            .starts_with("optional:")
    );
    assert!(
        err::<Presence>(json!({"required": null, "required_nullable": null}))
            .starts_with("required:")
    );
}

#[test]
fn string_enums_rename_and_reject_unknown_values() {
    use codegen_fixtures::enums::{Holder, Level, Status};
    assert_eq!(
        serde_json::to_value(Status::CheckoutPaid).unwrap(),
        json!("checkout.paid")
    );
    assert_eq!(serde_json::to_value(Status::Empty).unwrap(), json!(""));
    assert_eq!(serde_json::to_value(Status::V2fa).unwrap(), json!("2fa"));
    assert_eq!(
        serde_json::to_value(Status::SelfValue).unwrap(),
        json!("Self")
    );
    // `pending_review` and `PendingReview` collide after case conversion: both kept apart.
    assert_eq!(
        serde_json::to_value(Status::PendingReview).unwrap(),
        json!("pending_review")
    );
    assert_eq!(
        serde_json::to_value(Status::PendingReview2).unwrap(),
        json!("PendingReview")
    );
    assert_eq!(Status::Paid.as_str(), "paid");
    let e = err::<Holder>(json!({"status": "refunded", "maybe": null}));
    assert!(
        e.starts_with("status:") && e.contains("unknown variant `refunded`"),
        "{e}"
    );
    // Integer enums through i64, unknown integers rejected.
    assert_eq!(serde_json::to_value(Level::Minus1).unwrap(), json!(-1));
    assert_eq!(trip::<Level>(json!(10)).unwrap(), json!(10));
    assert!(err::<Level>(json!(2)).contains("2 is not one of 0, 1, -1, 10"));
    // `null` in the enum makes the position nullable.
    assert_eq!(
        trip::<Holder>(json!({"status": "paid", "maybe": null})).unwrap(),
        json!({"status": "paid", "maybe": null})
    );
}

#[test]
fn catch_all_enums_keep_unknown_values() {
    use codegen_fixtures::enum_catch_all::Event;
    let e: Event = serde_json::from_value(json!("checkout.refunded")).unwrap();
    assert_eq!(e, Event::Unknown("checkout.refunded".into()));
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        json!("checkout.refunded")
    );
    assert_eq!(
        serde_json::from_value::<Event>(json!("checkout.paid")).unwrap(),
        Event::CheckoutPaid
    );
}

#[test]
fn extensible_enums_keep_unknown_values_under_the_default_policy() {
    use codegen_fixtures::extensible_enum::{ClosedWins, Holder, MaybeLocale, Status};
    // Known values become variants (duplicates once, the integer ignored).
    assert_eq!(
        serde_json::from_value::<Status>(json!("paid")).unwrap(),
        Status::Paid
    );
    let unknown: Status = serde_json::from_value(json!("refunded")).unwrap();
    assert_eq!(unknown, Status::Unknown("refunded".into()));
    assert_eq!(unknown.as_str(), "refunded");
    assert_eq!(serde_json::to_value(&unknown).unwrap(), json!("refunded"));
    // Nullable: `null` is `None`, an unknown value is kept.
    let h: Holder = serde_json::from_value(json!({"status": "pending", "locale": null})).unwrap();
    assert_eq!(h.status, Status::Pending);
    let h: Holder = serde_json::from_value(json!({"status": "x", "locale": "kab"})).unwrap();
    assert_eq!(
        h.locale,
        codegen_fixtures::extensible_enum::support::OptionalNullable::Value(MaybeLocale::Unknown(
            "kab".into()
        ))
    );
    // A closed `enum` beside the open list stays closed.
    assert!(serde_json::from_value::<ClosedWins>(json!("c")).is_err());
    // Not a list: a plain string.
    let s: codegen_fixtures::extensible_enum::NotAList = "anything".to_owned();
    assert_eq!(s, "anything");
}

#[test]
fn untagged_unions_pick_the_right_variant() {
    use codegen_fixtures::unions::{Flag, FlagInteger, Loose, Metadata, Request, ShippingAddress};
    assert_eq!(
        serde_json::from_value::<Flag>(json!(true)).unwrap(),
        Flag::Boolean(true)
    );
    assert_eq!(
        serde_json::from_value::<Flag>(json!(1)).unwrap(),
        Flag::Integer(FlagInteger::V1)
    );
    assert!(serde_json::from_value::<Flag>(json!(2)).is_err());
    assert!(matches!(
        serde_json::from_value::<ShippingAddress>(json!("Algiers")).unwrap(),
        ShippingAddress::String(_)
    ));
    assert!(matches!(
        serde_json::from_value::<ShippingAddress>(json!({"city": "Oran"})).unwrap(),
        ShippingAddress::Address(_)
    ));
    for v in [json!({"a": 1}), json!([])] {
        assert_eq!(trip::<Metadata>(v.clone()).unwrap(), v);
    }
    // The struct with a required field is tried before the one that accepts any object.
    assert!(matches!(
        serde_json::from_value::<Loose>(json!({"city": "Oran"})).unwrap(),
        Loose::Address(_)
    ));
    assert!(matches!(
        serde_json::from_value::<Loose>(json!({"note": "x"})).unwrap(),
        Loose::Object(_)
    ));
    // anyOf of `required` sets is a rule, not a union: the type is the plain struct.
    let r = Request {
        items: None,
        amount: Some(5),
    };
    assert_eq!(serde_json::to_value(&r).unwrap(), json!({"amount": 5}));
}

#[test]
fn discriminated_unions_dispatch_without_duplicating_the_tag() {
    use codegen_fixtures::discriminator::{Cat, Pet, Shape};
    let dog = json!({"kind": "dog", "bark": true});
    assert!(matches!(
        serde_json::from_value::<Pet>(dog.clone()).unwrap(),
        Pet::Dog(_)
    ));
    // The tag is written once.
    assert_eq!(
        serde_json::to_string(&serde_json::from_value::<Pet>(dog).unwrap()).unwrap(),
        r#"{"kind":"dog","bark":true}"#
    );
    // A cat with a dog's shape is still a cat: dispatch is by tag, not by shape.
    assert!(matches!(
        serde_json::from_value::<Pet>(json!({"kind": "cat", "bark": true})).unwrap(),
        Pet::Cat(Cat { .. })
    ));
    // Unknown tags are kept, not misread.
    let parrot = json!({"kind": "parrot", "words": 12});
    let p: Pet = serde_json::from_value(parrot.clone()).unwrap();
    assert_eq!(p, Pet::Unknown(parrot.clone()));
    assert_eq!(serde_json::to_value(&p).unwrap(), parrot);
    // Missing tag: an error naming it. Implicit mapping uses schema names; a member type that
    // does not declare the tag gets it added on output.
    assert!(
        serde_json::from_value::<Pet>(json!({"bark": true}))
            .unwrap_err()
            .to_string()
            .contains("missing field `kind`")
    );
    let circle = json!({"shape": "Circle", "radius": 2});
    assert_eq!(trip::<Shape>(circle.clone()).unwrap(), circle);
}

#[test]
fn all_of_merges_into_one_struct() {
    use codegen_fixtures::all_of::Product;
    let v = json!({"id": "p1", "created": 3, "name": "n", "price": 5});
    assert_eq!(trip::<Product>(v.clone()).unwrap(), v);
    assert!(err::<Product>(json!({"id": "p1", "name": "n"})).contains("missing field `price`"));
    let p = Product {
        id: "a".into(),
        created: None,
        name: "b".into(),
        price: 1,
    };
    assert_eq!(p.price, 1);
}

#[test]
fn maps_and_free_form_values() {
    use codegen_fixtures::maps::{Anything, Closed, Counts, FreeObject, Holder, Labelled};
    let counts: Counts = serde_json::from_value(json!({"a": 1, "b": 2})).unwrap();
    assert_eq!(counts.len(), 2);
    // Declared properties plus a flattened map of the others, kept on output.
    let v = json!({"id": "x", "color": "red", "size": "L"});
    assert_eq!(trip::<Labelled>(v.clone()).unwrap(), v);
    let l: Labelled = serde_json::from_value(v).unwrap();
    assert_eq!(
        l.additional_properties.get("color").map(String::as_str),
        Some("red")
    );
    assert!(err::<Labelled>(json!({"id": "x", "n": 1})).contains("invalid type"));
    assert!(err::<Closed>(json!({"a": "x", "b": 1})).contains("unknown field `b`"));
    let _: FreeObject = serde_json::from_value(json!({"anything": [1, {"x": null}]})).unwrap();
    let _: Anything = serde_json::from_value(json!([1, "two"])).unwrap();
    let h = json!({"errors": {"email": ["taken"]}, "extra": 5});
    assert_eq!(trip::<Holder>(h.clone()).unwrap(), h);
}

#[test]
fn recursion_is_boxed_where_needed() {
    use codegen_fixtures::recursive::{A, Expr, Node};
    let v = json!({"value": 1, "next": {"value": 2, "next": null}, "children": [{"value": 3}]});
    assert_eq!(trip::<Node>(v.clone()).unwrap(), v);
    let e = json!({"left": 1, "right": {"left": 2, "right": 3}});
    assert_eq!(trip::<Expr>(e.clone()).unwrap(), e);
    let a = json!({"b": {"a": {"b": {"leaf": {"n": 1}}}}});
    assert_eq!(trip::<A>(a.clone()).unwrap(), a);
}

#[test]
fn formats_map_to_documented_types() {
    use codegen_fixtures::formats::Formats;
    // Strings keep their exact text (no date or uuid parsing that would normalise it).
    let v = json!({"i32": -5, "i64": 9_007_199_254_740_993_i64, "f32": 1.5, "f64": 0.1, "num": 3.25,
        "when": "2019-01-10T14:51:26.864619+00:00", "day": "2024-02-29", "id": "0b2a2a44-7c1f-4e4b-9d1c-2b3b0f6c8e11",
        "bytes": "aGk=", "blob": "raw", "money": "39.95", "bounded": 50});
    assert_eq!(trip::<Formats>(v.clone()).unwrap(), v);
    let f: Formats = serde_json::from_value(v).unwrap();
    let _: (Option<i32>, Option<i64>, Option<f32>, Option<f64>) = (f.i32, f.i64, f.f32, f.f64);
    assert!(err::<Formats>(json!({"i32": 2_147_483_648_i64})).starts_with("i32:"));
}

#[test]
fn names_are_valid_unique_and_keep_wire_names() {
    use codegen_fixtures::names::{Option2, String2, Thing, Thing2, ThingThing, ThingThing2};
    let v = json!({"type": "t", "self": "s", "gen": "g", "3ds": true, " fees_on_customer": 5, "": "e", "@": "at",
        "foo-bar": "1", "foo_bar": "2", "fooBar": "3", "additional_properties": "4", "other": "5"});
    assert_eq!(trip::<Option2>(v.clone()).unwrap(), v);
    let o: Option2 = serde_json::from_value(v).unwrap();
    assert_eq!(
        (
            o.r#type.as_deref(),
            o.self_.as_deref(),
            o.r#gen.as_deref(),
            o._3ds
        ),
        (Some("t"), Some("s"), Some("g"), Some(true))
    );
    assert_eq!(
        (
            o.foo_bar.as_deref(),
            o.foo_bar_2.as_deref(),
            o.foo_bar_3.as_deref()
        ),
        (Some("1"), Some("2"), Some("3"))
    );
    assert_eq!(o.fees_on_customer, Some(5));
    assert_eq!(o.additional_properties.as_deref(), Some("4"));
    assert_eq!(
        o.additional_properties_2.get("other").map(String::as_str),
        Some("5")
    );
    // `Thing`/`thing` and `thing-thing`/`ThingThing` collide: each keeps its own type.
    let _ = (Thing { a: None }, Thing2 { b: None }, String2 { v: None });
    let _: (ThingThing, ThingThing2) = (String::new(), 0_i64);
    // Prelude names are not shadowed: `Option`, `String` and `Result` still mean std's.
    let _: Option<String> = None;
}

#[test]
fn operations_decode_by_status_then_content_type_and_never_panic() {
    use codegen_fixtures::operations::operations::{get_item, replace_item};
    use get_item::Response;
    assert_eq!(
        (get_item::METHOD, get_item::PATH, get_item::OPERATION_ID),
        ("GET", "/items/{id}", "getItem")
    );
    let params = get_item::Params {
        id: "7".into(),
        expand: Some(true),
        x_version: None,
    };
    assert_eq!(
        serde_json::to_value(&params).unwrap(),
        json!({"id": "7", "expand": true})
    );
    assert!(matches!(
        Response::decode(200, Some("application/json"), br#"{"id":"a"}"#).unwrap(),
        Response::Status200(_)
    ));
    assert_eq!(
        Response::decode(304, None, b"").unwrap(),
        Response::Status304
    );
    assert!(matches!(
        Response::decode(
            404,
            Some("application/json; charset=utf-8"),
            br#"{"message":"no"}"#
        )
        .unwrap(),
        Response::Status404(_)
    ));
    // Range, then default: a 409 is a 4XX, a 503 falls to default.
    let r = Response::decode(409, Some("application/json"), br#"{"message":"conflict"}"#).unwrap();
    assert!(matches!(r, Response::Status4xx { status: 409, .. }) && r.status() == 409);
    assert!(matches!(
        Response::decode(503, Some("text/plain"), b"down").unwrap(),
        Response::Default { status: 503, .. }
    ));
    // Failures carry the status, the path and the raw body.
    let e = Response::decode(200, Some("application/json"), br#"{"id": 5}"#).unwrap_err();
    assert_eq!((e.status, e.path.as_str()), (200, "id"));
    assert!(Response::decode(200, Some("text/html"), b"<html>").is_err());
    for garbage in [&b""[..], b"\x00\xff", b"[[[[", br#"{"id":"#] {
        let _ = Response::decode(200, Some("application/json"), garbage);
    }
    // Inline request and response schemas get names from their operation.
    let body = replace_item::Body { name: "n".into() };
    const { assert!(replace_item::BODY_REQUIRED) };
    assert_eq!(serde_json::to_value(&body).unwrap(), json!({"name": "n"}));
    let r =
        replace_item::Response::decode(201, Some("application/json"), br#"{"id":"x"}"#).unwrap();
    assert_eq!(r.body_json(), Some(json!({"id": "x"})));
}

/// Control characters from the spec (Windows line ends, a bare CR, every C0 control) reach doc
/// comments, string literals and attributes: the module compiles (this crate builds it), and
/// the wire names stay exact, byte for byte.
#[test]
fn control_characters_compile_and_keep_wire_names_exact() {
    use codegen_fixtures::control_characters::{Item, Kind};
    let ctl: String = (0u8..0x20)
        .filter(|b| *b != b'\n')
        .map(char::from)
        .chain(['\u{7f}', '\u{85}', '\u{2028}', '\u{2029}'])
        .collect();
    let name = format!("name{ctl}");
    let item = json!({name.clone(): "x", "kind": format!("ctl{ctl}"), "tab\tkey": 1});
    assert_eq!(trip::<Item>(item.clone()).unwrap(), item);
    assert_eq!(
        trip::<Kind>(json!("crlf\r\nvalue")).unwrap(),
        json!("crlf\r\nvalue")
    );
    assert!(err::<Kind>(json!("crlf\nvalue")).contains("unknown variant"));
    assert!(err::<Item>(json!({"name": "x"})).contains(&format!("missing field `{name}`")));
}

/// The portable nullable reference (`anyOf` with a null-only branch) is `Option<T>`, like the
/// lenient `nullable` + `allOf`: `null` decodes to `None`, a value to `Some`, and both encode
/// back as they came; a union with a null branch is an optional union.
#[test]
fn nullable_forms_are_options_of_the_type() {
    use codegen_fixtures::nullable_forms::{Address, Holder, HolderUnion};
    let all_null = json!({"portable": null, "lenient": null, "color": null, "union": null,
        "listed": null, "spelled": null, "always_null": null});
    assert_eq!(trip::<Holder>(all_null.clone()).unwrap(), all_null);
    let full = json!({"portable": {"city": "Oran"}, "lenient": {"city": "Algiers"},
        "color": "red", "union": "text", "listed": "a", "spelled": {"city": "Tlemcen"},
        "always_null": null, "items": [{"city": "Blida"}, null]});
    assert_eq!(trip::<Holder>(full.clone()).unwrap(), full);
    let h: Holder = serde_json::from_value(full).unwrap();
    assert_eq!(
        h.portable,
        Some(Address {
            city: Some("Oran".into())
        })
    );
    assert!(matches!(h.r#union, Some(HolderUnion::String(_))));
    // 3.1's `{type: "null"}` member reads as the `nullable` forms do.
    assert_eq!(h.spelled.unwrap().city.as_deref(), Some("Tlemcen"));
    assert_eq!(h.items.unwrap()[1], None);
    // Required means present: absent is an error even where null is allowed.
    let missing = json!({"lenient": null, "color": null, "union": null, "listed": null,
        "spelled": null, "always_null": null});
    assert!(err::<Holder>(missing).contains("portable"));
    assert!(
        err::<Holder>(json!({"portable": null, "lenient": null, "color": "blue",
        "union": null, "listed": null, "spelled": null, "always_null": null}))
        .contains("color")
    );
}

#[test]
fn openapi_3_1_type_lists_consts_and_null_branches() {
    use codegen_fixtures::types_3_1::{Amount, Holder, Loose, Method};
    // `type: [integer, string, "null"]`: a union, nullable where used.
    let v = json!({"note": null, "amount": 5, "method": {"type": "card", "last4": "4242"}, "version": 2});
    assert_eq!(trip::<Holder>(v.clone()).unwrap(), v);
    let h: Holder = serde_json::from_value(v).unwrap();
    assert_eq!(h.amount, Some(Amount::Integer(5)));
    assert!(matches!(h.method, Some(Method::Card(_))));
    let v = json!({"note": "hi", "amount": "5.00", "method": null, "version": 2, "tags": null});
    assert_eq!(trip::<Holder>(v.clone()).unwrap(), v);
    // Integers stay integers: `integer` is tried before `number` whatever the list's order.
    assert_eq!(trip::<Loose>(json!(3)).unwrap(), json!(3));
    assert_eq!(trip::<Loose>(json!(2.5)).unwrap(), json!(2.5));
    assert_eq!(trip::<Loose>(json!(true)).unwrap(), json!(true));
    assert!(trip::<Loose>(json!("x")).is_err());
    // The string consts tell the union's members apart: a wallet is not a card.
    let m: Method = serde_json::from_value(json!({"type": "wallet", "provider": "x"})).unwrap();
    assert!(matches!(m, Method::Wallet(_)));
    assert!(trip::<Method>(json!({"type": "cash", "last4": "1", "provider": "x"})).is_err());
    // `null` is not a value of the type list that omits it, nor of the required fields.
    assert!(err::<Holder>(json!({"note": null, "amount": 5, "method": null})).contains("version"));
}

#[test]
fn openapi_3_1_references_booleans_and_tuples() {
    use codegen_fixtures::refs_3_1::{Order, Refund};
    let v = json!({
        "total": {"value": 100, "currency": "DZD"},
        "extra": {"any": ["thing"]},
        "receipt": "JVBERi0=",
        "point": [36.7, 3.05],
        "history": ["a", 1, null]
    });
    assert_eq!(trip::<Order>(v.clone()).unwrap(), v);
    // A fixed-length tuple: two numbers, no more, no fewer.
    let with_point = |p: Value| json!({"total": {"value": 1, "currency": "EUR"}, "point": p});
    assert!(trip::<Order>(with_point(json!([1.0]))).is_err());
    assert!(trip::<Order>(with_point(json!([1.0, 2.0, 3.0]))).is_err());
    // `legacy: false`: present is an error.
    let mut legacy = with_point(json!([1.0, 2.0]));
    legacy["legacy"] = json!(1);
    assert!(err::<Order>(legacy).starts_with("legacy"));
    // The `$defs` enum is closed.
    assert!(
        trip::<Order>(json!({"total": {"value": 1, "currency": "USD"}, "point": [1.0, 2.0]}))
            .is_err()
    );
    // `$ref` beside `properties` and `required`: both apply.
    let r = json!({"value": 1, "currency": "EUR", "reason": "late"});
    assert_eq!(
        trip::<Refund>(r).unwrap(),
        json!({"reason": "late", "value": 1, "currency": "EUR"})
    );
    assert!(err::<Refund>(json!({"value": 1, "currency": "EUR"})).contains("reason"));
    assert!(err::<Refund>(json!({"reason": "late"})).contains("value"));
}

#[test]
fn openapi_3_1_tuples_read_and_write_their_positions() {
    use codegen_fixtures::tuples_3_1::{Capped, Loose, Pair, Path, Point, Range, Visitor};
    // Exactly the prefix's items: serde's derive, which refuses any other length.
    assert_eq!(trip::<Point>(json!([1.5, 2.0])).unwrap(), json!([1.5, 2.0]));
    assert_eq!(trip::<Pair>(json!(["a", 1])).unwrap(), json!(["a", 1]));
    for bad in [json!([1.5]), json!([1.5, 2.0, 3.0])] {
        assert!(trip::<Point>(bad).is_err());
    }
    // A position an array may lack is an `Option`, a nullable item inside it an `Option` too:
    // absent and `null` stay apart.
    assert_eq!(trip::<Range>(json!([1])).unwrap(), json!([1]));
    assert_eq!(trip::<Range>(json!([1, null])).unwrap(), json!([1, null]));
    assert_eq!(trip::<Range>(json!([1, 5])).unwrap(), json!([1, 5]));
    let range: Range = serde_json::from_value(json!([1, null])).unwrap();
    assert_eq!(range, Range(1, Some(None)));
    assert_eq!(
        err::<Range>(json!([])),
        ".: invalid length 0, expected an array of 1 to 2 items"
    );
    assert_eq!(
        err::<Range>(json!([1, 2, 3])),
        ".: invalid length 3, expected an array of 1 to 2 items"
    );
    assert!(err::<Range>(json!([1, "x"])).contains("expected i64"));
    // Items after the prefix, typed by `items`.
    assert_eq!(
        trip::<Path>(json!(["move", 3, 4])).unwrap(),
        json!(["move", 3, 4])
    );
    assert_eq!(trip::<Path>(json!(["stop"])).unwrap(), json!(["stop"]));
    let path: Path = serde_json::from_value(json!(["move", 3, 4])).unwrap();
    assert_eq!(path, Path("move".to_owned(), vec![3, 4]));
    assert!(err::<Path>(json!([])).ends_with("expected an array of at least 1 item"));
    assert!(err::<Path>(json!(["move", "x"])).contains("expected i64"));
    // No `items`: any JSON after the typed positions; the second is a type named like the
    // reading code's visitor.
    let loose = json!(["a", {"id": "v"}, 3, null, {"x": 1}]);
    assert_eq!(trip::<Loose>(loose.clone()).unwrap(), loose);
    assert_eq!(trip::<Loose>(json!([])).unwrap(), json!([]));
    let visitor = Visitor { id: "v".to_owned() };
    // Writing refuses a value that skips a position.
    let gap = Loose(None, Some(visitor.clone()), Vec::new());
    assert_eq!(
        serde_json::to_value(&gap).unwrap_err().to_string(),
        "Loose: item 1 is set but item 0 is not (an array cannot skip a position)"
    );
    let gap = Loose(Some("a".to_owned()), None, vec![json!(1)]);
    assert_eq!(
        serde_json::to_value(&gap).unwrap_err().to_string(),
        "Loose: an item after item 1 is set but item 1 is not (an array cannot skip a position)"
    );
    // `maxItems` below the prefix's length: only the positions an array can have.
    assert_eq!(
        trip::<Capped>(json!([true, "b"])).unwrap(),
        json!([true, "b"])
    );
    assert!(err::<Capped>(json!([true, "b", "c"])).ends_with("expected an array of 0 to 2 items"));
}

/// The tuple types decode exactly the arrays the JSON Schema validator accepts (`jsonschema`,
/// through `oas`): every array of up to four items drawn from values of each kind.
#[test]
fn openapi_3_1_tuples_agree_with_the_validator() {
    use codegen_fixtures::tuples_3_1 as t;
    let spec = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../codegen/tests/fixtures/tuples-3-1.yaml");
    let doc = oas::Document::load(&spec).unwrap();
    let pool = [
        json!(1),
        json!(1.5),
        json!("a"),
        json!(null),
        json!(true),
        json!({"id": "v"}),
        json!({"x": 1}),
    ];
    let mut arrays = vec![Vec::new()];
    let mut last = vec![Vec::new()];
    for _ in 0..4 {
        last = last
            .iter()
            .flat_map(|a: &Vec<Value>| {
                pool.iter().map(move |v| {
                    let mut a = a.clone();
                    a.push(v.clone());
                    a
                })
            })
            .collect();
        arrays.extend(last.iter().cloned());
    }
    type Decodes = fn(&Value) -> bool;
    let decoders: [(&str, Decodes); 6] = [
        ("Point", |v| {
            serde_json::from_value::<t::Point>(v.clone()).is_ok()
        }),
        ("Pair", |v| {
            serde_json::from_value::<t::Pair>(v.clone()).is_ok()
        }),
        ("Range", |v| {
            serde_json::from_value::<t::Range>(v.clone()).is_ok()
        }),
        ("Path", |v| {
            serde_json::from_value::<t::Path>(v.clone()).is_ok()
        }),
        ("Loose", |v| {
            serde_json::from_value::<t::Loose>(v.clone()).is_ok()
        }),
        ("Capped", |v| {
            serde_json::from_value::<t::Capped>(v.clone()).is_ok()
        }),
    ];
    for (name, decodes) in decoders {
        let validator = oas::schema::SchemaValidator::compile(
            &doc.root,
            &format!("/components/schemas/{name}"),
            oas::schema::Direction::Response,
        )
        .unwrap();
        let mut accepted = 0;
        for array in &arrays {
            let array = Value::Array(array.clone());
            let valid = validator.is_valid(&array);
            assert_eq!(decodes(&array), valid, "{name}: {array}");
            accepted += usize::from(valid);
        }
        // Each schema accepts some arrays and refuses others.
        assert!(
            accepted > 0 && accepted < arrays.len(),
            "{name}: {accepted}"
        );
    }
}

#[test]
fn constructors_take_the_required_properties_and_leave_the_rest_absent() {
    use codegen_fixtures::constructors::{
        CreateOrderRequest, CreateOrderRequestCurrency, Order, OrderNext,
    };
    // A request body with a dozen optional properties: the three required ones, then what
    // this request sets.
    let request = CreateOrderRequest {
        description: Some("Two mugs".to_owned()),
        ..CreateOrderRequest::new(
            2000,
            CreateOrderRequestCurrency::Dzd,
            "https://shop.test/ok".to_owned(),
        )
    };
    assert_eq!(
        serde_json::to_value(&request).unwrap(),
        json!({"amount": 2000, "currency": "dzd", "success_url": "https://shop.test/ok",
               "description": "Two mugs"})
    );
    // The same code builds `Order` and `OrderNext`, which has one more optional property.
    macro_rules! order {
        ($ty:ident) => {
            $ty {
                note: Some("fragile".to_owned()),
                ..$ty::new("o_1".to_owned(), 5, None)
            }
        };
    }
    let (order, next) = (order!(Order), order!(OrderNext));
    let expected = json!({"id": "o_1", "amount": 5, "coupon": null, "note": "fragile"});
    assert_eq!(serde_json::to_value(&order).unwrap(), expected);
    assert_eq!(serde_json::to_value(&next).unwrap(), expected);
}

#[test]
fn openapi_3_1_untyped_keywords_are_any_json() {
    use codegen_fixtures::untyped_3_1::{Conditional, Labels, Shaped};
    let v = json!({"x-a": "b", "other": [1]});
    assert_eq!(trip::<Labels>(v.clone()).unwrap(), v);
    assert_eq!(trip::<Conditional>(json!(7)).unwrap(), json!(7));
    assert_eq!(
        trip::<Shaped>(json!({"card": "c"})).unwrap(),
        json!({"card": "c"})
    );
}

#[test]
fn openapi_3_1_webhooks_decode_their_payloads() {
    use codegen_fixtures::refs_3_1::webhooks;
    assert_eq!(webhooks::NAMES, ["orderPaid", "refundFailed", "ping"]);
    assert_eq!(webhooks::order_paid::METHOD, "POST");
    let body = br#"{"total": {"value": 5, "currency": "EUR"}, "point": [0.5, 1.5]}"#;
    let order = webhooks::order_paid::decode(Some("application/json"), body).unwrap();
    assert_eq!(order.point.0, 0.5);
    // A payload that does not fit names the failing path; a non-JSON content type is refused.
    let bad = webhooks::order_paid::decode(None, br#"{"total": {"value": "5"}}"#).unwrap_err();
    assert_eq!(bad.path, "total.value");
    assert!(webhooks::order_paid::decode(Some("text/plain"), body).is_err());
    let refund = json!({"refund": {"reason": "r", "value": 1, "currency": "DZD"}, "reason": null});
    assert_eq!(
        webhooks::round_trip("refundFailed", &refund)
            .unwrap()
            .unwrap(),
        refund
    );
    // A webhook without a JSON payload, and an unknown name, have none to round-trip.
    assert!(webhooks::round_trip("ping", &json!({})).is_none());
    assert!(webhooks::round_trip("nope", &json!({})).is_none());
}

/// With every feature of a per-tag module on (this crate's default), the whole API is there:
/// the dispatch functions reach every operation and schema.
#[test]
fn a_per_tag_module_with_every_feature_on_is_the_whole_api() {
    use codegen_fixtures::features_client_3_1::{operations, schemas, webhooks};
    assert_eq!(
        operations::IDS,
        ["listOrders", "createOrder", "getCustomer", "getStore"]
    );
    let order = json!({"id": "o", "total": {"amount": 5, "currency": "DZD"}});
    assert_eq!(
        schemas::round_trip("Order", &order).unwrap().unwrap(),
        order
    );
    let error = json!({"message": "m"});
    assert_eq!(
        schemas::round_trip("Error", &error).unwrap().unwrap(),
        error
    );
    let body = json!({"total": {"amount": 5, "currency": "USD"}});
    assert_eq!(
        operations::round_trip_request("createOrder", &body)
            .unwrap()
            .unwrap(),
        body
    );
    assert_eq!(webhooks::NAMES, ["orderShipped"]);
}
