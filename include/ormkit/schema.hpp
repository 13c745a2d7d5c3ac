// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/schema.hpp
//
// The run-time view of a descriptor that backends work with: table, columns,
// keys, indexes. Built once per entity by `schema_of<T>()` (entity.hpp); backend
// code is templated on neither the entity nor its column count.

#include <ormkit/column_traits.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/value.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ormkit {

/// One column as backends see it.
struct column_schema {
  std::string_view name;
  ormkit::storage storage = ormkit::storage::null;
  sql_kind kind = sql_kind::text;
  std::string_view type_name;  ///< column_traits<T>::name
  bool nullable = false;
  std::uint32_t flags = 0;     ///< column_flags bits
  int since = 1;
  std::optional<value> default_value;
  std::optional<foreign_key_ref> references;

  [[nodiscard]] auto has(std::uint32_t flag) const noexcept -> bool { return (flags & flag) != 0; }
  /// The `value` variant index of this column's storage class.
  [[nodiscard]] auto storage_index() const noexcept -> std::size_t { return static_cast<std::size_t>(storage); }
};

/// An index or unique key; `columns` are indexes into `table_schema::columns`.
struct index_schema {
  std::string name;
  std::vector<std::size_t> columns;
  bool unique = false;
};

/// A table as backends see it.
struct table_schema {
  std::string_view name;
  std::vector<column_schema> columns;
  std::vector<std::size_t> primary_key;          ///< column indexes, declaration order
  std::optional<std::size_t> auto_increment;     ///< the generated key column
  std::optional<std::size_t> version;            ///< optimistic-locking column
  std::optional<std::size_t> created_at;
  std::optional<std::size_t> updated_at;
  std::optional<std::size_t> soft_delete;
  std::vector<index_schema> indexes;             ///< includes single-column `unique` keys
  std::uint64_t hash = 0;                        ///< schema hash (names and types)
  int version_number = 1;                        ///< highest `since(n)`

  /// Returns the index of the column called `column`, if any.
  [[nodiscard]] auto find(std::string_view column) const noexcept -> std::optional<std::size_t> {
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i].name == column) return i;
    return std::nullopt;
  }
};

}  // namespace ormkit
