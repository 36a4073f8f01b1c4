#!/bin/sh
# bench/cuda.sh: issue 7's GPU row, on a machine with an NVIDIA GPU (compute
# capability 8.0 or later) and the CUDA toolkit (nvcc, cuBLAS):
#   1. build with the CUDA kernel (scripts/setup.sh -DCIMSIM_CUDA=ON), unless
#      CIMSIM_BENCH_NO_SETUP=1 (then $CIMSIM_BUILD_DIR must hold the programs)
#   2. exactness on the GPU: test_kernels and test_exact (every kernel, cuda
#      among them: not SKIPPED here) and the golden checksums of every preset
#      (tests/test_golden.sh) with CIMSIM_KERNEL=cuda
#   3. bench_cuda: the kernel on the GPU against cuBLAS's int8 GEMM and the CPU
#      kernel -> results/bench_cuda.md (bench/table.py puts it in results/bench.md)
#   4. the whole engine with its column sums on the GPU (bench_mvm --kernel cuda)
#      next to the CPU kernel: the psum checksums must be equal
#      -> results/bench_mvm_cuda.md
#   bench/cuda.sh [--reps R]     (bench_cuda's repetitions, default 50)
# Exits 1 on any difference. A machine without a usable GPU: exit 2, nothing written.
set -eu
cd "$(dirname "$0")/.."
reps=50
while [ $# -gt 0 ]; do
    case "$1" in
    --reps) reps=$2; shift 2 ;;
    *) sed -n '2,/^set -eu/p' "$0" | sed '$d' >&2; exit 2 ;;
    esac
done
BUILD=${CIMSIM_BUILD_DIR:-build}
if [ "${CIMSIM_BENCH_NO_SETUP:-}" != 1 ]; then
    scripts/setup.sh -DCMAKE_BUILD_TYPE=Release -DCIMSIM_CUDA=ON >/dev/null
fi
[ -x "$BUILD/bench/bench_cuda" ] || { echo "bench/cuda.sh: $BUILD/bench/bench_cuda was not built (CUDA toolkit with cuBLAS)" >&2; exit 1; }
mkdir -p results
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cimsim-cuda-XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "== 2. exactness on the GPU =="
"$BUILD/tests/test_kernels" >"$tmp/k.log" 2>&1 || { cat "$tmp/k.log"; exit 1; }
grep -q 'SKIPPED.*cuda' "$tmp/k.log" && { grep 'cuda' "$tmp/k.log"; echo "bench/cuda.sh: the cuda kernel was skipped: no usable GPU" >&2; exit 2; }
grep -c 'OK.*cuda' "$tmp/k.log" | sed 's/^/test_kernels: cuda cases passed: /'
"$BUILD/tests/test_exact" >"$tmp/e.log" 2>&1 || { cat "$tmp/e.log"; exit 1; }
tail -n 2 "$tmp/e.log"
CIMSIM_KERNEL=cuda sh tests/test_golden.sh "$BUILD/cimsim" "$BUILD/tests/cli_helper" . >"$tmp/g.log" 2>&1 ||
    { cat "$tmp/g.log"; exit 1; }
tail -n 1 "$tmp/g.log" | sed 's/^/golden checksums with CIMSIM_KERNEL=cuda: /'

echo "== 3. the kernel on the GPU (bench_cuda) =="
"$BUILD/bench/bench_cuda" --reps "$reps" --md "$tmp/cuda.md" --tsv "$tmp/cuda.tsv"
commit=${CIMSIM_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
{
    echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), build $commit, by \`bench/cuda.sh\`."
    echo
    cat "$tmp/cuda.md"
} >results/bench_cuda.md

echo "== 4. the engine with its column sums on the GPU (bench_mvm --kernel cuda) =="
if [ -x "$BUILD/bench/bench_mvm" ]; then
    for k in cuda cpu; do
        kn=$k
        [ $k = cpu ] && kn=""
        OMP_WAIT_POLICY=active "$BUILD/bench/bench_mvm" ${kn:+--kernel $kn} --presets isaac,raella --threads 1,8 \
            --noise both --hist off --reps 3 --md "$tmp/mvm_$k.md" --tsv "$tmp/mvm_$k.tsv" >/dev/null
    done
    # the psum checksums (last TSV column) of each configuration must agree
    cut -f1-4,$(head -n1 "$tmp/mvm_cpu.tsv" | tr '\t' '\n' | grep -n '^checksum$' | cut -d: -f1) "$tmp/mvm_cpu.tsv" >"$tmp/a"
    cut -f1-4,$(head -n1 "$tmp/mvm_cuda.tsv" | tr '\t' '\n' | grep -n '^checksum$' | cut -d: -f1) "$tmp/mvm_cuda.tsv" >"$tmp/b"
    if ! cmp -s "$tmp/a" "$tmp/b"; then
        echo "bench/cuda.sh: the engine's psums differ between --kernel cuda and the CPU kernel" >&2
        diff "$tmp/a" "$tmp/b" >&2 || true
        exit 1
    fi
    {
        echo "The whole engine (\`bench_mvm\`, 512x512 layer, 256 vectors, histogram off) with \`--kernel cuda\`"
        echo "(every column sum computed on the GPU, per 32 x 128 tile, through host memory), then with"
        echo "this machine's CPU kernel; psum checksums identical between the two."
        echo
        echo "**--kernel cuda**"
        echo
        cat "$tmp/mvm_cuda.md"
        echo
        echo "**CPU kernel**"
        echo
        cat "$tmp/mvm_cpu.md"
    } >results/bench_mvm_cuda.md
    echo "engine: psums identical with --kernel cuda and the CPU kernel; results/bench_mvm_cuda.md"
else
    echo "bench/cuda.sh: bench_mvm not built (oneDNN): the engine comparison is skipped" >&2
fi
echo "wrote results/bench_cuda.md"
