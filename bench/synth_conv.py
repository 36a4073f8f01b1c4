#!/usr/bin/python3
"""bench/synth_conv.py: a one-layer int8 QDQ ONNX model of a ResNet-18-shaped
3x3 convolution with synthetic weights, and calibration inputs for it, so
`cimsim compile` can be timed on layers as large as the thesis' (section
4.2.2 reports 10-1000 ms per layer on an RTX 2060).

    bench/synth_conv.py C HW OUT_DIR [--samples N] [--seed S]

writes OUT_DIR/conv{C}x{HW}.onnx (QuantizeLinear -> DequantizeLinear -> Conv
3x3, C -> C, pad 1, weights int8 per output channel from a Kaiming normal,
bias int32 -> ReLU -> QuantizeLinear uint8 -> DequantizeLinear, then a 1x1
head to 8 channels so the 3x3 layer is not the last weight layer) and
OUT_DIR/conv{C}x{HW}_x.npy (float32 [N, C, HW, HW]: ReLU of a unit normal, the
statistics of a post-ReLU activation). Output scale: the 99.99th percentile of
the float output over the samples / 255, as post-training calibration does.
Deterministic for a given seed. Needs Debian's python3-onnx and python3-numpy.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def conv3x3(x, w, b):
    """float conv, stride 1, pad 1, NCHW x [N,C,H,W], w [O,C,3,3]."""
    n, c, h, wd = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    cols = np.empty((n, c, 3, 3, h, wd), dtype=np.float32)
    for i in range(3):
        for j in range(3):
            cols[:, :, i, j] = xp[:, :, i:i + h, j:j + wd]
    y = np.einsum("ncijhw,ocij->nohw", cols, w, optimize=True)
    return y + b[None, :, None, None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("channels", type=int)
    ap.add_argument("hw", type=int)
    ap.add_argument("out_dir")
    ap.add_argument("--samples", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    c, hw = a.channels, a.hw
    x = np.maximum(rng.standard_normal((a.samples, c, hw, hw)), 0).astype(np.float32)
    w = (rng.standard_normal((c, c, 3, 3)) * np.sqrt(2.0 / (9 * c))).astype(np.float32)
    b = (rng.standard_normal(c) * 0.01).astype(np.float32)

    sx = float(np.percentile(x, 99.99)) / 255.0
    ws = np.abs(w).reshape(c, -1).max(axis=1) / 127.0
    wq = np.clip(np.rint(w / ws[:, None, None, None]), -127, 127).astype(np.int8)
    bq = np.rint(b / (sx * ws)).astype(np.int32)
    xd = np.clip(np.rint(x / sx), 0, 255) * sx
    y = np.maximum(conv3x3(xd.astype(np.float32), wq.astype(np.float32) * ws[:, None, None, None],
                           bq.astype(np.float32) * sx * ws), 0)
    sy = float(np.percentile(y, 99.99)) / 255.0

    # a small 1x1 head (8 channels) after it, so the 3x3 layer is not the
    # network's last weight layer (which the compiler keeps at 1-bit slices)
    yd = np.clip(np.rint(y / sy), 0, 255) * sy
    w2 = (rng.standard_normal((8, c, 1, 1)) * np.sqrt(1.0 / c)).astype(np.float32)
    ws2 = np.abs(w2).reshape(8, -1).max(axis=1) / 127.0
    wq2 = np.clip(np.rint(w2 / ws2[:, None, None, None]), -127, 127).astype(np.int8)
    y2 = np.einsum("nchw,oc->nohw", yd, wq2[:, :, 0, 0].astype(np.float32) * ws2[:, None])
    s2 = float(np.abs(y2).max()) / 127.0
    inits = [
        numpy_helper.from_array(wq2, "wq2"),
        numpy_helper.from_array(ws2.astype(np.float32), "ws2"),
        numpy_helper.from_array(np.zeros(8, dtype=np.int8), "zw2"),
        numpy_helper.from_array(np.array(s2, dtype=np.float32), "s2"),
        numpy_helper.from_array(np.array(0, dtype=np.int8), "z2"),
        numpy_helper.from_array(np.array(sx, dtype=np.float32), "sx"),
        numpy_helper.from_array(np.array(0, dtype=np.uint8), "zx"),
        numpy_helper.from_array(wq, "wq"),
        numpy_helper.from_array(ws.astype(np.float32), "ws"),
        numpy_helper.from_array(np.zeros(c, dtype=np.int8), "zw"),
        numpy_helper.from_array(bq, "bq"),
        numpy_helper.from_array((sx * ws).astype(np.float32), "sb"),
        numpy_helper.from_array(np.zeros(c, dtype=np.int32), "zb"),
        numpy_helper.from_array(np.array(sy, dtype=np.float32), "sy"),
        numpy_helper.from_array(np.array(0, dtype=np.uint8), "zy"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["xq"], name="/in/Quantize"),
        helper.make_node("DequantizeLinear", ["xq", "sx", "zx"], ["xd"], name="/in/Dequantize"),
        helper.make_node("DequantizeLinear", ["wq", "ws", "zw"], ["wd"], name="/conv/w/Dequantize", axis=0),
        helper.make_node("DequantizeLinear", ["bq", "sb", "zb"], ["bd"], name="/conv/b/Dequantize", axis=0),
        helper.make_node("Conv", ["xd", "wd", "bd"], ["y"], name="/conv/Conv", kernel_shape=[3, 3],
                         pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["y"], ["yr"], name="/conv/Relu"),
        helper.make_node("QuantizeLinear", ["yr", "sy", "zy"], ["yq"], name="/out/Quantize"),
        helper.make_node("DequantizeLinear", ["yq", "sy", "zy"], ["yo"], name="/out/Dequantize"),
        helper.make_node("DequantizeLinear", ["wq2", "ws2", "zw2"], ["wd2"], name="/head/w/Dequantize", axis=0),
        helper.make_node("Conv", ["yo", "wd2"], ["h"], name="/head/Conv", kernel_shape=[1, 1]),
        helper.make_node("QuantizeLinear", ["h", "s2", "z2"], ["hq"], name="/head/Quantize"),
        helper.make_node("DequantizeLinear", ["hq", "s2", "z2"], ["out"], name="/head/Dequantize"),
    ]
    graph = helper.make_graph(
        nodes, f"conv{c}x{hw}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", c, hw, hw])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, ["N", 8, hw, hw])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="cimsim bench/synth_conv.py")
    model.ir_version = 7
    onnx.checker.check_model(model)
    os.makedirs(a.out_dir, exist_ok=True)
    base = os.path.join(a.out_dir, f"conv{c}x{hw}")
    onnx.save(model, base + ".onnx")
    np.save(base + "_x.npy", x)
    print(base + ".onnx", base + "_x.npy")


if __name__ == "__main__":
    main()
