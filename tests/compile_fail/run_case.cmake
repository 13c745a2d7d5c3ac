# Runs one compile-fail case (cmake -P). Inputs (-D):
#   CXX                the C++ compiler
#   CASE               the case's .cpp; its first line is `// expect: <text>`
#   SOURCE_DIR         the project root; the compiler runs there with relative paths, so the
#                      output (and its size) does not depend on where the tree is checked out
#   INCLUDES, DEFINES  '|'-separated include directories and definitions of ormkit::core
#   IMPLICIT_INCLUDES  '|'-separated compiler default include directories (never passed as -I:
#                      -I/usr/include breaks libstdc++'s #include_next)
# Passes when: the compile fails, the first line containing "error:" contains "ormkit:" and
# <text>, and stdout+stderr together are at most MAX_BYTES (default 2048) bytes.
cmake_minimum_required(VERSION 3.21)

if(NOT DEFINED MAX_BYTES)
  set(MAX_BYTES 2048)
endif()

file(READ "${CASE}" head LIMIT 4096)
if(NOT head MATCHES "^// expect: ([^\r\n]+)")
  message(FATAL_ERROR "${CASE}: the first line must be `// expect: <text of the first error>`")
endif()
string(STRIP "${CMAKE_MATCH_1}" expected)

# Plain ASCII quotes in diagnostics, so the size limit measures the same bytes everywhere.
set(ENV{LC_ALL} C)

string(REPLACE "|" ";" implicit "${IMPLICIT_INCLUDES}")
string(REPLACE "|" ";" includes "${INCLUDES}")
string(REPLACE "|" ";" defines "${DEFINES}")

set(flags -std=c++20 -fsyntax-only -fdiagnostics-color=never)
foreach(dir IN LISTS includes)
  if(dir STREQUAL "" OR dir IN_LIST implicit)
    continue()
  endif()
  file(RELATIVE_PATH rel "${SOURCE_DIR}" "${dir}")
  if(NOT rel MATCHES "^\\.\\./")
    set(dir "${rel}")
    if(dir STREQUAL "")
      set(dir ".")
    endif()
  endif()
  list(APPEND flags "-I${dir}")
endforeach()
foreach(def IN LISTS defines)
  if(NOT def STREQUAL "")
    list(APPEND flags "-D${def}")
  endif()
endforeach()
file(RELATIVE_PATH case_rel "${SOURCE_DIR}" "${CASE}")

execute_process(
  COMMAND "${CXX}" ${flags} "${case_rel}"
  WORKING_DIRECTORY "${SOURCE_DIR}"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE out
  ERROR_VARIABLE err)
set(output "${out}${err}")
string(LENGTH "${output}" bytes)

set(problems "")
if(rc EQUAL 0)
  string(APPEND problems "\n  - the case compiled, but it must be rejected")
else()
  string(FIND "${output}" "error:" at)
  if(at EQUAL -1)
    string(APPEND problems "\n  - the compiler failed (${rc}) without any `error:` line")
  else()
    string(SUBSTRING "${output}" 0 ${at} before)
    string(FIND "${before}" "\n" bol REVERSE)
    math(EXPR bol "${bol} + 1")
    string(SUBSTRING "${output}" ${bol} -1 rest)
    string(FIND "${rest}" "\n" eol)
    string(SUBSTRING "${rest}" 0 ${eol} first_error)
    string(FIND "${first_error}" "ormkit:" has_ormkit)
    string(FIND "${first_error}" "${expected}" has_expected)
    if(has_ormkit EQUAL -1)
      string(APPEND problems "\n  - the first error is not an ormkit diagnostic (no `ormkit:`)")
    endif()
    if(has_expected EQUAL -1)
      string(APPEND problems "\n  - the first error does not contain the expected text `${expected}`")
    endif()
  endif()
endif()
if(bytes GREATER MAX_BYTES)
  string(APPEND problems "\n  - the output is ${bytes} bytes, more than the limit of ${MAX_BYTES}")
endif()

string(REPLACE ";" " " shown_flags "${flags}")
if(problems)
  message("compile-fail case ${case_rel} FAILED:${problems}\n"
          "command (in ${SOURCE_DIR}): ${CXX} ${shown_flags} ${case_rel}\n"
          "---- compiler output (${bytes} bytes) ----\n${output}---- end ----")
  message(FATAL_ERROR "compile_fail ${case_rel}")
endif()
message(STATUS "${case_rel}: rejected as expected (${bytes} bytes): ${expected}")
