/* adc_model.c: ADC energy and area. The equations of Andrulis et al. 2024
 * ("Modeling Analog-Digital-Converter Energy and Area for Compute-In-Memory
 * Accelerator Design", fitted to Murmann's ADC survey), re-implemented from
 * the equations as issue 5 states them; the thermal-noise floor 8 kT SNR;
 * the survey's best-design envelope; published parts scaled by resolution
 * and node. */
#include <math.h>
#include <string.h>
#include "cost_internal.h"

#define BOLTZMANN_J_PER_K 1.380649e-23 /* exact (SI 2019) */

static int bad(double v, double lo, double hi) { return !isfinite(v) || v < lo || v > hi; }

static cim_status check_andrulis(cim_ctx *ctx, double node_nm, double rate_hz)
{
    if (bad(node_nm, 1, 1000))
        return cim__err(ctx, CIM_ERR_RANGE, "ADC model: node %g nm is not in 1..1000", node_nm);
    if (bad(rate_hz, 1e3, 1e12))
        return cim__err(ctx, CIM_ERR_RANGE, "ADC model: rate %g conversions/s is not in 1e3..1e12", rate_hz);
    return CIM_OK;
}

cim_status cim_adc_andrulis_area(cim_ctx *ctx, double node_nm, double rate_hz, double energy_pj, double *area_um2)
{
    if (!area_um2)
        return cim__err(ctx, CIM_ERR_ARG, "ADC model: NULL argument");
    cim_status st = check_andrulis(ctx, node_nm, rate_hz);
    if (st)
        return st;
    if (!isfinite(energy_pj) || energy_pj <= 0)
        return cim__err(ctx, CIM_ERR_RANGE, "ADC model: energy %g pJ must be > 0", energy_pj);
    /* Andrulis et al. 2024, ADC area regression */
    *area_um2 = exp(1.346192 + 0.993279 * log(node_nm) + 0.180715 * log(rate_hz) + 0.299124 * log(energy_pj));
    return CIM_OK;
}

cim_status cim_adc_andrulis(cim_ctx *ctx, double bits, double node_nm, double rate_hz, cim_adc_estimate *out)
{
    if (!out)
        return cim__err(ctx, CIM_ERR_ARG, "ADC model: NULL argument");
    if (bad(bits, 1, CIM_MAX_ADC_BITS))
        return cim__err(ctx, CIM_ERR_RANGE, "ADC model: %g bits is not in 1..%d", bits, CIM_MAX_ADC_BITS);
    cim_status st = check_andrulis(ctx, node_nm, rate_hz);
    if (st)
        return st;
    /* Andrulis et al. 2024, ADC energy: the survey's best FOM is limited by
     * the rate (first term) or by the resolution (second). */
    double fom_db = fmin(213.7807 - 2.87190 * log(rate_hz), 128.3068 + 3.22051 * ceil(bits));
    double sndr_db = 6.0206 * bits + 1.7609;
    double e0 = 1.0 / (2.0 * pow(10.0, (fom_db - sndr_db) / 10.0));
    out->energy_pj = e0 * exp(26.04962 + 1.880037 * log(node_nm) - 2.829126 * log(bits) - 1.470202);
    return cim_adc_andrulis_area(ctx, node_nm, rate_hz, out->energy_pj, &out->area_um2);
}

cim_status cim_adc_thermal_floor(cim_ctx *ctx, double bits, double temp_k, double *energy_pj)
{
    if (!energy_pj)
        return cim__err(ctx, CIM_ERR_ARG, "ADC floor: NULL argument");
    if (bad(bits, 1, 32))
        return cim__err(ctx, CIM_ERR_RANGE, "ADC floor: %g bits is not in 1..32", bits);
    if (!isfinite(temp_k) || temp_k <= 0)
        return cim__err(ctx, CIM_ERR_RANGE, "ADC floor: temperature %g K must be > 0", temp_k);
    double snr = pow(10.0, (6.02 * bits + 1.76) / 10.0); /* ideal B-bit quantizer, full-scale sine */
    *energy_pj = 8.0 * BOLTZMANN_J_PER_K * temp_k * snr * 1e12;
    return CIM_OK;
}

cim_status cim_adc_envelope(cim_ctx *ctx, double enob, double *energy_pj)
{
    if (!energy_pj)
        return cim__err(ctx, CIM_ERR_ARG, "ADC envelope: NULL argument");
    if (bad(enob, 1, 32))
        return cim__err(ctx, CIM_ERR_RANGE, "ADC envelope: ENOB %g is not in 1..32", enob);
    /* Murmann's survey, best designs: 0.27 pJ + 0.145 aJ * 4^ENOB (issue 5) */
    *energy_pj = 0.27 + 0.145e-6 * pow(4.0, enob);
    return CIM_OK;
}

cim_status cim_adc_compare(cim_ctx *ctx, double bits, double enob, double energy_pj, double temp_k,
                           cim_adc_bounds *out)
{
    if (!out)
        return cim__err(ctx, CIM_ERR_ARG, "ADC compare: NULL argument");
    if (!isfinite(energy_pj) || energy_pj <= 0)
        return cim__err(ctx, CIM_ERR_RANGE, "ADC compare: energy %g pJ must be > 0", energy_pj);
    if (!(enob <= bits))
        return cim__err(ctx, CIM_ERR_RANGE, "ADC compare: ENOB %g exceeds the resolution %g bits", enob, bits);
    cim_status st = cim_adc_thermal_floor(ctx, bits, temp_k, &out->floor_pj);
    if (!st)
        st = cim_adc_envelope(ctx, enob, &out->envelope_pj);
    if (st)
        return st;
    out->energy_pj = energy_pj;
    out->x_floor = energy_pj / out->floor_pj;
    out->x_envelope = energy_pj / out->envelope_pj;
    return CIM_OK;
}

cim_status cim_adc_part(cim_ctx *ctx, const cim_components *lib, const cim_component *part, double bits,
                        double node_nm, cim_adc_estimate *out)
{
    if (!lib || !part || !out)
        return cim__err(ctx, CIM_ERR_ARG, "ADC part: NULL argument");
    if (part->bits <= 0 || isnan(part->energy_pj))
        return cim__err(ctx, CIM_ERR_CONFIG, "%s:%d: component '%s' is not an ADC part (needs bits and energy_pj)",
                        part->file, part->line, part->name);
    if (bad(bits, 1, CIM_MAX_ADC_BITS))
        return cim__err(ctx, CIM_ERR_RANGE, "ADC part '%s': %g bits is not in 1..%d", part->name, bits,
                        CIM_MAX_ADC_BITS);
    double e = NAN, a = NAN;
    for (int i = 0; i < part->n_by_bits; i++)
        if ((double)part->by_bits[i] == bits) {
            e = part->by_bits_energy_pj[i];
            a = part->by_bits_area_um2[i];
        }
    if (isnan(e)) {
        if (bits != part->bits && (isnan(part->energy_per_bit) || isnan(part->area_per_bit)))
            return cim__err(ctx, CIM_ERR_CONFIG,
                            "%s:%d: ADC part '%s' has %d bits and no energy_per_bit/area_per_bit to reach %g bits",
                            part->file, part->line, part->name, part->bits, bits);
        double d = bits - part->bits;
        e = part->energy_pj * (d != 0 ? pow(part->energy_per_bit, d) : 1.0);
        a = part->area_um2 * (d != 0 ? pow(part->area_per_bit, d) : 1.0);
    }
    double fe = 1, fa = 1;
    if (node_nm > 0 && node_nm != part->node_nm) {
        cim_status st = cim_tech_scale(ctx, lib, part->node_nm, NAN, node_nm, &fe, &fa);
        if (st)
            return st;
    }
    out->energy_pj = e * fe;
    out->area_um2 = a * fa;
    return CIM_OK;
}

static const char *const model_names[] = {"andrulis", "part", "envelope", "floor"};

const char *cim_adc_model_name(cim_adc_model m)
{
    return (unsigned)m < 4 ? model_names[m] : "?";
}

cim_status cim_adc_model_parse(cim_ctx *ctx, const char *name, cim_adc_model *out)
{
    for (int i = 0; name && out && i < 4; i++)
        if (strcmp(name, model_names[i]) == 0) {
            *out = (cim_adc_model)i;
            return CIM_OK;
        }
    return cim__err(ctx, CIM_ERR_CONFIG, "ADC model '%s' is not one of: andrulis, part, envelope, floor",
                    name ? name : "(null)");
}

cim_status cim_adc_estimate_spec(cim_ctx *ctx, const cim_components *lib, const cim_adc_spec *spec,
                                 cim_adc_estimate *out)
{
    if (!spec || !out)
        return cim__err(ctx, CIM_ERR_ARG, "ADC model: NULL argument");
    cim_status st;
    switch (spec->model) {
    case CIM_ADC_MODEL_ANDRULIS:
        return cim_adc_andrulis(ctx, spec->bits, spec->node_nm, spec->rate_hz, out);
    case CIM_ADC_MODEL_PART: {
        const cim_component *c;
        if (!lib || !spec->part)
            return cim__err(ctx, CIM_ERR_ARG, "ADC model 'part': needs a component library and a part name");
        st = cim_components_get(ctx, lib, spec->part, &c);
        return st ? st : cim_adc_part(ctx, lib, c, spec->bits, spec->node_nm, out);
    }
    case CIM_ADC_MODEL_ENVELOPE:
        st = cim_adc_envelope(ctx, spec->bits, &out->energy_pj);
        break;
    case CIM_ADC_MODEL_FLOOR:
        st = cim_adc_thermal_floor(ctx, spec->bits, 300.0, &out->energy_pj);
        break;
    default:
        return cim__err(ctx, CIM_ERR_ARG, "ADC model: unknown model %d", (int)spec->model);
    }
    return st ? st : cim_adc_andrulis_area(ctx, spec->node_nm, spec->rate_hz, out->energy_pj, &out->area_um2);
}
