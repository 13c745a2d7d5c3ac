# Test double for hiredis 1.x's own config (vcpkg's and Conan's hiredis): hiredis::hiredis.
if(NOT TARGET hiredis::hiredis)
  add_library(hiredis::hiredis INTERFACE IMPORTED)
  set_target_properties(hiredis::hiredis PROPERTIES
    INTERFACE_COMPILE_DEFINITIONS ORMKIT_TEST_PROVIDER=hiredis-config INTERFACE_LINK_LIBRARIES hiredis)
endif()
