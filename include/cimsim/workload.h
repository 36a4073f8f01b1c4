/* cimsim/workload.h: network workloads as layer shapes, for costing networks
 * that cannot be run here (cimsim cost --workload W.yaml).
 *
 * A workload is a YAML file (docs/workloads.md): the weight layers of one
 * inference in execution order, each as the GEMM a crossbar sees, plus
 * optional value statistics. Bundled workloads (workloads/NAME.yaml, embedded
 * into the library at build time): resnet18, resnet50, mobilenetv2 (from
 * torchvision's definitions by tools/workloads/make_workloads.py) and
 * bert-large-ffn (the 48 feed-forward matmuls of BERT-Large at 384 tokens).
 * `cimsim workload --model M.onnx --out W.yaml` writes one for an ONNX model.
 *
 * The GEMM view of a layer: each of `groups` groups multiplies M input vectors
 * of K values (crossbar rows) by a K x N weight matrix (N columns = output
 * channels of the group), so
 *
 *     macs == M * K * N * groups        (the loader checks it)
 *
 * conv:   K = Cin/groups * kh * kw, N = Cout/groups, M = output H * W (per
 *         group; a depthwise conv has groups = C, K = kh * kw, N = 1).
 * linear: K = in_features, N = out_features, M = rows (1 for an image
 *         classifier, the tokens of a transformer).
 *
 * Every error is a cim_status with a message naming the file, the line and
 * the key (CIM_ERR_IO: cannot read; CIM_ERR_FORMAT: malformed, unknown key,
 * out-of-range value, sums that disagree). The loader never aborts.
 */
#ifndef CIMSIM_WORKLOAD_H
#define CIMSIM_WORKLOAD_H

#include <stdint.h>
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CIM_WORKLOAD_NAME_MAX 128   /* layer and workload names, with the NUL */
#define CIM_WORKLOAD_TEXT_MAX 512   /* description, source, paths, with the NUL */
#define CIM_WORKLOAD_MAX_DIMS 8     /* dimensions of an input/output shape */
#define CIM_WORKLOAD_MAX_LAYERS 10000
#define CIM_WORKLOAD_MAX_DIM (1L << 24)      /* K, N, groups, kernel, stride, padding, shape dims */
#define CIM_WORKLOAD_MAX_M (1ULL << 32)      /* vectors per group and inference */
#define CIM_WORKLOAD_MAX_MACS (1ULL << 50)   /* per layer and in all (~1.1e15) */
#define CIM_WORKLOAD_MAX_FILE (16L << 20)    /* bytes of a workload file */

typedef enum cim_workload_type {
    CIM_WL_CONV = 0,   /* convolution (Conv2d, ONNX Conv) */
    CIM_WL_LINEAR = 1  /* fully connected / matmul with constant weights (Linear, Gemm, MatMul) */
} cim_workload_type;

/* Optional value statistics (YAML `stats:`), per file and per layer; a
 * layer's block overrides the file's key by key. Numbers are either measured
 * (assumed = 0: e.g. from a `cimsim eval --json`) or stated distributions
 * (assumed = 1); either way `source` says where they come from. A field not
 * given is -1. */
typedef struct cim_workload_stats {
    int present;              /* nonzero when any stats key applies */
    int assumed;              /* 1: assumptions (stated distributions), 0: measured; -1 not given */
    int input_signed;         /* 1: inputs take both signs (signed_split archs run two phases), 0: not; -1 */
    double input_density;     /* fraction of input values that are not the zero point, 0..1; -1 */
    double input_mean;        /* mean |x - zx| of the 8-bit input codes, 0..255; -1 */
    double weight_mean_abs;   /* mean |w| of the int8 weight codes (zero point 0), 0..128; -1 */
    char source[CIM_WORKLOAD_TEXT_MAX];    /* where the numbers come from; "" when not given */
    char eval_json[CIM_WORKLOAD_TEXT_MAX]; /* a `cimsim eval --json` result whose layers of the
                                              same names hold measured counters, as a path
                                              relative to the workload file's directory
                                              resolved here; "" when not given */
} cim_workload_stats;

typedef struct cim_workload_layer {
    char name[CIM_WORKLOAD_NAME_MAX];
    cim_workload_type type;
    int K;                    /* rows per group: Cin/groups * kh * kw, or in_features */
    int N;                    /* columns per group: Cout/groups, or out_features */
    int groups;               /* >= 1 */
    uint64_t M;               /* input vectors per group and inference */
    uint64_t macs;            /* M * K * N * groups per inference */
    int kernel[2], stride[2], padding[2]; /* convs, when given (else 0) */
    int n_input, n_output;    /* dimensions of the shapes below (0: not given) */
    int64_t input[CIM_WORKLOAD_MAX_DIMS], output[CIM_WORKLOAD_MAX_DIMS];
    cim_workload_stats stats; /* the file's stats merged with the layer's own */
} cim_workload_layer;

typedef struct cim_workload {
    char name[CIM_WORKLOAD_NAME_MAX];          /* `workload:` */
    char description[CIM_WORKLOAD_TEXT_MAX];   /* `description:` (may be "") */
    char source[CIM_WORKLOAD_TEXT_MAX];        /* `source:`: where the shapes come from (may be "") */
    char file[CIM_WORKLOAD_TEXT_MAX];          /* the path loaded, or "workload NAME (workloads/NAME.yaml)" */
    int n_layers;                              /* >= 1 */
    cim_workload_layer *layers;                /* in execution order */
    uint64_t total_macs;                       /* sum of the layers' macs (equals `total_macs:` when given) */
    cim_workload_stats stats;                  /* the file-level block alone */
} cim_workload;

/* Load a workload: a bundled name (cim_workload_names()) or a YAML file path;
 * bundled names win (load a file of that name as ./NAME). Fills *wl (zeroed
 * first; on failure it holds nothing to free). Free with cim_workload_free. */
cim_status cim_workload_load(cim_ctx *ctx, const char *path_or_name, cim_workload *wl);

/* Parse workload YAML from memory; `file` names it in messages and anchors a
 * relative stats.eval_json (NULL: the current directory). */
cim_status cim_workload_parse(cim_ctx *ctx, const char *file, const char *text, size_t len, cim_workload *wl);

/* Free what a successful load allocated and zero *wl (NULL or zeroed: no-op). */
void cim_workload_free(cim_ctx *ctx, cim_workload *wl);

/* The bundled workloads: a NULL-terminated list of names, and one's YAML text
 * (NULL for an unknown name). Static data: do not free. */
const char *const *cim_workload_names(void);
const char *cim_workload_text(const char *name);

/* Write a workload as YAML (the format the loader reads; shapes and conv
 * geometry only where given). Written to a temporary name and renamed: no
 * partial file on failure. `header` (may be NULL) is written first as `#`
 * comment lines (one per line of the string). */
cim_status cim_workload_write_yaml(cim_ctx *ctx, const char *path, const cim_workload *wl, const char *header);

#ifdef __cplusplus
}
#endif
#endif
