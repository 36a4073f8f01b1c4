/* ops_glue.c: the glue operator table: elementwise, activation, shape
 * manipulation and normalization ops around the crossbar layers. The ops
 * themselves live in ops_glue_elem.c (unary), ops_glue_binary.c (broadcasting
 * binary ops, Where), ops_glue_shape.c (reshapes, Shape, Constant*, Range,
 * Cast), ops_glue_move.c (Transpose, Concat, Gather, Slice, Expand),
 * ops_glue_pad.c and ops_glue_norm.c (Softmax, LayerNormalization,
 * ReduceMean); helpers in ops_glue_util.c. */
#include "ops_glue.h"

#define OP(domain, name, fn) {domain, name, glue_infer_##fn, glue_run_##fn}

const nn_op nn_ops_glue[] = {
    OP("", "Relu", relu),
    OP("", "LeakyRelu", leakyrelu),
    OP("", "Sigmoid", sigmoid),
    OP("", "HardSigmoid", hardsigmoid),
    OP("", "HardSwish", hardswish),
    OP("", "Gelu", gelu),
    OP("com.microsoft", "Gelu", gelu),
    OP("", "Erf", erf),
    OP("", "Tanh", tanh),
    OP("", "Sqrt", sqrt),
    OP("", "Exp", exp),
    OP("", "Neg", neg),
    OP("", "Abs", abs),
    OP("", "Clip", clip),
    OP("", "Identity", identity),
    OP("", "Add", add),
    OP("", "Sub", sub),
    OP("", "Mul", mul),
    OP("", "Div", div),
    OP("", "Pow", pow),
    OP("", "Equal", equal),
    OP("", "Where", where),
    OP("", "Reshape", reshape),
    OP("", "Flatten", flatten),
    OP("", "Squeeze", squeeze),
    OP("", "Unsqueeze", unsqueeze),
    OP("", "Shape", shape),
    OP("", "Constant", constant),
    OP("", "ConstantOfShape", constantofshape),
    OP("", "Range", range),
    OP("", "Cast", cast),
    OP("", "Transpose", transpose),
    OP("", "Concat", concat),
    OP("", "Gather", gather),
    OP("", "Slice", slice),
    OP("", "Expand", expand),
    OP("", "Pad", pad),
    OP("", "Softmax", softmax),
    OP("", "LayerNormalization", layernorm),
    OP("", "ReduceMean", reducemean),
    {NULL, NULL, NULL, NULL},
};
