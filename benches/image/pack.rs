//! Packing benchmarks: a 2048² photo's gamma-correct mip chain (box and tent), a 2048² PBR set
//! packed for Unity HDRP (three grey maps into the mask map, the normal), and an atlas of 256
//! sprites of assorted sizes with padding and extrusion. No peer: NVIDIA Texture Tools and
//! TexturePacker are not installable here; these track kiln against itself.

use criterion::Criterion;
use kiln::ops::pack::{self, AtlasOptions, MipFilter, Mipmaps};
use kiln::pbr::{pack_pbr, PbrSet, Preset};
use kiln::{Color, Image};

use crate::common::photo;

pub fn benches(c: &mut Criterion) {
    let img = photo(2048);
    let mut g = c.benchmark_group("pack");
    g.sample_size(10);
    g.bench_function("mipmaps_box_2048", |b| b.iter(|| pack::mipmaps(&img, &Mipmaps::default()).unwrap()));
    g.bench_function("mipmaps_tent_tileable_2048", |b| {
        let o = Mipmaps { filter: MipFilter::Tent, tileable: Some(true), ..Mipmaps::default() };
        b.iter(|| pack::mipmaps(&img, &o).unwrap())
    });

    let grey = |v: f32| Image::filled(2048, 2048, Color::from_array([v, v, v, 1.0])).unwrap();
    let mut set = PbrSet::new(img.clone(), img.clone());
    set.roughness = Some(grey(0.6));
    set.metallic = Some(grey(0.1));
    set.ao = Some(grey(0.9));
    g.bench_function("pbr_unity_hdrp_2048", |b| b.iter(|| pack_pbr(&set, Preset::UnityHdrp).unwrap()));

    // 256 sprites, 8..72 px a side, from a fixed linear congruential sequence (deterministic).
    let mut state = 12345u32;
    let mut next = || {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12345);
        8 + (state >> 16) % 64
    };
    let sprites: Vec<Image> = (0..256)
        .map(|i| {
            let (w, h) = (next(), next());
            Image::filled(w, h, Color::from_array([i as f32 / 255.0, 0.5, 0.2, 1.0])).unwrap()
        })
        .collect();
    g.bench_function("atlas_256_sprites", |b| {
        let o = AtlasOptions { padding: 2, extrude: 1, ..AtlasOptions::default() };
        b.iter(|| pack::atlas(&sprites, &o).unwrap())
    });
    g.finish();
}
