//! `Timestamp`/`Date` ↔ jiff (feature `jiff`), at the same edges as the `time` conversions.
#![cfg(feature = "jiff")]

use dyngen_runtime::jiff_interop::OutOfRange;
use dyngen_runtime::{Date, Timestamp};

#[test]
fn timestamps_convert_both_ways_at_the_edges() {
    for t in [
        Timestamp::MIN,
        Timestamp::UNIX_EPOCH,
        Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap(),
        Timestamp::parse("9999-12-30T22:00:00.000Z").unwrap(),
    ] {
        let j = jiff::Timestamp::try_from(t).unwrap();
        assert_eq!(Timestamp::try_from(j), Ok(t), "{t}");
    }
    // jiff's range ends 26 hours before ours: refused, not wrapped or clamped.
    assert_eq!(jiff::Timestamp::try_from(Timestamp::MAX), Err(OutOfRange));
    let fine = jiff::Timestamp::new(1_709_251_199, 999_999_999).unwrap();
    assert_eq!(
        Timestamp::try_from(fine).unwrap().to_string(),
        "2024-02-29T23:59:59.999Z"
    );
    let before = jiff::Timestamp::new(-1, 500_000).unwrap();
    assert_eq!(
        Timestamp::try_from(before).unwrap().to_string(),
        "1969-12-31T23:59:59.000Z"
    );
    let too_early = jiff::Timestamp::new(-62_167_219_201, 0).unwrap();
    assert_eq!(Timestamp::try_from(too_early), Err(OutOfRange));
}

#[test]
fn dates_convert_both_ways_at_the_edges() {
    for (y, m, d) in [(0, 1, 1), (9999, 12, 31), (2024, 2, 29), (1900, 2, 28)] {
        let ours = Date::new(y, m, d).unwrap();
        let theirs = jiff::civil::Date::from(ours);
        assert_eq!(theirs, jiff::civil::date(y as i16, m as i8, d as i8));
        assert_eq!(Date::try_from(theirs), Ok(ours));
    }
    assert_eq!(Date::try_from(jiff::civil::date(-1, 6, 1)), Err(OutOfRange));
}
