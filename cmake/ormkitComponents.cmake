# ormkit's backend components and how each one finds its dependency.
#
# Installed next to ormkitConfig.cmake, which includes it; the top-level CMakeLists.txt
# includes it too (install section) to check that every backend it defines is listed here.
# The packaging tests read the names table below, so the Conan recipe's options, the vcpkg
# port's features and this package's components cannot drift apart unnoticed.
#
# One block per backend:
#   _ormkit_<component>_names   CMake option, vcpkg feature, Conan option
#   _ormkit_dependency_<component>()   a macro that sets
#       _ormkit_dep_target   the dependency's imported target, or "" when it was not found
#       _ormkit_dep_wanted   what was looked for, for the "not found" message
#       _ormkit_dep_define   the compile definition that ormkit::<component> carries
#
# The dependency lookups are plain find_package(... QUIET) calls with fallbacks, not
# find_dependency(): find_dependency() leaves the config file on its first miss, which rules
# out fallbacks (vcpkg's unofficial-sqlite3, hiredis through pkg-config) and makes every
# component required. ormkitConfig.cmake turns a miss into a clear message instead.
#
# Macros, not functions: the result variables land in the config file's scope, and so do
# the imported targets, in the directory that called find_package(ormkit). No include guard:
# the file only sets variables and defines macros, and a second find_package(ormkit) from
# another function or directory needs the variables again.

# component  CMake option           vcpkg feature  Conan option
set(_ormkit_sqlite_names   ORMKIT_WITH_SQLITE   sqlite3        with_sqlite3)
set(_ormkit_postgres_names ORMKIT_WITH_POSTGRES postgresql     with_postgresql)
set(_ormkit_redis_names    ORMKIT_WITH_REDIS    redis          with_redis)
set(_ormkit_backend_components sqlite postgres redis)

#--- sqlite: SQLite >= 3.37 ---#
# CMake's FindSQLite3 (Debian, source installs) defines SQLite::SQLite3, renamed
# SQLite3::SQLite3 in CMake 4.3; Conan's CMakeDeps defines SQLite::SQLite3; vcpkg's wrapper
# defines both, and vcpkg's own config unofficial::sqlite3::sqlite3.
macro(_ormkit_dependency_sqlite)
  set(_ormkit_dep_define ORMKIT_HAS_SQLITE=1)
  set(_ormkit_dep_wanted "SQLite3 >= 3.37 (CMake's FindSQLite3 or an SQLite3 package config, or vcpkg's unofficial-sqlite3 config)")
  if(NOT TARGET SQLite3::SQLite3 AND NOT TARGET SQLite::SQLite3)
    find_package(SQLite3 3.37 QUIET)
  endif()
  if(NOT TARGET SQLite3::SQLite3 AND NOT TARGET SQLite::SQLite3 AND NOT TARGET unofficial::sqlite3::sqlite3)
    find_package(unofficial-sqlite3 CONFIG QUIET)
  endif()
  set(_ormkit_dep_target "")
  foreach(_ormkit_candidate IN ITEMS SQLite3::SQLite3 SQLite::SQLite3 unofficial::sqlite3::sqlite3)
    if(TARGET ${_ormkit_candidate})
      set(_ormkit_dep_target ${_ormkit_candidate})
      break()
    endif()
  endforeach()
endmacro()

#--- postgres: libpq ---#
# CMake's FindPostgreSQL (Debian, vcpkg's wrapper) and Conan's CMakeDeps (libpq's
# cmake_file_name is PostgreSQL) all define PostgreSQL::PostgreSQL. The installed config
# offers this component once the build defines ormkit::postgres (see the install section of
# CMakeLists.txt); this block is what it will use.
macro(_ormkit_dependency_postgres)
  set(_ormkit_dep_define ORMKIT_HAS_POSTGRES=1)
  set(_ormkit_dep_wanted "libpq (CMake's FindPostgreSQL or a PostgreSQL package config)")
  if(NOT TARGET PostgreSQL::PostgreSQL)
    find_package(PostgreSQL QUIET)
  endif()
  set(_ormkit_dep_target "")
  if(TARGET PostgreSQL::PostgreSQL)
    set(_ormkit_dep_target PostgreSQL::PostgreSQL)
  endif()
endmacro()

#--- redis: hiredis 0.14 or 1.x ---#
# hiredis 1.x (Conan, vcpkg, source installs) ships a config with hiredis::hiredis; Debian 12's
# 0.14 only a pkg-config file (its Hiredis/HiredisConfig.cmake defines no target).
macro(_ormkit_dependency_redis)
  set(_ormkit_dep_define ORMKIT_HAS_REDIS=1)
  set(_ormkit_dep_wanted "hiredis (a hiredis package config with hiredis::hiredis, or hiredis.pc through pkg-config)")
  if(NOT TARGET hiredis::hiredis)
    find_package(hiredis CONFIG QUIET)
  endif()
  set(_ormkit_dep_target "")
  if(TARGET hiredis::hiredis)
    set(_ormkit_dep_target hiredis::hiredis)
  else()
    if(NOT PKG_CONFIG_FOUND)
      find_package(PkgConfig QUIET)
    endif()
    if(PKG_CONFIG_FOUND)
      pkg_check_modules(ormkit_hiredis QUIET IMPORTED_TARGET hiredis)
    endif()
    if(TARGET PkgConfig::ormkit_hiredis)
      set(_ormkit_dep_target PkgConfig::ormkit_hiredis)
    endif()
  endif()
endmacro()
