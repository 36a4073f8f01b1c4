#!/usr/bin/python3
"""make_workloads.py: write cimsim's bundled workload files (workloads/*.yaml).

    /usr/bin/python3 tools/workloads/make_workloads.py [--out DIR] [--only NAME,...]

resnet18, resnet50, mobilenetv2: the architecture definitions of Debian's
python3-torchvision (no pretrained weights: the modules are instantiated with
random weights, which do not matter here), traced on one 1x3x224x224 input
with forward hooks on every Conv2d and Linear, which fire in execution order.
bert-large-ffn: the feed-forward layers of BERT-Large, written from their
published shapes (24 layers of 1024 -> 4096, GELU, 4096 -> 1024) at 384
tokens; no torchvision needed. docs/workloads.md describes the format.

Each layer is the GEMM a crossbar sees: K rows (Cin/groups * kh * kw), N
columns (Cout/groups), `groups` groups, M vectors per group and inference
(output H*W for a conv, the rows of a linear layer), macs = M*K*N*groups.
The totals are asserted against the published numbers before anything is
written (ResNet-18 1.814 GMACs, ResNet-50 ~4.1, MobileNetV2 ~0.30).
"""
import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMMAND = "/usr/bin/python3 tools/workloads/make_workloads.py"

# BERT-Large (Devlin et al. 2019): 24 encoder layers, hidden 1024, feed-forward 4096.
BERT_LAYERS, BERT_HIDDEN, BERT_FFN = 24, 1024, 4096
# Sequence length: the RAELLA thesis evaluates BERT-Large on SQuAD (section 6.2)
# and does not state a length; 384 is the max_seq_length of the BERT authors'
# SQuAD fine-tuning (run_squad.py, doc_stride 128), the usual SQuAD setting.
BERT_TOKENS = 384

# name -> (torchvision constructor, expected total MACs, relative tolerance, published number)
CNNS = {
    "resnet18": ("resnet18", 1.814e9, 0.0005, "1.814 GMACs (the cost-model issue; torchvision's model docs: 1.81 GFLOPS)"),
    "resnet50": ("resnet50", 4.1e9, 0.01, "about 4.1 GMACs (torchvision's model docs: 4.09 GFLOPS)"),
    "mobilenetv2": ("mobilenet_v2", 0.30e9, 0.01, "about 0.30 GMACs (torchvision's model docs: 0.30 GFLOPS)"),
}


def trace_cnn(ctor_name):
    """Instantiate torchvision.models.<ctor_name>() and trace its weight layers."""
    try:
        import torch
        import torchvision
    except ImportError as e:
        sys.exit("make_workloads.py: %s. The CNN workloads need Debian's python3-torch and "
                 "python3-torchvision: apt-get install -y python3-torchvision (or --only bert-large-ffn)" % e)
    ctor = getattr(torchvision.models, ctor_name)
    try:
        model = ctor(weights=None)
    except TypeError:  # torchvision < 0.13
        model = ctor(pretrained=False)
    model.eval()
    layers = []

    def hook(name, mod):
        def fn(m, inputs, output):
            x = inputs[0]
            if isinstance(m, torch.nn.Conv2d):
                g = m.groups
                kh, kw = m.kernel_size
                if m.dilation != (1, 1) or not isinstance(m.padding, tuple):
                    sys.exit("make_workloads.py: %s: dilation or string padding is not handled" % name)
                K = m.in_channels // g * kh * kw
                N = m.out_channels // g
                M = output.shape[0] * output.shape[2] * output.shape[3]
                layers.append(dict(name=name, type="conv", K=K, N=N, groups=g, M=M,
                                   kernel=[kh, kw], stride=list(m.stride), padding=list(m.padding),
                                   input=list(x.shape), output=list(output.shape)))
            else:
                K, N = m.in_features, m.out_features
                M = output.numel() // N
                layers.append(dict(name=name, type="linear", K=K, N=N, groups=1, M=M,
                                   input=list(x.shape), output=list(output.shape)))
        return fn

    for name, mod in model.named_modules():
        if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear)):
            mod.register_forward_hook(hook(name, mod))
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    for L in layers:
        L["macs"] = L["M"] * L["K"] * L["N"] * L["groups"]
    version = "torchvision %s (torch %s)" % (torchvision.__version__, torch.__version__)
    return layers, version


def bert_ffn():
    layers = []
    for i in range(BERT_LAYERS):
        for sub, k, n in (("intermediate.dense", BERT_HIDDEN, BERT_FFN), ("output.dense", BERT_FFN, BERT_HIDDEN)):
            layers.append(dict(name="encoder.layer.%d.%s" % (i, sub), type="linear", K=k, N=n, groups=1,
                               M=BERT_TOKENS, input=[BERT_TOKENS, k], output=[BERT_TOKENS, n],
                               macs=BERT_TOKENS * k * n))
    return layers


def ylist(v):
    return "[" + ", ".join(str(x) for x in v) + "]"


def layer_line(L):
    keys = ["name", "type", "K", "N", "groups", "M", "macs", "kernel", "stride", "padding", "input", "output"]
    parts = []
    for k in keys:
        if k in L:
            v = L[k]
            parts.append("%s: %s" % (k, ylist(v) if isinstance(v, list) else v))
    return "  - {" + ", ".join(parts) + "}"


def write(path, header, top, layers, stats=None):
    total = sum(L["macs"] for L in layers)
    out = ["# " + h if h else "#" for h in header]
    out.append("")
    for k, v in top:
        out.append('%s: "%s"' % (k, v) if isinstance(v, str) else "%s: %s" % (k, v))
    out.append("total_macs: %d" % total)
    if stats:
        out.append("stats:")
        for k, v in stats:
            out.append('  %s: "%s"' % (k, v) if isinstance(v, str) else "  %s: %s" % (k, str(v).lower()))
    out.append("layers:")
    out.extend(layer_line(L) for L in layers)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
    os.replace(tmp, path)
    print("%s: %d layers, %d MACs (%.4f G)" % (os.path.relpath(path, REPO), len(layers), total, total / 1e9))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(REPO, "workloads"), help="output directory (default workloads/)")
    ap.add_argument("--only", default="", help="comma-separated subset of: " + ", ".join(list(CNNS) + ["bert-large-ffn"]))
    a = ap.parse_args()
    names = [n for n in a.only.split(",") if n] or list(CNNS) + ["bert-large-ffn"]
    for n in names:
        if n not in CNNS and n != "bert-large-ffn":
            sys.exit("make_workloads.py: unknown workload '%s'" % n)
    os.makedirs(a.out, exist_ok=True)
    for n in names:
        if n == "bert-large-ffn":
            layers = bert_ffn()
            total = sum(L["macs"] for L in layers)
            assert total == 2 * BERT_LAYERS * BERT_TOKENS * BERT_HIDDEN * BERT_FFN
            header = [
                "workloads/bert-large-ffn.yaml: the feed-forward layers of BERT-Large (Devlin et al. 2019:",
                "24 encoder layers, hidden 1024, feed-forward 4096), per layer 1024 -> 4096, GELU, 4096 -> 1024,",
                "at %d tokens (one SQuAD sequence). The RAELLA thesis (section 6.2) accelerates these layers" % BERT_TOKENS,
                "of BERT-Large on SQuAD and states no length; 384 is the max_seq_length of the BERT",
                "authors' SQuAD fine-tuning. Attention (QKV, output projection, softmax) is not included.",
                "Layer names follow the Hugging Face BERT modules. Shapes are [tokens, features].",
                "Generated by: %s (from the shapes; no torchvision). Do not edit." % COMMAND,
            ]
            top = [("workload", "bert-large-ffn"),
                   ("description", "BERT-Large feed-forward layers (24 x 1024-4096-1024), %d tokens" % BERT_TOKENS),
                   ("source", "BERT-Large shapes (Devlin et al. 2019), %d tokens as in SQuAD fine-tuning" % BERT_TOKENS)]
            # Not a number but a stated property: the thesis says BERT's inputs are signed
            # (LayerNorm output into the first matmul, GELU output into the second).
            stats = [("assumed", True),
                     ("source", "RAELLA thesis 6.2: BERT-Large has a non-ReLU activation and signed inputs"),
                     ("input_signed", True)]
            write(os.path.join(a.out, "bert-large-ffn.yaml"), header, top, layers, stats)
            continue
        ctor, expect, tol, published = CNNS[n]
        layers, version = trace_cnn(ctor)
        total = sum(L["macs"] for L in layers)
        fc = sum(L["macs"] for L in layers if L["type"] == "linear")
        if abs(total - expect) > tol * expect:
            sys.exit("make_workloads.py: %s comes to %d MACs, expected %s" % (n, total, published))
        for L in layers:
            assert L["macs"] == L["M"] * L["K"] * L["N"] * L["groups"]
        header = [
            "workloads/%s.yaml: the weight layers (Conv2d, Linear) of torchvision.models.%s()," % (n, ctor),
            "in execution order, traced with forward hooks on one 1x3x224x224 input (ImageNet).",
            "Source: Debian's python3-torchvision, %s; architecture only, no weights." % version,
            "Total %d MACs per inference, the classifier (%d MACs) included; published: %s." % (total, fc, published),
            "Generated by: %s. Do not edit." % COMMAND,
        ]
        top = [("workload", n),
               ("description", "%s for ImageNet (224x224), %d weight layers" % (n, len(layers))),
               ("source", "torchvision.models.%s, %s" % (ctor, version))]
        write(os.path.join(a.out, n + ".yaml"), header, top, layers)


if __name__ == "__main__":
    main()
