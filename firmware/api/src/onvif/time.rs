//! UTC instants as xs:dateTime text and as the date and time parts ONVIF
//! answers carry, without a calendar crate: the civil-date conversions of
//! the proleptic Gregorian calendar (days since 1970-01-01 either way).

use crate::hmp::time::civil_from_days;

/// A UTC instant split into its calendar parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

impl Utc {
    pub fn from_unix(unix: i64) -> Utc {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        Utc {
            year,
            month,
            day,
            hour: secs / 3600,
            minute: secs / 60 % 60,
            second: secs % 60,
        }
    }

    /// `YYYY-MM-DDThh:mm:ssZ`.
    #[cfg(test)]
    pub fn iso8601(&self) -> String {
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// Seconds since the Unix epoch now (0 for a clock before it).
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// An xs:dateTime (`YYYY-MM-DDThh:mm:ss[.fraction][Z|±hh:mm]`) as seconds
/// since the Unix epoch; no zone means UTC. `None` if malformed.
pub fn parse(text: &str) -> Option<i64> {
    let (date, time) = text.split_once('T')?;
    let mut d = date.splitn(3, '-');
    let year: i64 = digits(d.next()?, 4)?;
    let month: u32 = digits(d.next()?, 2)? as u32;
    let day: u32 = digits(d.next()?, 2)? as u32;
    let (clock, offset) = split_zone(time)?;
    let clock = clock.split('.').next()?;
    let mut t = clock.splitn(3, ':');
    let hour = digits(t.next()?, 2)?;
    let minute = digits(t.next()?, 2)?;
    let second = digits(t.next()?, 2)?;
    let valid = (1..=12).contains(&month)
        && (1..=days_in_month(year, month)).contains(&day)
        && hour < 24
        && minute < 60
        && second < 61;
    if !valid {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * 86_400 + hour * 3600 + minute * 60 + second - offset)
}

/// The clock part and the zone's offset east of UTC in seconds.
fn split_zone(time: &str) -> Option<(&str, i64)> {
    if let Some(clock) = time.strip_suffix('Z') {
        return Some((clock, 0));
    }
    let Some(at) = time.rfind(['+', '-']) else {
        return Some((time, 0));
    };
    let (clock, zone) = time.split_at(at);
    let sign = if zone.starts_with('-') { -1 } else { 1 };
    let (h, m) = zone[1..].split_once(':')?;
    let offset = digits(h, 2)? * 3600 + digits(m, 2)? * 60;
    Some((clock, sign * offset))
}

fn digits(text: &str, width: usize) -> Option<i64> {
    if text.len() != width || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

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

    #[test]
    fn date_times_parse_with_any_zone_and_fraction() {
        assert_eq!(parse("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse("2010-09-16T07:50:45Z"), Some(1_284_623_445));
        assert_eq!(parse("2010-09-16T07:50:45.123Z"), Some(1_284_623_445));
        assert_eq!(parse("2010-09-16T07:50:45+00:00"), Some(1_284_623_445));
        assert_eq!(parse("2010-09-16T09:50:45+02:00"), Some(1_284_623_445));
        assert_eq!(parse("2010-09-16T02:50:45-05:00"), Some(1_284_623_445));
        assert_eq!(parse("2010-09-16T07:50:45"), Some(1_284_623_445));
        assert_eq!(parse("2024-02-29T00:00:00Z"), Some(1_709_164_800));
        for bad in [
            "",
            "2010-09-16",
            "2010-9-16T07:50:45Z",
            "2010-13-01T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "2010-09-16T24:00:00Z",
            "2010-09-16T07:50:45+0200",
            "yesterday",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn instants_split_into_utc_parts_and_back() {
        let t = Utc::from_unix(1_284_623_445);
        assert_eq!(t.iso8601(), "2010-09-16T07:50:45Z");
        for unix in [0, 951_782_400, 1_709_164_800, 4_102_444_800, 1_284_623_445] {
            assert_eq!(parse(&Utc::from_unix(unix).iso8601()), Some(unix));
        }
    }
}
