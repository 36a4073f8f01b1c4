# embed.cmake: turn workloads/*.yaml into a C file of string literals (run at
# build time by the CMakeLists.txt block "bundled workloads"):
#
#   cmake -DWORKLOAD_DIR=<repo>/workloads -DOUT=<build>/gen/workloads.c -P embed.cmake
#
# The YAML files are the single source of the bundled workloads (written by
# tools/workloads/make_workloads.py); the library parses the embedded text
# with the same loader as any workload file (src/cost/workload.c). A
# workload's name is its file name without `.yaml`, in alphabetical order.
cmake_policy(VERSION 3.18)

if(NOT WORKLOAD_DIR OR NOT OUT)
  message(FATAL_ERROR "embed.cmake: give -DWORKLOAD_DIR=... -DOUT=...")
endif()
file(GLOB files RELATIVE ${WORKLOAD_DIR} ${WORKLOAD_DIR}/*.yaml)
list(SORT files)

set(c_names "")
set(c_text "")
foreach(f ${files})
  string(REGEX REPLACE "\\.yaml$" "" n "${f}")
  if(NOT n MATCHES "^[a-z0-9][a-z0-9.-]*$")
    message(FATAL_ERROR "workloads/${f}: a workload name is lower-case letters, digits, '-' and '.'")
  endif()
  file(READ ${WORKLOAD_DIR}/${f} s)
  # A C string literal, one source line per YAML line; `?` escaped so no trigraph forms.
  string(REPLACE "\\" "\\\\" s "${s}")
  string(REPLACE "\"" "\\\"" s "${s}")
  string(REPLACE "?" "\\?" s "${s}")
  string(REPLACE "\t" "\\t" s "${s}")
  string(REPLACE "\r" "\\r" s "${s}")
  string(REPLACE "\n" "\\n\"\n    \"" s "${s}")
  string(APPEND c_names "    \"${n}\",\n")
  string(APPEND c_text "    /* workloads/${f} */\n    \"${s}\",\n")
endforeach()

file(WRITE ${OUT} "/* Generated from workloads/NAME.yaml by workloads/embed.cmake at build time: do not edit.
 * The names and full texts of the bundled workloads. */
#include <stddef.h>

extern const char *const cim__workload_names[];
extern const char *const cim__workload_texts[];

const char *const cim__workload_names[] = {\n${c_names}    NULL};

const char *const cim__workload_texts[] = {\n${c_text}    NULL};
")
