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

#[test]
fn timestamps_from_other_writers_are_read_at_any_offset_and_as_bare_dates() {
    let t = |s: &str| Timestamp::parse(s).map(|t| t.to_string());
    let utc = Some("2020-01-02T03:04:05.000Z".to_string());
    assert_eq!(t("2020-01-02T05:04:05+02:00"), utc);
    assert_eq!(t("2020-01-01T22:04:05-05:00"), utc);
    assert_eq!(t("2020-01-02t03:04:05z"), utc);
    assert_eq!(t("2020-01-02T03:04:05Z"), utc);
    // More digits than milliseconds are truncated, as elsewhere.
    assert_eq!(
        t("2020-01-02T03:04:05.123999+00:00").as_deref(),
        Some("2020-01-02T03:04:05.123Z")
    );
    // An offset that crosses midnight, a month and a year, and a leap day.
    assert_eq!(
        t("2020-01-01T00:30:00+01:00").as_deref(),
        Some("2019-12-31T23:30:00.000Z")
    );
    assert_eq!(
        t("2024-03-01T00:00:00.5+00:01").as_deref(),
        Some("2024-02-29T23:59:00.500Z")
    );
    // A bare date is its midnight UTC.
    assert_eq!(t("2024-02-29").as_deref(), Some("2024-02-29T00:00:00.000Z"));
    // Outside years 0000 to 9999 once in UTC: refused, not clamped.
    assert_eq!(t("0000-01-01T00:30:00+01:00"), None);
    assert_eq!(t("9999-12-31T23:59:59-01:00"), None);
    assert_eq!(
        t("9999-12-31T23:59:59.999+00:00").as_deref(),
        Some("9999-12-31T23:59:59.999Z")
    );
    // Not RFC 3339.
    for bad in [
        "2020-01-02T03:04:05",
        "2020-01-02T03:04:05+0200",
        "2020-01-02T03:04:05+24:00",
        "2020-01-02T03:04:05.Z",
        "2020-01-02 03:04:05Z",
        "2020-01-02T3:04:05Z",
        "2020-01-02T03:04:05Zjunk",
        "2020-02-30",
        "2020-01-0",
        "",
    ] {
        assert_eq!(t(bad), None, "{bad}");
    }
}

#[test]
fn safe_integers_end_at_two_to_the_53_minus_one_on_both_sides() {
    use dyngen_runtime::value::{MAX_SAFE_INTEGER, check_safe};
    assert_eq!(MAX_SAFE_INTEGER, 9_007_199_254_740_991);
    assert!(check_safe(&[MAX_SAFE_INTEGER, -MAX_SAFE_INTEGER, 0]).is_ok());
    for bad in [
        MAX_SAFE_INTEGER + 1,
        -MAX_SAFE_INTEGER - 1,
        i64::MAX,
        i64::MIN,
    ] {
        let err = check_safe(&[1, bad]).unwrap_err();
        assert!(err.contains(&bad.to_string()), "{err}");
    }
    assert!(check_safe(&[]).is_ok());
}

#[test]
fn any_instant_written_at_any_offset_reads_back_as_that_instant() {
    // xorshift64*: the same instants and offsets on every machine.
    let mut state = 0x007e_570f_f5e7_u64;
    let mut next = || {
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let (min, max) = (Timestamp::MIN.unix_millis(), Timestamp::MAX.unix_millis());
    for _ in 0..5_000 {
        let millis = min + (next() % (max - min + 1) as u64) as i64;
        let t = Timestamp::from_unix_millis(millis).unwrap();
        let offset = (next() % (2 * 24 * 60 - 1)) as i64 - (24 * 60 - 1);
        // The same instant as the other writer would write it: local time and offset.
        let local = Timestamp::from_unix_millis(millis + offset * 60_000);
        let Some(local) = local else { continue };
        let stored = local.to_string();
        let sign = if offset < 0 { '-' } else { '+' };
        let zone = format!("{sign}{:02}:{:02}", offset.abs() / 60, offset.abs() % 60);
        let text = format!("{}{zone}", &stored[..stored.len() - 1]);
        assert_eq!(Timestamp::parse(&text), Some(t), "{text}");
    }
}
