/* conv.h: convolution and pooling geometry (1-D and 2-D, NCW / NCHW) and
 * im2col, shared by the digital operators (ops_conv.c, ops_pool.c) and the
 * analog executor, which unrolls convolutions the same way.
 *
 * A 1-D input [N][C][W] is handled as 2-D with H = 1, kernel height 1,
 * stride/dilation 1 and no vertical padding, so one code path serves both.
 *
 * Output size along one axis (ONNX Conv/MaxPool/AveragePool), with the
 * dilated kernel dk = (k - 1) * d + 1:
 *   auto_pad NOTSET:  out = floor((in + pad_begin + pad_end - dk) / s) + 1
 *                     (ceil instead of floor with ceil_mode; a last window
 *                     that would start inside the end padding is dropped, as
 *                     ONNX Runtime and PyTorch do)
 *   VALID:            pads 0, out = floor((in - dk) / s) + 1
 *   SAME_UPPER/LOWER: out = ceil(in / s), total pad = max(0, (out - 1) * s +
 *                     dk - in), split evenly, the odd pixel at the end (UPPER)
 *                     or at the beginning (LOWER).
 */
#ifndef CIMSIM_NN_CONV_H
#define CIMSIM_NN_CONV_H

#include "nn.h"

typedef struct nn_conv_geom {
    int nsp;                /* spatial dimensions: 1 (NCW) or 2 (NCHW) */
    int64_t N, C, H, W;     /* input batch, channels, height (1 for 1-D), width */
    int64_t Cout, group;    /* output channels and groups (pooling: Cout = C, group = C) */
    int64_t kh, kw;         /* kernel size (1-D: kh = 1) */
    int64_t sh, sw;         /* strides */
    int64_t dh, dw;         /* dilations */
    int64_t pt, pl, pb, pr; /* pads: top, left (begin), bottom, right (end) */
    int64_t OH, OW;         /* output height (1 for 1-D) and width */
} nn_conv_geom;

/* Which attributes a node may carry. */
enum {
    NN_GEOM_CONV = 0, /* Conv family: kernel from W, group, dilations */
    NN_GEOM_POOL = 1  /* pooling: kernel_shape required, ceil_mode, no group */
};

/* Fill *geo from input x (rank 3 or 4) and the node's attributes
 * (kernel_shape, strides, dilations, pads, auto_pad; group for NN_GEOM_CONV;
 * ceil_mode for NN_GEOM_POOL). For NN_GEOM_CONV, w is the weight value
 * [Cout][C/group][kh][kw] (or [Cout][C/group][kw]); kernel_shape, if given,
 * must agree with it. Errors (via nn_err, naming the attribute): a wrong
 * rank, count or sign of an attribute, an unknown auto_pad, channels that
 * do not divide into groups, a kernel larger than the padded input. */
cim_status nn_conv_geom_init(const nn_graph *g, const nn_node *n, const nn_value *x, const nn_value *w, int kind,
                             nn_conv_geom *geo);

/* The output's shape: [N][Cout][OH][OW] (or [N][Cout][OW] for 1-D). Returns
 * the rank. */
int nn_conv_out_dims(const nn_conv_geom *geo, int64_t *dims);

/* Rows and columns of the unrolled input of one group: rows = N * OH * OW
 * (in (sample, oh, ow) order), K = (C / group) * kh * kw. */
static inline int64_t nn_conv_rows(const nn_conv_geom *geo) { return geo->N * geo->OH * geo->OW; }
static inline int64_t nn_conv_k(const nn_conv_geom *geo) { return geo->C / geo->group * geo->kh * geo->kw; }

/* im2col of group grp for samples [n0, n1) of x (uint8 or int8 codes
 * [N][C][H][W]): cols[((n - n0) * OH * OW + oh * OW + ow) * K + k] with
 * k = (ci * kh + i) * kw + j (ci within the group). Each code is stored as
 * x ^ xor_mask (0x80 turns int8 codes into uint8 codes shifted by +128);
 * padding positions hold `pad` (already in the stored code space). */
void nn_conv_im2col_u8(const nn_conv_geom *geo, const uint8_t *x, int64_t grp, int64_t n0, int64_t n1,
                       uint8_t xor_mask, uint8_t pad, uint8_t *cols);

/* The same for float inputs, padding with 0. */
void nn_conv_im2col_f32(const nn_conv_geom *geo, const float *x, int64_t grp, int64_t n0, int64_t n1, float *cols);

/* Weights of group grp as a [K][Cout/group] matrix (the nn_mvm layout) from
 * W [Cout][C/group][kh][kw] with elements of `esize` bytes. */
void nn_conv_pack_weights(const nn_conv_geom *geo, const void *w, size_t esize, int64_t grp, void *wk);

#endif
