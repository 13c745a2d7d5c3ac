// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/sqlgen.hpp
//
// The SQL generation both SQL dialects share (sqlite/sql.hpp, postgres/sql.hpp):
// quoted identifiers, the REFERENCES clause, CREATE TABLE's frame, CREATE INDEX,
// conditions from the query AST and ORDER BY. What differs is passed in: a
// column's definition (type, default, constraints) as a function, and for
// conditions a dialect with
//
//   static constexpr std::string_view true_sql, false_sql;   // "1"/"0", "TRUE"/"FALSE"
//   static auto value(std::string& sql, const table_schema&, std::size_t column,
//                     const value&, Params&) -> status;        // "?" or "$n", and the parameter
//   static auto like(std::string& sql, const table_schema&, std::size_t column,
//                    const value& pattern, Params&) -> status; // the dialect's LIKE
//
// Identifiers are double-quoted with embedded quotes doubled, in both dialects.

#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <bit>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ormkit::detail::sqlgen {

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

/// Appends ` REFERENCES "table"("column") ON DELETE RESTRICT`.
inline void append_references(std::string& out, std::string_view table, std::string_view column) {
  out += " REFERENCES ";
  append_identifier(out, table);
  out += '(';
  append_identifier(out, column);
  out += ") ON DELETE RESTRICT";
}

/// `CREATE [UNIQUE] INDEX IF NOT EXISTS "name" ON "table" ("c1", ...)`; `column(k)` is
/// the name of the k-th of `count` columns.
template <class ColumnName>
[[nodiscard]] auto create_index(bool unique, std::string_view name, std::string_view table, std::size_t count,
                                ColumnName&& column) -> std::string {
  std::string sql = unique ? "CREATE UNIQUE INDEX IF NOT EXISTS " : "CREATE INDEX IF NOT EXISTS ";
  append_identifier(sql, name);
  sql += " ON ";
  append_identifier(sql, table);
  sql += " (";
  for (std::size_t k = 0; k < count; ++k) {
    if (k) sql += ", ";
    append_identifier(sql, column(k));
  }
  sql += ')';
  return sql;
}

/// `CREATE TABLE IF NOT EXISTS "t" ("c1" <def>, ...[, PRIMARY KEY (...)])`, where
/// `definition(sql, i)` appends what follows column i's name (from its leading space
/// on), and the key is a table constraint unless the table has an auto-increment key
/// (which the definition declares). Errors: those of `definition`.
template <class Definition>
[[nodiscard]] auto create_table(const table_schema& s, Definition&& definition) -> result<std::string> {
  std::string sql = "CREATE TABLE IF NOT EXISTS ";
  append_identifier(sql, s.name);
  sql += " (";
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    if (i) sql += ", ";
    append_identifier(sql, s.columns[i].name);
    ORMKIT_TRY(definition(sql, i));
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

inline auto bad_node(const table_schema& s, std::string_view what) -> ormkit::error {
  return {errc::invalid_argument, std::string(s.name) + ": malformed query: " + std::string(what)};
}

/// Appends `e` as a SQL condition over the columns of `s` in dialect `D` (see the
/// header comment), its values pushed onto `params` in order. IN lists are padded to
/// a power of two by repeating their last value. Errors: invalid_argument (a column
/// index outside `s`, a leaf without its operands, a NOT without exactly one child),
/// and those of `D::value` / `D::like`.
template <class D, class Params>
auto append_condition(std::string& sql, const table_schema& s, const expr& e, Params& params) -> status {
  auto leaf_ok = [&](std::size_t operands) -> status {
    if (e.column >= s.columns.size()) return bad_node(s, "column index out of range");
    if (e.operands.size() < operands) return bad_node(s, "a comparison without its value");
    return {};
  };
  auto compare = [&](std::string_view op) -> status {
    ORMKIT_TRY(leaf_ok(1));
    append_identifier(sql, s.columns[e.column].name);
    sql += op;
    return D::value(sql, s, e.column, e.operands[0], params);
  };
  switch (e.kind) {
    case op::always: sql += D::true_sql; return {};
    case op::eq: return compare(" = ");
    case op::ne: return compare(" <> ");
    case op::lt: return compare(" < ");
    case op::le: return compare(" <= ");
    case op::gt: return compare(" > ");
    case op::ge: return compare(" >= ");
    case op::like:
      ORMKIT_TRY(leaf_ok(1));
      return D::like(sql, s, e.column, e.operands[0], params);
    case op::in: {
      ORMKIT_TRY(leaf_ok(0));
      if (e.operands.empty()) {
        sql += D::false_sql;  // matches nothing, NULL included
        return {};
      }
      const std::size_t n = e.operands.size();
      const std::size_t padded = n > 2 ? std::bit_ceil(n) : n;
      append_identifier(sql, s.columns[e.column].name);
      sql += " IN (";
      for (std::size_t i = 0; i < padded; ++i) {
        if (i) sql += ", ";
        ORMKIT_TRY(D::value(sql, s, e.column, e.operands[i < n ? i : n - 1], params));
      }
      sql += ')';
      return {};
    }
    case op::is_null:
    case op::is_not_null:
      ORMKIT_TRY(leaf_ok(0));
      append_identifier(sql, s.columns[e.column].name);
      sql += e.kind == op::is_null ? " IS NULL" : " IS NOT NULL";
      return {};
    case op::between:
      ORMKIT_TRY(leaf_ok(2));
      append_identifier(sql, s.columns[e.column].name);
      sql += " BETWEEN ";
      ORMKIT_TRY(D::value(sql, s, e.column, e.operands[0], params));
      sql += " AND ";
      return D::value(sql, s, e.column, e.operands[1], params);
    case op::and_:
    case op::or_: {
      if (e.children.empty()) {
        sql += e.kind == op::and_ ? D::true_sql : D::false_sql;  // the empty AND is true, the empty OR false
        return {};
      }
      sql += '(';
      for (std::size_t i = 0; i < e.children.size(); ++i) {
        if (i) sql += e.kind == op::and_ ? " AND " : " OR ";
        ORMKIT_TRY(append_condition<D>(sql, s, e.children[i], params));
      }
      sql += ')';
      return {};
    }
    case op::not_:
      if (e.children.size() != 1) return bad_node(s, "NOT needs exactly one condition");
      sql += "NOT (";
      ORMKIT_TRY(append_condition<D>(sql, s, e.children[0], params));
      sql += ')';
      return {};
  }
  return bad_node(s, "unknown operator");
}

/// Appends ` WHERE <e>`, or nothing for a condition that is always true.
template <class D, class Params>
auto append_where(std::string& sql, const table_schema& s, const expr& e, Params& params) -> status {
  if (e.kind == op::always) return {};
  sql += " WHERE ";
  return append_condition<D>(sql, s, e, params);
}

/// Appends ` ORDER BY` for `terms` (NULLS FIRST ascending, NULLS LAST descending), then
/// `tail(sql, first)` for the tie-breakers (`first`: nothing is listed yet); nothing when
/// there are no terms and `has_tail` is false. Errors: invalid_argument (a column index
/// outside `s`).
template <class Tail>
auto append_order(std::string& sql, const table_schema& s, std::span<const order_term> terms, bool has_tail,
                  Tail&& tail) -> status {
  if (terms.empty() && !has_tail) return {};
  sql += " ORDER BY ";
  bool first = true;
  for (const auto& t : terms) {
    if (t.column >= s.columns.size()) return bad_node(s, "order column index out of range");
    if (!first) sql += ", ";
    first = false;
    append_identifier(sql, s.columns[t.column].name);
    sql += t.descending ? " DESC NULLS LAST" : " ASC NULLS FIRST";
  }
  tail(sql, first);
  return {};
}

}  // namespace ormkit::detail::sqlgen
