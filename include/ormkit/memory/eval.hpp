// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/memory/eval.hpp
//
// SQL semantics in memory: value comparison and ordering, three-valued
// evaluation of the query AST, LIKE, and aggregates. The memory backend uses
// these so that it answers every query exactly as the SQL backends do.

#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/value.hpp>

#include <algorithm>
#include <cmath>
#include <compare>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ormkit::memory {

/// Three-valued truth: SQL's TRUE, FALSE and UNKNOWN (a comparison with NULL).
enum class truth { no, yes, unknown };

/// SQL comparison: unknown when either side is NULL.
inline auto compare(const value_view& a, const value_view& b) -> std::optional<std::strong_ordering> {
  if (a.index() == 0 || b.index() == 0) return std::nullopt;
  return order(a, b);
}

namespace detail {
// Decodes one UTF-8 sequence length at s[i] (1 for invalid bytes, so matching stays total).
inline auto utf8_step(std::string_view s, std::size_t i) -> std::size_t {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 1;
  return i + n <= s.size() ? n : 1;
}
}  // namespace detail

/// LIKE: `%` matches any run, `_` one UTF-8 character, `\` makes the next character literal.
/// Case-sensitive. Iterative with backtracking to the last `%` (linear memory).
inline auto like(std::string_view text, std::string_view pattern) -> bool {
  std::size_t t = 0, p = 0;
  std::size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      if (pattern[p] == '_') {
        t += detail::utf8_step(text, t);
        ++p;
        continue;
      }
      std::size_t lit = p;
      if (pattern[p] == '\\' && p + 1 < pattern.size()) lit = p + 1;
      std::size_t n = detail::utf8_step(pattern, lit);
      if (text.substr(t, n) == pattern.substr(lit, n)) {
        t += n;
        p = lit + n;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    star_t += detail::utf8_step(text, star_t);
    t = star_t;
    p = star_p;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

inline auto from_bool(bool b) -> truth { return b ? truth::yes : truth::no; }

/// Evaluates `e` on `row` (one view per column) with SQL three-valued logic.
inline auto evaluate(const expr& e, std::span<const value_view> row) -> truth {
  auto cmp = [&](auto pred) -> truth {
    auto c = compare(row[e.column], view(e.operands.at(0)));
    if (!c) return truth::unknown;
    return from_bool(pred(*c));
  };
  switch (e.kind) {
    case op::always: return truth::yes;
    case op::eq: return cmp([](auto c) { return c == 0; });
    case op::ne: return cmp([](auto c) { return c != 0; });
    case op::lt: return cmp([](auto c) { return c < 0; });
    case op::le: return cmp([](auto c) { return c <= 0; });
    case op::gt: return cmp([](auto c) { return c > 0; });
    case op::ge: return cmp([](auto c) { return c >= 0; });
    case op::like: {
      const auto& v = row[e.column];
      if (v.index() == 0) return truth::unknown;
      const auto* s = std::get_if<std::string_view>(&v);
      const auto* pat = std::get_if<std::string>(&e.operands.at(0));
      if (!s || !pat) return truth::no;
      return from_bool(like(*s, *pat));
    }
    case op::in: {
      const auto& v = row[e.column];
      if (v.index() == 0) return e.operands.empty() ? truth::no : truth::unknown;
      bool saw_null = false;
      for (const auto& o : e.operands) {
        auto c = compare(v, view(o));
        if (!c) saw_null = true;
        else if (*c == 0) return truth::yes;
      }
      return saw_null ? truth::unknown : truth::no;
    }
    case op::is_null: return from_bool(row[e.column].index() == 0);
    case op::is_not_null: return from_bool(row[e.column].index() != 0);
    case op::between: {
      auto lo = compare(row[e.column], view(e.operands.at(0)));
      auto hi = compare(row[e.column], view(e.operands.at(1)));
      truth a = lo ? from_bool(*lo >= 0) : truth::unknown;
      truth b = hi ? from_bool(*hi <= 0) : truth::unknown;
      if (a == truth::no || b == truth::no) return truth::no;
      if (a == truth::unknown || b == truth::unknown) return truth::unknown;
      return truth::yes;
    }
    case op::and_: {
      truth out = truth::yes;
      for (const auto& c : e.children) {
        auto t = evaluate(c, row);
        if (t == truth::no) return truth::no;
        if (t == truth::unknown) out = truth::unknown;
      }
      return out;
    }
    case op::or_: {
      truth out = truth::no;
      for (const auto& c : e.children) {
        auto t = evaluate(c, row);
        if (t == truth::yes) return truth::yes;
        if (t == truth::unknown) out = truth::unknown;
      }
      return out;
    }
    case op::not_: {
      auto t = evaluate(e.children.at(0), row);
      return t == truth::unknown ? truth::unknown : from_bool(t == truth::no);
    }
  }
  return truth::no;
}

/// True when `row` matches `e` (WHERE keeps only TRUE).
inline auto matches(const expr& e, std::span<const value_view> row) -> bool { return evaluate(e, row) == truth::yes; }

/// ORDER BY comparison of two rows for `terms`; NULLs first ascending, last descending.
inline auto order_rows(std::span<const value_view> a, std::span<const value_view> b,
                       std::span<const order_term> terms) -> std::strong_ordering {
  for (const auto& t : terms) {
    auto c = order(a[t.column], b[t.column]);
    if (c != 0) return t.descending ? 0 <=> c : c;
  }
  return std::strong_ordering::equal;
}

/// Accumulates one aggregate term over a group.
class accumulator {
 public:
  explicit accumulator(aggregate_term t) : term_(t) {}

  auto add(std::span<const value_view> row) -> status {
    if (term_.fn == aggregate_fn::count_all) {
      ++count_;
      return {};
    }
    const auto& v = row[term_.column];
    if (v.index() == 0) return {};
    ++count_;
    switch (term_.fn) {
      case aggregate_fn::sum:
      case aggregate_fn::avg:
        if (const auto* i = std::get_if<std::int64_t>(&v)) {
          rsum_ += static_cast<double>(*i);
          if (!overflow_ && __builtin_add_overflow(isum_, *i, &isum_)) overflow_ = true;
          if (overflow_ && !real_ && term_.fn == aggregate_fn::sum)
            return unexpected(errc::invalid_argument, "sum: integer overflow");
        } else if (const auto* r = std::get_if<double>(&v)) {
          real_ = true;
          rsum_ += *r;
        }
        break;
      case aggregate_fn::min:
        if (!best_ || order(v, view(*best_)) < 0) best_ = own(v);
        break;
      case aggregate_fn::max:
        if (!best_ || order(v, view(*best_)) > 0) best_ = own(v);
        break;
      default: break;
    }
    return {};
  }

  [[nodiscard]] auto result_value() const -> value {
    switch (term_.fn) {
      case aggregate_fn::count_all:
      case aggregate_fn::count: return static_cast<std::int64_t>(count_);
      case aggregate_fn::sum:
        if (count_ == 0) return {};
        if (real_) return rsum_;
        return isum_;
      case aggregate_fn::avg:
        if (count_ == 0) return {};
        return rsum_ / static_cast<double>(count_);
      case aggregate_fn::min:
      case aggregate_fn::max: return best_ ? *best_ : value{};
    }
    return {};
  }

 private:
  aggregate_term term_;
  std::uint64_t count_ = 0;
  std::int64_t isum_ = 0;
  double rsum_ = 0;
  bool real_ = false;
  bool overflow_ = false;
  std::optional<value> best_;
};

}  // namespace ormkit::memory
