# Runs a command that must fail, and checks why: passes only when the command exits non-zero
# and its output matches EXPECT. For the packaging tests that break a copy of the Conan
# recipe or the vcpkg port on purpose and show that the offline checks catch it.
#
#   cmake -DEXPECT=<regex> -P expect_failure.cmake -- <command> [args...]
cmake_minimum_required(VERSION 3.21)

set(command "")
set(seen_separator FALSE)
math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE ${last})
  if(seen_separator)
    list(APPEND command "${CMAKE_ARGV${i}}")
  elseif(CMAKE_ARGV${i} STREQUAL "--")
    set(seen_separator TRUE)
  endif()
endforeach()
if(NOT command OR NOT DEFINED EXPECT)
  message(FATAL_ERROR "usage: cmake -DEXPECT=<regex> -P expect_failure.cmake -- <command> [args...]")
endif()

execute_process(COMMAND ${command} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "FAIL: the command succeeded; it must fail")
endif()
if(NOT "${out}${err}" MATCHES "${EXPECT}")
  message(FATAL_ERROR "FAIL: the command failed (${rc}), but not with '${EXPECT}'")
endif()
message(STATUS "ok: failed as expected (${rc}), output matches '${EXPECT}'")
