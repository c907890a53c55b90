#!/usr/bin/env python3
"""PyTorch modules of kiln's texture GAN (`kind = "texture_gan"`, src/model/texture/net.rs)
and spatial VAE (`SpatialVae` below, `kind = "spatial_vae"`, src/model/spatial/net.rs), layer
for layer, so a network trained in PyTorch can be converted to a kiln model file
(`from_torch.py`) and the two frameworks can be timed on the same work (benches/model_torch.py).

Architecture (w = width, T = textures, C = local + global + periodic + coarse), as kiln:
- noise at 1/8 of the image: `local` i.i.d. normal channels; `global` channels, the per-cell mix
  of the exemplars' learned codes (`embed`, T x global); `periodic` channels
  sin(kx*x + ky*y + phase) with k = pi * tanh(wave(global code)) per cell, x and y in noise cells;
  `coarse` channels of smooth noise with cells of 16, 32, 64 and 128 pixels in turn
  (`coarse_noise()`, src/model/texture/coarse.rs);
- generator: 3x3 conv C -> 4w, then `depth` 3x3 convs 4w -> 4w at 1/8; nearest 2x upsample + 3x3 conv 4w -> 2w;
  upsample + 3x3 conv 2w -> w; upsample + 3x3 conv w -> 3, tanh. With `bilinear_upsample` each
  upsample is bilinear (align_corners=False) with wrapping edges (`upsample2_bilinear_wrapped()`).
  Every conv pads circularly (F.pad(mode="circular")) and all but the last are followed by pixel
  norm then leaky ReLU 0.2;
  with `detail_noise`, a one-channel normal image at 1/4 (after up0) and at 1/2 (after up1) is
  added before the pixel norm, scaled per channel by `up0_noise` / `up1_noise` (zero at start);
  with `detail_gate` too, each noise image is first scaled per pixel by 1 + tanh(g), g a 1x1 conv
  (`up0_gate` / `up1_gate`, zero at start) of that stage's conv output;
- discriminator: 4x4 stride-2 convs 3 -> w -> 2w -> 4w (zero padding 1), 3x3 conv 4w -> 4w, each
  followed by leaky ReLU 0.2; logits = 3x3 conv 4w -> 1 plus the projection
  sum_c h[c] * embed[label, c] (Miyato & Koyama 2018).

Parameter names: a module attribute here has kiln's name without the `g.` / `d.` prefix, except
kiln's `g.in`, a Python keyword, which is `input` here; torch's `.weight` / `.bias` are kiln's
`.w` / `.b`. `kiln_name()` is the whole rule; the table is in from_torch.py and docs/pytorch.md.

    torch (TextureGenerator)   kiln          shape
    embed                      g.embed       (T, global)
    wave.weight / wave.bias    g.wave.w/.b   (2*periodic, global) / (2*periodic)   periodic > 0
    input.weight / .bias       g.in.w / .b   (4w, C, 3, 3) / (4w)
    mid.weight / .bias         g.mid.w / .b  (4w, 4w, 3, 3) / (4w)
    mid1.weight ... (depth>1)  g.mid1.w ...  (4w, 4w, 3, 3) / (4w)   up to mid{depth-1}
    up0.weight / .bias         g.up0.w / .b  (2w, 4w, 3, 3) / (2w)
    up1.weight / .bias         g.up1.w / .b  (w, 2w, 3, 3) / (w)
    up0_noise / up1_noise      g.up0.noise / g.up1.noise  (2w) / (w)   detail_noise
    up0_gate.weight / .bias    g.up0.gate.w / .b  (1, 2w, 1, 1) / (1)    detail_gate
    up1_gate.weight / .bias    g.up1.gate.w / .b  (1, w, 1, 1) / (1)     detail_gate
    out.weight / .bias         g.out.w / .b  (3, w, 3, 3) / (3)
    coarse_channels            (metadata `coarse`)  a 0-d buffer, only with coarse > 0
    bilinear_upsample_on       (metadata `bilinear_upsample`)  a 0-d buffer, only when on

Noise layout, as kiln's `NoiseParts` (n images, h x w noise cells): `local` (n, local, h, w)
standard normal; `mix` (n, T, h, w), how much of each exemplar's code each cell takes (one-hot
for one texture); `phase` (n, periodic, 1, 1) in [0, 2pi). `snap=True` rounds wave numbers to
whole periods across the canvas (kiln does this for tileable samples). The detail noise is a
list of two images, (n, 1, 2h, 2w) and (n, 1, 4h, 4w), standard normal (`random_detail()`).
The coarse noise is (n, coarse, h, w), appended after the periodic channels (`coarse_noise()`).

`init_like_kiln()` draws the distributions kiln starts from (He-normal weights with the leaky
gain, uniform biases, N(0, 1) generator codes); the values differ (kiln has its own RNG).
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# sqrt(2) / sqrt(1 + 0.2^2): He gain for leaky ReLU 0.2 (kiln's nn::LEAKY_GAIN)
LEAKY_GAIN = 1.3867505
STRIDE = 8


def leaky(x):
    return F.leaky_relu(x, 0.2)


def pixel_norm(x):
    return x / torch.sqrt(x.pow(2).mean(1, keepdim=True) + 1e-8)


def upsample2(x):
    return F.interpolate(x, scale_factor=2, mode="nearest")


def upsample2_bilinear_wrapped(x):
    """Bilinear 2x (align_corners=False) with edges that wrap, as kiln's src/model/bilinear.rs:
    pad one pixel circularly, interpolate, and drop the two pixels each side that the padding
    made (inside, output j samples the padded input at (j + 0.5) / 2 - 0.5, one pixel in)."""
    up = F.interpolate(F.pad(x, (1, 1, 1, 1), mode="circular"), scale_factor=2, mode="bilinear", align_corners=False)
    return up[:, :, 2:-2, 2:-2]


def conv_wrapped(conv, x):
    """`conv` (no padding of its own) after circular padding that keeps the size."""
    p = conv.kernel_size[0] // 2
    return conv(F.pad(x, (p, p, p, p), mode="circular"))


def snap_to_periods(k, cells):
    step = 2 * math.pi / cells
    return torch.round(k.detach() / step) * step


# cell sides, in noise cells, of the coarse channels in turn (coarse.rs `OCTAVES`)
OCTAVES = (2, 4, 8, 16)


def bspline(t):
    """The uniform cubic B-spline's four weights at `t` in [0, 1) (knots -1, 0, 1, 2)."""
    s = 1.0 - t
    return [s ** 3 / 6, (3 * t ** 3 - 6 * t ** 2 + 4) / 6, (-3 * t ** 3 + 3 * t ** 2 + 3 * t + 1) / 6, t ** 3 / 6]


def coarse_axis(cells, cell, wrap, phase):
    """(knots, [[(knot, weight), ...] per noise cell]) along one side, weights normalised so
    their squares sum to 1 (coarse.rs `Axis::new`)."""
    if wrap:
        knots = max(1, round(cells / cell))
        scale, offset = knots / cells, 0.0
    else:
        knots = math.floor((cells - 0.5) / cell + phase + 1.0) + 3
        scale, offset = 1.0 / cell, 1.0
    taps = []
    for i in range(cells):
        u = (i + 0.5) * scale + phase + offset
        base = math.floor(u)
        merged = {}
        for k, wk in enumerate(bspline(u - base)):
            at = base - 1 + k
            at = at % knots if wrap else at
            merged[at] = merged.get(at, 0.0) + wk
        norm = math.sqrt(sum(w * w for w in merged.values()))
        taps.append([(j, w / norm) for j, w in merged.items()])
    return knots, taps


def coarse_noise(n, channels, h, w, wrap=False, generator=None):
    """(n, channels, h, w) smooth noise of unit variance: i.i.d. normal knots on a grid of
    OCTAVES[c % 4] noise cells with a random sub-cell phase, cubic B-spline interpolated; the grid
    wraps (a whole number of knots per side) for tileable samples. Same rule as kiln's, drawn
    from torch's generator (kiln's own RNG gives other values)."""
    out = torch.empty(n, channels, h, w)
    for i in range(n):
        for c in range(channels):
            cell = OCTAVES[c % len(OCTAVES)]
            px, py = torch.rand(2, generator=generator).tolist()
            kx, xs = coarse_axis(w, cell, wrap, px)
            ky, ys = coarse_axis(h, cell, wrap, py)
            knots = torch.randn(ky, kx, generator=generator)
            # separable: one matrix per side
            mx, my = torch.zeros(w, kx), torch.zeros(h, ky)
            for x, taps in enumerate(xs):
                for j, wt in taps:
                    mx[x, j] += wt
            for y, taps in enumerate(ys):
                for j, wt in taps:
                    my[y, j] += wt
            out[i, c] = my @ knots @ mx.T
    return out


def mid_names(depth):
    """The 1/8 convolutions after the input one, as kiln names them: mid, mid1, mid2, ..."""
    return ["mid"] + [f"mid{i}" for i in range(1, depth)]


class TextureGenerator(nn.Module):
    def __init__(self, width=24, local=16, global_=8, periodic=0, textures=1, depth=4, detail_noise=False, coarse=0,
                 bilinear_upsample=False, detail_gate=False):
        super().__init__()
        if detail_gate and not detail_noise:
            raise ValueError("detail_gate gates the detail noise: it needs detail_noise too")
        self.width, self.local, self.global_, self.periodic, self.textures = width, local, global_, periodic, textures
        self.depth, self.detail_noise, self.coarse = depth, detail_noise, coarse
        self.bilinear_upsample, self.detail_gate = bilinear_upsample, detail_gate
        if coarse > 0:
            # no weight records the coarse count, so a buffer does: from_torch.py reads it
            self.register_buffer("coarse_channels", torch.tensor(coarse))
        if bilinear_upsample:
            # nor the upsampling: a buffer again, present only when on (older files have none)
            self.register_buffer("bilinear_upsample_on", torch.tensor(True))
        c = local + global_ + periodic + coarse
        self.embed = nn.Parameter(torch.randn(textures, global_))
        self.wave = nn.Linear(global_, 2 * periodic) if periodic > 0 else None
        self.input = nn.Conv2d(c, 4 * width, 3)
        self.mid = nn.Conv2d(4 * width, 4 * width, 3)
        for i in range(1, depth):
            setattr(self, f"mid{i}", nn.Conv2d(4 * width, 4 * width, 3))
        self.up0 = nn.Conv2d(4 * width, 2 * width, 3)
        self.up1 = nn.Conv2d(2 * width, width, 3)
        if detail_noise:
            self.up0_noise = nn.Parameter(torch.zeros(2 * width))
            self.up1_noise = nn.Parameter(torch.zeros(width))
        if detail_gate:
            self.up0_gate = nn.Conv2d(2 * width, 1, 1)
            self.up1_gate = nn.Conv2d(width, 1, 1)
            for gate in (self.up0_gate, self.up1_gate):
                nn.init.zeros_(gate.weight)
                nn.init.zeros_(gate.bias)
        self.out = nn.Conv2d(width, 3, 3)

    def noise(self, local, mix, phase, snap=False, coarse=None):
        """The noise tensor (n, local + global + periodic + coarse, h, w) from its random parts."""
        n, t, h, w = mix.shape
        g = torch.einsum("nthw,tc->nchw", mix, self.embed)
        parts = [local, g]
        if self.wave is not None:
            p = self.periodic
            k = math.pi * torch.tanh(self.wave(g.permute(0, 2, 3, 1))).permute(0, 3, 1, 2)
            kx, ky = k[:, :p], k[:, p:]
            if snap:
                kx, ky = snap_to_periods(kx, w), snap_to_periods(ky, h)
            xs = torch.arange(w, dtype=local.dtype).view(1, 1, 1, w)
            ys = torch.arange(h, dtype=local.dtype).view(1, 1, h, 1)
            parts.append(torch.sin(kx * xs + ky * ys + phase))
        if self.coarse > 0:
            if coarse is None or coarse.shape[1] != self.coarse:
                raise ValueError(f"this generator reads {self.coarse} coarse noise channels")
            parts.append(coarse)
        return torch.cat(parts, 1)

    def random_noise(self, n, h, w, labels=None, snap=False):
        """Noise for `n` images of `h x w` cells (8x that in pixels), exemplar `labels[i]`."""
        labels = torch.zeros(n, dtype=torch.long) if labels is None else labels
        mix = F.one_hot(labels, self.textures).float().view(n, self.textures, 1, 1).expand(n, self.textures, h, w)
        local = torch.randn(n, self.local, h, w)
        phase = torch.rand(n, self.periodic, 1, 1) * (2 * math.pi)
        coarse = coarse_noise(n, self.coarse, h, w, wrap=snap) if self.coarse > 0 else None
        return self.noise(local, mix, phase, snap, coarse)

    def random_detail(self, n, h, w):
        """Detail noise for `n` images of `h x w` cells: [] without detail noise."""
        return [torch.randn(n, 1, f * h, f * w) for f in (2, 4)] if self.detail_noise else []

    def forward(self, z, detail=()):
        """Images in [-1, 1], 8x the size of the noise `z`; `detail` is the detail noise."""
        gains = [self.up0_noise, self.up1_noise] if self.detail_noise else []
        if len(detail) != len(gains):
            raise ValueError(f"{len(detail)} detail noise images for a generator that reads {len(gains)}")
        h = leaky(pixel_norm(conv_wrapped(self.input, z)))
        for name in mid_names(self.depth):
            h = leaky(pixel_norm(conv_wrapped(getattr(self, name), h)))
        up = upsample2_bilinear_wrapped if self.bilinear_upsample else upsample2
        for i, conv in enumerate((self.up0, self.up1)):
            h = conv_wrapped(conv, up(h))
            if gains:
                noise = detail[i]
                if self.detail_gate:
                    noise = noise * (1 + torch.tanh((self.up0_gate, self.up1_gate)[i](h)))
                h = h + noise * gains[i].view(1, -1, 1, 1)
            h = leaky(pixel_norm(h))
        return torch.tanh(conv_wrapped(self.out, up(h)))


def critic_levels(patch):
    """Stride-2 levels of the discriminator for a training patch (arch.rs `critic_levels`): 3 up
    to 127 pixels, one more per doubling after that."""
    return max(3, int(math.log2(max(patch, 64))) - 3)


class TextureDiscriminator(nn.Module):
    def __init__(self, width=24, textures=1, patch=64):
        super().__init__()
        w = width
        self.c0 = nn.Conv2d(3, w, 4, 2, 1)
        self.c1 = nn.Conv2d(w, 2 * w, 4, 2, 1)
        self.c2 = nn.Conv2d(2 * w, 4 * w, 4, 2, 1)
        # patches of 128 and more: `down3`, `down4`, ... (kiln's d.down3, ...)
        self.levels = critic_levels(patch)
        for level in range(3, self.levels):
            setattr(self, f"down{level}", nn.Conv2d(4 * w, 4 * w, 4, 2, 1))
        self.c3 = nn.Conv2d(4 * w, 4 * w, 3, 1, 1)
        self.out = nn.Conv2d(4 * w, 1, 3, 1, 1)
        self.embed = nn.Parameter(torch.randn(textures, 4 * w) / math.sqrt(4 * w))

    def forward(self, x, onehot):
        """(n, 1, h/2^levels, w/2^levels) realness logits of images `x` in [-1, 1] of exemplars
        `onehot` (n, T)."""
        h = x
        down = [getattr(self, f"down{level}") for level in range(3, self.levels)]
        for conv in (self.c0, self.c1, self.c2, *down, self.c3):
            h = leaky(conv(h))
        e = (onehot @ self.embed)[:, :, None, None]
        return self.out(h) + (h * e).sum(1, keepdim=True)


def kiln_name(torch_name, net="g"):
    """kiln's tensor name for a parameter of TextureGenerator (net "g") or TextureDiscriminator ("d")."""
    if torch_name in ("up0_noise", "up1_noise"):
        return f"{net}.{torch_name[:3]}.noise"
    parts = torch_name.split(".")
    if parts[0] in ("up0_gate", "up1_gate"):
        parts[0:1] = [parts[0][:3], "gate"]
    if parts[0] == "input":
        parts[0] = "in"
    parts[-1] = {"weight": "w", "bias": "b"}.get(parts[-1], parts[-1])
    return net + "." + ".".join(parts)


@torch.no_grad()
def init_like_kiln(module):
    """Redraws the parameters of `module` (a TextureGenerator, TextureDiscriminator or
    SpatialVae) from the distributions kiln starts from (nn.rs `Init`)."""
    # kiln's gains: 1 for output layers and the waves; the spatial VAE's enc.out 0.5, dec.in 1
    # and 0.2 for each residual block's second convolution (blocks start near the identity)
    gains = {"out": 1.0, "wave": 1.0, "enc.out": 0.5, "dec.in": 1.0, "dec.out": 1.0}
    for name, m in module.named_modules():
        if name.endswith("_gate"):
            continue  # the detail gates start at zero (kiln's Init::Zeros)
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            gain = 0.2 if name.endswith(".conv2") else gains.get(name, LEAKY_GAIN)
            m.weight.normal_(0.0, gain / math.sqrt(fan_in))
            m.bias.uniform_(-1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
    if isinstance(module, TextureGenerator):
        module.embed.normal_(0.0, 1.0)
    elif isinstance(module, TextureDiscriminator):
        module.embed.normal_(0.0, 1 / math.sqrt(module.embed.shape[1]))
    return module


class SpatialVae(nn.Module):
    """kiln's spatial VAE (`kind = "spatial_vae"`, src/model/spatial/net.rs): a fully
    convolutional encoder to a latent map (mu, log sigma^2) at 1/factor resolution and a decoder
    back. Parameter names are kiln's with `.weight`/`.bias` for `.w`/`.b` (`enc.in.weight` is
    kiln's `enc.in.w`; `spatial_kiln_name()`); every convolution pads by zeros (3x3: 1; 4x4
    stride 2: 1); leaky ReLU 0.2; no normalisation.

        enc.in       (ch0, 3, 3, 3)          image * 2 - 1 -> features, then lrelu
        enc.down{i}  (ch[i+1], ch[i], 4, 4)  stride 2, then lrelu, i in 0..stages
        enc.res{j}.conv1/.conv2 (top, top, 3, 3)   h + conv2(lrelu(conv1(lrelu(h))))
        enc.out      (2c, top, 3, 3)         on lrelu(h): mu = first c channels, logvar the rest
        dec.in       (top, c, 3, 3)
        dec.res{j}.conv1/.conv2 (top, top, 3, 3)
        dec.up{i}    (ch[i], ch[i+1], 3, 3)  on upsample2(lrelu(h)), i from stages-1 down to 0
        dec.out      (3, ch0, 3, 3)          on lrelu(h); image = 0.5 * out + 0.5, clamped

    with ch[i] = width * 2^min(i, 2) for i in 0..=stages, stages = log2(factor), top = ch[-1].
    """

    def __init__(self, factor=8, latent=8, width=32, blocks=2):
        super().__init__()
        self.factor, self.latent, self.width, self.blocks = factor, latent, width, blocks
        stages = factor.bit_length() - 1
        ch = [width << min(i, 2) for i in range(stages + 1)]
        top = ch[-1]

        def res():
            return nn.ModuleDict({"conv1": nn.Conv2d(top, top, 3, 1, 1), "conv2": nn.Conv2d(top, top, 3, 1, 1)})

        enc = {"in": nn.Conv2d(3, ch[0], 3, 1, 1)}
        enc.update({f"down{i}": nn.Conv2d(ch[i], ch[i + 1], 4, 2, 1) for i in range(stages)})
        enc.update({f"res{j}": res() for j in range(blocks)})
        enc["out"] = nn.Conv2d(top, 2 * latent, 3, 1, 1)
        dec = {"in": nn.Conv2d(latent, top, 3, 1, 1)}
        dec.update({f"res{j}": res() for j in range(blocks)})
        dec.update({f"up{i}": nn.Conv2d(ch[i + 1], ch[i], 3, 1, 1) for i in range(stages)})
        dec["out"] = nn.Conv2d(ch[0], 3, 3, 1, 1)
        self.enc, self.dec = nn.ModuleDict(enc), nn.ModuleDict(dec)
        self.stages = stages

    def _res(self, part, h):
        for j in range(self.blocks):
            b = part[f"res{j}"]
            h = h + b["conv2"](leaky(b["conv1"](leaky(h))))
        return h

    def encode(self, x):
        """(mu, logvar), each (n, latent, h/factor, w/factor), for images x in [0, 1]."""
        h = leaky(self.enc["in"](x * 2 - 1))
        for i in range(self.stages):
            h = leaky(self.enc[f"down{i}"](h))
        stats = self.enc["out"](leaky(self._res(self.enc, h)))
        return stats[:, : self.latent], stats[:, self.latent:].clamp(-30, 20)

    def decode_raw(self, z):
        h = self._res(self.dec, self.dec["in"](z))
        for i in reversed(range(self.stages)):
            h = self.dec[f"up{i}"](upsample2(leaky(h)))
        return self.dec["out"](leaky(h))

    def decode(self, z):
        """Images in [0, 1] for latent maps z."""
        return (self.decode_raw(z) * 0.5 + 0.5).clamp(0, 1)


def spatial_kiln_name(torch_name):
    """kiln's tensor name for a SpatialVae parameter: `.weight`/`.bias` become `.w`/`.b`."""
    head, _, last = torch_name.rpartition(".")
    return head + "." + {"weight": "w", "bias": "b"}[last]
