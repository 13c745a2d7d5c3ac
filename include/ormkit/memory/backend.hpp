// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/memory/backend.hpp
//
// The in-process backend: a full peer of the SQL backends, not a mock. Tables
// of rows, primary-key and unique enforcement, the query AST evaluated with
// SQL semantics (memory/eval.hpp), transactions with nested savepoints, and
// optional durability through a `durability` store (memory/json_file.hpp
// writes an atomic JSON file).
//
// Locking: one mutex guards the data; each call holds it for its duration.
// `begin()` makes the calling thread the transaction owner: other threads'
// calls wait until it commits or rolls back (transactions are serializable).
// Cursors read a snapshot: rows are immutable and shared, so a cursor stays
// valid and unchanged while other calls write.
//
// Tables are created on first use; `ensure_table` does it explicitly and
// checks a loaded table's columns against the schema.
//
// Schema changes (for migrations and tools: ormkit/migration/memory.hpp drives
// them): create, drop and rename tables, add, drop and rename columns on the
// stored rows, create and drop indexes. Each is one write like any other: inside
// the calling thread's transaction it is undone by rollback together with the
// row writes; outside one it is saved at once. A table whose columns change is
// detached from its entity schema and checked again on its next use. The backend
// records each table's indexes (name, columns, unique) for migrations and drift;
// unique keys are enforced from the entity's descriptor.
//
// Example:
//
//   ormkit::memory::backend db;                       // transient
//   ormkit::memory::backend disk({.store = ormkit::memory::json_file("app.json")});

#include <ormkit/backend.hpp>
#include <ormkit/memory/eval.hpp>
#include <ormkit/schema.hpp>

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace ormkit::memory {

using row = std::vector<value>;
using row_ptr = std::shared_ptr<const row>;

/// An index as the backend records it.
struct stored_index {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;

  friend auto operator==(const stored_index&, const stored_index&) -> bool = default;
};

/// One table's persistent state: column names, key counter, rows by row id, indexes.
struct table_data {
  std::vector<std::string> columns;
  std::int64_t next_id = 1;     ///< next auto-increment value (never reused)
  std::int64_t next_rowid = 1;  ///< insertion order
  std::map<std::int64_t, row_ptr> rows;
  std::vector<stored_index> indexes;  ///< created with the table, by first use or by migrations
  bool indexes_known = true;          ///< false: loaded without index records (first use adopts the entity's)
};

/// What `backend::describe_table` reports.
struct table_description {
  std::vector<std::string> columns;
  std::vector<stored_index> indexes;
  bool indexes_known = true;  ///< false: loaded without index records, not used since (drift skips indexes)
  std::size_t rows = 0;
};

/// Everything a durable store saves and loads.
struct snapshot {
  std::map<std::string, table_data, std::less<>> tables;
};

/// Where a memory backend keeps its data between runs.
class durability {
 public:
  virtual ~durability() = default;
  /// Returns the saved snapshot, or an empty one when nothing was saved yet.
  /// Errors: corrupt (unreadable or malformed data: never silently empty), io_error.
  virtual auto load() -> result<snapshot> = 0;
  /// Replaces the saved data with `s` atomically: after a crash either the old or the
  /// new data is found, never a mix.
  virtual auto save(const snapshot& s) -> status = 0;
};

struct options {
  /// Null: data lives only as long as the backend.
  std::shared_ptr<durability> store;
};

class backend {
 public:
  backend() = default;

  /// Loads `opts.store`. Throws: `ormkit::exception` (corrupt, io_error) — use `open` for a result.
  explicit backend(options opts) : store_(std::move(opts.store)) {
    if (!store_) return;
    auto loaded = store_->load();
    if (!loaded) throw exception(std::move(loaded).error());
    for (auto& [name, data] : loaded->tables) tables_.emplace(name, table{nullptr, std::move(data), {}, {}});
  }

  /// Opens a backend over `opts.store`. Errors: corrupt, io_error.
  static auto open(options opts) -> result<std::unique_ptr<backend>> {
    auto b = std::make_unique<backend>();
    b->store_ = std::move(opts.store);
    if (b->store_) {
      auto loaded = b->store_->load();
      if (!loaded) return std::move(loaded).error();
      for (auto& [name, data] : loaded->tables) b->tables_.emplace(name, table{nullptr, std::move(data), {}, {}});
    }
    return b;
  }

  backend(const backend&) = delete;
  auto operator=(const backend&) -> backend& = delete;

  [[nodiscard]] auto name() const -> std::string_view { return "memory"; }

  auto ensure_table(const table_schema& s) -> status {
    auto l = lock();
    auto t = attach(s);
    if (!t) return std::move(t).error();
    return {};
  }

  auto insert(const table_schema& s, std::span<const value_view> r) -> result<std::int64_t> {
    auto l = lock();
    auto t = attach(s);
    if (!t) return std::move(t).error();
    std::size_t mark = undo_.size();
    auto id = insert_row(**t, r);
    return finish_write(mark, std::move(id));
  }

  auto insert_many(const table_schema& s, std::span<const value_view> rows, std::size_t count,
                   std::vector<std::int64_t>& ids) -> status {
    auto l = lock();
    auto t = attach(s);
    if (!t) return std::move(t).error();
    const std::size_t width = s.columns.size();
    if (rows.size() != width * count)
      return unexpected(errc::invalid_argument, std::string(s.name) + ": insert_many got a malformed batch");
    std::size_t mark = undo_.size();
    std::vector<std::int64_t> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto id = insert_row(**t, rows.subspan(i * width, width));
      if (!id) {
        undo_to(mark);
        auto e = std::move(id).error();
        e.message += " (batch item " + std::to_string(i) + ")";
        return e;
      }
      out.push_back(*id);
    }
    auto done = finish_write(mark, result<std::int64_t>(0));
    if (!done) return std::move(done).error();
    ids.insert(ids.end(), out.begin(), out.end());
    return {};
  }

  auto upsert(const table_schema& s, std::span<const value_view> r, std::span<const std::size_t> cols)
      -> result<std::int64_t> {
    auto l = lock();
    auto t = attach(s);
    if (!t) return std::move(t).error();
    table& tb = **t;
    std::size_t mark = undo_.size();
    if (!s.primary_key.empty()) {
      auto key = key_of(s.primary_key, r);
      if (auto it = tb.pk.find(key); it != tb.pk.end()) {
        const row& old = *tb.data.rows.at(it->second);
        row next = old;
        for (std::size_t c : cols) next[c] = own(r[c]);
        auto st = replace_row(tb, it->second, std::move(next));
        if (!st) {
          undo_to(mark);
          return std::move(st).error();
        }
        std::int64_t id = 0;
        if (s.auto_increment)
          if (const auto* i = std::get_if<std::int64_t>(&old[*s.auto_increment])) id = *i;
        return finish_write(mark, result<std::int64_t>(id));
      }
    }
    auto id = insert_row(tb, r);
    return finish_write(mark, std::move(id));
  }

  auto update(const table_schema& s, std::span<const std::size_t> cols, std::span<const value_view> values,
              const expr& filter) -> result<std::uint64_t> {
    auto l = lock();
    auto t = attach(s);
    if (!t) return std::move(t).error();
    table& tb = **t;
    for (std::size_t i = 0; i < cols.size(); ++i) {
      auto st = check_value(s, cols[i], values[i]);
      if (!st) return std::move(st).error();
    }
    std::size_t mark = undo_.size();
    std::uint64_t n = 0;
    for (std::int64_t rowid : matching(tb, filter)) {
      row next = *tb.data.rows.at(rowid);
      for (std::size_t i = 0; i < cols.size(); ++i) next[cols[i]] = own(values[i]);
      auto st = replace_row(tb, rowid, std::move(next));
      if (!st) {
        undo_to(mark);
        return std::move(st).error();
      }
      ++n;
    }
    return finish_write(mark, result<std::uint64_t>(n));
  }

  auto erase(const table_schema& s, const expr& filter) -> result<std::uint64_t> {
    auto l = lock();
    auto t = attach(s);
    if (!t) return std::move(t).error();
    std::size_t mark = undo_.size();
    std::uint64_t n = 0;
    for (std::int64_t rowid : matching(**t, filter)) {
      if (auto st = remove_row(**t, rowid); !st) {
        undo_to(mark);
        return std::move(st).error();
      }
      ++n;
    }
    return finish_write(mark, result<std::uint64_t>(n));
  }

  auto select(const table_schema& s, const query_spec& q) -> result<cursor> {
    std::vector<row_ptr> rows;
    {
      auto l = lock();
      auto t = attach(s);
      if (!t) return std::move(t).error();
      for (std::int64_t rowid : matching(**t, q.where)) rows.push_back((*t)->data.rows.at(rowid));
    }
    if (!q.order.empty()) {
      std::vector<value_view> a, b;
      std::stable_sort(rows.begin(), rows.end(), [&](const row_ptr& x, const row_ptr& y) {
        views(*x, a);
        views(*y, b);
        return order_rows(a, b, q.order) < 0;
      });
    }
    std::size_t begin = static_cast<std::size_t>(std::min<std::uint64_t>(q.offset, rows.size()));
    std::size_t end = rows.size();
    if (q.limit) end = static_cast<std::size_t>(std::min<std::uint64_t>(begin + *q.limit, rows.size()));
    rows = std::vector<row_ptr>(rows.begin() + static_cast<std::ptrdiff_t>(begin),
                                rows.begin() + static_cast<std::ptrdiff_t>(end));
    return cursor(std::make_unique<snapshot_cursor>(std::move(rows)));
  }

  auto aggregate(const table_schema& s, const aggregate_spec& a) -> result<value_rows> {
    auto l = lock();
    auto t = attach(s);
    if (!t) return std::move(t).error();
    std::map<std::vector<value>, std::vector<accumulator>, row_less> groups;
    auto fresh = [&] {
      std::vector<accumulator> acc;
      for (const auto& term : a.terms) acc.emplace_back(term);
      return acc;
    };
    if (a.group_by.empty()) groups.emplace(std::vector<value>{}, fresh());
    std::vector<value_view> v;
    for (std::int64_t rowid : matching(**t, a.where)) {
      const row& r = *(*t)->data.rows.at(rowid);
      views(r, v);
      std::vector<value> key;
      for (std::size_t g : a.group_by) key.push_back(r[g]);
      auto it = groups.find(key);
      if (it == groups.end()) it = groups.emplace(std::move(key), fresh()).first;
      for (auto& acc : it->second) {
        auto st = acc.add(v);
        if (!st) {
          auto e = std::move(st).error();
          e.message = std::string(s.name) + ": " + e.message;
          return e;
        }
      }
    }
    value_rows out;
    for (auto& [key, accs] : groups) {
      std::vector<value> r = key;
      for (const auto& acc : accs) r.push_back(acc.result_value());
      out.push_back(std::move(r));
    }
    return out;
  }

  //=== transactions ===//

  auto begin() -> status {
    std::unique_lock l(mutex_);
    if (owner_ == std::this_thread::get_id())
      return unexpected(errc::transaction_state, "memory: a transaction is already active on this thread; use a savepoint");
    cv_.wait(l, [&] { return owner_ == std::thread::id{}; });
    owner_ = std::this_thread::get_id();
    undo_.clear();
    savepoints_.clear();
    return {};
  }

  auto commit() -> status {
    std::unique_lock l(mutex_);
    if (owner_ != std::this_thread::get_id())
      return unexpected(errc::transaction_state, "memory: commit without an active transaction");
    auto st = persist();
    if (!st) undo_to(0);
    end_transaction();
    l.unlock();
    cv_.notify_all();
    return st;
  }

  auto rollback() -> status {
    std::unique_lock l(mutex_);
    if (owner_ != std::this_thread::get_id())
      return unexpected(errc::transaction_state, "memory: rollback without an active transaction");
    undo_to(0);
    end_transaction();
    l.unlock();
    cv_.notify_all();
    return {};
  }

  auto savepoint(std::string_view name) -> status {
    std::unique_lock l(mutex_);
    if (owner_ != std::this_thread::get_id())
      return unexpected(errc::transaction_state, "memory: savepoint " + std::string(name) + " outside a transaction");
    savepoints_.emplace_back(std::string(name), undo_.size());
    return {};
  }

  auto release(std::string_view name) -> status {
    std::unique_lock l(mutex_);
    auto it = find_savepoint(name);
    if (!it) return unexpected(errc::transaction_state, "memory: no savepoint named " + std::string(name));
    savepoints_.erase(savepoints_.begin() + static_cast<std::ptrdiff_t>(*it), savepoints_.end());
    return {};
  }

  auto rollback_to(std::string_view name) -> status {
    std::unique_lock l(mutex_);
    auto it = find_savepoint(name);
    if (!it) return unexpected(errc::transaction_state, "memory: no savepoint named " + std::string(name));
    undo_to(savepoints_[*it].second);
    savepoints_.erase(savepoints_.begin() + static_cast<std::ptrdiff_t>(*it) + 1, savepoints_.end());
    return {};
  }

  /// True while the calling thread owns a transaction.
  [[nodiscard]] auto in_transaction() const -> bool {
    std::lock_guard l(mutex_);
    return owner_ == std::this_thread::get_id();
  }

  /// Number of rows in `table` (0 when it does not exist).
  [[nodiscard]] auto row_count(std::string_view table) const -> std::size_t {
    std::lock_guard l(mutex_);
    auto it = tables_.find(table);
    return it == tables_.end() ? 0 : it->second.data.rows.size();
  }

  /// Saves everything to the store now (a no-op without one).
  auto flush() -> status {
    auto l = lock();
    return persist();
  }

  //=== schema changes (for migrations and tools) ===//

  /// True when a table called `name` exists.
  [[nodiscard]] auto has_table(std::string_view name) const -> bool {
    auto l = lock();
    return tables_.find(name) != tables_.end();
  }

  /// The names of the tables, sorted.
  [[nodiscard]] auto table_names() const -> std::vector<std::string> {
    auto l = lock();
    std::vector<std::string> out;
    for (const auto& [name, t] : tables_) out.push_back(name);
    return out;
  }

  /// The columns and indexes of table `name`; nullopt when it does not exist.
  [[nodiscard]] auto describe_table(std::string_view name) const -> std::optional<table_description> {
    auto l = lock();
    auto it = tables_.find(name);
    if (it == tables_.end()) return std::nullopt;
    const table_data& d = it->second.data;
    return table_description{d.columns, d.indexes, d.indexes_known, d.rows.size()};
  }

  /// Creates an empty table with `columns` (a no-op when `name` exists, as CREATE TABLE
  /// IF NOT EXISTS). Errors: invalid_argument (no columns, a column named twice).
  auto create_table(std::string_view name, std::vector<std::string> columns) -> status {
    return schema_change([&]() -> status {
      if (tables_.find(name) != tables_.end()) return {};
      if (columns.empty())
        return unexpected(errc::invalid_argument, std::string(name) + ": a table needs at least one column");
      for (std::size_t i = 0; i < columns.size(); ++i)
        for (std::size_t j = 0; j < i; ++j)
          if (columns[i] == columns[j])
            return unexpected(errc::invalid_argument,
                              std::string(name) + ": column " + columns[i] + " appears twice");
      table t;
      t.data.columns = std::move(columns);
      tables_.emplace(std::string(name), std::move(t));
      undo_.push_back({nullptr, 0, nullptr, 0, [this, n = std::string(name)] { tables_.erase(n); }});
      return {};
    });
  }

  /// Drops table `name` with its rows and indexes (a no-op when it does not exist).
  /// Errors: conflict (rows of another table still reference it through a foreign key).
  auto drop_table(std::string_view name) -> status {
    return schema_change([&]() -> status {
      auto it = tables_.find(name);
      if (it == tables_.end()) return {};
      for (const auto& [child_name, child] : tables_) {
        if (!child.schema || &child == &it->second) continue;
        for (std::size_t c = 0; c < child.schema->columns.size(); ++c) {
          const auto& ref = child.schema->columns[c].references;
          if (!ref || ref->table != name) continue;
          for (const auto& [rowid, r] : child.data.rows)
            if ((*r)[c].index() != 0)
              return unexpected(errc::conflict,
                                std::string(name) + ": cannot drop the table: rows of " + child_name + "." +
                                    std::string(child.schema->columns[c].name) + " still reference it (foreign key)",
                                "foreign key");
        }
      }
      auto node = std::make_shared<decltype(tables_)::node_type>(tables_.extract(it));
      undo_.push_back({nullptr, 0, nullptr, 0, [this, node] { tables_.insert(std::move(*node)); }});
      return {};
    });
  }

  /// Renames table `from` to `to`. Errors: schema_mismatch (`from` missing, `to` taken).
  auto rename_table(std::string_view from, std::string_view to) -> status {
    return schema_change([&]() -> status {
      auto it = tables_.find(from);
      if (it == tables_.end())
        return unexpected(errc::schema_mismatch, std::string(from) + ": no such table (renaming it to " +
                                                     std::string(to) + ")");
      if (tables_.find(to) != tables_.end())
        return unexpected(errc::schema_mismatch,
                          std::string(to) + ": a table of that name exists (renaming " + std::string(from) + ")");
      change_table(it->second);
      auto node = tables_.extract(it);
      node.key() = std::string(to);
      tables_.insert(std::move(node));
      undo_.push_back({nullptr, 0, nullptr, 0, [this, f = std::string(from), t = std::string(to)] {
                         auto n = tables_.extract(t);
                         n.key() = f;
                         tables_.insert(std::move(n));
                       }});
      return {};
    });
  }

  /// Adds column `column` to every row of `table`, holding `fill` (its default, or
  /// NULL), after column `after` (at the end when `after` is empty or unknown).
  /// Errors: schema_mismatch (no such table, the column exists), invalid_argument (a
  /// NOT NULL column filled with NULL while the table has rows).
  auto add_column(std::string_view table, std::string_view column, value fill, bool nullable,
                  std::string_view after = {}) -> status {
    return schema_change([&]() -> status {
      const std::string subject = std::string(table) + "." + std::string(column);
      auto it = tables_.find(table);
      if (it == tables_.end()) return unexpected(errc::schema_mismatch, subject + ": no such table " + std::string(table));
      struct table& t = it->second;
      auto& cols = t.data.columns;
      if (std::find(cols.begin(), cols.end(), column) != cols.end())
        return unexpected(errc::schema_mismatch, subject + ": the column exists");
      if (!nullable && fill.index() == 0 && !t.data.rows.empty())
        return unexpected(errc::invalid_argument,
                          subject + ": a NOT NULL column without a default cannot be added to a table with rows (" +
                              std::to_string(t.data.rows.size()) + "); give it a default");
      auto pos = cols.size();
      if (auto a = std::find(cols.begin(), cols.end(), after); !after.empty() && a != cols.end())
        pos = static_cast<std::size_t>(a - cols.begin()) + 1;
      change_table(t);
      cols.insert(cols.begin() + static_cast<std::ptrdiff_t>(pos), std::string(column));
      for (auto& [rowid, r] : t.data.rows) {
        auto next = std::make_shared<row>(*r);
        next->insert(next->begin() + static_cast<std::ptrdiff_t>(pos), fill);
        r = std::move(next);
      }
      return {};
    });
  }

  /// Drops column `column` from `table` and every row; the indexes over it go too.
  /// Errors: schema_mismatch (no such table or column), invalid_argument (the table's
  /// only column, or part of the primary key of the entity using the table).
  auto drop_column(std::string_view table, std::string_view column) -> status {
    return schema_change([&]() -> status {
      const std::string subject = std::string(table) + "." + std::string(column);
      auto it = tables_.find(table);
      if (it == tables_.end()) return unexpected(errc::schema_mismatch, subject + ": no such table " + std::string(table));
      struct table& t = it->second;
      auto& cols = t.data.columns;
      auto c = std::find(cols.begin(), cols.end(), column);
      if (c == cols.end()) return unexpected(errc::schema_mismatch, subject + ": no such column");
      const auto pos = static_cast<std::size_t>(c - cols.begin());
      if (cols.size() == 1)
        return unexpected(errc::invalid_argument, subject + ": is the only column of " + std::string(table));
      if (t.schema)
        for (std::size_t k : t.schema->primary_key)
          if (t.schema->columns[k].name == column)
            return unexpected(errc::invalid_argument, subject + ": is part of the primary key; it cannot be dropped");
      change_table(t);
      cols.erase(c);
      for (auto& [rowid, r] : t.data.rows) {
        auto next = std::make_shared<row>(*r);
        next->erase(next->begin() + static_cast<std::ptrdiff_t>(pos));
        r = std::move(next);
      }
      auto& ix = t.data.indexes;
      ix.erase(std::remove_if(ix.begin(), ix.end(),
                              [&](const stored_index& i) {
                                return std::find(i.columns.begin(), i.columns.end(), column) != i.columns.end();
                              }),
               ix.end());
      return {};
    });
  }

  /// Renames column `from` of `table` to `to` (in its indexes too).
  /// Errors: schema_mismatch (no such table or column, `to` exists).
  auto rename_column(std::string_view table, std::string_view from, std::string_view to) -> status {
    return schema_change([&]() -> status {
      const std::string subject = std::string(table) + "." + std::string(from);
      auto it = tables_.find(table);
      if (it == tables_.end()) return unexpected(errc::schema_mismatch, subject + ": no such table " + std::string(table));
      struct table& t = it->second;
      auto& cols = t.data.columns;
      auto c = std::find(cols.begin(), cols.end(), from);
      if (c == cols.end()) return unexpected(errc::schema_mismatch, subject + ": no such column");
      if (std::find(cols.begin(), cols.end(), to) != cols.end())
        return unexpected(errc::schema_mismatch,
                          subject + ": cannot rename it to " + std::string(to) + ", which is another column");
      change_table(t);
      *c = std::string(to);
      for (auto& ix : t.data.indexes)
        for (auto& n : ix.columns)
          if (n == from) n = std::string(to);
      return {};
    });
  }

  /// Creates index `ix` on `table` (a no-op when an index of that name exists, as
  /// CREATE INDEX IF NOT EXISTS). A unique index is checked against the stored rows.
  /// Errors: schema_mismatch (no such table, a column it lacks), conflict (two rows
  /// share a value of a unique index; NULLs never clash).
  auto create_index(std::string_view table, stored_index ix) -> status {
    return schema_change([&]() -> status {
      auto it = tables_.find(table);
      if (it == tables_.end())
        return unexpected(errc::schema_mismatch, std::string(table) + ": no such table (creating index " + ix.name + ")");
      for (const auto& [name, other] : tables_)
        for (const auto& existing : other.data.indexes)
          if (existing.name == ix.name) return {};
      struct table& t = it->second;
      std::vector<std::size_t> pos;
      for (const auto& c : ix.columns) {
        auto f = std::find(t.data.columns.begin(), t.data.columns.end(), c);
        if (f == t.data.columns.end())
          return unexpected(errc::schema_mismatch,
                            std::string(table) + ": index " + ix.name + " names column " + c + ", which the table lacks");
        pos.push_back(static_cast<std::size_t>(f - t.data.columns.begin()));
      }
      if (ix.unique) {
        std::map<std::vector<value>, std::int64_t, row_less> seen;
        for (const auto& [rowid, r] : t.data.rows) {
          std::vector<value> key;
          for (std::size_t p : pos) key.push_back((*r)[p]);
          if (has_null(key)) continue;
          if (!seen.emplace(key, rowid).second) {
            std::string cols, shown;
            for (std::size_t i = 0; i < key.size(); ++i) {
              cols += (i ? ", " : "") + ix.columns[i];
              shown += (i ? ", " : "") + to_display(key[i]);
            }
            if (key.size() > 1) cols = "(" + cols + ")", shown = "(" + shown + ")";
            return unexpected(errc::conflict, std::string(table) + "." + cols + ": value " + shown +
                                                  " appears in more than one row; cannot create unique index " + ix.name,
                              ix.name);
          }
        }
      }
      save_indexes(t);
      t.data.indexes.push_back(std::move(ix));
      return {};
    });
  }

  /// Drops the index called `name`, whichever table has it (a no-op when none does).
  auto drop_index(std::string_view name) -> status {
    return schema_change([&]() -> status {
      for (auto& [tname, t] : tables_) {
        auto& ix = t.data.indexes;
        auto f = std::find_if(ix.begin(), ix.end(), [&](const stored_index& i) { return i.name == name; });
        if (f == ix.end()) continue;
        save_indexes(t);
        ix.erase(f);
        return {};
      }
      return {};
    });
  }

 private:
  struct table {
    const table_schema* schema = nullptr;  // null until attached (loaded from a store)
    table_data data;
    std::map<std::vector<value>, std::int64_t, row_less> pk;
    std::vector<std::map<std::vector<value>, std::int64_t, row_less>> uniques;  // parallel to unique indexes
  };

  // Undo log entry: the row `rowid` of `t` had `before` (null: it did not exist); or,
  // for a schema change, `restore` puts back what it changed. Tables never move in
  // memory (renames and drops move map nodes, not tables), so `t` stays valid.
  struct undo_entry {
    table* t;
    std::int64_t rowid;
    row_ptr before;
    std::int64_t next_id;
    std::function<void()> restore;
  };

  // Runs one schema change as one write (see the header comment).
  template <class F>
  auto schema_change(F&& change) -> status {
    auto l = lock();
    std::size_t mark = undo_.size();
    status st = change();
    return finish_write(mark, std::move(st));
  }

  // Before changing `t`'s columns or name: remember it whole for undo, then detach
  // it from its entity schema (its next use checks the rows and rebuilds the keys).
  void change_table(table& t) {
    undo_.push_back({nullptr, 0, nullptr, 0, [&t, saved = std::make_shared<table>(t)] { t = *saved; }});
    t.schema = nullptr;
    t.pk.clear();
    t.uniques.clear();
  }

  void save_indexes(table& t) {
    undo_.push_back({nullptr, 0, nullptr, 0, [&t, saved = t.data.indexes] { t.data.indexes = saved; }});
  }

  class snapshot_cursor final : public cursor_source {
   public:
    explicit snapshot_cursor(std::vector<row_ptr> rows) : rows_(std::move(rows)) {}
    auto next() -> result<bool> override {
      if (pos_ >= rows_.size()) return false;
      views(*rows_[pos_++], current_);
      return true;
    }
    [[nodiscard]] auto row() const -> std::span<const value_view> override { return current_; }

   private:
    std::vector<row_ptr> rows_;
    std::size_t pos_ = 0;
    std::vector<value_view> current_;
  };

  static void views(const row& r, std::vector<value_view>& out) {
    out.resize(r.size());
    for (std::size_t i = 0; i < r.size(); ++i) out[i] = view(r[i]);
  }

  // Waits until no other thread owns a transaction, then holds the data mutex.
  auto lock() const -> std::unique_lock<std::mutex> {
    std::unique_lock l(mutex_);
    cv_.wait(l, [&] { return owner_ == std::thread::id{} || owner_ == std::this_thread::get_id(); });
    return l;
  }

  [[nodiscard]] auto in_tx() const -> bool { return owner_ == std::this_thread::get_id(); }

  void end_transaction() {
    undo_.clear();
    savepoints_.clear();
    owner_ = {};
  }

  auto find_savepoint(std::string_view name) const -> std::optional<std::size_t> {
    if (owner_ != std::this_thread::get_id()) return std::nullopt;
    for (std::size_t i = savepoints_.size(); i-- > 0;)
      if (savepoints_[i].first == name) return i;
    return std::nullopt;
  }

  // Ends a write: on error undoes it; outside a transaction persists it (undoing on failure).
  template <class R>
  auto finish_write(std::size_t mark, R r) -> R {
    if (!r) {
      undo_to(mark);
      return r;
    }
    if (in_tx()) return r;
    if (auto st = persist(); !st) {
      undo_to(mark);
      return std::move(st).error();
    }
    undo_.resize(mark);
    return r;
  }

  auto persist() -> status {
    if (!store_) return {};
    snapshot s;
    for (const auto& [name, t] : tables_) s.tables.emplace(name, t.data);
    return store_->save(s);
  }

  static auto key_of(std::span<const std::size_t> cols, std::span<const value_view> r) -> std::vector<value> {
    std::vector<value> k;
    k.reserve(cols.size());
    for (std::size_t c : cols) k.push_back(own(r[c]));
    return k;
  }
  static auto key_of(std::span<const std::size_t> cols, const row& r) -> std::vector<value> {
    std::vector<value> k;
    k.reserve(cols.size());
    for (std::size_t c : cols) k.push_back(r[c]);
    return k;
  }
  static auto has_null(const std::vector<value>& k) -> bool {
    return std::any_of(k.begin(), k.end(), [](const value& v) { return v.index() == 0; });
  }

  // "users.email: value "a@b.c" already exists (unique key uq_users_email)"; secrets redacted.
  static auto conflict(const table_schema& s, std::span<const std::size_t> cols, const std::vector<value>& k,
                       std::string_view what) -> ormkit::error {
    std::string subject = std::string(s.name) + ".";
    std::string shown;
    if (cols.size() > 1) subject += "(", shown += "(";
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) subject += ", ", shown += ", ";
      subject += s.columns[cols[i]].name;
      shown += s.columns[cols[i]].has(column_flags::secret) ? std::string("<secret>") : to_display(k[i]);
    }
    if (cols.size() > 1) subject += ")", shown += ")";
    return {errc::conflict, subject + ": value " + shown + " already exists (" + std::string(what) + ")",
            std::string(what)};
  }

  static auto check_value(const table_schema& s, std::size_t c, const value_view& v) -> status {
    const auto& col = s.columns.at(c);
    if (v.index() == 0) {
      if (!col.nullable)
        return unexpected(errc::invalid_argument,
                          std::string(s.name) + "." + std::string(col.name) + ": NULL in a NOT NULL column");
      return {};
    }
    auto got = storage_of(v);
    bool ok = got == col.storage || (col.storage == storage::real && got == storage::integer);
    if (!ok)
      return unexpected(errc::invalid_argument, std::string(s.name) + "." + std::string(col.name) + ": expected " +
                                                    std::string(to_string(col.storage)) + ", got " +
                                                    std::string(to_string(got)));
    return {};
  }

  // Finds or creates the table for `s`, building indexes for loaded rows.
  auto attach(const table_schema& s) -> result<table*> {
    auto it = tables_.find(s.name);
    if (it == tables_.end()) {
      table t{&s, {}, {}, std::vector<std::map<std::vector<value>, std::int64_t, row_less>>(s.indexes.size())};
      for (const auto& c : s.columns) t.data.columns.emplace_back(c.name);
      adopt_indexes(t.data, s);
      it = tables_.emplace(std::string(s.name), std::move(t)).first;
      return &it->second;
    }
    table& t = it->second;
    if (t.schema == &s) return &t;
    if (t.schema == nullptr || t.schema->hash != s.hash) {
      std::vector<std::string> names;
      for (const auto& c : s.columns) names.emplace_back(c.name);
      if (names != t.data.columns) {
        std::string have, want;
        for (const auto& n : t.data.columns) have += (have.empty() ? "" : ", ") + n;
        for (const auto& n : names) want += (want.empty() ? "" : ", ") + n;
        return unexpected(errc::schema_mismatch, std::string(s.name) + ": stored columns (" + have +
                                                     ") differ from the entity's (" + want + ")");
      }
    }
    if (t.schema == nullptr) {
      // First use of a loaded table: check every row and build the indexes. On failure the
      // table stays unattached, so every later use reports the damage too.
      t.schema = &s;
      t.uniques.assign(s.indexes.size(), {});
      auto checked = [&]() -> status {
        for (const auto& [rowid, r] : t.data.rows) {
          if (r->size() != s.columns.size())
            return unexpected(errc::corrupt, std::string(s.name) + ": stored row " + std::to_string(rowid) +
                                                 " has " + std::to_string(r->size()) + " values");
          for (std::size_t c = 0; c < r->size(); ++c)
            if (auto st = check_value(s, c, view((*r)[c])); !st)
              return unexpected(errc::corrupt, "stored row " + std::to_string(rowid) + ": " + st.error().message);
          if (auto st = index_row(t, rowid, *r); !st)
            return unexpected(errc::corrupt, "stored data violates a key: " + st.error().message);
        }
        return {};
      }();
      if (!checked) {
        t.schema = nullptr;
        t.pk.clear();
        t.uniques.clear();
        return std::move(checked).error();
      }
      if (!t.data.indexes_known) adopt_indexes(t.data, s);
    } else {
      t.schema = &s;
    }
    return &t;
  }

  // Records the indexes of `s` that `d` does not have yet (a new table, or one saved
  // before indexes were recorded).
  static void adopt_indexes(table_data& d, const table_schema& s) {
    for (const auto& ix : s.indexes) {
      if (std::any_of(d.indexes.begin(), d.indexes.end(), [&](const stored_index& i) { return i.name == ix.name; }))
        continue;
      stored_index rec{ix.name, {}, ix.unique};
      for (std::size_t c : ix.columns) rec.columns.emplace_back(s.columns[c].name);
      d.indexes.push_back(std::move(rec));
    }
    d.indexes_known = true;
  }

  auto index_row(table& t, std::int64_t rowid, const row& r) -> status {
    const table_schema& s = *t.schema;
    if (!s.primary_key.empty()) {
      auto k = key_of(s.primary_key, r);
      if (t.pk.count(k)) return conflict(s, s.primary_key, k, "primary key");
    }
    for (std::size_t i = 0; i < s.indexes.size(); ++i) {
      if (!s.indexes[i].unique) continue;
      auto k = key_of(s.indexes[i].columns, r);
      if (!has_null(k) && t.uniques[i].count(k)) return conflict(s, s.indexes[i].columns, k, s.indexes[i].name);
    }
    if (!s.primary_key.empty()) t.pk.emplace(key_of(s.primary_key, r), rowid);
    for (std::size_t i = 0; i < s.indexes.size(); ++i) {
      if (!s.indexes[i].unique) continue;
      auto k = key_of(s.indexes[i].columns, r);
      if (!has_null(k)) t.uniques[i].emplace(std::move(k), rowid);
    }
    return {};
  }

  void unindex_row(table& t, const row& r) {
    const table_schema& s = *t.schema;
    if (!s.primary_key.empty()) t.pk.erase(key_of(s.primary_key, r));
    for (std::size_t i = 0; i < s.indexes.size(); ++i)
      if (s.indexes[i].unique) t.uniques[i].erase(key_of(s.indexes[i].columns, r));
  }

  auto insert_row(table& t, std::span<const value_view> r) -> result<std::int64_t> {
    const table_schema& s = *t.schema;
    if (r.size() != s.columns.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": row has " + std::to_string(r.size()) +
                                                    " values for " + std::to_string(s.columns.size()) + " columns");
    auto owned = std::make_shared<row>();
    owned->reserve(r.size());
    for (const auto& v : r) owned->push_back(own(v));
    std::int64_t id = 0;
    std::int64_t next_id_before = t.data.next_id;
    if (s.auto_increment) {
      auto& slot = (*owned)[*s.auto_increment];
      if (const auto* i = std::get_if<std::int64_t>(&slot); i && *i != 0) {
        id = *i;
      } else if (i || slot.index() == 0) {  // 0 or NULL; another class is rejected below
        id = t.data.next_id;
        slot = id;
      }
    }
    for (std::size_t c = 0; c < owned->size(); ++c)
      if (auto st = check_value(s, c, view((*owned)[c])); !st) return std::move(st).error();
    std::int64_t rowid = t.data.next_rowid;
    if (auto st = index_row(t, rowid, *owned); !st) return std::move(st).error();
    // Keys first, then foreign keys: the order in which SQLite reports them.
    if (auto st = check_references(t, *owned); !st) {
      unindex_row(t, *owned);
      return std::move(st).error();
    }
    if (s.auto_increment && id >= t.data.next_id) t.data.next_id = id + 1;
    ++t.data.next_rowid;
    t.data.rows.emplace(rowid, std::move(owned));
    undo_.push_back({&t, rowid, nullptr, next_id_before, {}});
    return id;
  }

  auto replace_row(table& t, std::int64_t rowid, row next) -> status {
    const table_schema& s = *t.schema;
    for (std::size_t c = 0; c < next.size(); ++c)
      if (auto st = check_value(s, c, view(next[c])); !st) return st;
    row_ptr before = t.data.rows.at(rowid);
    unindex_row(t, *before);
    if (auto st = index_row(t, rowid, next); !st) {
      (void)index_row(t, rowid, *before);
      return st;
    }
    auto refs = check_references(t, next);
    if (refs) refs = check_not_referenced(t, *before, &next);
    if (!refs) {
      unindex_row(t, next);
      (void)index_row(t, rowid, *before);
      return refs;
    }
    undo_.push_back({&t, rowid, before, t.data.next_id, {}});
    t.data.rows[rowid] = std::make_shared<const row>(std::move(next));
    return {};
  }

  auto remove_row(table& t, std::int64_t rowid) -> status {
    auto it = t.data.rows.find(rowid);
    ORMKIT_TRY(check_not_referenced(t, *it->second, nullptr));
    unindex_row(t, *it->second);
    undo_.push_back({&t, rowid, it->second, t.data.next_id, {}});
    t.data.rows.erase(it);
    return {};
  }

  //=== foreign keys (ON DELETE / ON UPDATE RESTRICT, as SQL's default NO ACTION) ===//

  // Every non-NULL foreign-key value of `r` must exist in the referenced column.
  auto check_references(const table& t, const row& r) -> status {
    const table_schema& s = *t.schema;
    for (std::size_t c = 0; c < s.columns.size(); ++c) {
      const auto& ref = s.columns[c].references;
      if (!ref || r[c].index() == 0) continue;
      bool found = false;
      auto pt = tables_.find(ref->table);
      if (pt != tables_.end() && pt->second.schema) {
        const table& parent = pt->second;
        auto pc = parent.schema->find(ref->column);
        if (pc && parent.schema->primary_key.size() == 1 && parent.schema->primary_key[0] == *pc) {
          found = parent.pk.count(std::vector<value>{r[c]}) > 0;
        } else if (pc) {
          for (const auto& [id, pr] : parent.data.rows)
            if (order((*pr)[*pc], r[c]) == 0) {
              found = true;
              break;
            }
        }
      } else if (pt != tables_.end()) {
        // Loaded from the store and not used since: no schema yet, so find the column by name.
        const table_data& d = pt->second.data;
        auto name = std::find(d.columns.begin(), d.columns.end(), ref->column);
        const auto pc = static_cast<std::size_t>(name - d.columns.begin());
        for (const auto& [id, pr] : d.rows)
          if (pc < pr->size() && order((*pr)[pc], r[c]) == 0) {
            found = true;
            break;
          }
      }
      if (!found) {
        const auto& col = s.columns[c];
        std::string shown = col.has(column_flags::secret) ? std::string("<secret>") : to_display(r[c]);
        return unexpected(errc::conflict, std::string(s.name) + "." + std::string(col.name) + ": value " + shown +
                                              " has no matching " + std::string(ref->table) + "." +
                                              std::string(ref->column) + " (foreign key)",
                          "foreign key");
      }
    }
    return {};
  }

  // No row may still reference `old` once it is removed (`next` null) or its referenced
  // values change to those of `next`.
  auto check_not_referenced(const table& parent, const row& old, const row* next) -> status {
    const table_schema& ps = *parent.schema;
    for (const auto& [name, child] : tables_) {
      if (!child.schema) continue;
      const table_schema& cs = *child.schema;
      for (std::size_t c = 0; c < cs.columns.size(); ++c) {
        const auto& ref = cs.columns[c].references;
        if (!ref || ref->table != ps.name) continue;
        auto pc = ps.find(ref->column);
        if (!pc || old[*pc].index() == 0) continue;
        if (next && order((*next)[*pc], old[*pc]) == 0) continue;
        for (const auto& [id, cr] : child.data.rows) {
          if (&child == &parent && cr.get() == &old) continue;
          if (order((*cr)[c], old[*pc]) != 0) continue;
          std::string shown = ps.columns[*pc].has(column_flags::secret) ? std::string("<secret>") : to_display(old[*pc]);
          return unexpected(errc::conflict, std::string(ps.name) + "." + std::string(ref->column) + ": value " + shown +
                                                " is still referenced by " + std::string(cs.name) + "." +
                                                std::string(cs.columns[c].name) + " (foreign key)",
                            "foreign key");
        }
      }
    }
    return {};
  }

  void undo_to(std::size_t mark) {
    while (undo_.size() > mark) {
      undo_entry e = std::move(undo_.back());
      undo_.pop_back();
      if (e.restore) {
        e.restore();
        continue;
      }
      table& t = *e.t;
      if (auto it = t.data.rows.find(e.rowid); it != t.data.rows.end()) {
        unindex_row(t, *it->second);
        t.data.rows.erase(it);
      }
      if (e.before) {
        (void)index_row(t, e.rowid, *e.before);
        t.data.rows.emplace(e.rowid, std::move(e.before));
      }
      t.data.next_id = e.next_id;
    }
  }

  // Row ids matching `filter`, in insertion order; a primary-key equality is a lookup.
  auto matching(table& t, const expr& filter) -> std::vector<std::int64_t> {
    std::vector<std::int64_t> out;
    if (auto key = pk_lookup(*t.schema, filter)) {
      if (auto it = t.pk.find(*key); it != t.pk.end()) {
        std::vector<value_view> v;
        views(*t.data.rows.at(it->second), v);
        if (matches(filter, v)) out.push_back(it->second);
      }
      return out;
    }
    std::vector<value_view> v;
    for (const auto& [rowid, r] : t.data.rows) {
      views(*r, v);
      if (matches(filter, v)) out.push_back(rowid);
    }
    return out;
  }

  // When `filter` pins every primary-key column with `=` (inside ANDs), returns that key.
  static auto pk_lookup(const table_schema& s, const expr& filter) -> std::optional<std::vector<value>> {
    if (s.primary_key.empty()) return std::nullopt;
    std::vector<const value*> found(s.primary_key.size(), nullptr);
    auto visit = [&](auto&& self, const expr& e) -> void {
      if (e.kind == op::and_) {
        for (const auto& c : e.children) self(self, c);
      } else if (e.kind == op::eq) {
        for (std::size_t i = 0; i < s.primary_key.size(); ++i)
          if (s.primary_key[i] == e.column && e.operands.at(0).index() == s.columns[e.column].storage_index())
            found[i] = &e.operands[0];
      }
    };
    visit(visit, filter);
    std::vector<value> key;
    for (const auto* v : found) {
      if (!v) return std::nullopt;
      key.push_back(*v);
    }
    return key;
  }

  mutable std::mutex mutex_;
  mutable std::condition_variable cv_;
  std::thread::id owner_{};
  std::map<std::string, table, std::less<>> tables_;
  std::vector<undo_entry> undo_;
  std::vector<std::pair<std::string, std::size_t>> savepoints_;
  std::shared_ptr<durability> store_;
};

static_assert(ormkit::backend<backend>);

}  // namespace ormkit::memory
