/* cimsim/status.h: status codes shared by every libcimsim call.
 *
 * Every fallible function returns a cim_status. CIM_OK is zero; everything else
 * is an error, and the context that was passed in (cim_ctx_errmsg) holds a
 * message naming the file, field or argument that was wrong. The library never
 * aborts or exits on bad input. Values are append-only: never renumber.
 */
#ifndef CIMSIM_STATUS_H
#define CIMSIM_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum cim_status {
    CIM_OK = 0,
    CIM_ERR_NOMEM = 1,       /* an allocation failed */
    CIM_ERR_ARG = 2,         /* a NULL pointer, a negative size, an API misuse */
    CIM_ERR_CONFIG = 3,      /* an architecture config field is invalid */
    CIM_ERR_IO = 4,          /* a file could not be opened, read or written */
    CIM_ERR_FORMAT = 5,      /* a file is malformed (bad header, truncated, ...) */
    CIM_ERR_SHAPE = 6,       /* tensor shapes or dtypes do not match */
    CIM_ERR_RANGE = 7,       /* a value does not fit (weight encoding, int32 psum) */
    CIM_ERR_UNSUPPORTED = 8, /* valid input that this build cannot run */
    CIM_ERR_INTERNAL = 9     /* a bug: please report */
} cim_status;

/* A short constant description of a status code ("out of memory", ...). */
const char *cim_status_str(cim_status s);

#ifdef __cplusplus
}
#endif
#endif
