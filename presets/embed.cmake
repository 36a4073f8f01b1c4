# embed.cmake: turn presets/*.yaml into a C file of string literals (run at
# build time by the CMakeLists.txt block "architecture presets"):
#
#   cmake -DPRESET_DIR=<repo>/presets -DOUT=<build>/gen/presets.c -P embed.cmake
#
# The YAML files are the single source of the presets: the library parses the
# embedded text with the same loader as any YAML config (src/lib/config_yaml.c).
# A preset's name is its file name without `.yaml`; its one-line description is
# the file's top-level `description: "..."` line (one double-quoted line, no
# backslashes), which the loader checks against what it parses, so the two
# cannot disagree. Presets listed in ORDER come first (`cimsim archs` prints
# them in this order), any other file follows alphabetically.
cmake_policy(VERSION 3.18)
set(ORDER isaac raella raella-nospec raella-static zero-offset timely-like ibm-pcm-like digital-cim)

if(NOT PRESET_DIR OR NOT OUT)
  message(FATAL_ERROR "embed.cmake: give -DPRESET_DIR=... -DOUT=...")
endif()
file(GLOB files RELATIVE ${PRESET_DIR} ${PRESET_DIR}/*.yaml)
list(SORT files)
set(names "")
foreach(n ${ORDER})
  if("${n}.yaml" IN_LIST files)
    list(APPEND names ${n})
  endif()
endforeach()
foreach(f ${files})
  string(REGEX REPLACE "\\.yaml$" "" n "${f}")
  if(NOT n IN_LIST names)
    list(APPEND names ${n})
  endif()
endforeach()
if(NOT names)
  message(FATAL_ERROR "embed.cmake: no presets in ${PRESET_DIR}")
endif()

# A C string literal of `s`, one source line per YAML line. `?` is escaped so
# no trigraph can form.
function(c_literal s out)
  string(REPLACE "\\" "\\\\" s "${s}")
  string(REPLACE "\"" "\\\"" s "${s}")
  string(REPLACE "?" "\\?" s "${s}")
  string(REPLACE "\t" "\\t" s "${s}")
  string(REPLACE "\r" "\\r" s "${s}")
  string(REPLACE "\n" "\\n\"\n    \"" s "${s}")
  set(${out} "\"${s}\"" PARENT_SCOPE)
endfunction()

set(c_names "")
set(c_desc "")
set(c_text "")
foreach(n ${names})
  if(NOT n MATCHES "^[a-z0-9][a-z0-9.-]*$")
    message(FATAL_ERROR "presets/${n}.yaml: a preset name is lower-case letters, digits, '-' and '.'")
  endif()
  file(READ ${PRESET_DIR}/${n}.yaml text)
  if(NOT text MATCHES "(^|\n)description: \"([^\"\\\\\n]*)\"[ ]*(#[^\n]*)?\n")
    message(FATAL_ERROR "presets/${n}.yaml: needs a top-level line description: \"one line\" (double-quoted, no backslashes)")
  endif()
  set(desc "${CMAKE_MATCH_2}")
  c_literal("${desc}" d)
  c_literal("${text}" t)
  string(APPEND c_names "    \"${n}\",\n")
  string(APPEND c_desc "    ${d},\n")
  string(APPEND c_text "    /* presets/${n}.yaml */\n    ${t},\n")
endforeach()

set(src "/* Generated from presets/NAME.yaml by presets/embed.cmake at build time: do not edit.
 * The names, one-line descriptions and full texts of the architecture presets. */
#include <stddef.h>

extern const char *const cim__preset_names[];
extern const char *const cim__preset_descriptions[];
extern const char *const cim__preset_texts[];

const char *const cim__preset_names[] = {\n${c_names}    NULL};

const char *const cim__preset_descriptions[] = {\n${c_desc}    NULL};

const char *const cim__preset_texts[] = {\n${c_text}    NULL};
")
file(WRITE ${OUT} "${src}")
