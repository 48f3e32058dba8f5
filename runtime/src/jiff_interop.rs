//! Conversions to and from jiff (feature `jiff`): `Timestamp` ↔ `jiff::Timestamp` and
//! `Date` ↔ `jiff::civil::Date`. jiff's timestamps end at 9999-12-30T22:00:00Z (it keeps
//! room for time zone offsets), so a `Timestamp` in the last 26 hours of 9999 does not
//! convert (`TryFrom`, `OutOfRange`); dates always do. Back, years outside 0000–9999 are
//! refused and precision below a millisecond is truncated toward the past.

use crate::value::{Date, Timestamp};

pub use crate::value::OutOfRange;

impl TryFrom<Timestamp> for jiff::Timestamp {
    type Error = OutOfRange;
    fn try_from(t: Timestamp) -> Result<Self, OutOfRange> {
        jiff::Timestamp::from_millisecond(t.unix_millis()).map_err(|_| OutOfRange)
    }
}

impl TryFrom<jiff::Timestamp> for Timestamp {
    type Error = OutOfRange;
    fn try_from(t: jiff::Timestamp) -> Result<Self, OutOfRange> {
        let millis = t.as_nanosecond().div_euclid(1_000_000);
        let millis = i64::try_from(millis).map_err(|_| OutOfRange)?;
        Timestamp::from_unix_millis(millis).ok_or(OutOfRange)
    }
}

impl From<Date> for jiff::civil::Date {
    fn from(d: Date) -> Self {
        let (y, m, day) = (d.year() as i16, d.month() as i8, d.day() as i8);
        jiff::civil::Date::new(y, m, day).unwrap_or_default()
    }
}

impl TryFrom<jiff::civil::Date> for Date {
    type Error = OutOfRange;
    fn try_from(d: jiff::civil::Date) -> Result<Self, OutOfRange> {
        let (m, day) = (u8::try_from(d.month()), u8::try_from(d.day()));
        match (m, day) {
            (Ok(m), Ok(day)) => Date::new(i32::from(d.year()), m, day).ok_or(OutOfRange),
            _ => Err(OutOfRange),
        }
    }
}
