# ormkit is header-only: CMake installs the headers and the package config, nothing is
# compiled, so there is a single (release) tree.
set(VCPKG_BUILD_TYPE release)

# SHA512 is the release tarball's: fill it in when tagging v${VERSION} (vcpkg prints the
# actual value on a mismatch).
vcpkg_from_github(
    OUT_SOURCE_PATH SOURCE_PATH
    REPO ormkit/ormkit
    REF "v${VERSION}"
    SHA512 0
    HEAD_REF main
)

# Features decide which backend components the installed ormkitConfig.cmake offers
# (ormkit::sqlite, ormkit::postgres, ormkit::redis); the headers of the others stay out.
vcpkg_check_features(OUT_FEATURE_OPTIONS FEATURE_OPTIONS
    FEATURES
        sqlite3     ORMKIT_WITH_SQLITE
        postgresql  ORMKIT_WITH_POSTGRES
        redis       ORMKIT_WITH_REDIS
)

vcpkg_cmake_configure(
    SOURCE_PATH "${SOURCE_PATH}"
    OPTIONS
        ${FEATURE_OPTIONS}
        -DORMKIT_INSTALL=ON
        -DORMKIT_BUILD_TESTS=OFF
        -DORMKIT_BUILD_EXAMPLES=OFF
        -DORMKIT_BUILD_BENCHMARKS=OFF
        -DORMKIT_CHECK_HEADERS=OFF
        "-DORMKIT_INSTALL_CMAKEDIR=share/${PORT}"
    MAYBE_UNUSED_VARIABLES
        ORMKIT_WITH_POSTGRES
)
vcpkg_cmake_install()
vcpkg_cmake_config_fixup()

# The license goes to share/${PORT}/copyright instead of share/doc.
file(REMOVE_RECURSE "${CURRENT_PACKAGES_DIR}/share/doc" "${CURRENT_PACKAGES_DIR}/lib")
vcpkg_install_copyright(FILE_LIST "${SOURCE_PATH}/LICENSE")
file(INSTALL "${CMAKE_CURRENT_LIST_DIR}/usage" DESTINATION "${CURRENT_PACKAGES_DIR}/share/${PORT}")
