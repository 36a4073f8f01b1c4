/* ops_quant_mm.c: MatMul, Gemm (float), QLinearMatMul, MatMulInteger and
 * com.microsoft QGemm.
 *
 * MatMul-family shapes follow numpy.matmul: a 1-D A is [1, K] and a 1-D B is
 * [K, 1] (the added dimension is removed from the output), leading (batch)
 * dimensions broadcast. Integer products whose B is constant and 2-D (or has
 * only leading 1s) go through nn_mvm in one call for all rows of A (the
 * leading dimensions of A are rows; rows_per_sample = rows / g->batch);
 * products with a non-constant B, or a B with real batch dimensions, are
 * computed by nn_mvm_digital per batch slice.
 *
 * QLinearMatMul:  y = saturate(rint((float)psum * M[n]) + y_zp),
 *                 M[n] = (a_scale * b_scale[n]) / y_scale in float32.
 * MatMulInteger:  psum as int32; a_zero_point scalar or per row of A (then
 *                 the mvm runs with the first row's zero point and the other
 *                 rows are corrected digitally with B's column sums),
 *                 b_zero_point scalar or per column.
 * QGemm (ORT):    psum + C (int32, broadcast to [M, N]); with y_scale:
 *                 y = saturate(rint((float)acc * M[n]) + y_zp),
 *                 M[n] = ((alpha * a_scale) * b_scale[n]) / y_scale;
 *                 without: y = (float)acc * ((alpha * a_scale) * b_scale[n]).
 * Gemm (float):   y = alpha * (A' B') + beta * C, accumulation over k in order.
 * Float Gemm/MatMul fed by DequantizeLinear (A per-tensor uint8/int8, B a
 * constant uint8/int8, per-tensor or per output column) run the integer
 * product through nn_mvm and then, in this order,
 *   v = (float)(psum [+ c_int[n]]) * s[n],  s[n] = a_scale * b_scale[n]
 *   Gemm: y = alpha * v [+ beta * C]  (C added in integers instead, as c_int,
 *   when it is DequantizeLinear of a constant int32 [N] and alpha = beta = 1).
 */
#include <limits.h>
#include <string.h>
#include "ops_quant.h"
#include "../lib/internal.h"

/* ---- numpy.matmul shapes ---- */

typedef struct mm_geom {
    int64_t M, K, N;
    int64_t nb;                       /* output batch slices */
    int64_t a_nb, b_nb;               /* batch slices of A and B */
    int brank;                        /* rank of the broadcast batch shape */
    int64_t bdims[NN_MAX_RANK];       /* broadcast batch shape */
    int64_t astr[NN_MAX_RANK], bstr[NN_MAX_RANK]; /* slice strides (0: broadcast) */
    int out_rank;
    int64_t out_dims[NN_MAX_RANK];
} mm_geom;

static cim_status mm_geom_init(const nn_graph *g, const nn_node *n, const nn_value *a, const nn_value *b,
                               mm_geom *mg)
{
    memset(mg, 0, sizeof *mg);
    if (a->rank < 1 || b->rank < 1)
        return nn_err(g, n, CIM_ERR_SHAPE, "MatMul inputs must have rank >= 1");
    mg->M = a->rank == 1 ? 1 : a->dims[a->rank - 2];
    mg->K = a->dims[a->rank - 1];
    const int64_t kb = b->rank == 1 ? b->dims[0] : b->dims[b->rank - 2];
    mg->N = b->rank == 1 ? 1 : b->dims[b->rank - 1];
    if (kb != mg->K)
        return nn_err(g, n, CIM_ERR_SHAPE, "inner dimensions differ (A has %lld, B has %lld)", (long long)mg->K,
                      (long long)kb);
    const int ar = a->rank > 2 ? a->rank - 2 : 0, br = b->rank > 2 ? b->rank - 2 : 0;
    mg->brank = ar > br ? ar : br;
    int64_t as = 1, bs = 1;
    mg->a_nb = mg->b_nb = mg->nb = 1;
    for (int i = mg->brank - 1; i >= 0; i--) {
        const int ia = i - (mg->brank - ar), ib = i - (mg->brank - br);
        const int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        if (da != db && da != 1 && db != 1)
            return nn_err(g, n, CIM_ERR_SHAPE, "batch dimensions do not broadcast (%lld vs %lld)", (long long)da,
                          (long long)db);
        mg->bdims[i] = da == 1 ? db : da;
        mg->astr[i] = da == 1 ? 0 : as;
        mg->bstr[i] = db == 1 ? 0 : bs;
        as *= da;
        bs *= db;
        mg->nb *= mg->bdims[i];
    }
    mg->a_nb = as;
    mg->b_nb = bs;
    int r = 0;
    for (int i = 0; i < mg->brank; i++)
        mg->out_dims[r++] = mg->bdims[i];
    if (a->rank > 1)
        mg->out_dims[r++] = mg->M;
    if (b->rank > 1)
        mg->out_dims[r++] = mg->N;
    mg->out_rank = r;
    return CIM_OK;
}

/* A's and B's slice indices of output batch slice ob. */
static void mm_slice(const mm_geom *mg, int64_t ob, int64_t *ia, int64_t *ib)
{
    *ia = *ib = 0;
    for (int i = mg->brank - 1; i >= 0; i--) {
        const int64_t d = ob % mg->bdims[i];
        ob /= mg->bdims[i];
        *ia += d * mg->astr[i];
        *ib += d * mg->bstr[i];
    }
}

static cim_status mm_check_size(const nn_graph *g, const nn_node *n, const mm_geom *mg)
{
    if (mg->M * mg->nb > INT_MAX || mg->K > INT_MAX || mg->N > INT_MAX)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "the matrix product (%lld x %lld x %lld) is too large",
                      (long long)(mg->M * mg->nb), (long long)mg->K, (long long)mg->N);
    return CIM_OK;
}

/* Integer product acc[nb][M][N] = (A - zx) (B - zw[n]). A, B uint8/int8 codes;
 * zx in A's own code space. Through nn_mvm when use_mvm and B has no batch. */
static cim_status mm_int(const nn_graph *g, const nn_node *n, const mm_geom *mg, const nn_value *a, int32_t zx,
                         const nn_value *b, const int32_t *zw, int use_mvm, int32_t *acc)
{
    cim_status st = mm_check_size(g, n, mg);
    if (st != CIM_OK)
        return st;
    const int64_t M = mg->M, K = mg->K, N = mg->N;
    if (M * mg->nb == 0 || N == 0)
        return CIM_OK;
    const int shift = a->dtype == NN_INT8;
    const size_t abytes = (size_t)(mg->a_nb * M * K);
    uint8_t *xs = NULL;
    const uint8_t *x = a->data;
    if (shift) {
        if (!(xs = cim__malloc(g->ctx, abytes ? abytes : 1)))
            return nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
        for (size_t i = 0; i < abytes; i++)
            xs[i] = (uint8_t)(x[i] ^ 0x80);
        x = xs;
    }
    nn_mvm_args args = {.node = n, .group = 0, .K = (int)K, .N = (int)N, .zx = zx + (shift ? 128 : 0),
                        .wtype = b->dtype, .zw = zw};
    if (mg->b_nb == 1) { /* B is one matrix: every row of A at once */
        args.M = (int)(M * mg->nb);
        args.rows_per_sample = nn_q_rows_per_sample(g, M * mg->nb);
        args.x = x;
        args.w = b->data;
        args.psum = acc;
        if (use_mvm)
            st = nn_mvm(g, &args);
        else
            nn_mvm_digital(&args);
    } else {
        for (int64_t ob = 0; ob < mg->nb; ob++) {
            int64_t ia, ib;
            mm_slice(mg, ob, &ia, &ib);
            args.M = (int)M;
            args.rows_per_sample = (int)M;
            args.x = x + ia * M * K;
            args.w = (const uint8_t *)b->data + ib * K * N;
            args.psum = acc + ob * M * N;
            nn_mvm_digital(&args);
        }
    }
    cim__free(g->ctx, xs);
    return st;
}

/* ---- MatMulInteger ---- */

cim_status nn_q_infer_matmulinteger(nn_graph *g, const nn_node *n)
{
    cim_status st;
    if ((st = nn_q_check_int8(g, n, 0, "A", NN_UNDEFINED)) != CIM_OK ||
        (st = nn_q_check_int8(g, n, 1, "B", NN_UNDEFINED)) != CIM_OK)
        return st;
    const nn_value *a = nn_in(g, n, 0), *b = nn_in(g, n, 1);
    mm_geom mg;
    if ((st = mm_geom_init(g, n, a, b, &mg)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 2, "a_zero_point", a->dtype, mg.M, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 3, "b_zero_point", b->dtype, mg.N, 0)) != CIM_OK)
        return st;
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    return nn_set_shape(g, n, y, NN_INT32, mg.out_rank, mg.out_dims);
}

cim_status nn_q_run_matmulinteger(const nn_graph *g, const nn_node *n, const nn_value *const *in,
                                  nn_value *const *out)
{
    const nn_value *a = in[0], *b = in[1], *azp = n->n_in > 2 ? in[2] : NULL, *bzp = n->n_in > 3 ? in[3] : NULL;
    mm_geom mg;
    cim_status st = mm_geom_init(g, n, a, b, &mg);
    if (st != CIM_OK)
        return st;
    const int64_t M = mg.M, K = mg.K, N = mg.N;
    int32_t *zw = cim__malloc(g->ctx, (size_t)(N + 1) * sizeof *zw);
    if (!zw)
        return nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
    nn_q_expand_zp(bzp, N, zw);
    int32_t *acc = out[0]->data;
    const int32_t zx0 = nn_q_zp(azp);
    st = mm_int(g, n, &mg, a, zx0, b, zw, g->t[n->in[1]].is_const, acc);
    if (st == CIM_OK && azp && nn_value_count(azp) > 1) {
        /* per-row zero points: psum was taken with zx0; add (zx0 - zx[m]) * colsum */
        for (int64_t ob = 0; ob < mg.nb; ob++) {
            int64_t ia, ib;
            mm_slice(&mg, ob, &ia, &ib);
            for (int64_t nn = 0; nn < N; nn++) {
                int64_t cs = 0;
                for (int64_t k = 0; k < K; k++)
                    cs += nn_q_get(b, ib * K * N + k * N + nn) - zw[nn];
                for (int64_t m = 0; m < M; m++)
                    acc[(ob * M + m) * N + nn] += (int32_t)((zx0 - nn_q_get(azp, m)) * cs);
            }
        }
    }
    cim__free(g->ctx, zw);
    return st;
}

/* ---- QLinearMatMul ---- */

cim_status nn_q_infer_qlinearmatmul(nn_graph *g, const nn_node *n)
{
    cim_status st;
    if ((st = nn_q_check_int8(g, n, 0, "a", NN_UNDEFINED)) != CIM_OK ||
        (st = nn_q_check_int8(g, n, 3, "b", NN_UNDEFINED)) != CIM_OK)
        return st;
    const nn_value *a = nn_in(g, n, 0), *b = nn_in(g, n, 3);
    mm_geom mg;
    if ((st = mm_geom_init(g, n, a, b, &mg)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 1, "a_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 2, "a_zero_point", a->dtype, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 4, "b_scale", NN_FLOAT, mg.N, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 5, "b_zero_point", b->dtype, mg.N, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 6, "y_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 7, "y_zero_point", NN_UNDEFINED, 0, 1)) != CIM_OK)
        return st;
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    return nn_set_shape(g, n, y, nn_in(g, n, 7)->dtype, mg.out_rank, mg.out_dims);
}

cim_status nn_q_run_qlinearmatmul(const nn_graph *g, const nn_node *n, const nn_value *const *in,
                                  nn_value *const *out)
{
    mm_geom mg;
    cim_status st = mm_geom_init(g, n, in[0], in[3], &mg);
    if (st != CIM_OK)
        return st;
    const int64_t N = mg.N, cnt = nn_value_count(out[0]);
    int32_t *zw = cim__malloc(g->ctx, (size_t)(N + 1) * sizeof *zw);
    float *m = cim__malloc(g->ctx, (size_t)(N + 1) * sizeof *m);
    int32_t *acc = cim__malloc(g->ctx, (size_t)(cnt + 1) * sizeof *acc);
    if (!zw || !m || !acc) {
        st = nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
        goto done;
    }
    nn_q_expand_zp(in[5], N, zw);
    if ((st = mm_int(g, n, &mg, in[0], nn_q_zp(in[2]), in[3], zw, g->t[n->in[3]].is_const, acc)) != CIM_OK)
        goto done;
    nn_q_expand_f(in[4], N, m);
    const float as = nn_q_scale(in[1]), ys = nn_q_scale(in[6]);
    for (int64_t j = 0; j < N; j++)
        m[j] = as * m[j] / ys;
    int32_t lo, hi;
    nn_q_range(out[0]->dtype, &lo, &hi);
    const int32_t zy = nn_q_zp(in[7]);
    for (int64_t i = 0; i < cnt; i++)
        nn_q_put(out[0], i, nn_requant((float)acc[i] * m[i % N], zy, lo, hi));
done:
    cim__free(g->ctx, zw);
    cim__free(g->ctx, m);
    cim__free(g->ctx, acc);
    return st;
}

/* ---- float MatMul ---- */

cim_status nn_q_infer_matmul(nn_graph *g, const nn_node *n)
{
    const nn_value *a = nn_in(g, n, 0), *b = nn_in(g, n, 1);
    if (!a || !b)
        return nn_err(g, n, CIM_ERR_FORMAT, "needs inputs A and B");
    if (a->dtype != NN_FLOAT || b->dtype != NN_FLOAT)
        return nn_err(g, n, CIM_ERR_SHAPE, "A and B must be float32 (got %s and %s)", nn_dtype_name(a->dtype),
                      nn_dtype_name(b->dtype));
    mm_geom mg;
    cim_status st = mm_geom_init(g, n, a, b, &mg);
    if (st != CIM_OK)
        return st;
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    return nn_set_shape(g, n, y, NN_FLOAT, mg.out_rank, mg.out_dims);
}

/* y[M][N] = x[M][K] w[K][N], float32, k in order. */
static void gemm_f32(int64_t M, int64_t K, int64_t N, const float *x, const float *w, float *y)
{
    for (int64_t m = 0; m < M; m++) {
        float *yr = y + m * N;
        for (int64_t j = 0; j < N; j++)
            yr[j] = 0.0f;
        for (int64_t k = 0; k < K; k++) {
            const float xv = x[m * K + k];
            const float *wr = w + k * N;
            for (int64_t j = 0; j < N; j++)
                yr[j] += xv * wr[j];
        }
    }
}

/* The QDQ path of MatMul/Gemm. x codes [M][K] and w codes [K][N] are built
 * here (transposed if asked); acc[M][N] receives the psum. *ok = 0 when the
 * inputs are not DequantizeLinear outputs as required (nothing computed).
 * b_axis: B's axis holding the output columns (per-channel scales). */
typedef struct qdq_mm {
    nn_dq_info da, db;
    float *s;    /* [N] a_scale * b_scale[n] */
    int32_t *acc; /* [M][N] */
} qdq_mm;

static void qdq_mm_free(const nn_graph *g, qdq_mm *q)
{
    cim__free(g->ctx, q->s);
    cim__free(g->ctx, q->acc);
}

static cim_status qdq_mm_run(const nn_graph *g, const nn_node *n, int ia, int ib, int64_t M, int64_t K, int64_t N,
                             int transA, int transB, int b_axis, qdq_mm *q, int *ok)
{
    *ok = 0;
    memset(q, 0, sizeof *q);
    if (!nn_dq_source(g, n->in[ia], &q->da) || q->da.axis >= 0 || q->da.q->dtype == NN_INT32)
        return CIM_OK;
    if (!nn_dq_source(g, n->in[ib], &q->db) || !q->db.q_const || q->db.q->dtype == NN_INT32 ||
        (q->db.axis >= 0 && q->db.axis != b_axis))
        return CIM_OK;
    if (M > INT_MAX || K > INT_MAX || N > INT_MAX)
        return nn_err(g, n, CIM_ERR_UNSUPPORTED, "the matrix product is too large");
    const int shift = q->da.q->dtype == NN_INT8;
    uint8_t *x = cim__malloc(g->ctx, (size_t)(M * K + 1));
    uint8_t *w = cim__malloc(g->ctx, (size_t)(K * N + 1));
    int32_t *zw = cim__malloc(g->ctx, (size_t)(N + 1) * sizeof *zw);
    q->s = cim__malloc(g->ctx, (size_t)(N + 1) * sizeof *q->s);
    q->acc = cim__malloc(g->ctx, (size_t)(M * N + 1) * sizeof *q->acc);
    cim_status st = CIM_OK;
    if (!x || !w || !zw || !q->s || !q->acc) {
        st = nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
        goto done;
    }
    const uint8_t *ad = q->da.q->data, *bd = q->db.q->data;
    for (int64_t m = 0; m < M; m++)
        for (int64_t k = 0; k < K; k++)
            x[m * K + k] = (uint8_t)(ad[transA ? k * M + m : m * K + k] ^ (shift ? 0x80 : 0));
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++)
            w[k * N + j] = bd[transB ? j * K + k : k * N + j];
    nn_q_expand_zp(q->db.zp, N, zw);
    nn_q_expand_f(q->db.scale, N, q->s);
    const float as = nn_q_scale(q->da.scale);
    for (int64_t j = 0; j < N; j++)
        q->s[j] = as * q->s[j];
    nn_mvm_args args = {.node = n, .group = 0, .M = (int)M, .K = (int)K, .N = (int)N,
                        .rows_per_sample = nn_q_rows_per_sample(g, M), .x = x,
                        .zx = nn_q_zp(q->da.zp) + (shift ? 128 : 0), .w = w, .wtype = q->db.q->dtype, .zw = zw,
                        .psum = q->acc};
    if (M > 0 && N > 0 && (st = nn_mvm(g, &args)) != CIM_OK)
        goto done;
    *ok = 1;
done:
    cim__free(g->ctx, x);
    cim__free(g->ctx, w);
    cim__free(g->ctx, zw);
    if (!*ok)
        qdq_mm_free(g, q);
    return st;
}

cim_status nn_q_run_matmul(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    const nn_value *a = in[0], *b = in[1];
    mm_geom mg;
    cim_status st = mm_geom_init(g, n, a, b, &mg);
    if (st != CIM_OK)
        return st;
    float *y = out[0]->data;
    if (b->rank == 2) {
        qdq_mm q;
        int ok;
        const int64_t rows = mg.M * mg.nb;
        if ((st = qdq_mm_run(g, n, 0, 1, rows, mg.K, mg.N, 0, 0, 1, &q, &ok)) != CIM_OK)
            return st;
        if (ok) {
            for (int64_t i = 0; i < rows * mg.N; i++)
                y[i] = (float)q.acc[i] * q.s[i % mg.N];
            qdq_mm_free(g, &q);
            return CIM_OK;
        }
    }
    const float *ad = a->data, *bd = b->data;
    if (mg.b_nb == 1) {
        gemm_f32(mg.M * mg.nb, mg.K, mg.N, ad, bd, y);
        return CIM_OK;
    }
    for (int64_t ob = 0; ob < mg.nb; ob++) {
        int64_t ia, ib;
        mm_slice(&mg, ob, &ia, &ib);
        gemm_f32(mg.M, mg.K, mg.N, ad + ia * mg.M * mg.K, bd + ib * mg.K * mg.N, y + ob * mg.M * mg.N);
    }
    return CIM_OK;
}

/* ---- Gemm and QGemm ---- */

typedef struct gemm_shape {
    int64_t M, K, N;
    int transA, transB;
    float alpha, beta;
} gemm_shape;

/* A at ia, B at ib, C at ic (optional; unidirectionally broadcast to [M, N]). */
static cim_status gemm_shape_init(const nn_graph *g, const nn_node *n, int ia, int ib, int ic, gemm_shape *gs)
{
    const nn_value *a = nn_in(g, n, ia), *b = nn_in(g, n, ib), *c = nn_in(g, n, ic);
    int64_t ta, tb;
    cim_status st;
    if ((st = nn_attr_int(g, n, "transA", 0, &ta)) != CIM_OK || (st = nn_attr_int(g, n, "transB", 0, &tb)) != CIM_OK ||
        (st = nn_attr_float(g, n, "alpha", 1.0f, &gs->alpha)) != CIM_OK ||
        (st = nn_attr_float(g, n, "beta", 1.0f, &gs->beta)) != CIM_OK)
        return st;
    if (!a || !b || a->rank != 2 || b->rank != 2)
        return nn_err(g, n, CIM_ERR_SHAPE, "A and B must be 2-D matrices");
    gs->transA = ta != 0;
    gs->transB = tb != 0;
    gs->M = a->dims[gs->transA ? 1 : 0];
    gs->K = a->dims[gs->transA ? 0 : 1];
    const int64_t kb = b->dims[gs->transB ? 1 : 0];
    gs->N = b->dims[gs->transB ? 0 : 1];
    if (kb != gs->K)
        return nn_err(g, n, CIM_ERR_SHAPE, "inner dimensions differ (A has %lld, B has %lld)", (long long)gs->K,
                      (long long)kb);
    if (c) {
        if (c->rank > 2)
            return nn_err(g, n, CIM_ERR_SHAPE, "C has rank %d, expected at most 2", c->rank);
        const int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        if ((cm != 1 && cm != gs->M) || (cn != 1 && cn != gs->N))
            return nn_err(g, n, CIM_ERR_SHAPE, "C does not broadcast to [%lld, %lld]", (long long)gs->M,
                          (long long)gs->N);
    }
    return CIM_OK;
}

/* Element (m, j) of C broadcast to [M, N]. */
static int64_t c_index(const nn_value *c, int64_t m, int64_t j)
{
    const int64_t cm = c->rank == 2 ? c->dims[0] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    return (cm == 1 ? 0 : m) * cn + (cn == 1 ? 0 : j);
}

cim_status nn_q_infer_gemm(nn_graph *g, const nn_node *n)
{
    gemm_shape gs;
    const nn_value *a = nn_in(g, n, 0), *b = nn_in(g, n, 1), *c = nn_in(g, n, 2);
    if (!a || !b)
        return nn_err(g, n, CIM_ERR_FORMAT, "needs inputs A and B");
    if (a->dtype != NN_FLOAT || b->dtype != NN_FLOAT || (c && c->dtype != NN_FLOAT))
        return nn_err(g, n, CIM_ERR_SHAPE, "A, B and C must be float32");
    cim_status st = gemm_shape_init(g, n, 0, 1, 2, &gs);
    if (st != CIM_OK)
        return st;
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    int64_t d[2] = {gs.M, gs.N};
    return nn_set_shape(g, n, y, NN_FLOAT, 2, d);
}

cim_status nn_q_run_gemm(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    gemm_shape gs;
    cim_status st = gemm_shape_init(g, n, 0, 1, 2, &gs);
    if (st != CIM_OK)
        return st;
    const nn_value *c = n->n_in > 2 ? in[2] : NULL;
    const int64_t M = gs.M, K = gs.K, N = gs.N;
    float *y = out[0]->data;
    const float *cd = c ? c->data : NULL;
    qdq_mm q;
    int ok;
    if ((st = qdq_mm_run(g, n, 0, 1, M, K, N, gs.transA, gs.transB, gs.transB ? 0 : 1, &q, &ok)) != CIM_OK)
        return st;
    if (ok) {
        nn_dq_info dc;
        const int int_bias = c && gs.alpha == 1.0f && gs.beta == 1.0f && nn_dq_source(g, n->in[2], &dc) &&
                             dc.q_const && dc.q->dtype == NN_INT32 && dc.axis <= 0 && nn_value_count(dc.q) == N &&
                             c_index(c, 1, 0) == 0;
        for (int64_t m = 0; m < M; m++)
            for (int64_t j = 0; j < N; j++) {
                const int64_t i = m * N + j;
                if (int_bias) {
                    const int32_t zc = dc.zp ? nn_q_get(dc.zp, nn_value_count(dc.zp) > 1 ? j : 0) : 0;
                    y[i] = (float)((int64_t)q.acc[i] + nn_q_get(dc.q, j) - zc) * q.s[j];
                } else {
                    const float v = gs.alpha * ((float)q.acc[i] * q.s[j]);
                    y[i] = cd ? v + gs.beta * cd[c_index(c, m, j)] : v;
                }
            }
        qdq_mm_free(g, &q);
        return CIM_OK;
    }
    /* plain float32: transpose as needed into [M][K] and [K][N] */
    const float *ad = in[0]->data, *bd = in[1]->data;
    float *at = NULL, *bt = NULL;
    if (gs.transA && !(at = cim__malloc(g->ctx, (size_t)(M * K + 1) * sizeof(float))))
        return nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
    if (gs.transB && !(bt = cim__malloc(g->ctx, (size_t)(K * N + 1) * sizeof(float)))) {
        cim__free(g->ctx, at);
        return nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
    }
    if (at) {
        for (int64_t m = 0; m < M; m++)
            for (int64_t k = 0; k < K; k++)
                at[m * K + k] = ad[k * M + m];
        ad = at;
    }
    if (bt) {
        for (int64_t k = 0; k < K; k++)
            for (int64_t j = 0; j < N; j++)
                bt[k * N + j] = bd[j * K + k];
        bd = bt;
    }
    gemm_f32(M, K, N, ad, bd, y);
    for (int64_t m = 0; m < M; m++)
        for (int64_t j = 0; j < N; j++) {
            const float v = gs.alpha * y[m * N + j];
            y[m * N + j] = cd ? v + gs.beta * cd[c_index(c, m, j)] : v;
        }
    cim__free(g->ctx, at);
    cim__free(g->ctx, bt);
    return CIM_OK;
}

/* QGemm inputs: A, a_scale, a_zero_point, B, b_scale, b_zero_point, C, y_scale, y_zero_point. */
cim_status nn_q_infer_qgemm(nn_graph *g, const nn_node *n)
{
    cim_status st;
    gemm_shape gs;
    if ((st = nn_q_check_int8(g, n, 0, "A", NN_UNDEFINED)) != CIM_OK ||
        (st = nn_q_check_int8(g, n, 3, "B", NN_UNDEFINED)) != CIM_OK || (st = gemm_shape_init(g, n, 0, 3, 6, &gs)))
        return st;
    const nn_value *c = nn_in(g, n, 6), *ys = nn_in(g, n, 7), *yzp = nn_in(g, n, 8);
    if ((st = nn_q_check_param(g, n, 1, "a_scale", NN_FLOAT, 0, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 2, "a_zero_point", nn_in(g, n, 0)->dtype, 0, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 4, "b_scale", NN_FLOAT, gs.N, 1)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 5, "b_zero_point", nn_in(g, n, 3)->dtype, gs.N, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 7, "y_scale", NN_FLOAT, 0, 0)) != CIM_OK ||
        (st = nn_q_check_param(g, n, 8, "y_zero_point", NN_UNDEFINED, 0, 0)) != CIM_OK)
        return st;
    if (c && c->dtype != NN_INT32)
        return nn_err(g, n, CIM_ERR_SHAPE, "C has type %s, expected int32", nn_dtype_name(c->dtype));
    if (!ys && yzp)
        return nn_err(g, n, CIM_ERR_FORMAT, "y_zero_point is given without y_scale");
    nn_value *y = nn_out(g, n, 0);
    if (!y)
        return nn_err(g, n, CIM_ERR_FORMAT, "output Y is missing");
    int64_t d[2] = {gs.M, gs.N};
    return nn_set_shape(g, n, y, ys ? (yzp ? yzp->dtype : NN_UINT8) : NN_FLOAT, 2, d);
}

cim_status nn_q_run_qgemm(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    gemm_shape gs;
    cim_status st = gemm_shape_init(g, n, 0, 3, 6, &gs);
    if (st != CIM_OK)
        return st;
    const int64_t M = gs.M, K = gs.K, N = gs.N;
    const nn_value *a = in[0], *b = in[3], *c = n->n_in > 6 ? in[6] : NULL, *ys = n->n_in > 7 ? in[7] : NULL;
    const nn_value *yzp = n->n_in > 8 ? in[8] : NULL;
    /* the matrices as [M][K] and [K][N] codes (transposed copies if needed) */
    nn_value at = *a, bt = *b;
    at.data = bt.data = NULL;
    at.rank = bt.rank = 2;
    at.dims[0] = M, at.dims[1] = K;
    bt.dims[0] = K, bt.dims[1] = N;
    uint8_t *ab = cim__malloc(g->ctx, (size_t)(M * K + 1)), *bb = cim__malloc(g->ctx, (size_t)(K * N + 1));
    int32_t *zw = cim__malloc(g->ctx, (size_t)(N + 1) * sizeof *zw);
    float *m = cim__malloc(g->ctx, (size_t)(N + 1) * sizeof *m);
    int32_t *acc = cim__malloc(g->ctx, (size_t)(M * N + 1) * sizeof *acc);
    if (!ab || !bb || !zw || !m || !acc) {
        st = nn_err(g, n, CIM_ERR_NOMEM, "out of memory");
        goto done;
    }
    const uint8_t *ad = a->data, *bd = b->data;
    for (int64_t i = 0; i < M; i++)
        for (int64_t k = 0; k < K; k++)
            ab[i * K + k] = ad[gs.transA ? k * M + i : i * K + k];
    for (int64_t k = 0; k < K; k++)
        for (int64_t j = 0; j < N; j++)
            bb[k * N + j] = bd[gs.transB ? j * K + k : k * N + j];
    at.data = ab;
    bt.data = bb;
    nn_q_expand_zp(n->n_in > 5 ? in[5] : NULL, N, zw);
    mm_geom mg = {.M = M, .K = K, .N = N, .nb = 1, .a_nb = 1, .b_nb = 1};
    if ((st = mm_int(g, n, &mg, &at, nn_q_zp(n->n_in > 2 ? in[2] : NULL), &bt, zw, g->t[n->in[3]].is_const, acc)) !=
        CIM_OK)
        goto done;
    nn_q_expand_f(in[4], N, m);
    const float as = nn_q_scale(in[1]);
    for (int64_t j = 0; j < N; j++) {
        m[j] = gs.alpha * as * m[j];
        if (ys)
            m[j] = m[j] / nn_q_scale(ys);
    }
    int32_t lo = 0, hi = 0;
    const int32_t zy = nn_q_zp(yzp);
    if (ys)
        nn_q_range(out[0]->dtype, &lo, &hi);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            const int64_t o = i * N + j;
            const int64_t v = (int64_t)acc[o] + (c ? ((const int32_t *)c->data)[c_index(c, i, j)] : 0);
            if (ys)
                nn_q_put(out[0], o, nn_requant((float)v * m[j], zy, lo, hi));
            else
                ((float *)out[0]->data)[o] = (float)v * m[j];
        }
done:
    cim__free(g->ctx, ab);
    cim__free(g->ctx, bb);
    cim__free(g->ctx, zw);
    cim__free(g->ctx, m);
    cim__free(g->ctx, acc);
    return st;
}
