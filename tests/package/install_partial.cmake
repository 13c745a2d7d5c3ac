# Configures this checkout with some backends switched off and installs it into PREFIX: an
# installation that lacks a component, for the find_package failure tests when the build
# under test has every backend. Used by tests/package/CMakeLists.txt:
#
#   cmake -DSOURCE_DIR=<checkout> -DBINARY_DIR=<dir> -DPREFIX=<prefix> -DOFF=<option;...>
#         [-DGENERATOR=...] [-DMAKE_PROGRAM=...] -P install_partial.cmake
#
# Only the install rules are generated (no tests, examples, benchmarks or header checks), so
# nothing is compiled.
cmake_minimum_required(VERSION 3.21)

foreach(required IN ITEMS SOURCE_DIR BINARY_DIR PREFIX OFF)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "install_partial.cmake: ${required} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${BINARY_DIR}" "${PREFIX}")
set(args -S "${SOURCE_DIR}" -B "${BINARY_DIR}" "-DCMAKE_INSTALL_PREFIX=${PREFIX}"
    -DORMKIT_BUILD_TESTS=OFF -DORMKIT_BUILD_EXAMPLES=OFF -DORMKIT_BUILD_BENCHMARKS=OFF
    -DORMKIT_CHECK_HEADERS=OFF -DORMKIT_INSTALL=ON)
foreach(option IN LISTS OFF)
  list(APPEND args "-D${option}=OFF")
endforeach()
if(GENERATOR)
  list(APPEND args -G "${GENERATOR}")
endif()
if(MAKE_PROGRAM)
  list(APPEND args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install_partial: configure failed:\n${out}")
endif()
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BINARY_DIR}" RESULT_VARIABLE rc OUTPUT_VARIABLE out
                ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "install_partial: install failed:\n${out}")
endif()
if(NOT EXISTS "${PREFIX}/share/cmake/ormkit/ormkitConfig.cmake")
  message(FATAL_ERROR "install_partial: no ormkitConfig.cmake under ${PREFIX}/share/cmake/ormkit")
endif()
message(STATUS "install_partial: ${PREFIX} (switched off: ${OFF})")
