#!/usr/bin/env python3
"""Converts a PyTorch texture generator (`TextureGenerator` in torch_models.py, kiln's
`texture_gan` architecture) to a kiln model file that `load_model(...)` / `Model::load` reads.

    python3 scripts/train/from_torch.py generator.pt model.safetensors --textures brick,moss --patch 64
    echo 'load_model("model.safetensors").sample(#{ width: 1024, height: 1024, tileable: true })' > sample.rhai
    kiln run sample.rhai -o t.png

The input is a `.pt` file holding a state_dict, a whole TextureGenerator, or a dict with the
generator's state_dict under `--key` (for example a training checkpoint's "ema"). A `module.` or
`_orig_mod.` prefix (DataParallel, torch.compile) is dropped. The architecture (width, local,
global, periodic, number of textures) is read from the tensor shapes, the coarse noise channels
from the `coarse_channels` buffer, bilinear upsampling from the `bilinear_upsample_on` buffer;
exemplar names and the
training patch, which no tensor records, come from `--textures` and `--patch`. From Python:
`convert(generator_or_state_dict, path, textures=[...], patch=64)`; the other direction,
`load_kiln(path)`, reads a kiln texture_gan file back into a TextureGenerator.

Mapping (w = width, T = textures, C = local + global + periodic; every tensor float32,
row-major, the same layout in both, so no transposes):

    torch (TextureGenerator)   kiln         shape
    embed                      g.embed      (T, global)
    wave.weight                g.wave.w     (2*periodic, global)    only with periodic > 0
    wave.bias                  g.wave.b     (2*periodic)            only with periodic > 0
    input.weight               g.in.w       (4w, C, 3, 3)
    input.bias                 g.in.b       (4w)
    mid.weight                 g.mid.w      (4w, 4w, 3, 3)
    mid.bias                   g.mid.b      (4w)
    mid1.weight, mid1.bias ... g.mid1.w ... (as mid)                 depth > 1, up to mid{depth-1}
    up0.weight                 g.up0.w      (2w, 4w, 3, 3)
    up0.bias                   g.up0.b      (2w)
    up1.weight                 g.up1.w      (w, 2w, 3, 3)
    up1.bias                   g.up1.b      (w)
    out.weight                 g.out.w      (3, w, 3, 3)
    out.bias                   g.out.b      (3)
    up0_noise, up1_noise       g.up0.noise, g.up1.noise (2w), (w)   only with detail noise
    up0_gate.weight, .bias     g.up0.gate.w, .b  (1, 2w, 1, 1), (1) only with the detail gate
    up1_gate.weight, .bias     g.up1.gate.w, .b  (1, w, 1, 1), (1)  only with the detail gate
    coarse_channels            (metadata `coarse`)                  a 0-d buffer, only with coarse > 0
    bilinear_upsample_on       (metadata `bilinear_upsample`)       a 0-d buffer, only when on

The noise channels are ordered local, global, periodic, coarse in `g.in.w`'s second axis, and the wave
outputs kx (periodic rows) before ky. The discriminator (`d.c0` ... `d.out`, `d.embed`, same
rule) is not part of a model file: kiln samples from the generator alone.

A spatial VAE (`SpatialVae` in torch_models.py, kind "spatial_vae") is recognised by its
`enc.in.weight` and converted name for name, `.weight`/`.bias` to `.w`/`.b` (`enc.in.weight` ->
`enc.in.w`, `dec.res0.conv2.bias` -> `dec.res0.conv2.b`); factor, latent channels, width and
residual blocks come from the shapes (see SpatialVae's docstring for the table), and the
metadata is kind = "spatial_vae", channels, factor, latent_channels, width, blocks,
channel_plan, steps.

The file: safetensors (8-byte little-endian header length, JSON header padded with spaces to a
multiple of 8, raw little-endian data), tensors in sorted name order, with `__metadata__`
format = "kiln-model", format_version = "1", kind = "texture_gan", channels = 3, stride = 8,
width, local, global, periodic, depth, detail_noise, detail_gate, coarse, bilinear_upsample, patch, textures
(a JSON array of names), steps, source. It is
written here rather than with the `safetensors` package so that the script needs only torch and
the output is byte-identical for the same input (sorted keys), like the files kiln writes; it is
written to a temporary name and renamed, so a failed run leaves no half-written file.
"""
import argparse
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import SpatialVae, TextureGenerator, kiln_name, mid_names, spatial_kiln_name  # noqa: E402

FORMAT, FORMAT_VERSION, STRIDE = "kiln-model", "1", 8


def strip_prefixes(sd):
    out = {}
    for k, v in sd.items():
        for p in ("module.", "_orig_mod."):
            while k.startswith(p):
                k = k[len(p):]
        out[k] = v
    return out


def architecture(sd):
    """width, local, global, periodic, textures, depth, detail_noise, coarse, bilinear_upsample,
    detail_gate from the generator's tensor shapes (and its `coarse_channels` and `bilinear_upsample_on`
    buffers)."""
    for need in ("embed", "input.weight", "out.weight"):
        if need not in sd:
            raise ValueError(f"not a TextureGenerator state_dict: `{need}` is missing (keys: {', '.join(sorted(sd))})")
    textures, global_ = sd["embed"].shape
    width = sd["out.weight"].shape[1]
    periodic = sd["wave.weight"].shape[0] // 2 if "wave.weight" in sd else 0
    coarse = int(sd["coarse_channels"]) if "coarse_channels" in sd else 0
    local = sd["input.weight"].shape[1] - global_ - periodic - coarse
    if local < 1:
        raise ValueError(f"`input.weight` has {sd['input.weight'].shape[1]} input channels, fewer than global + periodic + coarse + 1")
    depth = 1
    while f"mid{depth}.weight" in sd:
        depth += 1
    bilinear = bool(sd["bilinear_upsample_on"]) if "bilinear_upsample_on" in sd else False
    return width, local, global_, periodic, textures, depth, "up0_noise" in sd, coarse, bilinear, "up0_gate.weight" in sd


def expected_shapes(width, local, global_, periodic, textures, depth=1, detail_noise=False, coarse=0, bilinear=False,
                    detail_gate=False):
    w, c = width, local + global_ + periodic + coarse
    shapes = {
        "embed": (textures, global_),
        "input.weight": (4 * w, c, 3, 3), "input.bias": (4 * w,),
        **{f"{m}.{p}": s for m in mid_names(depth) for p, s in (("weight", (4 * w, 4 * w, 3, 3)), ("bias", (4 * w,)))},
        "up0.weight": (2 * w, 4 * w, 3, 3), "up0.bias": (2 * w,),
        "up1.weight": (w, 2 * w, 3, 3), "up1.bias": (w,),
        "out.weight": (3, w, 3, 3), "out.bias": (3,),
    }
    if periodic > 0:
        shapes["wave.weight"] = (2 * periodic, global_)
        shapes["wave.bias"] = (2 * periodic,)
    if detail_noise:
        shapes["up0_noise"] = (2 * w,)
        shapes["up1_noise"] = (w,)
    if detail_gate:
        shapes.update({"up0_gate.weight": (1, 2 * w, 1, 1), "up0_gate.bias": (1,),
                       "up1_gate.weight": (1, w, 1, 1), "up1_gate.bias": (1,)})
    if coarse > 0:
        shapes["coarse_channels"] = ()
    if bilinear:
        shapes["bilinear_upsample_on"] = ()
    return shapes


def kiln_tensors(sd):
    """{kiln name: float32 tensor} and the architecture, checking every name and shape."""
    sd = strip_prefixes(sd)
    arch = architecture(sd)
    shapes = expected_shapes(*arch)
    extra = sorted(set(sd) - set(shapes))
    missing = sorted(set(shapes) - set(sd))
    if extra or missing:
        raise ValueError(f"state_dict does not match the architecture its shapes imply: missing {missing}, unexpected {extra}")
    out = {}
    for name, shape in shapes.items():
        if name in ("coarse_channels", "bilinear_upsample_on"):
            continue  # metadata, not a tensor of the file
        t = sd[name].detach().to("cpu", torch.float32).contiguous()
        if tuple(t.shape) != shape:
            raise ValueError(f"`{name}` has shape {tuple(t.shape)}, expected {shape}")
        if not torch.isfinite(t).all():
            raise ValueError(f"`{name}` holds NaN or infinity")
        out[kiln_name(name)] = t
    return out, arch


def encode(tensors, meta):
    """safetensors bytes: sorted keys, metadata first, header padded with spaces."""
    header = {"__metadata__": dict(sorted(meta.items()))}
    chunks, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name]
        data = t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(chunks)


def convert(generator, path, textures=None, patch=64, steps=0):
    """Writes `generator` (a TextureGenerator or its state_dict) to the kiln model file `path`."""
    sd = generator.state_dict() if isinstance(generator, torch.nn.Module) else generator
    tensors, (width, local, global_, periodic, count, depth, detail_noise, coarse, bilinear, gate) = kiln_tensors(sd)
    names = list(textures) if textures else [f"texture{i}" for i in range(count)]
    if len(names) != count:
        raise ValueError(f"{len(names)} texture names for a generator with {count} textures (`embed` rows)")
    if patch % STRIDE or not 16 <= patch <= 512:
        raise ValueError(f"patch {patch}: a multiple of {STRIDE} from 16 to 512")
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": "texture_gan", "channels": "3",
        "stride": str(STRIDE), "width": str(width), "local": str(local), "global": str(global_),
        "periodic": str(periodic), "depth": str(depth), "patch": str(patch), "steps": str(steps),
        "detail_noise": "true" if detail_noise else "false", "coarse": str(coarse),
        "bilinear_upsample": "true" if bilinear else "false", "detail_gate": "true" if gate else "false",
        "textures": json.dumps(names, separators=(",", ":"), ensure_ascii=False),
        "source": f"scripts/train/from_torch.py (torch {torch.__version__.split('+')[0]})",
    }
    write_atomic(path, encode(tensors, meta))
    return meta


def write_atomic(path, data):
    """Writes to a temporary name and renames: a failed run leaves no half-written file."""
    tmp = f"{path}.tmp{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def torch_name(kiln):
    """The TextureGenerator parameter name for kiln's `g.*` tensor name (the table read backwards)."""
    parts = kiln.split(".")[1:]
    if parts[-1] == "noise":
        return f"{parts[0]}_noise"
    if parts[1:2] == ["gate"]:
        parts[0:2] = [f"{parts[0]}_gate"]
    if parts[0] == "in":
        parts[0] = "input"
    parts[-1] = {"w": "weight", "b": "bias"}.get(parts[-1], parts[-1])
    return ".".join(parts)


def load_kiln(path):
    """The other direction: a kiln `texture_gan` file as (TextureGenerator, metadata)."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop("__metadata__", {})
    if meta.get("format") != FORMAT or meta.get("kind") != "texture_gan":
        raise ValueError(f"{path} is not a kiln texture_gan file (format {meta.get('format')}, kind {meta.get('kind')})")
    sd = {}
    for name, info in header.items():
        if not name.startswith("g.") or info["dtype"] != "F32":
            continue
        a, b = info["data_offsets"]
        sd[torch_name(name)] = torch.frombuffer(bytearray(data[8 + n + a:8 + n + b]), dtype=torch.float32).reshape(info["shape"])
    arch = [int(meta[k]) for k in ("width", "local", "global", "periodic")]
    g = TextureGenerator(*arch, textures=len(json.loads(meta["textures"])), depth=int(meta.get("depth", "1")),
                         detail_noise=meta.get("detail_noise") == "true", coarse=int(meta.get("coarse", "0")),
                         bilinear_upsample=meta.get("bilinear_upsample") == "true",
                         detail_gate=meta.get("detail_gate") == "true")
    if g.coarse > 0:
        sd["coarse_channels"] = torch.tensor(g.coarse)
    if g.bilinear_upsample:
        sd["bilinear_upsample_on"] = torch.tensor(True)
    g.load_state_dict(sd)
    return g, meta


def spatial_architecture(sd):
    """factor, latent, width, blocks of a SpatialVae state_dict, from its names and shapes."""
    stages = sum(1 for k in sd if k.startswith("enc.down") and k.endswith(".weight"))
    blocks = sum(1 for k in sd if k.startswith("enc.res") and k.endswith(".conv1.weight"))
    if "enc.in.weight" not in sd or "dec.in.weight" not in sd or stages not in (2, 3):
        raise ValueError("not a SpatialVae state_dict (needs enc.in, enc.down0.., dec.in with 4x or 8x down)")
    return 1 << stages, sd["dec.in.weight"].shape[1], sd["enc.in.weight"].shape[0], blocks


def convert_spatial(vae, path, steps=0):
    """Writes `vae` (a SpatialVae or its state_dict) to the kiln model file `path`."""
    sd = strip_prefixes(vae.state_dict() if isinstance(vae, torch.nn.Module) else vae)
    factor, latent, width, blocks = spatial_architecture(sd)
    want = SpatialVae(factor, latent, width, blocks).state_dict()
    extra, missing = sorted(set(sd) - set(want)), sorted(set(want) - set(sd))
    if extra or missing:
        raise ValueError(f"state_dict does not match the architecture its shapes imply: missing {missing}, unexpected {extra}")
    tensors = {}
    for name, ref in want.items():
        t = sd[name].detach().to("cpu", torch.float32).contiguous()
        if t.shape != ref.shape:
            raise ValueError(f"`{name}` has shape {tuple(t.shape)}, expected {tuple(ref.shape)}")
        if not torch.isfinite(t).all():
            raise ValueError(f"`{name}` holds NaN or infinity")
        tensors[spatial_kiln_name(name)] = t
    stages = factor.bit_length() - 1
    meta = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "kind": "spatial_vae", "channels": "3",
        "factor": str(factor), "latent_channels": str(latent), "width": str(width), "blocks": str(blocks),
        "channel_plan": ",".join(str(width << min(i, 2)) for i in range(stages + 1)), "steps": str(steps),
        "source": f"scripts/train/from_torch.py (torch {torch.__version__.split('+')[0]})",
    }
    write_atomic(path, encode(tensors, meta))
    return meta


def load_state_dict(path, key=None):
    obj = torch.load(path, map_location="cpu", weights_only=False)
    if key is not None:
        if not isinstance(obj, dict) or key not in obj:
            raise ValueError(f"{path} has no entry `{key}`")
        obj = obj[key]
    if isinstance(obj, torch.nn.Module):
        return obj.state_dict()
    if not isinstance(obj, dict):
        raise ValueError(f"{path} holds a {type(obj).__name__}, not a state_dict or a module")
    return obj


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", help=".pt file: a TextureGenerator, its state_dict, or a dict holding one under --key")
    ap.add_argument("output", help="kiln model file to write (.safetensors)")
    ap.add_argument("--key", help="entry of the .pt dict that holds the generator (e.g. ema)")
    ap.add_argument("--textures", help="comma-separated exemplar names, in label order (default texture0, texture1, ...)")
    ap.add_argument("--patch", type=int, default=64, help="side of the training crops (recorded; default 64)")
    ap.add_argument("--steps", type=int, default=0, help="training steps (recorded; default 0)")
    args = ap.parse_args()
    try:
        sd = strip_prefixes(load_state_dict(args.input, args.key))
        if "enc.in.weight" in sd:
            meta = convert_spatial(sd, args.output, args.steps)
        else:
            names = args.textures.split(",") if args.textures else None
            meta = convert(sd, args.output, names, args.patch, args.steps)
    except (ValueError, OSError) as e:
        sys.exit(f"from_torch.py: {e}")
    arch = ", ".join(f"{k} {meta[k]}" for k in ("width", "local", "global", "periodic", "coarse", "textures", "factor", "latent_channels", "blocks") if k in meta)
    print(f"wrote {args.output}: {meta['kind']}, {arch}")


if __name__ == "__main__":
    main()
