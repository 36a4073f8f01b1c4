# embed_yaml.cmake: turn a folder of YAML files into a C file of string
# literals, so the library carries its built-in data (hardware files,
# workloads, energy specs, the component library) and parses it with the same
# loader as a user's file. Run at build time by cimsim_embed_yaml() in
# CMakeLists.txt:
#
#   cmake -DDIR=<folder> -DLABEL=data/hw -DOUT=<build>/gen/hw.c
#         -DNAMES=cim__hw_names -DTEXTS=cim__hw_texts
#         [-DPATH_NAMES=ON] [-DORDER="a;b"] -P embed_yaml.cmake
#
# An entry's name is its file name without `.yaml` (PATH_NAMES: LABEL/NAME.yaml).
# Files listed in ORDER come first, the others follow alphabetically.
cmake_policy(VERSION 3.18)

foreach(v DIR LABEL OUT NAMES TEXTS)
  if(NOT ${v})
    message(FATAL_ERROR "embed_yaml.cmake: give -D${v}=...")
  endif()
endforeach()
file(GLOB files RELATIVE ${DIR} ${DIR}/*.yaml)
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
  message(FATAL_ERROR "embed_yaml.cmake: no YAML files in ${DIR}")
endif()

set(c_names "")
set(c_text "")
foreach(n ${names})
  if(NOT n MATCHES "^[a-z0-9][a-z0-9_.-]*$")
    message(FATAL_ERROR "${LABEL}/${n}.yaml: a file name is lower-case letters, digits, '_', '-' and '.'")
  endif()
  file(READ ${DIR}/${n}.yaml s)
  # a C string literal, one source line per YAML line; `?` escaped so no trigraph can form
  string(REPLACE "\\" "\\\\" s "${s}")
  string(REPLACE "\"" "\\\"" s "${s}")
  string(REPLACE "?" "\\?" s "${s}")
  string(REPLACE "\t" "\\t" s "${s}")
  string(REPLACE "\r" "\\r" s "${s}")
  string(REPLACE "\n" "\\n\"\n    \"" s "${s}")
  if(PATH_NAMES)
    string(APPEND c_names "    \"${LABEL}/${n}.yaml\",\n")
  else()
    string(APPEND c_names "    \"${n}\",\n")
  endif()
  string(APPEND c_text "    /* ${LABEL}/${n}.yaml */\n    \"${s}\",\n")
endforeach()

file(WRITE ${OUT} "/* Generated from ${LABEL}/NAME.yaml by cmake/embed_yaml.cmake at build time: do not edit.
 * The names and full texts of the built-in files. */
#include <stddef.h>

extern const char *const ${NAMES}[];
extern const char *const ${TEXTS}[];

const char *const ${NAMES}[] = {\n${c_names}    NULL};

const char *const ${TEXTS}[] = {\n${c_text}    NULL};
")
