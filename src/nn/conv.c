/* conv.c: convolution/pooling geometry (attributes, auto_pad, output size)
 * and im2col for 1-D and 2-D inputs; see conv.h for the formulas. */
#include <string.h>
#include "conv.h"

/* One spatial axis: input size, kernel, stride, dilation, pads -> output. */
static cim_status axis_out(const nn_graph *g, const nn_node *n, const char *pad_mode, int ceil_mode, int64_t in,
                           int64_t k, int64_t s, int64_t d, int64_t *pb, int64_t *pe, int64_t *out)
{
    const int64_t dk = (k - 1) * d + 1;
    if (strcmp(pad_mode, "SAME_UPPER") == 0 || strcmp(pad_mode, "SAME_LOWER") == 0) {
        *out = (in + s - 1) / s;
        int64_t total = (*out - 1) * s + dk - in;
        if (total < 0)
            total = 0;
        int upper = pad_mode[5] == 'U';
        *pb = upper ? total / 2 : total - total / 2;
        *pe = total - *pb;
        return CIM_OK;
    }
    if (strcmp(pad_mode, "VALID") == 0)
        *pb = *pe = 0;
    const int64_t span = in + *pb + *pe - dk;
    if (span < 0)
        return nn_err(g, n, CIM_ERR_SHAPE,
                      "the kernel (%lld, dilated %lld) is larger than the padded input (%lld)", (long long)k,
                      (long long)dk, (long long)(in + *pb + *pe));
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= in + *pb)
        o--; /* the last window would start in the end padding */
    *out = o;
    return CIM_OK;
}

/* An INTS attribute with `want` entries, each >= lo, or all `def` when absent. */
static cim_status ints_attr(const nn_graph *g, const nn_node *n, const char *name, int want, int64_t lo, int64_t def,
                            int64_t *vals)
{
    const int64_t *v;
    int cnt;
    cim_status st = nn_attr_ints(g, n, name, &v, &cnt);
    if (st != CIM_OK)
        return st;
    if (!v) {
        for (int i = 0; i < want; i++)
            vals[i] = def;
        return CIM_OK;
    }
    if (cnt != want)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute '%s' has %d values, expected %d", name, cnt, want);
    for (int i = 0; i < want; i++) {
        if (v[i] < lo || v[i] > ((int64_t)1 << 31))
            return nn_err(g, n, CIM_ERR_FORMAT, "attribute '%s' has an invalid value %lld", name, (long long)v[i]);
        vals[i] = v[i];
    }
    return CIM_OK;
}

cim_status nn_conv_geom_init(const nn_graph *g, const nn_node *n, const nn_value *x, const nn_value *w, int kind,
                             nn_conv_geom *geo)
{
    memset(geo, 0, sizeof *geo);
    if (x->rank != 3 && x->rank != 4)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "input X has rank %d; only 1-D (N,C,W) and 2-D (N,C,H,W) are supported",
                      x->rank);
    const int nsp = x->rank - 2;
    geo->nsp = nsp;
    geo->N = x->dims[0];
    geo->C = x->dims[1];
    geo->H = nsp == 2 ? x->dims[2] : 1;
    geo->W = x->dims[x->rank - 1];

    int64_t kern[2], strides[2], dil[2] = {1, 1}, pads[4];
    const int64_t *ks;
    int nks;
    cim_status st = nn_attr_ints(g, n, "kernel_shape", &ks, &nks);
    if (st != CIM_OK)
        return st;
    if (ks && nks != nsp)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'kernel_shape' has %d values, expected %d", nks, nsp);
    for (int i = 0; ks && i < nsp; i++)
        if (ks[i] < 1 || ks[i] > ((int64_t)1 << 31))
            return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'kernel_shape' has an invalid value %lld", (long long)ks[i]);
    if (kind == NN_GEOM_CONV) {
        if (w->rank != x->rank)
            return nn_err(g, n, CIM_ERR_SHAPE, "weight W has rank %d, expected %d like X", w->rank, x->rank);
        int64_t group;
        if ((st = nn_attr_int(g, n, "group", 1, &group)) != CIM_OK)
            return st;
        if (group < 1 || geo->C % group != 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "attribute 'group' (%lld) does not divide the %lld input channels",
                          (long long)group, (long long)geo->C);
        if (w->dims[1] * group != geo->C)
            return nn_err(g, n, CIM_ERR_SHAPE, "weight W has %lld input channels per group, expected %lld",
                          (long long)w->dims[1], (long long)(geo->C / group));
        if (w->dims[0] % group != 0)
            return nn_err(g, n, CIM_ERR_SHAPE, "weight W's %lld output channels do not divide into %lld groups",
                          (long long)w->dims[0], (long long)group);
        geo->group = group;
        geo->Cout = w->dims[0];
        for (int i = 0; i < nsp; i++) {
            kern[i] = w->dims[2 + i];
            if (ks && ks[i] != kern[i])
                return nn_err(g, n, CIM_ERR_SHAPE, "attribute 'kernel_shape' does not match the weight's shape");
            if (kern[i] < 1)
                return nn_err(g, n, CIM_ERR_SHAPE, "weight W has an empty kernel");
        }
        if ((st = ints_attr(g, n, "dilations", nsp, 1, 1, dil)) != CIM_OK)
            return st;
    } else {
        if (!ks)
            return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'kernel_shape' is required");
        for (int i = 0; i < nsp; i++)
            kern[i] = ks[i];
        geo->group = geo->Cout = geo->C;
        if ((st = ints_attr(g, n, "dilations", nsp, 1, 1, dil)) != CIM_OK)
            return st;
    }
    if ((st = ints_attr(g, n, "strides", nsp, 1, 1, strides)) != CIM_OK ||
        (st = ints_attr(g, n, "pads", 2 * nsp, 0, 0, pads)) != CIM_OK)
        return st;
    int64_t ceil_mode = 0;
    if (kind == NN_GEOM_POOL && (st = nn_attr_int(g, n, "ceil_mode", 0, &ceil_mode)) != CIM_OK)
        return st;
    const char *pad_mode;
    if ((st = nn_attr_string(g, n, "auto_pad", "NOTSET", &pad_mode)) != CIM_OK)
        return st;
    if (strcmp(pad_mode, "NOTSET") != 0 && strcmp(pad_mode, "VALID") != 0 && strcmp(pad_mode, "SAME_UPPER") != 0 &&
        strcmp(pad_mode, "SAME_LOWER") != 0)
        return nn_err(g, n, CIM_ERR_FORMAT, "attribute 'auto_pad' has an unknown value '%s'", pad_mode);

    int64_t in[2], out[2], pbeg[2], pend[2];
    for (int i = 0; i < nsp; i++) {
        in[i] = x->dims[2 + i];
        pbeg[i] = pads[i];
        pend[i] = pads[nsp + i];
        if ((st = axis_out(g, n, pad_mode, ceil_mode != 0, in[i], kern[i], strides[i], dil[i], &pbeg[i], &pend[i],
                           &out[i])) != CIM_OK)
            return st;
    }
    if (nsp == 2) {
        geo->kh = kern[0], geo->kw = kern[1];
        geo->sh = strides[0], geo->sw = strides[1];
        geo->dh = dil[0], geo->dw = dil[1];
        geo->pt = pbeg[0], geo->pl = pbeg[1], geo->pb = pend[0], geo->pr = pend[1];
        geo->OH = out[0], geo->OW = out[1];
    } else {
        geo->kh = 1, geo->kw = kern[0];
        geo->sh = 1, geo->sw = strides[0];
        geo->dh = 1, geo->dw = dil[0];
        geo->pt = 0, geo->pl = pbeg[0], geo->pb = 0, geo->pr = pend[0];
        geo->OH = 1, geo->OW = out[0];
    }
    return CIM_OK;
}

int nn_conv_out_dims(const nn_conv_geom *geo, int64_t *dims)
{
    dims[0] = geo->N;
    dims[1] = geo->Cout;
    if (geo->nsp == 2) {
        dims[2] = geo->OH;
        dims[3] = geo->OW;
        return 4;
    }
    dims[2] = geo->OW;
    return 3;
}

/* One kernel position (i, j) of one input plane: byte k of every row of
 * one sample (dst points at row 0's byte k, rows K apart). The output
 * pixels whose input lies inside the row are the range [lo, hi) of ow,
 * found once, so the copy loop has no bounds checks. */
static void im2col_position(const nn_conv_geom *geo, const uint8_t *plane, int64_t i, int64_t j, int64_t K,
                            uint8_t xor_mask, uint8_t pad, uint8_t *dst)
{
    const int64_t H = geo->H, W = geo->W, OW = geo->OW, sw = geo->sw;
    const int64_t off = j * geo->dw - geo->pl; /* iw = ow * sw + off */
    int64_t lo = off >= 0 ? 0 : (-off + sw - 1) / sw, hi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
    lo = lo < OW ? lo : OW; /* (pads wider than the kernel's reach: no pixel inside) */
    hi = hi < OW ? hi : OW; /* hi >= lo since W > 0 */
    for (int64_t oh = 0; oh < geo->OH; oh++, dst += OW * K) {
        const int64_t ih = oh * geo->sh - geo->pt + i * geo->dh;
        if (ih < 0 || ih >= H) {
            for (int64_t ow = 0; ow < OW; ow++)
                dst[ow * K] = pad;
            continue;
        }
        const uint8_t *line = plane + ih * W + off;
        for (int64_t ow = 0; ow < lo; ow++)
            dst[ow * K] = pad;
        for (int64_t ow = lo; ow < hi; ow++)
            dst[ow * K] = (uint8_t)(line[ow * sw] ^ xor_mask);
        for (int64_t ow = hi; ow < OW; ow++)
            dst[ow * K] = pad;
    }
}

void nn_conv_im2col_u8(const nn_conv_geom *geo, const uint8_t *x, int64_t grp, int64_t n0, int64_t n1,
                       uint8_t xor_mask, uint8_t pad, uint8_t *cols)
{
    const int64_t cg = geo->C / geo->group, H = geo->H, W = geo->W, kh = geo->kh, kw = geo->kw;
    const int64_t K = cg * kh * kw, ohw = geo->OH * geo->OW;
    /* column by column: each kernel position of each input channel fills
     * byte k = (ci * kh + i) * kw + j of every row, reading its plane in
     * order (one pass per position instead of a channel and kernel loop per
     * output pixel) */
    for (int64_t s = n0; s < n1; s++)
        for (int64_t ci = 0; ci < cg; ci++) {
            const uint8_t *plane = x + ((s * geo->C) + grp * cg + ci) * H * W;
            for (int64_t i = 0; i < kh; i++)
                for (int64_t j = 0; j < kw; j++)
                    im2col_position(geo, plane, i, j, K, xor_mask, pad,
                                    cols + (s - n0) * ohw * K + (ci * kh + i) * kw + j);
        }
}

void nn_conv_im2col_f32(const nn_conv_geom *geo, const float *x, int64_t grp, int64_t n0, int64_t n1, float *cols)
{
    const int64_t cg = geo->C / geo->group, H = geo->H, W = geo->W, kh = geo->kh, kw = geo->kw;
    const int64_t K = cg * kh * kw;
    float *row = cols;
    for (int64_t s = n0; s < n1; s++)
        for (int64_t oh = 0; oh < geo->OH; oh++)
            for (int64_t ow = 0; ow < geo->OW; ow++, row += K) {
                float *p = row;
                const int64_t ih0 = oh * geo->sh - geo->pt, iw0 = ow * geo->sw - geo->pl;
                for (int64_t ci = 0; ci < cg; ci++) {
                    const float *plane = x + ((s * geo->C) + grp * cg + ci) * H * W;
                    for (int64_t i = 0; i < kh; i++) {
                        const int64_t ih = ih0 + i * geo->dh;
                        for (int64_t j = 0; j < kw; j++) {
                            const int64_t iw = iw0 + j * geo->dw;
                            *p++ = (ih < 0 || ih >= H || iw < 0 || iw >= W) ? 0.0f : plane[ih * W + iw];
                        }
                    }
                }
            }
}

void nn_conv_pack_weights(const nn_conv_geom *geo, const void *w, size_t esize, int64_t grp, void *wk)
{
    const int64_t K = nn_conv_k(geo), ng = geo->Cout / geo->group;
    const unsigned char *src = w;
    unsigned char *dst = wk;
    for (int64_t c = 0; c < ng; c++) {
        const unsigned char *filt = src + (size_t)((grp * ng + c) * K) * esize;
        for (int64_t k = 0; k < K; k++)
            memcpy(dst + (size_t)(k * ng + c) * esize, filt + (size_t)k * esize, esize);
    }
}
