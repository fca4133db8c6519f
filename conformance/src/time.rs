//! Calendar arithmetic for the timestamps the tools write and read: the mock's ReCharge
//! timestamps and HAR entries' start times. Proleptic Gregorian, UTC, no leap seconds (what
//! RFC 3339 and both APIs use); Howard Hinnant's day-count algorithms.

/// RFC 3339 with microseconds and an explicit offset, as ReCharge sends
/// (`2019-01-10T14:51:26.864619+00:00`).
pub fn rfc3339_micros(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let micros = ms.rem_euclid(1000) * 1000;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    let (h, min, sec) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    let year = match u32::try_from(y) {
        Ok(year) if year <= 9999 => year,
        _ => return format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{sec:02}.{micros:06}+00:00"),
    };
    // Written digit by digit: every stored ReCharge object carries several of these.
    let mut out = *b"0000-00-00T00:00:00.000000+00:00";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for i in (at..at + width).rev() {
            out[i] = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, m);
    put(8, 2, d);
    // In range by construction: 0..24, 0..60, 0..60, 0..1_000_000.
    put(11, 2, u32::try_from(h).unwrap_or(0));
    put(14, 2, u32::try_from(min).unwrap_or(0));
    put(17, 2, u32::try_from(sec).unwrap_or(0));
    put(20, 6, u32::try_from(micros).unwrap_or(0));
    String::from_utf8_lossy(&out).into_owned()
}

/// ISO 8601 / RFC 3339 date-time → nanoseconds since the Unix epoch (UTC): enough to order
/// entries across time zones. `YYYY-MM-DDTHH:MM:SS[.fraction][Z|±HH:MM|±HHMM]`.
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let s = s.trim();
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, minute, second) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 {
        return None;
    }
    if second > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let digits = &s[start..i];
        if digits.is_empty() {
            return None;
        }
        let mut padded: String = digits.chars().take(9).collect();
        while padded.len() < 9 {
            padded.push('0');
        }
        nanos = padded.parse().ok()?;
    }
    let offset_minutes: i64 = match &s[i..] {
        "" | "Z" | "z" => 0,
        tz => {
            let sign = match tz.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let digits: String = tz[1..].chars().filter(|c| *c != ':').collect();
            if digits.len() != 4 || !digits.bytes().all(|c| c.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            sign * (h * 60 + m)
        }
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    Some(i128::from(seconds) * 1_000_000_000 + nanos)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 → (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    (
        y,
        u32::try_from(m).unwrap_or(1),
        u32::try_from(d).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// The digit-by-digit writer against the formatter, over eras, leap days, the ends of
    /// days and years, and years outside four digits (written by the formatter).
    #[test]
    fn timestamps_are_written_as_the_formatter_writes_them() {
        let reference = |ms: i64| {
            let (secs, micros) = (ms.div_euclid(1000), ms.rem_euclid(1000) * 1000);
            let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
            let (y, m, d) = civil_from_days(days);
            format!(
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
                sod / 3600,
                (sod % 3600) / 60,
                sod % 60
            )
        };
        let day = 86_400_000_i64;
        let mut checked = 0;
        for base in [
            -62_167_219_200_000,
            -1,
            0,
            951_782_400_000,
            4_102_444_799_999,
            253_402_300_799_999,
            253_402_300_800_000,
        ] {
            for step in [0, 1, 999, 1000, 59_999, 3_599_999, day - 1, day, 366 * day] {
                for ms in [base + step, base - step] {
                    assert_eq!(rfc3339_micros(ms), reference(ms), "{ms}");
                    checked += 1;
                }
            }
        }
        // Every millisecond-ish point of four years, leap day included.
        let mut ms = 946_684_800_000_i64;
        while ms < 1_072_915_200_000 {
            assert_eq!(rfc3339_micros(ms), reference(ms), "{ms}");
            ms += 7_777_777;
            checked += 1;
        }
        assert!(checked > 16_000);
    }

    #[test]
    fn timestamps_format_like_recharge() {
        assert_eq!(
            rfc3339_micros(1_547_131_886_864),
            "2019-01-10T14:51:26.864000+00:00"
        );
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            rfc3339_micros(crate::mock::FIXED_EPOCH_SECONDS * 1000),
            "2023-12-21T07:42:47.000000+00:00"
        );
    }

    #[test]
    fn dates_order_across_zones() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(
            parse_rfc3339("1970-01-01T01:00:00.5+01:00"),
            Some(500_000_000)
        );
        assert_eq!(
            parse_rfc3339("2024-03-01T10:00:00.000-0130"),
            parse_rfc3339("2024-03-01T11:30:00Z")
        );
        assert!(parse_rfc3339("2024-02-29T00:00:00Z").unwrap() > 0);
        for bad in [
            "",
            "yesterday",
            "2024-13-01T00:00:00Z",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T00:00:00+1",
            "2024-01-01T00:00:00Q",
            "2024-01-01T0a:00:00Z",
            "２０２４-01-01T00:00:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn formatting_and_parsing_agree() {
        // Every day from 1600 to 2400 (leap centuries included), at an odd time of day.
        for days in (-135_140..157_000).step_by(7) {
            let ms = days * 86_400_000 + 49_531_123;
            let text = rfc3339_micros(ms);
            assert_eq!(
                parse_rfc3339(&text),
                Some(i128::from(ms) * 1_000_000),
                "{text}"
            );
            assert_eq!(days_from_civil_of(&text), days, "{text}");
        }
    }

    fn days_from_civil_of(text: &str) -> i64 {
        let n = |r: std::ops::Range<usize>| text[r].parse::<i64>().unwrap();
        days_from_civil(n(0..4), n(5..7), n(8..10))
    }
}
