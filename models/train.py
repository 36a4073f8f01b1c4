#!/usr/bin/python3
"""Train, quantize (int8 post-training static quantization) and export to ONNX the
bundled cimsim models, all on Fashion-MNIST (1x28x28 grey images, 10 classes).

    /usr/bin/python3 models/train.py                 # all four models, one after another
    /usr/bin/python3 models/train.py --only resnet8  # one model
    /usr/bin/python3 models/train.py --reuse         # skip training, reuse the float
                                                     # checkpoints of an earlier run

Needs Debian's python3-torch (1.13), python3-onnx (1.12), python3-numpy and
dataset-fashion-mnist.  Everything runs on one CPU thread with fixed seeds, so a rerun
on the same machine gives the same .onnx files byte for byte.

Pipeline for every model (see `build()`):
  1. train the float model (AdamW + one-cycle schedule, flip + shift augmentation);
  2. fold BatchNorm into the convolutions and fuse Conv+ReLU (never Linear+ReLU: torch 1.13
     cannot export quantized::linear_relu to ONNX);
  3. eager-mode post-training static quantization: per-channel symmetric int8 weights
     (range -127..127), per-tensor affine uint8 activations (full 0..255 range, histogram
     observer), calibrated on 1000 training images; biases become int32 at export;
  4. torch.onnx.export (opset 13, dynamic batch axis) -> QDQ graph;
  5. add the preprocessing metadata (cimsim.* metadata_props), onnx.checker, save;
  6. run the saved ONNX file with the numpy reference evaluator in onnx_numpy.py and
     compare with the torch quantized model.
Results (accuracies, MACs, op types, ...) go to models/results.json.
"""
import argparse
import gzip
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.ao.quantization as tq

import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnx_numpy  # noqa: E402  (numpy evaluator of the exported graphs)

DATA_DIR = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]
# Preprocessing: x = (pixel * INPUT_SCALE - MEAN) / STD  (mean/std of the training set).
INPUT_SCALE = 1.0 / 255.0
MEAN = 0.2860
STD = 0.3530
CALIB_IMAGES = 1000


# ----------------------------------------------------------------------------- determinism
def set_determinism(seed):
    """One thread, fixed seeds, deterministic kernels where torch has them."""
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    np.random.seed(seed)
    torch.use_deterministic_algorithms(True)
    # fbgemm is not built into Debian's torch; qnnpack runs per-channel int8 conv/linear.
    torch.backends.quantized.engine = "qnnpack"


# ----------------------------------------------------------------------------- data
def read_idx(path):
    """Read a gzipped IDX file (the MNIST format) into a numpy array."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = raw[0] << 8 | raw[1], raw[2], raw[3]
    assert zero == 0 and dtype_code == 0x08, f"{path}: not an unsigned-byte IDX file"
    dims = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    return data.reshape(dims)


def load_split(split):
    """Returns (uint8 images [N,28,28], int64 labels [N]) of 'train' or 't10k'."""
    x = read_idx(os.path.join(DATA_DIR, f"{split}-images-idx3-ubyte.gz"))
    y = read_idx(os.path.join(DATA_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return x, y.astype(np.int64)


def preprocess(pixels_u8):
    """uint8 [N,28,28] -> float32 tensor [N,1,28,28], the same formula as the metadata."""
    x = torch.from_numpy(pixels_u8.astype(np.float32)).unsqueeze(1)
    return (x * INPUT_SCALE - MEAN) / STD


BACKGROUND = (0.0 - MEAN) / STD  # value of a black pixel after preprocessing


def augment(x, gen, pad=2):
    """Random horizontal flip and a random shift of up to `pad` pixels (per image)."""
    b = x.shape[0]
    flip = torch.rand(b, generator=gen) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    xp = F.pad(x, (pad, pad, pad, pad), value=BACKGROUND)
    oy = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    ox = torch.randint(0, 2 * pad + 1, (b,), generator=gen)
    ar = torch.arange(28)
    rows = (oy[:, None] + ar)[:, :, None]  # [B,28,1]
    cols = (ox[:, None] + ar)[:, None, :]  # [B,1,28]
    return xp[torch.arange(b)[:, None, None], 0, rows, cols].unsqueeze(1)


# ----------------------------------------------------------------------------- building blocks
class FastLinear(nn.Linear):
    """nn.Linear whose float forward runs as a 1x1 convolution.

    Debian's torch links the reference BLAS (about 3 GFLOP/s on one thread) while its
    convolutions go through oneDNN (about 30 GFLOP/s), so training a Linear as a 1x1 conv
    is ten times faster.  Same parameters, same result (up to float rounding).  Before
    quantization `as_plain_linear()` turns every FastLinear back into a plain nn.Linear so
    that eager-mode quantization maps it to nnq.Linear."""

    def forward(self, x):
        shape = x.shape
        y = F.conv2d(x.reshape(-1, self.in_features, 1, 1),
                     self.weight.view(self.out_features, self.in_features, 1, 1), self.bias)
        return y.view(*shape[:-1], self.out_features)


def as_plain_linear(model):
    for m in model.modules():
        if type(m) is FastLinear:
            m.__class__ = nn.Linear
    return model


def conv_bn(cin, cout, k, stride=1, groups=1, relu=True):
    """Conv (no bias) + BatchNorm (+ ReLU); children named 0, 1, 2 for fuse_modules."""
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=False))
    return nn.Sequential(*layers)


def fuse_conv_bn_seqs(model):
    """Fold every conv_bn() Sequential: Conv+BN(+ReLU) -> one (ConvReLU2d | Conv2d)."""
    for m in model.modules():
        if isinstance(m, nn.Sequential) and len(m) >= 2 and isinstance(m[0], nn.Conv2d) \
                and isinstance(m[1], nn.BatchNorm2d):
            names = ["0", "1", "2"] if len(m) == 3 and isinstance(m[2], nn.ReLU) else ["0", "1"]
            tq.fuse_modules(m, names, inplace=True)


# ----------------------------------------------------------------------------- 1. LeNet-5
class LeNet5(nn.Module):
    """LeNet-5 shape: conv5x5(6) relu pool, conv5x5(16) relu pool, fc 120, fc 84, fc 10."""

    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.fc1 = FastLinear(16 * 5 * 5, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = FastLinear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = FastLinear(84, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = self.relu3(self.fc1(x))
        x = self.relu4(self.fc2(x))
        return self.dequant(self.fc3(x))

    def fuse(self):
        # Conv+ReLU only; Linear+ReLU stay separate (not exportable when fused).
        tq.fuse_modules(self, [["conv1", "relu1"], ["conv2", "relu2"]], inplace=True)

    def set_qconfig(self, qconfig):
        self.qconfig = qconfig


# ----------------------------------------------------------------------------- 2. ResNet-8
class BasicBlock(nn.Module):
    """conv3x3-bn-relu, conv3x3-bn, + shortcut (identity or 1x1 projection), relu."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv_bn(cin, cout, 3, stride)
        self.conv2 = conv_bn(cout, cout, 3, 1, relu=False)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = conv_bn(cin, cout, 1, stride, relu=False)
        self.add = nn.quantized.FloatFunctional()  # becomes a quantized add (+relu)

    def forward(self, x):
        out = self.conv2(self.conv1(x))
        sc = x if self.shortcut is None else self.shortcut(x)
        return self.add.add_relu(out, sc)


class ResNet8(nn.Module):
    """Stem conv3x3(16), three stages of one basic block (16, 32/2, 64/2), GAP, fc."""

    def __init__(self, widths=(16, 32, 64)):
        super().__init__()
        self.quant = tq.QuantStub()
        self.stem = conv_bn(1, widths[0], 3)
        self.stage1 = BasicBlock(widths[0], widths[0], 1)
        self.stage2 = BasicBlock(widths[0], widths[1], 2)
        self.stage3 = BasicBlock(widths[1], widths[2], 2)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = FastLinear(widths[2], 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.stage3(self.stage2(self.stage1(self.stem(x))))
        x = torch.flatten(self.pool(x), 1)
        return self.dequant(self.fc(x))

    def fuse(self):
        fuse_conv_bn_seqs(self)

    def set_qconfig(self, qconfig):
        self.qconfig = qconfig


# ----------------------------------------------------------------------------- 3. MobileNetV2
class InvertedResidual(nn.Module):
    """1x1 expand (t) - 3x3 depthwise (stride) - 1x1 linear project; add when shapes match.
    ReLU instead of ReLU6 so that Conv+BN+ReLU fuse (as torchvision's quantizable model)."""

    def __init__(self, cin, cout, stride, t):
        super().__init__()
        hidden = cin * t
        layers = []
        if t != 1:
            layers.append(conv_bn(cin, hidden, 1))
        layers.append(conv_bn(hidden, hidden, 3, stride, groups=hidden))
        layers.append(conv_bn(hidden, cout, 1, relu=False))
        self.body = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout
        if self.residual:
            self.add = nn.quantized.FloatFunctional()

    def forward(self, x):
        y = self.body(x)
        return self.add.add(x, y) if self.residual else y


class MobileNetV2(nn.Module):
    """Small MobileNetV2: stem 16@28x28, IR blocks (t, c, stride):
    (1,16,1) (4,24,2) (4,24,1) (4,40,2) (4,40,1), 1x1 conv 128, GAP, fc."""

    CFG = [(1, 16, 1), (4, 24, 2), (4, 24, 1), (4, 40, 2), (4, 40, 1)]

    def __init__(self):
        super().__init__()
        self.quant = tq.QuantStub()
        self.stem = conv_bn(1, 16, 3)
        blocks, cin = [], 16
        for t, c, s in self.CFG:
            blocks.append(InvertedResidual(cin, c, s, t))
            cin = c
        self.blocks = nn.Sequential(*blocks)
        self.head = conv_bn(cin, 128, 1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = FastLinear(128, 10)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        x = self.quant(x)
        x = self.head(self.blocks(self.stem(x)))
        x = torch.flatten(self.pool(x), 1)
        return self.dequant(self.fc(x))

    def fuse(self):
        fuse_conv_bn_seqs(self)

    def set_qconfig(self, qconfig):
        self.qconfig = qconfig


# ----------------------------------------------------------------------------- 4. transformer
class QLinear(nn.Module):
    """quantize -> int8 Linear -> dequantize, inside an otherwise float transformer.
    Its QuantStub has its own observer: after GELU it sees signed values, so that
    activation gets a non-zero zero point."""

    def __init__(self, fin, fout):
        super().__init__()
        self.quant = tq.QuantStub()
        self.fc = FastLinear(fin, fout)
        self.dequant = tq.DeQuantStub()

    def forward(self, x):
        return self.dequant(self.fc(self.quant(x)))


class Attention(nn.Module):
    """Multi-head self-attention; qkv and output projections int8, softmax float.
    Reshapes use -1 for the batch so the export needs no Shape/Gather subgraph."""

    def __init__(self, dim, heads, tokens):
        super().__init__()
        self.heads, self.tokens, self.dh = heads, tokens, dim // heads
        self.qkv = QLinear(dim, 3 * dim)
        self.proj = QLinear(dim, dim)
        # MACs of q@k^T and att@v per image (Linear MACs are counted by hooks).
        self.matmul_macs = 2 * heads * tokens * tokens * self.dh

    def forward(self, x):
        t, h, dh = self.tokens, self.heads, self.dh
        qkv = self.qkv(x).reshape(-1, t, 3, h, dh).permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]                       # [N,h,t,dh]
        att = torch.softmax(torch.matmul(q, k.transpose(-2, -1)) * (dh ** -0.5), dim=-1)
        out = torch.matmul(att, v).transpose(1, 2).reshape(-1, t, h * dh)
        return self.proj(out)


class EncoderBlock(nn.Module):
    """Pre-LN transformer encoder block: x += MHSA(LN(x)); x += MLP(LN(x)), MLP with GELU."""

    def __init__(self, dim, heads, tokens, mlp):
        super().__init__()
        self.ln1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads, tokens)
        self.ln2 = nn.LayerNorm(dim)
        self.fc1 = QLinear(dim, mlp)
        self.act = nn.GELU()
        self.fc2 = QLinear(mlp, dim)  # sees the signed GELU output

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.fc2(self.act(self.fc1(self.ln2(x))))


class Transformer(nn.Module):
    """ViT-style: 7x7 patches (strided conv) -> 16 tokens of dim 64 + learned position
    embedding, 2 encoder blocks (4 heads, MLP 128), LayerNorm, mean pooling, fc."""

    def __init__(self, dim=64, heads=4, depth=2, mlp=128, patch=7):
        super().__init__()
        self.tokens = (28 // patch) ** 2
        self.dim = dim
        self.quant = tq.QuantStub()
        self.patch = nn.Conv2d(1, dim, patch, stride=patch)
        self.dequant = tq.DeQuantStub()
        self.pos = nn.Parameter(torch.zeros(1, self.tokens, dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        self.blocks = nn.Sequential(*[EncoderBlock(dim, heads, self.tokens, mlp)
                                      for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.head = QLinear(dim, 10)

    def forward(self, x):
        x = self.dequant(self.patch(self.quant(x)))                 # [N,dim,4,4]
        x = x.reshape(-1, self.dim, self.tokens).transpose(1, 2)    # [N,16,dim]
        x = self.blocks(x + self.pos)
        return self.head(self.ln(x).mean(dim=1))

    def fuse(self):
        pass

    def set_qconfig(self, qconfig):
        # Only the stubs and the Conv/Linear layers are quantized; LayerNorm, GELU,
        # softmax and the attention matmuls stay float (qconfig None -> left alone).
        for m in [self.quant, self.patch, self.dequant]:
            m.qconfig = qconfig
        for m in self.modules():
            if isinstance(m, QLinear):
                m.qconfig = qconfig


# ----------------------------------------------------------------------------- model table
# name -> (constructor, epochs, peak learning rate, weight decay, seed)
MODELS = {
    "lenet5": (LeNet5, 10, 3e-3, 1e-4, 1),
    "resnet8": (ResNet8, 6, 4e-3, 1e-4, 2),
    "mobilenetv2": (MobileNetV2, 4, 4e-3, 1e-4, 3),
    "transformer": (Transformer, 12, 2e-3, 5e-2, 4),
}
BATCH = 128


# ----------------------------------------------------------------------------- training
def evaluate(model, x, y, batch=1000):
    """Top-1 accuracy (%) and the predictions."""
    model.eval()
    preds = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            preds.append(model(x[i:i + batch]).argmax(1))
    preds = torch.cat(preds)
    return 100.0 * (preds == y).float().mean().item(), preds


def train_float(model, xtr, ytr, xte, yte, epochs, lr, wd, seed, log):
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=wd)
    steps_per_epoch = math.ceil(len(xtr) / BATCH)
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=lr, total_steps=epochs * steps_per_epoch, pct_start=0.15)
    for ep in range(epochs):
        model.train()
        t0, total, n = time.time(), 0.0, 0
        perm = torch.randperm(len(xtr), generator=gen)
        for i in range(0, len(xtr), BATCH):
            idx = perm[i:i + BATCH]
            xb, yb = augment(xtr[idx], gen), ytr[idx]
            loss = F.cross_entropy(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
            n += len(idx)
        # (the test set is evaluated once, after training, to save time)
        log(f"  epoch {ep + 1}/{epochs}: train loss {total / n:.4f}  ({time.time() - t0:.0f}s)")


# ----------------------------------------------------------------------------- quantization
def make_qconfig():
    """Per-channel symmetric int8 weights (-127..127, zero point 0) and per-tensor affine
    uint8 activations over the full 0..255 range (reduce_range=False)."""
    return tq.QConfig(
        activation=tq.HistogramObserver.with_args(
            dtype=torch.quint8, qscheme=torch.per_tensor_affine, reduce_range=False),
        weight=tq.PerChannelMinMaxObserver.with_args(
            dtype=torch.qint8, qscheme=torch.per_channel_symmetric, ch_axis=0,
            quant_min=-127, quant_max=127))


def quantize(model, xcal):
    """Eager-mode PTQ: fuse, prepare (observers), calibrate, convert. Changes `model`."""
    model.eval()
    as_plain_linear(model)
    model.fuse()
    model.set_qconfig(make_qconfig())
    tq.prepare(model, inplace=True)
    with torch.no_grad():
        for i in range(0, len(xcal), 100):
            model(xcal[i:i + 100])
    tq.convert(model, inplace=True)
    return model


# ----------------------------------------------------------------------------- counting
def count_macs(model):
    """Multiply-accumulates for one image: Conv2d/Linear via hooks + attention matmuls."""
    macs = [0]

    def hook(m, inp, out):
        if isinstance(m, nn.Conv2d):
            macs[0] += out.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs[0] += out.numel() * m.in_features
        elif isinstance(m, Attention):
            macs[0] += m.matmul_macs

    hs = [m.register_forward_hook(hook) for m in model.modules()
          if isinstance(m, (nn.Conv2d, nn.Linear, Attention))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for h in hs:
        h.remove()
    return macs[0]


# ----------------------------------------------------------------------------- export
def export_onnx(qmodel, path):
    """torch.onnx.export + preprocessing metadata + checker; returns the onnx model."""
    dummy = torch.zeros(1, 1, 28, 28)
    torch.onnx.export(qmodel, dummy, path, opset_version=13,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
                      do_constant_folding=True)
    m = onnx.load(path)
    props = {
        "cimsim.dataset": "fashion-mnist",
        "cimsim.input_layout": "NCHW",
        "cimsim.input_scale": repr(INPUT_SCALE),
        "cimsim.input_mean": repr(MEAN),
        "cimsim.input_std": repr(STD),
        "cimsim.classes": ",".join(CLASSES),
    }
    onnx.helper.set_model_props(m, props)
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)
    return m


def describe_onnx(m):
    """Op type counts and a few facts about a QDQ graph."""
    counts = {}
    for n in m.graph.node:
        key = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
        counts[key] = counts.get(key, 0) + 1
    inits = {i.name: i for i in m.graph.initializer}
    per_channel = 0
    for n in m.graph.node:
        if n.op_type == "DequantizeLinear" and n.input[1] in inits \
                and len(inits[n.input[1]].dims) == 1 and inits[n.input[1]].dims[0] > 1:
            per_channel += 1

    def vi(v):
        t = v.type.tensor_type
        dims = [d.dim_param or d.dim_value for d in t.shape.dim]
        return f"{v.name}: {onnx.TensorProto.DataType.Name(t.elem_type)} {dims}"

    return {"op_types": dict(sorted(counts.items())), "nodes": len(m.graph.node),
            "per_channel_dequantize": per_channel,
            "inputs": [vi(v) for v in m.graph.input],
            "outputs": [vi(v) for v in m.graph.output]}


# ----------------------------------------------------------------------------- driver
def build(name, data, args, log):
    ctor, epochs, lr, wd, seed = MODELS[name]
    xtr, ytr, xte, yte, xcal = data
    set_determinism(seed)
    model = ctor()
    params = sum(p.numel() for p in model.parameters())
    macs = count_macs(model)
    log(f"== {name}: {params} parameters, {macs} MACs/image")

    ckpt = os.path.join(args.ckpt_dir, f"{name}.pt")
    t0 = time.time()
    if args.reuse and os.path.exists(ckpt):
        model.load_state_dict(torch.load(ckpt))
        train_s = None
        log(f"  reused {ckpt}")
    else:
        train_float(model, xtr, ytr, xte, yte, epochs, lr, wd, seed, log)
        train_s = time.time() - t0
        os.makedirs(args.ckpt_dir, exist_ok=True)
        torch.save(model.state_dict(), ckpt)
    float_acc, _ = evaluate(model, xte, yte)

    set_determinism(seed)
    t1 = time.time()
    qmodel = quantize(model, xcal)
    int8_acc, qpred = evaluate(qmodel, xte, yte)
    log(f"  float {float_acc:.2f}%  int8 {int8_acc:.2f}%  (quantize+eval {time.time() - t1:.0f}s)")

    path = os.path.join(HERE, f"{name}.onnx")
    m = export_onnx(qmodel, path)
    info = describe_onnx(m)
    log(f"  {path}: {os.path.getsize(path)} bytes, ops {info['op_types']}")

    # Check the exported file with the numpy evaluator against the torch int8 model.
    n = args.check_images
    with torch.no_grad():
        tlogits = qmodel(xte[:n]).numpy()
    ologits = onnx_numpy.run(onnx.load(path), xte[:n].numpy())
    agree = int((ologits.argmax(1) == tlogits.argmax(1)).sum())
    onnx_acc = 100.0 * float((ologits.argmax(1) == yte[:n].numpy()).mean())
    maxdiff = float(np.abs(ologits - tlogits).max())
    log(f"  onnx (numpy evaluator) vs torch int8 on {n} test images: argmax agrees "
        f"{agree}/{n}, max |logit diff| {maxdiff:.4g}, onnx accuracy {onnx_acc:.2f}%")

    return {"parameters": params, "macs": macs, "float_acc": round(float_acc, 2),
            "int8_acc": round(int8_acc, 2), "file_bytes": os.path.getsize(path),
            "train_s": None if train_s is None else round(train_s),
            "epochs": epochs, "onnx_check": {"images": n, "argmax_agree": agree,
                                             "max_abs_logit_diff": maxdiff,
                                             "onnx_acc": onnx_acc},
            **info}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", choices=list(MODELS), action="append",
                    help="build only this model (repeatable)")
    ap.add_argument("--reuse", action="store_true",
                    help="load float weights from --ckpt-dir instead of training")
    ap.add_argument("--ckpt-dir", default="/tmp/cimsim-models-ckpt")
    ap.add_argument("--epochs", type=int, default=None, help="override epochs (debugging)")
    ap.add_argument("--train-limit", type=int, default=None, help="use N training images (debugging)")
    ap.add_argument("--check-images", type=int, default=200,
                    help="test images run through the numpy ONNX evaluator")
    args = ap.parse_args()

    def log(msg):
        print(msg, flush=True)

    xtr_u8, ytr_np = load_split("train")
    xte_u8, yte_np = load_split("t10k")
    xtr, ytr = preprocess(xtr_u8), torch.from_numpy(ytr_np)
    xte, yte = preprocess(xte_u8), torch.from_numpy(yte_np)
    # Calibration set: 1000 training images picked by a fixed permutation.
    cal_idx = torch.randperm(len(xtr), generator=torch.Generator().manual_seed(1234))[:CALIB_IMAGES]
    xcal = xtr[cal_idx]
    if args.train_limit:
        xtr, ytr = xtr[:args.train_limit], ytr[:args.train_limit]
    data = (xtr, ytr, xte, yte, xcal)

    results_path = os.path.join(HERE, "results.json")
    results = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            results = json.load(f)
    for name in (args.only or list(MODELS)):
        if args.epochs:
            ctor, _, lr, wd, seed = MODELS[name]
            MODELS[name] = (ctor, args.epochs, lr, wd, seed)
        res = build(name, data, args, log)
        if res["train_s"] is None and name in results:  # --reuse keeps the old time
            res["train_s"] = results[name].get("train_s")
        results[name] = res
        with open(results_path, "w") as f:
            json.dump(results, f, indent=1, sort_keys=True)
            f.write("\n")

    log("\n| model | parameters | MACs/image | float acc | int8 acc | file | train |")
    log("|---|---|---|---|---|---|---|")
    for name, r in results.items():
        log(f"| {name} | {r['parameters']} | {r['macs']} | {r['float_acc']:.2f}% | "
            f"{r['int8_acc']:.2f}% | {r['file_bytes'] / 1024:.1f} KB | {r['train_s']} s |")


if __name__ == "__main__":
    main()
