/* phys.c: the static part of the physical models (phys.h, docs/analog.md):
 * every device's conductance after programming, drift, a static 1/f draw,
 * stuck cells and IR drop, folded into per-cell deviations D and per-read
 * variances V in level units, and the per-column ADC gain and offset. */
#include <math.h>
#include <string.h>
#include <omp.h>
#include "phys.h"
#include "irdrop.h"
#include "noise_impl.h"

/* Sources of static draws (counter word 2, bits 8..11): each its own words. */
enum { SRC_PROG = 1, SRC_PCM = 2, SRC_STUCK = 3, SRC_ADC = 4 };

#define BOLTZMANN 1.380649e-23 /* J/K (SI, exact) */

/* Philox4x32-10 on counter (c0..c3) under the static-draw key: the seed with
 * its high word tweaked, so static draws never share counters with the
 * per-conversion noise (noise.h) of the same seed. */
static void block(uint64_t seed, uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t o[4])
{
    o[0] = c0;
    o[1] = c1;
    o[2] = c2;
    o[3] = c3;
    cim_philox4x32_10(o, (uint32_t)seed, (uint32_t)(seed >> 32) ^ 0x5bd1e995u);
}

/* A standard normal from two words (Box-Muller, noise_impl.h's single
 * precision transform: the same bits everywhere). */
static double normal2(uint32_t wr, uint32_t wa)
{
    float c, s;
    cim_det_sincosf_turn(wa, &c, &s);
    return (double)(cim_det_radiusf(wr) * c);
}

/* A uniform in [0, 1) with 53 bits. */
static double uniform2(uint32_t hi, uint32_t lo)
{
    return (double)((((uint64_t)hi << 32) | lo) >> 11) * 0x1p-53;
}

static double clampd(double x, double lo, double hi) { return x < lo ? lo : (x > hi ? hi : x); }

void cim__phys_device(const cim_analog_config *a, int cell_bits, uint64_t seed, uint32_t layer, int k, int n, int i,
                      int dev, int level, cim_phys_device *out)
{
    const double smax = (double)((1 << cell_bits) - 1), gon = a->g_on_us, goff = a->g_off_us;
    const uint32_t c2 = (uint32_t)(i & 0xf) | (uint32_t)(dev & 1) << 4;
    uint32_t o[4] = {0, 0, 0, 0};
    double g = goff + (double)level / smax * (gon - goff);
    memset(out, 0, sizeof *out);
    out->g_target = g;
    /* programming: additive and relative error, aihwkit's PCM programming noise */
    if (a->prog_sigma_us > 0.0 || a->prog_sigma_rel > 0.0 || a->pcm_prog_noise) {
        block(seed, (uint32_t)k, (uint32_t)n, c2 | SRC_PROG << 8, layer, o);
        double s2 = a->prog_sigma_us * a->prog_sigma_us + (a->prog_sigma_rel * g) * (a->prog_sigma_rel * g);
        if (s2 > 0.0)
            g += sqrt(s2) * normal2(o[0], o[1]);
        if (a->pcm_prog_noise) { /* sigma(g) in uS at Gmax 25 uS, scaled to g_on (PCMLikeNoiseModel) */
            double gr = out->g_target / gon;
            double sig = (0.26348 + 1.9650 * gr - 1.1731 * gr * gr) * (gon / 25.0);
            g += sig * normal2(o[2], o[3]);
        }
        if (g < 0.0)
            g = 0.0;
    }
    out->g_prog = g;
    /* PCM drift G(t) = G_prog (t/t0)^-nu, nu ~ |N(mu(g), sigma(g))| (Nandakumar 2019) */
    const double t = a->t_inference_s;
    if (a->pcm_drift || a->pcm_read_noise != CIM_PCM_READ_OFF)
        block(seed, (uint32_t)k, (uint32_t)n, c2 | SRC_PCM << 8, layer, o);
    if (a->pcm_drift) {
        double gr = fmax(out->g_target / gon, 1e-7), lg = log(gr);
        double mu = clampd(-0.0155 * lg + 0.0244, 0.049, 0.1), sg = clampd(-0.0125 * lg - 0.0059, 0.008, 0.045);
        out->nu = fabs(mu + sg * normal2(o[0], o[1]));
        if (t > a->t0_s)
            g *= pow(t / a->t0_s, -out->nu);
    }
    out->g_drift = g;
    /* PCM 1/f read noise relative to G(t): sigma_n = min(0.0088 / g^0.65, 0.2) sqrt(ln((t + t_r) / (2 t_r))) */
    double sig_n = 0.0;
    if (a->pcm_read_noise != CIM_PCM_READ_OFF) {
        double gp = fabs(out->g_prog) / gon, tr = a->t_read_ns * 1e-9;
        double q = fmin(0.0088 / fmax(pow(gp, 0.65), 1e-3), 0.2), arg = (t + tr) / (2.0 * tr);
        sig_n = arg > 1.0 ? q * sqrt(log(arg)) : 0.0;
    }
    if (a->pcm_read_noise == CIM_PCM_READ_STATIC && sig_n > 0.0) {
        g += fabs(g) * sig_n * normal2(o[2], o[3]);
        if (g < 0.0)
            g = 0.0;
    }
    /* stuck cells hold G_on or G_off whatever was programmed */
    if (a->stuck_on > 0.0 || a->stuck_off > 0.0) {
        block(seed, (uint32_t)k, (uint32_t)n, c2 | SRC_STUCK << 8, layer, o);
        double u = uniform2(o[0], o[1]);
        if (u < a->stuck_on) {
            g = gon;
            out->stuck = 1;
        } else if (u < a->stuck_on + a->stuck_off) {
            g = goff;
            out->stuck = 2;
        }
    }
    out->g_final = g;
    double rn = a->read_noise_rel * g, pr = a->pcm_read_noise == CIM_PCM_READ_PER_READ ? sig_n * g : 0.0;
    out->var_read = rn * rn + a->read_noise_us * a->read_noise_us + pr * pr;
}

void cim__phys_adc(const cim_analog_config *a, uint64_t seed, uint32_t layer, int c, int xbar, int adc,
                   double *offset_lsb, double *gain)
{
    uint32_t o[4];
    *offset_lsb = 0.0;
    *gain = 0.0;
    if (a->adc_offset_lsb <= 0.0 && a->adc_gain_sigma <= 0.0)
        return;
    block(seed, (uint32_t)adc, (uint32_t)xbar, (uint32_t)SRC_ADC << 8 | (uint32_t)c << 12, layer, o);
    if (a->adc_offset_lsb > 0.0)
        *offset_lsb = a->adc_offset_lsb * normal2(o[0], o[1]);
    if (a->adc_gain_sigma > 0.0)
        *gain = a->adc_gain_sigma * normal2(o[2], o[3]);
}

void cim__phys_adc_of(const cim_layer *L, int n, int i, int *xbar, int *adc)
{
    const int fpc = L->cfg.cols / L->nws, apc = L->cfg.analog.adcs_per_crossbar;
    const int col = (n % fpc) * L->nws + i;
    *xbar = n / fpc;
    *adc = apc > 0 ? col % apc : col;
}

void cim__phys_free(cim_ctx *ctx, cim_phys *P)
{
    if (!P)
        return;
    cim__free(ctx, P->D);
    cim__free(ctx, P->V);
    cim__free(ctx, P->gain);
    cim__free(ctx, P->off);
    cim__free(ctx, P->leak);
    cim__free(ctx, P);
}

/* The stored level of chunk c, weight slice i, row kk (inside the chunk), channel n. */
static int level_of(const cim_layer *L, int c, int i, int kk, int n)
{
    const size_t base = L->bp_off[c] + (size_t)n * (size_t)L->chunk_kp[c] + (size_t)kk;
    const int p0 = L->part_first[i];
    int v = L->Bc[base + (size_t)p0 * L->bp_stride[c]];
    if (L->part_count[i] == 2)
        v = 16 * v + L->Bc[base + (size_t)(p0 + 1) * L->bp_stride[c]];
    return v;
}

/* One column (chunk c, weight slice i, channel n): D, V (and the time IR
 * model's leak) of its cells; ref[0], ref[1]: its conductance sum before and
 * after drift (for the global drift compensation). scratch: 5 rows doubles. */
static void build_column(const cim_layer *L, cim_phys *P, int c, int i, int n, double *scratch, double ref[2])
{
    const cim_analog_config *a = &L->cfg.analog;
    const int k0 = L->chunk_k0[c], rows = L->chunk_k0[c + 1] - k0, K = L->K, N = L->N;
    const int pair = L->cfg.encoding != CIM_ENC_OFFSET;
    const double lu = P->lu_us, zl = !pair && a->zero_leak ? a->g_off_us : 0.0;
    const uint64_t seed = L->cfg.noise.seed;
    double *gp = scratch, *gm = scratch + rows, *dt = scratch + 2 * rows, *vr = scratch + 3 * rows,
           *wk = scratch + 4 * rows;
    ref[0] = ref[1] = 0.0;
    for (int kk = 0; kk < rows; kk++) {
        const int k = k0 + kk, v = level_of(L, c, i, kk, n);
        cim_phys_device dp, dm;
        cim__phys_device(a, L->cfg.cell_bits, seed, L->layer_id, k, n, i, 0, pair ? (v > 0 ? v : 0) : v, &dp);
        if (pair)
            cim__phys_device(a, L->cfg.cell_bits, seed, L->layer_id, k, n, i, 1, v < 0 ? -v : 0, &dm);
        else
            memset(&dm, 0, sizeof dm);
        ref[0] += dp.g_prog - (pair ? dm.g_prog : a->g_off_us);
        ref[1] += dp.g_drift - (pair ? dm.g_drift : a->g_off_us);
        gp[kk] = dp.g_final;
        gm[kk] = dm.g_final;
        dt[kk] = dp.g_target - dm.g_target;
        vr[kk] = (dp.var_read + dm.var_read) / (lu * lu);
    }
    const size_t cell0 = ((size_t)i * (size_t)K + (size_t)k0) * P->ld + (size_t)n;
    if (a->ir_drop != CIM_IR_NONE) {
        /* Luquin et al.'s column ladder. A row's Thevenin resistance is the same
         * idle or driven, so the ladder's transfer weight w_k on each cell's
         * current depends on the conductances only (irdrop.h, docs/irdrop.md):
         * both modes fold w_k into the cells, exactly. `time` adds the idle rows'
         * leak into a column held at v_col != v_idle over the conversion window;
         * `static` leaves it out (v_col = v_idle). */
        cim_ir_params p = {a->r_wire_ohm, a->v_col, a->v_idle, a->v_read, a->t_pulse_ns * 1e-9};
        for (int kk = 0; kk < rows; kk++) {
            gp[kk] *= 1e-6;
            gm[kk] *= 1e-6;
        }
        if (cim_ir_weights(&p, rows, gp, pair ? gm : NULL, wk))
            for (int kk = 0; kk < rows; kk++)
                wk[kk] = 1.0;
        double leak = 0.0;
        for (int kk = 0; kk < rows; kk++) {
            leak += wk[kk] * (gp[kk] + gm[kk]);
            gp[kk] = wk[kk] * gp[kk] * 1e6;
            gm[kk] = wk[kk] * gm[kk] * 1e6;
            vr[kk] *= wk[kk] * wk[kk];
        }
        if (a->ir_drop == CIM_IR_TIME)
            P->leak[((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)N + (size_t)n] =
                (float)(p.t_unit_s * (a->v_idle - a->v_col) * leak / P->q_lu);
    }
    for (int kk = 0; kk < rows; kk++) {
        const size_t at = cell0 + (size_t)kk * P->ld;
        if (P->D) /* exactly 0 when no model changed the conductances */
            P->D[at] = (float)(((gp[kk] - gm[kk]) - dt[kk] + zl) / lu);
        if (P->V)
            P->V[at] = (float)vr[kk];
    }
}

cim_status cim__phys_build(cim_ctx *ctx, cim_layer *L)
{
    const cim_analog_config *a = &L->cfg.analog;
    cim_phys *P = cim__calloc(ctx, 1, sizeof *P);
    if (!P)
        return CIM_ERR_NOMEM;
    L->phys = P;
    const int pair = L->cfg.encoding != CIM_ENC_OFFSET;
    const double smax = (double)((1 << L->cfg.cell_bits) - 1);
    P->lu_us = (a->g_on_us - a->g_off_us) / smax;
    P->q_lu = P->lu_us * 1e-6 * a->v_read * a->t_pulse_ns * 1e-9;
    P->square = a->drive != CIM_DRIVE_PULSE_COUNT;
    const double t_lsb = ldexp(1.0, L->cfg.adc.drop_lsbs);
    if (a->c_int_ff > 0.0) {
        double sq = sqrt(BOLTZMANN * a->temperature_k * a->c_int_ff * 1e-15) / P->q_lu;
        P->var_ktc = sq * sq;
    }
    P->var_adc = (a->adc_noise_lsb * t_lsb) * (a->adc_noise_lsb * t_lsb);
    const int has_v = a->read_noise_rel > 0.0 || a->read_noise_us > 0.0 || a->pcm_read_noise == CIM_PCM_READ_PER_READ;
    const int has_d = a->prog_sigma_us > 0.0 || a->prog_sigma_rel > 0.0 || a->pcm_prog_noise || a->stuck_on > 0.0 ||
                      a->stuck_off > 0.0 || a->pcm_drift || a->pcm_read_noise == CIM_PCM_READ_STATIC ||
                      (a->zero_leak && !pair) || a->ir_drop != CIM_IR_NONE;
    P->per_op = has_v || a->c_int_ff > 0.0 || a->adc_noise_lsb > 0.0;
    P->ld = cim__round_up((size_t)L->N, CIM_PHYS_NB); /* padded rows: the run's blocks read whole ones */
    const size_t cells = (size_t)L->nws * (size_t)L->K * P->ld;
    const size_t cols = (size_t)L->nchunks * (size_t)L->nws * (size_t)L->N;
    if (has_d && !(P->D = cim__calloc(ctx, cells, sizeof(float))))
        return CIM_ERR_NOMEM;
    if (has_v && !(P->V = cim__calloc(ctx, cells, sizeof(float))))
        return CIM_ERR_NOMEM;
    if (a->ir_drop == CIM_IR_TIME && !(P->leak = cim__calloc(ctx, cols, sizeof(float))))
        return CIM_ERR_NOMEM;
    P->gain = cim__calloc(ctx, cols, sizeof(float));
    P->off = cim__calloc(ctx, cols, sizeof(float));
    const int nt = ctx->threads > 0 ? ctx->threads : 1;
    const size_t per = 5 * (size_t)(L->cfg.rows < L->K ? L->cfg.rows : L->K);
    double *scratch = cim__calloc(ctx, (size_t)nt * per, sizeof(double));
    double *ref = cim__calloc(ctx, 2 * cols, sizeof(double));
    if (!P->gain || !P->off || !scratch || !ref) {
        cim__free(ctx, scratch);
        cim__free(ctx, ref);
        return CIM_ERR_NOMEM;
    }
    if (has_d || has_v || a->pcm_drift) {
        /* every column on its own (keyed draws: the same for any thread count) */
#pragma omp parallel for schedule(dynamic, 8) num_threads(nt)
        for (size_t idx = 0; idx < cols; idx++) {
            const int c = (int)(idx / ((size_t)L->nws * (size_t)L->N)), i = (int)(idx / (size_t)L->N % (size_t)L->nws),
                      n = (int)(idx % (size_t)L->N);
            build_column(L, P, c, i, n, scratch + (size_t)omp_get_thread_num() * per, ref + 2 * idx);
        }
    }
    /* aihwkit's global drift compensation: one gain for the layer, the
     * expected column conductance before drift over that after it (summed in a
     * fixed order) */
    P->drift_gain = 1.0;
    if (a->pcm_drift && a->drift_compensation) {
        double before = 0.0, after = 0.0;
        for (size_t idx = 0; idx < cols; idx++) {
            before += fabs(ref[2 * idx]);
            after += fabs(ref[2 * idx + 1]);
        }
        if (after > 0.0 && before > 0.0)
            P->drift_gain = before / after;
    }
    for (int c = 0; c < L->nchunks; c++)
        for (int i = 0; i < L->nws; i++)
            for (int n = 0; n < L->N; n++) {
                int xbar, adc;
                double off, gerr;
                cim__phys_adc_of(L, n, i, &xbar, &adc);
                cim__phys_adc(a, L->cfg.noise.seed, L->layer_id, c, xbar, adc, &off, &gerr);
                const size_t at = ((size_t)c * (size_t)L->nws + (size_t)i) * (size_t)L->N + (size_t)n;
                P->gain[at] = (float)(P->drift_gain * (1.0 + gerr));
                P->off[at] = (float)(off * t_lsb);
            }
    cim__free(ctx, scratch);
    cim__free(ctx, ref);
    return CIM_OK;
}
