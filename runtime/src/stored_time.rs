//! Timestamps stored as epoch numbers (`stored_as: epoch_seconds | epoch_millis` in the
//! schema), for tables other writers share: written in the chosen form, read in any form a
//! writer may have used (an epoch number in the attribute's unit, or RFC 3339 text).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::item::{Attr, ItemErrorKind};
use crate::value::Timestamp;

/// How a timestamp attribute is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimestampForm {
    /// RFC 3339 text in UTC with milliseconds (`S`): the default.
    Rfc3339,
    /// Whole seconds since 1970 (`N`); milliseconds are dropped (rounded down).
    EpochSeconds,
    /// Milliseconds since 1970 (`N`).
    EpochMillis,
}

impl TimestampForm {
    /// The stored value of `t`.
    pub fn to_av(self, t: &Timestamp) -> AttributeValue {
        match self {
            TimestampForm::Rfc3339 => t.to_av(),
            TimestampForm::EpochSeconds => {
                AttributeValue::N(t.unix_millis().div_euclid(1000).to_string())
            }
            TimestampForm::EpochMillis => AttributeValue::N(t.unix_millis().to_string()),
        }
    }

    /// Reads a stored value: RFC 3339 text whatever the form, and a number in this form's
    /// unit (a number in an attribute declared as text is refused: its unit is unknown).
    pub fn from_av(self, av: &AttributeValue) -> Result<Timestamp, ItemErrorKind> {
        match (self, av) {
            (_, AttributeValue::S(_)) | (TimestampForm::Rfc3339, _) => Timestamp::from_av(av),
            (_, AttributeValue::N(n)) => {
                let count: i64 = n.parse().map_err(|_| ItemErrorKind::Invalid {
                    reason: format!("`{n}` is not a whole number of epoch {}", self.unit()),
                })?;
                self.instant_after(count)
            }
            _ => Err(ItemErrorKind::WrongType { expected: "N" }),
        }
    }

    /// The instant `count` of this form's units after 1970, when it lies in years 0000 to
    /// 9999 (the TTL reader shares it).
    pub(crate) fn instant_after(self, count: i64) -> Result<Timestamp, ItemErrorKind> {
        let per_unit = match self {
            TimestampForm::EpochSeconds => 1000,
            _ => 1,
        };
        count
            .checked_mul(per_unit)
            .and_then(Timestamp::from_unix_millis)
            .ok_or_else(|| ItemErrorKind::Invalid {
                reason: format!(
                    "{count} epoch {} is outside years 0000 to 9999",
                    self.unit()
                ),
            })
    }

    fn unit(self) -> &'static str {
        match self {
            TimestampForm::EpochSeconds => "seconds",
            _ => "milliseconds",
        }
    }
}

/// A timestamp stored as epoch seconds: the value generated code converts for an attribute
/// with `stored_as: epoch_seconds`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochSeconds(pub Timestamp);

/// A timestamp stored as epoch milliseconds (`stored_as: epoch_millis`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochMillis(pub Timestamp);

impl Attr for EpochSeconds {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        TimestampForm::EpochSeconds.to_av(&self.0)
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        TimestampForm::EpochSeconds.from_av(av).map(EpochSeconds)
    }
}

impl Attr for EpochMillis {
    #[inline]
    fn to_av(&self) -> AttributeValue {
        TimestampForm::EpochMillis.to_av(&self.0)
    }
    #[inline]
    fn from_av(av: &AttributeValue) -> Result<Self, ItemErrorKind> {
        TimestampForm::EpochMillis.from_av(av).map(EpochMillis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(v: &str) -> AttributeValue {
        AttributeValue::N(v.into())
    }

    #[test]
    fn each_form_writes_its_own_and_reads_text_and_its_unit() {
        let t = Timestamp::parse("2024-02-29T23:59:59.999Z").unwrap();
        assert_eq!(TimestampForm::EpochMillis.to_av(&t), n("1709251199999"));
        assert_eq!(TimestampForm::EpochSeconds.to_av(&t), n("1709251199"));
        assert_eq!(
            TimestampForm::EpochMillis.from_av(&n("1709251199999")),
            Ok(t)
        );
        let second = Timestamp::parse("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(
            TimestampForm::EpochSeconds.from_av(&n("1709251199")),
            Ok(second)
        );
        // Text, as another writer may have stored it, reads in every form.
        let text = AttributeValue::S("2024-03-01T00:59:59.999+01:00".into());
        for form in [
            TimestampForm::Rfc3339,
            TimestampForm::EpochSeconds,
            TimestampForm::EpochMillis,
        ] {
            assert_eq!(form.from_av(&text), Ok(t));
        }
        // Before 1970 the seconds round down, so the value never moves later.
        let early = Timestamp::parse("1969-12-31T23:59:59.500Z").unwrap();
        assert_eq!(TimestampForm::EpochSeconds.to_av(&early), n("-1"));
    }

    #[test]
    fn numbers_outside_the_range_or_the_unit_are_refused() {
        let max = Timestamp::parse("9999-12-31T23:59:59.999Z").unwrap();
        let min = Timestamp::parse("0000-01-01T00:00:00Z").unwrap();
        for t in [max, min] {
            for form in [TimestampForm::EpochSeconds, TimestampForm::EpochMillis] {
                let back = form.from_av(&form.to_av(&t)).unwrap();
                assert_eq!(
                    back.unix_millis().div_euclid(1000),
                    t.unix_millis().div_euclid(1000)
                );
            }
        }
        let over = (max.unix_millis() + 1).to_string();
        assert!(TimestampForm::EpochMillis.from_av(&n(&over)).is_err());
        assert!(
            TimestampForm::EpochSeconds
                .from_av(&n("9223372036854775807"))
                .is_err()
        );
        assert!(TimestampForm::EpochMillis.from_av(&n("1.5")).is_err());
        // A number where text is declared: the unit is unknown, so it is not guessed.
        assert!(TimestampForm::Rfc3339.from_av(&n("1709251199")).is_err());
        assert!(
            TimestampForm::EpochMillis
                .from_av(&AttributeValue::Bool(true))
                .is_err()
        );
    }
}
