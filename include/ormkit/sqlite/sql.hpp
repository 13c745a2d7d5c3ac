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
  out += '"';
  if (name.find('"') == std::string_view::npos) {
    out += name;  // the usual case (descriptor names are checked identifiers): one append
  } else {
    for (char c : name) {
      if (c == '"') out += '"';
      out += c;
    }
  }
  out += '"';
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

/// `CREATE TABLE IF NOT EXISTS` for `s`: every column with its `column_type`,
/// NOT NULL unless nullable, DEFAULT from the descriptor, `REFERENCES "t"("c")
/// ON DELETE RESTRICT` for foreign keys; an auto-increment key as
/// `INTEGER PRIMARY KEY AUTOINCREMENT` (keys are never reused, as in the memory
/// backend), any other key as a `PRIMARY KEY (...)` table constraint. Unique keys
/// and indexes are separate statements (`create_index_sql`), so that each
/// constraint carries the descriptor's name.
[[nodiscard]] inline auto create_table_sql(const table_schema& s) -> std::string {
  std::string sql = "CREATE TABLE IF NOT EXISTS ";
  append_identifier(sql, s.name);
  sql += " (";
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    const auto& c = s.columns[i];
    if (i) sql += ", ";
    append_identifier(sql, c.name);
    if (auto type = column_type(c); !type.empty()) {
      sql += ' ';
      sql += type;
    }
    if (s.auto_increment && *s.auto_increment == i) {
      // A rowid alias: NULL asks SQLite for the next key, so no NOT NULL here.
      sql += " PRIMARY KEY AUTOINCREMENT";
    } else if (!c.nullable) {
      sql += " NOT NULL";
    }
    if (c.default_value) {
      sql += " DEFAULT ";
      append_literal(sql, *c.default_value);
    }
    if (c.references) {
      sql += " REFERENCES ";
      append_identifier(sql, c.references->table);
      sql += '(';
      append_identifier(sql, c.references->column);
      sql += ") ON DELETE RESTRICT";
    }
  }
  if (!s.primary_key.empty() && !s.auto_increment) {
    sql += ", PRIMARY KEY (";
    for (std::size_t k = 0; k < s.primary_key.size(); ++k) {
      if (k) sql += ", ";
      append_identifier(sql, s.columns.at(s.primary_key[k]).name);
    }
    sql += ')';
  }
  sql += ')';
  return sql;
}

/// `CREATE [UNIQUE] INDEX IF NOT EXISTS "name" ON "table" ("c1", ...)`.
[[nodiscard]] inline auto create_index_sql(const table_schema& s, const index_schema& ix) -> std::string {
  std::string sql = ix.unique ? "CREATE UNIQUE INDEX IF NOT EXISTS " : "CREATE INDEX IF NOT EXISTS ";
  append_identifier(sql, ix.name);
  sql += " ON ";
  append_identifier(sql, s.name);
  sql += " (";
  for (std::size_t k = 0; k < ix.columns.size(); ++k) {
    if (k) sql += ", ";
    append_identifier(sql, s.columns.at(ix.columns[k]).name);
  }
  sql += ')';
  return sql;
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
inline auto bad_node(const table_schema& s, std::string_view what) -> ormkit::error {
  return {errc::invalid_argument, std::string(s.name) + ": malformed query: " + std::string(what)};
}

inline void append_column(std::string& sql, const table_schema& s, std::size_t c) {
  append_identifier(sql, s.columns[c].name);
}
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
  auto leaf_ok = [&](std::size_t operands) -> status {
    if (e.column >= s.columns.size()) return detail::bad_node(s, "column index out of range");
    if (e.operands.size() < operands) return detail::bad_node(s, "a comparison without its value");
    return {};
  };
  auto compare = [&](std::string_view op) -> status {
    ORMKIT_TRY(leaf_ok(1));
    detail::append_column(sql, s, e.column);
    sql += op;
    sql += '?';
    params.add(view(e.operands[0]), e.column);
    return {};
  };
  switch (e.kind) {
    case op::always: sql += '1'; return {};
    case op::eq: return compare(" = ");
    case op::ne: return compare(" <> ");
    case op::lt: return compare(" < ");
    case op::le: return compare(" <= ");
    case op::gt: return compare(" > ");
    case op::ge: return compare(" >= ");
    case op::like: {
      ORMKIT_TRY(leaf_ok(1));
      const auto* pattern = std::get_if<std::string>(&e.operands[0]);
      std::string prefix = pattern ? like_prefix(*pattern) : std::string();
      const bool ranged = !prefix.empty();
      if (ranged) {
        sql += '(';
        detail::append_column(sql, s, e.column);
        sql += " >= ? AND ";
        params.add(std::string_view(params.owned.emplace_back(prefix)), e.column);
        std::string upper = prefix_upper_bound(std::move(prefix));
        if (!upper.empty()) {
          detail::append_column(sql, s, e.column);
          sql += " < ? AND ";
          params.add(std::string_view(params.owned.emplace_back(std::move(upper))), e.column);
        }
      }
      sql += like_function;
      sql += '(';
      detail::append_column(sql, s, e.column);
      sql += ", ?)";
      params.add(view(e.operands[0]), e.column);
      if (ranged) sql += ')';
      return {};
    }
    case op::in: {
      ORMKIT_TRY(leaf_ok(0));
      if (e.operands.empty()) {
        sql += '0';  // matches nothing, NULL included (as SQLite's own `x IN ()`)
        return {};
      }
      std::size_t n = e.operands.size();
      std::size_t padded = n > 2 ? std::bit_ceil(n) : n;
      detail::append_column(sql, s, e.column);
      sql += " IN (";
      for (std::size_t i = 0; i < padded; ++i) {
        sql += i ? ", ?" : "?";
        params.add(view(e.operands[i < n ? i : n - 1]), e.column);
      }
      sql += ')';
      return {};
    }
    case op::is_null:
    case op::is_not_null:
      ORMKIT_TRY(leaf_ok(0));
      detail::append_column(sql, s, e.column);
      sql += e.kind == op::is_null ? " IS NULL" : " IS NOT NULL";
      return {};
    case op::between:
      ORMKIT_TRY(leaf_ok(2));
      detail::append_column(sql, s, e.column);
      sql += " BETWEEN ? AND ?";
      params.add(view(e.operands[0]), e.column);
      params.add(view(e.operands[1]), e.column);
      return {};
    case op::and_:
    case op::or_: {
      if (e.children.empty()) {
        sql += e.kind == op::and_ ? '1' : '0';  // the empty AND is true, the empty OR false
        return {};
      }
      sql += '(';
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i) sql += e.kind == op::and_ ? " AND " : " OR ";
        ORMKIT_TRY(append_condition(sql, s, e.children[i], params));
      }
      sql += ')';
      return {};
    }
    case op::not_:
      if (e.children.size() != 1) return detail::bad_node(s, "NOT needs exactly one condition");
      sql += "NOT (";
      ORMKIT_TRY(append_condition(sql, s, e.children[0], params));
      sql += ')';
      return {};
  }
  return detail::bad_node(s, "unknown operator");
}

/// Appends ` WHERE <e>`, or nothing for a condition that is always true.
inline auto append_where(std::string& sql, const table_schema& s, const expr& e, parameters& params) -> status {
  if (e.kind == op::always) return {};
  sql += " WHERE ";
  return append_condition(sql, s, e, params);
}

/// Appends ` ORDER BY` for `terms`, NULLs first ascending and last descending
/// (SQLite's default, spelt out), then `rowid` ascending: the memory backend keeps
/// ties (and everything, when there is no order) in insertion order, and the rowid
/// is insertion order for generated keys. Errors: invalid_argument (a column
/// index outside `s`).
inline auto append_order(std::string& sql, const table_schema& s, std::span<const order_term> terms,
                         std::string_view rowid) -> status {
  if (terms.empty() && rowid.empty()) return {};
  sql += " ORDER BY ";
  bool first = true;
  for (const auto& t : terms) {
    if (t.column >= s.columns.size()) return detail::bad_node(s, "order column index out of range");
    if (!first) sql += ", ";
    first = false;
    detail::append_column(sql, s, t.column);
    sql += t.descending ? " DESC NULLS LAST" : " ASC NULLS FIRST";
  }
  if (!rowid.empty()) {
    if (!first) sql += ", ";
    sql += rowid;
  }
  return {};
}

}  // namespace ormkit::sqlite
