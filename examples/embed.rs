//! A host program that embeds kiln: it registers its own function, runs a script from memory,
//! and gets the resulting Image back without touching the disk.
//!
//! Run: `cargo run --example embed`

use kiln::script::{Host, RunConfig};
use kiln::Color;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut host = Host::default();
    // A game tool might expose its team colours, asset sizes or a database lookup like this.
    host.engine_mut().register_fn("team_color", |team: i64| match team {
        1 => Color::rgb8(200, 40, 40),
        2 => Color::rgb8(40, 80, 200),
        _ => Color::gray(0.5),
    });
    let script = r#"
        let size = param("size", 64);
        let badge = image(size, size, team_color(2));
        badge.set(size / 2, size / 2, "white")
    "#;
    let compiled = host.compile("badge.rhai", script)?;
    let config = RunConfig { params: vec![("size".into(), "32".into())], ..RunConfig::default() };
    let outcome = host.run(&compiled, config)?;
    let badge = &outcome.images[0];
    println!(
        "got a {}x{} badge in memory; centre pixel {} (compile {:?}, run {:?})",
        badge.width(),
        badge.height(),
        badge.get(16, 16).unwrap().to_hex(),
        outcome.compile_time,
        outcome.run_time
    );
    Ok(())
}
