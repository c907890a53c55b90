#!/usr/bin/env python3
"""PyTorch reference for benches/model.rs (issue 4): the same VAE and GAN architectures as
src/model/{vae,gan}.rs, timed on the CPU with the same thread count, so the Rust figures can be
read as ratios.

    pip install torch          # CPU wheel is enough
    python3 benches/model_torch.py --threads 2
    cargo bench --bench model  # with RAYON_NUM_THREADS=2 for the same thread count

Prints seconds per training step (batch 64, 32x32, width 32, latent 64) and per 64-sample
decode. Mirrors kiln layer for layer: 3x3 conv in, 4x4 stride-2 convs down, linear to
(mu, logvar); linear from z, nearest-upsample + 3x3 conv stages, 3x3 conv out; leaky ReLU 0.2;
GAN generator with pixel norm and tanh, strided-conv discriminator with a minibatch-deviation
map and a 3x3 conv at 4x4, hinge loss, DiffAugment (brightness + translation), moving-average
generator; Adam as in kiln.

The texture GAN (issue 14) at train_texture's defaults: one training step at batch 8, 64x64
crops of a 256x256 exemplar, width 24, local 16, global 8, periodic 0, depth 4, lr 2e-4,
adversarial weight 0.2, with the random-filter sliced-Wasserstein loss (src/model/texture/style.rs) and DiffAugment, and one tileable 1024x1024 sample; the
modules are scripts/train/torch_models.py, the ones from_torch.py converts. `--only texture`
runs just these two.
"""
import argparse
import copy
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def channels(size, width):
    stages = size.bit_length() - 3  # log2(size) - 2
    ch = [width]
    for _ in range(stages):
        ch.append(min(ch[-1] * 2, width * 8))
    return ch


def leaky(x):
    return F.leaky_relu(x, 0.2)


class Vae(nn.Module):
    def __init__(self, size=32, latent=64, width=32):
        super().__init__()
        ch = channels(size, width)
        self.latent, self.top = latent, ch[-1]
        self.conv_in = nn.Conv2d(3, ch[0], 3, 1, 1)
        self.down = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1) for i in range(len(ch) - 1))
        self.stats = nn.Linear(ch[-1] * 16, 2 * latent)
        self.from_z = nn.Linear(latent, ch[-1] * 16)
        self.up = nn.ModuleList(nn.Conv2d(ch[i + 1], ch[i], 3, 1, 1) for i in reversed(range(len(ch) - 1)))
        self.conv_out = nn.Conv2d(ch[0], 3, 3, 1, 1)

    def encode(self, x):
        h = leaky(self.conv_in(x * 2 - 1))
        for c in self.down:
            h = leaky(c(h))
        s = self.stats(h.flatten(1))
        return s[:, : self.latent], s[:, self.latent :].clamp(-30, 20)

    def decode_logits(self, z):
        h = leaky(self.from_z(z)).view(-1, self.top, 4, 4)
        for c in self.up:
            h = leaky(c(F.interpolate(h, scale_factor=2, mode="nearest")))
        return self.conv_out(h)

    def loss(self, x, eps, beta=1.0):
        n = x.shape[0]
        mu, logvar = self.encode(x)
        z = mu + torch.exp(0.5 * logvar) * eps
        logits = self.decode_logits(z)
        recon = F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / n
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / n
        return recon + beta * kl


def pixel_norm(x):
    return x / torch.sqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)


class Generator(nn.Module):
    def __init__(self, size=32, latent=64, width=32):
        super().__init__()
        ch = channels(size, width)
        self.top = ch[-1]
        self.from_z = nn.Linear(latent, ch[-1] * 16)
        self.up = nn.ModuleList(nn.Conv2d(ch[i + 1], ch[i], 3, 1, 1) for i in reversed(range(len(ch) - 1)))
        self.conv_out = nn.Conv2d(ch[0], 3, 3, 1, 1)

    def forward(self, z):
        h = leaky(pixel_norm(self.from_z(pixel_norm(z)).view(-1, self.top, 4, 4)))
        for c in self.up:
            h = leaky(pixel_norm(c(F.interpolate(h, scale_factor=2, mode="nearest"))))
        return torch.tanh(self.conv_out(h))


class Discriminator(nn.Module):
    def __init__(self, size=32, width=32):
        super().__init__()
        ch = channels(size, width)
        self.conv_in = nn.Conv2d(3, ch[0], 3, 1, 1)
        self.down = nn.ModuleList(nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1) for i in range(len(ch) - 1))
        self.mix = nn.Conv2d(ch[-1] + 1, ch[-1], 3, 1, 1)
        self.head = nn.Linear(ch[-1] * 16, 1)

    def forward(self, x, group=4):
        h = leaky(self.conv_in(x))
        for c in self.down:
            h = leaky(c(h))
        h = leaky(self.mix(minibatch_deviation(h, group)))
        return self.head(h.flatten(1))


def minibatch_deviation(x, group):
    # consecutive groups, as kiln's gan.rs: groups never straddle the real/fake halves
    n, c, h, w = x.shape
    g = x.reshape(n // group, group, c, h, w)
    sd = (g.var(dim=1, unbiased=False, keepdim=True) + 1e-8).sqrt()
    m = sd.mean(dim=(2, 3, 4), keepdim=True).expand(n // group, group, 1, h, w).reshape(n, 1, h, w)
    return torch.cat([x, m], 1)


def augment(x, brightness, dx, dy):
    x = x + brightness
    x = torch.roll(x, shifts=(dy, dx), dims=(2, 3))  # kiln zero-fills; same cost class
    return x


def shift(x, dim, by):
    """Moves x by `by` along `dim`, filling with zeros (kiln's gan.rs `shift`)."""
    k = min(abs(by), x.shape[dim])
    if k == 0:
        return x
    keep = x.narrow(dim, 0, x.shape[dim] - k) if by > 0 else x.narrow(dim, k, x.shape[dim] - k)
    pad = [0, 0] * (x.dim() - 1 - dim) + ([k, 0] if by > 0 else [0, k])
    return F.pad(keep, pad)


class Augment:
    """kiln's DiffAugment draw: per-image brightness in +-0.25, one shift of up to 1/8 of the side."""

    def __init__(self, n, size):
        m = max(size // 8, 1)
        self.b = torch.rand(n, 1, 1, 1) * 0.5 - 0.25
        self.dx, self.dy = int(torch.randint(-m, m + 1, ())), int(torch.randint(-m, m + 1, ()))

    def __call__(self, x):
        return shift(shift(x + self.b, 3, self.dx), 2, self.dy)


class StyleNet:
    """kiln's texture-statistics loss (src/model/texture/style.rs): the pixels and 3x3 layers of 32
    fixed random filters (stride 1, then `halvings` of stride 2: critic_levels(patch) + 1, so
    five layers at patch 64), each projected on as many random unit
    directions as it has channels, sorted over the pixels; the loss is the mean squared difference
    of the sorted projections (sliced Wasserstein)."""

    def __init__(self, halvings=4):
        gen = torch.Generator().manual_seed(7)
        self.layers, c = [], 3
        for stride in [1] + [2] * halvings:
            self.layers.append((torch.randn(32, c, 3, 3, generator=gen) * math.sqrt(2 / (c * 9)), stride))
            c = 32

    def features(self, x):
        out, h = [x.flatten(2)], x
        for w, stride in self.layers:
            h = F.leaky_relu(F.conv2d(h, w, stride=stride, padding=1), 0.2)
            out.append(h.flatten(2))
        return out

    def directions(self):
        dirs = []
        for f in [3] + [32] * len(self.layers):
            d = torch.randn(f, f)
            dirs.append(d / d.norm(dim=1, keepdim=True))
        return dirs

    def sorted(self, feats, dirs):
        return [torch.sort(d @ f, dim=-1)[0] for f, d in zip(feats, dirs)]

    def loss(self, fake, real_sorted, dirs):
        return sum(((f - r) ** 2).mean() for f, r in zip(self.sorted(self.features(fake), dirs), real_sorted))


def texture_benches(n=8, patch=64, width=24, local=16, global_=8, periodic=0, depth=4, style_weight=1.0, adversarial=0.2, lr=2e-4):
    """The texture GAN's training step and 1024x1024 sample, as src/model/texture/train.rs."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "train"))
    from torch_models import TextureDiscriminator, TextureGenerator, critic_levels, init_like_kiln

    g = init_like_kiln(TextureGenerator(width, local, global_, periodic, 1, depth=depth))
    d = init_like_kiln(TextureDiscriminator(width, 1, patch))
    ema = copy.deepcopy(g).requires_grad_(False)
    og = torch.optim.Adam(g.parameters(), lr=lr, betas=(0.0, 0.99))
    od = torch.optim.Adam(d.parameters(), lr=2 * lr, betas=(0.0, 0.99))
    style = StyleNet(critic_levels(patch) + 1)
    exemplar = torch.rand(3, 256, 256) * 2 - 1
    onehot = torch.ones(n, 1)
    cells = patch // 8

    def step():
        real = torch.stack([exemplar[:, y:y + patch, x:x + patch] for y, x in torch.randint(0, 256 - patch + 1, (n, 2)).tolist()])
        mix = torch.ones(n, 1, cells, cells)
        local_, phase = torch.randn(n, local, cells, cells), torch.rand(n, periodic, 1, 1) * (2 * math.pi)
        aug_d, aug_g = Augment(n, patch), Augment(n, patch)
        fake = g(g.noise(local_, mix, phase)).detach()
        logits = d(torch.cat([aug_d(real), aug_d(fake)]), torch.cat([onehot, onehot]))
        loss_d = F.relu(1 - logits[:n]).mean() + F.relu(1 + logits[n:]).mean()
        od.zero_grad(set_to_none=True)
        loss_d.backward()
        od.step()
        fake = g(g.noise(local_, mix, phase))
        d.requires_grad_(False)  # as kiln: no discriminator weight gradients in the G step
        loss_g = -adversarial * d(aug_g(fake), onehot).mean()
        if style_weight > 0:
            dirs = style.directions()
            with torch.no_grad():
                real_sorted = style.sorted(style.features(real), dirs)
            loss_g = loss_g + style_weight * style.loss(fake, real_sorted, dirs)
        og.zero_grad(set_to_none=True)
        loss_g.backward()
        og.step()
        d.requires_grad_(True)
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), g.parameters()):
                pe.mul_(0.999).add_(p, alpha=0.001)

    def sample():
        with torch.no_grad():
            z = ema.noise(torch.randn(1, local, 128, 128), torch.ones(1, 1, 128, 128), torch.rand(1, periodic, 1, 1) * (2 * math.pi), snap=True)
            ema(z).add(1).mul(0.5).clamp(0, 1)

    return [("texture/train_step_b8_64px_w24", step), ("texture/sample_1024px_tileable", sample)]


def bench(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--only", choices=["texture"], help="run only the texture GAN benches")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    n, latent = args.batch, 64
    x = torch.rand(n, 3, 32, 32)

    vae = Vae()
    opt = torch.optim.Adam(vae.parameters(), lr=1e-3, betas=(0.9, 0.999))

    def vae_step():
        opt.zero_grad(set_to_none=True)
        loss = vae.loss(x, torch.randn(n, latent))
        loss.backward()
        opt.step()

    g, d = Generator(), Discriminator()
    ema = copy.deepcopy(g).requires_grad_(False)
    og = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.0, 0.99))
    od = torch.optim.Adam(d.parameters(), lr=4e-4, betas=(0.0, 0.99))
    real = x * 2 - 1

    def gan_step():
        b, s = torch.rand(n, 1, 1, 1) * 0.5 - 0.25, (1, -2)
        fake = g(torch.randn(n, latent)).detach()
        logits = d(torch.cat([augment(real, b, *s), augment(fake, b, *s)]))
        loss_d = F.relu(1 - logits[:n]).mean() + F.relu(1 + logits[n:]).mean()
        od.zero_grad(set_to_none=True)
        loss_d.backward()
        od.step()
        fake = g(torch.randn(n, latent))
        d.requires_grad_(False)  # as kiln: no discriminator weight gradients in the G step
        loss_g = -d(augment(fake, b, *s)).mean()
        og.zero_grad(set_to_none=True)
        loss_g.backward()
        og.step()
        d.requires_grad_(True)
        with torch.no_grad():
            for pe, p in zip(ema.parameters(), g.parameters()):
                pe.mul_(0.999).add_(p, alpha=0.001)

    def vae_sample():
        with torch.no_grad():
            torch.sigmoid(vae.decode_logits(torch.randn(64, latent)))

    def gan_sample():
        with torch.no_grad():
            ema(torch.randn(64, latent))

    print(f"torch {torch.__version__}, {args.threads} threads, batch {n}, 32x32, width 32, latent 64")
    benches = [("train_step_vae", vae_step), ("train_step_gan", gan_step), ("sample64_vae", vae_sample), ("sample64_gan", gan_sample)]
    benches = ([] if args.only else benches) + texture_benches()
    for name, fn in benches:
        print(f"{name}: {bench(fn, 3, args.reps) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
