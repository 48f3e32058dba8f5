//! Timestamps and dates print as what they mean (RFC 3339, ISO dates), in `Display` and in
//! `Debug`, at the edges of their range.

use dyngen_runtime::{Date, Timestamp};

#[test]
fn timestamps_and_dates_print_readably() {
    let leap = Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap();
    assert_eq!(leap.to_string(), "2024-02-29T23:59:59.999Z");
    assert_eq!(format!("{leap:?}"), "Timestamp(2024-02-29T23:59:59.999Z)");
    assert_eq!(Timestamp::MIN.to_string(), "0000-01-01T00:00:00.000Z");
    assert_eq!(Timestamp::MAX.to_string(), "9999-12-31T23:59:59.999Z");
    assert_eq!(
        format!("{:?}", Timestamp::UNIX_EPOCH),
        "Timestamp(1970-01-01T00:00:00.000Z)"
    );
    let day = Date::new(2024, 2, 29).unwrap();
    assert_eq!(day.to_string(), "2024-02-29");
    assert_eq!(format!("{day:?}"), "Date(2024-02-29)");
    assert_eq!(
        format!("{:?}", Date::new(0, 1, 1).unwrap()),
        "Date(0000-01-01)"
    );
    assert_eq!(
        format!("{:?}", Some(Date::new(9999, 12, 31).unwrap())),
        "Some(Date(9999-12-31))"
    );
}
