//! The `Date` header value, formatted at most once a second per thread.

use std::cell::RefCell;
use std::io::Write;
use std::time::{Duration, UNIX_EPOCH};

use rustix::time::{clock_gettime, ClockId};

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110 §5.6.7 IMF-fixdate) is 29 bytes.
const DATE_LEN: usize = 29;

struct CachedDate {
    second: u64,
    text: [u8; DATE_LEN],
}

thread_local! {
    static CACHE: RefCell<CachedDate> = const {
        RefCell::new(CachedDate { second: u64::MAX, text: [0; DATE_LEN] })
    };
}

/// The second, since the epoch, that the `Date` of a response encoded now
/// names. A response encoded later names this second or a later one
/// (unless the system clock is set back).
pub(crate) fn current_second() -> u64 {
    // The coarse clock (the time at the last timer tick, a few ms behind)
    // is read without the TSC: it is on every response, and a Date is to
    // the second anyway.
    u64::try_from(clock_gettime(ClockId::RealtimeCoarse).tv_sec).unwrap_or(0)
}

/// Appends the current `Date` value to `out`.
pub(crate) fn append_date(out: &mut Vec<u8>) {
    let second = current_second();
    let now = UNIX_EPOCH + Duration::from_secs(second);
    CACHE.with(|cache| {
        let mut cache = cache.borrow_mut();
        if cache.second != second {
            // Formatted in place: `fmt_http_date` would allocate a String a
            // second per thread, which the allocation test would see.
            let mut text = [0; DATE_LEN];
            let mut cursor = &mut text[..];
            // Always 29 bytes for years 1970-9999, which SystemTime stays
            // within here; a longer one fails to fit and goes out uncached.
            if write!(cursor, "{}", httpdate::HttpDate::from(now)).is_ok() && cursor.is_empty() {
                cache.text = text;
                cache.second = second;
            } else {
                out.extend_from_slice(httpdate::fmt_http_date(now).as_bytes());
                return;
            }
        }
        out.extend_from_slice(&cache.text);
    });
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    #[test]
    fn date_is_an_imf_fixdate_that_parses_back() {
        let mut out = Vec::new();
        append_date(&mut out);
        append_date(&mut out);
        assert_eq!(out.len(), 2 * DATE_LEN);
        let text = std::str::from_utf8(&out[..DATE_LEN]).unwrap();
        assert!(text.ends_with(" GMT"), "{text}");
        let parsed = httpdate::parse_http_date(text).unwrap();
        let age = SystemTime::now().duration_since(parsed).unwrap();
        assert!(age.as_secs() < 5);
    }

    /// Within one second the cached text is reused, not formatted again.
    #[test]
    fn date_is_formatted_at_most_once_a_second() {
        for _ in 0..3 {
            append_date(&mut Vec::new());
            let second = CACHE.with(|c| c.borrow().second);
            CACHE.with(|c| c.borrow_mut().text = *b"Xxx, 00 Xxx 0000 00:00:00 GMT");
            let mut out = Vec::new();
            append_date(&mut out);
            if CACHE.with(|c| c.borrow().second) == second {
                assert_eq!(out, b"Xxx, 00 Xxx 0000 00:00:00 GMT");
                return;
            }
            // The second changed between the two calls: try again.
        }
        panic!("the clock crossed a second boundary three times in a row");
    }
}
