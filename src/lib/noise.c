/* noise.c: counter-based Gaussian noise for column sums (semantics.md section 8).
 *
 * Philox4x32-10 (Salmon et al. 2011, Random123) maps a counter built from
 * (vector, channel / 4, chunk, weight slice, input slice, phase, layer) and a
 * key (the 64-bit seed) to four 32-bit words; a Box-Muller transform turns them
 * into four standard normals, one for each of four consecutive channels. So a
 * column sum's noise depends only on its identity and the seed, never on
 * threads, batch split or kernel.
 *
 * Counter layout (bit fields, documented so results can be reproduced elsewhere):
 *   ctr[0] = vector bits 0..31
 *   ctr[1] = channel / 4
 *   ctr[2] = vector bits 32..47 | chunk << 16               (chunk < 65536)
 *   ctr[3] = islice | wslice << 12 | phase << 16 | layer << 17 (islice < 4096,
 *            wslice < 16, phase < 2, layer < 32768)
 * islice is the static/speculative input slice j, or 0x100 | j << 4 | r for
 * recovery sub-slice r of speculative slice j.
 *
 * The generator itself is in noise_impl.h. The transcendental functions are our own polynomials built from +, -, *, /
 * and sqrt only (correctly rounded in IEEE-754, and compiled without FMA
 * contraction), so every build and ISA produces the same bits. Uniforms are
 * (w + 0.5) / 2^32, so the radius is at most sqrt(64 ln 2) = 6.66 sigma. */
#include "noise_impl.h"

void cim__noise_group(const cim_noise_key *k, uint32_t group, double z[4])
{
    cim_noise_groups_impl(k, group, 1, z);
}

void cim__noise_normals(const cim_noise_key *k, uint32_t n0, int count, double *z)
{
    cim_noise_row_impl(k, n0, count, z);
}

double cim__noise_normal(const cim_noise_key *k, uint32_t n)
{
    double g[4];
    cim_noise_groups_impl(k, n >> 2, 1, g);
    return g[n & 3u];
}
