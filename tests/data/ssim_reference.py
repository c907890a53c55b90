"""Reference SSIM and PSNR for src/model/quality.rs, computed independently with numpy.

Run once: python3 tests/data/ssim_reference.py; its two numbers are pasted into the Rust test
`matches_the_numpy_reference`. SSIM as in Wang et al. 2004 and scikit-image's
structural_similarity(gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
data_range=1, channel_axis=-1): 11x11 Gaussian window, per RGB channel, averaged over the
positions where the window lies inside the image. The images are the formulas of the Rust test,
rounded to float32 as kiln stores them.
"""
import numpy as np


def pattern(w, h, shifted):
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(3):
        base = 0.5 + 0.3 * np.sin(0.31 * x + 0.17 * y + c) + 0.15 * np.cos(0.05 * x * y + 2.0 * c)
        v = base + 0.1 * np.sin(0.9 * x - 0.4 * y + c) - 0.02 if shifted else base
        planes.append(np.clip(v, 0, 1).astype(np.float32).astype(np.float64))
    return np.stack(planes, -1)


def window():
    r = np.arange(11) - 5.0
    g = np.exp(-r * r / (2 * 1.5 * 1.5))
    g /= g.sum()
    return np.outer(g, g)


def filt(p, win):
    h, w = p.shape
    out = np.zeros((h - 10, w - 10))
    for i in range(h - 10):
        for j in range(w - 10):
            out[i, j] = (p[i:i + 11, j:j + 11] * win).sum()
    return out


def ssim(a, b):
    win = window()
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    vals = []
    for c in range(3):
        x, y = a[..., c], b[..., c]
        mx, my = filt(x, win), filt(y, win)
        vx = filt(x * x, win) - mx * mx
        vy = filt(y * y, win) - my * my
        cxy = filt(x * y, win) - mx * my
        s = ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
        vals.append(s.mean())
    return float(np.mean(vals))


a, b = pattern(48, 40, False), pattern(48, 40, True)
mse = ((a - b) ** 2).mean()
print(f"SSIM_REFERENCE = {ssim(a, b)!r}")
print(f"PSNR_REFERENCE = {float(10 * np.log10(1 / mse))!r}")
