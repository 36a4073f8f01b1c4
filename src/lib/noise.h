/* noise.h: counter-based Gaussian noise for column sums (semantics.md section 8).
 *
 * Philox4x32-10 (Random123; Salmon et al., SC'11) maps a counter built from
 * (vector, channel / 4, chunk, weight slice, input slice, phase, layer) and a
 * key (the 64-bit seed) to four 32-bit words; a Box-Muller transform turns them
 * into four standard normals, one for each of four consecutive channels (words
 * 0 and 2 give radii, 1 and 3 angles). So a column sum's noise depends only on
 * its identity and the seed, never on threads, batch split or kernel.
 *
 * Counter layout (bit fields, documented so results can be reproduced elsewhere):
 *   ctr[0] = vector bits 0..31
 *   ctr[1] = channel / 4 (static and speculative slices), channel (recovery)
 *   ctr[2] = vector bits 32..47 | chunk << 16                 (chunk < 65536)
 *   ctr[3] = islice | wslice << 12 | phase << 16 | layer << 17 (islice < 4096,
 *            wslice < 16, phase < 2, layer < 32768)
 * islice is the static/speculative input slice j, or 0x100 | j << 4 | r / 4 for
 * recovery slice r of speculative slice j: one block serves a failed
 * conversion's recovery slices 4b .. 4b + 3 (words 0, 1 give slices 4b, 4b + 1;
 * words 2, 3 give 4b + 2, 4b + 3). Key = {seed bits 0..31, 32..63}. The
 * physical models' per-conversion normals (phys.h) use the same counters with
 * islice bit 0x800 set, a stream of their own; the ADC-output draw of
 * ISAAC-like layers (qnoise.h) uses islice bits 0x200 (its 16-bit uniforms)
 * and 0x400 (refinement words) instead of these normals.
 *
 * The transform (noise_impl.h) uses single-precision polynomials built from
 * +, -, *, / and sqrt only (correctly rounded in IEEE-754, compiled without FMA
 * contraction), so every build and ISA produces the same bits. Uniforms are
 * ((w >> 8) + 0.5) / 2^24, so the radius is at most sqrt(50 ln 2) = 5.9 sigma. */
#ifndef CIMSIM_NOISE_H
#define CIMSIM_NOISE_H

#include <stdint.h>

typedef struct cim_noise_key {
    uint64_t seed;
    uint32_t layer;
    uint64_t vector;  /* global vector index */
    uint32_t chunk;
    uint32_t wslice;
    uint32_t islice;  /* j, or 0x100 | j << 4 | r / 4 in recovery */
    uint32_t phase;
} cim_noise_key;

#endif
