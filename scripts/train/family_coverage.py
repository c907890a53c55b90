"""Which of the twelve materials a generator's samples look like.

Each sample takes the material of its nearest training tile (tile i of
scripts/train/make_tiles.rhai is material i % 12) in the texture-statistics space of
src/model/metrics.rs: per channel the mean, the standard deviation and the mean absolute
horizontal and vertical differences, each scaled by its spread over the tiles. A crude
classifier, but it shows dropped materials at a glance.

    kiln run scripts/train/make_tiles.rhai --out data/tiles32
    kiln run scripts/train/write_samples.rhai --out samples --set n=384
    pip install numpy pillow && python3 scripts/train/family_coverage.py data/tiles32 samples

A VAE's samples are blurry, and against the sharp tiles a blurry sample of any material lands
on "clouds" or "terrain". Give the VAE's own reconstructions of the tiles as the references
instead (scripts/train/write_reconstructions.rhai writes them under the tiles' names):

    kiln run scripts/train/write_reconstructions.rhai --out recon
    kiln run scripts/train/write_samples.rhai --out samples --set model=std/materials_vae
    python3 scripts/train/family_coverage.py recon samples
"""
import glob
import sys

import numpy as np
from PIL import Image

NAMES = ["bricks", "wood", "marble", "clouds", "granite", "rust", "lava", "sand", "grass",
         "stone_tiles", "water_caustics", "terrain"]


def features(path):
    a = np.asarray(Image.open(path).convert("RGB").resize((32, 32)), dtype=np.float64) / 255
    out = []
    for c in range(3):
        p = a[:, :, c]
        out += [p.mean(), p.std(), np.abs(np.diff(p, axis=1)).mean(), np.abs(np.diff(p, axis=0)).mean()]
    return out


def main(tiles, samples, n_tiles=1200):
    real = np.array([features(f"{tiles}/tile{i}.png") for i in range(n_tiles)])
    label = np.arange(n_tiles) % len(NAMES)
    fake = np.array([features(f) for f in sorted(glob.glob(f"{samples}/s*.png"))])
    mean, sd = real.mean(0), real.std(0)
    real, fake = (real - mean) / sd, (fake - mean) / sd
    nearest = label[((fake[:, None, :] - real[None, :, :]) ** 2).sum(-1).argmin(1)]
    counts = np.bincount(nearest, minlength=len(NAMES))
    for name, count in zip(NAMES, counts):
        print(f"{name:15s} {count:4d}")
    covered = int((counts >= 0.02 * len(fake)).sum())
    print(f"materials with at least 2% of the samples: {covered} of {len(NAMES)} ({len(fake)} samples)")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
