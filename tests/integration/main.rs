//! The one integration test binary (ripgrep's layout): shared helpers in `util`, one module per
//! area. Golden images are blessed with `BLESS=1 cargo test`.

mod util;

mod api;
mod bad_input;
mod build;
mod cli;
mod composite;
mod edges;
mod geometry;
mod hardening;
mod io_edges;
mod live;
mod materials;
mod ninja;
mod pack;
mod properties;
mod provenance;
mod reference;
mod scripts;
mod serve;
mod surface;
mod texture_stats;
mod train_cli;
