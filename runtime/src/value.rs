//! The value types that dyngen maps schema types to: [`Timestamp`] and [`Date`], with
//! the stored forms that keep string order equal to time order.

/// An instant, with millisecond precision, in UTC.
///
/// Stored as a fixed-width RFC 3339 string, `YYYY-MM-DDTHH:MM:SS.mmmZ`, so that string
/// order is time order (for years 0000 to 9999). A TTL attribute is the exception: it
/// is stored as a number of epoch seconds, as DynamoDB's time to live requires.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

impl Timestamp {
    /// The earliest timestamp that can be stored: `0000-01-01T00:00:00.000Z`.
    pub const MIN: Timestamp = Timestamp {
        millis: -62_167_219_200_000,
    };
    /// 1970-01-01T00:00:00.000Z.
    pub const UNIX_EPOCH: Timestamp = Timestamp { millis: 0 };
    /// The latest timestamp that can be stored: `9999-12-31T23:59:59.999Z`.
    pub const MAX: Timestamp = Timestamp {
        millis: 253_402_300_799_999,
    };

    /// The instant `millis` milliseconds after 1970-01-01T00:00:00Z, if it lies in years
    /// 0000 to 9999: outside them the stored form would not sort, nor read back.
    pub const fn from_unix_millis(millis: i64) -> Option<Self> {
        if millis < Self::MIN.millis || millis > Self::MAX.millis {
            None
        } else {
            Some(Timestamp { millis })
        }
    }
    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub const fn unix_millis(self) -> i64 {
        self.millis
    }
    /// The current time of the system clock.
    pub fn now() -> Self {
        let d = ::std::time::SystemTime::now()
            .duration_since(::std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp {
            millis: d.as_millis() as i64,
        }
    }
    /// The UTC calendar date of the instant.
    pub fn date(self) -> Date {
        Date::from_days(self.millis.div_euclid(86_400_000))
    }
    /// The UTC year of the instant.
    pub fn year(self) -> i32 {
        self.date().year
    }

    /// Parses RFC 3339: the stored form, and what other writers store — any offset
    /// (`+02:00`, `Z`, `z`), `T` or `t`, no fraction or any digits of it (truncated to
    /// milliseconds) — and a bare date, read as its midnight UTC. `None` for anything else,
    /// or an instant outside years 0000 to 9999 once in UTC.
    pub fn parse(s: &str) -> Option<Self> {
        let date = Date::parse(s.get(..10)?)?;
        let rest = &s[10..];
        if rest.is_empty() {
            return Timestamp::from_unix_millis(date.days() * 86_400_000);
        }
        let b = rest.as_bytes();
        if b.len() < 9 || !matches!(b[0], b'T' | b't') || b[3] != b':' || b[6] != b':' {
            return None;
        }
        let num = |r: ::std::ops::Range<usize>| digits_at(rest, r);
        let (h, m, sec) = (num(1..3)?, num(4..6)?, num(7..9)?);
        if h > 23 || m > 59 || sec > 60 {
            return None;
        }
        let (millis, zone) = fraction(&rest[9..])?;
        let offset_minutes = utc_offset(zone)?;
        let local = date.days() * 86_400_000 + ((h * 60 + m) * 60 + sec) * 1000 + millis;
        Timestamp::from_unix_millis(local - offset_minutes * 60_000)
    }
}

/// `Timestamp(2024-02-29T23:59:59.999Z)`: the instant, readable.
impl ::std::fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl ::std::fmt::Display for Timestamp {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        let ms_of_day = self.millis.rem_euclid(86_400_000);
        let (h, m, s, ms) = (
            ms_of_day / 3_600_000,
            ms_of_day / 60_000 % 60,
            ms_of_day / 1000 % 60,
            ms_of_day % 1000,
        );
        write!(f, "{}T{h:02}:{m:02}:{s:02}.{ms:03}Z", self.date())
    }
}

/// A calendar date (proleptic Gregorian), stored as `YYYY-MM-DD`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// The number written in `s[r]`, when those bytes are all ASCII digits.
fn digits_at(s: &str, r: ::std::ops::Range<usize>) -> Option<i64> {
    let t = s.get(r)?;
    t.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| t.parse().ok())?
}

/// A fraction of a second (`.5`, `.123456`, or none) and what follows it: the milliseconds
/// (more digits truncated) and the rest.
fn fraction(s: &str) -> Option<(i64, &str)> {
    let Some(digits) = s.strip_prefix('.') else {
        return Some((0, s));
    };
    let n = digits.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let mut ms = 0i64;
    for (i, c) in digits.bytes().take(n.min(3)).enumerate() {
        ms += i64::from(c - b'0') * [100, 10, 1][i];
    }
    Some((ms, &digits[n..]))
}

/// An RFC 3339 offset in minutes east of UTC: `Z`/`z`, or `+HH:MM` / `-HH:MM`.
fn utc_offset(zone: &str) -> Option<i64> {
    if zone == "Z" || zone == "z" {
        return Some(0);
    }
    let b = zone.as_bytes();
    if b.len() != 6 || b[3] != b':' || !matches!(b[0], b'+' | b'-') {
        return None;
    }
    let part = |r: ::std::ops::Range<usize>| digits_at(zone, r);
    let (h, m) = (part(1..3)?, part(4..6)?);
    if h > 23 || m > 59 {
        return None;
    }
    let minutes = h * 60 + m;
    Some(if b[0] == b'-' { -minutes } else { minutes })
}

impl Date {
    /// A date if it exists in the calendar and lies in years 0000 to 9999 (outside them
    /// the stored form would not sort, nor read back).
    pub const fn new(year: i32, month: u8, day: u8) -> Option<Self> {
        if year < 0 || year > 9999 {
            return None;
        }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let len = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        if day >= 1 && day <= len {
            Some(Date { year, month, day })
        } else {
            None
        }
    }

    /// The year, 0 to 9999.
    pub fn year(self) -> i32 {
        self.year
    }
    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }
    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }

    /// Parses the stored form, `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10
            || b[4] != b'-'
            || b[7] != b'-'
            || !b
                .iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        {
            return None;
        }
        Date::new(
            s[..4].parse().ok()?,
            s[5..7].parse().ok()?,
            s[8..10].parse().ok()?,
        )
    }

    /// Days since 1970-01-01 (a civil-calendar algorithm on 400-year eras).
    pub fn days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` days after 1970-01-01 (callers keep it within years 0000 to 9999).
    pub(crate) fn from_days(days: i64) -> Self {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
        Date { year, month, day }
    }
}

/// `Date(2024-02-29)`.
impl ::std::fmt::Debug for Date {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "Date({self})")
    }
}

impl ::std::fmt::Display for Date {
    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// The `:year` placeholder format.
pub trait HasYear {
    fn year_of(&self) -> i32;
}

impl HasYear for Date {
    #[inline]
    fn year_of(&self) -> i32 {
        self.year
    }
}

impl HasYear for i32 {
    #[inline]
    fn year_of(&self) -> i32 {
        *self
    }
}

impl HasYear for Timestamp {
    #[inline]
    fn year_of(&self) -> i32 {
        self.year()
    }
}

/// A string set (`SS`). DynamoDB cannot store an empty set, so an empty one is written
/// as an absent attribute and read back empty.
pub type StringSet = ::std::collections::BTreeSet<String>;
/// A number set (`NS`) of integers; empty is stored as absent, like [`StringSet`].
pub type NumberSet = ::std::collections::BTreeSet<i64>;

/// The largest integer a JavaScript number holds exactly (2^53 − 1).
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// Checks floats for a table with `safe_integers`: DynamoDB stores a number without a
/// fraction as an integer (`1e21` as `1000000000000000000000`), so a float beyond
/// ±(2^53 − 1) reads back as an integer JavaScript cannot hold exactly. Not-a-number and
/// infinities are DynamoDB's own refusals and are left to it.
pub fn check_safe_floats<'a>(values: impl IntoIterator<Item = &'a f64>) -> Result<(), String> {
    match values
        .into_iter()
        .find(|v| v.is_finite() && v.abs() > MAX_SAFE_INTEGER as f64)
    {
        Some(v) => Err(format!(
            "{v:e} is beyond ±{MAX_SAFE_INTEGER}, and DynamoDB stores it as an integer a JavaScript reader of the table cannot hold exactly"
        )),
        None => Ok(()),
    }
}

/// Checks integers against the range JavaScript numbers hold exactly, ±(2^53 − 1), for a
/// table with `safe_integers`: `Err` names the first one outside it.
pub fn check_safe<'a>(values: impl IntoIterator<Item = &'a i64>) -> Result<(), String> {
    match values
        .into_iter()
        .find(|v| v.unsigned_abs() > MAX_SAFE_INTEGER as u64)
    {
        Some(v) => Err(format!(
            "{v} is beyond ±{MAX_SAFE_INTEGER}, which a JavaScript reader of the table cannot hold exactly"
        )),
        None => Ok(()),
    }
}

/// RFC 3339 in UTC with milliseconds, as stored (`2024-02-29T23:59:59.999Z`).
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(
            d,
            Timestamp::parse,
            "a timestamp like 2024-02-29T23:59:59.999Z",
        )
    }
}

/// An ISO date (`2024-02-29`).
impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        from_text(d, Date::parse, "a date like 2024-02-29")
    }
}

/// Reads a value from its text with `parse`, naming the text and `what` was expected.
fn from_text<'de, D: serde::Deserializer<'de>, T>(
    d: D,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, D::Error> {
    use serde::Deserialize;
    let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    parse(&text).ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not {what}")))
}

/// A value that a `Timestamp` or `Date` cannot hold (outside years 0000–9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutOfRange;

impl std::fmt::Display for OutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("outside years 0000 to 9999")
    }
}

impl std::error::Error for OutOfRange {}
