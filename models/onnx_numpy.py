"""A small numpy evaluator for the ONNX graphs of the bundled models.

Debian's python3-onnx 1.12 has no `onnx.reference` and onnxruntime is not packaged, so the
exported files are checked with this evaluator instead.  It implements, straight from the
ONNX operator spec, only the ops the bundled models use: the QDQ graphs torch 1.13 emits
(QuantizeLinear/DequantizeLinear around float Conv, Gemm, MatMul, Add, ...) and the
QOperator ops of resnet8_qop.onnx (QLinearConv, QLinearMatMul, com.microsoft QLinearAdd and
QLinearGlobalAveragePool).  Convolutions and matrix products accumulate in float64, which
is exact for the integer products of the QLinear* ops.

    import onnx, onnx_numpy
    logits = onnx_numpy.run(onnx.load("models/resnet8.onnx"), x)   # x float32 [N,1,28,28]
"""
import math

import numpy as np
import onnx
from onnx import numpy_helper

_OPS = {}


def op(name, domain=""):
    def reg(fn):
        _OPS[(domain, name)] = fn
        return fn
    return reg


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


# ----------------------------------------------------------------------------- quantization
def _bshape(param, x, axis):
    """Reshape a per-axis scale/zero point so that it broadcasts along `axis` of x."""
    param = np.asarray(param)
    if param.ndim == 0 or param.size == 1:
        return param.reshape(())
    shape = [1] * x.ndim
    shape[axis % x.ndim] = param.size
    return param.reshape(shape)


def _quantize(x, scale, zp, axis=1):
    zp = np.zeros((), np.uint8) if zp is None else zp
    info = np.iinfo(zp.dtype)
    q = np.rint(x.astype(np.float64) / _bshape(scale, x, axis)) + _bshape(zp, x, axis)
    return np.clip(q, info.min, info.max).astype(zp.dtype)


def _dequantize(q, scale, zp, axis=1):
    zp = 0 if zp is None else _bshape(zp, q, axis).astype(np.int64)
    return ((q.astype(np.int64) - zp) * _bshape(scale, q, axis)).astype(np.float32)


@op("QuantizeLinear")
def _ql(a, x, scale, zp=None):
    return _quantize(x, scale, zp, a.get("axis", 1))


@op("DequantizeLinear")
def _dql(a, x, scale, zp=None):
    return _dequantize(x, scale, zp, a.get("axis", 1))


# ----------------------------------------------------------------------------- convolution
def _conv(x, w, b, a):
    """N-C-H-W convolution with groups, pads, strides, dilations (float64)."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n, c, _, _ = x.shape
    m, cg, kh, kw = w.shape
    g = a.get("group", 1)
    sh, sw = a.get("strides", [1, 1])
    dh, dw = a.get("dilations", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    assert a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET"), "auto_pad not supported"
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))
    win = np.lib.stride_tricks.sliding_window_view(
        xp, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(2, 3))
    win = win[:, :, ::sh, ::sw, ::dh, ::dw]                       # [N,C,Ho,Wo,kh,kw]
    ho, wo = win.shape[2], win.shape[3]
    win = win.reshape(n, g, cg, ho, wo, kh, kw)
    wg = w.reshape(g, m // g, cg, kh, kw)
    y = np.einsum("ngchwij,gmcij->ngmhw", win, wg, optimize=True).reshape(n, m, ho, wo)
    if b is not None:
        y = y + b.astype(np.float64).reshape(1, -1, 1, 1)
    return y


@op("Conv")
def _conv_op(a, x, w, b=None):
    return _conv(x, w, b, a).astype(np.float32)


@op("QLinearConv")
def _qlinearconv(a, x, xs, xz, w, ws, wz, ys, yz, b=None):
    # Integer accumulation (exact in float64), int32 bias, then requantization.
    xi = x.astype(np.int64) - xz.astype(np.int64)
    wi = w.astype(np.int64) - _bshape(wz, w, 0).astype(np.int64)
    acc = _conv(xi, wi, b, a)
    real = acc * _bshape(xs * ws, acc, 1)
    return _quantize(real, ys, yz)


@op("MaxPool")
def _maxpool(a, x):
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides", [1, 1])
    pt, pl, pb, pr = a.get("pads", [0, 0, 0, 0])
    assert not a.get("ceil_mode", 0) and a.get("dilations", [1, 1]) == [1, 1]
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)), constant_values=-np.inf)
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return win.max(axis=(4, 5)).astype(x.dtype)


@op("GlobalAveragePool")
def _gap(a, x):
    return x.mean(axis=(2, 3), keepdims=True, dtype=np.float64).astype(x.dtype)


@op("QLinearGlobalAveragePool", "com.microsoft")
def _qlgap(a, x, xs, xz, ys, yz):
    assert a.get("channels_last", 0) == 0
    mean = x.astype(np.float64).mean(axis=(2, 3), keepdims=True) - xz.astype(np.float64)
    return _quantize(mean * xs, ys, yz)


# ----------------------------------------------------------------------------- matrix ops
@op("Gemm")
def _gemm(a, A, B, C=None):
    A = A.astype(np.float64).T if a.get("transA", 0) else A.astype(np.float64)
    B = B.astype(np.float64).T if a.get("transB", 0) else B.astype(np.float64)
    y = a.get("alpha", 1.0) * (A @ B)
    if C is not None:
        y = y + a.get("beta", 1.0) * C
    return y.astype(np.float32)


@op("MatMul")
def _matmul(a, A, B):
    return np.matmul(A.astype(np.float64), B.astype(np.float64)).astype(np.float32)


@op("QLinearMatMul")
def _qlmatmul(a, A, As, Az, B, Bs, Bz, Ys, Yz):
    Ai = A.astype(np.int64) - Az.astype(np.int64)
    # per-column (last axis) zero points/scales of B are allowed by the spec
    Bi = B.astype(np.int64) - np.asarray(Bz).astype(np.int64)
    acc = np.matmul(Ai.astype(np.float64), Bi.astype(np.float64))
    return _quantize(acc * (As * np.asarray(Bs)), Ys, Yz, -1)


@op("QGemm", "com.microsoft")
def _qgemm(a, A, As, Az, B, Bs, Bz, C=None, Ys=None, Yz=None):
    # Y = alpha * (A - Az) (B - Bz) * As * Bs + C * As * Bs; C int32; per-column Bs/Bz
    Ai = A.astype(np.float64) - Az.astype(np.float64)
    trans_b = a.get("transB", 0)
    Bi = B.astype(np.float64) - _bshape(Bz, B, 0 if trans_b else 1)
    acc = a.get("alpha", 1.0) * (Ai @ (Bi.T if trans_b else Bi))
    if C is not None:
        acc = acc + C
    real = acc * (As * np.asarray(Bs, np.float64))
    return real.astype(np.float32) if Ys is None else _quantize(real, Ys, Yz)


@op("QLinearAdd", "com.microsoft")
def _qladd(a, A, As, Az, B, Bs, Bz, Cs, Cz):
    return _quantize(_dequantize(A, As, Az).astype(np.float64)
                     + _dequantize(B, Bs, Bz), Cs, Cz)


# ----------------------------------------------------------------------------- elementwise
def _erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


for _name, _fn in {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply,
                   "Div": np.divide, "Pow": np.power}.items():
    op(_name)(lambda a, x, y, _f=_fn: _f(x, y).astype(x.dtype))
op("Relu")(lambda a, x: np.maximum(x, 0).astype(x.dtype))
op("Sqrt")(lambda a, x: np.sqrt(x))
op("Erf")(lambda a, x: _erf(x).astype(x.dtype))
op("Identity")(lambda a, x: x)


@op("Softmax")
def _softmax(a, x):
    axis = a.get("axis", -1)
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return (e / e.sum(axis=axis, keepdims=True)).astype(x.dtype)


@op("ReduceMean")
def _reducemean(a, x):
    axes = tuple(a["axes"]) if "axes" in a else None
    return x.mean(axis=axes, keepdims=bool(a.get("keepdims", 1))).astype(x.dtype)


# ----------------------------------------------------------------------------- shapes
@op("Constant")
def _constant(a):
    return numpy_helper.to_array(a["value"])


@op("Shape")
def _shape(a, x):
    return np.array(x.shape, dtype=np.int64)


@op("Gather")
def _gather(a, x, idx):
    return np.take(x, idx, axis=a.get("axis", 0))


@op("Unsqueeze")
def _unsqueeze(a, x, axes):
    return np.expand_dims(x, tuple(int(v) for v in axes))


@op("Squeeze")
def _squeeze(a, x, axes=None):
    return np.squeeze(x, None if axes is None else tuple(int(v) for v in axes))


@op("Concat")
def _concat(a, *xs):
    return np.concatenate(xs, axis=a["axis"])


@op("Reshape")
def _reshape(a, x, shape):
    shape = [x.shape[i] if (s == 0 and not a.get("allowzero", 0)) else int(s)
             for i, s in enumerate(shape)]
    return x.reshape(shape)


@op("Flatten")
def _flatten(a, x):
    axis = a.get("axis", 1)
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


@op("Transpose")
def _transpose(a, x):
    return np.transpose(x, a.get("perm"))


@op("Slice")
def _slice(a, x, starts, ends, axes=None, steps=None):
    axes = range(len(starts)) if axes is None else axes
    steps = [1] * len(starts) if steps is None else steps
    sl = [slice(None)] * x.ndim
    for s, e, ax, st in zip(starts, ends, axes, steps):
        sl[int(ax)] = slice(int(s), int(e), int(st))
    return x[tuple(sl)]


@op("Split")
def _split(a, x, split=None):
    axis = a.get("axis", 0)
    if split is None:
        raise NotImplementedError("Split without sizes")
    return tuple(np.split(x, np.cumsum(split)[:-1], axis=axis))


@op("Cast")
def _cast(a, x):
    return x.astype(onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[a["to"]])


@op("ConstantOfShape")
def _constant_of_shape(a, shape):
    value = numpy_helper.to_array(a["value"]) if "value" in a else np.zeros(1, np.float32)
    return np.full([int(d) for d in shape], value.reshape(-1)[0], dtype=value.dtype)


# ----------------------------------------------------------------------------- driver
def run(model, x, outputs=None):
    """Evaluate `model` (an onnx.ModelProto) on the single input `x`; returns the first
    graph output (or a dict of the named `outputs`)."""
    g = model.graph
    env = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    env[g.input[0].name] = x
    for node in g.node:
        fn = _OPS.get((node.domain if node.domain != "ai.onnx" else "", node.op_type))
        if fn is None:
            raise NotImplementedError(f"op {node.domain}:{node.op_type} ({node.name})")
        args = [env[i] if i else None for i in node.input]
        while args and args[-1] is None:       # trailing optional inputs left out
            args.pop()
        out = fn(_attrs(node), *args)
        outs = out if isinstance(out, tuple) else (out,)
        for name, val in zip(node.output, outs):
            env[name] = val
    if outputs:
        return {k: env[k] for k in outputs}
    return env[g.output[0].name]
