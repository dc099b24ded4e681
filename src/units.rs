//! Sizes and durations as people read them: `3.1MiB`, `412ms`, `1.2s`. One spelling for the
//! log line, the TUI, the run summary and the body inspector. Pure.

/// `0B`, `1023B`, `1.5KiB`, `3.1MiB`: binary units, one decimal from a KiB on.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n}B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1}{}", UNITS[unit])
}

/// `412ms` under a second, `1.2s` from a second on.
pub fn format_ms(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{}ms", ms.round() as u64)
    } else {
        format!("{:.1}s", ms / 1000.0)
    }
}

/// [`format_bytes`] appended to `out`, in integers: the float formatting was a tenth of the
/// log's cost per line.
pub fn push_bytes(out: &mut String, n: u64) {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        push_u64(out, n);
        out.push('B');
        return;
    }
    // The divisors are powers of two: shifts and masks, not 128-bit divisions.
    let mut unit = 0;
    let mut shift = 10u32;
    while u128::from(n) >= 1u128 << (shift + 10) && unit < UNITS.len() - 1 {
        shift += 10;
        unit += 1;
    }
    // Tenths, rounded half to even as `{:.1}` rounds the exact quotient.
    let divisor = 1u128 << shift;
    let scaled = u128::from(n) * 10;
    let (tenths, rest) = (scaled >> shift, scaled & (divisor - 1));
    // At most n * 10 / 1024: fits.
    let mut tenths = u64::try_from(tenths).unwrap_or(u64::MAX);
    if rest * 2 > divisor || (rest * 2 == divisor && tenths % 2 == 1) {
        tenths += 1;
    }
    push_u64(out, tenths / 10);
    out.push('.');
    push_u64(out, tenths % 10);
    out.push_str(UNITS[unit]);
}

/// `n` in decimal, appended: `itoa` rather than `write!`, which costs several hundred
/// instructions a number on every flow's log line.
pub fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// [`format_ms`] appended to `out`, without a string of its own under a second.
pub fn push_ms(out: &mut String, ms: f64) {
    if ms < 1000.0 {
        push_u64(out, ms.round() as u64);
        out.push_str("ms");
    } else {
        out.push_str(&format_ms(ms));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_byte_sizes_match_the_float_formatting() {
        let mut samples: Vec<u64> = (0..5000).map(|i| i * 37).collect();
        for k in 1..5u32 {
            let unit = 1u64 << (10 * k);
            for tenth in 0..30u64 {
                // Exact ties and their neighbours, where rounding can differ.
                let tie = unit / 20 * (2 * tenth + 1);
                samples.extend([
                    tie.saturating_sub(1),
                    tie,
                    tie + 1,
                    unit * 1023,
                    unit * 1024 - 1,
                ]);
            }
        }
        samples.extend([u64::MAX / 3, 1 << 60]);
        for n in samples {
            let mut s = String::new();
            push_bytes(&mut s, n);
            assert_eq!(s, format_bytes(n), "{n}");
        }
    }

    #[test]
    fn sizes_and_durations_are_compact() {
        assert_eq!(format_bytes(0), "0B");
        assert_eq!(format_bytes(1024), "1.0KiB");
        assert_eq!(format_bytes(512 * 1024 * 1024), "512.0MiB");
        assert_eq!(format_ms(3.4), "3ms");
        assert_eq!(format_ms(1250.0), "1.2s");
    }
}
