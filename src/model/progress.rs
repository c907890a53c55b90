//! Reading a training run's [`Progress`] reports for a person: the time per step, the ETA and
//! the plain progress lines printed when nobody watches a bar (a log file, CI, a script run).
//! Plain data, compiled with or without the `ml` feature.
//!
//! Owns: [`StepTimer`] (smoothed time per step and ETA), [`every_default`] and [`line_due`]
//! (when a plain line is due), [`PlainLog`] (the lines themselves), [`short_duration`],
//! [`coverage_warning`] (the text of [`Event::Warning`] for a holdout too small for its metrics). Must not
//! know how or where lines are printed: `kiln train` draws an indicatif bar at a terminal and
//! prints [`PlainLog`]'s lines elsewhere; the script bindings print them to stderr.
//!
//! Decisions (what a user of `tqdm`, Keras or `cargo` would expect):
//! - The time per step comes from the steps of this process only, so a resumed run does not
//!   divide by steps it did not run. The first step of a process is not measured (it allocates
//!   the buffers and warms the caches), and neither is the time of anything reported between
//!   two steps (a sample grid, a checkpoint, a warning): those are one-off costs, not a rate.
//! - It is an exponential moving average ([`SMOOTHING`]), so the ETA follows a run that speeds
//!   up or slows down without jumping with every noisy step.
//! - Every report carries the run's clock ([`Progress::elapsed`]), so everything here is a pure
//!   function of the reports: tests drive it with made-up times and never sleep.
//! - A plain line is due every `every` steps (default: every 5 % of the run) or when
//!   [`LINE_INTERVAL`] has passed since the last one, whichever comes first, and at the last step.

use std::time::Duration;

use super::options::{Event, Progress, TrainSettings, MIN_COVERAGE_IMAGES};
use crate::options::{show_number, OptionSet};

/// Weight of the newest step in the moving average of the time per step: about the last 20
/// steps count.
pub const SMOOTHING: f64 = 0.05;

/// Longest wait between two plain progress lines.
pub const LINE_INTERVAL: Duration = Duration::from_secs(30);

/// Steps of a process that are not measured: the first one allocates.
const WARM_UP_STEPS: u64 = 1;

/// The smoothed time per step of this process, and the ETA it gives.
#[derive(Clone, Debug, Default)]
pub struct StepTimer {
    /// Seconds per step, once a step has been measured.
    per_step: Option<f64>,
    /// The clock and the process's step count at the last report, the start of the next interval.
    last: Option<(Duration, u64)>,
}

impl StepTimer {
    /// A timer that has measured nothing.
    pub fn new() -> StepTimer {
        StepTimer::default()
    }

    /// Notes that `steps_this_run` steps had been run in this process at `elapsed` on the run's
    /// clock. Only `step` says that steps ran since the last call; any other report (a grid, a
    /// checkpoint) only moves the start of the next interval, so its cost is not counted.
    pub fn observe(&mut self, elapsed: Duration, steps_this_run: u64, step: bool) {
        if let (true, Some((t0, s0))) = (step, self.last) {
            let steps = steps_this_run.saturating_sub(s0);
            if steps > 0 && s0 >= WARM_UP_STEPS && elapsed >= t0 {
                let dt = (elapsed - t0).as_secs_f64() / steps as f64;
                self.per_step = Some(match self.per_step {
                    None => dt,
                    Some(avg) => avg + SMOOTHING * (dt - avg),
                });
            }
        }
        self.last = Some((elapsed, steps_this_run));
    }

    /// Notes one report (see [`StepTimer::observe`]).
    pub fn observe_progress(&mut self, p: &Progress) {
        self.observe(p.elapsed, p.steps_this_run, p.event == Event::Step);
    }

    /// Seconds per step, once one has been measured.
    pub fn seconds_per_step(&self) -> Option<f64> {
        self.per_step
    }

    /// Time left for `remaining` steps at the current rate.
    pub fn eta(&self, remaining: u64) -> Option<Duration> {
        self.per_step.map(|s| Duration::from_secs_f64((s * remaining as f64).clamp(0.0, 1e9)))
    }

    /// "0.21 s/step  ETA 27m40s" for `remaining` steps, or "" before a step has been measured.
    pub fn describe(&self, remaining: u64) -> String {
        match (self.per_step, self.eta(remaining)) {
            (Some(s), Some(eta)) => format!("{}  ETA {}", per_step(s), short_duration(eta)),
            _ => String::new(),
        }
    }
}

/// "0.21 s/step", "1.4 s/step" or "35 ms/step".
fn per_step(seconds: f64) -> String {
    if seconds < 0.1 {
        format!("{:.0} ms/step", seconds * 1000.0)
    } else if seconds < 10.0 {
        format!("{seconds:.2} s/step")
    } else {
        format!("{seconds:.0} s/step")
    }
}

/// "45s", "27m40s", "3h05m".
pub fn short_duration(d: Duration) -> String {
    let s = d.as_secs_f64().round() as u64;
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// Steps between two plain lines unless told: 5 % of a run of `total_steps` (at least 1).
pub fn every_default(total_steps: u64) -> u64 {
    total_steps.div_ceil(20).max(1)
}

/// Whether a plain line is due after `step` of `total`: every `every` steps, at the last step,
/// or when [`LINE_INTERVAL`] has passed since the last line (printed at `last_line`, on the same
/// clock as `now`).
pub fn line_due(step: u64, total: u64, every: u64, now: Duration, last_line: Duration) -> bool {
    step >= total || (every > 0 && step.is_multiple_of(every)) || now.saturating_sub(last_line) >= LINE_INTERVAL
}

/// The plain lines of a run, one report at a time: what `kiln train` prints outside a terminal
/// and scripts print to stderr.
#[derive(Clone, Debug)]
pub struct PlainLog {
    /// Steps between lines; `None`: [`every_default`] of the run.
    every: Option<u64>,
    timer: StepTimer,
    last_line: Duration,
}

impl PlainLog {
    /// A log with a line every `every` steps (`None`: 5 % of the run), and every 30 s.
    pub fn new(every: Option<u64>) -> PlainLog {
        PlainLog { every, timer: StepTimer::new(), last_line: Duration::ZERO }
    }

    /// The line to print for report `p`, if any: the data split, warnings and written files
    /// always; steps when [`line_due`].
    pub fn line(&mut self, p: &Progress) -> Option<String> {
        self.timer.observe_progress(p);
        let line = match &p.event {
            // step-based runs (texture, spatial VAE) train on crops and hold nothing out
            Event::Loaded { train, holdout: 0 } if p.epochs <= 1 => Some(format!("{train} image(s) to crop from")),
            Event::Loaded { train, holdout } => Some(format!("{train} training images, {holdout} held out")),
            Event::Warning(text) => Some(format!("warning: {text}")),
            Event::SampleGrid(path) | Event::Checkpoint(path) => {
                Some(format!("step {}: wrote {}", p.step, path.display()))
            }
            Event::Step => {
                let every = self.every.unwrap_or_else(|| every_default(p.total_steps));
                line_due(p.step, p.total_steps, every, p.elapsed, self.last_line).then(|| step_line(p, &self.timer))
            }
        };
        if line.is_some() {
            self.last_line = p.elapsed;
        }
        line
    }

    /// The timer the lines use (for a bar drawn beside them).
    pub fn timer(&self) -> &StepTimer {
        &self.timer
    }
}

/// "epoch 17/200": the epoch being run (1-based), never past the last.
pub fn epoch_text(p: &Progress) -> String {
    // step-based runs (texture models) report a single pseudo-epoch: nothing to show
    if p.epochs <= 1 {
        return String::new();
    }
    format!("epoch {}/{}", (p.epoch + 1).min(p.epochs), p.epochs)
}

/// "d 0.41 g 2.67": the running losses.
pub fn losses_text(p: &Progress) -> String {
    let shown: Vec<String> = p.losses.iter().map(|(k, v)| format!("{k} {}", loss(*v))).collect();
    shown.join(" ")
}

/// Two decimals; four below 0.1 (a loss of 0.0417), and an exponent below 0.001.
fn loss(v: f64) -> String {
    match v.abs() {
        a if a == 0.0 || a >= 0.1 || !a.is_finite() => format!("{v:.2}"),
        a if a >= 1e-3 => format!("{v:.4}"),
        _ => format!("{v:.2e}"),
    }
}

/// "step 1200/9200 (13%)  epoch 17/200  d 0.41 g 2.67  0.21 s/step  ETA 27m40s".
pub fn step_line(p: &Progress, timer: &StepTimer) -> String {
    let pct = (p.step * 100).checked_div(p.total_steps).unwrap_or(100);
    let mut parts = vec![format!("step {}/{} ({pct}%)", p.step, p.total_steps), epoch_text(p)];
    parts.extend([losses_text(p), timer.describe(p.total_steps.saturating_sub(p.step))]);
    parts.retain(|s| !s.is_empty());
    parts.join("  ")
}

/// The warning a run gets at its start when its metrics will be measured on fewer than
/// `MIN_COVERAGE_IMAGES` (32) images: `eval` images, held out when `held_out` (else training
/// images, without a holdout), of `total` images in all. It says what to change: the smallest
/// holdout that holds out enough, or more images.
pub fn coverage_warning(eval: usize, held_out: bool, total: usize) -> Option<String> {
    let need = MIN_COVERAGE_IMAGES;
    if eval >= need {
        return None;
    }
    let (what, fix) = if !held_out {
        ("no holdout: metrics use the", format!("use more data (at least {need} images)"))
    } else {
        // the largest holdout the option takes; the split holds out floor(total × holdout) images
        let max =
            TrainSettings::keys().into_iter().find(|k| k.name == "holdout").and_then(|k| k.range).map_or(0.5, |r| r.1);
        let fix = match need as f64 / total.max(1) as f64 {
            h if h <= max => {
                let h = (h * 100.0 - 1e-9).ceil() / 100.0;
                format!("use holdout {} or more data", show_number(h))
            }
            _ => format!(
                "use more data (at least {} images with holdout {})",
                (need as f64 / max).ceil(),
                show_number(max)
            ),
        };
        ("holdout has", fix)
    };
    let kind = if held_out { "" } else { " training" };
    let images = if eval == 1 { "image" } else { "images" };
    Some(format!("{what} {eval}{kind} {images}; precision/recall need at least {need} - {fix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(event: Event, step: u64, run_steps: u64, secs: f64) -> Progress {
        Progress {
            event,
            epoch: (step / 46) as usize,
            epochs: 200,
            step,
            total_steps: 9200,
            losses: vec![("d", 0.41), ("g", 2.6712)],
            elapsed: Duration::from_secs_f64(secs),
            steps_this_run: run_steps,
        }
    }

    #[test]
    fn the_eta_converges_to_remaining_steps_times_the_step_time() {
        let mut t = StepTimer::new();
        // 3 s of setup, a 5 s first step, then 50 slow steps (0.5 s) and 400 at 0.2 s
        let mut clock = 3.0;
        t.observe(Duration::from_secs_f64(clock), 0, false);
        clock += 5.0;
        t.observe(Duration::from_secs_f64(clock), 1, true);
        assert_eq!(t.seconds_per_step(), None, "the first step allocates and is not measured");
        assert_eq!(t.describe(10), "");
        for k in 2..=451u64 {
            clock += if k <= 51 { 0.5 } else { 0.2 };
            t.observe(Duration::from_secs_f64(clock), k, true);
            if k == 2 {
                assert!((t.seconds_per_step().unwrap() - 0.5).abs() < 1e-9);
            }
            if k % 100 == 0 {
                // a sample grid taking 4 s between two steps is not a step
                clock += 4.0;
                t.observe(Duration::from_secs_f64(clock), k, false);
            }
        }
        let remaining = 8749;
        let eta = t.eta(remaining).unwrap().as_secs_f64();
        let want = remaining as f64 * 0.2;
        assert!((eta - want).abs() < 0.01 * want, "ETA {eta} s, want {want} s");
        // what a naive elapsed / steps would say (startup, first step and grids included)
        let naive = clock / 451.0 * remaining as f64;
        assert!(naive > 1.3 * want, "the test must tell the two apart: naive {naive}");
        assert_eq!(t.describe(remaining), "0.20 s/step  ETA 29m10s");
    }

    #[test]
    fn a_resumed_run_measures_only_its_own_steps() {
        // resumed at step 5000 of 9200: steps_this_run starts at 0 again
        let mut log = PlainLog::new(Some(100));
        let mut last = None;
        for k in 0..=200u64 {
            let p = at(
                if k == 0 { Event::Loaded { train: 900, holdout: 100 } } else { Event::Step },
                5000 + k,
                k,
                10.0 + k as f64,
            );
            if let Some(line) = log.line(&p) {
                last = Some(line);
            }
        }
        assert_eq!(log.timer().seconds_per_step(), Some(1.0));
        assert_eq!(last.unwrap(), "step 5200/9200 (56%)  epoch 114/200  d 0.41 g 2.67  1.00 s/step  ETA 1h06m");
    }

    #[test]
    fn plain_lines_come_every_n_steps_or_every_30_seconds() {
        assert_eq!(every_default(9200), 460);
        assert_eq!(every_default(7), 1);
        assert_eq!(every_default(0), 1);
        let s = Duration::from_secs;
        assert!(line_due(460, 9200, 460, s(5), s(0)));
        assert!(!line_due(461, 9200, 460, s(5), s(0)));
        assert!(line_due(461, 9200, 460, s(30), s(0)), "30 s since the last line");
        assert!(!line_due(461, 9200, 460, s(59), s(30)));
        assert!(line_due(9200, 9200, 460, s(1), s(1)), "the last step");

        // 1 s steps with every = 100: a line every 30 steps (time wins) ...
        let steps_with_lines = |every: Option<u64>, step_secs: f64| {
            let mut log = PlainLog::new(every);
            (1..=300u64)
                .filter(|&k| log.line(&at(Event::Step, k, k, k as f64 * step_secs)).is_some())
                .collect::<Vec<_>>()
        };
        assert_eq!(steps_with_lines(Some(100), 1.0), [30, 60, 90, 100, 130, 160, 190, 200, 230, 260, 290, 300]);
        // ... and with fast steps the step count wins
        assert_eq!(steps_with_lines(Some(100), 0.01), [100, 200, 300]);
        // the default: 5% of 9200 steps is 460
        assert_eq!(steps_with_lines(None, 0.01), Vec::<u64>::new());
        // non-step reports always print and restart the 30 s
        let mut log = PlainLog::new(Some(1000));
        assert_eq!(log.line(&at(Event::Warning("small".into()), 0, 0, 0.0)).unwrap(), "warning: small");
        assert_eq!(log.line(&at(Event::SampleGrid("g.png".into()), 20, 20, 20.0)).unwrap(), "step 20: wrote g.png");
        assert!(log.line(&at(Event::Step, 21, 21, 45.0)).is_none());
        assert!(log.line(&at(Event::Step, 22, 22, 50.0)).is_some());
    }

    #[test]
    fn a_small_holdout_gets_a_warning_that_says_what_to_change() {
        // 64 crops at holdout 0.1 hold out 6: 32 of 64 needs holdout 0.5
        assert_eq!(
            coverage_warning(6, true, 64).unwrap(),
            "holdout has 6 images; precision/recall need at least 32 - use holdout 0.5 or more data"
        );
        assert_eq!(coverage_warning(20, true, 200).unwrap().split(" - ").nth(1), Some("use holdout 0.16 or more data"));
        assert_eq!(
            coverage_warning(20, false, 20).unwrap(),
            "no holdout: metrics use the 20 training images; precision/recall need at least 32 - use more data \
             (at least 32 images)"
        );
        assert!(coverage_warning(3, true, 40)
            .unwrap()
            .ends_with("use more data (at least 64 images with holdout 0.5)"));
        assert_eq!(coverage_warning(32, true, 320), None);
        assert_eq!(coverage_warning(256, false, 5000), None);
    }

    #[test]
    fn durations_and_losses_read_short() {
        assert_eq!(short_duration(Duration::from_secs(45)), "45s");
        assert_eq!(short_duration(Duration::from_secs(27 * 60 + 40)), "27m40s");
        assert_eq!(short_duration(Duration::from_secs(3 * 3600 + 5 * 60 + 59)), "3h05m");
        assert_eq!(per_step(0.035), "35 ms/step");
        assert_eq!(per_step(1.4), "1.40 s/step");
        assert_eq!(loss(0.0417), "0.0417");
        assert_eq!(loss(-0.00031), "-3.10e-4");
        assert_eq!(loss(2.6712), "2.67");
        assert_eq!(loss(0.0), "0.00");
    }
}
