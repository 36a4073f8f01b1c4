/* cimsim/cimsim.h: the whole public API of libcimsim.
 *
 *   status.h  status codes
 *   ctx.h     the context: allocator, errors, threads, kernel choice
 *   config.h  crossbar architecture configs, presets, YAML loading
 *   layer.h   programming weights into crossbars and running vectors
 *   stats.h   the counters of a run and the layer mapping, JSON output
 *   npy.h     reading and writing .npy tensors
 *   net.h     quantized ONNX networks on simulated hardware (eval)
 *   cost.h    component models: ADC, crossbar, DAC, buffers, digital logic; energy and area
 *   workload.h network workloads as layer shapes (cimsim cost --workload)
 *
 * If a function is not declared in these headers, it is not public API.
 */
#ifndef CIMSIM_CIMSIM_H
#define CIMSIM_CIMSIM_H

#include "status.h"
#include "ctx.h"
#include "config.h"
#include "stats.h"
#include "layer.h"
#include "npy.h"
#include "net.h"
#include "compile.h"
#include "cost.h"
#include "workload.h"
#include "hw.h"

#endif
