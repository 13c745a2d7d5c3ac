# Test double for the PostgreSQLConfig.cmake that Conan's CMakeDeps generates for libpq
# (cmake_file_name PostgreSQL): the target PostgreSQL::PostgreSQL.
if(NOT TARGET PostgreSQL::PostgreSQL)
  add_library(PostgreSQL::PostgreSQL INTERFACE IMPORTED)
  set_target_properties(PostgreSQL::PostgreSQL PROPERTIES
    INTERFACE_COMPILE_DEFINITIONS ORMKIT_TEST_PROVIDER=conan INTERFACE_LINK_LIBRARIES pq)
endif()
