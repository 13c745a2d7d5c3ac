# Configures, builds and runs a consumer project; or only configures it; or expects the
# configure step to fail. Used by tests/package/CMakeLists.txt:
#
#   cmake -DSOURCE_DIR=<project> -DBINARY_DIR=<dir> [options] -P run_consumer.cmake
#
#   CXX_COMPILER, LAUNCHER, GENERATOR, MAKE_PROGRAM, BUILD_TYPE   passed to the consumer
#   PREFIX_PATH          CMAKE_PREFIX_PATH of the consumer (a list)
#   DEFINES              more cache entries, NAME=VALUE; a value that is a list separates its
#                        items with commas (ORMKIT_TEST_COMPONENTS=sqlite,redis)
#   MODE                 run (default): configure, build, run RUN_TARGET, match EXPECT
#                        against its output; configure: configure only and match EXPECT
#                        against the configure output; fail: the configure must fail and
#                        its output match EXPECT (configure output: white space runs, line
#                        breaks included, are matched as one space)
#   EXPECT               regular expression (required)
#   REJECT               regular expression the output must not match
#   RUN_TARGET           executable to run (default test_package), looked up under BINARY_DIR
#   ARCHIVE_FROM         make a source archive of this ormkit checkout (CMakeLists.txt, LICENSE,
#                        cmake/, include/: what a release tarball holds) and pass it as
#                        ORMKIT_ARCHIVE / ORMKIT_ARCHIVE_SHA256 (the FetchContent test)
#   RELOCATE_FROM, RELOCATE_TO   copy an installed prefix elsewhere first, check that the copy
#                        never names the original location, and use the copy as PREFIX_PATH
#
# A consumer build must never carry ormkit's own dev flags (-Werror, sanitizers ...): the
# compile commands are checked in run mode.
cmake_minimum_required(VERSION 3.21)

foreach(required IN ITEMS SOURCE_DIR BINARY_DIR EXPECT)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "run_consumer.cmake: ${required} is not set")
  endif()
endforeach()
if(NOT DEFINED MODE)
  set(MODE run)
endif()
if(NOT DEFINED RUN_TARGET)
  set(RUN_TARGET test_package)
endif()

file(REMOVE_RECURSE "${BINARY_DIR}")
file(MAKE_DIRECTORY "${BINARY_DIR}")

if(RELOCATE_FROM)
  file(REMOVE_RECURSE "${RELOCATE_TO}")
  file(COPY "${RELOCATE_FROM}/" DESTINATION "${RELOCATE_TO}")
  file(GLOB_RECURSE copied "${RELOCATE_TO}/*.cmake")
  foreach(f IN LISTS copied)
    file(READ "${f}" text)
    string(FIND "${text}" "${RELOCATE_FROM}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "FAIL: ${f} names the original prefix ${RELOCATE_FROM}: not relocatable")
    endif()
  endforeach()
  set(PREFIX_PATH "${RELOCATE_TO}")
  message(STATUS "installed prefix copied to ${RELOCATE_TO}; the original is not on the search path")
endif()

if(ARCHIVE_FROM)
  set(stage "${BINARY_DIR}/archive/ormkit-src")
  file(MAKE_DIRECTORY "${stage}")
  file(COPY "${ARCHIVE_FROM}/CMakeLists.txt" "${ARCHIVE_FROM}/LICENSE" "${ARCHIVE_FROM}/cmake"
            "${ARCHIVE_FROM}/include" DESTINATION "${stage}")
  set(archive "${BINARY_DIR}/archive/ormkit-src.tar.gz")
  execute_process(COMMAND "${CMAKE_COMMAND}" -E tar czf "${archive}" ormkit-src
                  WORKING_DIRECTORY "${BINARY_DIR}/archive" RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "FAIL: could not make ${archive}")
  endif()
  file(SHA256 "${archive}" sha256)
  list(APPEND DEFINES "ORMKIT_ARCHIVE=${archive}" "ORMKIT_ARCHIVE_SHA256=${sha256}")
endif()

# Settings go through an initial-cache file, so lists and paths need no shell quoting.
set(init "${BINARY_DIR}/consumer-init.cmake")
file(WRITE "${init}" "# written by run_consumer.cmake\n")
macro(cache_entry name value)
  file(APPEND "${init}" "set(${name} [==[${value}]==] CACHE STRING \"\")\n")
endmacro()
if(CXX_COMPILER)
  cache_entry(CMAKE_CXX_COMPILER "${CXX_COMPILER}")
endif()
if(LAUNCHER)
  cache_entry(CMAKE_CXX_COMPILER_LAUNCHER "${LAUNCHER}")
endif()
if(MAKE_PROGRAM)
  cache_entry(CMAKE_MAKE_PROGRAM "${MAKE_PROGRAM}")
endif()
if(BUILD_TYPE)
  cache_entry(CMAKE_BUILD_TYPE "${BUILD_TYPE}")
endif()
if(PREFIX_PATH)
  cache_entry(CMAKE_PREFIX_PATH "${PREFIX_PATH}")
endif()
cache_entry(CMAKE_EXPORT_COMPILE_COMMANDS ON)
foreach(define IN LISTS DEFINES)
  string(FIND "${define}" "=" eq)
  string(SUBSTRING "${define}" 0 ${eq} name)
  math(EXPR from "${eq} + 1")
  string(SUBSTRING "${define}" ${from} -1 value)
  string(REPLACE "," ";" value "${value}")
  cache_entry(${name} "${value}")
endforeach()

set(configure "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${BINARY_DIR}" -C "${init}")
if(GENERATOR)
  list(APPEND configure -G "${GENERATOR}")
endif()
message(STATUS "configure: ${SOURCE_DIR}")
execute_process(COMMAND ${configure} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(configure_output "${out}${err}")
# CMake wraps messages at 80 columns: EXPECT sees the configure output with every run of
# white space (line breaks and indentation included) turned into one space.
string(REGEX REPLACE "[ \t\r\n]+" " " configure_text "${configure_output}")

macro(check_output what text)
  if(NOT "${text}" MATCHES "${EXPECT}")
    message(FATAL_ERROR "FAIL: ${what} does not match '${EXPECT}':\n${text}")
  endif()
  if(DEFINED REJECT AND "${text}" MATCHES "${REJECT}")
    message(FATAL_ERROR "FAIL: ${what} matches '${REJECT}', which it must not:\n${text}")
  endif()
  message(STATUS "ok: ${what} matches '${EXPECT}'")
endmacro()

if(MODE STREQUAL "fail")
  if(rc EQUAL 0)
    message(FATAL_ERROR "FAIL: the configure step succeeded; it must fail:\n${configure_output}")
  endif()
  message("${configure_output}")
  check_output("the configure output" "${configure_text}")
  return()
endif()
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAIL: configure failed (${rc}):\n${configure_output}")
endif()
if(MODE STREQUAL "configure")
  message("${configure_output}")
  check_output("the configure output" "${configure_text}")
  return()
endif()

message(STATUS "build")
execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BINARY_DIR}" RESULT_VARIABLE rc
                OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAIL: build failed (${rc}):\n${out}${err}")
endif()

# Our dev flags stay ours: nothing of ormkit_dev reaches a consumer's compile line.
if(EXISTS "${BINARY_DIR}/compile_commands.json")
  file(READ "${BINARY_DIR}/compile_commands.json" commands)
  foreach(flag IN ITEMS -Werror -Wconversion -Wsign-conversion -fsanitize /WX)
    string(FIND "${commands}" "${flag}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "FAIL: a consumer compile line carries ${flag}:\n${commands}")
    endif()
  endforeach()
  message(STATUS "ok: no ormkit dev flag in the consumer's compile commands")
endif()

file(GLOB_RECURSE candidates LIST_DIRECTORIES false "${BINARY_DIR}/*${RUN_TARGET}*")
list(FILTER candidates INCLUDE REGEX "/${RUN_TARGET}(\\.exe)?$")
list(FILTER candidates EXCLUDE REGEX "/CMakeFiles/")
list(LENGTH candidates count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "FAIL: expected one ${RUN_TARGET} under ${BINARY_DIR}, found: ${candidates}")
endif()
execute_process(COMMAND ${candidates} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAIL: ${candidates} exited with ${rc}")
endif()
check_output("the program's output" "${out}")
