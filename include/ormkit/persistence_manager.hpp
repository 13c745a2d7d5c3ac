// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/persistence_manager.hpp
//
// `persistence_manager<Entities...>`: the one object an application holds. It
// owns (or borrows) a backend and composes, for each registered entity, its
// repository, lifecycle hooks and metrics; it adds transactions with a retry
// policy, health, and whole-database JSON export / import. Its type names the
// entities, so it can be a member, passed by reference, or aliased:
//
//   using store = ormkit::persistence_manager<tenant, user, conversation, message>;
//   store db(ormkit::sqlite::backend::open({.path = "app.db"}).value());
//   db.hooks<user>().before_insert([](const user& u) -> ormkit::status {
//     if (u.email.ends_with("@blocked.example")) return ormkit::unexpected(ormkit::errc::rejected, "blocked");
//     return {};
//   });
//   auto ann = db.repository<user>().insert({.email = "ann@example.com"}).value();
//   db.transaction([&](ormkit::transaction&) -> ormkit::status { ... }).value();
//   std::string text = db.metrics_prometheus();
//
// Hooks run on the thread of the operation. A before-hook returning an error, or
// throwing, vetoes the write (errc::rejected for an exception; nothing written);
// after-hooks run only after a successful operation and their exceptions are
// swallowed (the write has happened). Inside a transaction an after-hook runs
// before the commit: it sees what was written, not that it was committed.
//
// Register parents before children (the order of the template arguments is the
// order tables are created, exported and imported).
//
// Threads: the manager's repositories, hooks and metrics may be used from many
// threads when its backend may (the memory backend; a SQLite backend is one
// connection, one thread at a time). Register hooks before sharing the manager.

#include <ormkit/backend.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/json.hpp>
#include <ormkit/observer.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/result.hpp>
#include <ormkit/transaction.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

/// Settings of a persistence manager.
struct manager_options {
  /// Passed to every repository (clock, value size limit). Its `observer` is the manager's own.
  repository_options repository{};
  /// How `transaction()` retries transient failures.
  retry_policy retry{};
  /// Prefix of every metric name (`<prefix>_operations_total`, ...).
  std::string metrics_prefix = "ormkit";
};

namespace detail {
template <class T>
class manager_observer;
}  // namespace detail

/// The lifecycle hooks of one entity type. Each list runs in registration order.
template <class T>
class entity_hooks {
 public:
  using check = std::function<status(const T&)>;
  using notify = std::function<void(const T&)>;
  using key_check = std::function<status(const primary_key_t<T>*)>;  // null key: a bulk erase

  auto before_insert(check f) -> entity_hooks& { return add(before_insert_, std::move(f)); }
  auto after_insert(notify f) -> entity_hooks& { return add(after_insert_, std::move(f)); }
  auto before_update(check f) -> entity_hooks& { return add(before_update_, std::move(f)); }
  auto after_update(notify f) -> entity_hooks& { return add(after_update_, std::move(f)); }
  auto before_upsert(check f) -> entity_hooks& { return add(before_upsert_, std::move(f)); }
  auto after_upsert(notify f) -> entity_hooks& { return add(after_upsert_, std::move(f)); }
  /// Before erase(key) and restore(key) (with the key), and erase_where / erase_many (with null).
  auto before_erase(key_check f) -> entity_hooks& { return add(before_erase_, std::move(f)); }
  /// For every entity a read returns (get, get_many, find, pages).
  auto after_load(notify f) -> entity_hooks& { return add(after_load_, std::move(f)); }

 private:
  template <class L, class F>
  auto add(L& list, F f) -> entity_hooks& {
    list.push_back(std::move(f));
    return *this;
  }

  friend class detail::manager_observer<T>;

  std::vector<check> before_insert_, before_update_, before_upsert_;
  std::vector<notify> after_insert_, after_update_, after_upsert_, after_load_;
  std::vector<key_check> before_erase_;
};

/// Latency and outcome counters of one (entity, operation) pair. Thread-safe.
class operation_metrics {
 public:
  /// Upper bounds of the latency histogram, in seconds (the last bucket, +Inf, is implicit).
  static constexpr std::array<double, 14> bounds{0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                 0.01,    0.025,  0.05,    0.1,    0.25,   0.5,   1.0};

  void record(std::chrono::nanoseconds took, bool ok) noexcept {
    (ok ? ok_ : failed_).fetch_add(1, std::memory_order_relaxed);
    const double s = std::chrono::duration<double>(took).count();
    std::size_t b = 0;
    while (b < bounds.size() && s > bounds[b]) ++b;
    buckets_[b].fetch_add(1, std::memory_order_relaxed);  // non-cumulative here; rendered cumulative
    sum_ns_.fetch_add(static_cast<std::uint64_t>(took.count() > 0 ? took.count() : 0), std::memory_order_relaxed);
  }

  [[nodiscard]] auto succeeded() const noexcept -> std::uint64_t { return ok_.load(std::memory_order_relaxed); }
  [[nodiscard]] auto failed() const noexcept -> std::uint64_t { return failed_.load(std::memory_order_relaxed); }
  [[nodiscard]] auto count() const noexcept -> std::uint64_t { return succeeded() + failed(); }
  [[nodiscard]] auto sum_seconds() const noexcept -> double {
    return static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  }
  /// Operations that took at most bounds[i] (i < bounds.size()), or all of them (i == bounds.size()).
  [[nodiscard]] auto cumulative(std::size_t i) const noexcept -> std::uint64_t {
    std::uint64_t n = 0;
    for (std::size_t b = 0; b <= i && b < buckets_.size(); ++b) n += buckets_[b].load(std::memory_order_relaxed);
    return n;
  }

 private:
  std::atomic<std::uint64_t> ok_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> sum_ns_{0};
  std::array<std::atomic<std::uint64_t>, bounds.size() + 1> buckets_{};
};

/// One check of `health()`.
struct health_check {
  std::string name;                ///< "backend", ...
  bool ok = false;
  std::chrono::microseconds latency{0};
  std::string detail;              ///< the error when not ok
};

/// What `health()` found.
struct health_report {
  bool ok = false;  ///< every check passed
  std::vector<health_check> checks;
};

/// Progress of an export or import: `done` of `total` rows of `table`.
using progress_callback = std::function<void(std::string_view table, std::uint64_t done, std::uint64_t total)>;

namespace detail {

template <class T, class... E>
inline constexpr bool one_of_v = (std::is_same_v<T, E> || ...);

template <class T, class... E>
inline constexpr std::size_t index_of_v = [] {
  std::size_t i = 0;
  ((std::is_same_v<T, E> ? false : (++i, true)) && ...);
  return i;
}();

template <class... E>
inline constexpr bool distinct_v = [] {
  std::size_t i = 0;
  bool ok = true;
  ((ok = ok && index_of_v<E, E...> == i++), ...);
  return ok;
}();

// Appends a Prometheus label value, escaped (backslash, double quote, newline).
inline void append_label_value(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
}

// A number as Prometheus text: integers exactly, reals in shortest round-trip form.
inline auto metric_number(double v) -> std::string {
  char buf[64];
  auto n = std::snprintf(buf, sizeof buf, "%.17g", v);
  return std::string(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
}

}  // namespace detail

namespace detail {

// The observer a manager installs in the repository of entity T: hooks and metrics.
template <class T>
class manager_observer final : public repository_observer {
 public:
  manager_observer(entity_hooks<T>& hooks, std::array<operation_metrics, operation_count>& metrics)
      : hooks_(&hooks), metrics_(&metrics) {}

  auto before(const operation_event& e) -> status override {
    const T* entity = static_cast<const T*>(e.entity);
    switch (e.op) {
      case operation::insert: return run(hooks_->before_insert_, entity);
      case operation::update: return run(hooks_->before_update_, entity);
      case operation::upsert: return run(hooks_->before_upsert_, entity);
      case operation::erase:
      case operation::restore:
        for (auto& f : hooks_->before_erase_) ORMKIT_TRY(f(static_cast<const primary_key_t<T>*>(e.key)));
        return {};
      default: return {};
    }
  }

  void after(const operation_event& e) override {
    (*metrics_)[static_cast<std::size_t>(e.op)].record(e.duration, e.failure == nullptr);
    if (e.failure != nullptr || e.entity == nullptr) return;
    const T& entity = *static_cast<const T*>(e.entity);
    switch (e.op) {
      case operation::insert: notify(hooks_->after_insert_, entity); break;
      case operation::update: notify(hooks_->after_update_, entity); break;
      case operation::upsert: notify(hooks_->after_upsert_, entity); break;
      default: break;
    }
  }

  void loaded(const operation_event& e) override {
    if (e.entity != nullptr) notify(hooks_->after_load_, *static_cast<const T*>(e.entity));
  }

 private:
  static auto run(std::vector<typename entity_hooks<T>::check>& list, const T* entity) -> status {
    if (entity == nullptr) return {};  // insert_many reports the batch once, without an entity
    for (auto& f : list) ORMKIT_TRY(f(*entity));
    return {};
  }
  static void notify(std::vector<typename entity_hooks<T>::notify>& list, const T& entity) {
    for (auto& f : list) {
      try {
        f(entity);
      } catch (...) {  // NOLINT(bugprone-empty-catch): the write has happened
      }
    }
  }

  entity_hooks<T>* hooks_;
  std::array<operation_metrics, operation_count>* metrics_;
};

}  // namespace detail

/// The façade over one backend for the entities `Entities...`. Not copyable or
/// movable (its repositories point at its hooks and metrics); hold it by value
/// or in a unique_ptr.
template <class... Entities>
class persistence_manager {
  static_assert(sizeof...(Entities) > 0, "ormkit: persistence_manager needs at least one entity type");
  static_assert((entity<Entities> && ...),
                "ormkit: every persistence_manager entity must be described (ormkit_describe or entity_traits)");
  static_assert(detail::distinct_v<Entities...>, "ormkit: persistence_manager lists an entity type twice");


 public:
  /// Borrows `b`, which must outlive the manager.
  explicit persistence_manager(backend_ref b, manager_options opts = {})
      : backend_(b), opts_(std::move(opts)), parts_(make_parts(b)) {}

  /// Owns the backend.
  template <backend B>
  explicit persistence_manager(std::unique_ptr<B> owned, manager_options opts = {})
      : owned_(owned.release(), [](void* p) { delete static_cast<B*>(p); }),
        backend_(*static_cast<B*>(owned_.get())),
        opts_(std::move(opts)),
        parts_(make_parts(backend_)) {}

  persistence_manager(const persistence_manager&) = delete;
  auto operator=(const persistence_manager&) -> persistence_manager& = delete;
  persistence_manager(persistence_manager&&) = delete;
  auto operator=(persistence_manager&&) -> persistence_manager& = delete;
  ~persistence_manager() = default;

  /// The backend every repository of this manager uses.
  [[nodiscard]] auto backend() const -> backend_ref { return backend_; }

  /// The repository of `T` (hooks and metrics installed). Lives as long as the manager.
  template <class T>
  auto repository() -> ormkit::repository<T>& {
    return registered<T>()->repo;
  }
  template <class T>
  auto repository() const -> const ormkit::repository<T>& {
    return registered<T>()->repo;
  }

  /// The lifecycle hooks of `T`; add to them before sharing the manager between threads.
  template <class T>
  auto hooks() -> entity_hooks<T>& {
    return registered<T>()->hooks;
  }

  /// The counters of operation `op` on `T`.
  template <class T>
  [[nodiscard]] auto metrics(operation op) const -> const operation_metrics& {
    return registered<T>()->metrics[static_cast<std::size_t>(op)];
  }

  /// Runs `fn(transaction&)` in a transaction (a savepoint when nested) with the
  /// manager's retry policy; see `ormkit::transact`.
  template <class F>
  auto transaction(F&& fn) {
    return transact(backend_, std::forward<F>(fn), opts_.retry);
  }

  /// Creates every registered entity's table (and indexes) that does not exist, in order.
  auto ensure_tables() -> status {
    status st;
    (void)((st = backend_.ensure_table(schema_of<Entities>()), static_cast<bool>(st)) && ...);
    return st;
  }

  /// Rows per registered table (soft-deleted rows excluded), in registration order.
  auto table_rows() const -> result<std::vector<std::pair<std::string_view, std::uint64_t>>> {
    std::vector<std::pair<std::string_view, std::uint64_t>> out;
    status st;
    (void)((st = count_into<Entities>(out), static_cast<bool>(st)) && ...);
    if (!st) return std::move(st).error();
    return out;
  }

  /// Metrics in Prometheus text exposition format 0.0.4: operations by entity,
  /// operation and outcome (counter), their latency (histogram), rows per table (gauge).
  [[nodiscard]] auto metrics_prometheus() const -> std::string {
    const std::string& p = opts_.metrics_prefix;
    std::string out;
    out += "# HELP " + p + "_operations_total Repository operations by entity, operation and outcome.\n";
    out += "# TYPE " + p + "_operations_total counter\n";
    for_each_metric([&](std::string_view entity, operation op, const operation_metrics& m) {
      for (bool ok : {true, false}) {
        out += p + "_operations_total{";
        labels(out, entity, op);
        out += ",outcome=\"";
        out += ok ? "ok" : "error";
        out += "\"} " + std::to_string(ok ? m.succeeded() : m.failed()) + "\n";
      }
    });
    out += "# HELP " + p + "_operation_duration_seconds Repository operation latency.\n";
    out += "# TYPE " + p + "_operation_duration_seconds histogram\n";
    for_each_metric([&](std::string_view entity, operation op, const operation_metrics& m) {
      for (std::size_t b = 0; b <= operation_metrics::bounds.size(); ++b) {
        out += p + "_operation_duration_seconds_bucket{";
        labels(out, entity, op);
        out += ",le=\"";
        out += b < operation_metrics::bounds.size() ? detail::metric_number(operation_metrics::bounds[b]) : "+Inf";
        out += "\"} " + std::to_string(m.cumulative(b)) + "\n";
      }
      out += p + "_operation_duration_seconds_sum{";
      labels(out, entity, op);
      out += "} " + detail::metric_number(m.sum_seconds()) + "\n";
      out += p + "_operation_duration_seconds_count{";
      labels(out, entity, op);
      out += "} " + std::to_string(m.count()) + "\n";
    });
    if (auto rows = table_rows()) {
      out += "# HELP " + p + "_table_rows Rows per table (soft-deleted rows excluded).\n";
      out += "# TYPE " + p + "_table_rows gauge\n";
      for (const auto& [table, n] : *rows) {
        out += p + "_table_rows{entity=\"";
        detail::append_label_value(out, table);
        out += "\"} " + std::to_string(n) + "\n";
      }
    }
    return out;
  }

  /// The same metrics as JSON: {"operations": [{entity, operation, ok, error, sum_seconds,
  /// buckets: [{le, count}]}], "tables": {name: rows}}.
  [[nodiscard]] auto metrics_json() const -> std::string {
    nlohmann::json doc;
    doc["operations"] = nlohmann::json::array();
    for_each_metric([&](std::string_view entity, operation op, const operation_metrics& m) {
      nlohmann::json o;
      o["entity"] = std::string(entity);
      o["operation"] = std::string(to_string(op));
      o["ok"] = m.succeeded();
      o["error"] = m.failed();
      o["sum_seconds"] = m.sum_seconds();
      o["buckets"] = nlohmann::json::array();
      for (std::size_t b = 0; b <= operation_metrics::bounds.size(); ++b) {
        nlohmann::json bucket;
        if (b < operation_metrics::bounds.size()) bucket["le"] = operation_metrics::bounds[b];
        else bucket["le"] = "+Inf";
        bucket["count"] = m.cumulative(b);
        o["buckets"].push_back(std::move(bucket));
      }
      doc["operations"].push_back(std::move(o));
    });
    doc["tables"] = nlohmann::json::object();
    if (auto rows = table_rows())
      for (const auto& [table, n] : *rows) doc["tables"][std::string(table)] = n;
    return doc.dump();
  }

  /// Checks that the backend answers (a count on every registered table), with latency.
  auto health() const -> health_report {
    health_report report;
    const auto t0 = std::chrono::steady_clock::now();
    auto rows = table_rows();
    health_check backend_check{"backend", static_cast<bool>(rows),
                               std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::steady_clock::now() - t0),
                               rows ? std::string() : rows.error().describe()};
    report.checks.push_back(std::move(backend_check));
    report.ok = true;
    for (const auto& c : report.checks) report.ok = report.ok && c.ok;
    return report;
  }

  /// Every registered table as one JSON document:
  /// `{"format":"ormkit-export","version":1,"tables":{"<table>":[<entity>...]}}`, tables in
  /// registration order, rows in key order. Secret columns are left out unless
  /// `opts.include_secrets`. Errors: those of the reads and of `to_json`.
  auto export_json(const json_options& opts = {}, const progress_callback& progress = {}) const
      -> result<std::string> {
    nlohmann::json doc;
    doc["format"] = "ormkit-export";
    doc["version"] = 1;
    doc["tables"] = nlohmann::json::object();
    status st;
    (void)((st = export_table<Entities>(doc["tables"], opts, progress), static_cast<bool>(st)) && ...);
    if (!st) return std::move(st).error();
    return doc.dump(opts.indent);
  }

  /// Imports a document made by `export_json` in one transaction: all of it or
  /// nothing. Every entity is decoded (`from_json`), validated, and stored as it was
  /// exported (timestamps and versions kept: `insert_as_stored`); tables
  /// are filled in registration order. A table the document lacks is left alone; a
  /// table it has that is not registered is an error. With `replace`, rows whose key
  /// exists are overwritten (upsert) instead of failing with errc::conflict.
  /// Errors: invalid_argument (not an ormkit export, unknown table, bad entity, with
  /// the table and row index), validation_failed, conflict; nothing is written.
  auto import_json(std::string_view text, const json_options& opts = {}, bool replace = false,
                   const progress_callback& progress = {}) -> status {
    auto parsed = parse_json(text, opts.max_depth);
    if (!parsed) return std::move(parsed).error();
    const nlohmann::json& doc = *parsed;
    if (!doc.is_object() || !doc.contains("format") || doc["format"] != "ormkit-export")
      return unexpected(errc::invalid_argument, "import: not an ormkit export (no \"format\": \"ormkit-export\")");
    if (!doc.contains("version") || doc["version"] != 1)
      return unexpected(errc::invalid_argument, "import: unsupported export version (this build reads version 1)");
    if (!doc.contains("tables") || !doc["tables"].is_object())
      return unexpected(errc::invalid_argument, "import: \"tables\" must be an object");
    for (const auto& [name, rows] : doc["tables"].items()) {
      const bool known = ((name == table_name_v<Entities>) || ...);
      if (!known) return unexpected(errc::invalid_argument, "import: table \"" + name + "\" is not registered");
      if (!rows.is_array()) return unexpected(errc::invalid_argument, "import: table \"" + name + "\" is not an array");
    }
    return transaction([&](ormkit::transaction&) -> status {
      status st;
      (void)((st = import_table<Entities>(doc["tables"], opts, replace, progress), static_cast<bool>(st)) && ...);
      return st;
    });
  }

 private:
  template <class T>
  struct part_of {
    entity_hooks<T> hooks;
    std::array<operation_metrics, operation_count> metrics;
    detail::manager_observer<T> observer;
    ormkit::repository<T> repo;

    part_of(backend_ref b, const repository_options& base)
        : observer(hooks, metrics), repo(b, with_observer(base, &observer)) {}

    static auto with_observer(repository_options o, repository_observer* obs) -> repository_options {
      o.observer = obs;
      return o;
    }
  };

  using parts = std::tuple<std::unique_ptr<part_of<Entities>>...>;

  auto make_parts(backend_ref b) const -> parts {
    return parts(std::make_unique<part_of<Entities>>(b, opts_.repository)...);
  }

  // The parts of T, with one clear error (and no follow-on ones) when T is not registered.
  template <class T>
  auto registered() const -> part_of<T>* {
    static_assert(detail::one_of_v<T, Entities...>,
                  "ormkit: this entity is not registered with the persistence_manager; add it to "
                  "persistence_manager<...>'s entity list");
    if constexpr (detail::one_of_v<T, Entities...>) return std::get<detail::index_of_v<T, Entities...>>(parts_).get();
    else return nullptr;
  }

  template <class T>
  auto part() -> part_of<T>& {
    return *std::get<detail::index_of_v<T, Entities...>>(parts_);
  }
  template <class T>
  auto part() const -> const part_of<T>& {
    return *std::get<detail::index_of_v<T, Entities...>>(parts_);
  }

  template <class F>
  void for_each_metric(F&& f) const {
    (
        [&] {
          const auto& p = part<Entities>();
          for (std::size_t i = 0; i < operation_count; ++i)
            f(table_name_v<Entities>, static_cast<operation>(i), p.metrics[i]);
        }(),
        ...);
  }

  static void labels(std::string& out, std::string_view entity, operation op) {
    out += "entity=\"";
    detail::append_label_value(out, entity);
    out += "\",operation=\"";
    out += to_string(op);
    out += '"';
  }

  template <class T>
  auto count_into(std::vector<std::pair<std::string_view, std::uint64_t>>& out) const -> status {
    auto n = part<T>().repo.count();
    if (!n) return std::move(n).error();
    out.emplace_back(table_name_v<T>, *n);
    return {};
  }

  template <class T>
  auto export_table(nlohmann::json& tables, const json_options& opts, const progress_callback& progress) const
      -> status {
    const auto& repo = part<T>().repo;
    auto rows = repo.find(query<T>());
    if (!rows) return std::move(rows).error();
    auto& out = tables[std::string(table_name_v<T>)] = nlohmann::json::array();
    std::uint64_t done = 0;
    for (const auto& e : *rows) {
      auto j = to_json(e, opts);
      if (!j) return std::move(j).error();
      out.push_back(std::move(*j));
      if (progress && (++done % 1000 == 0 || done == rows->size())) progress(table_name_v<T>, done, rows->size());
    }
    if (progress && rows->empty()) progress(table_name_v<T>, 0, 0);
    return {};
  }

  template <class T>
  auto import_table(const nlohmann::json& tables, const json_options& opts, bool replace,
                    const progress_callback& progress) -> status {
    const std::string name(table_name_v<T>);
    if (!tables.contains(name)) return {};
    const auto& rows = tables[name];
    auto& repo = part<T>().repo;
    const std::uint64_t total = rows.size();
    std::uint64_t done = 0;
    for (const auto& j : rows) {
      auto e = from_json<T>(j, opts);
      if (!e) {
        auto err = std::move(e).error();
        err.message = "import: " + name + " row " + std::to_string(done) + ": " + err.message;
        return err;
      }
      auto stored = repo.insert_as_stored(std::move(*e), replace);
      if (!stored) {
        auto err = std::move(stored).error();
        err.message = "import: " + name + " row " + std::to_string(done) + ": " + err.message;
        return err;
      }
      ++done;
      if (progress && (done % 1000 == 0 || done == total)) progress(table_name_v<T>, done, total);
    }
    return {};
  }

  std::unique_ptr<void, void (*)(void*)> owned_{nullptr, [](void*) {}};
  backend_ref backend_;
  manager_options opts_;
  parts parts_;
};

}  // namespace ormkit
