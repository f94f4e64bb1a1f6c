//! Output the way the docker CLI prints it: sizes, durations, truncated
//! ids and commands, and tables aligned like Go's `tabwriter`.
//!
//! Scripts and eyes are used to Docker's exact shapes — `4.26MB`, `Up 3
//! seconds`, `"sh -c 'echo…"` — so these helpers reproduce the rules of
//! Docker's `go-units` package and of its CLI formatter, including their
//! corners (Go's `%g` switches to exponents, sizes use units of 1000 but
//! memory uses units of 1024).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Go's `%.{precision}g`: `precision` significant digits, trailing zeros
/// dropped, and the exponent form (`1e+03`) when the exponent is below -4
/// or at least `precision`.
pub fn go_g(value: f64, precision: usize) -> String {
    let precision = precision.max(1);
    if value == 0.0 {
        return "0".to_string();
    }
    if !value.is_finite() {
        return if value.is_nan() {
            "NaN".into()
        } else if value > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    // Round to `precision` significant digits first: the exponent that
    // decides the form is the one after rounding (999.9 → 1e+03 at 3).
    let scientific = format!("{:.*e}", precision - 1, value);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("Rust's {:e} always has an exponent");
    let exponent: i32 = exponent.parse().expect("Rust's exponent is an integer");
    if exponent < -4 || exponent >= precision as i32 {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim_fraction(mantissa), exponent.abs())
    } else {
        let decimals = (precision as i32 - 1 - exponent).max(0) as usize;
        trim_fraction(&format!("{value:.decimals$}")).to_string()
    }
}

/// `1.500` → `1.5`, `2.000` → `2`, `100` stays `100`.
fn trim_fraction(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

const DECIMAL_UNITS: [&str; 9] = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];
const BINARY_UNITS: [&str; 9] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"];

fn size_and_unit(size: f64, base: f64, units: &[&'static str; 9]) -> (f64, &'static str) {
    let mut size = size;
    let mut i = 0;
    while size >= base && i < units.len() - 1 {
        size /= base;
        i += 1;
    }
    (size, units[i])
}

/// A size in units of 1000 with `precision` significant digits, as
/// go-units' `HumanSizeWithPrecision`: `docker images` uses 3 (`4.26MB`),
/// pull progress 4.
pub fn human_size_with_precision(bytes: f64, precision: usize) -> String {
    let (size, unit) = size_and_unit(bytes, 1000.0, &DECIMAL_UNITS);
    format!("{}{unit}", go_g(size, precision))
}

/// `HumanSize`: units of 1000, 4 significant digits (`1.235MB`).
pub fn human_size(bytes: u64) -> String {
    human_size_with_precision(bytes as f64, 4)
}

/// `BytesSize`: units of 1024, 4 significant digits (`1.5MiB`), as `docker
/// stats` prints memory.
pub fn bytes_size(bytes: u64) -> String {
    let (size, unit) = size_and_unit(bytes as f64, 1024.0, &BINARY_UNITS);
    format!("{}{unit}", go_g(size, 4))
}

/// A memory size as `-m` takes it, `RAMInBytes` of go-units: a number with
/// an optional fraction, then an optional unit `b k m g t p` (any case,
/// with an optional `i` and `b`), all in units of 1024. `512m` = 512 MiB.
pub fn parse_ram_in_bytes(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid size: '{text}'");
    let digits_end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(digits_end);
    if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
        return Err(invalid());
    }
    let value: f64 = number.parse().map_err(|_| invalid())?;
    let suffix = suffix
        .strip_prefix(' ')
        .unwrap_or(suffix)
        .to_ascii_lowercase();
    let multiplier = if suffix.is_empty() || suffix == "b" {
        1.0
    } else {
        let mut chars = suffix.chars();
        let power = match chars.next() {
            Some('k') => 1,
            Some('m') => 2,
            Some('g') => 3,
            Some('t') => 4,
            Some('p') => 5,
            _ => return Err(invalid()),
        };
        if !matches!(chars.as_str(), "" | "b" | "i" | "ib") {
            return Err(invalid());
        }
        1024f64.powi(power)
    };
    Ok((value * multiplier) as i64)
}

/// `--cpus 1.5` → 1_500_000_000 nano CPUs, refusing more precision than a
/// nano CPU, as the docker CLI does.
pub fn parse_nano_cpus(text: &str) -> Result<i64, String> {
    let bad = || {
        format!("invalid argument \"{text}\" for \"--cpus\" flag: failed to parse {text} as a rational number")
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > 9 {
        return Err(format!(
            "invalid argument \"{text}\" for \"--cpus\" flag: value is too precise"
        ));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let fraction: i64 = format!("{fraction:0<9}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(fraction))
        .ok_or_else(bad)
}

/// How long ago `then` (unix seconds) was, seen from `now`, as `docker ps`
/// prints CREATED: `3 seconds ago`, `About a minute ago`.
pub fn time_ago(then_unix: i64, now: SystemTime) -> String {
    let then = UNIX_EPOCH + Duration::from_secs(then_unix.max(0) as u64);
    let elapsed = now.duration_since(then).unwrap_or_default();
    format!("{} ago", minidock_daemon::time::human_duration(elapsed))
}

/// The first 12 hex digits of an id, without a `sha256:` prefix, as the
/// docker CLI shows ids unless `--no-trunc`.
pub fn short_id(id: &str) -> &str {
    let id = id.strip_prefix("sha256:").unwrap_or(id);
    match id.char_indices().nth(12) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

/// The id as a listing shows it: whole with `--no-trunc`, else the short form.
pub fn shown_id(id: &str, no_trunc: bool) -> &str {
    if no_trunc {
        id
    } else {
        short_id(id)
    }
}

/// Cuts `text` to `width` characters, marking the cut with `…` (which
/// takes the last column), as Docker's formatter does for COMMAND.
pub fn ellipsis(text: &str, width: usize) -> String {
    let count = text.chars().count();
    if count <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let mut out: String = text.chars().take(width - 1).collect();
    out.push('…');
    out
}

/// A table whose columns are aligned like Go's `tabwriter` with the
/// settings of the docker CLI: each column as wide as its widest cell plus
/// `padding` spaces, at least `min_width`; the last column is not padded.
#[derive(Debug, Clone)]
pub struct Table {
    rows: Vec<Vec<String>>,
    min_width: usize,
    padding: usize,
}

impl Table {
    /// A table with Docker's usual settings (min width 10, padding 3).
    pub fn new(header: &[&str]) -> Table {
        Table::with_settings(header, 10, 3)
    }

    /// A table with other settings (`docker top` uses min width 20).
    pub fn with_settings(header: &[&str], min_width: usize, padding: usize) -> Table {
        Table {
            rows: vec![header.iter().map(|h| h.to_string()).collect()],
            min_width,
            padding,
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The aligned text, one line per row, each ending in `\n`.
    pub fn render(&self) -> String {
        let columns = self.rows.iter().map(Vec::len).max().unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in &self.rows {
            // The last cell of a row is not tab-terminated: it does not
            // count towards a column width.
            for (i, cell) in row.iter().enumerate().take(row.len().saturating_sub(1)) {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                out.push_str(cell);
                if i + 1 < row.len() {
                    let width = (widths[i] + self.padding).max(self.min_width);
                    let pad = width - cell.chars().count();
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn go_g_matches_go() {
        // Values printed by Go's fmt.Sprintf("%.3g") / ("%.4g").
        assert_eq!(go_g(4.261376, 3), "4.26");
        assert_eq!(go_g(100.0, 3), "100");
        assert_eq!(go_g(999.999, 3), "1e+03");
        assert_eq!(go_g(1.0, 3), "1");
        assert_eq!(go_g(12.5, 3), "12.5");
        assert_eq!(go_g(0.00001234, 3), "1.23e-05");
        assert_eq!(go_g(1.2345678, 4), "1.235");
        assert_eq!(go_g(1000.0, 4), "1000");
        assert_eq!(go_g(10000.0, 4), "1e+04");
    }

    #[test]
    fn sizes_read_like_docker_images() {
        assert_eq!(human_size_with_precision(4_261_376.0, 3), "4.26MB");
        assert_eq!(human_size_with_precision(0.0, 3), "0B");
        assert_eq!(human_size_with_precision(999.0, 3), "999B");
        assert_eq!(human_size_with_precision(1_000.0, 3), "1kB");
        assert_eq!(human_size_with_precision(1_234_567_890.0, 3), "1.23GB");
        assert_eq!(human_size(1_234_567), "1.235MB");
        assert_eq!(bytes_size(1_572_864), "1.5MiB");
        assert_eq!(bytes_size(512), "512B");
        assert_eq!(bytes_size(2 * 1024 * 1024 * 1024), "2GiB");
    }

    #[test]
    fn random_sizes_have_three_significant_digits() {
        let mut rng = rand::thread_rng();
        for _ in 0..1000 {
            let bytes: u64 = rng.gen_range(0..10_000_000_000_000);
            let text = human_size_with_precision(bytes as f64, 3);
            let digits = text.chars().filter(char::is_ascii_digit).count();
            let unit = text.trim_start_matches(|c: char| {
                c.is_ascii_digit() || c == '.' || c == 'e' || c == '+'
            });
            assert!(DECIMAL_UNITS.contains(&unit), "{bytes} → {text}");
            assert!(digits <= 3 || text.contains('e'), "{bytes} → {text}");
            // The number read back is within rounding of the real size.
            if !text.contains('e') {
                let number: f64 = text[..text.len() - unit.len()].parse().unwrap();
                let power = DECIMAL_UNITS.iter().position(|u| *u == unit).unwrap() as i32;
                let back = number * 1000f64.powi(power);
                assert!(
                    (back - bytes as f64).abs() <= bytes as f64 * 0.005 + 0.5,
                    "{bytes} → {text}"
                );
            }
        }
    }

    #[test]
    fn memory_flags_parse_like_docker() {
        assert_eq!(parse_ram_in_bytes("512m"), Ok(512 * 1024 * 1024));
        assert_eq!(parse_ram_in_bytes("1g"), Ok(1 << 30));
        assert_eq!(parse_ram_in_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_ram_in_bytes("100"), Ok(100));
        assert_eq!(parse_ram_in_bytes("64kb"), Ok(65536));
        assert_eq!(parse_ram_in_bytes("6 M"), Ok(6 << 20));
        for bad in ["", "m", "12x", "1.2.3m", "-5m", "5mm"] {
            assert!(parse_ram_in_bytes(bad).is_err(), "{bad:?} parsed");
        }
        assert_eq!(parse_nano_cpus("1.5"), Ok(1_500_000_000));
        assert_eq!(parse_nano_cpus("2"), Ok(2_000_000_000));
        assert_eq!(parse_nano_cpus(".25"), Ok(250_000_000));
        assert!(parse_nano_cpus("0.0000000001")
            .unwrap_err()
            .contains("too precise"));
        assert!(parse_nano_cpus("one").is_err());
    }

    #[test]
    fn created_reads_like_docker_ps() {
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(time_ago(1_700_000_000, now), "Less than a second ago");
        assert_eq!(time_ago(1_700_000_000 - 3, now), "3 seconds ago");
        assert_eq!(time_ago(1_700_000_000 - 90, now), "About a minute ago");
        assert_eq!(time_ago(1_700_000_000 - 3 * 3600, now), "3 hours ago");
        assert_eq!(time_ago(1_700_000_000 - 16 * 86_400, now), "2 weeks ago");
        // A clock that went backwards is "now", not a panic.
        assert_eq!(time_ago(1_700_000_100, now), "Less than a second ago");
    }

    #[test]
    fn ids_and_commands_are_cut_like_dockers() {
        let id = "sha256:0123456789abcdef0123456789abcdef";
        assert_eq!(short_id(id), "0123456789ab");
        assert_eq!(short_id("abc"), "abc");
        assert_eq!(
            ellipsis("sh -c 'echo hello world'", 20),
            "sh -c 'echo hello w…"
        );
        assert_eq!(ellipsis("sh", 20), "sh");
        assert_eq!(ellipsis("ééééé", 4), "ééé…");
    }

    #[test]
    fn tables_align_like_tabwriter() {
        let mut t = Table::new(&["CONTAINER ID", "IMAGE", "NAMES"]);
        t.row(vec!["0123456789ab".into(), "busybox".into(), "a".into()]);
        t.row(vec![
            "ba9876543210".into(),
            "localhost:5000/x:1".into(),
            "longer_name".into(),
        ]);
        assert_eq!(
            t.render(),
            "CONTAINER ID   IMAGE                NAMES\n\
             0123456789ab   busybox              a\n\
             ba9876543210   localhost:5000/x:1   longer_name\n"
        );
        let mut t = Table::new(&["A", "B"]);
        t.row(vec!["x".into(), "y".into()]);
        assert_eq!(t.render(), "A         B\nx         y\n");
    }
}
