// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/sqlite/sql.hpp
//
// SQL text for SQLite, generated from a `table_schema` and the query AST.
// Identifiers are always double-quoted (the backend turns double-quoted
// string literals off, so a misspelt name is an error, never a string);
// every value of a query or a row becomes a `?` parameter, collected in
// order into `parameters`. The only constants ever written into SQL text are
// DDL defaults from descriptors, which cannot be bound.
//
// The generated text depends only on the statement's shape, so it doubles as
// the statement cache key (sqlite/statement.hpp). IN lists are padded to a
// power of two by repeating their last value (which cannot change the
// result), so lists of 5 to 8 keys share one statement.
//
// Example:
//
//   ormkit::sqlite::parameters params;
//   std::string where;
//   auto st = ormkit::sqlite::append_condition(where, ormkit::schema_of<user>(), q.where, params);
//   // where == R"(("age" >= ? AND "name" IS NOT NULL))", params.values == {18}

#include <ormkit/detail/sqlgen.hpp>
#include <ormkit/memory/eval.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ormkit::sqlite {

/// The SQL function the backend registers on every connection for `op::like`:
/// `ormkit_like(text, pattern)` runs `ormkit::memory::like`, so LIKE means
/// exactly the same on both backends (see backend.hpp for why not SQLite's LIKE).
inline constexpr std::string_view like_function = "ormkit_like";

/// Appends `name` double-quoted, with embedded quotes doubled.
inline void append_identifier(std::string& out, std::string_view name) {
  ormkit::detail::sqlgen::append_identifier(out, name);
}

/// Returns `name` double-quoted.
[[nodiscard]] inline auto quote_identifier(std::string_view name) -> std::string {
  std::string out;
  append_identifier(out, name);
  return out;
}

/// The declared type of column `c`. It follows the storage class, not the C++
/// type, because the declared type fixes SQLite's type affinity, which converts
/// values on the way in: TEXT affinity would turn a bound integer into text,
/// NUMERIC would turn 1.0 into 1. Integers are INTEGER (booleans and timestamps
/// too), text is TEXT (JSON too), blobs are BLOB.
///
/// Reals get no declared type (no affinity) rather than REAL: REAL affinity stores
/// a float with an integral value as an integer, so -0.0 comes back as +0.0, and it
/// turns an integer written to the column into a real. Without affinity SQLite keeps
/// exactly what was bound, as the memory backend (and PostgreSQL's float8) do.
[[nodiscard]] constexpr auto column_type(const column_schema& c) noexcept -> std::string_view {
  switch (c.storage) {
    case storage::integer: return "INTEGER";
    case storage::real: return "";
    case storage::text: return "TEXT";
    case storage::blob: return "BLOB";
    case storage::null: break;
  }
  return "";  // no affinity: stores what it is given
}

/// Appends `v` as a SQL literal. Only for DDL defaults from descriptors, which
/// SQLite cannot take as parameters; row and query values are always bound.
inline void append_literal(std::string& out, const value& v) {
  constexpr char hex[] = "0123456789abcdef";
  switch (v.index()) {
    case 1: out += std::to_string(std::get<1>(v)); return;
    case 2: {
      double d = std::get<2>(v);
      if (std::isnan(d)) {
        out += "NULL";  // SQLite stores NaN as NULL anyway
        return;
      }
      if (std::isinf(d)) {
        out += d > 0 ? "9e999" : "-9e999";  // SQLite reads an overflowing literal as infinity
        return;
      }
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
      std::string_view text(buf, static_cast<std::size_t>(r.ptr - buf));
      out += text;
      if (text.find_first_of(".eE") == std::string_view::npos) out += ".0";  // keep it REAL
      return;
    }
    case 3: {
      const auto& s = std::get<3>(v);
      if (s.find('\0') != std::string::npos) {
        // A quoted literal ends at NUL; spell the bytes out.
        out += "(CAST(X'";
        for (char c : s) {
          out += hex[static_cast<unsigned char>(c) >> 4];
          out += hex[static_cast<unsigned char>(c) & 15];
        }
        out += "' AS TEXT))";
        return;
      }
      out += '\'';
      for (char c : s) {
        if (c == '\'') out += '\'';
        out += c;
      }
      out += '\'';
      return;
    }
    case 4: {
      out += "X'";
      for (std::byte b : std::get<4>(v)) {
        auto c = std::to_integer<unsigned>(b);
        out += hex[c >> 4];
        out += hex[c & 15];
      }
      out += '\'';
      return;
    }
    default: out += "NULL"; return;
  }
}

/// Appends what follows column `c`'s name in a table definition: its type, then
/// `PRIMARY KEY AUTOINCREMENT` for the auto-increment key (a rowid alias: NULL asks
/// SQLite for the next key, so no NOT NULL there), else NOT NULL unless nullable; the
/// DEFAULT from the descriptor; `REFERENCES "t"("c") ON DELETE RESTRICT`.
inline void append_column_definition(std::string& sql, const column_schema& c, bool auto_increment = false) {
  if (auto type = column_type(c); !type.empty()) {
    sql += ' ';
    sql += type;
  }
  if (auto_increment) sql += " PRIMARY KEY AUTOINCREMENT";
  else if (!c.nullable) sql += " NOT NULL";
  if (c.default_value) {
    sql += " DEFAULT ";
    append_literal(sql, *c.default_value);
  }
  if (c.references) ormkit::detail::sqlgen::append_references(sql, c.references->table, c.references->column);
}

/// `CREATE TABLE IF NOT EXISTS` for `s`: every column with its `column_type`,
/// NOT NULL unless nullable, DEFAULT from the descriptor, `REFERENCES "t"("c")
/// ON DELETE RESTRICT` for foreign keys; an auto-increment key as
/// `INTEGER PRIMARY KEY AUTOINCREMENT` (keys are never reused, as in the memory
/// backend), any other key as a `PRIMARY KEY (...)` table constraint. Unique keys
/// and indexes are separate statements (`create_index_sql`), so that each
/// constraint carries the descriptor's name.
[[nodiscard]] inline auto create_table_sql(const table_schema& s) -> std::string {
  return ormkit::detail::sqlgen::create_table(s, [&](std::string& sql, std::size_t i) -> status {
           append_column_definition(sql, s.columns[i], s.auto_increment && *s.auto_increment == i);
           return {};
         })
      .value();  // the definition cannot fail
}

/// `CREATE [UNIQUE] INDEX IF NOT EXISTS "name" ON "table" ("c1", ...)`.
[[nodiscard]] inline auto create_index_sql(const table_schema& s, const index_schema& ix) -> std::string {
  return ormkit::detail::sqlgen::create_index(ix.unique, ix.name, s.name, ix.columns.size(),
                                              [&](std::size_t k) { return s.columns.at(ix.columns[k]).name; });
}

/// The statements that create `s`: the table, then its indexes in reverse order.
/// SQLite checks a new row against the unique indexes from the most recently
/// created one back, and the memory backend checks them in schema order; creating
/// them backwards makes a row that breaks two unique keys report the same one on
/// both backends.
[[nodiscard]] inline auto schema_sql(const table_schema& s) -> std::vector<std::string> {
  std::vector<std::string> out{create_table_sql(s)};
  for (auto ix = s.indexes.rbegin(); ix != s.indexes.rend(); ++ix) out.push_back(create_index_sql(s, *ix));
  return out;
}

/// How `s`'s hidden row id can be named: "rowid", or "_rowid_" / "oid" when a
/// column already has that name; empty when all three are taken.
[[nodiscard]] inline auto rowid_name(const table_schema& s) -> std::string_view {
  auto is_column = [&](std::string_view n) {
    for (const auto& c : s.columns)
      if (c.name.size() == n.size()) {
        bool same = true;
        for (std::size_t i = 0; i < n.size() && same; ++i)
          same = (c.name[i] | 0x20) == (n[i] | 0x20);  // SQLite names are ASCII case-insensitive
        if (same) return true;
      }
    return false;
  };
  for (std::string_view n : {std::string_view("rowid"), std::string_view("_rowid_"), std::string_view("oid")})
    if (!is_column(n)) return n;
  return {};
}

/// The bytes that every text matching `pattern` (by `memory::like`) starts with:
/// the literal characters before the first unescaped `%` or `_`. Mirrors
/// memory::like's own scanning, character by character, so it is never longer
/// than what LIKE requires.
[[nodiscard]] inline auto like_prefix(std::string_view pattern) -> std::string {
  std::string out;
  std::size_t p = 0;
  while (p < pattern.size()) {
    if (pattern[p] == '%' || pattern[p] == '_') break;
    std::size_t lit = p;
    if (pattern[p] == '\\' && p + 1 < pattern.size()) lit = p + 1;
    std::size_t n = memory::detail::utf8_step(pattern, lit);
    out.append(pattern.substr(lit, n));
    p = lit + n;
  }
  return out;
}

/// The smallest byte string greater than every string that starts with
/// `prefix` (the prefix with its last byte incremented, after dropping trailing
/// 0xff bytes); empty when there is none.
[[nodiscard]] inline auto prefix_upper_bound(std::string prefix) -> std::string {
  while (!prefix.empty() && static_cast<unsigned char>(prefix.back()) == 0xff) prefix.pop_back();
  if (!prefix.empty()) prefix.back() = static_cast<char>(static_cast<unsigned char>(prefix.back()) + 1);
  return prefix;
}

/// The values of a statement's `?` parameters, in order. `owned` keeps values the
/// SQL generator derived itself (LIKE prefix bounds) alive as long as the views.
/// `columns[i]` is the column `values[i]` is compared with or written to (statement
/// observers redact `secret` ones; no_column when it is tied to none).
struct parameters {
  static constexpr std::size_t no_column = static_cast<std::size_t>(-1);

  std::vector<value_view> values;
  std::vector<std::size_t> columns;
  std::deque<std::string> owned;

  void add(value_view v, std::size_t column) {
    values.push_back(v);
    columns.push_back(column);
  }
  void clear() {
    values.clear();
    columns.clear();
    owned.clear();
  }
};

namespace detail {
// The SQLite dialect of ormkit::detail::sqlgen's conditions: `?` parameters, 1 and 0.
struct condition_dialect {
  static constexpr std::string_view true_sql = "1";
  static constexpr std::string_view false_sql = "0";

  static auto value(std::string& sql, const table_schema&, std::size_t column, const ormkit::value& v,
                    parameters& params) -> status {
    sql += '?';
    params.add(view(v), column);
    return {};
  }

  // ormkit_like(col, ?), behind a range test on the pattern's literal prefix.
  static auto like(std::string& sql, const table_schema& s, std::size_t column, const ormkit::value& pattern,
                   parameters& params) -> status {
    const auto* text = std::get_if<std::string>(&pattern);
    std::string prefix = text ? like_prefix(*text) : std::string();
    const bool ranged = !prefix.empty();
    if (ranged) {
      sql += '(';
      append_identifier(sql, s.columns[column].name);
      sql += " >= ? AND ";
      params.add(std::string_view(params.owned.emplace_back(prefix)), column);
      std::string upper = prefix_upper_bound(std::move(prefix));
      if (!upper.empty()) {
        append_identifier(sql, s.columns[column].name);
        sql += " < ? AND ";
        params.add(std::string_view(params.owned.emplace_back(std::move(upper))), column);
      }
    }
    sql += like_function;
    sql += '(';
    append_identifier(sql, s.columns[column].name);
    sql += ", ?)";
    params.add(view(pattern), column);
    if (ranged) sql += ')';
    return {};
  }
};
}  // namespace detail

/// Appends `e` as a SQL condition over the columns of `s`, one `?` per value,
/// and pushes the values onto `params` in the same order. SQL's own three-valued
/// logic then gives the memory backend's answers: comparisons with NULL are
/// unknown, `IN ()` is false even for NULL, `NOT unknown` is unknown.
///
/// LIKE becomes `ormkit_like(col, ?)`; when the pattern starts with literal
/// characters, a range test on that prefix is put in front (`col >= ? AND col <
/// ?`), which SQLite can answer from an index and which cannot change the result.
///
/// Errors: invalid_argument (a column index outside `s`, a leaf without its operands,
/// a NOT without exactly one child).
inline auto append_condition(std::string& sql, const table_schema& s, const expr& e, parameters& params) -> status {
  return ormkit::detail::sqlgen::append_condition<detail::condition_dialect>(sql, s, e, params);
}

/// Appends ` WHERE <e>`, or nothing for a condition that is always true.
inline auto append_where(std::string& sql, const table_schema& s, const expr& e, parameters& params) -> status {
  return ormkit::detail::sqlgen::append_where<detail::condition_dialect>(sql, s, e, params);
}

/// Appends ` ORDER BY` for `terms`, NULLs first ascending and last descending
/// (SQLite's default, spelt out), then `rowid` ascending: the memory backend keeps
/// ties (and everything, when there is no order) in insertion order, and the rowid
/// is insertion order for generated keys. Errors: invalid_argument (a column
/// index outside `s`).
inline auto append_order(std::string& sql, const table_schema& s, std::span<const order_term> terms,
                         std::string_view rowid) -> status {
  return ormkit::detail::sqlgen::append_order(sql, s, terms, !rowid.empty(), [&](std::string& out, bool first) {
    if (rowid.empty()) return;
    if (!first) out += ", ";
    out += rowid;
  });
}

}  // namespace ormkit::sqlite
