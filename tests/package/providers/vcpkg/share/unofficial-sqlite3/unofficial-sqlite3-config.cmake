# Test double for vcpkg's sqlite3 port: only its target name, unofficial::sqlite3::sqlite3.
# tests/package's "providers" tests disable FindSQLite3 so that this is what ormkit finds.
if(NOT TARGET unofficial::sqlite3::sqlite3)
  add_library(unofficial::sqlite3::sqlite3 INTERFACE IMPORTED)
  set_target_properties(unofficial::sqlite3::sqlite3 PROPERTIES
    INTERFACE_COMPILE_DEFINITIONS ORMKIT_TEST_PROVIDER=vcpkg INTERFACE_LINK_LIBRARIES sqlite3)
endif()
