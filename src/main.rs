//! The `kiln` binary: parse the command line, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    // candle's CPU thread pool spin-waits between element-wise ops; on a shared 2-core machine the
    // spinning took 40 % of a texture training step (measured with perf, see benches/model.rs).
    // Set before any candle call, while the process has one thread; a user's own value wins.
    if std::env::var_os("CANDLE_BARRIER_POOL_SPIN_LIMIT").is_none() {
        std::env::set_var("CANDLE_BARRIER_POOL_SPIN_LIMIT", "0");
    }
    kiln::cli::run(std::env::args_os())
}
