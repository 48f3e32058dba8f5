//! `rust: {serde: true}` (`tests/fixtures/valid/serde`): an entity, its key and its enum
//! serialize with the schema's names and stored values, timestamps and dates as RFC 3339
//! and ISO strings, and read back equal; a malformed timestamp is refused with its text.

use dyngen_app_tests::serde_names::*;
use dyngen_runtime::{Date, Timestamp};

#[test]
fn entities_keys_and_enums_round_trip_through_json_with_the_schemas_names() {
    let mut p = Person::new(
        "Ada",
        PersonType::ReadOnly,
        Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap(),
    );
    p.born = Date::new(1815, 12, 10);
    p.tags.insert("math".into());
    let json = serde_json::to_value(&p).unwrap();
    assert_eq!(json["firstName"], "Ada");
    assert_eq!(json["type"], "read-only");
    assert_eq!(json["born"], "1815-12-10");
    assert_eq!(json["joinedAt"], "2024-02-29T23:59:59.999Z");
    assert_eq!(json["tags"], serde_json::json!(["math"]));
    assert_eq!(json["createdAt"], "1970-01-01T00:00:00.000Z");
    let back: Person = serde_json::from_value(json).unwrap();
    assert_eq!(back, p);

    let key = serde_json::to_value(p.key()).unwrap();
    assert_eq!(
        key,
        serde_json::json!({"firstName": "Ada", "joinedAt:year": 2024})
    );

    let bad = serde_json::from_value::<Timestamp>(serde_json::json!("yesterday")).unwrap_err();
    assert!(bad.to_string().contains("yesterday"), "{bad}");
    for edge in ["0000-01-01T00:00:00.000Z", "9999-12-31T23:59:59.999Z"] {
        let t: Timestamp = serde_json::from_value(serde_json::json!(edge)).unwrap();
        assert_eq!(serde_json::to_value(t).unwrap(), edge);
    }
}
