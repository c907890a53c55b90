//! What the script-running fuzz targets share: one host under tight limits.

use std::sync::OnceLock;
use std::time::Duration;

use kiln::script::Host;
use kiln::Limits;

/// One host for the whole fuzz run (building the engine per input would drown the fuzzer), under
/// limits that keep every input small and short: 1 Mpx images, 100k operations, 1 GiB, 1 s.
pub fn host() -> &'static Host {
    static HOST: OnceLock<Host> = OnceLock::new();
    HOST.get_or_init(|| {
        Host::new(Limits {
            max_pixels: 1 << 20,
            max_operations: 100_000,
            max_memory: 1 << 30,
            deadline: Some(Duration::from_secs(1)),
            ..Limits::default()
        })
    })
}
