//! The `Retry-After` header of a `503` or `429` answer (RFC 9110, 10.2.3):
//! how long the server asks to be left alone, as delta-seconds (`120`) or
//! as an HTTP-date (`Tue, 01 Dec 2026 04:00:00 GMT`, or one of the two
//! obsolete forms every recipient must still read).
//!
//! This module only reads the header. What the schedule does with it (at
//! least that long, jittered, capped at the refresh period) is
//! `refresh::retry_after_wait`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What a server asked, as the log record of its URL shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryAfter {
    /// How long from the moment the answer arrived.
    pub wait: Duration,
    /// The header's value as sent, for the log: only kept when it parsed,
    /// so it holds nothing but digits or a date, and cut after `SHOWN_BYTES`
    /// (a long run of digits saturates anyway).
    pub value: String,
}

impl RetryAfter {
    /// The header value, read at `now`; `None` when it is neither form (a
    /// header the schedule then ignores, as RFC 9110 lets a client do).
    pub fn parse(value: &str, now: SystemTime) -> Option<RetryAfter> {
        let value = value.trim();
        let wait = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            // Absurd values saturate: the schedule caps them at the period anyway.
            Duration::from_secs(value.parse().unwrap_or(u64::MAX))
        } else {
            let at = http_date(value, now)?;
            at.duration_since(now).unwrap_or(Duration::ZERO)
        };
        // What parsed is ASCII, so the cut falls between characters.
        let value = match value.get(..SHOWN_BYTES) {
            Some(head) if value.len() > SHOWN_BYTES => format!("{head}..."),
            _ => value.to_owned(),
        };
        Some(RetryAfter { wait, value })
    }

    /// "the server asks to wait 120 s (Retry-After: 120)".
    pub fn describe(&self) -> String {
        format!("the server asks to wait {} s (Retry-After: {})", self.wait.as_secs(), self.value)
    }
}

/// A log line shows at most this much of the header (a date takes 29).
const SHOWN_BYTES: usize = 40;

const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// An HTTP-date in any of its three forms (RFC 9110, 5.6.7):
/// `Sun, 06 Nov 1994 08:49:37 GMT` (IMF-fixdate), `Sunday, 06-Nov-94
/// 08:49:37 GMT` (RFC 850) and `Sun Nov  6 08:49:37 1994` (asctime). `now`
/// places an RFC 850 two-digit year.
fn http_date(text: &str, now: SystemTime) -> Option<SystemTime> {
    let tokens: Vec<&str> = text.split([' ', ',', '-']).filter(|t| !t.is_empty()).collect();
    let (day, month, year, time) = match tokens.as_slice() {
        [weekday, day, month, year, time, "GMT"] if is_word(weekday) => (*day, *month, *year, *time),
        [weekday, month, day, time, year] if is_word(weekday) => (*day, *month, *year, *time),
        _ => return None,
    };
    let day: u32 = number(day, 1, 2)?;
    let month = MONTHS.iter().position(|m| *m == month)? as u32 + 1;
    let year: i64 = match year.len() {
        4 => number(year, 4, 4)?,
        2 => two_digit_year(number(year, 2, 2)?, now),
        _ => return None,
    };
    let mut hms = time.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() {
        return None;
    }
    let (h, m, s): (u64, u64, u64) = (number(h, 2, 2)?, number(m, 2, 2)?, number(s, 2, 2)?);
    if day == 0 || day > days_in_month(year, month) || h > 23 || m > 59 || s > 60 {
        return None;
    }
    let days = u64::try_from(days_from_civil(year, month, day)).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

fn is_word(token: &str) -> bool {
    token.len() >= 3 && token.bytes().all(|b| b.is_ascii_alphabetic())
}

/// A decimal number of `min..=max` digits and nothing else.
fn number<T: std::str::FromStr>(token: &str, min: usize, max: usize) -> Option<T> {
    let ok = (min..=max).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| token.parse().ok()).flatten()
}

/// RFC 9110: a two-digit year that would be more than 50 years in the
/// future is the most recent past year with those digits.
fn two_digit_year(yy: i64, now: SystemTime) -> i64 {
    let this_year = civil_year(now);
    let year = this_year - this_year % 100 + yy;
    if year > this_year + 50 {
        year - 100
    } else {
        year
    }
}

fn civil_year(t: SystemTime) -> i64 {
    let days = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() / 86_400) as i64;
    // Inverse of days_from_civil, year only (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    yoe + era * 400 + i64::from(mp >= 10)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sun, 06 Nov 1994 08:49:37 GMT, the example of RFC 9110.
    const RFC_EXAMPLE: u64 = 784_111_777;

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn delta_seconds_are_read_as_they_are_and_absurd_ones_saturate() {
        let now = SystemTime::now();
        assert_eq!(RetryAfter::parse("120", now).unwrap().wait, Duration::from_secs(120));
        assert_eq!(RetryAfter::parse(" 0 ", now).unwrap().wait, Duration::ZERO);
        let huge = RetryAfter::parse("99999999999999999999999", now).unwrap();
        assert_eq!(huge.wait, Duration::from_secs(u64::MAX));
        let endless = RetryAfter::parse(&"9".repeat(8000), now).unwrap();
        assert_eq!(endless.value, format!("{}...", "9".repeat(SHOWN_BYTES)), "a log line stays short");
        assert_eq!(RetryAfter::parse("6", now).unwrap().describe(), "the server asks to wait 6 s (Retry-After: 6)");
    }

    #[test]
    fn the_three_date_forms_give_the_same_instant() {
        let now = at(RFC_EXAMPLE - 90);
        for form in ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"] {
            assert_eq!(RetryAfter::parse(form, now).map(|r| r.wait), Some(Duration::from_secs(90)), "{form}");
        }
    }

    #[test]
    fn a_date_in_the_past_means_now() {
        let past = RetryAfter::parse("Sun, 06 Nov 1994 08:49:37 GMT", at(RFC_EXAMPLE + 3600)).unwrap();
        assert_eq!(past.wait, Duration::ZERO);
    }

    #[test]
    fn dates_agree_with_the_calendar() {
        // 2000 was a leap year, 1900 was not; 2026-12-01 is day 20 788.
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2026, 12, 1), 20_788);
        assert_eq!(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);
        assert_eq!(civil_year(at(20_788 * 86_400)), 2026);
        assert_eq!(civil_year(at(0)), 1970);
        let now = at(20_788 * 86_400);
        assert!(http_date("Tue, 29 Feb 2000 00:00:00 GMT", now).is_some());
        assert!(http_date("Mon, 29 Feb 1900 00:00:00 GMT", now).is_none());
        assert_eq!(two_digit_year(94, now), 1994);
        assert_eq!(two_digit_year(30, now), 2030);
    }

    #[test]
    fn anything_else_is_ignored() {
        let now = SystemTime::now();
        for bad in [
            "",
            "-5",
            "1.5",
            "soon",
            "6 s",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "06 Nov 1994 08:49:37 GMT",
        ] {
            assert_eq!(RetryAfter::parse(bad, now), None, "{bad:?}");
        }
    }
}
