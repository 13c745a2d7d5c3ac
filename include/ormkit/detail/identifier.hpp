// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/identifier.hpp
//
// The safe SQL identifier alphabet: [A-Za-z_][A-Za-z0-9_]*, 1..63 bytes
// (PostgreSQL truncates longer names, which makes distinct names collide).

#include <cstddef>
#include <string_view>

namespace ormkit::detail {

inline constexpr std::size_t max_identifier_length = 63;

[[nodiscard]] constexpr auto is_identifier(std::string_view s) -> bool {
  if (s.empty() || s.size() > max_identifier_length) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    if (!(alpha || (i > 0 && digit))) return false;
  }
  return true;
}

}  // namespace ormkit::detail
