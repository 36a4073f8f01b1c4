/* noise.h: counter-based Gaussian noise (see noise.c for the key layout). */
#ifndef CIMSIM_NOISE_H
#define CIMSIM_NOISE_H

#include <stdint.h>

typedef struct cim_noise_key {
    uint64_t seed;
    uint32_t layer;
    uint64_t vector;  /* global vector index */
    uint32_t chunk;
    uint32_t wslice;
    uint32_t islice;  /* j, or 0x100 | j << 4 | r in recovery */
    uint32_t phase;
} cim_noise_key;

/* The four standard normals of channels 4*group .. 4*group+3. */
void cim__noise_group(const cim_noise_key *k, uint32_t group, double z[4]);

/* z[i] = the standard normal of channel n0 + i, for i < count. */
void cim__noise_normals(const cim_noise_key *k, uint32_t n0, int count, double *z);

/* The standard normal of channel n. */
double cim__noise_normal(const cim_noise_key *k, uint32_t n);

#endif
