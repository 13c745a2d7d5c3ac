# Test double for the SQLite3Config.cmake that Conan's CMakeDeps generates for sqlite3: the
# target SQLite::SQLite3, found in config mode (Conan's toolchain prefers configs).
if(NOT TARGET SQLite::SQLite3)
  add_library(SQLite::SQLite3 INTERFACE IMPORTED)
  set_target_properties(SQLite::SQLite3 PROPERTIES
    INTERFACE_COMPILE_DEFINITIONS ORMKIT_TEST_PROVIDER=conan INTERFACE_LINK_LIBRARIES sqlite3)
endif()
set(SQLite3_VERSION 3.45.0)
