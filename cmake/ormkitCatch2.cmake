# Dev-only: finds Catch2 (v2 from Debian, v3 from Conan/vcpkg) and defines
#   ormkit_catch        INTERFACE: Catch2 headers + tests/support (the "catch.hpp" shim)
#   ORMKIT_CATCH2_MAJOR 2 or 3
# and makes include(Catch) / catch_discover_tests available. Included once, by the top-level
# CMakeLists.txt, so that the imported Catch2 targets are visible in tests/ and benchmarks/.
include_guard(GLOBAL)

find_package(Catch2 CONFIG REQUIRED)
if(EXISTS "${Catch2_DIR}/Catch.cmake")
  list(APPEND CMAKE_MODULE_PATH "${Catch2_DIR}")  # v2 does this itself; harmless twice
endif()
include(Catch)

string(REGEX MATCH "^[0-9]+" ORMKIT_CATCH2_MAJOR "${Catch2_VERSION}")

add_library(ormkit_catch INTERFACE)
target_include_directories(ormkit_catch INTERFACE "${PROJECT_SOURCE_DIR}/tests/support")
if(TARGET Catch2::Catch2)
  target_link_libraries(ormkit_catch INTERFACE Catch2::Catch2)
endif()
