// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/drift.hpp
//
// The comparison behind every driver's `drift()`: a driver reads the live table
// into a `live_table` (what its backend keeps: the memory backend has no types,
// nullability or foreign keys) and `compare_table` lists how it differs from the
// descriptor, in one order on every backend: per descriptor column (missing, type,
// nullability), extra columns, per descriptor index (missing, uniqueness, columns),
// extra indexes, per descriptor column its foreign key.

#include <ormkit/migration/migrator.hpp>
#include <ormkit/schema.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ormkit::detail {

struct live_column {
  std::string name;
  std::string type;  ///< as the backend spells it; "" for none
  bool not_null = false;
};

struct live_index {
  std::string name;
  bool unique = false;
  bool implicit = false;  ///< made by a PRIMARY KEY / UNIQUE constraint: never "extra"
  std::vector<std::string> columns;
};

struct live_foreign_key {
  std::string column;
  std::string target;  ///< "table.column"
};

struct live_table {
  std::vector<live_column> columns;
  bool types_known = true;  ///< column types and nullability
  std::optional<std::vector<live_index>> indexes;
  std::optional<std::vector<live_foreign_key>> foreign_keys;
};

/// How a backend compares: the type it declares for a column, how it compares type
/// and table names, whether an auto-increment key is NOT NULL in its catalog.
struct drift_rules {
  std::string (*type)(const column_schema&) = nullptr;
  bool (*same)(std::string_view, std::string_view) = nullptr;
  bool auto_increment_not_null = true;
};

/// Appends how `live` differs from `s` (see the header comment).
inline void compare_table(const table_schema& s, const live_table& live, const drift_rules& rules,
                          std::vector<schema_difference>& out) {
  using kind = schema_difference::kind;
  const std::string table(s.name);
  auto live_column = [&](std::string_view c) -> const detail::live_column* {
    for (const auto& l : live.columns)
      if (l.name == c) return &l;
    return nullptr;
  };
  auto none = [](const std::string& t) { return t.empty() ? std::string("(none)") : t; };
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    const auto& c = s.columns[i];
    const std::string subject = table + "." + std::string(c.name);
    const auto* l = live_column(c.name);
    if (!l) {
      out.push_back({kind::missing_column, table, std::string(c.name), subject + ": column is missing"});
      continue;
    }
    if (!live.types_known) continue;
    const std::string want = rules.type(c);
    if (!rules.same(l->type, want))
      out.push_back({kind::type_mismatch, table, std::string(c.name),
                     subject + ": type is " + none(l->type) + ", the descriptor says " + none(want)});
    const bool want_not_null = !c.nullable && (rules.auto_increment_not_null || !(s.auto_increment && *s.auto_increment == i));
    if (l->not_null != want_not_null)
      out.push_back({kind::nullability_mismatch, table, std::string(c.name),
                     subject + (l->not_null ? ": NOT NULL in the database, nullable in the descriptor"
                                            : ": nullable in the database, NOT NULL in the descriptor")});
  }
  for (const auto& l : live.columns)
    if (!s.find(l.name))
      out.push_back({kind::extra_column, table, l.name, table + "." + l.name + ": column is not in the descriptor"});

  if (live.indexes) {
    auto join = [](const std::vector<std::string>& v) {
      std::string o;
      for (const auto& x : v) o += (o.empty() ? "" : ", ") + x;
      return o;
    };
    for (const auto& ix : s.indexes) {
      auto l = std::find_if(live.indexes->begin(), live.indexes->end(),
                            [&](const live_index& i) { return i.name == ix.name; });
      if (l == live.indexes->end()) {
        out.push_back({kind::missing_index, table, ix.name, table + ": index " + ix.name + " is missing"});
        continue;
      }
      if (l->unique != ix.unique)
        out.push_back({kind::index_mismatch, table, ix.name,
                       table + ": index " + ix.name +
                           (ix.unique ? " is not unique in the database, unique in the descriptor"
                                      : " is unique in the database, not in the descriptor")});
      std::vector<std::string> want;
      for (std::size_t c : ix.columns) want.emplace_back(s.columns.at(c).name);
      if (l->columns != want)
        out.push_back({kind::index_columns_mismatch, table, ix.name,
                       table + ": index " + ix.name + " covers (" + join(l->columns) + ") in the database, (" +
                           join(want) + ") in the descriptor"});
    }
    for (const auto& l : *live.indexes)
      if (!l.implicit &&
          std::none_of(s.indexes.begin(), s.indexes.end(), [&](const index_schema& ix) { return ix.name == l.name; }))
        out.push_back({kind::extra_index, table, l.name, table + ": index " + l.name + " is not in the descriptor"});
  }

  if (live.foreign_keys) {
    for (const auto& c : s.columns) {
      const std::string subject = table + "." + std::string(c.name);
      if (!live_column(c.name)) continue;  // reported as missing
      const live_foreign_key* l = nullptr;
      for (const auto& k : *live.foreign_keys)
        if (k.column == c.name) l = &k;
      std::string want;
      if (c.references) want = std::string(c.references->table) + "." + std::string(c.references->column);
      if (!l) {
        if (!want.empty())
          out.push_back({kind::missing_foreign_key, table, std::string(c.name),
                         subject + ": no foreign key in the database, the descriptor references " + want});
        continue;
      }
      if (want.empty())
        out.push_back({kind::extra_foreign_key, table, std::string(c.name),
                       subject + ": references " + l->target + " in the database, not in the descriptor"});
      else if (!rules.same(l->target, want))
        out.push_back({kind::foreign_key_mismatch, table, std::string(c.name),
                       subject + ": references " + l->target + " in the database, the descriptor says " + want});
    }
  }
}

}  // namespace ormkit::detail
