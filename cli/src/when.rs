//! `WHEN` and durations as people type them, in local time (jiff: the system time zone,
//! DST gaps and folds resolved the compatible way, as RFC 9557 does).
//!
//! WHEN: RFC 3339 (`2026-12-05T22:00:00Z`, `2026-12-05T22:00:00+01:00`), a local date and
//! time (`2026-12-05 22:00`), `now`, `in 2h` / `in 1h30m`, `2h ago`, `22:00` (the next one
//! for a start, the last one for `--since`), `today 22:00`, `tomorrow 22:00`,
//! `yesterday 08:00`. Durations: `60m`, `1h30m`, `90s`, `2 hours` (jiff's friendly format).

use jiff::civil::{DateTime, Time};
use jiff::{SignedDuration, Timestamp, ZonedDateTime};

/// Which way a bare time of day points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toward {
    /// A start: `22:00` is the next 22:00.
    Future,
    /// `--since`: `22:00` is the last 22:00.
    Past,
}

const FORMS: &str =
    "use RFC 3339 (2026-12-05T22:00:00Z), \"in 2h\", \"tomorrow 22:00\" or \"22:00\"";

pub fn parse_when(input: &str, now: &ZonedDateTime, toward: Toward) -> Result<Timestamp, String> {
    let text = input.trim();
    let lower = text.to_ascii_lowercase();
    let bad = || format!("{text:?} is not a time: {FORMS}.");
    if let Ok(ts) = text.parse::<Timestamp>() {
        return Ok(ts);
    }
    if let Ok(civil) = text.parse::<DateTime>() {
        return local(civil, now).map_err(|_| bad());
    }
    if lower == "now" {
        return Ok(now.timestamp());
    }
    if let Some(rest) = lower.strip_prefix("in ") {
        return now
            .timestamp()
            .checked_add(parse_duration(rest)?)
            .map_err(|_| bad());
    }
    if let Some(rest) = lower.strip_suffix(" ago") {
        return now
            .timestamp()
            .checked_sub(parse_duration(rest)?)
            .map_err(|_| bad());
    }
    let (days, time_text) = if let Some(rest) = lower.strip_prefix("tomorrow") {
        (Some(1), rest.trim())
    } else if let Some(rest) = lower.strip_prefix("today") {
        (Some(0), rest.trim())
    } else if let Some(rest) = lower.strip_prefix("yesterday") {
        (Some(-1), rest.trim())
    } else {
        (None, lower.as_str())
    };
    let time_text = time_text.strip_prefix("at ").unwrap_or(time_text).trim();
    if time_text.is_empty() {
        return Err(format!(
            "{text:?} needs a time of day, such as \"tomorrow 22:00\"."
        ));
    }
    let time: Time = time_text.parse().map_err(|_| bad())?;
    let today = now.date();
    let at = |offset: i64| -> Result<Timestamp, String> {
        let date = today
            .checked_add(SignedDuration::from_hours(24 * offset))
            .map_err(|_| bad())?;
        local(date.to_datetime(time), now).map_err(|_| bad())
    };
    match days {
        Some(offset) => at(offset),
        None => {
            let candidate = at(0)?;
            match toward {
                Toward::Future if candidate <= now.timestamp() => at(1),
                Toward::Past if candidate > now.timestamp() => at(-1),
                _ => Ok(candidate),
            }
        }
    }
}

fn local(civil: DateTime, now: &ZonedDateTime) -> Result<Timestamp, jiff::Error> {
    Ok(civil
        .to_zoned_datetime(now.time_zone().clone())?
        .timestamp())
}

/// A positive duration such as `60m`, `1h30m` or `90s`.
pub fn parse_duration(input: &str) -> Result<SignedDuration, String> {
    let text = input.trim();
    let duration: SignedDuration = text.parse().map_err(|_| {
        format!("{text:?} is not a duration: use a number with a unit, such as 60m, 1h30m or 90s.")
    })?;
    if duration.is_negative() {
        return Err(format!("{text:?} is negative: durations count forwards."));
    }
    Ok(duration)
}

/// A duration in whole seconds, as the contract counts them.
pub fn parse_seconds(input: &str) -> Result<i64, String> {
    let duration = parse_duration(input)?;
    if duration.subsec_nanos() != 0 {
        return Err(format!("{input:?} is not a whole number of seconds."));
    }
    Ok(duration.as_secs())
}

/// A duration in seconds as people read it: `1h30m`, `15m`, `45s`.
pub fn human_seconds(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    let mut out = String::new();
    for (value, unit) in [(d, "d"), (h, "h"), (m, "m"), (s, "s")] {
        if value != 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

pub fn to_chrono(ts: Timestamp) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(ts.as_second(), ts.subsec_nanosecond().max(0) as u32)
        .expect("jiff's range is inside chrono's")
}

/// A moment in the system's local time: `Sat 2026-12-05 22:00 CET`.
pub fn local_time(at: chrono::DateTime<chrono::Utc>) -> String {
    match Timestamp::from_second(at.timestamp()) {
        Ok(ts) => ts
            .to_zoned_datetime(jiff::tz::TimeZone::system())
            .strftime("%a %Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => at.to_rfc3339(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::{offset, TimeZone};

    fn now() -> ZonedDateTime {
        // Saturday 5 December 2026, 18:30 at UTC+1.
        date(2026, 12, 5)
            .at(18, 30, 0, 0)
            .to_zoned_datetime(TimeZone::fixed(offset(1)))
            .unwrap()
    }

    fn utc(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn every_form_of_when() {
        let now = now();
        let f = |s| parse_when(s, &now, Toward::Future).unwrap();
        let p = |s| parse_when(s, &now, Toward::Past).unwrap();
        assert_eq!(f("2026-12-06T21:00:00Z"), utc("2026-12-06T21:00:00Z"));
        assert_eq!(f("2026-12-06T22:00:00+01:00"), utc("2026-12-06T21:00:00Z"));
        assert_eq!(f("2026-12-06 22:00"), utc("2026-12-06T21:00:00Z"));
        assert_eq!(f("now"), utc("2026-12-05T17:30:00Z"));
        assert_eq!(f("in 2h"), utc("2026-12-05T19:30:00Z"));
        assert_eq!(f("In 1h30m"), utc("2026-12-05T19:00:00Z"));
        assert_eq!(f("2h ago"), utc("2026-12-05T15:30:00Z"));
        assert_eq!(f("tomorrow 22:00"), utc("2026-12-06T21:00:00Z"));
        assert_eq!(f("tomorrow at 07:15"), utc("2026-12-06T06:15:00Z"));
        assert_eq!(f("today 22:00"), utc("2026-12-05T21:00:00Z"));
        assert_eq!(p("yesterday 08:00"), utc("2026-12-04T07:00:00Z"));
        // A bare time: the next one for a start, the last one for --since.
        assert_eq!(f("22:00"), utc("2026-12-05T21:00:00Z"));
        assert_eq!(f("08:00"), utc("2026-12-06T07:00:00Z"));
        assert_eq!(p("08:00"), utc("2026-12-05T07:00:00Z"));
        assert_eq!(p("22:00"), utc("2026-12-04T21:00:00Z"));
    }

    #[test]
    fn nonsense_is_refused_with_the_forms_that_work() {
        let now = now();
        for bad in ["soon", "tomorrow", "in two hours", "25:00", "in -2h", ""] {
            let error = parse_when(bad, &now, Toward::Future).unwrap_err();
            assert!(
                error.contains("\"in 2h\"")
                    || error.contains("tomorrow 22:00")
                    || error.contains("duration")
                    || error.contains("negative"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_seconds("60m").unwrap(), 3600);
        assert_eq!(parse_seconds("1h30m").unwrap(), 5400);
        assert_eq!(parse_seconds("90s").unwrap(), 90);
        assert_eq!(parse_seconds("2 hours").unwrap(), 7200);
        assert!(parse_seconds("300").is_err());
        assert!(parse_seconds("-5m").is_err());
        assert_eq!(human_seconds(5400), "1h30m");
        assert_eq!(human_seconds(60), "1m");
        assert_eq!(human_seconds(0), "0s");
    }
}
