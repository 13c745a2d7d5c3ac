// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/migration.hpp
//
// The migration step model, backend-neutral: numbered steps, each with an up
// and (where it can be undone) a down. A direction is a list of actions:
//
// - structured actions, which every backend renders in its own dialect
//   (create table, drop table, add column, drop column, rename column, rename
//   table, create index, drop index);
// - SQL text (SQL backends only; the memory backend refuses it, naming the step);
// - a C++ function (data migrations), which gets a `migration_context`: the
//   backend as `backend_ref` (for repositories on whatever backend runs), the
//   concrete backend when asked for, and a progress reporter.
//
// `steps_for<T...>()` derives the steps from descriptors (the lowest `since` of
// a table creates it, every later `since(n)` adds its columns and the indexes
// over them; the downs drop what the ups made); the `*_step` functions build
// hand-written ones. Nothing here includes a backend: the engine is
// `ormkit::migrator` (ormkit/migration/migrator.hpp), run through
// ormkit/migration/sqlite.hpp, ormkit/migration/postgres.hpp or
// ormkit/migration/memory.hpp.
//
// Checksums: a step's checksum is FNV-1a (64-bit, hex) over its name and its
// up actions in a canonical, backend-independent form (`describe_action`): the
// SQL text of a SQL action, the author's checksum string of a C++ action. The
// migrator refuses to run against a history that holds a different checksum
// for an applied version.
//
// Identifiers given to hand-written steps are checked when the migrator runs
// or plans them (the descriptor alphabet, [A-Za-z_][A-Za-z0-9_]* and at most
// 63 bytes); they are always quoted in SQL.
//
// Example:
//
//   std::vector<ormkit::migration_step> steps = ormkit::steps_for<user, post>();
//   steps.push_back(ormkit::rename_column_step(3, "users", "name", "full_name"));
//   steps.push_back(ormkit::code_step(4, "backfill nicknames", "v1",
//       [](ormkit::migration_context& cx) -> ormkit::status {
//         ormkit::repository<user_v4> users(cx.backend());   // any backend
//         ...
//       }));
//   steps.push_back(ormkit::code_step(5, "sqlite only", "v1",
//       [](ormkit::sqlite::backend& db) { return db.execute("UPDATE ..."); }));

#include <ormkit/backend.hpp>
#include <ormkit/detail/identifier.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <algorithm>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace ormkit {

//=== definitions: what structured actions create ===//

/// A foreign key target.
struct reference_definition {
  std::string table;
  std::string column;

  friend auto operator==(const reference_definition&, const reference_definition&) -> bool = default;
};

/// A column as a migration creates it. Owning (unlike `column_schema`, whose
/// names point into a descriptor), so hand-written steps can build one freely.
struct column_definition {
  std::string name;
  ormkit::storage storage = ormkit::storage::text;  ///< storage class (SQLite's declared type follows it)
  sql_kind kind = sql_kind::text;                   ///< finer kind, for dialects with more types
  bool nullable = false;
  std::optional<value> default_value;
  std::optional<reference_definition> references;

  column_definition() = default;
  column_definition(std::string n, ormkit::storage s, bool null_ok = false, std::optional<value> dflt = std::nullopt)
      : name(std::move(n)), storage(s), kind(kind_of(s)), nullable(null_ok), default_value(std::move(dflt)) {}

  /// The definition of a described column.
  explicit column_definition(const column_schema& c)
      : name(c.name), storage(c.storage), kind(c.kind), nullable(c.nullable), default_value(c.default_value) {
    if (c.references) references = reference_definition{std::string(c.references->table), std::string(c.references->column)};
  }

  /// The definition of the column `member` of entity `T`, as its descriptor says.
  /// Throws: `ormkit::exception` (invalid_argument) when `member` is not a described column.
  template <class T, class Member>
  [[nodiscard]] static auto of(Member T::*member) -> column_definition {
    return column_definition(schema_of<T>().columns.at(detail::column_index_of<T>(member)));
  }

  friend auto operator==(const column_definition&, const column_definition&) -> bool = default;

 private:
  static constexpr auto kind_of(ormkit::storage s) noexcept -> sql_kind {
    switch (s) {
      case ormkit::storage::integer: return sql_kind::integer;
      case ormkit::storage::real: return sql_kind::real;
      case ormkit::storage::blob: return sql_kind::blob;
      default: return sql_kind::text;
    }
  }
};

/// An index or unique key over named columns.
struct index_definition {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;

  index_definition() = default;
  index_definition(std::string n, std::vector<std::string> cols, bool is_unique = false)
      : name(std::move(n)), columns(std::move(cols)), unique(is_unique) {}
  /// The definition of index `ix` of table `s`.
  index_definition(const table_schema& s, const index_schema& ix) : name(ix.name), unique(ix.unique) {
    for (std::size_t c : ix.columns) columns.emplace_back(s.columns.at(c).name);
  }

  /// The index (or unique key) named `name` of entity `T`'s descriptor.
  /// Throws: `ormkit::exception` (invalid_argument) when the descriptor has none of that name.
  template <entity T>
  [[nodiscard]] static auto of(std::string_view name) -> index_definition {
    const auto& s = schema_of<T>();
    for (const auto& ix : s.indexes)
      if (ix.name == name) return index_definition(s, ix);
    throw exception(ormkit::error(errc::invalid_argument,
                                  detail::concat({s.name, ": the descriptor has no index named ", name})));
  }

  friend auto operator==(const index_definition&, const index_definition&) -> bool = default;
};

/// A table as a migration creates it: columns, key, indexes (unique keys included).
struct table_definition {
  std::string name;
  std::vector<column_definition> columns;
  std::vector<std::string> primary_key;       ///< column names, key order
  std::optional<std::string> auto_increment;  ///< the generated key column
  std::vector<index_definition> indexes;

  table_definition() = default;

  /// The table `s` with the columns (and the indexes over them) that exist at schema
  /// `version` (every column when `version` is omitted).
  explicit table_definition(const table_schema& s, int version = std::numeric_limits<int>::max()) : name(s.name) {
    std::vector<bool> present(s.columns.size());
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
      if (s.columns[i].since > version) continue;
      present[i] = true;
      columns.emplace_back(s.columns[i]);
    }
    for (std::size_t k : s.primary_key)
      if (present[k]) primary_key.emplace_back(s.columns[k].name);
    if (s.auto_increment && present[*s.auto_increment]) auto_increment = std::string(s.columns[*s.auto_increment].name);
    for (const auto& ix : s.indexes)
      if (std::all_of(ix.columns.begin(), ix.columns.end(), [&](std::size_t c) { return present[c]; }))
        indexes.emplace_back(s, ix);
  }

  /// Entity `T`'s table as its descriptor says (every column).
  template <entity T>
  [[nodiscard]] static auto of() -> table_definition {
    return table_definition(schema_of<T>());
  }

  [[nodiscard]] auto find(std::string_view column) const -> const column_definition* {
    for (const auto& c : columns)
      if (c.name == column) return &c;
    return nullptr;
  }

  friend auto operator==(const table_definition&, const table_definition&) -> bool = default;
};

namespace detail {

/// A `table_schema` view of `d` for renderers that take one (its names point into
/// `d`, which must outlive it and stay unchanged).
inline auto schema_view(const table_definition& d) -> table_schema {
  table_schema s;
  s.name = d.name;
  for (const auto& c : d.columns) {
    column_schema cs;
    cs.name = c.name;
    cs.storage = c.storage;
    cs.kind = c.kind;
    cs.nullable = c.nullable;
    cs.default_value = c.default_value;
    if (c.references) cs.references = foreign_key_ref{c.references->table, c.references->column};
    s.columns.push_back(std::move(cs));
  }
  auto index_of = [&](std::string_view n) -> std::optional<std::size_t> { return s.find(n); };
  for (const auto& k : d.primary_key)
    if (auto i = index_of(k)) s.primary_key.push_back(*i);
  if (d.auto_increment) s.auto_increment = index_of(*d.auto_increment);
  for (const auto& ix : d.indexes) {
    index_schema is{ix.name, {}, ix.unique};
    for (const auto& c : ix.columns)
      if (auto i = index_of(c)) is.columns.push_back(*i);
    s.indexes.push_back(std::move(is));
  }
  return s;
}

}  // namespace detail

//=== actions ===//

class migration_context;

/// A C++ migration body: runs inside the step's transaction; returns an error (or
/// throws) to fail the step and undo everything it did.
using migration_function = std::function<status(migration_context&)>;

/// Structured actions: each backend renders them in its own dialect.
namespace migration_ops {

/// CREATE TABLE IF NOT EXISTS, then each index (IF NOT EXISTS).
struct create_table {
  table_definition table;
};
/// DROP TABLE IF EXISTS (its indexes go with it).
struct drop_table {
  std::string table;
};
/// ADD COLUMN. `after`: the column it follows in the descriptor, for backends that
/// keep columns in declaration order (memory); SQL backends append.
struct add_column {
  std::string table;
  column_definition column;
  std::string after;
};
/// DROP COLUMN; indexes over the column go with it. SQLite rebuilds the table
/// (migration/sqlite.hpp), so indexed, unique and foreign-key columns can go too;
/// PostgreSQL drops it natively (migration/postgres.hpp).
struct drop_column {
  std::string table;
  std::string column;
};
struct rename_column {
  std::string table;
  std::string from;
  std::string to;
};
struct rename_table {
  std::string from;
  std::string to;
};
/// CREATE [UNIQUE] INDEX IF NOT EXISTS.
struct create_index {
  std::string table;
  index_definition index;
};
/// DROP INDEX IF EXISTS.
struct drop_index {
  std::string table;
  std::string name;
};
/// SQL text, one or more statements: SQL backends only.
struct sql {
  std::string text;
};
/// A C++ function and the string that stands for its meaning in the checksum
/// (change it whenever the function's effect changes).
struct code {
  migration_function run;
  std::string checksum;
  /// When the function takes a concrete backend type: that type's tag
  /// (`detail::type_tag<B>`), checked before anything runs. Null: any backend.
  const void* backend_type = nullptr;
};

}  // namespace migration_ops

/// One action of a step.
using migration_op =
    std::variant<migration_ops::create_table, migration_ops::drop_table, migration_ops::add_column,
                 migration_ops::drop_column, migration_ops::rename_column, migration_ops::rename_table,
                 migration_ops::create_index, migration_ops::drop_index, migration_ops::sql, migration_ops::code>;

/// What one direction of a step does, in order.
using migration_action = std::vector<migration_op>;

namespace detail {

template <class T>
inline constexpr char type_tag = 0;

inline void append_literal_text(std::string& out, const value& v) {
  switch (v.index()) {
    case 1: out += std::to_string(std::get<1>(v)); return;
    case 2: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, std::get<2>(v));
      out.append(buf, r.ptr);
      return;
    }
    case 3:
      out += '\'';
      for (char c : std::get<3>(v)) {
        if (c == '\'') out += '\'';
        out += c;
      }
      out += '\'';
      return;
    case 4: {
      constexpr char hex[] = "0123456789abcdef";
      out += "x'";
      for (std::byte b : std::get<4>(v)) {
        out += hex[std::to_integer<unsigned>(b) >> 4];
        out += hex[std::to_integer<unsigned>(b) & 15];
      }
      out += '\'';
      return;
    }
    default: out += "null"; return;
  }
}

inline auto storage_word(ormkit::storage s) -> std::string_view {
  switch (s) {
    case ormkit::storage::integer: return "integer";
    case ormkit::storage::real: return "real";
    case ormkit::storage::text: return "text";
    case ormkit::storage::blob: return "blob";
    default: return "any";
  }
}

inline void describe_column(std::string& out, const column_definition& c) {
  out += c.name;
  out += ' ';
  out += storage_word(c.storage);
  if (c.kind != sql_kind::integer && c.kind != sql_kind::real && c.kind != sql_kind::text && c.kind != sql_kind::blob) {
    out += " (";
    out += c.kind == sql_kind::boolean ? "boolean" : c.kind == sql_kind::timestamp ? "timestamp" : "json";
    out += ')';
  }
  if (!c.nullable) out += " not null";
  if (c.default_value) {
    out += " default ";
    append_literal_text(out, *c.default_value);
  }
  if (c.references) {
    out += " references ";
    out += c.references->table;
    out += '(';
    out += c.references->column;
    out += ')';
  }
}

inline void describe_index(std::string& out, std::string_view table, const index_definition& ix) {
  out += ix.unique ? "create unique index " : "create index ";
  out += ix.name;
  out += " on ";
  out += table;
  out += " (";
  for (std::size_t i = 0; i < ix.columns.size(); ++i) {
    if (i) out += ", ";
    out += ix.columns[i];
  }
  out += ')';
}

}  // namespace detail

/// The canonical, backend-independent text of `a`, one line per thing it does:
/// what the memory backend's plans show and what checksums are computed over.
/// A C++ action reads `-- C++ function (checksum "<its checksum>")`.
[[nodiscard]] inline auto describe_action(const migration_op& a) -> std::vector<std::string> {
  std::vector<std::string> out;
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        std::string s;
        if constexpr (std::is_same_v<X, migration_ops::create_table>) {
          s = "create table " + x.table.name + " (";
          for (std::size_t i = 0; i < x.table.columns.size(); ++i) {
            if (i) s += ", ";
            detail::describe_column(s, x.table.columns[i]);
          }
          if (!x.table.primary_key.empty()) {
            s += ", primary key (";
            for (std::size_t i = 0; i < x.table.primary_key.size(); ++i) {
              if (i) s += ", ";
              s += x.table.primary_key[i];
            }
            s += ')';
          }
          if (x.table.auto_increment) s += ", auto_increment " + *x.table.auto_increment;
          s += ')';
          out.push_back(std::move(s));
          for (const auto& ix : x.table.indexes) {
            std::string line;
            detail::describe_index(line, x.table.name, ix);
            out.push_back(std::move(line));
          }
          return;
        } else if constexpr (std::is_same_v<X, migration_ops::drop_table>) {
          s = "drop table " + x.table;
        } else if constexpr (std::is_same_v<X, migration_ops::add_column>) {
          s = "add column " + x.table + ".";
          detail::describe_column(s, x.column);
          if (!x.after.empty()) s += " after " + x.after;
        } else if constexpr (std::is_same_v<X, migration_ops::drop_column>) {
          s = "drop column " + x.table + "." + x.column;
        } else if constexpr (std::is_same_v<X, migration_ops::rename_column>) {
          s = "rename column " + x.table + "." + x.from + " to " + x.to;
        } else if constexpr (std::is_same_v<X, migration_ops::rename_table>) {
          s = "rename table " + x.from + " to " + x.to;
        } else if constexpr (std::is_same_v<X, migration_ops::create_index>) {
          detail::describe_index(s, x.table, x.index);
        } else if constexpr (std::is_same_v<X, migration_ops::drop_index>) {
          s = "drop index " + x.name + " on " + x.table;
        } else if constexpr (std::is_same_v<X, migration_ops::sql>) {
          s = x.text;
        } else {
          s = "-- C++ function (checksum \"" + x.checksum + "\")";
        }
        out.push_back(std::move(s));
      },
      a);
  return out;
}

/// True for SQL text.
[[nodiscard]] inline auto is_sql(const migration_op& a) noexcept -> bool {
  return std::holds_alternative<migration_ops::sql>(a);
}
/// True for a C++ function.
[[nodiscard]] inline auto is_code(const migration_op& a) noexcept -> bool {
  return std::holds_alternative<migration_ops::code>(a);
}

//=== steps ===//

/// One numbered schema change.
struct migration_step {
  int version = 0;   ///< unique, > 0; steps run in version order
  std::string name;  ///< shown in status, plans and errors
  migration_action up;
  std::optional<migration_action> down;  ///< none: the step cannot be rolled back
  bool destructive = false;              ///< up loses data (drop column, drop table)
  bool destructive_down = false;         ///< down loses data (undoing a create or add)

  /// FNV-1a (64-bit, hex) of the name and the up actions: "sql:" and the text of a
  /// SQL action, "code:" and the checksum string of a C++ action, "op:" and the
  /// canonical text (`describe_action`) of a structured one; actions separated by
  /// a newline. (A step of one SQL or one C++ action keeps the checksum it had when
  /// steps were SQL text or C++ only.)
  [[nodiscard]] auto checksum() const -> std::string {
    std::uint64_t h = 14695981039346656037ull;
    auto add = [&](std::string_view s) {
      for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
      }
    };
    add(name);
    add(std::string_view("\0", 1));
    for (std::size_t i = 0; i < up.size(); ++i) {
      if (i) add("\n");
      if (const auto* sql = std::get_if<migration_ops::sql>(&up[i])) {
        add("sql:");
        add(sql->text);
      } else if (const auto* code = std::get_if<migration_ops::code>(&up[i])) {
        add("code:");
        add(code->checksum);
      } else {
        add("op:");
        auto lines = describe_action(up[i]);
        for (std::size_t l = 0; l < lines.size(); ++l) {
          if (l) add("\n");
          add(lines[l]);
        }
      }
    }
    constexpr char hex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (std::size_t i = 0; i < 16; ++i) out[15 - i] = hex[(h >> (4 * i)) & 15];
    return out;
  }
};

/// What a C++ step gets: the backend that runs it, inside the step's transaction.
///
/// - `backend()`: a `backend_ref`, for repositories (`repository<T> r(cx.backend())`) and
///   `transact(cx.backend(), ...)` (which nests as a savepoint) on any backend. Note that
///   a repository uses its entity's descriptor as it is now; in a step, describe the table
///   as it is at that version (a small struct of its own) when they differ.
/// - `native<B>()`: the concrete backend when it is a `B` (e.g. `sqlite::backend` for
///   `execute`/`query`), else null.
/// - `progress(done, total)`: reports progress of a long step to the migrator's
///   `on_step_progress` callback.
class migration_context {
 public:
  using progress_function = std::function<void(const migration_step&, std::uint64_t done, std::uint64_t total)>;

  migration_context(backend_ref b, void* native, const void* native_type, const migration_step& step, bool down,
                    const progress_function* progress) noexcept
      : backend_(b), native_(native), native_type_(native_type), step_(&step), down_(down), progress_(progress) {}

  [[nodiscard]] auto backend() const noexcept -> backend_ref { return backend_; }

  template <class B>
  [[nodiscard]] auto native() const noexcept -> B* {
    return native_type_ == &detail::type_tag<std::remove_cv_t<B>> ? static_cast<B*>(native_) : nullptr;
  }

  /// The step being run.
  [[nodiscard]] auto step() const noexcept -> const migration_step& { return *step_; }
  /// True while running the step's down (a rollback).
  [[nodiscard]] auto rolling_back() const noexcept -> bool { return down_; }

  /// Reports that `done` of `total` units of work are done.
  void progress(std::uint64_t done, std::uint64_t total) const {
    if (progress_ && *progress_) (*progress_)(*step_, done, total);
  }

 private:
  backend_ref backend_;
  void* native_;
  const void* native_type_;
  const migration_step* step_;
  bool down_;
  const progress_function* progress_;
};

namespace detail {

template <class F>
struct first_parameter : first_parameter<decltype(&F::operator())> {};
template <class R, class A>
struct first_parameter<R (*)(A)> {
  using type = A;
};
template <class R, class A>
struct first_parameter<R (*)(A) noexcept> {
  using type = A;
};
template <class R, class C, class A>
struct first_parameter<R (C::*)(A)> {
  using type = A;
};
template <class R, class C, class A>
struct first_parameter<R (C::*)(A) const> {
  using type = A;
};
template <class R, class C, class A>
struct first_parameter<R (C::*)(A) noexcept> {
  using type = A;
};
template <class R, class C, class A>
struct first_parameter<R (C::*)(A) const noexcept> {
  using type = A;
};

template <class F>
concept has_call_operator = requires { &F::operator(); };

/// Wraps a C++ step body into a `migration_function`: a callable taking
/// `migration_context&`, `backend_ref`, or a concrete backend `B&` (then `backend_type`
/// records `B`, and the migrator refuses to run it on another backend).
template <class F>
auto to_migration_code(F f, std::string checksum) -> migration_ops::code {
  if constexpr (std::is_invocable_r_v<status, F&, migration_context&>) {
    return {migration_function(std::move(f)), std::move(checksum), nullptr};
  } else if constexpr (std::is_invocable_r_v<status, F&, backend_ref>) {
    return {[f = std::move(f)](migration_context& cx) mutable -> status { return f(cx.backend()); }, std::move(checksum),
            nullptr};
  } else {
    static_assert(std::is_pointer_v<F> || has_call_operator<F>,
                  "ormkit: a C++ migration step takes ormkit::migration_context&, ormkit::backend_ref or a concrete "
                  "backend (e.g. ormkit::sqlite::backend&) and returns ormkit::status");
    using B = std::remove_cvref_t<typename first_parameter<F>::type>;
    static_assert(std::is_invocable_r_v<status, F&, B&>,
                  "ormkit: a C++ migration step must return ormkit::status (or a type convertible to it)");
    return {[f = std::move(f)](migration_context& cx) mutable -> status {
              if (B* b = cx.template native<B>()) return f(*b);
              return unexpected(errc::unsupported, detail::concat({"takes another backend type than the one running it (",
                                                                   cx.backend().name(), ")"}));
            },
            std::move(checksum), &type_tag<B>};
  }
}

}  // namespace detail

//=== hand-written steps ===//

/// A step of SQL text (SQL backends only); `down` empty means it cannot be rolled back.
[[nodiscard]] inline auto sql_step(int version, std::string name, std::string up, std::string down = {},
                                   bool destructive = false) -> migration_step {
  migration_step s{version, std::move(name), {migration_ops::sql{std::move(up)}}, std::nullopt, destructive, false};
  if (!down.empty()) s.down = migration_action{migration_ops::sql{std::move(down)}};
  return s;
}

/// A step of structured actions (and SQL text or C++ functions), with an optional down.
[[nodiscard]] inline auto action_step(int version, std::string name, migration_action up,
                                      std::optional<migration_action> down = std::nullopt, bool destructive = false,
                                      bool destructive_down = false) -> migration_step {
  return {version, std::move(name), std::move(up), std::move(down), destructive, destructive_down};
}

/// A data migration in C++; `checksum` stands for the function's meaning. `up` (and
/// `down`) take `ormkit::migration_context&`, `ormkit::backend_ref`, or a concrete
/// backend such as `ormkit::sqlite::backend&` (that step then runs on that backend only),
/// and return `ormkit::status`.
template <class Up>
[[nodiscard]] auto code_step(int version, std::string name, std::string checksum, Up up) -> migration_step {
  migration_step s{version, std::move(name), {}, std::nullopt, false, false};
  s.up.emplace_back(detail::to_migration_code(std::move(up), std::move(checksum)));
  return s;
}

/// A data migration in C++ with a down; see the overload above.
template <class Up, class Down>
[[nodiscard]] auto code_step(int version, std::string name, std::string checksum, Up up, Down down)
    -> migration_step {
  migration_step s = code_step(version, std::move(name), checksum, std::move(up));
  s.down = migration_action{detail::to_migration_code(std::move(down), std::move(checksum))};
  return s;
}

/// Creates a table (and its indexes); down drops it (destructive_down).
[[nodiscard]] inline auto create_table_step(int version, table_definition table) -> migration_step {
  std::string name = "create table " + table.name;
  std::string t = table.name;
  return action_step(version, std::move(name), {migration_ops::create_table{std::move(table)}},
                     migration_action{migration_ops::drop_table{std::move(t)}}, false, true);
}

/// Drops a table (destructive); down creates it again, empty, from `table`.
[[nodiscard]] inline auto drop_table_step(int version, table_definition table) -> migration_step {
  std::string name = "drop table " + table.name;
  std::string t = table.name;
  return action_step(version, std::move(name), {migration_ops::drop_table{std::move(t)}},
                     migration_action{migration_ops::create_table{std::move(table)}}, true, false);
}

/// Adds a column; down drops it (destructive_down).
[[nodiscard]] inline auto add_column_step(int version, std::string_view table, column_definition column)
    -> migration_step {
  std::string name = "add column " + std::string(table) + "." + column.name;
  std::string c = column.name;
  return action_step(version, std::move(name), {migration_ops::add_column{std::string(table), std::move(column), {}}},
                     migration_action{migration_ops::drop_column{std::string(table), std::move(c)}}, false, true);
}

/// Renames a column; down renames it back.
[[nodiscard]] inline auto rename_column_step(int version, std::string_view table, std::string_view from,
                                             std::string_view to) -> migration_step {
  return action_step(version,
                     "rename column " + std::string(table) + "." + std::string(from) + " to " + std::string(to),
                     {migration_ops::rename_column{std::string(table), std::string(from), std::string(to)}},
                     migration_action{migration_ops::rename_column{std::string(table), std::string(to), std::string(from)}});
}

/// Renames a table; down renames it back.
[[nodiscard]] inline auto rename_table_step(int version, std::string_view from, std::string_view to)
    -> migration_step {
  return action_step(version, "rename table " + std::string(from) + " to " + std::string(to),
                     {migration_ops::rename_table{std::string(from), std::string(to)}},
                     migration_action{migration_ops::rename_table{std::string(to), std::string(from)}});
}

/// Drops a column (destructive: refused unless allowed). Indexes over it go with it.
/// No down: the step cannot be rolled back.
[[nodiscard]] inline auto drop_column_step(int version, std::string_view table, std::string_view column)
    -> migration_step {
  return action_step(version, "drop column " + std::string(table) + "." + std::string(column),
                     {migration_ops::drop_column{std::string(table), std::string(column)}}, std::nullopt, true);
}

/// Drops a column (destructive); down adds `restore` back to the table: the column's
/// shape returns (at the end of the table, filled with its default), its data does not.
/// Example: `drop_column_step(6, "users", ormkit::column_definition::of(&user::level))`.
[[nodiscard]] inline auto drop_column_step(int version, std::string_view table, column_definition restore)
    -> migration_step {
  std::string column = restore.name;
  auto s = drop_column_step(version, table, column);
  s.down = migration_action{migration_ops::add_column{std::string(table), std::move(restore), {}}};
  return s;
}

/// Creates an index; down drops it.
[[nodiscard]] inline auto create_index_step(int version, std::string_view table, index_definition index)
    -> migration_step {
  std::string name = "create index " + index.name;
  std::string ix = index.name;
  return action_step(version, std::move(name), {migration_ops::create_index{std::string(table), std::move(index)}},
                     migration_action{migration_ops::drop_index{std::string(table), std::move(ix)}});
}

/// Drops an index; down creates it again from `index`.
[[nodiscard]] inline auto drop_index_step(int version, std::string_view table, index_definition index)
    -> migration_step {
  std::string name = "drop index " + index.name;
  std::string ix = index.name;
  return action_step(version, std::move(name), {migration_ops::drop_index{std::string(table), std::move(ix)}},
                     migration_action{migration_ops::create_index{std::string(table), std::move(index)}});
}

//=== checks ===//

namespace detail {

inline auto check_identifier(std::string_view what, std::string_view name) -> status {
  if (detail::is_identifier(name)) return {};
  return unexpected(errc::invalid_argument,
                    concat({what, " \"", name,
                            "\" is not a valid identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)"}));
}

inline auto check_column(std::string_view table, const column_definition& c) -> status {
  ORMKIT_TRY(check_identifier("column name", c.name));
  if (c.default_value && c.default_value->index() != 0 && c.default_value->index() != static_cast<std::size_t>(c.storage) &&
      !(c.storage == storage::real && c.default_value->index() == 1))
    return unexpected(errc::invalid_argument, concat({table, ".", c.name, ": the default ", to_display(*c.default_value),
                                                      " does not fit the column's storage (", storage_word(c.storage),
                                                      ")"}));
  if (c.references) {
    ORMKIT_TRY(check_identifier("referenced table", c.references->table));
    ORMKIT_TRY(check_identifier("referenced column", c.references->column));
  }
  return {};
}

inline auto check_index(std::string_view table, const index_definition& ix) -> status {
  ORMKIT_TRY(check_identifier("index name", ix.name));
  if (ix.columns.empty()) return unexpected(errc::invalid_argument, concat({table, ": index ", ix.name, " has no columns"}));
  for (const auto& c : ix.columns) ORMKIT_TRY(check_identifier("index column", c));
  return {};
}

}  // namespace detail

/// Checks an action's names and shape (identifiers, non-empty tables, known key
/// and index columns). Errors: invalid_argument, naming the bad value.
[[nodiscard]] inline auto check_action(const migration_op& a) -> status {
  return std::visit(
      [&](const auto& x) -> status {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, migration_ops::create_table>) {
          const auto& t = x.table;
          ORMKIT_TRY(detail::check_identifier("table name", t.name));
          if (t.columns.empty()) return unexpected(errc::invalid_argument, t.name + ": a table needs at least one column");
          for (std::size_t i = 0; i < t.columns.size(); ++i) {
            ORMKIT_TRY(detail::check_column(t.name, t.columns[i]));
            for (std::size_t j = 0; j < i; ++j)
              if (t.columns[j].name == t.columns[i].name)
                return unexpected(errc::invalid_argument, t.name + ": column " + t.columns[i].name + " appears twice");
          }
          auto known = [&](const std::string& c, std::string_view what) -> status {
            if (t.find(c)) return {};
            return unexpected(errc::invalid_argument,
                              t.name + ": " + std::string(what) + " names column " + c + ", which the table lacks");
          };
          for (const auto& k : t.primary_key) ORMKIT_TRY(known(k, "the primary key"));
          if (t.auto_increment) ORMKIT_TRY(known(*t.auto_increment, "auto_increment"));
          for (const auto& ix : t.indexes) {
            ORMKIT_TRY(detail::check_index(t.name, ix));
            for (const auto& c : ix.columns) ORMKIT_TRY(known(c, "index " + ix.name));
          }
          return {};
        } else if constexpr (std::is_same_v<X, migration_ops::drop_table>) {
          return detail::check_identifier("table name", x.table);
        } else if constexpr (std::is_same_v<X, migration_ops::add_column>) {
          ORMKIT_TRY(detail::check_identifier("table name", x.table));
          ORMKIT_TRY(detail::check_column(x.table, x.column));
          if (!x.after.empty()) ORMKIT_TRY(detail::check_identifier("column name", x.after));
          return {};
        } else if constexpr (std::is_same_v<X, migration_ops::drop_column>) {
          ORMKIT_TRY(detail::check_identifier("table name", x.table));
          return detail::check_identifier("column name", x.column);
        } else if constexpr (std::is_same_v<X, migration_ops::rename_column>) {
          ORMKIT_TRY(detail::check_identifier("table name", x.table));
          ORMKIT_TRY(detail::check_identifier("column name", x.from));
          return detail::check_identifier("new column name", x.to);
        } else if constexpr (std::is_same_v<X, migration_ops::rename_table>) {
          ORMKIT_TRY(detail::check_identifier("table name", x.from));
          return detail::check_identifier("new table name", x.to);
        } else if constexpr (std::is_same_v<X, migration_ops::create_index>) {
          ORMKIT_TRY(detail::check_identifier("table name", x.table));
          return detail::check_index(x.table, x.index);
        } else if constexpr (std::is_same_v<X, migration_ops::drop_index>) {
          ORMKIT_TRY(detail::check_identifier("table name", x.table));
          return detail::check_identifier("index name", x.name);
        } else if constexpr (std::is_same_v<X, migration_ops::sql>) {
          if (x.text.find_first_not_of(" \t\r\n;") == std::string::npos)
            return unexpected(errc::invalid_argument, "has empty SQL text");
          return {};
        } else {
          if (!x.run) return unexpected(errc::invalid_argument, "has no function to run");
          return {};
        }
      },
      a);
}

//=== steps from descriptors ===//

namespace detail {

/// The version an index can be created in: that of its newest column.
inline auto index_version(const table_schema& s, const index_schema& ix) -> int {
  int v = 1;
  for (std::size_t c : ix.columns) v = std::max(v, s.columns.at(c).since);
  return v;
}

// What one version of one or more tables brings, collected before it becomes a step.
struct version_parts {
  std::vector<std::string> names;
  migration_action up;
  std::vector<migration_action> downs;  // per table, run in reverse table order
  bool loses_data = false;              // a down drops a table or a column
};

inline void collect_steps(const table_schema& s, std::map<int, version_parts>& parts) {
  if (s.columns.empty()) return;
  int base = s.columns.front().since;
  for (const auto& c : s.columns) base = std::min(base, c.since);
  std::vector<int> versions;
  for (const auto& c : s.columns) versions.push_back(c.since);
  for (const auto& ix : s.indexes) versions.push_back(std::max(base, index_version(s, ix)));
  std::sort(versions.begin(), versions.end());
  versions.erase(std::unique(versions.begin(), versions.end()), versions.end());

  const std::string table(s.name);
  for (int v : versions) {
    auto& p = parts[v];
    migration_action down;
    if (v == base) {
      table_definition at(s, base);
      // SQLite checks a new row against unique indexes from the most recently created
      // one back, the memory backend in schema order: creating them backwards makes a
      // row that breaks two keys report the same one on both (as sqlite::schema_sql).
      std::reverse(at.indexes.begin(), at.indexes.end());
      p.names.push_back("create table " + table);
      p.up.emplace_back(migration_ops::create_table{std::move(at)});
      down.emplace_back(migration_ops::drop_table{table});
      p.loses_data = true;
    } else {
      migration_action drop_columns;
      for (std::size_t i = 0; i < s.columns.size(); ++i) {
        const auto& c = s.columns[i];
        if (c.since != v) continue;
        std::string after;  // the nearest described column before it that exists at v
        for (std::size_t j = i; j-- > 0;)
          if (s.columns[j].since <= v) {
            after = std::string(s.columns[j].name);
            break;
          }
        p.names.push_back("add column " + table + "." + std::string(c.name));
        p.up.emplace_back(migration_ops::add_column{table, column_definition(c), std::move(after)});
        drop_columns.insert(drop_columns.begin(), migration_ops::drop_column{table, std::string(c.name)});
      }
      for (auto ix = s.indexes.rbegin(); ix != s.indexes.rend(); ++ix) {
        if (index_version(s, *ix) != v) continue;
        p.names.push_back("create index " + ix->name);
        p.up.emplace_back(migration_ops::create_index{table, index_definition(s, *ix)});
        // Indexes first: the columns under them go next.
        down.emplace_back(migration_ops::drop_index{table, ix->name});
      }
      if (!drop_columns.empty()) p.loses_data = true;
      down.insert(down.end(), std::make_move_iterator(drop_columns.begin()), std::make_move_iterator(drop_columns.end()));
    }
    p.downs.push_back(std::move(down));
  }
}

}  // namespace detail

/// The steps that build the tables of `Ts...` from nothing, one per schema
/// version: the lowest `since` of each table creates it (with the columns and
/// indexes of that version), every later `since(n)` adds its columns and the
/// indexes over them. What several entities bring in one version is one step,
/// named after all of it ("create table users, create table posts"). Downs drop
/// what the up made: indexes (generated `drop_index` actions), then columns or the
/// table (destructive_down: their data is lost).
///
/// Example: `ormkit::migrator m(db, ormkit::steps_for<user, post>());`
template <entity... Ts>
[[nodiscard]] auto steps_for() -> std::vector<migration_step> {
  std::map<int, detail::version_parts> parts;
  (detail::collect_steps(schema_of<Ts>(), parts), ...);
  std::vector<migration_step> out;
  for (auto& [version, p] : parts) {
    migration_step step;
    step.version = version;
    for (const auto& n : p.names) step.name += (step.name.empty() ? "" : ", ") + n;
    step.up = std::move(p.up);
    migration_action down;
    for (auto d = p.downs.rbegin(); d != p.downs.rend(); ++d)
      down.insert(down.end(), std::make_move_iterator(d->begin()), std::make_move_iterator(d->end()));
    step.down = std::move(down);
    step.destructive_down = p.loses_data;
    out.push_back(std::move(step));
  }
  return out;
}

}  // namespace ormkit
