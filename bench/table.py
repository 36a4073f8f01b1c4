"""bench/table.py RAW LIMIT: compose results/bench.md (stdout) from the raw outputs
bench/run.sh collected in RAW (info, mvm_<M>.tsv, eval.tsv, irdrop.txt, cost.txt,
kernels.txt) and results/bench_compile.md. Standard library only."""
import csv
import os
import sys

EFF, NOISE, THREADS = 0.67, 0.5, 1.8
raw, limit = sys.argv[1], sys.argv[2]


def read(path):
    return open(path).read() if os.path.exists(path) else None


def tsv(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return list(csv.DictReader(f, delimiter="\t"))


def included(title, path, missing, prose):
    """A section made of a file another script wrote: its title, prose, and the file (or why it is missing)."""
    w("## " + title)
    w("")
    txt = read(path)
    if txt is None:
        w(missing)
    else:
        w(prose)
        w("")
        w(txt.rstrip())
    w("")


def mark(v, target):
    return "met" if v >= target else "**not met**"


info = dict(l.split("=", 1) for l in read(os.path.join(raw, "info")).splitlines() if "=" in l)
out = []
w = out.append
w("# Benchmarks (issue 7): `bench/run.sh`")
w("")
w("Build measured: `%s`, %s; %s; %s. %s, load average %s before, %s after; %s s in all."
  % (info.get("commit"), info.get("build"), info.get("compiler", "").strip(), info.get("cpu"), info.get("date"),
     info.get("load_before"), info.get("load_after"), info.get("seconds")))
w("The machine is shared: every ratio below is taken per round between runs interleaved in one process, "
  "then its median is reported. Sections 1-4 run on this CPU; section 5 is the CUDA column-sum kernel, measured "
  "on a GPU machine by `bench/cuda.sh` (results/bench_cuda.md, included as it was last written).")
w("")

# ---- 1. slice efficiency ----
rows = {}
for m in ("256", "4096"):
    for r in tsv(os.path.join(raw, "mvm_%s.tsv" % m)):
        rows[(r["preset"], int(r["M"]), r["noise"], r["hist"], int(r["threads"]))] = r
w("## 1. Slice efficiency (bench_mvm)")
w("")
w("W 512x512 int8, X M x 512 uint8 ReLU-like (`tools/synth_layer.h`, seed 1). **Slice products** = weight slices x "
  "input slices of the static or speculative slicing (isaac 4 x 8 = 32, raella 3 x 3 = 9); recovery slices after a "
  "failed speculation are not counted (they are extra work the efficiency has to absorb). **Slice efficiency** = "
  "slice products x time of oneDNN's `dnnl_gemm_u8s8s32` on M x 512 x 512 with the same thread count / time of "
  "`cim_layer_run` (per-round ratio, median); 1.0 means every slice product costs what an 8-bit MAC costs oneDNN. "
  "Two columns: **hist off** is the simulation alone (`cim_run_options.histogram = 0`: `cimsim mvm` without "
  "`--stats`, `cimsim eval --no-histogram`), the one the targets are judged on; **hist on** adds the exact "
  "column-sum histogram (`cimsim eval`'s default, `cimsim mvm --stats`), shown against the same targets. "
  "Noise on = `gaussian_colsum`, E = 0.04, seed 1. Logical GMAC/s = M x 512 x 512 / time, slice GMAC/s = that x "
  "slice products (hist off). The checksum (FNV-1a of the psums) is the same for 1 and 2 threads and hist off/on "
  "(bench_mvm exits 1 otherwise).")
w("")
dn = {}
for (p, m, n, h, t), r in rows.items():
    dn[(m, t)] = float(r["dnnl_ms"])
if dn:
    w("oneDNN int8 GEMM: " + "; ".join("M = %d, %d thread%s: %.3f ms = %.0f GMAC/s"
                                     % (m, t, "s" if t > 1 else "", v, m * 512 * 512 / v / 1e6)
                                     for (m, t), v in sorted(dn.items())) + ".")
    w("")
# validity: oneDNN's GEMM must gain from the second thread; when it does not, another
# process held the second core during the run and every multi-thread row of that M is void
void = {m for (m, t) in dn if t > 1 and (m, 1) in dn and dn[(m, t)] >= dn[(m, 1)]}
if void:
    w("**Void rows:** with %s vectors oneDNN ran no faster on 2 threads than on 1 (another process held the "
      "second core): their 2-thread rows are shown but not counted against the targets; rerun on a quieter "
      "machine." % " and ".join(str(m) for m in sorted(void)))
    w("")
w("| preset | vectors | noise | thr | ms | logical GMAC/s | slice GMAC/s | efficiency, hist off | efficiency, hist on "
  "| noise on/off throughput (hist off / on) | 1 -> 2 threads (hist off / on) | psum checksum |")
w("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
miss = {"eff_off": [], "eff_on": [], "noise_off": [], "noise_on": [], "thr_off": [], "thr_on": []}
count = dict.fromkeys(miss, 0)
for p in ("isaac", "raella"):
    for m in (256, 4096):
        for n in ("off", "on"):
            for t in (1, 2):
                a, b = rows.get((p, m, n, "off", t)), rows.get((p, m, n, "on", t))
                if not a or not b:
                    continue
                name = "%s M=%d noise %s %dt" % (p, m, n, t)
                if t > 1 and m in void:
                    w("| %s | %d | %s | %d | %.3f | %.2f | %.1f | void | void | void | void | %s |"
                      % (p, m, "E=0.04" if n == "on" else "off", t, float(a["ms"]), float(a["gmacs"]),
                         float(a["slice_gmacs"]), a["checksum"]))
                    continue
                cells = []
                for key, r in (("eff_off", a), ("eff_on", b)):
                    e = float(r["efficiency"])
                    if n == "off":
                        count[key] += 1
                        if e < EFF:
                            miss[key].append(name)
                        cells.append("%.3f %s" % (e, mark(e, EFF)))
                    else:
                        cells.append("%.3f" % e)
                nr = ""
                if n == "on":
                    parts = []
                    for key, r in (("noise_off", a), ("noise_on", b)):
                        v = float(r["noise_ratio"])
                        count[key] += 1
                        if v < NOISE:
                            miss[key].append(name)
                        parts.append("%.3f %s" % (v, mark(v, NOISE)))
                    nr = " / ".join(parts)
                sp = ""
                if t == 2:
                    parts = []
                    for key, r in (("thr_off", a), ("thr_on", b)):
                        v = float(r["speedup"])
                        count[key] += 1
                        if v < THREADS:
                            miss[key].append(name)
                        parts.append("%.2fx %s" % (v, mark(v, THREADS)))
                    sp = " / ".join(parts)
                w("| %s | %d | %s | %d | %.3f | %.2f | %.1f | %s | %s | %s | %s | %s |"
                  % (p, m, "E=0.04" if n == "on" else "off", t, float(a["ms"]), float(a["gmacs"]),
                     float(a["slice_gmacs"]), cells[0], cells[1], nr, sp, a["checksum"]))
w("")
# the same efficiency counted on the slice products actually converted
# (speculative and recovery), for the presets that speculate
conv = []
for (p, m, n, h, t), r in sorted(rows.items()):
    if n == "off" and h == "off" and "converted_products" in r and not (t > 1 and m in void):
        cp, sl = float(r["converted_products"]), float(r["slices"])
        if cp > sl + 1e-9:
            conv.append((p, m, t, cp, sl, float(r["efficiency"]) * cp / sl))
if conv:
    w("Counted on the slice products actually converted per MAC (speculative *and* recovery; informative, the "
      "targets stay judged on the static count above): " + "; ".join(
          "%s M=%d %dt: %.2f products (not %.0f), efficiency %.3f" % c for c in conv) + ".")
w("")
w("Targets (issue 7), rows meeting them:")
w("")
w("| target | hist off | hist on |")
w("|---|---|---|")
for label, k1, k2 in (("slice efficiency >= %.2f, noise off" % EFF, "eff_off", "eff_on"),
                      ("noise on >= %.1f x noise-off throughput" % NOISE, "noise_off", "noise_on"),
                      (">= %.1fx from 1 to 2 threads" % THREADS, "thr_off", "thr_on")):
    def cell(k):
        if not count[k]:
            return "-"
        s = "%d of %d" % (count[k] - len(miss[k]), count[k])
        return s + ("" if not miss[k] else " (not: %s)" % ", ".join(miss[k]))
    w("| %s | %s | %s |" % (label, cell(k1), cell(k2)))
w("")

# ---- 1b. a real layer ----
real = tsv(os.path.join(raw, "mvm_real.tsv")) if os.path.exists(os.path.join(raw, "mvm_real.tsv")) else []
if real:
    info = {}
    for line in read(os.path.join(raw, "real_layer.txt")).splitlines():
        k, _, v = line.partition(" ")
        info[k] = v
    w("## 1b. The same measures on a real layer (bench_mvm --weights --inputs)")
    w("")
    w("ResNet-8's `%s` (K %s, N %s), its crossbar weights and the integer inputs of the first %s test images "
      "(M = %s vectors, zx %s) as `cimsim eval --dump-layer` writes them; histogram off, otherwise as section 1. "
      "Real layers are small against oneDNN's GEMM (N = %s columns) and convert more per MAC; see "
      "docs/performance.md." % (info.get("name", "?"), info.get("K", "?"), info.get("N", "?"),
                                info.get("samples", "?"), info.get("M", "?"), info.get("zx", "?"), info.get("N", "?")))
    w("")
    w("| preset | noise | thr | ms | oneDNN ms | logical GMAC/s | slice efficiency | noise on/off | 1 -> 2 threads "
      "| conversions/MAC | speculation failures | psum checksum |")
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    def num(r, k, fmt):
        try:
            v = float(r[k])
        except (KeyError, ValueError):
            return ""
        return "" if v != v else fmt % v
    def pct(v):
        v = float(v)
        return "" if v != v else "%.2f%%" % (100 * v)
    for r in real:
        w("| %s | %s | %s | %.3f | %.3f | %.2f | %s | %s | %s | %s | %s | %s |"
          % (r["preset"], "E=0.04" if r["noise"] == "on" else "off", r["threads"], float(r["ms"]),
             float(r["dnnl_ms"]), float(r["gmacs"]), num(r, "efficiency", "%.3f"), num(r, "noise_ratio", "%.2f"),
             num(r, "speedup", "%.2fx"), num(r, "converts_per_mac", "%.4f"),
             pct(r.get("spec_fail_rate", "nan")), r["checksum"]))
    w("")

# ---- 2. whole networks ----
w("## 2. Whole networks: raella with noise vs ONNX Runtime int8 (bench/eval.sh)")
w("")
ev = tsv(os.path.join(raw, "eval.tsv"))
if not ev:
    w("Not run (`--skip-eval`).")
else:
    w("First %s Fashion-MNIST test images per model; 2 threads for both. **eval** = `cimsim eval --arch raella "
      "--noise 0.04` wall time as it reports it: per-worker graph loading and crossbar programming, the digital "
      "reference *and* the analog run of every image. **analog** = the same with `--analog-only` (the reference "
      "is not run; its top-1 and conversion count must equal eval's, else the bench fails), as it reports its "
      "time. **ORT** = ONNX Runtime 1.29 on exactly the same "
      "preprocessed inputs, batches of 64 as eval's, all graph optimizations (QDQ fused to its int8 kernels), "
      "median of 5 passes (`tools/ort/ort_run --time`). Ratios are ORT images/s over ours: how many times slower "
      "than the digital int8 inference the simulation runs. Checksums: top-1 of both networks and the ADC "
      "conversion count (identical in every round, else the bench fails), md5 prefix of ORT's output."
      % limit)
    w("")
    w("| model | images | eval images/s | analog images/s | ORT int8 images/s | ORT / eval | ORT / analog "
      "| reference top-1 | analog top-1 | ADC converts | ORT md5 |")
    w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in ev:
        w("| %s | %s | %.0f | %.0f | %s | %s | %s | %.2f%% | %.2f%% | %s | %s |"
          % (r["model"], r["samples"], float(r["eval_ips"]), float(r["analog_ips"]),
             "-" if r["ort_ips"] == "nan" else "%.0f" % float(r["ort_ips"]), r["ort_over_eval"],
             r["ort_over_analog"], 100 * float(r["ref_top1"]), 100 * float(r["analog_top1"]), r["adc_converts"],
             r["ort_md5"]))
w("")

# ---- 3. compile ----
included("3. Compile: adaptive weight slicing per layer (bench/compile.sh)", "results/bench_compile.md",
         "Not run (`--skip-compile`).",
         "`cimsim compile --arch raella` (budget 0.09, 10 calibration samples), CPU, %s threads at most. "
         "The thesis (section 4.2.2) reports 10-1000 ms per layer on an RTX 2060 GPU. The checksum is a CRC of "
         "the chosen slicings and their errors." % os.environ.get("OMP_NUM_THREADS", "all"))

# ---- 4. IR drop, cost, kernels ----
for title, f in (("4. IR drop, one 512-row column (bench_irdrop --reps 5)", "irdrop.txt"),
                 ("4. Costing from counters (bench_cost --reps 5)", "cost.txt"),
                 ("Column-sum kernels vs oneDNN, one thread (bench_kernels 64 512 512)", "kernels.txt")):
    txt = read(os.path.join(raw, f))
    if txt is None:
        continue
    w("## " + title)
    w("")
    w("```")
    w(txt.rstrip())
    w("```")
    w("")
# ---- 5. the CUDA kernel (bench/cuda.sh on a GPU machine; not rerun by run.sh) ----
included("5. GPU: the CUDA column-sum kernel (bench/cuda.sh, results/bench_cuda.md)", "results/bench_cuda.md",
         "Not measured: `bench/cuda.sh` needs an NVIDIA GPU of compute capability 8.0 or later and nvcc.",
         "Every (input slice x weight slice) product of the 512x512 layer as one GEMM on the GPU, operands in GPU "
         "memory. **Slice efficiency** here uses the GPU's own int8 GEMM as the bound: slice products x cuBLAS "
         "`cublasGemmEx` (s8 x s8 -> s32) time on the logical M x 512 x 512 shape / our time. That shape is too "
         "small to fill the GPU (cuBLAS takes 12-15 us for it whatever M), so **ours / cuBLAS** on the identical "
         "stacked GEMM is the fairer measure of the kernel. Not rerun by `bench/run.sh` (no GPU here); rerun with "
         "`bench/cuda.sh` on a GPU machine. Engine-level rows (`--kernel cuda`): results/bench_mvm_cuda.md.")
w("Also written: results/bench_mvm_m256.md and results/bench_mvm_m4096.md (every bench_mvm row), "
  "results/bench_mvm.md (all four presets, 2 threads, histogram on), results/bench_eval.md, "
  "results/bench_compile.md.")
print("\n".join(out))
