//! One memory budget for the whole process: the accountant every large allocation goes through.
//!
//! Owns the process-wide budget ([`set_budget`], default [`default_budget`]: half of physical
//! memory or 8 GiB, whichever is smaller), the count of bytes in use, and [`Reservation`], the
//! receipt a buffer holds while it lives. Image pixels, decode buffers and model tensors reserve
//! their bytes *before* they allocate, so a request over the budget is a clear error at once
//! (naming the budget and the `--max-memory` flag) instead of a process the kernel kills.
//!
//! Jobs that share one process (`kiln build`, `kiln serve`) use [`reserve_waiting`]: when the
//! budget is only taken by other jobs for now, they wait until it frees up (or until their own
//! cancel token stops them) rather than fail. A single request larger than the whole budget fails
//! at once either way.
//!
//! Why process-wide and not per run: the kernel's limit is per process, and jobs running side by
//! side must not each believe they own all of it. Must not know about Rhai or any front end.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use crate::cancel::Stopper;
use crate::error::{Error, Result};

/// Ceiling of the default budget.
const DEFAULT_CAP: u64 = 8 << 30;

/// A budget and the bytes reserved against it. The process has one, [`global`]; tests make their
/// own so they do not disturb each other.
#[derive(Debug, Default)]
pub struct Accountant {
    /// 0 = [`default_budget`].
    budget: AtomicU64,
    in_use: Mutex<u64>,
    freed: Condvar,
}

static GLOBAL: Accountant = Accountant::new();

/// The process's accountant.
pub fn global() -> &'static Accountant {
    &GLOBAL
}

/// Half of physical memory or 8 GiB, whichever is smaller (8 GiB where physical memory is unknown).
pub fn default_budget() -> u64 {
    physical_memory().map_or(DEFAULT_CAP, |m| (m / 2).min(DEFAULT_CAP))
}

/// Physical memory in bytes, from `/proc/meminfo` (Linux); `None` elsewhere.
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The process's resident memory in bytes (Linux `/proc/self/statm`); `None` elsewhere.
pub fn resident_bytes() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = text.split_whitespace().nth(1)?.parse().ok()?;
    // Every Linux kiln runs on uses 4 KiB pages except some arm64 kernels (64 KiB); reading
    // the page size needs libc, and over-counting only makes the check stricter, so 4 KiB it is.
    Some(pages * 4096)
}

/// The process budget in bytes.
pub fn budget() -> u64 {
    GLOBAL.budget()
}

/// Sets the process budget (`--max-memory`); 0 restores the default.
pub fn set_budget(bytes: u64) {
    GLOBAL.set_budget(bytes)
}

/// Bytes reserved now by every live buffer of the process.
pub fn in_use() -> u64 {
    GLOBAL.in_use()
}

/// Reserves `bytes` for `what` ("a 16384×16384 image") from the process budget, or fails at once.
pub fn reserve(bytes: u64, what: &str) -> Result<Reservation> {
    GLOBAL.reserve(bytes, what)
}

/// Reserves `bytes` from the process budget, waiting while other jobs hold it, until `stop` stops.
pub fn reserve_waiting(bytes: u64, what: &str, stop: &Stopper) -> Result<Reservation> {
    GLOBAL.reserve_waiting(bytes, what, stop)
}

/// Bytes held by a live buffer; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    bytes: u64,
    from: &'static Accountant,
}

impl Reservation {
    /// The bytes this receipt holds.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.bytes > 0 {
            let mut used = self.from.in_use.lock().unwrap_or_else(|e| e.into_inner());
            *used = used.saturating_sub(self.bytes);
            drop(used);
            self.from.freed.notify_all();
        }
    }
}

impl Accountant {
    /// An accountant with the default budget and nothing reserved.
    pub const fn new() -> Accountant {
        Accountant { budget: AtomicU64::new(0), in_use: Mutex::new(0), freed: Condvar::new() }
    }

    /// The budget in bytes.
    pub fn budget(&self) -> u64 {
        match self.budget.load(Ordering::Relaxed) {
            0 => default_budget(),
            b => b,
        }
    }

    /// Sets the budget; 0 restores the default.
    pub fn set_budget(&self, bytes: u64) {
        self.budget.store(bytes, Ordering::Relaxed);
        self.freed.notify_all();
    }

    /// Bytes reserved now.
    pub fn in_use(&self) -> u64 {
        *self.in_use.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Reserves `bytes` for `what`, or fails at once when the budget cannot hold them now.
    pub fn reserve(&'static self, bytes: u64, what: &str) -> Result<Reservation> {
        let budget = self.budget();
        let mut used = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        if bytes > budget.saturating_sub(*used) {
            return Err(over_budget(bytes, what, budget, *used));
        }
        *used += bytes;
        Ok(Reservation { bytes, from: self })
    }

    /// Reserves `bytes`, waiting while others hold the budget, until `stop` stops. A request
    /// larger than the whole budget fails at once.
    pub fn reserve_waiting(&'static self, bytes: u64, what: &str, stop: &Stopper) -> Result<Reservation> {
        let mut used = self.in_use.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let budget = self.budget();
            if bytes > budget {
                return Err(over_budget(bytes, what, budget, 0));
            }
            if bytes <= budget - (*used).min(budget) {
                *used += bytes;
                return Ok(Reservation { bytes, from: self });
            }
            stop.check()?;
            // Woken by every release; the timeout re-checks the stop token.
            used = self.freed.wait_timeout(used, Duration::from_millis(50)).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

fn over_budget(bytes: u64, what: &str, budget: u64, used: u64) -> Error {
    let in_use = if used > 0 { format!(", {} of it in use", show_bytes(used)) } else { String::new() };
    Error::Limit(format!(
        "{what} needs {} but the memory budget is {}{in_use}; raise it with --max-memory",
        show_bytes(bytes),
        show_bytes(budget)
    ))
}

/// Bytes in the units a person reads: `512 KiB`, `1.5 GiB`.
pub fn show_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = bytes as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    if unit == 0 || x.fract() == 0.0 {
        format!("{} {}", x as u64, UNITS[unit])
    } else {
        format!("{x:.1} {}", UNITS[unit])
    }
}

/// Parses a size as `--max-memory` takes it: `512M`, `2G`, `1.5GiB`, `1048576`.
pub fn parse_size(text: &str) -> std::result::Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let x: f64 = number.parse().map_err(|_| format!("'{text}' is not a size (e.g. 512M, 2G)"))?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        "t" | "tb" | "tib" => 1 << 40,
        other => return Err(format!("'{text}': unknown unit '{other}' (use K, M, G or T)")),
    };
    let bytes = x * scale as f64;
    if !(bytes.is_finite() && bytes >= 1.0 && bytes < u64::MAX as f64) {
        return Err(format!("'{text}' is not a usable size"));
    }
    Ok(bytes as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reservations_count_against_one_budget_and_come_back_on_drop() {
        let acc: &'static Accountant = Box::leak(Box::new(Accountant::new()));
        acc.set_budget(1000);
        let a = acc.reserve(600, "image a").unwrap();
        assert_eq!(acc.in_use(), 600);
        let e = acc.reserve(500, "image b").unwrap_err().to_string();
        assert!(e.contains("image b needs 500 B but the memory budget is 1000 B"), "{e}");
        assert!(e.contains("--max-memory"), "{e}");
        let e = acc.reserve(2000, "huge").unwrap_err().to_string();
        assert!(e.contains("huge needs 2.0 KiB"), "{e}");

        // A waiting job gets its bytes once another job frees them.
        let waiter = std::thread::spawn(|| acc.reserve_waiting(500, "image c", &Stopper::never()).map(|r| r.bytes()));
        std::thread::sleep(Duration::from_millis(100));
        drop(a);
        assert_eq!(waiter.join().unwrap().unwrap(), 500);

        // Larger than the whole budget: no wait.
        assert!(acc.reserve_waiting(5000, "too big", &Stopper::never()).is_err());
        // A stopped job stops waiting.
        let hold = acc.reserve(900, "holder").unwrap();
        let stop = Stopper::never();
        stop.cancel();
        assert!(matches!(acc.reserve_waiting(500, "image d", &stop), Err(Error::Cancelled(_))));
        drop(hold);
        assert_eq!(acc.in_use(), 0, "everything given back");
        acc.set_budget(0);
        assert_eq!(acc.budget(), default_budget());
    }

    #[test]
    fn sizes_parse_and_print_in_binary_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("2X").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(show_bytes(512 << 10), "512 KiB");
        assert_eq!(show_bytes(3 << 29), "1.5 GiB");
        assert!(default_budget() <= DEFAULT_CAP);
    }
}
