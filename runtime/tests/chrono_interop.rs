//! `Timestamp`/`Date` ↔ chrono (feature `chrono`), at the same edges as the `time`
//! conversions.
#![cfg(feature = "chrono")]

use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone, Utc};
use dyngen_runtime::chrono_interop::OutOfRange;
use dyngen_runtime::{Date, Timestamp};

#[test]
fn timestamps_convert_both_ways_at_the_edges() {
    for t in [
        Timestamp::MIN,
        Timestamp::MAX,
        Timestamp::UNIX_EPOCH,
        Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap(),
    ] {
        let dt = DateTime::<Utc>::from(t);
        assert_eq!(Timestamp::try_from(dt), Ok(t), "{t}");
    }
    let fine = Utc.with_ymd_and_hms(2024, 2, 29, 23, 59, 59).unwrap()
        + chrono::Duration::nanoseconds(999_999_999);
    assert_eq!(
        Timestamp::try_from(fine).unwrap().to_string(),
        "2024-02-29T23:59:59.999Z"
    );
    let before = Utc.with_ymd_and_hms(1969, 12, 31, 23, 59, 59).unwrap()
        + chrono::Duration::microseconds(500);
    assert_eq!(
        Timestamp::try_from(before).unwrap().to_string(),
        "1969-12-31T23:59:59.000Z"
    );
    let paris = FixedOffset::east_opt(3600)
        .unwrap()
        .with_ymd_and_hms(2024, 2, 29, 23, 0, 0)
        .unwrap();
    assert_eq!(
        Timestamp::try_from(paris).unwrap().to_string(),
        "2024-02-29T22:00:00.000Z"
    );
    let too_late = Utc.with_ymd_and_hms(10_000, 1, 1, 0, 0, 0).unwrap();
    assert_eq!(Timestamp::try_from(too_late), Err(OutOfRange));
}

#[test]
fn dates_convert_both_ways_at_the_edges() {
    for (y, m, d) in [(0, 1, 1), (9999, 12, 31), (2024, 2, 29), (1900, 2, 28)] {
        let ours = Date::new(y, m, d).unwrap();
        let theirs = NaiveDate::from(ours);
        assert_eq!(
            theirs,
            NaiveDate::from_ymd_opt(y, u32::from(m), u32::from(d)).unwrap()
        );
        assert_eq!(Date::try_from(theirs), Ok(ours));
    }
    assert_eq!(
        Date::try_from(NaiveDate::from_ymd_opt(-1, 6, 1).unwrap()),
        Err(OutOfRange)
    );
}
