// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/base64.hpp
//
// Standard base64 (RFC 4648 section 4: alphabet A-Z a-z 0-9 + /, '=' padding),
// used by the JSON codec for blobs. Decoding is strict: padding is required,
// no whitespace or line breaks, and the unused bits of the last group must be
// zero, so every byte string has exactly one accepted text.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ormkit::detail {

inline constexpr std::string_view base64_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Returns the base64 text of `bytes`, padded with '='.
[[nodiscard]] inline auto base64_encode(std::span<const std::byte> bytes) -> std::string {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const auto group = std::to_integer<std::uint32_t>(bytes[i]) << 16 |
                       std::to_integer<std::uint32_t>(bytes[i + 1]) << 8 | std::to_integer<std::uint32_t>(bytes[i + 2]);
    out += base64_alphabet[group >> 18];
    out += base64_alphabet[(group >> 12) & 63u];
    out += base64_alphabet[(group >> 6) & 63u];
    out += base64_alphabet[group & 63u];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    std::uint32_t group = std::to_integer<std::uint32_t>(bytes[i]) << 16;
    if (rest == 2) group |= std::to_integer<std::uint32_t>(bytes[i + 1]) << 8;
    out += base64_alphabet[group >> 18];
    out += base64_alphabet[(group >> 12) & 63u];
    out += rest == 2 ? base64_alphabet[(group >> 6) & 63u] : '=';
    out += '=';
  }
  return out;
}

// Returns the 6-bit value of a base64 digit, or 64 for anything else ('=' included).
constexpr auto base64_digit(char c) noexcept -> std::uint32_t {
  if (c >= 'A' && c <= 'Z') return static_cast<std::uint32_t>(c - 'A');
  if (c >= 'a' && c <= 'z') return static_cast<std::uint32_t>(c - 'a') + 26;
  if (c >= '0' && c <= '9') return static_cast<std::uint32_t>(c - '0') + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return 64;
}

/// The outcome of `base64_decode`: the bytes, or the offset of the first bad character.
struct base64_result {
  static constexpr std::size_t npos = static_cast<std::size_t>(-1);
  std::vector<std::byte> bytes;
  std::size_t error_offset = npos;  ///< text.size() when the length is not a multiple of 4

  [[nodiscard]] auto ok() const noexcept -> bool { return error_offset == npos; }
};

/// Decodes padded base64 text strictly (see the file comment).
[[nodiscard]] inline auto base64_decode(std::string_view text) -> base64_result {
  base64_result r;
  if (text.size() % 4 != 0) {
    r.error_offset = text.size();
    return r;
  }
  r.bytes.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    // Padding may only end the text: "xx==" or "xxx=".
    const std::size_t pad = last ? (text[i + 3] == '=' ? (text[i + 2] == '=' ? 2u : 1u) : 0u) : 0u;
    std::uint32_t group = 0;
    for (std::size_t k = 0; k < 4 - pad; ++k) {
      const std::uint32_t d = base64_digit(text[i + k]);
      if (d == 64) {
        r.error_offset = i + k;
        return r;
      }
      group = group << 6 | d;
    }
    group <<= 6 * pad;
    // Non-canonical text: the bits the padding discards must be zero.
    if ((pad == 1 && (group & 0xffu) != 0) || (pad == 2 && (group & 0xffffu) != 0)) {
      r.error_offset = i + 3 - pad;
      return r;
    }
    r.bytes.push_back(static_cast<std::byte>(group >> 16));
    if (pad < 2) r.bytes.push_back(static_cast<std::byte>((group >> 8) & 0xffu));
    if (pad < 1) r.bytes.push_back(static_cast<std::byte>(group & 0xffu));
  }
  return r;
}

}  // namespace ormkit::detail
