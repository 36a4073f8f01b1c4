# embed.cmake: turn data/hw/*.yaml into a C file of string literals (run at
# build time by the CMakeLists.txt block "hardware architectures"):
#
#   cmake -DHW_DIR=<repo>/data/hw -DOUT=<build>/gen/hw.c -P embed.cmake
#
# The YAML files are the single source of the built-in hardware files; the
# library parses the embedded text with the same loader as a user's hardware
# file (src/cost/hw.c). A name is the file name without `.yaml`, in
# alphabetical order.
cmake_policy(VERSION 3.18)

if(NOT HW_DIR OR NOT OUT)
  message(FATAL_ERROR "embed.cmake: give -DHW_DIR=... -DOUT=...")
endif()
file(GLOB files RELATIVE ${HW_DIR} ${HW_DIR}/*.yaml)
list(SORT files)

set(c_names "")
set(c_text "")
foreach(f ${files})
  string(REGEX REPLACE "\\.yaml$" "" n "${f}")
  if(NOT n MATCHES "^[a-z0-9][a-z0-9.-]*$")
    message(FATAL_ERROR "data/hw/${f}: a hardware name is lower-case letters, digits, '-' and '.'")
  endif()
  file(READ ${HW_DIR}/${f} s)
  # A C string literal, one source line per YAML line; `?` escaped so no trigraph forms.
  string(REPLACE "\\" "\\\\" s "${s}")
  string(REPLACE "\"" "\\\"" s "${s}")
  string(REPLACE "?" "\\?" s "${s}")
  string(REPLACE "\t" "\\t" s "${s}")
  string(REPLACE "\r" "\\r" s "${s}")
  string(REPLACE "\n" "\\n\"\n    \"" s "${s}")
  string(APPEND c_names "    \"${n}\",\n")
  string(APPEND c_text "    /* data/hw/${f} */\n    \"${s}\",\n")
endforeach()

file(WRITE ${OUT} "/* Generated from data/hw/NAME.yaml by data/hw/embed.cmake at build time: do not edit.
 * The names and full texts of the built-in hardware files. */
#include <stddef.h>

extern const char *const cim__hw_names[];
extern const char *const cim__hw_texts[];

const char *const cim__hw_names[] = {\n${c_names}    NULL};

const char *const cim__hw_texts[] = {\n${c_text}    NULL};
")
