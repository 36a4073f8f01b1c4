#!/usr/bin/python3
"""Convert the QDQ ResNet-8 that torch 1.13 exports into QOperator form, with only the
onnx python package (plus numpy):

    /usr/bin/python3 models/to_qoperator.py [models/resnet8.onnx] [models/resnet8_qop.onnx]

torch 1.13 emits QDQ graphs: uint8 tensors flow between QuantizeLinear/DequantizeLinear
pairs and every compute op (Conv, Gemm, Add, GlobalAveragePool...) is a float op whose
inputs come from DequantizeLinear.  This script rewrites each
`DequantizeLinear(s) -> float op [-> Relu] -> QuantizeLinear` group into one integer op:

    Conv              -> QLinearConv                      (ai.onnx, per-channel w_scale)
    Add               -> QLinearAdd                       (com.microsoft)
    GlobalAveragePool -> QLinearGlobalAveragePool         (com.microsoft)
    Gemm              -> QGemm                            (com.microsoft, int32 bias,
                                                           per-column b_scale)
    Flatten           -> Flatten on the uint8 tensor (same scale/zero point)

A Relu between the float op and its QuantizeLinear is dropped: the exporter gives every
post-ReLU activation zero point 0, so the uint8 saturation at 0 is the ReLU (checked).
The graph input keeps its QuantizeLinear and the logits their final DequantizeLinear.
Before matching, constant subgraphs (Constant, ConstantOfShape->Cast) are folded into
initializers and the no-op Cast(uint8->uint8) nodes torch puts after every
QuantizeLinear are removed.  The preprocessing metadata is copied.

Check: the script runs both files with the numpy evaluator (onnx_numpy.py) on the first
1000 Fashion-MNIST test images and prints how many predictions and logits agree.
"""
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import onnx_numpy  # noqa: E402


def fold_constants(model):
    """Constant nodes and all-constant subgraphs (except DequantizeLinear of weights, kept
    as the QDQ pattern needs it) become initializers; Cast(x, to=UINT8) on a uint8 tensor
    is removed.  Returns (nodes, consts: name -> numpy array)."""
    g = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    dtype = {}          # known element types of activations (for the no-op Cast check)
    rename = {}         # removed node output -> the tensor to use instead
    nodes = []
    for n in g.node:
        ins = [rename.get(i, i) for i in n.input]
        del n.input[:]
        n.input.extend(ins)
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
            continue
        if n.op_type != "DequantizeLinear" and all(i in consts for i in ins if i):
            out = onnx_numpy._OPS[("", n.op_type)](onnx_numpy._attrs(n),
                                                   *[consts[i] for i in ins])
            consts[n.output[0]] = out
            continue
        if n.op_type == "QuantizeLinear":
            dtype[n.output[0]] = consts[ins[2]].dtype if len(ins) > 2 else np.uint8
        if n.op_type == "Cast" and dtype.get(ins[0]) is not None and \
                onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[n.attribute[0].i] == dtype[ins[0]]:
            rename[n.output[0]] = ins[0]
            dtype[n.output[0]] = dtype[ins[0]]
            continue
        nodes.append(n)
    for o in g.output:
        assert o.name not in rename
    return nodes, consts


def convert(src, dst):
    model = onnx.load(src)
    nodes, consts = fold_constants(model)
    producer = {o: n for n in nodes for o in n.output}
    consumers = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def dq_of(name):
        """(q, scale, zero_point) names of the DequantizeLinear producing `name`."""
        p = producer.get(name)
        assert p is not None and p.op_type == "DequantizeLinear", f"{name}: not from DQ"
        return list(p.input) + [None] * (3 - len(p.input))

    absorbed = set()   # names of the Relu/QuantizeLinear nodes folded into a QLinear op

    def q_after(node):
        """The QuantizeLinear that consumes `node` (through an optional Relu), and
        whether a Relu was passed."""
        nxt = consumers.get(node.output[0], [])
        assert len(nxt) == 1, f"{node.name}: output used {len(nxt)} times"
        relu = nxt[0].op_type == "Relu"
        if relu:
            absorbed.add(nxt[0].name)
            nxt = consumers.get(nxt[0].output[0], [])
            assert len(nxt) == 1
        q = nxt[0]
        assert q.op_type == "QuantizeLinear", f"{node.name}: no QuantizeLinear after"
        absorbed.add(q.name)
        if relu:  # uint8 saturation at the zero point == ReLU only when it is 0
            assert consts[q.input[2]].dtype == np.uint8 and int(consts[q.input[2]]) == 0
        return q

    new_nodes = []
    for n in nodes:
        t = n.op_type
        if t == "Conv":
            x, xs, xz = dq_of(n.input[0])
            w, ws, wz = dq_of(n.input[1])
            ins = [x, xs, xz, w, ws, wz]
            q = q_after(n)
            ins += [q.input[1], q.input[2]]
            if len(n.input) > 2:
                b, bs, _ = dq_of(n.input[2])
                # QLinearConv wants an int32 bias of scale x_scale * w_scale (zero point 0);
                # torch quantized it exactly that way: check.
                want = consts[xs] * consts[ws]
                assert np.allclose(consts[bs], want, rtol=1e-6), f"{n.name}: bias scale"
                ins.append(b)
            new_nodes.append(helper.make_node("QLinearConv", ins, [q.output[0]],
                                              name=n.name + "_quant", **attrs_of(n)))
        elif t == "Add":
            a, as_, az = dq_of(n.input[0])
            b, bs, bz = dq_of(n.input[1])
            q = q_after(n)
            new_nodes.append(helper.make_node(
                "QLinearAdd", [a, as_, az, b, bs, bz, q.input[1], q.input[2]], [q.output[0]],
                name=n.name + "_quant", domain="com.microsoft"))
        elif t == "GlobalAveragePool":
            x, xs, xz = dq_of(n.input[0])
            q = q_after(n)
            new_nodes.append(helper.make_node(
                "QLinearGlobalAveragePool", [x, xs, xz, q.input[1], q.input[2]],
                [q.output[0]], name=n.name + "_quant", domain="com.microsoft",
                channels_last=0))
        elif t == "Flatten":
            x, xs, xz = dq_of(n.input[0])
            q = q_after(n)
            assert (q.input[1], q.input[2]) == (xs, xz) or (
                consts[q.input[1]] == consts[xs] and consts[q.input[2]] == consts[xz])
            new_nodes.append(helper.make_node("Flatten", [x], [q.output[0]],
                                              name=n.name + "_quant", **attrs_of(n)))
        elif t == "Gemm":
            a = attrs_of(n)
            assert a.get("transA", 0) == 0 and a.get("beta", 1.0) == 1.0
            x, xs, xz = dq_of(n.input[0])
            w, ws, wz = dq_of(n.input[1])
            b, bs, _ = dq_of(n.input[2])
            assert np.allclose(consts[bs], consts[xs] * consts[ws], rtol=1e-6)
            q = q_after(n)
            new_nodes.append(helper.make_node(
                "QGemm", [x, xs, xz, w, ws, wz, b, q.input[1], q.input[2]], [q.output[0]],
                name=n.name + "_quant", domain="com.microsoft",
                alpha=a.get("alpha", 1.0), transA=0, transB=a.get("transB", 0)))
        elif t in ("QuantizeLinear", "DequantizeLinear", "Relu"):
            if n.name not in absorbed:  # kept if still used (graph input Q, logits DQ)
                new_nodes.append(n)
        else:
            raise NotImplementedError(f"{t} ({n.name})")

    # Drop what no graph output needs any more (the replaced DQ/Relu/Q nodes).
    needed = {o.name for o in model.graph.output}
    keep = []
    for n in reversed(new_nodes):
        if any(o in needed for o in n.output):
            keep.append(n)
            needed.update(i for i in n.input if i)
    keep.reverse()

    g = model.graph
    del g.node[:]
    g.node.extend(keep)
    del g.initializer[:]
    g.initializer.extend(numpy_helper.from_array(np.asarray(consts[k]), k)
                         for k in sorted(needed) if k in consts)
    del g.value_info[:]
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    onnx.checker.check_model(model)
    onnx.save(model, dst)
    return model


def attrs_of(node):
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def check(src, dst, n=1000):
    """Run both graphs with the numpy evaluator on n test images and compare."""
    import train  # data loading of train.py (imports torch, only for the check)
    x_u8, y = train.load_split("t10k")
    x = train.preprocess(x_u8[:n]).numpy()
    a = onnx_numpy.run(onnx.load(src), x)
    b = onnx_numpy.run(onnx.load(dst), x)
    # logits are DequantizeLinear outputs: an off-by-one uint8 is one output scale apart
    scale = float(np.min(np.abs(np.diff(np.unique(a)))))
    steps = np.rint(np.abs(a - b) / scale)
    print(f"{n} test images: argmax agrees {(a.argmax(1) == b.argmax(1)).sum()}/{n}; "
          f"logits identical {(steps == 0).mean() * 100:.2f}%, max diff {int(steps.max())} "
          f"quantization step(s); accuracy QDQ {(a.argmax(1) == y[:n]).mean() * 100:.2f}% "
          f"QOperator {(b.argmax(1) == y[:n]).mean() * 100:.2f}%")


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "resnet8.onnx")
    dst = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "resnet8_qop.onnx")
    m = convert(src, dst)
    ops = {}
    for node in m.graph.node:
        k = (node.domain + "." if node.domain else "") + node.op_type
        ops[k] = ops.get(k, 0) + 1
    print(f"{dst}: {os.path.getsize(dst)} bytes, ops {dict(sorted(ops.items()))}")
    check(src, dst)
