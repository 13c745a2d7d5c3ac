// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/version.hpp
//
// The library version as macros and as constants.

#define ORMKIT_VERSION_MAJOR 0
#define ORMKIT_VERSION_MINOR 1
#define ORMKIT_VERSION_PATCH 0
#define ORMKIT_VERSION_STRING "0.1.0"

namespace ormkit {

inline constexpr int version_major = ORMKIT_VERSION_MAJOR;
inline constexpr int version_minor = ORMKIT_VERSION_MINOR;
inline constexpr int version_patch = ORMKIT_VERSION_PATCH;

}  // namespace ormkit
