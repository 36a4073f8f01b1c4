/* layer_internal.h: a programmed layer, shared by program.c, run.c and adc.c. */
#ifndef CIMSIM_LAYER_INTERNAL_H
#define CIMSIM_LAYER_INTERNAL_H

#include "internal.h"

/* One slice of an 8-bit operand: bits lo .. lo+width-1 (semantics.md sections 2-3). */
typedef struct {
    int lo, width;
} cim_slice;

static inline int cim__slice_val(int a, cim_slice s) { return (a >> s.lo) & ((1 << s.width) - 1); }

/* A recovery sub-slice (dynamic input slicing): which speculative slice it
 * refines and its bits. */
typedef struct {
    int spec;       /* index of the speculative slice it belongs to */
    int index;      /* position inside that slice (0 = most significant) */
    cim_slice bits;
} cim_recovery_slice;

/* Weight-slice values are stored as int8 "parts" for the kernels. A slice of
 * up to 7 bits is one part; an 8-bit slice (|v| up to 255) is two parts,
 * v = 16 * hi + lo, and its column sum is recombined exactly as 16 * S_hi + S_lo. */
#define CIM_MAX_PARTS (2 * CIM_MAX_SLICES)

struct cim_layer {
    cim_xbar_config cfg;
    cim_input_encoding in_enc;
    uint32_t layer_id;
    int K, N, Np;
    int nchunks;
    int kp_total;             /* sum of padded chunk depths: row length of input planes */
    int *chunk_k0;            /* [nchunks+1]: first row of each chunk, then K */
    int *chunk_off;           /* [nchunks]: offset of each chunk inside a padded input row */
    int *chunk_kp;            /* [nchunks]: padded depth (multiple of 64) */

    int nws;                  /* weight slices */
    cim_slice ws[CIM_MAX_SLICES];
    int part_first[CIM_MAX_SLICES]; /* first part of slice i */
    int part_count[CIM_MAX_SLICES]; /* 1 or 2 */
    int nparts;

    int nis;                  /* static or speculative input slices */
    cim_slice is[CIM_MAX_SLICES];
    int nrec;                 /* recovery sub-slices (all of them, in order) */
    cim_recovery_slice rec[CIM_OPERAND_BITS];
    int rec_first[CIM_MAX_SLICES]; /* first recovery sub-slice of speculative slice j */
    int rec_count[CIM_MAX_SLICES]; /* 0 when the slice is not wider than recovery_bits */

    /* Packed weights: for chunk c, part p: Bp + bp_off[c] + p * bp_stride[c]
     * (kernel.h "p16k4" layout, Kp = chunk_kp[c], Np). Babs: same for |v|. */
    int8_t *Bp, *Babs;
    size_t *bp_off, *bp_stride;
    /* Column-major copies for recovery dot products: chunk c, part p, column n at
     * Bc + bp_off[c] + p * bp_stride[c] + n * chunk_kp[c]. */
    int8_t *Bc, *Bcabs;

    uint8_t *flip;            /* [nchunks][nws][N]: 1 if the column is stored complemented */
    int64_t *sum_pos, *sum_neg; /* [nchunks][nws]: the largest column sums of the stored
                               * positive values and of the negated negative ones */
    int16_t *centers;         /* [nchunks][N] center_offset centers, else NULL */
    int64_t *colconst;        /* [N]: -zx * sum_k w' (unsigned input encoding) */
    uint64_t *rowlevel;       /* [K]: sum of stored device levels on row k, all columns */
    int16_t *wprime;          /* [K][N]: w - zw, for the exact path */
    int xbars_per_chunk;      /* crossbars that one chunk's columns occupy */
    struct cim_phys *phys;    /* the physical models' static arrays (phys.h); NULL when they are off */
    struct cim_qtab *qtab;    /* gaussian_colsum's ADC-output draw (qnoise.h), or NULL: Box-Muller normals */
    uint8_t *qinr;            /* with qtab, [nchunks][nws][nis]: 1 if every draw of that slice pair
                               * lands in the ADC's code range (cim__qtab_in_range): no clamp */
    cim_layer_info info;
};

#endif
