// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/migration/migrator.hpp
//
// The migration engine, backend-neutral: `ormkit::migrator` runs the steps of
// ormkit/migration.hpp through a `migration_driver`, the one place that knows
// a backend's dialect, history store and locking. Drivers:
//
//   ormkit/migration/sqlite.hpp   SQLite: SQL DDL, history table, BEGIN IMMEDIATE,
//                                 drop column by table rebuild
//   ormkit/migration/postgres.hpp PostgreSQL (a backend, or one connection of a pool):
//                                 SQL DDL, history table, an advisory lock in
//                                 `after_begin`, native drop column
//   ormkit/migration/memory.hpp   memory backend: structured and C++ steps only,
//                                 history in the backend (and its JSON file)
//
// `migrator(db, steps)` finds the driver for `db`'s type
// through `make_migration_driver(db)` (found by argument-dependent lookup, so
// include the driver's header).
//
// Guarantees, on every backend:
// - Each step runs in its own transaction together with its history row: a
//   failing step (a failing action, a C++ step returning an error or throwing)
//   leaves schema and history as they were, and the error says
//   `migration <version> "<name>": <why>`.
// - Migrators on several connections (threads or processes) serialise on the
//   backend's write lock; the history row is read again inside each step's
//   transaction, so each step runs once however many migrators race.
// - Before anything runs, everything is checked: an applied step whose checksum
//   changed, or an applied version this program does not know, is
//   errc::schema_mismatch; a destructive step (or, on rollback, a destructive
//   down) is errc::invalid_argument unless `allow_destructive(true)`; a step to
//   roll back without a down is errc::unsupported; an action the backend cannot
//   run (SQL text on memory, a C++ step written for another backend type) is
//   errc::unsupported; a malformed action (a bad identifier) is
//   errc::invalid_argument. Nothing runs then.
// - `plan()`, `status()` and `drift()` change nothing (not even the history is
//   created); `plan()` shows the statements `migrate()` then runs.
//
// Example:
//
//   ormkit::sqlite::backend db({.path = "app.db"});      // or an ormkit::memory::backend
//   ormkit::migrator m(db, ormkit::steps_for<user, post>());
//   for (const auto& p : m.plan().value()) fmt::print("{}: {}\n", p.version, p.text);
//   m.migrate().value();
//   auto diffs = ormkit::drift<user, post>(db).value();   // empty when in step

#include <ormkit/backend.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/transaction.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace ormkit {

/// The name of the history table (or the memory backend's history store).
inline constexpr std::string_view migration_history_table = "ormkit_migrations";

/// One applied step as the history records it.
struct migration_history_row {
  std::string name;
  std::string checksum;
  std::int64_t applied_at = 0;  ///< unix seconds
  std::int64_t duration_ms = 0;
};

/// The history by version.
using migration_history = std::map<int, migration_history_row>;

/// One step as `status()` sees it.
struct migration_state {
  enum class kind {
    applied,  ///< in the history with the same checksum
    pending,  ///< not applied yet
    changed,  ///< applied, but the step's checksum differs now
    unknown,  ///< applied, but not among this migrator's steps
  };
  int version = 0;
  std::string name;
  kind state = kind::pending;
  std::int64_t applied_at = 0;  ///< unix seconds; 0 when pending
  std::int64_t duration_ms = 0;
};

/// The stable name of `k` ("applied", "pending", "changed", "unknown").
[[nodiscard]] constexpr auto to_string(migration_state::kind k) noexcept -> std::string_view {
  switch (k) {
    case migration_state::kind::applied: return "applied";
    case migration_state::kind::pending: return "pending";
    case migration_state::kind::changed: return "changed";
    case migration_state::kind::unknown: return "unknown";
  }
  return "unknown";
}

/// What `status()` reports: every known and every applied version, in order.
struct migration_status {
  int current_version = 0;  ///< highest applied version, 0 for none
  int latest_version = 0;   ///< highest version among the steps
  std::vector<migration_state> steps;

  [[nodiscard]] auto count(migration_state::kind k) const -> std::size_t {
    return static_cast<std::size_t>(
        std::count_if(steps.begin(), steps.end(), [&](const migration_state& s) { return s.state == k; }));
  }
};

/// One entry of a dry run: what would run, in order.
struct planned_step {
  int version = 0;
  std::string name;
  std::string text;                     ///< `statements` joined (";\n" for SQL, "\n" on memory)
  std::vector<std::string> statements;  ///< SQL statements, or the memory backend's action lines
  bool destructive = false;             ///< refused unless allow_destructive(true)
};

/// Called before each step runs: the step, its position among the steps this
/// call runs (0-based), and their number.
using migration_progress = std::function<void(const migration_step&, std::size_t index, std::size_t total)>;

/// Called when a C++ step reports progress (`migration_context::progress`).
using migration_step_progress = migration_context::progress_function;

/// One way the live schema differs from a descriptor.
struct schema_difference {
  enum class kind {
    missing_table,
    missing_column,
    extra_column,           ///< in the database, not in the descriptor
    type_mismatch,          ///< declared type differs from the backend's type for the column
    nullability_mismatch,   ///< NOT NULL in one, nullable in the other
    missing_index,
    index_mismatch,         ///< unique in one, not in the other
    index_columns_mismatch, ///< the index covers other columns
    extra_index,            ///< a named index in the database, not in the descriptor
    missing_foreign_key,    ///< the descriptor references a table the database does not
    extra_foreign_key,      ///< the database references a table the descriptor does not
    foreign_key_mismatch,   ///< both reference, but different targets
  };
  kind what = kind::missing_table;
  std::string table;
  std::string object;   ///< the column or index; empty for the table
  std::string message;  ///< e.g. `users.age: type is TEXT, the descriptor says INTEGER`
};

/// What the migrator needs from a backend. Implementations: sqlite::migration_driver,
/// postgres::migration_driver, memory::migration_driver. Every call but `run` and the history writes changes nothing.
class migration_driver {
 public:
  migration_driver(const migration_driver&) = delete;
  auto operator=(const migration_driver&) -> migration_driver& = delete;
  virtual ~migration_driver() = default;

  /// The backend, for transactions and for C++ steps.
  [[nodiscard]] auto backend() const noexcept -> backend_ref { return backend_; }
  [[nodiscard]] auto native() const noexcept -> void* { return native_; }
  [[nodiscard]] auto native_type() const noexcept -> const void* { return native_type_; }

  /// Success when this backend can run `a`; else why not (without the step's name).
  [[nodiscard]] virtual auto supports(const migration_op& a) const -> status = 0;
  /// The history; empty when there is none yet. Creates nothing.
  virtual auto read_history() -> result<migration_history> = 0;
  /// Creates the history store when it does not exist.
  virtual auto ensure_history() -> status = 0;
  /// True while the backend is in a transaction on this thread.
  [[nodiscard]] virtual auto in_transaction() const -> bool = 0;

  /// Before a step's transaction begins (SQLite: foreign keys off for a table rebuild).
  virtual auto prepare_step(const migration_action&) -> status { return {}; }
  /// Right after it began (PostgreSQL: the advisory lock).
  virtual auto after_begin() -> status { return {}; }
  /// Inside it, before the commit (SQLite: the foreign key check after a rebuild).
  virtual auto before_commit() -> status { return {}; }
  /// After it ended, however it ended.
  virtual void finish_step() {}

  /// Inside a step: the checksum the history holds for `version`, if any.
  virtual auto history_checksum(int version) -> result<std::optional<std::string>> = 0;
  /// Inside a step: records `version` as applied.
  virtual auto record(int version, const migration_history_row& row) -> status = 0;
  /// Inside a step: removes `version` from the history.
  virtual auto forget(int version) -> status = 0;

  /// Inside a step: runs one action other than a C++ function.
  virtual auto run(const migration_op& a) -> status = 0;
  /// A dry run: `start_plan()`, then `plan(action)` for each step's action in the
  /// order they would run, returning the statements each runs as it will be when the
  /// ones before it have run; then `end_plan()`. Changes nothing.
  virtual auto start_plan() -> status { return {}; }
  virtual auto plan(const migration_action& action) -> result<std::vector<std::string>> = 0;
  virtual void end_plan() {}
  /// How `planned_step::text` joins statements.
  [[nodiscard]] virtual auto separator() const -> std::string_view { return "\n"; }

  /// Appends how the live table differs from `s`. Changes nothing.
  virtual auto drift(const table_schema& s, std::vector<schema_difference>& out) -> status = 0;

 protected:
  template <class B>
  explicit migration_driver(B& b) : backend_(b), native_(&b), native_type_(&detail::type_tag<B>) {}

 private:
  backend_ref backend_;
  void* native_;
  const void* native_type_;
};

namespace detail {

template <class B>
inline constexpr bool no_migration_driver = false;

/// The driver for `db`, found by argument-dependent lookup of `make_migration_driver`.
template <class B>
auto migration_driver_for(B& db) -> std::unique_ptr<migration_driver> {
  if constexpr (requires { make_migration_driver(db); }) {
    return make_migration_driver(db);
  } else {
    static_assert(no_migration_driver<B>,
                  "ormkit: no migration driver for this backend type; include <ormkit/migration/sqlite.hpp>, "
                  "<ormkit/migration/postgres.hpp> or <ormkit/migration/memory.hpp> (the driver of the backend "
                  "you use)");
    return nullptr;
  }
}

}  // namespace detail

/// Runs migration steps on one backend. Not thread-safe itself (one connection, one
/// thread); run one migrator per connection to migrate concurrently.
class migrator {
 public:
  /// Takes the steps in any order; they run in version order.
  template <class B>
    requires(!std::is_same_v<std::remove_cvref_t<B>, migrator> &&
             !std::is_same_v<std::remove_cvref_t<B>, std::unique_ptr<migration_driver>>)
  migrator(B& db, std::vector<migration_step> steps) : migrator(detail::migration_driver_for(db), std::move(steps)) {}

  /// With an explicit driver (a backend's, or a test's).
  migrator(std::unique_ptr<migration_driver> driver, std::vector<migration_step> steps)
      : driver_(std::move(driver)), steps_(std::move(steps)) {
    std::stable_sort(steps_.begin(), steps_.end(),
                     [](const migration_step& a, const migration_step& b) { return a.version < b.version; });
  }

  /// Permits destructive ups (and destructive downs on rollback). Off by default.
  auto allow_destructive(bool allow = true) -> migrator& {
    allow_destructive_ = allow;
    return *this;
  }

  /// Sets the progress callback, called before each step runs.
  auto on_progress(migration_progress fn) -> migrator& {
    progress_ = std::move(fn);
    return *this;
  }

  /// Sets the callback for progress that C++ steps report within a step.
  auto on_step_progress(migration_step_progress fn) -> migrator& {
    step_progress_ = std::move(fn);
    return *this;
  }

  [[nodiscard]] auto steps() const noexcept -> const std::vector<migration_step>& { return steps_; }
  [[nodiscard]] auto driver() noexcept -> migration_driver& { return *driver_; }

  /// Applies every pending step. Returns how many this call ran (steps another
  /// migrator applied meanwhile are skipped, not counted).
  /// Errors: schema_mismatch (changed checksum, unknown applied version),
  /// invalid_argument (destructive step not allowed, duplicate or non-positive
  /// version, a malformed action), unsupported (an action this backend cannot run),
  /// transaction_state (called inside a transaction), busy (the write lock not
  /// granted in time), and a failing step's own error, its message prefixed
  /// `migration <v> "<name>": `.
  auto migrate() -> result<std::size_t> { return migrate_to(latest_version()); }

  /// Applies the pending steps with version <= `version`. Errors: as migrate().
  auto migrate_to(int version) -> result<std::size_t> {
    ORMKIT_TRY(check_steps());
    ORMKIT_TRY(outside_transaction());
    auto history = driver_->read_history();
    if (!history) return std::move(history).error();
    ORMKIT_TRY(verify(*history));
    std::vector<const migration_step*> todo;
    for (const auto& s : steps_)
      if (s.version <= version && !history->count(s.version)) todo.push_back(&s);
    for (const auto* s : todo) {
      ORMKIT_TRY(check_runnable(*s, s->up));
      if (s->destructive && !allow_destructive_)
        return step_error(
            *s, {errc::invalid_argument, "is destructive (it drops data); call allow_destructive(true) to run it"});
    }
    if (todo.empty()) return std::size_t{0};
    ORMKIT_TRY(driver_->ensure_history());
    return run_all(todo, true);
  }

  /// Undoes the applied steps with version > `version`, newest first, each with
  /// its down. Returns how many this call undid.
  /// Errors: unsupported (a step without a down, named; an action this backend cannot
  /// run), invalid_argument (a destructive down not allowed), schema_mismatch, busy,
  /// transaction_state, a down's own error.
  auto rollback_to(int version) -> result<std::size_t> {
    ORMKIT_TRY(check_steps());
    ORMKIT_TRY(outside_transaction());
    auto history = driver_->read_history();
    if (!history) return std::move(history).error();
    ORMKIT_TRY(verify(*history));
    auto todo = to_undo(*history, version);
    if (!todo) return std::move(todo).error();
    for (const auto* s : *todo)
      if (s->destructive_down && !allow_destructive_)
        return step_error(*s, {errc::invalid_argument,
                               "rolling it back is destructive (it drops data); call allow_destructive(true)"});
    return run_all(*todo, false);
  }

  /// Applied and pending steps, without changing anything.
  /// Errors: those of reading the history.
  auto status() -> result<migration_status> {
    auto history = driver_->read_history();
    if (!history) return std::move(history).error();
    migration_status out;
    out.latest_version = latest_version();
    for (const auto& s : steps_) {
      migration_state st{s.version, s.name, migration_state::kind::pending, 0, 0};
      if (auto h = history->find(s.version); h != history->end()) {
        st.state = h->second.checksum == s.checksum() ? migration_state::kind::applied : migration_state::kind::changed;
        st.applied_at = h->second.applied_at;
        st.duration_ms = h->second.duration_ms;
      }
      out.steps.push_back(std::move(st));
    }
    for (const auto& [v, h] : *history) {
      out.current_version = std::max(out.current_version, v);
      if (!find(v)) out.steps.push_back({v, h.name, migration_state::kind::unknown, h.applied_at, h.duration_ms});
    }
    std::stable_sort(out.steps.begin(), out.steps.end(),
                     [](const migration_state& a, const migration_state& b) { return a.version < b.version; });
    return out;
  }

  /// Dry run of migrate(): the pending steps and the statements each runs, in the
  /// order migrate() would run them; nothing runs. Errors: those of migrate() but
  /// destructive steps (shown with `destructive` set) and busy.
  auto plan() -> result<std::vector<planned_step>> { return plan_to(latest_version()); }

  /// Dry run of migrate_to(version).
  auto plan_to(int version) -> result<std::vector<planned_step>> {
    ORMKIT_TRY(check_steps());
    auto history = driver_->read_history();
    if (!history) return std::move(history).error();
    ORMKIT_TRY(verify(*history));
    std::vector<const migration_step*> todo;
    for (const auto& s : steps_)
      if (s.version <= version && !history->count(s.version)) {
        ORMKIT_TRY(check_runnable(s, s.up));
        todo.push_back(&s);
      }
    return render(todo, true);
  }

  /// Dry run of rollback_to(version): the downs, newest first.
  /// Errors: unsupported (a step without a down), schema_mismatch.
  auto plan_rollback(int version) -> result<std::vector<planned_step>> {
    ORMKIT_TRY(check_steps());
    auto history = driver_->read_history();
    if (!history) return std::move(history).error();
    ORMKIT_TRY(verify(*history));
    auto todo = to_undo(*history, version);
    if (!todo) return std::move(todo).error();
    return render(*todo, false);
  }

  /// The highest version among the steps (0 for none).
  [[nodiscard]] auto latest_version() const noexcept -> int { return steps_.empty() ? 0 : steps_.back().version; }

 private:
  static auto step_error(const migration_step& s, const ormkit::error& why) -> ormkit::error {
    ormkit::error e = why;
    e.message = "migration " + std::to_string(s.version) + " \"" + s.name + "\": " + why.message;
    return e;
  }

  auto find(int version) const -> const migration_step* {
    auto it = std::lower_bound(steps_.begin(), steps_.end(), version,
                               [](const migration_step& s, int v) { return s.version < v; });
    return it != steps_.end() && it->version == version ? &*it : nullptr;
  }

  auto check_steps() const -> ormkit::status {
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      if (steps_[i].version <= 0) return step_error(steps_[i], {errc::invalid_argument, "version must be positive"});
      if (i && steps_[i - 1].version == steps_[i].version)
        return step_error(steps_[i], {errc::invalid_argument, "version " + std::to_string(steps_[i].version) +
                                                                  " is also used by \"" + steps_[i - 1].name + "\""});
    }
    return {};
  }

  auto outside_transaction() const -> ormkit::status {
    if (!driver_->in_transaction()) return {};
    return unexpected(errc::transaction_state,
                      "migrator: the backend is in a transaction on this thread; migrate outside one (each step "
                      "commits on its own)");
  }

  // Everything that makes a step unrunnable here, before anything runs.
  auto check_runnable(const migration_step& s, const migration_action& action) const -> ormkit::status {
    if (action.empty()) return step_error(s, {errc::invalid_argument, "has no actions"});
    for (const auto& a : action) {
      if (auto st = check_action(a); !st) return step_error(s, st.error());
      if (auto st = driver_->supports(a); !st) return step_error(s, st.error());
      if (const auto* code = std::get_if<migration_ops::code>(&a);
          code && code->backend_type && code->backend_type != driver_->native_type())
        return step_error(s, {errc::unsupported, "is a C++ function written for another backend type; this migrator "
                                                 "runs on the " +
                                                     std::string(driver_->backend().name()) + " backend"});
    }
    return {};
  }

  auto check_applied(const migration_step& s, const std::string& stored) const -> ormkit::status {
    if (stored == s.checksum()) return {};
    return step_error(s, {errc::schema_mismatch, "was applied with checksum " + stored + " but the step's is now " +
                                                     s.checksum() + "; applied steps must not change"});
  }

  auto verify(const migration_history& h) const -> ormkit::status {
    for (const auto& [v, row] : h) {
      const auto* s = find(v);
      if (!s)
        return unexpected(errc::schema_mismatch, "migration " + std::to_string(v) + " \"" + row.name +
                                                     "\": applied in the database but unknown to this program");
      ORMKIT_TRY(check_applied(*s, row.checksum));
    }
    return {};
  }

  auto to_undo(const migration_history& h, int version) const -> result<std::vector<const migration_step*>> {
    std::vector<const migration_step*> out;
    for (auto it = h.rbegin(); it != h.rend() && it->first > version; ++it) {
      const auto* s = find(it->first);  // verify() made sure it is known
      if (!s->down) return step_error(*s, {errc::unsupported, "has no down step; it cannot be rolled back"});
      ORMKIT_TRY(check_runnable(*s, *s->down));
      out.push_back(s);
    }
    return out;
  }

  auto render(const std::vector<const migration_step*>& todo, bool up) -> result<std::vector<planned_step>> {
    struct end_guard {
      migration_driver* d;
      ~end_guard() { d->end_plan(); }
    };
    ORMKIT_TRY(driver_->start_plan());
    end_guard guard{driver_.get()};
    std::vector<planned_step> out;
    for (const auto* s : todo) {
      auto statements = driver_->plan(up ? s->up : *s->down);
      if (!statements) return step_error(*s, statements.error());
      planned_step p{s->version, s->name, {}, std::move(*statements), up ? s->destructive : s->destructive_down};
      for (const auto& st : p.statements) {
        if (!p.text.empty()) p.text += driver_->separator();
        p.text += st;
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  auto run_all(const std::vector<const migration_step*>& todo, bool up) -> result<std::size_t> {
    std::size_t ran = 0;
    for (std::size_t i = 0; i < todo.size(); ++i) {
      if (progress_) progress_(*todo[i], i, todo.size());
      auto done = apply(*todo[i], up);
      if (!done) return std::move(done).error();
      if (*done) ++ran;
    }
    return ran;
  }

  auto run_code(const migration_step& s, const migration_ops::code& code, bool up) -> ormkit::status {
    migration_context cx(driver_->backend(), driver_->native(), driver_->native_type(), s, !up, &step_progress_);
    try {
      ORMKIT_TRY(code.run(cx));
    } catch (const ormkit::exception& e) {
      return e.error();
    } catch (const std::exception& e) {
      return unexpected(errc::backend_error, std::string("threw: ") + e.what());
    } catch (...) {
      return unexpected(errc::backend_error, "threw an exception");
    }
    if (!driver_->in_transaction())
      return unexpected(errc::transaction_state,
                        "ended the migration's transaction; a step must not commit or roll back");
    return {};
  }

  // Runs one step (up or down) with its history change in one transaction.
  // Returns false when the history shows another migrator did it meanwhile.
  auto apply(const migration_step& s, bool up) -> result<bool> {
    const migration_action& action = up ? s.up : *s.down;
    struct finish_guard {
      migration_driver* d;
      ~finish_guard() { d->finish_step(); }
    };
    if (auto st = driver_->prepare_step(action); !st) {
      driver_->finish_step();
      return step_error(s, st.error());
    }
    finish_guard guard{driver_.get()};
    auto tx = transaction::begin(driver_->backend());  // rolled back on every early return
    if (!tx) return step_error(s, tx.error());
    if (auto st = driver_->after_begin(); !st) return step_error(s, st.error());
    auto stored = driver_->history_checksum(s.version);
    if (!stored) return step_error(s, stored.error());
    if (up == stored->has_value()) {  // already applied (up) or already undone (down) by someone else
      if (*stored) ORMKIT_TRY(check_applied(s, **stored));
      return false;
    }
    if (!up) ORMKIT_TRY(check_applied(s, **stored));
    const auto started = std::chrono::steady_clock::now();
    for (const auto& a : action) {
      const auto* code = std::get_if<migration_ops::code>(&a);
      if (auto st = code ? run_code(s, *code, up) : driver_->run(a); !st) return step_error(s, st.error());
    }
    if (up) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      const auto now =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      migration_history_row row{s.name, s.checksum(), static_cast<std::int64_t>(now.count()),
                                static_cast<std::int64_t>(ms.count())};
      if (auto st = driver_->record(s.version, row); !st) return step_error(s, st.error());
    } else {
      if (auto st = driver_->forget(s.version); !st) return step_error(s, st.error());
    }
    if (auto st = driver_->before_commit(); !st) return step_error(s, st.error());
    if (auto st = tx->commit(); !st) return step_error(s, st.error());
    return true;
  }

  std::unique_ptr<migration_driver> driver_;
  std::vector<migration_step> steps_;
  bool allow_destructive_ = false;
  migration_progress progress_;
  migration_step_progress step_progress_;
};

/// Compares the live schema with the descriptors of `Ts...` and lists the
/// differences, tables in the order given; empty when they agree. Changes
/// nothing. Tables not described are ignored. What is compared depends on what
/// the backend keeps (see its driver). Errors: those of reading the schema.
template <entity... Ts, class B>
auto drift(B& db) -> result<std::vector<schema_difference>> {
  auto driver = detail::migration_driver_for(db);
  std::vector<schema_difference> out;
  status st;
  ((st ? (void)(st = driver->drift(schema_of<Ts>(), out)) : void()), ...);
  if (!st) return std::move(st).error();
  return out;
}

}  // namespace ormkit
