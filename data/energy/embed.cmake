# embed.cmake: turn data/energy/*.yaml into a C file of string literals (run
# at build time by the CMakeLists.txt block "energy specs"):
#
#   cmake -DENERGY_DIR=<repo>/data/energy -DOUT=<build>/gen/energy_specs.c -P embed.cmake
#
# The YAML files are the single source of the built-in energy specs; the
# library parses the embedded text with the same loader as a user's spec file
# (src/cost/energy.c). A spec's name is its file name without `.yaml`, in
# alphabetical order.
cmake_policy(VERSION 3.18)

if(NOT ENERGY_DIR OR NOT OUT)
  message(FATAL_ERROR "embed.cmake: give -DENERGY_DIR=... -DOUT=...")
endif()
file(GLOB files RELATIVE ${ENERGY_DIR} ${ENERGY_DIR}/*.yaml)
list(SORT files)
if(NOT files)
  message(FATAL_ERROR "embed.cmake: no energy specs in ${ENERGY_DIR}")
endif()

set(c_names "")
set(c_text "")
foreach(f ${files})
  string(REGEX REPLACE "\\.yaml$" "" n "${f}")
  if(NOT n MATCHES "^[a-z0-9][a-z0-9.-]*$")
    message(FATAL_ERROR "data/energy/${f}: a spec name is lower-case letters, digits, '-' and '.'")
  endif()
  file(READ ${ENERGY_DIR}/${f} s)
  # A C string literal, one source line per YAML line; `?` escaped so no trigraph forms.
  string(REPLACE "\\" "\\\\" s "${s}")
  string(REPLACE "\"" "\\\"" s "${s}")
  string(REPLACE "?" "\\?" s "${s}")
  string(REPLACE "\t" "\\t" s "${s}")
  string(REPLACE "\r" "\\r" s "${s}")
  string(REPLACE "\n" "\\n\"\n    \"" s "${s}")
  string(APPEND c_names "    \"${n}\",\n")
  string(APPEND c_text "    /* data/energy/${f} */\n    \"${s}\",\n")
endforeach()

file(WRITE ${OUT} "/* Generated from data/energy/NAME.yaml by data/energy/embed.cmake at build time:
 * do not edit. The names and full texts of the built-in energy specs. */
#include <stddef.h>

extern const char *const cim__energy_names[];
extern const char *const cim__energy_texts[];

const char *const cim__energy_names[] = {\n${c_names}    NULL};

const char *const cim__energy_texts[] = {\n${c_text}    NULL};
")
