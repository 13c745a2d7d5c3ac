# Installs a configured ormkit build tree into a fresh prefix and checks the tree:
#
#   cmake -DBUILD_DIR=<build> -DPREFIX=<dir> -DSOURCE_DIR=<checkout> -DCMAKEDIR=<rel>
#         -DPROVIDED=<backends> -DMISSING=<backends> -P check_install.cmake
#
# - only headers, the license and the CMake package files are installed;
# - every header is installed except those of backends the build does not define (MISSING);
# - the package config offers exactly core + PROVIDED;
# - no installed CMake file names the source or build tree, or any of our dev flags.
cmake_minimum_required(VERSION 3.21)

foreach(required IN ITEMS BUILD_DIR PREFIX SOURCE_DIR CMAKEDIR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "check_install.cmake: ${required} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${PREFIX}")
execute_process(COMMAND "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${PREFIX}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "FAIL: cmake --install failed (${rc}):\n${out}${err}")
endif()

set(problems "")
file(GLOB_RECURSE installed LIST_DIRECTORIES false RELATIVE "${PREFIX}" "${PREFIX}/*")
list(SORT installed)
list(LENGTH installed count)
message(STATUS "installed ${count} files into ${PREFIX}")

# 1. Nothing but headers, the license and the package files.
set(allowed
  "^include/ormkit\\.hpp$"
  "^include/ormkit/.+\\.hpp$"
  "^share/doc/ormkit/LICENSE$"
  "^${CMAKEDIR}/ormkit(Config|ConfigVersion|Targets|Components)\\.cmake$")
foreach(f IN LISTS installed)
  set(ok FALSE)
  foreach(pattern IN LISTS allowed)
    if(f MATCHES "${pattern}")
      set(ok TRUE)
    endif()
  endforeach()
  if(NOT ok)
    string(APPEND problems "\n  unexpected file: ${f}")
  endif()
endforeach()
foreach(f IN ITEMS include/ormkit.hpp share/doc/ormkit/LICENSE ${CMAKEDIR}/ormkitConfig.cmake
                   ${CMAKEDIR}/ormkitConfigVersion.cmake ${CMAKEDIR}/ormkitTargets.cmake
                   ${CMAKEDIR}/ormkitComponents.cmake)
  if(NOT f IN_LIST installed)
    string(APPEND problems "\n  missing file: ${f}")
  endif()
endforeach()

# 2. The headers: all of the source tree's, less those of the backends this build lacks.
file(GLOB_RECURSE headers LIST_DIRECTORIES false RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/include/*.hpp")
foreach(backend IN LISTS MISSING)
  list(FILTER headers EXCLUDE REGEX "^include/ormkit/${backend}(\\.hpp$|/)")
  list(FILTER headers EXCLUDE REGEX "^include/ormkit/[a-z_]+/${backend}\\.hpp$")
endforeach()
set(installed_headers ${installed})
list(FILTER installed_headers INCLUDE REGEX "^include/")
list(SORT headers)
if(NOT "${headers}" STREQUAL "${installed_headers}")
  set(extra ${installed_headers})
  list(REMOVE_ITEM extra ${headers})
  set(lacking ${headers})
  list(REMOVE_ITEM lacking ${installed_headers})
  string(APPEND problems "\n  headers differ from the source tree: extra [${extra}], missing [${lacking}]")
endif()

# 3. The config offers core + PROVIDED.
file(STRINGS "${PREFIX}/${CMAKEDIR}/ormkitConfig.cmake" provided_line REGEX "^set\\(_ormkit_provided ")
string(REPLACE ";" " " want "set(_ormkit_provided core ${PROVIDED})")
string(STRIP "${want}" want)
string(REGEX REPLACE " +\\)$" ")" want "${want}")
if(NOT provided_line STREQUAL want)
  string(APPEND problems "\n  config says '${provided_line}', expected '${want}'")
endif()

# 4. Relocatable and free of our dev settings.
file(GLOB cmake_files "${PREFIX}/${CMAKEDIR}/*.cmake")
foreach(f IN LISTS cmake_files)
  file(READ "${f}" text)
  foreach(needle IN ITEMS "${SOURCE_DIR}" "${BUILD_DIR}" "${PREFIX}" ormkit_dev -Werror fsanitize
                          ORMKIT_SANITIZE Catch2)
    string(FIND "${text}" "${needle}" at)
    if(NOT at EQUAL -1)
      string(APPEND problems "\n  ${f} contains '${needle}'")
    endif()
  endforeach()
endforeach()

if(problems)
  message(FATAL_ERROR "FAIL: the installed tree is wrong:${problems}")
endif()
string(REPLACE ";" " " provided_text "${PROVIDED}")
message(STATUS "ok: ${count} files, only headers, LICENSE and the package files; components: core ${provided_text}")
