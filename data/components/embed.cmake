# embed.cmake: turn data/components/*.yaml into a C file of string literals
# (run at build time by the CMakeLists.txt block "component library"):
#
#   cmake -DCOMPONENT_DIR=<repo>/data/components -DOUT=<build>/gen/components.c -P embed.cmake
#
# The YAML files are the single source of the built-in component library: the
# library parses the embedded text with the same loader as a user's component
# file (src/cost/components.c). Files listed in ORDER come first, any other
# follows alphabetically; an entry of a later file replaces one of the same name.
cmake_policy(VERSION 3.18)
set(ORDER technology devices isaac raella horowitz colonnade)

if(NOT COMPONENT_DIR OR NOT OUT)
  message(FATAL_ERROR "embed.cmake: give -DCOMPONENT_DIR=... -DOUT=...")
endif()
file(GLOB files RELATIVE ${COMPONENT_DIR} ${COMPONENT_DIR}/*.yaml)
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
  message(FATAL_ERROR "embed.cmake: no component files in ${COMPONENT_DIR}")
endif()

# A C string literal of `s`, one source line per YAML line; `?` escaped so no
# trigraph can form.
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
set(c_text "")
foreach(n ${names})
  if(NOT n MATCHES "^[a-z0-9][a-z0-9_.-]*$")
    message(FATAL_ERROR "data/components/${n}.yaml: a file name is lower-case letters, digits, '_', '-' and '.'")
  endif()
  file(READ ${COMPONENT_DIR}/${n}.yaml text)
  c_literal("${text}" t)
  string(APPEND c_names "    \"data/components/${n}.yaml\",\n")
  string(APPEND c_text "    /* data/components/${n}.yaml */\n    ${t},\n")
endforeach()

set(src "/* Generated from data/components/NAME.yaml by data/components/embed.cmake at build time:
 * do not edit. The names and full texts of the built-in component files. */
#include <stddef.h>

extern const char *const cim__component_files[];
extern const char *const cim__component_texts[];

const char *const cim__component_files[] = {\n${c_names}    NULL};

const char *const cim__component_texts[] = {\n${c_text}    NULL};
")
file(WRITE ${OUT} "${src}")
