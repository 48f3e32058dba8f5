//! Conversions to and from the `time` crate (feature `time`): `Timestamp` ↔
//! `OffsetDateTime` and `Date` ↔ `time::Date`. Into `time` always works; from `time`, a
//! value outside years 0000–9999 is refused (`OutOfRange`), and sub-millisecond precision
//! is truncated toward the past, as DynamoDB stores milliseconds.

use crate::value::{Date, Timestamp};

pub use crate::value::OutOfRange;

impl From<Timestamp> for time::OffsetDateTime {
    fn from(t: Timestamp) -> Self {
        let nanos = i128::from(t.unix_millis()) * 1_000_000;
        // Every Timestamp (years 0000–9999) is inside time's range.
        time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
    }
}

impl TryFrom<time::OffsetDateTime> for Timestamp {
    type Error = OutOfRange;
    fn try_from(t: time::OffsetDateTime) -> Result<Self, OutOfRange> {
        let millis = t.unix_timestamp_nanos().div_euclid(1_000_000);
        let millis = i64::try_from(millis).map_err(|_| OutOfRange)?;
        Timestamp::from_unix_millis(millis).ok_or(OutOfRange)
    }
}

impl From<Date> for time::Date {
    fn from(d: Date) -> Self {
        let month = time::Month::try_from(d.month()).unwrap_or(time::Month::January);
        time::Date::from_calendar_date(d.year(), month, d.day()).unwrap_or(time::Date::MIN)
    }
}

impl TryFrom<time::Date> for Date {
    type Error = OutOfRange;
    fn try_from(d: time::Date) -> Result<Self, OutOfRange> {
        Date::new(d.year(), u8::from(d.month()), d.day()).ok_or(OutOfRange)
    }
}
