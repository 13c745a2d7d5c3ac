// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/json.hpp
//
// JSON for entities and columns; the only core header that includes
// <nlohmann/json.hpp>. It provides the entity codec driven by the descriptor
// (export, import, fixtures, backups), `column_traits` for `nlohmann::json`
// and for JSON-stored containers (`std::vector<T>`, `std::set<T>`,
// `std::map<std::string, T>`), and `parse_json`, a parser with a depth limit.
// Nothing here throws: every failure is a `result` whose message names the
// entity, the column and the JSON path.
//
// Example:
//
//   auto text = ormkit::to_json_text(user{.id = 7, .name = "Ada"});  // {"id":7,"name":"Ada",...}
//   auto back = ormkit::from_json_text<user>(*text);
//   // from_json_text<user>(R"({"id":"x"})") fails with
//   // "users.id: expected an integer, got string \"x\" (at $.id)"

#include <ormkit/column_traits.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/detail/base64.hpp>
#include <ormkit/detail/identifier.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/result.hpp>
#include <ormkit/value.hpp>

#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <ratio>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace ormkit {

//=== options ===//

/// The nesting limit `parse_json` and the JSON columns apply unless told otherwise.
inline constexpr std::size_t default_json_max_depth = 64;

/// Options of the entity codec.
struct json_options {
  /// Export `secret` columns, and require them on import like any other column.
  bool include_secrets = false;
  /// Import: ignore fields that name no column instead of failing.
  bool allow_unknown_fields = false;
  /// Deepest nesting of arrays and objects accepted (`[]` is depth 1, `[[]]` depth 2).
  std::size_t max_depth = default_json_max_depth;
  /// `to_json_text`: -1 for compact text, otherwise spaces per level.
  int indent = -1;
};

namespace detail::json_impl {

//=== text checks and messages ===//

// True for well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
[[nodiscard]] constexpr auto is_valid_utf8(std::string_view s) noexcept -> bool {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    // Lead byte -> sequence length and the allowed range of the first continuation
    // byte (narrowed after E0, ED, F0 and F4 to exclude overlongs, surrogates and > U+10FFFF).
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    const auto first = static_cast<unsigned char>(s[i + 1]);
    if (first < lo || first > hi) return false;
    for (std::size_t k = 2; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      if (cc < 0x80 || cc > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

// Where a value sits in a JSON document, as a chain of stack frames (nothing is
// allocated unless a message needs the path). `redact` is set under a `secret`
// column: messages then carry no values and paths no map keys.
struct json_cursor {
  enum class step : unsigned char { root, member, key, index };

  const json_cursor* parent = nullptr;
  std::string_view name;  // member or map key
  std::size_t index = 0;
  step kind = step::root;
  bool redact = false;
  std::size_t depth = 0;  // containers enclosing this value
  std::size_t max_depth = default_json_max_depth;

  [[nodiscard]] static auto root(std::size_t max_depth) -> json_cursor {
    json_cursor c;
    c.max_depth = max_depth;
    return c;
  }
  [[nodiscard]] auto member(std::string_view column, bool secret) const -> json_cursor {
    return {this, column, 0, step::member, redact || secret, depth + 1, max_depth};
  }
  [[nodiscard]] auto key(std::string_view k) const -> json_cursor {
    return {this, k, 0, step::key, redact, depth + 1, max_depth};
  }
  [[nodiscard]] auto element(std::size_t i) const -> json_cursor {
    return {this, {}, i, step::index, redact, depth + 1, max_depth};
  }

  /// Returns the path in JSONPath notation: `$.tags[2]`, `$.scores["a b"]`.
  [[nodiscard]] auto path() const -> std::string {
    std::vector<const json_cursor*> chain;
    for (const json_cursor* p = this; p != nullptr; p = p->parent) chain.push_back(p);
    std::string out = "$";
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      const json_cursor& c = **it;
      switch (c.kind) {
        case step::root:
          break;
        case step::member:
          out += '.';
          out += c.name;
          break;
        case step::key:
          if (c.redact) out += "[?]";
          else if (is_identifier(c.name)) out.append(".").append(c.name);
          else out.append("[").append(to_display(value_view(c.name), 32)).append("]");
          break;
        case step::index:
          out.append("[").append(std::to_string(c.index)).append("]");
          break;
      }
    }
    return out;
  }
};

// "string \"x\"", "number 3000000000", "number 1.0", "array": what a message says it got.
// Doubles always show a '.' or an exponent, so "expected an integer, got number 4.0" reads right.
[[nodiscard]] inline auto json_display(const nlohmann::json& j, bool redact) -> std::string {
  using json = nlohmann::json;
  std::string out = j.is_number() ? "number" : j.type_name();
  if (redact || j.is_null() || j.is_structured() || j.is_binary()) return out;
  out += ' ';
  // Test unsigned first: nlohmann's get_ptr<number_integer_t*> also answers for unsigned values.
  if (j.is_number_unsigned()) {
    out += std::to_string(j.get<json::number_unsigned_t>());
  } else if (j.is_number_integer()) {
    out += std::to_string(j.get<json::number_integer_t>());
  } else if (j.is_number_float()) {
    const std::string d = to_display(value_view(j.get<double>()));
    out += d;
    if (d.find_first_of(".eni") == std::string::npos) out += ".0";  // not 1e+300, inf, nan
  } else if (j.is_boolean()) {
    out += j.get<bool>() ? "true" : "false";
  } else if (j.is_string()) {
    out += to_display(value_view(std::string_view(j.get_ref<const std::string&>())), 32);
  }
  return out;
}

[[nodiscard]] inline auto json_error(const json_cursor& at, std::string what, errc code = errc::invalid_argument)
    -> ormkit::error {
  what += " (at ";
  what += at.path();
  what += ')';
  return {code, std::move(what)};
}

[[nodiscard]] inline auto json_expected(const json_cursor& at, std::string_view expected, const nlohmann::json& got)
    -> ormkit::error {
  return json_error(at, "expected " + std::string(expected) + ", got " + json_display(got, at.redact));
}

[[nodiscard]] inline auto json_out_of_range(const json_cursor& at, const nlohmann::json& got, std::string_view type)
    -> ormkit::error {
  return json_error(
      at, (at.redact ? std::string("number") : json_display(got, false)) + " is out of range for " + std::string(type));
}

// A column_traits failure moved to a JSON location; the trait's text may quote the value.
[[nodiscard]] inline auto json_trait_error(const json_cursor& at, const ormkit::error& e, std::string_view type)
    -> ormkit::error {
  auto code = e.code == make_error_code(errc::corrupt) ? errc::corrupt : errc::invalid_argument;
  return json_error(at, at.redact ? "value is not a valid " + std::string(type) : e.message, code);
}

//=== parsing with a depth limit ===//

// Builds the DOM from SAX events so that depth and duplicate keys are checked
// while parsing: returning false stops the (iterative) parser at once, and no
// value deeper than the limit is ever built.
// The type names nlohmann's SAX interface asks of a handler.
struct sax_types {
  using json = nlohmann::json;
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;
};

class json_dom_builder : public sax_types {
 public:

  json_dom_builder(json& root, std::size_t max_depth) : root_(root), max_depth_(max_depth) {}

  auto null() -> bool { return put(nullptr) != nullptr; }
  auto boolean(bool v) -> bool { return put(v) != nullptr; }
  auto number_integer(number_integer_t v) -> bool { return put(v) != nullptr; }
  auto number_unsigned(number_unsigned_t v) -> bool { return put(v) != nullptr; }
  auto number_float(number_float_t v, const string_t& /*text*/) -> bool { return put(v) != nullptr; }
  auto string(string_t& v) -> bool { return put(std::move(v)) != nullptr; }
  auto binary(binary_t& v) -> bool { return put(json::binary(std::move(v))) != nullptr; }
  auto start_object(std::size_t /*size*/) -> bool { return open(json::value_t::object); }
  auto start_array(std::size_t /*size*/) -> bool { return open(json::value_t::array); }
  auto end_object() -> bool { return close(); }
  auto end_array() -> bool { return close(); }

  auto key(string_t& k) -> bool {
    frame& top = stack_.back();
    if (top.value->contains(k)) {
      error_ = "duplicate key " + to_display(value_view(std::string_view(k)), 32) + " in a JSON object (at " +
               open_path() + ")";
      return false;
    }
    top.key = std::move(k);
    return true;
  }

  auto parse_error(std::size_t position, const std::string& last_token, const json::exception& e) -> bool {
    // nlohmann's text quotes the input near the error ("last read: '...'"); drop
    // it, because imported documents may hold secrets.
    std::string what = e.what();
    if (const auto b = what.find("] "); what.starts_with("[json.exception.") && b != std::string::npos)
      what.erase(0, b + 2);
    const std::string quoted = "; last read: '" + last_token + "'";
    if (const auto q = what.find(quoted); q != std::string::npos) what.erase(q, quoted.size());
    error_ = "malformed JSON at byte " + std::to_string(position);
    if (what.starts_with("parse error at ")) error_ += ", " + what.substr(15);  // "line 1, column 6: ..."
    else error_ += ": " + what;
    return false;
  }

  [[nodiscard]] auto error() const -> const std::string& { return error_; }

 private:
  struct frame {
    json* value;
    std::string key;  // the member being read, for objects
  };

  // "$.a[3]" for the innermost open container.
  [[nodiscard]] auto open_path() const -> std::string {
    std::string out = "$";
    for (std::size_t i = 1; i < stack_.size(); ++i) {
      const frame& outer = stack_[i - 1];
      if (outer.value->is_array()) {
        out += '[' + std::to_string(outer.value->size() - 1) + ']';
      } else if (is_identifier(outer.key)) {
        out += '.' + outer.key;
      } else {
        out += '[' + to_display(value_view(std::string_view(outer.key)), 32) + ']';
      }
    }
    return out;
  }

  template <class V>
  auto put(V&& v) -> json* {
    if (stack_.empty()) {
      root_ = json(std::forward<V>(v));
      return &root_;
    }
    frame& top = stack_.back();
    if (top.value->is_array()) {
      top.value->emplace_back(std::forward<V>(v));
      return &top.value->back();
    }
    json& slot = (*top.value)[top.key];
    slot = json(std::forward<V>(v));
    return &slot;
  }

  auto open(json::value_t type) -> bool {
    if (stack_.size() >= max_depth_) {
      error_ = "JSON nesting depth " + std::to_string(stack_.size() + 1) + " exceeds the limit of " +
               std::to_string(max_depth_);
      return false;
    }
    stack_.push_back({put(type), {}});
    return true;
  }

  auto close() -> bool {
    stack_.pop_back();
    return true;
  }

  json& root_;
  std::size_t max_depth_;
  std::vector<frame> stack_;
  std::string error_;
};

}  // namespace detail::json_impl

/// Parses JSON text into a DOM, checking the nesting while it parses.
///
/// Returns: the document. Duplicate keys in an object are rejected rather
/// than resolved (nlohmann would keep the last one silently).
/// Errors: `errc::invalid_argument` for malformed text (the message names the
/// 1-based offset of the offending byte, one past the end for truncated text,
/// and its line and column; it never quotes the input), for invalid UTF-8, for nesting deeper than
/// `max_depth` (the message names the depth reached), for a duplicate key
/// (the message names the key and its path), and for a number too large for a double.
/// The parser never recurses and never builds a value deeper than `max_depth`.
[[nodiscard]] inline auto parse_json(std::string_view text, std::size_t max_depth = default_json_max_depth)
    -> result<nlohmann::json> {
  nlohmann::json root;
  detail::json_impl::json_dom_builder builder(root, max_depth);
  try {
    if (!nlohmann::json::sax_parse(text.data(), text.data() + text.size(), &builder))
      return unexpected(errc::invalid_argument, builder.error().empty() ? "malformed JSON" : builder.error());
  } catch (const nlohmann::json::exception& e) {
    return unexpected(errc::invalid_argument, std::string("malformed JSON: ") + e.what());
  }
  return root;
}

namespace detail::json_impl {

//=== the value codec ===//
//
// write_json<M>(v, out, at) -> status and read_json<M>(j, at) -> result<M>,
// for every M with column_traits. Dispatch, first match wins:
//   1. column_traits<M> has to_json/from_json hooks: use them;
//   2. bool: a JSON boolean (column_traits<bool> has hooks too; this keeps it so without them);
//   3. std::optional: null <-> empty;
//   4. nlohmann::json: the value itself (depth, UTF-8 and finiteness checked);
//   5. std::vector / std::set / std::map<std::string, T> columns: arrays and objects;
//   6. system_clock time points: ISO-8601 UTC text with microseconds;
//   7. integers: JSON integers, exact over the whole int64 and uint64 range;
//   8. anything else through `value`: integer -> number, real -> number,
//      text -> string, blob -> base64 string (floats, strings, blobs, enums,
//      durations, user types).

template <class M>
concept has_json_hooks = requires(nlohmann::json& j, const nlohmann::json& cj, const M& v) {
  column_traits<M>::to_json(j, v);
  { column_traits<M>::from_json(cj) } -> std::same_as<result<M>>;
};

template <class T>
inline constexpr bool is_json_sequence_v = false;  // written as a JSON array
template <class T>
inline constexpr bool is_json_sequence_v<std::vector<T>> =
    !std::is_same_v<T, std::byte> && !std::is_same_v<T, unsigned char>;
template <class T>
inline constexpr bool is_json_sequence_v<std::set<T>> = true;

template <class T>
inline constexpr bool is_set_v = false;
template <class T>
inline constexpr bool is_set_v<std::set<T>> = true;

template <class T>
inline constexpr bool is_string_map_v = false;
template <class T>
inline constexpr bool is_string_map_v<std::map<std::string, T>> = true;

template <class T>
inline constexpr bool is_system_time_v = false;
template <class Duration>
inline constexpr bool is_system_time_v<std::chrono::time_point<std::chrono::system_clock, Duration>> = true;

template <class M>
auto write_json(const M& v, nlohmann::json& out, const json_cursor& at) -> status;
template <class M>
auto read_json(const nlohmann::json& j, const json_cursor& at) -> result<M>;

// Checks a JSON value bound for text: nesting within `at.max_depth` (counted from
// the document root), finite numbers, UTF-8 strings and keys, no binary values.
// Recursion is bounded by the depth limit.
[[nodiscard]] inline auto check_json_tree(const nlohmann::json& j, const json_cursor& at) -> status {
  using json = nlohmann::json;
  switch (j.type()) {
    case json::value_t::array:
    case json::value_t::object: {
      if (at.depth + 1 > at.max_depth)
        return json_error(at, "JSON nests deeper than " + std::to_string(at.max_depth) + " levels");
      if (j.is_array()) {
        std::size_t i = 0;
        for (const auto& e : j) ORMKIT_TRY(check_json_tree(e, at.element(i++)));
      } else {
        for (auto it = j.begin(); it != j.end(); ++it) {
          if (!is_valid_utf8(it.key())) return json_error(at, "object key is not valid UTF-8");
          ORMKIT_TRY(check_json_tree(it.value(), at.key(it.key())));
        }
      }
      return {};
    }
    case json::value_t::number_float:
      if (!std::isfinite(j.get<double>())) return json_error(at, "non-finite number is not representable in JSON");
      return {};
    case json::value_t::string:
      if (!is_valid_utf8(j.get_ref<const std::string&>())) return json_error(at, "text is not valid UTF-8");
      return {};
    case json::value_t::binary:
      return json_error(at, "binary value is not representable in JSON text");
    default:
      return {};
  }
}

//--- integers ---//

template <class I>
auto read_integer(const nlohmann::json& j, const json_cursor& at, std::string_view type) -> result<I> {
  using json = nlohmann::json;
  using limits = std::numeric_limits<I>;
  if (const auto* u = j.get_ptr<const json::number_unsigned_t*>()) {
    if (*u <= static_cast<std::uint64_t>(limits::max())) return static_cast<I>(*u);
  } else if (const auto* s = j.get_ptr<const json::number_integer_t*>()) {
    if constexpr (std::is_signed_v<I>) {
      if (*s >= static_cast<std::int64_t>(limits::min()) && *s <= static_cast<std::int64_t>(limits::max()))
        return static_cast<I>(*s);
    } else {
      if (*s >= 0 && static_cast<std::uint64_t>(*s) <= static_cast<std::uint64_t>(limits::max()))
        return static_cast<I>(*s);
    }
  } else {
    return json_expected(at, "an integer", j);
  }
  return json_out_of_range(at, j, type);
}

//--- values: the fallback for every other column type ---//

inline auto write_value(const value& v, nlohmann::json& out, const json_cursor& at) -> status {
  switch (storage_of(v)) {
    case storage::null:
      out = nullptr;
      break;
    case storage::integer:
      out = std::get<std::int64_t>(v);
      break;
    case storage::real: {
      const double d = std::get<double>(v);
      if (!std::isfinite(d))
        return json_error(at, at.redact ? std::string("non-finite number is not representable in JSON")
                                        : "non-finite number " + to_display(v) + " is not representable in JSON");
      out = d;
      break;
    }
    case storage::text: {
      const auto& s = std::get<std::string>(v);
      if (!is_valid_utf8(s)) return json_error(at, "text is not valid UTF-8");
      out = s;
      break;
    }
    case storage::blob:
      out = base64_encode(std::get<blob>(v));
      break;
  }
  return {};
}

template <class M>
auto read_value(const nlohmann::json& j, const json_cursor& at) -> result<M> {
  using traits = column_traits<M>;
  value_view in;
  std::vector<std::byte> bytes;
  switch (traits::storage) {
    case storage::null:
      if (!j.is_null()) return json_expected(at, "null", j);
      break;
    case storage::integer: {
      auto i = read_integer<std::int64_t>(j, at, traits::name);
      if (!i) return std::move(i).error();
      in = *i;
      break;
    }
    case storage::real: {
      if (!j.is_number()) return json_expected(at, "a number", j);
      const double d = j.get<double>();
      if (!std::isfinite(d)) return json_error(at, "non-finite number is not representable in JSON");
      in = d;
      break;
    }
    case storage::text:
      if (!j.is_string()) return json_expected(at, "a string", j);
      in = std::string_view(j.get_ref<const std::string&>());
      break;
    case storage::blob: {
      if (!j.is_string()) return json_expected(at, "base64 text", j);
      auto decoded = base64_decode(j.get_ref<const std::string&>());
      if (!decoded.ok()) return json_error(at, "invalid base64 text at offset " + std::to_string(decoded.error_offset));
      bytes = std::move(decoded.bytes);
      in = blob_view(bytes);
      break;
    }
  }
  auto r = traits::from_value(in);
  if (!r) return json_trait_error(at, r.error(), traits::name);
  return r;
}

//--- time points ---//

inline void append_digits(std::string& out, std::uint64_t v, std::size_t width) {
  char buf[20];
  std::size_t n = 0;
  do {
    buf[n++] = static_cast<char>('0' + v % 10);
    v /= 10;
  } while (v != 0);
  while (n < width) buf[n++] = '0';
  while (n > 0) out += buf[--n];
}

inline constexpr std::string_view iso8601_expected =
    "ISO-8601 UTC text such as \"2026-11-21T23:40:11.123456Z\" or integer microseconds";

// `us` microseconds plus `ns` (0..999) nanoseconds since the epoch, as `Duration`
// rounded down; nullopt when Duration cannot hold it.
template <class Duration>
auto duration_from_micros(std::int64_t us, std::int64_t ns) -> std::optional<Duration> {
  using namespace std::chrono;
  using rep = typename Duration::rep;
  if constexpr (std::chrono::treat_as_floating_point_v<rep>) {
    return duration_cast<Duration>(microseconds(us)) + duration_cast<Duration>(nanoseconds(ns));
  } else {
    using wide = duration<std::int64_t, typename Duration::period>;
    wide w{};
    if constexpr (std::ratio_less_equal_v<std::micro, typename Duration::period>) {
      w = floor<wide>(microseconds(us));  // coarser: the nanoseconds cannot change the floor
    } else {
      constexpr std::int64_t per_us = duration_cast<wide>(microseconds(1)).count();
      if (us > std::numeric_limits<std::int64_t>::max() / per_us - 1 ||
          us < std::numeric_limits<std::int64_t>::min() / per_us + 1)
        return std::nullopt;
      w = wide(us * per_us) + floor<wide>(nanoseconds(ns));
    }
    if (!std::in_range<rep>(w.count())) return std::nullopt;
    return Duration(static_cast<rep>(w.count()));
  }
}

struct iso8601_time {
  std::int64_t micros;  // since the epoch, rounded down
  std::int64_t nanos;   // 0..999 beyond `micros`
};

// Parses "YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|+HH:MM|-HH:MM)"; 't' and 'z' are accepted as in RFC 3339.
[[nodiscard]] inline auto parse_iso8601(std::string_view s) -> std::optional<iso8601_time> {
  auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (std::size_t k = pos; k < pos + n; ++k) {
      if (s[k] < '0' || s[k] > '9') return std::nullopt;
      v = v * 10 + (s[k] - '0');
    }
    return v;
  };
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
    return std::nullopt;
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
  const auto h = digits(11, 2), mi = digits(14, 2), sec = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !sec || *h > 23 || *mi > 59 || *sec > 59) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year(*y), std::chrono::month(static_cast<unsigned>(*mo)),
                                        std::chrono::day(static_cast<unsigned>(*d))};
  if (!ymd.ok()) return std::nullopt;

  std::size_t p = 19;
  std::int64_t frac_ns = 0;
  if (s[p] == '.') {
    std::size_t n = 0;
    for (++p; p < s.size() && s[p] >= '0' && s[p] <= '9'; ++p, ++n) {
      if (n == 9) return std::nullopt;
      frac_ns = frac_ns * 10 + (s[p] - '0');
    }
    if (n == 0) return std::nullopt;
    for (; n < 9; ++n) frac_ns *= 10;
  }
  std::int64_t offset_s = 0;
  if (p < s.size() && (s[p] == 'Z' || s[p] == 'z') && p + 1 == s.size()) {
    // UTC
  } else if (p < s.size() && (s[p] == '+' || s[p] == '-') && p + 6 == s.size() && s[p + 3] == ':') {
    const auto oh = digits(p + 1, 2), om = digits(p + 4, 2);
    if (!oh || !om || *oh > 23 || *om > 59) return std::nullopt;
    offset_s = (s[p] == '-' ? -1 : 1) * (*oh * 3600 + *om * 60);
  } else {
    return std::nullopt;
  }
  const std::int64_t days = std::chrono::sys_days(ymd).time_since_epoch().count();
  const std::int64_t seconds = days * 86400 + *h * 3600 + *mi * 60 + *sec - offset_s;
  return iso8601_time{seconds * 1'000'000 + frac_ns / 1000, frac_ns % 1000};
}

template <class Duration>
auto write_time(const std::chrono::time_point<std::chrono::system_clock, Duration>& t, nlohmann::json& out,
                const json_cursor& at) -> status {
  using namespace std::chrono;
  static constexpr sys_days first{year(0) / January / 1};
  static constexpr sys_days last{year(9999) / December / 31};
  const sys_days day = floor<days>(t);
  if (day < first || day > last)
    return json_error(at, "time point is outside the years 0000-9999 that ISO-8601 text can hold");
  const year_month_day ymd{day};
  const auto us = static_cast<std::uint64_t>(floor<microseconds>(t - day).count());  // 0 .. 86'399'999'999
  std::string s;
  s.reserve(27);
  append_digits(s, static_cast<std::uint64_t>(static_cast<int>(ymd.year())), 4);
  s += '-';
  append_digits(s, static_cast<unsigned>(ymd.month()), 2);
  s += '-';
  append_digits(s, static_cast<unsigned>(ymd.day()), 2);
  s += 'T';
  append_digits(s, us / 3'600'000'000u, 2);
  s += ':';
  append_digits(s, us / 60'000'000u % 60, 2);
  s += ':';
  append_digits(s, us / 1'000'000u % 60, 2);
  s += '.';
  append_digits(s, us % 1'000'000u, 6);
  s += 'Z';
  out = std::move(s);
  return {};
}

template <class Duration>
auto read_time(const nlohmann::json& j, const json_cursor& at)
    -> result<std::chrono::time_point<std::chrono::system_clock, Duration>> {
  using type = std::chrono::time_point<std::chrono::system_clock, Duration>;
  iso8601_time t{};
  if (j.is_string()) {
    auto parsed = parse_iso8601(j.get_ref<const std::string&>());
    if (!parsed) return json_expected(at, iso8601_expected, j);
    t = *parsed;
  } else if (j.is_number_integer()) {
    auto us = read_integer<std::int64_t>(j, at, "timestamp_us");
    if (!us) return std::move(us).error();
    t = {*us, 0};
  } else {
    return json_expected(at, iso8601_expected, j);
  }
  auto d = duration_from_micros<Duration>(t.micros, t.nanos);
  if (!d) return json_error(at, "time point is out of range for its clock duration");
  return type(*d);
}

//--- the dispatch ---//

template <class M>
auto write_json(const M& v, nlohmann::json& out, const json_cursor& at) -> status {
  using json = nlohmann::json;
  if constexpr (has_json_hooks<M>) {
    using R = decltype(column_traits<M>::to_json(out, v));
    if constexpr (std::is_void_v<R>) {
      column_traits<M>::to_json(out, v);
    } else {
      auto r = column_traits<M>::to_json(out, v);
      if (!r) return json_trait_error(at, r.error(), column_traits<M>::name);
    }
    return {};
  } else if constexpr (std::is_same_v<M, bool>) {
    out = v;
    return {};
  } else if constexpr (is_nullable_v<M>) {
    if (!v) {
      out = nullptr;
      return {};
    }
    return write_json(*v, out, at);
  } else if constexpr (std::is_same_v<M, json>) {
    ORMKIT_TRY(check_json_tree(v, at));
    out = v;
    return {};
  } else if constexpr (is_json_sequence_v<M>) {
    out = json::array();
    auto& items = out.get_ref<json::array_t&>();
    items.reserve(v.size());
    std::size_t i = 0;
    for (const auto& e : v) {
      items.emplace_back();
      ORMKIT_TRY(write_json(e, items.back(), at.element(i++)));
    }
    return {};
  } else if constexpr (is_string_map_v<M>) {
    out = json::object();
    for (const auto& [k, e] : v) {
      if (!is_valid_utf8(k)) return json_error(at, "object key is not valid UTF-8");
      ORMKIT_TRY(write_json(e, out[k], at.key(k)));
    }
    return {};
  } else if constexpr (is_system_time_v<M>) {
    return write_time(v, out, at);
  } else if constexpr (std::is_integral_v<M>) {
    if constexpr (std::is_signed_v<M>) out = static_cast<std::int64_t>(v);
    else out = static_cast<std::uint64_t>(v);
    return {};
  } else {
    static_assert(column_value<M>,
                  "ormkit: no JSON mapping for this member type; specialize ormkit::column_traits<T> "
                  "(optionally with to_json/from_json hooks)");
    result<value> r = encode(v);
    if (!r) return json_trait_error(at, r.error(), column_traits<M>::name);
    return write_value(*r, out, at);
  }
}

template <class M>
auto read_json(const nlohmann::json& j, const json_cursor& at) -> result<M> {
  using json = nlohmann::json;
  if constexpr (has_json_hooks<M>) {
    auto r = column_traits<M>::from_json(j);
    if (!r) return json_trait_error(at, r.error(), column_traits<M>::name);
    return r;
  } else if constexpr (std::is_same_v<M, bool>) {
    if (!j.is_boolean()) return json_expected(at, "a boolean", j);
    return j.get<bool>();
  } else if constexpr (is_nullable_v<M>) {
    if (j.is_null()) return M{};
    auto r = read_json<typename M::value_type>(j, at);
    if (!r) return std::move(r).error();
    return M(std::move(*r));
  } else if constexpr (std::is_same_v<M, json>) {
    ORMKIT_TRY(check_json_tree(j, at));
    return j;
  } else if constexpr (is_json_sequence_v<M>) {
    if (!j.is_array()) return json_expected(at, "an array", j);
    M out;
    if constexpr (!is_set_v<M>) out.reserve(j.size());
    std::size_t i = 0;
    for (const auto& e : j) {
      const json_cursor here = at.element(i++);
      auto r = read_json<typename M::value_type>(e, here);
      if (!r) return std::move(r).error();
      if constexpr (is_set_v<M>) {
        if (!out.insert(std::move(*r)).second) return json_error(here, "duplicate element in a set");
      } else {
        out.push_back(std::move(*r));
      }
    }
    return out;
  } else if constexpr (is_string_map_v<M>) {
    if (!j.is_object()) return json_expected(at, "an object", j);
    M out;
    for (auto it = j.begin(); it != j.end(); ++it) {
      auto r = read_json<typename M::mapped_type>(it.value(), at.key(it.key()));
      if (!r) return std::move(r).error();
      out.emplace_hint(out.end(), it.key(), std::move(*r));  // nlohmann objects are sorted like std::map
    }
    return out;
  } else if constexpr (is_system_time_v<M>) {
    return read_time<typename M::duration>(j, at);
  } else if constexpr (std::is_integral_v<M>) {
    return read_integer<M>(j, at, column_traits<M>::name);
  } else {
    static_assert(column_value<M>,
                  "ormkit: no JSON mapping for this member type; specialize ormkit::column_traits<T> "
                  "(optionally with to_json/from_json hooks)");
    return read_value<M>(j, at);
  }
}

// Compact text of a checked DOM; strict so that invalid UTF-8 can never be replaced silently.
[[nodiscard]] inline auto dump_json(const nlohmann::json& j, int indent = -1) -> result<std::string> {
  try {
    return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::strict);
  } catch (const nlohmann::json::exception& e) {
    return unexpected(errc::invalid_argument, std::string("JSON cannot be written: ") + e.what());
  }
}

//=== column_traits for JSON-stored values ===//

// A type name built at compile time: joined_name<a, b, c>::value is "abc".
template <const std::string_view&... Parts>
struct joined_name {
  static constexpr auto chars = [] {
    std::array<char, (Parts.size() + ... + 0)> out{};
    std::size_t k = 0;
    for (std::string_view part : {Parts...})
      for (char c : part) out[k++] = c;
    return out;
  }();
  static constexpr std::string_view value{chars.data(), chars.size()};
};

inline constexpr std::string_view name_array = "json_array<";
inline constexpr std::string_view name_set = "json_set<";
inline constexpr std::string_view name_object = "json_object<";
inline constexpr std::string_view name_optional = "optional<";
inline constexpr std::string_view name_close = ">";

// The name of an element type: like column_traits<T>::name, but optional is visible
// (a column's nullability is hashed separately; an element's is not).
template <class T>
inline constexpr std::string_view element_name = column_traits<T>::name;
template <class T>
inline constexpr std::string_view element_name<std::optional<T>> =
    joined_name<name_optional, element_name<T>, name_close>::value;

// The column_traits of a JSON-stored container; its value is the compact JSON text.
// C: the container. Kind: name_array, name_set or name_object. Element: its element type.
template <class C, const std::string_view& Kind, class Element>
struct json_text_column {
  /// "json_array<string>", "json_object<optional<int32>>": stable, hashed into the schema.
  static constexpr std::string_view name = joined_name<Kind, element_name<Element>, name_close>::value;
  static constexpr ormkit::storage storage = ormkit::storage::text;
  static constexpr sql_kind kind = sql_kind::json;

  /// Returns the compact JSON text.
  /// Errors: errc::invalid_argument for a non-finite number or invalid UTF-8.
  static auto to_value(const C& c) -> result<value> {
    nlohmann::json j;
    ORMKIT_TRY(write_json(c, j, json_cursor{}));
    auto text = dump_json(j);
    if (!text) return std::move(text).error();
    return value(std::move(*text));
  }

  /// Errors: errc::corrupt for text that `parse_json` rejects (malformed, deeper
  /// than 64 levels, duplicate keys); errc::invalid_argument for JSON of the wrong
  /// shape or range, with the path inside the value (`... (at $[1])`).
  static auto from_value(const value_view& v) -> result<C> {
    const auto* text = std::get_if<std::string_view>(&v);
    if (text == nullptr) return column_traits_mismatch(name, storage, v);
    auto j = parse_json(*text);
    if (!j) return unexpected(errc::corrupt, std::move(j).error().message);
    return read_json<C>(*j, json_cursor{});
  }
};

}  // namespace detail::json_impl

/// `nlohmann::json` columns store the compact text (SQL kind json).
///
/// `to_value` errors (errc::invalid_argument): nesting deeper than 64 levels,
/// NaN or infinity (which nlohmann would write as null), binary values, invalid UTF-8.
/// `from_value` errors: errc::corrupt for text that `parse_json` rejects
/// (malformed, deeper than 64 levels, duplicate keys).
template <>
struct column_traits<nlohmann::json> {
  static constexpr std::string_view name = "json";
  static constexpr ormkit::storage storage = ormkit::storage::text;
  static constexpr sql_kind kind = sql_kind::json;

  static auto to_value(const nlohmann::json& j) -> result<value> {
    namespace impl = detail::json_impl;
    ORMKIT_TRY(impl::check_json_tree(j, impl::json_cursor{}));
    auto text = impl::dump_json(j);
    if (!text) return std::move(text).error();
    return value(std::move(*text));
  }
  static auto from_value(const value_view& v) -> result<nlohmann::json> {
    const auto* text = std::get_if<std::string_view>(&v);
    if (text == nullptr) return column_traits_mismatch(name, storage, v);
    auto j = parse_json(*text);
    if (!j) return unexpected(errc::corrupt, std::move(j).error().message);
    return j;
  }
};

/// `std::vector<T>` stored as a JSON array. `std::vector<std::byte>` and
/// `std::vector<unsigned char>` are excluded: they are blobs (column_traits.hpp).
template <class T>
  requires(column_value<T> && !std::is_same_v<T, std::byte> && !std::is_same_v<T, unsigned char>)
struct column_traits<std::vector<T>>
    : detail::json_impl::json_text_column<std::vector<T>, detail::json_impl::name_array, T> {};

/// `std::set<T>` stored as a JSON array in set order; reading rejects duplicates.
template <class T>
  requires column_value<T>
struct column_traits<std::set<T>> : detail::json_impl::json_text_column<std::set<T>, detail::json_impl::name_set, T> {
};

/// `std::map<std::string, T>` stored as a JSON object.
template <class T>
  requires column_value<T>
struct column_traits<std::map<std::string, T>>
    : detail::json_impl::json_text_column<std::map<std::string, T>, detail::json_impl::name_object, T> {
};

//=== the entity codec ===//

namespace detail::json_impl {

template <class T>
inline constexpr auto column_names_v = [] {
  std::array<std::string_view, column_count_v<T>> names{};
  for_each_column<T>([&](const auto& c, auto i) { names[i] = c.name; });
  return names;
}();

// "users.age: " + message, or "users: " + message when `column` is empty.
inline auto prefix_error(std::string_view table, std::string_view column, ormkit::error e) -> ormkit::error {
  std::string subject(table);
  if (!column.empty()) subject.append(".").append(column);
  e.message = subject + ": " + e.message;
  return e;
}

}  // namespace detail::json_impl

/// Returns `entity` as a JSON object keyed by column name.
///
/// Keys come out sorted (nlohmann::json objects are ordered maps), so an export
/// does not change when members are reordered. `secret` columns are left out
/// unless `opts.include_secrets`. Mapping: integers are JSON integers (int64 and
/// uint64 exact, beyond 2^53 too), floating point numbers are numbers, bool is
/// a boolean, text a string, blobs base64 strings, empty optionals null, time
/// points ISO-8601 UTC text with microseconds ("2026-11-21T23:40:11.123456Z",
/// rounded down like storage), durations their tick count, enums their integer
/// or name (as stored), `nlohmann::json` members the value itself, vectors and
/// sets arrays, maps objects. A type whose column_traits has `to_json` /
/// `from_json` hooks uses them; any other column type maps through its `value`.
///
/// Errors: errc::invalid_argument naming entity, column and path
/// (`scalars.real: non-finite number nan is not representable in JSON (at $.real)`)
/// for NaN or infinity, text that is not valid UTF-8, a time point outside the
/// years 0000-9999, JSON members nesting deeper than `opts.max_depth` (counted
/// from the document root), and values a column_traits refuses.
template <entity T>
[[nodiscard]] auto to_json(const T& entity, const json_options& opts = {}) -> result<nlohmann::json> {
  namespace impl = detail::json_impl;
  constexpr std::string_view table = table_name_v<T>;
  nlohmann::json out = nlohmann::json::object();
  status outcome;  // the first error; later columns are skipped
  try {
    const auto root = impl::json_cursor::root(opts.max_depth);
    for_each_column<T>([&](const auto& c, auto) {
      if (!outcome || (c.has(column_flags::secret) && !opts.include_secrets)) return;
      const auto at = root.member(c.name, c.has(column_flags::secret));
      if (auto st = impl::write_json(entity.*c.member, out[std::string(c.name)], at); !st)
        outcome = impl::prefix_error(table, c.name, std::move(st).error());
    });
  } catch (const nlohmann::json::exception& e) {
    return unexpected(errc::invalid_argument, std::string(table) + ": " + e.what());
  }
  if (!outcome) return std::move(outcome).error();
  return out;
}

/// Builds an entity from a JSON object keyed by column name (the inverse of `to_json`).
///
/// Starts from a value-initialized `T{}`. A missing field is an error, except
/// for an optional column (set to empty), a column with `default_value` (set to
/// it), an `auto_increment` key and, without `opts.include_secrets`, a `secret`
/// column (these two keep the member's initializer). Numbers are checked against
/// the member's range, never wrapped or rounded to fit, and integers take no
/// fractions (not even 1.0). Time points accept ISO-8601 text with any UTC
/// offset and up to nine fractional digits (rounded down to what the member
/// holds) or integer microseconds since the epoch. Column rules are not checked
/// here: the validator does that.
///
/// Errors: errc::invalid_argument naming entity, column and path, e.g.
/// `users.age: expected an integer, got string "x" (at $.age)`, for a value that
/// is not an object, an unknown field (unless `opts.allow_unknown_fields`), a
/// missing field, a wrong type, a number out of range, invalid base64, an
/// unknown enum name, or a JSON member deeper than `opts.max_depth`. Values of
/// `secret` columns are never quoted. Never throws.
template <entity T>
[[nodiscard]] auto from_json(const nlohmann::json& j, const json_options& opts = {}) -> result<T> {
  static_assert(std::is_default_constructible_v<T>,
                "ormkit: from_json starts from T{}; give every member a default constructor or initializer");
  namespace impl = detail::json_impl;
  constexpr std::string_view table = table_name_v<T>;
  const auto root = impl::json_cursor::root(opts.max_depth);
  if (!j.is_object()) return impl::prefix_error(table, {}, impl::json_expected(root, "an object", j));
  try {
    // Unknown fields first: a misspelt field explains the "missing" error that would follow.
    if (!opts.allow_unknown_fields) {
      for (auto it = j.begin(); it != j.end(); ++it) {
        bool known = false;
        for (std::string_view name : impl::column_names_v<T>) known = known || name == it.key();
        if (!known)
          return impl::prefix_error(
              table, {}, impl::json_error(root.key(it.key()), "unknown field " + to_display(value_view(it.key()), 32)));
      }
    }
    T out{};
    status outcome;  // the first error; later columns are skipped
    for_each_column<T>([&](const auto& c, auto) {
      using M = typename std::remove_cvref_t<decltype(c)>::member_type;
      if (!outcome) return;
      const auto at = root.member(c.name, c.has(column_flags::secret));
      const auto it = j.find(c.name);
      if (it != j.end()) {
        auto r = impl::read_json<M>(*it, at);
        if (!r) outcome = impl::prefix_error(table, c.name, std::move(r).error());
        else out.*c.member = std::move(*r);
      } else if constexpr (is_nullable_v<M>) {
        out.*c.member = M{};
      } else if (c.has_default) {
        const value fallback = detail::to_value(c.default_val);
        auto r = decode<M>(view(fallback));
        if (!r)
          outcome = impl::prefix_error(table, c.name, impl::json_trait_error(at, r.error(), column_traits<M>::name));
        else out.*c.member = std::move(*r);
      } else if (!c.has(column_flags::auto_increment) && (opts.include_secrets || !c.has(column_flags::secret))) {
        outcome = impl::prefix_error(table, c.name, impl::json_error(at, "required field is missing"));
      }
    });
    if (!outcome) return std::move(outcome).error();
    return out;
  } catch (const nlohmann::json::exception& e) {
    return unexpected(errc::invalid_argument, std::string(table) + ": " + e.what());
  }
}

/// Returns `to_json(entity, opts)` as text: compact, or indented by `opts.indent`.
///
/// Errors: those of `to_json`.
template <entity T>
[[nodiscard]] auto to_json_text(const T& entity, const json_options& opts = {}) -> result<std::string> {
  auto j = to_json(entity, opts);
  if (!j) return std::move(j).error();
  auto text = detail::json_impl::dump_json(*j, opts.indent);
  if (!text) return detail::json_impl::prefix_error(table_name_v<T>, {}, std::move(text).error());
  return text;
}

/// Parses `text` with `parse_json(text, opts.max_depth)` and decodes it with `from_json<T>`.
///
/// Errors: errc::invalid_argument, subject first:
/// `users: malformed JSON at byte 2, line 1, column 2: ...` for text `parse_json`
/// rejects, otherwise those of `from_json`.
template <entity T>
[[nodiscard]] auto from_json_text(std::string_view text, const json_options& opts = {}) -> result<T> {
  auto j = parse_json(text, opts.max_depth);
  if (!j) return detail::json_impl::prefix_error(table_name_v<T>, {}, std::move(j).error());
  return from_json<T>(*j, opts);
}

}  // namespace ormkit
