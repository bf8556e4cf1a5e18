//! Numbers for people: sizes in decimal units, as the configuration writes them
//! (`max_message_size = "50MB"` is 50,000,000 bytes).

/// `1234567` → `"1.2 MB"`; below 1000, exact bytes (`"999 B"`).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["KB", "MB", "GB", "TB", "PB", "EB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1000.0;
    let mut unit = 0;
    // Rounding can carry to the next unit ("999.95 KB" prints as "1000.0 KB"
    // otherwise), so compare against what would be printed.
    while value >= 999.95 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(999), "999 B");
        assert_eq!(bytes(1000), "1.0 KB");
        assert_eq!(bytes(1_234_567), "1.2 MB");
        assert_eq!(bytes(50_000_000), "50.0 MB");
        assert_eq!(bytes(999_999), "1.0 MB");
        assert_eq!(bytes(3_500_000_000), "3.5 GB");
        assert_eq!(bytes(u64::MAX), "18.4 EB");
    }
}
