#!/usr/bin/python3
"""PyTorch reference for fcnlab-paper-table: FCN-AlexNet, FCN-VGG16 (FCN-32s) and FCN-GoogLeNet
(and FCN-8s for the training step) defined layer for layer as fcnlab's models/ and the Caffe nets
(ceil-mode pooling, conv1 pad 100 on AlexNet/VGG16, groups 2 and LRN after pooling on CaffeNet,
fixed bilinear transposed convs, crops at the offsets Caffe's coordinate maps give), timed under
fcnlab-paper-table's protocol and written as CSV rows with the same columns, so
scripts/paper-compare.py can put fcnlab / PyTorch side by side.

Protocol: random weights and input (never zeros), eval mode, torch.no_grad, --warmup untimed
passes, then --trials passes each timed by the wall clock up to torch.cuda.synchronize() (CPU:
the call's return); mean, median, min, max. CPU: torch.set_num_threads(--threads), the same
thread count fcnlab-paper-table is given. CUDA variants: eager, channels-last, cuda-graph (a
captured forward replayed), each with TF32 off and with TF32 on (suffix -tf32);
torch.backends.cudnn.benchmark = True (cuDNN's algorithm search during the warm-up, like fcnlab's
cuDNN baseline).

Parameter counts (learned, excluding the fixed upsampling) of the width-1 nets are asserted
(built on the meta device, so also in a narrow --width run):
FCN-AlexNet 56,954,261, FCN-VGG16 134,346,581, FCN-GoogLeNet 5,995,077, FCN-8s 134,362,751.

Exit status: 0 done, 77 skipped (no torch, or --device cuda without a usable CUDA torch),
2 bad arguments, 1 any other failure.
Runs under Debian's /usr/bin/python3 with python3-torch (scripts/install-deps.sh --bench).
"""
import argparse
import csv
import io
import math
import os
import statistics
import sys
import time

SKIP = 77

EXPECTED_PARAMS = {"fcn-alexnet": 56954261, "fcn32s": 134346581, "fcn-googlenet": 5995077,
                   "fcn8s": 134362751}
PAPER_K40C_MS = {"fcn-alexnet": 50.0, "fcn32s": 210.0, "fcn-googlenet": 59.0}
CSV_COLUMNS = ["framework", "variant", "tf32", "device", "model", "task", "size", "batch", "width",
               "threads", "trials", "warmup", "mean_ms", "median_ms", "min_ms", "max_ms", "gflop",
               "tflops", "peak_tflops", "floor_ms", "paper_k40c_ms", "params"]


def scaled(c, width):
    """fcnlab's scaled_channels: max(1, round(c * width))."""
    return max(1, int(math.floor(c * width + 0.5)))


def build(name, width, classes=21, dropout=False, device=None):
    """The named net as an nn.Module whose forward(x) returns the cropped score map.
    device="meta": shapes and parameter counts only, nothing allocated (the width-1 count check)."""
    import torch
    from torch import nn

    class CoordMap:
        """Caffe's coordinate map x_layer = a * x_input + b along one axis (python/caffe/coord_map.py)."""

        def __init__(self, a=1.0, b=0.0):
            self.a, self.b = a, b

        def conv(self, k, s, p):  # conv and pooling windows
            return CoordMap(self.a / s, (self.b + p - (k - 1) / 2.0) / s)

        def deconv(self, k, s, p):
            return CoordMap(self.a * s, self.b * s + (k - 1) / 2.0 - p)

    def bilinear(channels, k):
        """FCN's fixed upsampling weights: a bilinear filter on the class diagonal (dense c -> c)."""
        factor = (k + 1) // 2
        center = factor - 1 if k % 2 == 1 else factor - 0.5
        og = torch.arange(k, dtype=torch.float64)
        f1 = 1 - (og - center).abs() / factor
        filt = (f1[:, None] * f1[None, :]).float()
        w = torch.zeros(channels, channels, k, k)
        for c in range(channels):
            w[c, c] = filt
        return w

    class Net(nn.Module):
        """Layers in order; each entry (name, module, kind) with kind conv | pool | other.
        Built by small helpers that also carry the coordinate map, so crop offsets are derived,
        never typed in."""

        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleDict()  # by layer name (a dict: names like "score" would clash with methods)
            self.ops = []  # (name, module, source name or tuple of names), in order
            self.map = {"data": CoordMap()}

        def add(self, name, module, src, coord=None):
            self.layers[name.replace("/", "_")] = module
            self.ops.append((name, module, src))
            self.map[name] = coord if coord is not None else self.map[src]
            return name

        def conv(self, name, src, cin, cout, k, s=1, p=0, g=1, relu=True):
            self.add(name, nn.Conv2d(cin, cout, k, stride=s, padding=p, groups=g, device=device),
                     src, self.map[src].conv(k, s, p))
            if relu:
                self.add(name + "_relu", nn.ReLU(inplace=True), name)
                return name + "_relu"
            return name

        def pool(self, name, src, k, s, p=0):
            return self.add(name, nn.MaxPool2d(k, s, p, ceil_mode=True), src, self.map[src].conv(k, s, p))

        def lrn(self, name, src):
            return self.add(name, nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=1.0), src)

        def drop(self, name, src, p):
            return self.add(name, nn.Dropout(p), src) if dropout else src

        def score(self, name, src, cin):
            m = nn.Conv2d(cin, classes, 1, device=device)
            if device != "meta":
                nn.init.zeros_(m.weight)  # Caffe's default filler for score layers (paper §4.3)
                nn.init.zeros_(m.bias)
            return self.add(name, m, src)

        def up(self, name, src, k, s):
            m = nn.ConvTranspose2d(classes, classes, k, stride=s, bias=False, device=device)
            if device != "meta":
                with torch.no_grad():
                    m.weight.copy_(bilinear(classes, k))
            m.weight.requires_grad_(False)
            return self.add(name, m, src, self.map[src].deconv(k, s, 0))

        def crop(self, name, src, ref):
            off = self.map[src].b - self.map[ref].b
            assert abs(self.map[src].a - self.map[ref].a) < 1e-9 and abs(off - round(off)) < 1e-9, \
                f"{name}: {src} cannot be aligned with {ref}"
            off = int(round(off))
            self.add(name, Crop(off), src, self.map[ref])
            self.ops[-1] = (name, self.ops[-1][1], (src, ref))
            return name

        def concat(self, name, srcs):
            self.add(name, Concat(), srcs[0])
            self.ops[-1] = (name, self.ops[-1][1], tuple(srcs))
            return name

        def sum(self, name, srcs):
            self.add(name, Sum(), srcs[0])
            self.ops[-1] = (name, self.ops[-1][1], tuple(srcs))
            return name

        def forward(self, x):
            out = {"data": x}
            last = None
            for name, m, src in self.ops:
                if isinstance(src, tuple):
                    y = m(*[out[s] for s in src])
                else:
                    y = m(out[src])
                out[name] = y
                last = name
            return out[last]

    class Crop(nn.Module):
        def __init__(self, off):
            super().__init__()
            self.off = off

        def forward(self, x, ref):
            h, w = ref.shape[2], ref.shape[3]
            return x[:, :, self.off:self.off + h, self.off:self.off + w]

    class Concat(nn.Module):
        def forward(self, *xs):
            return torch.cat(xs, 1)

    class Sum(nn.Module):
        def forward(self, a, b):
            return a + b

    n = Net()
    if name in ("fcn32s", "fcn8s"):
        c = lambda v: scaled(v, width)  # noqa: E731
        x, cin = "data", 3
        for b, (convs, ch) in enumerate([(2, 64), (2, 128), (3, 256), (3, 512), (3, 512)]):
            for i in range(convs):
                x = n.conv(f"conv{b + 1}_{i + 1}", x, cin, c(ch), 3, 1, 100 if b == 0 and i == 0 else 1)
                cin = c(ch)
            x = n.pool(f"pool{b + 1}", x, 2, 2)
        fc = c(4096)
        x = n.drop("drop6", n.conv("fc6", x, cin, fc, 7), 0.5)
        x = n.drop("drop7", n.conv("fc7", x, fc, fc, 1), 0.5)
        n.score("score_fr", x, fc)
        if name == "fcn32s":
            n.up("upscore", "score_fr", 64, 32)
            n.crop("score", "upscore", "data")
        else:
            n.up("upscore2", "score_fr", 4, 2)
            n.score("score_pool4", "pool4", c(512))
            n.crop("score_pool4c", "score_pool4", "upscore2")
            n.sum("fuse_pool4", ["upscore2", "score_pool4c"])
            n.up("upscore_pool4", "fuse_pool4", 4, 2)
            n.score("score_pool3", "pool3", c(256))
            n.crop("score_pool3c", "score_pool3", "upscore_pool4")
            n.sum("fuse_pool3", ["upscore_pool4", "score_pool3c"])
            n.up("upscore8", "fuse_pool3", 16, 8)
            n.crop("score", "upscore8", "data")
    elif name == "fcn-alexnet":
        def ch(v):  # scaled and even: every layer feeds or is a 2-group conv (as fcnlab)
            s = scaled(v, width)
            return s + (s % 2)
        x = n.conv("conv1", "data", 3, ch(96), 11, 4, 100)
        x = n.lrn("norm1", n.pool("pool1", x, 3, 2))
        x = n.conv("conv2", x, ch(96), ch(256), 5, 1, 2, g=2)
        x = n.lrn("norm2", n.pool("pool2", x, 3, 2))
        x = n.conv("conv3", x, ch(256), ch(384), 3, 1, 1)
        x = n.conv("conv4", x, ch(384), ch(384), 3, 1, 1, g=2)
        x = n.conv("conv5", x, ch(384), ch(256), 3, 1, 1, g=2)
        x = n.pool("pool5", x, 3, 2)
        fc = scaled(4096, width)
        x = n.drop("drop6", n.conv("fc6", x, ch(256), fc, 6), 0.5)
        x = n.drop("drop7", n.conv("fc7", x, fc, fc, 1), 0.5)
        n.score("score_fr", x, fc)
        n.up("upscore", "score_fr", 63, 32)
        n.crop("score", "upscore", "data")
    elif name == "fcn-googlenet":
        c = lambda v: scaled(v, width)  # noqa: E731
        x = n.conv("conv1/7x7_s2", "data", 3, c(64), 7, 2, 3)
        x = n.lrn("pool1/norm1", n.pool("pool1/3x3_s2", x, 3, 2))
        x = n.conv("conv2/3x3_reduce", x, c(64), c(64), 1)
        x = n.conv("conv2/3x3", x, c(64), c(192), 3, 1, 1)
        x = n.pool("pool2/3x3_s2", n.lrn("conv2/norm2", x), 3, 2)
        cin = c(192)
        mods = [("inception_3a", 64, 96, 128, 16, 32, 32), ("inception_3b", 128, 128, 192, 32, 96, 64),
                ("inception_4a", 192, 96, 208, 16, 48, 64), ("inception_4b", 160, 112, 224, 24, 64, 64),
                ("inception_4c", 128, 128, 256, 24, 64, 64), ("inception_4d", 112, 144, 288, 32, 64, 64),
                ("inception_4e", 256, 160, 320, 32, 128, 128), ("inception_5a", 256, 160, 320, 32, 128, 128),
                ("inception_5b", 384, 192, 384, 48, 128, 128)]
        for m, c1, c3r, c3, c5r, c5, pp in mods:
            b1 = n.conv(f"{m}/1x1", x, cin, c(c1), 1)
            b2 = n.conv(f"{m}/3x3", n.conv(f"{m}/3x3_reduce", x, cin, c(c3r), 1), c(c3r), c(c3), 3, 1, 1)
            b3 = n.conv(f"{m}/5x5", n.conv(f"{m}/5x5_reduce", x, cin, c(c5r), 1), c(c5r), c(c5), 5, 1, 2)
            b4 = n.conv(f"{m}/pool_proj", n.pool(f"{m}/pool", x, 3, 1, 1), cin, c(pp), 1)
            x = n.concat(f"{m}/output", [b1, b2, b3, b4])
            cin = c(c1) + c(c3) + c(c5) + c(pp)
            if m == "inception_3b":
                x = n.pool("pool3/3x3_s2", x, 3, 2)
            if m == "inception_4e":
                x = n.pool("pool4/3x3_s2", x, 3, 2)
        x = n.drop("pool5/drop_7x7_s1", x, 0.4)
        n.score("score_fr", x, cin)
        n.up("upscore", "score_fr", 63, 32)
        n.crop("score", "upscore", "data")
    else:
        raise ValueError(f"unknown model '{name}' (expected fcn-alexnet, fcn32s, fcn-googlenet, fcn8s)")
    return n


def randomize(net):
    """Random weights for the learned layers (timing must never run on zeros); fixed
    upsampling keeps its bilinear weights."""
    import torch
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in net.parameters():
            if p.requires_grad:
                fan = p[0].numel() if p.dim() > 1 else 1
                p.copy_((torch.rand(p.shape, generator=g) * 2 - 1) * math.sqrt(3.0 / fan))


def learned_params(net):
    return sum(p.numel() for p in net.parameters() if p.requires_grad)


def check_params(name):
    """The paper-width net's learned parameters equal fcnlab's (Table 1), whatever --width runs."""
    n = learned_params(build(name, 1.0, device="meta"))
    assert n == EXPECTED_PARAMS[name], f"{name}: {n:,} learned parameters at width 1, fcnlab has {EXPECTED_PARAMS[name]:,}"


def count_gflop(net, x):
    """2 x MACs of every Conv2d and (dense) ConvTranspose2d, as fcnlab's GraphModel::stats."""
    import torch
    from torch import nn
    macs = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.ConvTranspose2d):
            i = inp[0]
            macs[0] += i.numel() * (m.out_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        else:
            macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    hs = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))]
    with torch.no_grad():
        y = net(x)
    for h in hs:
        h.remove()
    return 2.0 * macs[0] * 1e-9, y


def time_it(fn, sync, warmup, trials, label):
    for _ in range(warmup):
        fn()
    sync()
    ms = []
    for i in range(trials):
        t0 = time.perf_counter()
        fn()
        sync()
        ms.append((time.perf_counter() - t0) * 1e3)
        print(f"\r{label}: {i + 1}/{trials} {ms[-1]:.2f} ms", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return ms


def row(args, variant, tf32, model, task, size, batch, trials, warmup, ms, gflop, params):
    mean = statistics.fmean(ms)
    paper = PAPER_K40C_MS.get(model) if (task == "forward" and size == 500 and batch == 1 and args.width == 1.0) else None
    return {"framework": "pytorch", "variant": variant, "tf32": int(tf32), "device": args.device,
            "model": model, "task": task, "size": size, "batch": batch, "width": f"{args.width:g}",
            "threads": args.threads if args.device == "cpu" else 0, "trials": trials, "warmup": warmup,
            "mean_ms": f"{mean:.3f}", "median_ms": f"{statistics.median(ms):.3f}",
            "min_ms": f"{min(ms):.3f}", "max_ms": f"{max(ms):.3f}", "gflop": f"{gflop:.4f}",
            "tflops": f"{gflop / mean:.4f}", "peak_tflops": "", "floor_ms": "",
            "paper_k40c_ms": f"{paper:.0f}" if paper else "", "params": params}


def forward_rows(args, torch, dev, sync):
    rows = []
    for name in args.models:
        check_params(name)
        net = build(name, args.width).eval()
        params = learned_params(net)
        randomize(net)
        g = torch.Generator().manual_seed(7)
        x_cpu = torch.rand(args.batch, 3, args.size, args.size, generator=g) * 2 - 1
        gflop, y = count_gflop(net, x_cpu[:, :, :, :])  # on the CPU: shapes only matter
        assert tuple(y.shape) == (args.batch, 21, args.size, args.size), f"{name}: output {tuple(y.shape)}"
        net = net.to(dev)
        x = x_cpu.to(dev)
        for variant in args.variants:
            tf32 = variant.endswith("-tf32")
            base = variant[:-5] if tf32 else variant
            if dev.type == "cuda":
                set_tf32(torch, tf32)
            elif tf32:
                continue
            m, xi = net, x
            if base == "channels-last":
                m = net.to(memory_format=torch.channels_last)
                xi = x.contiguous(memory_format=torch.channels_last)
            else:
                net.to(memory_format=torch.contiguous_format)
            with torch.no_grad():
                if base == "cuda-graph":
                    if dev.type != "cuda":
                        continue
                    static_x = x.clone()
                    s = torch.cuda.Stream()
                    s.wait_stream(torch.cuda.current_stream())
                    with torch.cuda.stream(s):
                        for _ in range(3):  # warm-up on a side stream before capture (PyTorch's recipe)
                            m(static_x)
                    torch.cuda.current_stream().wait_stream(s)
                    graph = torch.cuda.CUDAGraph()
                    with torch.cuda.graph(graph):
                        static_y = m(static_x)  # noqa: F841 (kept alive by the graph's pool)
                    fn = graph.replay
                else:
                    fn = lambda: m(xi)  # noqa: E731
                ms = time_it(fn, sync, args.warmup, args.trials, f"{name} {variant}")
            rows.append(row(args, variant, tf32, name, "forward", args.size, args.batch,
                            args.trials, args.warmup, ms, gflop, params))
        del net
    return rows


def set_tf32(torch, on):
    """TF32 tensor cores for cuDNN convolutions and cuBLAS matrix products, on or off. PyTorch 2.9+
    has per-backend fp32_precision settings and warns about (and refuses mixing with) the older
    allow_tf32 flags; older versions have only those. Read back, so a row never claims a setting
    that did not take."""
    def has(obj, name):  # torch 1.13's matmul object raises AssertionError for unknown names
        try:
            getattr(obj, name)
            return True
        except (AttributeError, AssertionError):
            return False

    cudnn_conv = getattr(torch.backends.cudnn, "conv", None)
    if has(torch.backends.cuda.matmul, "fp32_precision") and has(cudnn_conv, "fp32_precision"):
        want = "tf32" if on else "ieee"
        torch.backends.cuda.matmul.fp32_precision = want
        cudnn_conv.fp32_precision = want
        got = (torch.backends.cuda.matmul.fp32_precision, cudnn_conv.fp32_precision)
        assert got == (want, want), f"TF32 setting did not take: asked {want}, got {got}"
    else:
        torch.backends.cuda.matmul.allow_tf32 = on
        torch.backends.cudnn.allow_tf32 = on
        assert (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32) == (on, on)


def train_rows(args, torch, dev, sync):
    name = "fcn8s"
    check_params(name)
    net = build(name, args.width, dropout=True)
    params = learned_params(net)
    randomize(net)
    g = torch.Generator().manual_seed(11)
    x = torch.rand(args.train_batch, 3, args.train_size, args.train_size, generator=g) * 2 - 1
    target = torch.randint(0, 21, (args.train_batch, args.train_size, args.train_size), generator=g)
    gflop, _ = count_gflop(net.eval(), x)
    gflop *= 3  # forward + data gradient + weight gradient, as fcnlab-paper-table counts it
    net = net.to(dev).train()
    x, target = x.to(dev), target.to(dev)
    opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=1e-4, momentum=0.9,
                          weight_decay=5e-4)
    lossf = torch.nn.CrossEntropyLoss()
    rows = []
    for variant in args.variants:
        tf32 = variant.endswith("-tf32")
        base = variant[:-5] if tf32 else variant
        if base != "eager" or (tf32 and dev.type != "cuda"):
            continue  # the training step is timed eager only
        if dev.type == "cuda":
            set_tf32(torch, tf32)
        last = [0.0]

        def step():
            opt.zero_grad(set_to_none=True)
            loss = lossf(net(x), target)
            loss.backward()
            opt.step()
            last[0] = loss.item()

        ms = time_it(step, sync, 1, args.train_trials, f"{name} train {variant}")
        assert math.isfinite(last[0]), f"training step: loss {last[0]} is not finite"
        rows.append(row(args, variant, tf32, name, "train_step", args.train_size, args.train_batch,
                        args.train_trials, 1, ms, gflop, params))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    ap.add_argument("--models", default="fcn-alexnet,fcn32s,fcn-googlenet")
    ap.add_argument("--variants", default=None,
                    help="comma list of eager, channels-last, cuda-graph, each optionally with -tf32 "
                         "(default: cpu eager,channels-last; cuda all six)")
    ap.add_argument("--size", type=int, default=500)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--width", type=float, default=1.0, help="channel multiplier (1 = the paper's nets)")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=0, help="cpu: torch threads (default: OMP_NUM_THREADS or all cores)")
    ap.add_argument("--train-step", action="store_true", help="also time an FCN-8s training step")
    ap.add_argument("--train-size", type=int, default=512)
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--train-trials", type=int, default=5)
    ap.add_argument("--csv", default=None, help="write the rows here (fcnlab-paper-table's columns)")
    ap.add_argument("--smoke", action="store_true",
                    help="CI-sized run: --size 48 --width 0.0625 --trials 1 --warmup 0, train step 48x48 batch 1")
    args = ap.parse_args()
    if args.smoke:
        args.size, args.width, args.trials, args.warmup = 48, 0.0625, 1, 0
        args.train_size, args.train_batch, args.train_trials = 48, 1, 1
    for k in ("size", "batch", "trials", "train_size", "train_batch", "train_trials"):
        if getattr(args, k) < 1:
            ap.error(f"--{k.replace('_', '-')} must be >= 1, got {getattr(args, k)}")
    if not 0 < args.width <= 4:
        ap.error(f"--width must be in (0, 4], got {args.width}")
    args.models = [m for m in args.models.split(",") if m]
    for m in args.models:
        if m not in PAPER_K40C_MS:
            ap.error(f"--models: unknown '{m}' (expected fcn-alexnet, fcn32s, fcn-googlenet)")
    if args.variants is None:
        args.variants = "eager,channels-last" if args.device == "cpu" else \
            "eager,eager-tf32,channels-last,channels-last-tf32,cuda-graph,cuda-graph-tf32"
    args.variants = [v for v in args.variants.split(",") if v]
    for v in args.variants:
        if (v[:-5] if v.endswith("-tf32") else v) not in ("eager", "channels-last", "cuda-graph"):
            ap.error(f"--variants: unknown '{v}'")
    if args.csv:
        d = os.path.dirname(os.path.abspath(args.csv))
        if not os.path.isdir(d):
            ap.error(f"--csv {args.csv}: the folder {d} does not exist")

    try:
        import torch
    except ImportError as e:
        print(f"pytorch_reference.py: skipped: torch is not importable ({e}); "
              "install Debian's python3-torch (scripts/install-deps.sh --bench)", file=sys.stderr)
        return SKIP
    if args.device == "cuda" and not torch.cuda.is_available():
        print(f"pytorch_reference.py: skipped: torch {torch.__version__} has no usable CUDA device",
              file=sys.stderr)
        return SKIP
    if args.device == "cpu":
        if args.threads > 0:
            torch.set_num_threads(args.threads)
        args.threads = torch.get_num_threads()
        dev, sync = torch.device("cpu"), (lambda: None)
        desc = f"CPU, {args.threads} threads"
    else:
        torch.backends.cudnn.benchmark = True
        dev, sync = torch.device("cuda"), torch.cuda.synchronize
        desc = torch.cuda.get_device_name(0)
    print(f"pytorch_reference.py: torch {torch.__version__}, {desc}; input {args.size}x{args.size}, "
          f"batch {args.batch}, width {args.width:g}; {args.warmup} warm-up + {args.trials} timed trials",
          file=sys.stderr)

    rows = forward_rows(args, torch, dev, sync)
    if args.train_step:
        rows += train_rows(args, torch, dev, sync)

    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    if args.csv:  # all or nothing: a temp name in the same folder, then rename
        tmp = f"{args.csv}.tmp-{os.getpid()}"
        with open(tmp, "w") as f:
            f.write(buf.getvalue())
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, args.csv)
    print("| net | task | input | params | GFLOP | variant | mean ms | median ms | TFLOP/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['task']} | {r['size']}x{r['size']} x{r['batch']} | {r['params'] / 1e6:.2f}M | "
              f"{float(r['gflop']):.1f} | {r['variant']} | {r['mean_ms']} | {r['median_ms']} | {r['tflops']} |")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as e:
        print(f"pytorch_reference.py: error: {e}", file=sys.stderr)
        sys.exit(1)
