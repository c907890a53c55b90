//! Tests of the spatial VAE end to end: shapes, tiling, errors, determinism, resume.

use super::settings::{SpatialTrainOptions, SpatialTrainSettings};
use super::train::train_spatial_vae;
use crate::model::{Data, Kind};
use crate::Image;

fn texture(w: u32, h: u32, seed: u32) -> Image {
    Image::from_fn(w, h, |x, y| {
        let (x, y, s) = (x as f32, y as f32, seed as f32);
        [
            0.5 + 0.4 * (0.3 * x + 0.1 * y + s).sin(),
            0.5 + 0.4 * (0.2 * y - 0.05 * x + 2.0 * s).cos(),
            0.5 + 0.3 * (0.11 * (x + y) + s).sin(),
            1.0,
        ]
    })
    .unwrap()
}

fn tiny(data: Data) -> SpatialTrainSettings {
    SpatialTrainSettings {
        data: Some(data),
        patch: 16,
        steps: 3,
        batch: 2,
        width: 4,
        channels: 2,
        blocks: 1,
        seed: Some(1),
        ..SpatialTrainSettings::default()
    }
}

#[test]
fn trains_and_codes_any_size() {
    let data = Data::Images(vec![texture(40, 24, 1), texture(16, 16, 2)]);
    let opts = SpatialTrainOptions { settings: tiny(data), cancel: None };
    let (m, metrics) = train_spatial_vae(&opts, &mut |_| {}).unwrap();
    assert_eq!(m.kind(), Kind::SpatialVae);
    assert_eq!(metrics.steps, 3);
    assert!(metrics.psnr.is_some() && metrics.ssim.is_some());
    for (w, h) in [(8, 8), (16, 24), (13, 7), (1, 1), (33, 40)] {
        let map = m.encode_map(&texture(w, h, 3)).unwrap();
        let (pw, ph) = (w.div_ceil(8) * 8, h.div_ceil(8) * 8);
        assert_eq!((map.channels(), map.width(), map.height()), (2, pw as usize / 4, ph as usize / 4), "{w}x{h}");
        let back = m.decode_map(&map).unwrap();
        assert_eq!(back.dimensions(), (w, h));
        assert!(back.pixels().iter().all(|v| (0.0..=1.0).contains(v)));
    }
}
