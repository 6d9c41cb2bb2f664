//! Civil-calendar arithmetic (proleptic Gregorian, UTC) without any date library.

/// Days since 1970-01-01 for a civil date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe - 719_468) as i32
}

/// Civil date for days since 1970-01-01.
pub fn civil_from_days(z: i32) -> (i64, u32, u32) {
    let z = i64::from(z) + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD`.
pub fn fmt_date(days: i32) -> String {
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Milliseconds since the epoch for midnight UTC of a civil date.
pub fn ms_from_civil(y: i64, m: u32, d: u32) -> i64 {
    i64::from(days_from_civil(y, m, d)) * 86_400_000
}

/// `YYYY-MM-DDTHH:MM:SSZ` (with `.mmm` only when the milliseconds are not zero).
pub fn fmt_ts(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (h, mi, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    let date = fmt_date(days as i32);
    if milli == 0 {
        format!("{date}T{h:02}:{mi:02}:{s:02}Z")
    } else {
        format!("{date}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        for z in [-25_000, -1, 0, 59, 11_016, 20_000, 30_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(fmt_date(days_from_civil(2024, 2, 29)), "2024-02-29");
        assert_eq!(
            fmt_ts(ms_from_civil(2025, 6, 30) + 3_723_000),
            "2025-06-30T01:02:03Z"
        );
    }
}
