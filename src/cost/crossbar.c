/* crossbar.c: the data-dependent read energy of resistive crossbars (G V^2 t
 * per device per pulse, from the counters of a run) and cell areas. */
#include <math.h>
#include "cost_internal.h"

static cim_status check_device(cim_ctx *ctx, const cim_device *d, int cell_bits)
{
    if (!d)
        return cim__err(ctx, CIM_ERR_ARG, "crossbar: NULL device");
    if (cell_bits < 1 || cell_bits > 8)
        return cim__err(ctx, CIM_ERR_RANGE, "crossbar: cell_bits %d is not in 1..8", cell_bits);
    if (!(d->r_on_ohm > 0) || !(d->r_off_ohm > d->r_on_ohm) || !(d->read_v > 0) || !(d->pulse_ns > 0))
        return cim__err(ctx, CIM_ERR_CONFIG, "crossbar: device '%s' needs 0 < r_on_ohm < r_off_ohm, read_v > 0, "
                        "pulse_ns > 0", d->name ? d->name : "?");
    return CIM_OK;
}

cim_status cim_device_conductance(cim_ctx *ctx, const cim_device *d, int cell_bits, int level, double *g_s)
{
    cim_status st = check_device(ctx, d, cell_bits);
    if (st)
        return st;
    int top = (1 << cell_bits) - 1;
    if (!g_s || level < 0 || level > top)
        return cim__err(ctx, CIM_ERR_RANGE, "crossbar: level %d is not in 0..%d", level, top);
    double g_off = 1.0 / d->r_off_ohm, g_on = 1.0 / d->r_on_ohm;
    *g_s = g_off + level * (g_on - g_off) / top;
    return CIM_OK;
}

cim_status cim_crossbar_read_energy(cim_ctx *ctx, const cim_device *d, int cell_bits, double device_activations,
                                    double device_pulses, double *energy_pj)
{
    cim_status st = check_device(ctx, d, cell_bits);
    if (st)
        return st;
    if (!energy_pj)
        return cim__err(ctx, CIM_ERR_ARG, "crossbar: NULL argument");
    if (!(device_activations >= 0) || !(device_pulses >= 0) || !isfinite(device_activations) ||
        !isfinite(device_pulses))
        return cim__err(ctx, CIM_ERR_RANGE, "crossbar: counts must be finite and >= 0 (activations %g, pulses %g)",
                        device_activations, device_pulses);
    double g_off = 1.0 / d->r_off_ohm, g_on = 1.0 / d->r_on_ohm;
    double g_lsb = (g_on - g_off) / ((1 << cell_bits) - 1);
    double v2t = d->read_v * d->read_v * d->pulse_ns * 1e-9; /* V^2 s: G V^2 t in joules per siemens */
    *energy_pj = v2t * (g_off * device_pulses + g_lsb * device_activations) * 1e12;
    return CIM_OK;
}

double cim_crossbar_device_pulses(const cim_stats *s, const cim_layer_info *info)
{
    if (!s || !info || info->rows_used == 0)
        return 0.0;
    return (double)s->dac_pulses * ((double)info->devices / (double)info->rows_used);
}

int cim_cell_devices(cim_encoding e) { return e == CIM_ENC_OFFSET ? 1 : 2; }

cim_status cim_cell_area(cim_ctx *ctx, const cim_device *d, cim_encoding e, double node_nm, double *area_um2)
{
    if (!d || !area_um2)
        return cim__err(ctx, CIM_ERR_ARG, "crossbar: NULL argument");
    if (e != CIM_ENC_OFFSET && e != CIM_ENC_DIFFERENTIAL && e != CIM_ENC_CENTER_OFFSET)
        return cim__err(ctx, CIM_ERR_ARG, "crossbar: unknown encoding %d", (int)e);
    double s = node_nm > 0 ? (node_nm / d->node_nm) * (node_nm / d->node_nm) : 1.0;
    *area_um2 = d->cell_area_um2 * cim_cell_devices(e) * s;
    return CIM_OK;
}
