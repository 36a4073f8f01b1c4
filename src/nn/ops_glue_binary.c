/* ops_glue_binary.c: broadcasting (numpy, multidirectional) binary operators
 * Add, Sub, Mul, Div, Pow, Equal, and the three-way Where.
 *
 * Arithmetic on float32 is float32; on integers (uint8, int8, int32, int64)
 * it wraps around as two's complement (computed unsigned, so never undefined
 * in C). Integer Div truncates toward zero (ONNX's reference: numpy's true
 * division cast back to the integer type; C++ runtimes: integer division);
 * an integer division by zero is CIM_ERR_RANGE. */
#include <math.h>
#include <string.h>
#include "ops_glue.h"

typedef enum bop { B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_EQUAL } bop;

/* Shared infer: A and B of one dtype in `allowed` (Pow: B may differ), Y
 * broadcast; Equal's Y is bool. */
static cim_status binary_infer(nn_graph *g, const nn_node *n, bop op, unsigned allowed)
{
    const nn_value *a, *b;
    nn_value *y;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "A", &a)) || (st = glue_need_in(g, n, 1, "B", &b)) ||
        (st = glue_need_out(g, n, &y)) || (st = glue_dtype(g, n, "input A", a->dtype, allowed)) ||
        (st = glue_dtype(g, n, "input B", b->dtype, op == B_POW ? GLUE_NUM : allowed)))
        return st;
    if (op != B_POW && a->dtype != b->dtype)
        return nn_err(g, n, CIM_ERR_SHAPE, "inputs A (%s) and B (%s) have different data types",
                      nn_dtype_name(a->dtype), nn_dtype_name(b->dtype));
    y->dtype = op == B_EQUAL ? NN_BOOL : a->dtype;
    return nn_broadcast_shape(g, n, a, b, y);
}

typedef struct bin_ctx {
    bop op;
    const nn_value *a, *b;
    void *y;
    int divzero;
} bin_ctx;

/* Row loops: T the element type, UT its unsigned twin for wrapping arithmetic. */
#define ARITH(T, UT)                                                                            \
    {                                                                                           \
        const T *a = (const T *)c->a->data + off[0], *b = (const T *)c->b->data + off[1];       \
        T *y = (T *)c->y + o;                                                                   \
        const int64_t sa = ist[0], sb = ist[1];                                                 \
        switch (c->op) {                                                                        \
        case B_ADD: for (int64_t i = 0; i < n; i++) y[i] = (T)((UT)a[i * sa] + (UT)b[i * sb]); break; \
        case B_SUB: for (int64_t i = 0; i < n; i++) y[i] = (T)((UT)a[i * sa] - (UT)b[i * sb]); break; \
        case B_MUL: for (int64_t i = 0; i < n; i++) y[i] = (T)((UT)a[i * sa] * (UT)b[i * sb]); break; \
        default: /* B_DIV */                                                                    \
            for (int64_t i = 0; i < n; i++) {                                                   \
                const int64_t num = a[i * sa], den = b[i * sb];                                 \
                if (den == 0)                                                                   \
                    c->divzero = 1, y[i] = 0;                                                   \
                else if (den == -1) /* INT64_MIN / -1 overflows: wrap */                        \
                    y[i] = (T)(UT)(0u - (uint64_t)num);                                         \
                else                                                                            \
                    y[i] = (T)(num / den);                                                      \
            }                                                                                   \
            break;                                                                              \
        }                                                                                       \
    }

static void arith_row(void *ud, int64_t o, const int64_t *off, int64_t n, const int64_t *ist)
{
    bin_ctx *c = ud;
    switch (c->a->dtype) {
    case NN_FLOAT: {
        const float *a = (const float *)c->a->data + off[0], *b = (const float *)c->b->data + off[1];
        float *y = (float *)c->y + o;
        const int64_t sa = ist[0], sb = ist[1];
        switch (c->op) {
        case B_ADD: for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] + b[i * sb]; break;
        case B_SUB: for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] - b[i * sb]; break;
        case B_MUL: for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] * b[i * sb]; break;
        default: for (int64_t i = 0; i < n; i++) y[i] = a[i * sa] / b[i * sb]; break;
        }
        break;
    }
    case NN_UINT8: ARITH(uint8_t, uint8_t) break;
    case NN_INT8: ARITH(int8_t, uint8_t) break;
    case NN_INT32: ARITH(int32_t, uint32_t) break;
    default: ARITH(int64_t, uint64_t) break;
    }
}
#undef ARITH

/* Pow: Y has A's dtype. A float: powf for a float exponent, else pow in
 * double (as C++ std::pow(float, int) promotes); A integer: exact repeated
 * squaring (wrapping) for a non-negative integer exponent, else pow in double
 * truncated toward zero. */
static int64_t ipow(int64_t base, int64_t e)
{
    uint64_t r = 1, b = (uint64_t)base;
    for (; e > 0; e >>= 1) {
        if (e & 1)
            r *= b;
        b *= b;
    }
    return (int64_t)r;
}

static void pow_row(void *ud, int64_t o, const int64_t *off, int64_t n, const int64_t *ist)
{
    bin_ctx *c = ud;
    const int fexp = c->b->dtype == NN_FLOAT;
    for (int64_t i = 0; i < n; i++) {
        const int64_t ia = off[0] + i * ist[0], ib = off[1] + i * ist[1];
        if (c->a->dtype == NN_FLOAT) {
            const float x = ((const float *)c->a->data)[ia];
            ((float *)c->y)[o + i] = fexp ? powf(x, ((const float *)c->b->data)[ib])
                                          : (float)pow(x, glue_get_f64(c->b, ib));
            continue;
        }
        int64_t r;
        if (!fexp && glue_get_i64(c->b, ib) >= 0) {
            r = ipow(glue_get_i64(c->a, ia), glue_get_i64(c->b, ib));
        } else {
            double d = trunc(pow(glue_get_f64(c->a, ia), glue_get_f64(c->b, ib)));
            r = isnan(d) ? 0 : d >= 9.2233720368547758e18 ? INT64_MAX : d <= -9.2233720368547758e18 ? INT64_MIN
                                                                                                      : (int64_t)d;
        }
        if (c->a->dtype == NN_INT32)
            ((int32_t *)c->y)[o + i] = (int32_t)(uint32_t)(uint64_t)r;
        else
            ((int64_t *)c->y)[o + i] = r;
    }
}

static void equal_row(void *ud, int64_t o, const int64_t *off, int64_t n, const int64_t *ist)
{
    bin_ctx *c = ud;
    uint8_t *y = (uint8_t *)c->y + o;
    switch (c->a->dtype) {
#define EQ(DT, T)                                                                                  \
    case DT: {                                                                                     \
        const T *a = (const T *)c->a->data + off[0], *b = (const T *)c->b->data + off[1];         \
        for (int64_t i = 0; i < n; i++)                                                            \
            y[i] = a[i * ist[0]] == b[i * ist[1]];                                                 \
        break;                                                                                     \
    }
        EQ(NN_FLOAT, float)
        EQ(NN_INT32, int32_t)
        EQ(NN_INT64, int64_t)
        EQ(NN_INT8, int8_t)
    default: /* uint8, bool: bool values are 0 or 1 */
        EQ(NN_UINT8, uint8_t)
#undef EQ
    }
}

static cim_status binary_run(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *y, bop op)
{
    glue_bcast b;
    bin_ctx c = {op, in[0], in[1], y->data, 0};
    glue_bcast_plan(&b, y, in, 2);
    glue_bcast_each(&b, op == B_EQUAL ? equal_row : op == B_POW ? pow_row : arith_row, &c);
    if (c.divzero)
        return nn_err(g, n, CIM_ERR_RANGE, "integer division by zero");
    return CIM_OK;
}

#define BINARY(name, op, allowed)                                                                 \
    cim_status glue_infer_##name(nn_graph *g, const nn_node *n) { return binary_infer(g, n, op, allowed); } \
    cim_status glue_run_##name(const nn_graph *g, const nn_node *n, const nn_value *const *in,     \
                               nn_value *const *out)                                               \
    {                                                                                              \
        return binary_run(g, n, in, out[0], op);                                                   \
    }

BINARY(add, B_ADD, GLUE_NUM)
BINARY(sub, B_SUB, GLUE_NUM)
BINARY(mul, B_MUL, GLUE_NUM)
BINARY(div, B_DIV, GLUE_NUM)
BINARY(pow, B_POW, GLUE_F | GLUE_I32 | GLUE_I64)
BINARY(equal, B_EQUAL, GLUE_ALL)

/* ---- Where(condition, X, Y): bool condition, X and Y of one dtype, all three broadcast ---- */

cim_status glue_infer_where(nn_graph *g, const nn_node *n)
{
    const nn_value *c, *x, *y;
    nn_value *z, tmp;
    cim_status st;
    if ((st = glue_need_in(g, n, 0, "condition", &c)) || (st = glue_need_in(g, n, 1, "X", &x)) ||
        (st = glue_need_in(g, n, 2, "Y", &y)) || (st = glue_need_out(g, n, &z)))
        return st;
    if (c->dtype != NN_BOOL)
        return nn_err(g, n, CIM_ERR_SHAPE, "condition is %s, not bool", nn_dtype_name(c->dtype));
    if ((st = glue_dtype(g, n, "input X", x->dtype, GLUE_ALL)))
        return st;
    if (x->dtype != y->dtype)
        return nn_err(g, n, CIM_ERR_SHAPE, "inputs X (%s) and Y (%s) have different data types",
                      nn_dtype_name(x->dtype), nn_dtype_name(y->dtype));
    tmp.dtype = x->dtype;
    if ((st = nn_broadcast_shape(g, n, c, x, &tmp)))
        return st;
    z->dtype = x->dtype;
    return nn_broadcast_shape(g, n, &tmp, y, z);
}

typedef struct where_ctx {
    const uint8_t *c;
    const char *x, *y;
    char *z;
    size_t es;
} where_ctx;

static void where_row(void *ud, int64_t o, const int64_t *off, int64_t n, const int64_t *ist)
{
    const where_ctx *w = ud;
    for (int64_t i = 0; i < n; i++) {
        const int64_t ic = off[0] + i * ist[0];
        const char *src = w->c[ic] ? w->x + (size_t)(off[1] + i * ist[1]) * w->es
                                   : w->y + (size_t)(off[2] + i * ist[2]) * w->es;
        memcpy(w->z + (size_t)(o + i) * w->es, src, w->es);
    }
}

cim_status glue_run_where(const nn_graph *g, const nn_node *n, const nn_value *const *in, nn_value *const *out)
{
    (void)g;
    (void)n;
    glue_bcast b;
    where_ctx w = {in[0]->data, in[1]->data, in[2]->data, out[0]->data, nn_dtype_size(out[0]->dtype)};
    glue_bcast_plan(&b, out[0], in, 3);
    glue_bcast_each(&b, where_row, &w);
    return CIM_OK;
}
