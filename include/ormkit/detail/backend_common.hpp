// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/backend_common.hpp
//
// Plumbing the two SQL backends (sqlite/backend.hpp, postgres/backend.hpp) share: the
// statements built once per table (INSERT, INSERT without the generated key, SELECT of
// every column), the cache of statements that address one row by its key (get, update,
// erase), and the select list and GROUP BY of an aggregate. What differs is passed in as
// a dialect:
//
//   struct dialect {
//     static void identifier(std::string& sql, std::string_view name);  // "name"
//     static void placeholder(std::string& sql, std::size_t n);          // "?" or "$n" (n from 1)
//     static auto not_deleted(const column_schema& soft_delete) -> std::string_view;  // " IS NULL" ...
//   };

#include <ormkit/backend.hpp>
#include <ormkit/error.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ormkit::detail::backend_common {

/// The error of a column index out of range.
[[nodiscard]] inline auto bad_column(const table_schema& s) -> ormkit::error {
  return {errc::invalid_argument, std::string(s.name) + ": column index out of range"};
}

/// The statements of a table built once: INSERT of every column, INSERT without the
/// auto-increment column (empty without one; DEFAULT VALUES when it is the only column),
/// SELECT of every column.
struct table_statements {
  std::string insert_sql;            // INSERT INTO "t" ("a", "b") VALUES (?, ?)
  std::string insert_generated_sql;  // the same without the auto-increment column
  std::string select_sql;            // SELECT "a", "b" FROM "t"
};

template <class D>
[[nodiscard]] auto build_table_statements(const table_schema& s) -> table_statements {
  table_statements t;
  t.insert_sql = "INSERT INTO ";
  D::identifier(t.insert_sql, s.name);
  t.insert_sql += " (";
  t.select_sql = "SELECT ";
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    if (i) t.insert_sql += ", ", t.select_sql += ", ";
    D::identifier(t.insert_sql, s.columns[i].name);
    D::identifier(t.select_sql, s.columns[i].name);
  }
  t.insert_sql += ") VALUES (";
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    if (i) t.insert_sql += ", ";
    D::placeholder(t.insert_sql, i + 1);
  }
  t.insert_sql += ')';
  t.select_sql += " FROM ";
  D::identifier(t.select_sql, s.name);
  if (s.auto_increment) {
    t.insert_generated_sql = "INSERT INTO ";
    D::identifier(t.insert_generated_sql, s.name);
    if (s.columns.size() == 1) {
      t.insert_generated_sql += " DEFAULT VALUES";
    } else {
      t.insert_generated_sql += " (";
      bool first = true;
      for (std::size_t i = 0; i < s.columns.size(); ++i) {
        if (i == *s.auto_increment) continue;
        if (!first) t.insert_generated_sql += ", ";
        D::identifier(t.insert_generated_sql, s.columns[i].name);
        first = false;
      }
      t.insert_generated_sql += ") VALUES (";
      for (std::size_t i = 0; i + 1 < s.columns.size(); ++i) {
        if (i) t.insert_generated_sql += ", ";
        D::placeholder(t.insert_generated_sql, i + 1);
      }
      t.insert_generated_sql += ')';
    }
  }
  return t;
}

/// What a keyed statement does.
enum class keyed_kind : unsigned char { get, update, erase };

/// One statement addressing a row by key: its shape, its text, and what the backend
/// keeps with it (`Extra`: SQLite's pinned cache slot; nothing on PostgreSQL).
/// Aligned to a cache line, with what an everyday call reads (`same_shape`, `extra`)
/// at its start: one line of memory per call, not three.
template <class Extra>
struct alignas(64) keyed_statement {
  static constexpr std::size_t inline_columns = 8;

  Extra extra{};
  keyed_kind kind{};
  bool versioned = false;
  bool include_deleted = false;
  std::uint32_t n_columns = 0;
  std::array<std::uint32_t, inline_columns> head{};  // the first columns (all of most lists)
  std::vector<std::size_t> columns;                   // update: the columns set, in order
  std::string sql;

  keyed_statement(keyed_kind k, bool v, bool d, std::span<const std::size_t> cols)
      : kind(k), versioned(v), include_deleted(d), n_columns(static_cast<std::uint32_t>(cols.size())),
        columns(cols.begin(), cols.end()) {
    for (std::size_t i = 0; i < cols.size() && i < inline_columns; ++i) head[i] = static_cast<std::uint32_t>(cols[i]);
  }

  // Whether this statement has the shape asked for (its kind aside).
  [[gnu::always_inline]] auto same_shape(bool v, bool d, std::span<const std::size_t> cols) const -> bool {
    if (versioned != v || include_deleted != d || n_columns != cols.size()) [[unlikely]]
      return false;
    if (cols.size() > inline_columns) [[unlikely]]
      return std::equal(columns.begin(), columns.end(), cols.begin());
    // Short lists, compared here rather than through memcmp.
    for (std::size_t i = 0; i < cols.size(); ++i)
      if (head[i] != cols[i]) [[unlikely]]
        return false;
    return true;
  }
};

/// The keyed statements of one table, each built on first use:
///   get     SELECT <all> FROM "t" WHERE <key>
///   update  UPDATE "t" SET "a" = ?, ... WHERE <key>
///   erase   DELETE FROM "t" WHERE <key>
/// <key>: "k1" = ? AND ... [AND "version" = ?] [AND <not soft-deleted>].
template <class Extra>
class keyed_statements {
 public:
  template <class D>
  [[gnu::always_inline]] auto find(const table_schema& s, keyed_kind kind, const key_spec& k,
                                   std::span<const std::size_t> columns, const std::string& select_sql)
      -> keyed_statement<Extra>& {
    // The schema's side first: most tables have no version or soft-delete column.
    const bool versioned = s.version.has_value() && k.version.has_value();
    const bool include_deleted = !s.soft_delete || k.include_deleted;
    // Calls come in runs of one shape: try the last one of this kind first (inlined;
    // everything else is out of line). Its kind is `kind` already.
    if (auto* last = last_[static_cast<std::size_t>(kind)];
        last != nullptr && last->same_shape(versioned, include_deleted, columns)) [[likely]]
      return *last;
    return find_or_build<D>(s, kind, versioned, include_deleted, columns, select_sql);
  }

  /// The statement `find` would return when it is the last one of `kind` used (the
  /// everyday case, checked inline); null otherwise (then call `find`).
  [[gnu::always_inline]] auto last_match(const table_schema& s, keyed_kind kind, const key_spec& k,
                                         std::span<const std::size_t> columns) const -> keyed_statement<Extra>* {
    const bool versioned = s.version.has_value() && k.version.has_value();
    const bool include_deleted = !s.soft_delete || k.include_deleted;
    auto* last = last_[static_cast<std::size_t>(kind)];
    if (last == nullptr || !last->same_shape(versioned, include_deleted, columns)) [[unlikely]]
      return nullptr;
    return last;
  }

 private:
  template <class D>
  [[gnu::noinline]] auto find_or_build(const table_schema& s, keyed_kind kind, bool versioned, bool include_deleted,
                                       std::span<const std::size_t> columns, const std::string& select_sql)
      -> keyed_statement<Extra>& {
    auto& last = last_[static_cast<std::size_t>(kind)];
    for (auto& ks : all_)
      if (ks.kind == kind && ks.same_shape(versioned, include_deleted, columns)) return *(last = &ks);
    keyed_statement<Extra> ks(kind, versioned, include_deleted, columns);
    std::size_t n = 0;
    switch (kind) {
      case keyed_kind::get: ks.sql = select_sql; break;
      case keyed_kind::update:
        ks.sql = "UPDATE ";
        D::identifier(ks.sql, s.name);
        ks.sql += " SET ";
        for (std::size_t i = 0; i < columns.size(); ++i) {
          if (i) ks.sql += ", ";
          D::identifier(ks.sql, s.columns[columns[i]].name);
          ks.sql += " = ";
          D::placeholder(ks.sql, ++n);
        }
        break;
      case keyed_kind::erase:
        ks.sql = "DELETE FROM ";
        D::identifier(ks.sql, s.name);
        break;
    }
    ks.sql += " WHERE ";
    for (std::size_t i = 0; i < s.primary_key.size(); ++i) {
      if (i) ks.sql += " AND ";
      D::identifier(ks.sql, s.columns[s.primary_key[i]].name);
      ks.sql += " = ";
      D::placeholder(ks.sql, ++n);
    }
    if (versioned) {
      ks.sql += " AND ";
      D::identifier(ks.sql, s.columns[*s.version].name);
      ks.sql += " = ";
      D::placeholder(ks.sql, ++n);
    }
    if (!include_deleted) {
      ks.sql += " AND ";
      D::identifier(ks.sql, s.columns[*s.soft_delete].name);
      ks.sql += D::not_deleted(s.columns[*s.soft_delete]);
    }
    all_.push_back(std::move(ks));
    return *(last = &all_.back());
  }

  // First: the everyday call reads it (with its owner's other hot members).
  std::array<keyed_statement<Extra>*, 3> last_{};  // per keyed_kind
  std::deque<keyed_statement<Extra>> all_;         // a deque: pointers to them stay valid
};

/// Appends an aggregate's select list: the group columns, then each term; COUNT(*) is
/// written here, every other term by `term(sql, term, column)`.
/// Errors: invalid_argument (a column index out of range).
template <class D, class Term>
auto append_aggregate_list(std::string& sql, const table_schema& s, const aggregate_spec& a, Term&& term) -> status {
  bool first = true;
  auto sep = [&] {
    if (!first) sql += ", ";
    first = false;
  };
  for (std::size_t g : a.group_by) {
    if (g >= s.columns.size()) return bad_column(s);
    sep();
    D::identifier(sql, s.columns[g].name);
  }
  for (const auto& t : a.terms) {
    sep();
    if (t.fn == aggregate_fn::count_all) {
      sql += "COUNT(*)";
      continue;
    }
    if (t.column >= s.columns.size()) return bad_column(s);
    term(sql, t, s.columns[t.column]);
  }
  return {};
}

/// Appends " GROUP BY <group columns>" (nothing without them) and returns the order the
/// groups come back in: by each group column, ascending.
template <class D>
auto append_group_by(std::string& sql, const table_schema& s, const aggregate_spec& a) -> std::vector<order_term> {
  std::vector<order_term> order;
  if (a.group_by.empty()) return order;
  sql += " GROUP BY ";
  for (std::size_t i = 0; i < a.group_by.size(); ++i) {
    if (i) sql += ", ";
    D::identifier(sql, s.columns[a.group_by[i]].name);
  }
  for (std::size_t g : a.group_by) order.push_back({g, false});
  return order;
}

}  // namespace ormkit::detail::backend_common
