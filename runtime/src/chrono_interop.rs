//! Conversions to and from chrono (feature `chrono`): `Timestamp` ↔ `DateTime<Utc>` (from
//! any time zone) and `Date` ↔ `NaiveDate`, with the rules of the `time` conversions:
//! into chrono always works; back, years outside 0000–9999 are refused and precision below
//! a millisecond is truncated toward the past.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};

use crate::value::{Date, Timestamp};

pub use crate::value::OutOfRange;

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        // Every Timestamp (years 0000–9999) is inside chrono's range.
        DateTime::from_timestamp_millis(t.unix_millis()).unwrap_or_default()
    }
}

impl<Tz: TimeZone> TryFrom<DateTime<Tz>> for Timestamp {
    type Error = OutOfRange;
    fn try_from(t: DateTime<Tz>) -> Result<Self, OutOfRange> {
        // `timestamp_millis` floors, as the `time` conversion does.
        Timestamp::from_unix_millis(t.timestamp_millis()).ok_or(OutOfRange)
    }
}

impl From<Date> for NaiveDate {
    fn from(d: Date) -> Self {
        NaiveDate::from_ymd_opt(d.year(), u32::from(d.month()), u32::from(d.day()))
            .unwrap_or_default()
    }
}

impl TryFrom<NaiveDate> for Date {
    type Error = OutOfRange;
    fn try_from(d: NaiveDate) -> Result<Self, OutOfRange> {
        let (month, day) = (u8::try_from(d.month()), u8::try_from(d.day()));
        match (month, day) {
            (Ok(m), Ok(day)) => Date::new(d.year(), m, day).ok_or(OutOfRange),
            _ => Err(OutOfRange),
        }
    }
}
