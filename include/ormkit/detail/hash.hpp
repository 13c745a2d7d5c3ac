// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/hash.hpp
//
// FNV-1a 64: a stable hash usable at compile time (schema hashes, cache keys).

#include <cstdint>
#include <string_view>

namespace ormkit::detail {

struct fnv1a {
  std::uint64_t state = 0xcbf29ce484222325ull;

  constexpr auto add(std::string_view s) -> fnv1a& {
    for (char c : s) {
      state ^= static_cast<unsigned char>(c);
      state *= 0x100000001b3ull;
    }
    // A separator no identifier contains, so ("ab","c") and ("a","bc") differ.
    state ^= 0xffu;
    state *= 0x100000001b3ull;
    return *this;
  }
  constexpr auto add(std::uint64_t v) -> fnv1a& {
    for (int i = 0; i < 8; ++i) {
      state ^= (v >> (8 * i)) & 0xffu;
      state *= 0x100000001b3ull;
    }
    return *this;
  }
};

}  // namespace ormkit::detail
