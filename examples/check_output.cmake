# Runs one example and compares its stdout with the `// Expected output:` block that ends
# its source (cmake -P). Inputs (-D): EXE (the program), SOURCE (its .cpp), ARGS (optional:
# the program's arguments, split as a shell would).
#
# The block is every line after the last `// Expected output:` line; each must start with
# `//`, and `// ` (or a bare `//`) is stripped. Trailing whitespace on each line and trailing
# empty lines are ignored on both sides; everything else must match exactly. The program
# must exit with 0; its stderr is shown but not compared.
cmake_minimum_required(VERSION 3.21)

set(marker "// Expected output:")
file(READ "${SOURCE}" text)
string(FIND "${text}" "${marker}" at REVERSE)
if(at EQUAL -1)
  message(FATAL_ERROR "${SOURCE}: no `${marker}` block")
endif()
string(LENGTH "${marker}" marker_length)
math(EXPR at "${at} + ${marker_length}")
string(SUBSTRING "${text}" ${at} -1 block)
string(REPLACE "\r" "" block "${block}")

# Remove the rest of the marker line; then every line must be a `//` comment.
string(FIND "${block}" "\n" eol)
if(eol EQUAL -1)
  set(block "")
else()
  string(SUBSTRING "${block}" ${eol} -1 block)  # keeps the leading "\n"
endif()
string(REGEX REPLACE "[ \t\n]+$" "" block "${block}")
string(REGEX MATCH "\n[ \t]*[^/ \t\n][^\n]*|\n[ \t]*/[^/][^\n]*" stray "${block}")
if(stray)
  string(STRIP "${stray}" stray)
  message(FATAL_ERROR "${SOURCE}: every line after `${marker}` must start with `//`; found: ${stray}")
endif()
string(REGEX REPLACE "\n[ \t]*// ?" "\n" expected "${block}")
# Drop only the newline that ended the marker line (REGEX REPLACE would re-apply "^"
# and strip every leading blank line of the expected output).
string(SUBSTRING "${expected}" 0 1 first)
if(first STREQUAL "\n")
  string(SUBSTRING "${expected}" 1 -1 expected)
endif()

function(normalize var)
  set(s "${${var}}")
  string(REPLACE "\r" "" s "${s}")
  string(REGEX REPLACE "[ \t]+\n" "\n" s "${s}")
  string(REGEX REPLACE "[ \t\n]+$" "" s "${s}")
  set(${var} "${s}" PARENT_SCOPE)
endfunction()

separate_arguments(args UNIX_COMMAND "${ARGS}")
execute_process(COMMAND "${EXE}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE actual ERROR_VARIABLE errors)
if(NOT errors STREQUAL "")
  message("---- stderr ----\n${errors}---- end stderr ----")
endif()
normalize(expected)
normalize(actual)

get_filename_component(name "${SOURCE}" NAME)
if(NOT rc EQUAL 0)
  message("---- stdout ----\n${actual}\n---- end stdout ----")
  message(FATAL_ERROR "${name}: the program exited with ${rc}")
endif()
if(NOT actual STREQUAL expected)
  # Write both sides out and show a unified diff when `diff` is available.
  get_filename_component(stem "${SOURCE}" NAME_WE)
  set(expected_file "${CMAKE_CURRENT_BINARY_DIR}/${stem}.expected.txt")
  set(actual_file "${CMAKE_CURRENT_BINARY_DIR}/${stem}.actual.txt")
  file(WRITE "${expected_file}" "${expected}\n")
  file(WRITE "${actual_file}" "${actual}\n")
  find_program(DIFF diff)
  if(DIFF)
    execute_process(COMMAND "${DIFF}" -u "${expected_file}" "${actual_file}" OUTPUT_VARIABLE delta)
    message("---- diff -u expected actual ----\n${delta}---- end diff ----")
  else()
    message("---- expected ----\n${expected}\n---- actual ----\n${actual}\n---- end ----")
  endif()
  message(FATAL_ERROR "${name}: stdout differs from its `${marker}` block")
endif()
message(STATUS "${name}: output matches its `${marker}` block")
