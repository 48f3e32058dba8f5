//! `Timestamp`/`Date` ↔ the `time` crate (feature `time`), at the edges: the leap day, years
//! 0000 and 9999, millisecond truncation, and values outside the range refused.
#![cfg(feature = "time")]

use dyngen_runtime::time_interop::OutOfRange;
use dyngen_runtime::{Date, Timestamp};
use time::macros::{date, datetime};

#[test]
fn timestamps_convert_both_ways_at_the_edges() {
    for t in [
        Timestamp::MIN,
        Timestamp::MAX,
        Timestamp::UNIX_EPOCH,
        Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap(),
    ] {
        let odt = time::OffsetDateTime::from(t);
        assert_eq!(Timestamp::try_from(odt), Ok(t), "{t}");
    }
    let leap = time::OffsetDateTime::from(Timestamp::parse("2024-02-29T12:00:00.000Z").unwrap());
    assert_eq!(leap.date(), date!(2024 - 02 - 29));
    // Nanoseconds are truncated to milliseconds, toward the past, also before 1970.
    let fine = datetime!(2024-02-29 23:59:59.999_999_999 UTC);
    assert_eq!(
        Timestamp::try_from(fine).unwrap().to_string(),
        "2024-02-29T23:59:59.999Z"
    );
    let before = datetime!(1969-12-31 23:59:59.000_500 UTC);
    assert_eq!(
        Timestamp::try_from(before).unwrap().to_string(),
        "1969-12-31T23:59:59.000Z"
    );
    // Other offsets are the same instant.
    let paris = datetime!(2024-02-29 23:00:00 +01:00);
    assert_eq!(
        Timestamp::try_from(paris).unwrap().to_string(),
        "2024-02-29T22:00:00.000Z"
    );
    assert_eq!(
        Timestamp::try_from(datetime!(-0001-12-31 23:59:59 UTC)),
        Err(OutOfRange)
    );
}

#[test]
fn dates_convert_both_ways_at_the_edges() {
    for (y, m, d) in [(0, 1, 1), (9999, 12, 31), (2024, 2, 29), (1900, 2, 28)] {
        let ours = Date::new(y, m, d).unwrap();
        let theirs = time::Date::from(ours);
        assert_eq!(
            (theirs.year(), u8::from(theirs.month()), theirs.day()),
            (y, m, d)
        );
        assert_eq!(Date::try_from(theirs), Ok(ours));
    }
    assert_eq!(Date::try_from(date!(-0001 - 06 - 01)), Err(OutOfRange));
}
