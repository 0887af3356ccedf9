//! Repeating maintenance: the RFC 5545 subset Curfew runs, checked here and expanded by
//! the `rrule` crate in the series' time zone, so that every occurrence keeps the first
//! one's wall time across daylight-saving changes. curfewd decides with this code; the app
//! and the CLI preview the next occurrences with the very same code.
//!
//! Invariant: a rule that [`Recurrence::parse`] accepts is weekly (with `BYDAY`) or monthly
//! (with `BYMONTHDAY`, or `BYDAY` with a position such as `1SA`), has `COUNT` or `UNTIL`,
//! and yields 1 to [`REPEAT_COUNT_MAX`] occurrences within [`REPEAT_SPAN_MAX`] of the first.

use chrono::{DateTime, SubsecRound, Utc};
use rrule::{RRule, Tz, Unvalidated};

use crate::api::Repeat;
use crate::limits::{REPEAT_COUNT_MAX, REPEAT_INTERVAL_MAX, REPEAT_RULE_MAX, REPEAT_SPAN_MAX};

/// Why a rule is refused: a code for the `{error, message}` answer and its sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatError {
    pub code: &'static str,
    pub message: String,
}

fn refuse<T>(code: &'static str, message: impl Into<String>) -> Result<T, RepeatError> {
    Err(RepeatError {
        code,
        message: message.into(),
    })
}

const EXAMPLE: &str =
    "Write it like FREQ=WEEKLY;BYDAY=MO;COUNT=10 or FREQ=MONTHLY;BYDAY=1SA;UNTIL=20271231T000000Z.";

/// The occurrences of a rule from a first start, all of them (there are few).
#[derive(Debug, Clone)]
pub struct Recurrence {
    starts: Vec<DateTime<Utc>>,
    description: String,
}

/// The parts of a rule Curfew reads itself (the rest is the crate's job).
struct Parts {
    monthly: bool,
    interval: u16,
    count: Option<usize>,
    until: Option<String>,
    by_day: Vec<String>,
    by_month_day: Vec<String>,
}

fn parts(rule: &str) -> Result<Parts, RepeatError> {
    let mut parts = Parts {
        monthly: false,
        interval: 1,
        count: None,
        until: None,
        by_day: Vec::new(),
        by_month_day: Vec::new(),
    };
    let mut freq = None;
    for part in rule.split(';').filter(|p| !p.is_empty()) {
        let Some((key, value)) = part.split_once('=') else {
            return refuse(
                "invalid_repeat",
                format!("The repeat rule has \"{part}\" where a NAME=value is expected. {EXAMPLE}"),
            );
        };
        let list = || value.split(',').map(|v| v.trim().to_uppercase()).collect();
        match key.trim().to_uppercase().as_str() {
            "FREQ" => freq = Some(value.trim().to_uppercase()),
            "INTERVAL" => match value.trim().parse::<u16>() {
                Ok(n) if (1..=REPEAT_INTERVAL_MAX).contains(&n) => parts.interval = n,
                _ => {
                    return refuse(
                        "invalid_repeat",
                        format!("INTERVAL must be 1 to {REPEAT_INTERVAL_MAX} (every 1 to {REPEAT_INTERVAL_MAX} weeks or months)."),
                    )
                }
            },
            "COUNT" => match value.trim().parse::<usize>() {
                Ok(n) if (1..=REPEAT_COUNT_MAX).contains(&n) => parts.count = Some(n),
                _ => {
                    return refuse(
                        "repeat_too_long",
                        format!("COUNT must be 1 to {REPEAT_COUNT_MAX}: a repeating maintenance happens at most {REPEAT_COUNT_MAX} times."),
                    )
                }
            },
            "UNTIL" => parts.until = Some(value.trim().to_owned()),
            "BYDAY" => parts.by_day = list(),
            "BYMONTHDAY" => parts.by_month_day = list(),
            "WKST" => {}
            other => {
                return refuse(
                    "repeat_unsupported",
                    format!("Curfew repeats weekly or monthly by day only; {other} is not supported. {EXAMPLE}"),
                )
            }
        }
    }
    match freq.as_deref() {
        Some("WEEKLY") => {
            if parts.by_day.is_empty() || !parts.by_month_day.is_empty() {
                return refuse(
                    "repeat_unsupported",
                    format!("A weekly rule names its days with BYDAY, such as BYDAY=MO,TH. {EXAMPLE}"),
                );
            }
            if parts.by_day.iter().any(|d| d.len() != 2) {
                return refuse(
                    "repeat_unsupported",
                    "A weekly rule's BYDAY has days without a position, such as BYDAY=MO,TH.",
                );
            }
        }
        Some("MONTHLY") => {
            parts.monthly = true;
            if parts.by_day.is_empty() == parts.by_month_day.is_empty() {
                return refuse(
                    "repeat_unsupported",
                    format!("A monthly rule has either BYMONTHDAY (such as BYMONTHDAY=1) or BYDAY with a position (such as BYDAY=1SA, the first Saturday). {EXAMPLE}"),
                );
            }
            if parts.by_day.iter().any(|d| d.len() <= 2) {
                return refuse(
                    "repeat_unsupported",
                    "A monthly BYDAY says which one of the month: 1SA is the first Saturday, -1FR the last Friday.",
                );
            }
        }
        _ => {
            return refuse(
                "repeat_unsupported",
                format!("A maintenance repeats weekly or monthly: the rule needs FREQ=WEEKLY or FREQ=MONTHLY. {EXAMPLE}"),
            )
        }
    }
    if parts.count.is_some() == parts.until.is_some() {
        return refuse(
            "repeat_unbounded",
            format!("Say when the repetition stops: give COUNT (how many times) or UNTIL (the last day), not both. {EXAMPLE}"),
        );
    }
    Ok(parts)
}

const DAY_NAMES: [(&str, &str); 7] = [
    ("MO", "Monday"),
    ("TU", "Tuesday"),
    ("WE", "Wednesday"),
    ("TH", "Thursday"),
    ("FR", "Friday"),
    ("SA", "Saturday"),
    ("SU", "Sunday"),
];

fn day_name(code: &str) -> &str {
    DAY_NAMES
        .iter()
        .find(|(c, _)| *c == code)
        .map_or(code, |(_, name)| name)
}

/// "1SA" → "the first Saturday", "-1FR" → "the last Friday".
fn positioned_day(code: &str) -> String {
    let (position, day) = code.split_at(code.len() - 2);
    let which = match position.trim_start_matches('+') {
        "1" => "first".to_owned(),
        "2" => "second".to_owned(),
        "3" => "third".to_owned(),
        "4" => "fourth".to_owned(),
        "-1" => "last".to_owned(),
        "-2" => "second-to-last".to_owned(),
        n => format!("number {n}"),
    };
    format!("the {which} {}", day_name(day))
}

/// "a", "a and b", "a, b and c"
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn describe(parts: &Parts, first: DateTime<rrule::Tz>, last: DateTime<Utc>, n: usize) -> String {
    let unit = if parts.monthly { "month" } else { "week" };
    let every = match parts.interval {
        1 => format!("every {unit}"),
        n => format!("every {n} {unit}s"),
    };
    let days: Vec<String> = if !parts.by_month_day.is_empty() {
        vec![format!(
            "day {}",
            and_list(
                &parts
                    .by_month_day
                    .iter()
                    .map(|d| d.to_string())
                    .collect::<Vec<_>>()
            )
        )]
    } else if parts.monthly {
        parts.by_day.iter().map(|d| positioned_day(d)).collect()
    } else {
        parts
            .by_day
            .iter()
            .map(|d| day_name(d).to_owned())
            .collect()
    };
    let times = match parts.count {
        Some(_) => format!("{n} times"),
        None => format!(
            "{n} times, until {}",
            last.with_timezone(&first.timezone()).format("%-d %b %Y")
        ),
    };
    format!(
        "{every} on {} at {} ({}), {times}",
        and_list(&days),
        first.format("%H:%M"),
        first.timezone().name()
    )
}

impl Recurrence {
    /// Checks `repeat` against the subset and the limits and expands it from `first` (to the
    /// second: a repeating window starts on a whole second).
    pub fn parse(repeat: &Repeat, first: DateTime<Utc>) -> Result<Recurrence, RepeatError> {
        let rule = repeat.rule.trim();
        let rule = rule.strip_prefix("RRULE:").unwrap_or(rule);
        if rule.is_empty() {
            return refuse(
                "invalid_repeat",
                format!("The repeat rule is empty. {EXAMPLE}"),
            );
        }
        if rule.chars().count() > REPEAT_RULE_MAX {
            return refuse(
                "invalid_repeat",
                format!("The repeat rule is longer than {REPEAT_RULE_MAX} characters; shorten it."),
            );
        }
        let parts = parts(rule)?;
        let zone: chrono_tz::Tz = match repeat.time_zone.trim().parse() {
            Ok(zone) => zone,
            Err(_) => {
                return refuse(
                    "unknown_time_zone",
                    format!(
                        "\"{}\" is not a time zone Curfew knows; give one such as Europe/Berlin.",
                        repeat.time_zone
                    ),
                )
            }
        };
        let start = first.trunc_subsecs(0).with_timezone(&Tz::Tz(zone));
        let unvalidated: RRule<Unvalidated> = match rule.parse() {
            Ok(rule) => rule,
            Err(e) => {
                return refuse(
                    "invalid_repeat",
                    format!("The repeat rule could not be read ({e}). {EXAMPLE}"),
                )
            }
        };
        let set = match unvalidated.build(start) {
            Ok(set) => set,
            Err(e) => {
                return refuse(
                    "invalid_repeat",
                    format!("The repeat rule does not hold ({e}). {EXAMPLE}"),
                )
            }
        };
        let starts: Vec<DateTime<Utc>> = set
            .all(REPEAT_COUNT_MAX as u16 + 1)
            .dates
            .into_iter()
            .map(|d| d.with_timezone(&Utc))
            .collect();
        let (Some(first_start), Some(last)) = (starts.first(), starts.last()) else {
            return refuse(
                "repeat_empty",
                "The repeat rule gives no occurrence from the start on: check its days and UNTIL.",
            );
        };
        if starts.len() > REPEAT_COUNT_MAX {
            return refuse(
                "repeat_too_long",
                format!("The repeat rule gives more than {REPEAT_COUNT_MAX} occurrences; end it sooner with UNTIL or COUNT."),
            );
        }
        if (*last - *first_start).num_seconds() > REPEAT_SPAN_MAX {
            return refuse(
                "repeat_too_long",
                format!(
                    "A repeating maintenance spans at most {} days from its first occurrence; end it sooner.",
                    REPEAT_SPAN_MAX / 86_400
                ),
            );
        }
        let description = describe(&parts, start, *last, starts.len());
        Ok(Recurrence {
            starts,
            description,
        })
    }

    /// Every occurrence's start, in order.
    pub fn starts(&self) -> &[DateTime<Utc>] {
        &self.starts
    }

    /// The occurrences starting strictly after `after`.
    pub fn after(&self, after: DateTime<Utc>) -> impl Iterator<Item = DateTime<Utc>> + '_ {
        self.starts.iter().copied().filter(move |s| *s > after)
    }

    /// The rule in words: "every week on Monday at 22:00 (Europe/Berlin), 10 times".
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The shortest time between two consecutive occurrences' starts, if there are two.
    pub fn shortest_gap_ms(&self) -> Option<i64> {
        self.starts
            .windows(2)
            .map(|w| (w[1] - w[0]).num_milliseconds())
            .min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn repeat(rule: &str, zone: &str) -> Repeat {
        Repeat {
            rule: rule.into(),
            time_zone: zone.into(),
        }
    }

    fn berlin(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Berlin
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn weekly_keeps_the_wall_time_across_daylight_saving() {
        // Mondays 22:00 in Berlin from 16 March 2026: the clocks go forward on 29 March.
        let r = Recurrence::parse(
            &repeat("FREQ=WEEKLY;BYDAY=MO;COUNT=4", "Europe/Berlin"),
            berlin(2026, 3, 16, 22, 0),
        )
        .unwrap();
        assert_eq!(
            r.starts(),
            [
                berlin(2026, 3, 16, 22, 0),
                berlin(2026, 3, 23, 22, 0),
                berlin(2026, 3, 30, 22, 0),
                berlin(2026, 4, 6, 22, 0),
            ]
        );
        // 21:00 UTC before the change, 20:00 UTC after it.
        assert_eq!(r.starts()[1].format("%H").to_string(), "21");
        assert_eq!(r.starts()[2].format("%H").to_string(), "20");
        assert_eq!(
            r.description(),
            "every week on Monday at 22:00 (Europe/Berlin), 4 times"
        );
    }

    #[test]
    fn monthly_on_the_first_saturday_until_a_day() {
        let r = Recurrence::parse(
            &repeat(
                "FREQ=MONTHLY;BYDAY=1SA;UNTIL=20260601T000000Z",
                "Europe/Berlin",
            ),
            berlin(2026, 1, 3, 6, 0),
        )
        .unwrap();
        let days: Vec<String> = r
            .starts()
            .iter()
            .map(|s| {
                s.with_timezone(&chrono_tz::Europe::Berlin)
                    .format("%d.%m %H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(
            days,
            [
                "03.01 06:00",
                "07.02 06:00",
                "07.03 06:00",
                "04.04 06:00",
                "02.05 06:00"
            ]
        );
        assert_eq!(
            r.description(),
            "every month on the first Saturday at 06:00 (Europe/Berlin), 5 times, until 2 May 2026"
        );
    }

    #[test]
    fn a_start_off_the_rule_begins_at_the_first_matching_day() {
        // Thursday 1 January 2026; the rule says Mondays, every 2 weeks, on the 15th too.
        let r = Recurrence::parse(
            &repeat("FREQ=MONTHLY;INTERVAL=2;BYMONTHDAY=1,15;COUNT=3", "UTC"),
            Utc.with_ymd_and_hms(2026, 1, 2, 8, 0, 0).unwrap(),
        )
        .unwrap();
        let days: Vec<String> = r
            .starts()
            .iter()
            .map(|s| s.format("%m-%d").to_string())
            .collect();
        assert_eq!(days, ["01-15", "03-01", "03-15"]);
        assert_eq!(r.shortest_gap_ms(), Some(14 * 86_400_000));
    }

    #[test]
    fn rules_outside_the_subset_or_the_limits_are_refused_with_a_reason() {
        let start = Utc.with_ymd_and_hms(2026, 1, 5, 8, 0, 0).unwrap();
        for (rule, zone, code) in [
            ("FREQ=DAILY;COUNT=3", "UTC", "repeat_unsupported"),
            ("FREQ=WEEKLY;COUNT=3", "UTC", "repeat_unsupported"),
            (
                "FREQ=WEEKLY;BYDAY=MO;BYHOUR=3;COUNT=3",
                "UTC",
                "repeat_unsupported",
            ),
            ("FREQ=MONTHLY;BYDAY=SA;COUNT=3", "UTC", "repeat_unsupported"),
            ("FREQ=WEEKLY;BYDAY=MO", "UTC", "repeat_unbounded"),
            ("FREQ=WEEKLY;BYDAY=MO;COUNT=101", "UTC", "repeat_too_long"),
            (
                "FREQ=WEEKLY;BYDAY=MO,TU;UNTIL=20290101T000000Z",
                "UTC",
                "repeat_too_long",
            ),
            (
                "FREQ=WEEKLY;BYDAY=MO;INTERVAL=13;COUNT=2",
                "UTC",
                "invalid_repeat",
            ),
            ("FREQ=WEEKLY;BYDAY=XX;COUNT=2", "UTC", "invalid_repeat"),
            (
                "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
                "Mars/Olympus",
                "unknown_time_zone",
            ),
            ("", "UTC", "invalid_repeat"),
        ] {
            let e = Recurrence::parse(&repeat(rule, zone), start).unwrap_err();
            assert_eq!(e.code, code, "{rule}: {}", e.message);
        }
    }
}
