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
// Caching: `use_cache(store)` makes every registered entity's repository read
// through `store` (cache-aside, ormkit/cache/aside.hpp) with the policy of
// `options.cache` or `cache_policy_for<T>(...)`; the cache statistics appear in
// `metrics_prometheus()` / `metrics_json()` and the store's reachability in
// `health()`.
//
// Register parents before children (the order of the template arguments is the
// order tables are created, exported and imported).
//
// Threads: the manager's repositories, hooks and metrics may be used from many
// threads when its backend may (the memory backend; a SQLite backend is one
// connection, one thread at a time). Register hooks before sharing the manager.

#include <ormkit/backend.hpp>
#include <ormkit/cache.hpp>
#include <ormkit/cache/aside.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/json.hpp>
#include <ormkit/migration/migrator.hpp>
#include <ormkit/observer.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/resource_metrics.hpp>
#include <ormkit/result.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/transaction.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <istream>
#include <ostream>
#include <sstream>
#include <functional>
#include <memory>
#include <optional>
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
  /// The cache policy of every entity once a cache is in use (`use_cache`), unless
  /// `cache_policy_for<T>` gave the entity its own.
  cache_policy cache{};
  /// The namespace segment of every cache key (`cache_key<T>(pk, ns)`).
  std::string cache_namespace{default_cache_namespace};
  /// Migration steps for `migrate()` / `status()` / `plan()`; empty means
  /// `steps_for<Entities...>()` (the steps the descriptors imply).
  std::vector<migration_step> migrations{};
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

/// What `storage()` found: rows per table and, where the backend can tell, the database size.
struct storage_statistics {
  std::vector<std::pair<std::string_view, std::uint64_t>> rows;  ///< per registered table, registration order
  std::optional<std::uint64_t> database_bytes;  ///< SQLite: page_count * page_size; PostgreSQL: pg_database_size
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

// Writes the export document a row at a time, laid out as nlohmann's dump(indent) lays out
// the same document (compact for indent < 0): the header, then per table its rows.
class export_writer {
 public:
  export_writer(std::ostream& out, int indent) : out_(&out), indent_(indent) {}

  void open() {
    *out_ << '{';
    line(1);
    *out_ << "\"format\":" << space() << "\"ormkit-export\",";
    line(1);
    *out_ << "\"version\":" << space() << "1,";
    line(1);
    *out_ << "\"tables\":" << space() << '{';
  }

  void begin_table(std::string_view name) {
    if (tables_++ > 0) *out_ << ',';
    line(2);
    *out_ << nlohmann::json(std::string(name)).dump() << ':' << space() << '[';
    rows_ = 0;
  }

  void row(const nlohmann::json& j) {
    if (rows_++ > 0) *out_ << ',';
    line(3);
    const std::string text = j.dump(indent_);
    if (indent_ < 0) {
      *out_ << text;
      return;
    }
    // Re-indent the row's own lines (JSON strings never hold a raw newline).
    const std::string pad = "\n" + std::string(static_cast<std::size_t>(3 * indent_), ' ');
    std::size_t from = 0;
    for (std::size_t nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', from)) {
      out_->write(text.data() + from, static_cast<std::streamsize>(nl - from));
      *out_ << pad;
      from = nl + 1;
    }
    out_->write(text.data() + from, static_cast<std::streamsize>(text.size() - from));
  }

  void end_table() {
    if (rows_ > 0) line(2);
    *out_ << ']';
  }

  void close() {
    if (tables_ > 0) line(1);
    *out_ << '}';
    line(0);
    *out_ << '}';
  }

 private:
  void line(int level) {
    if (indent_ < 0) return;
    *out_ << '\n' << std::string(static_cast<std::size_t>(level * indent_), ' ');
  }
  [[nodiscard]] auto space() const -> const char* { return indent_ < 0 ? "" : " "; }

  std::ostream* out_;
  int indent_;
  std::size_t tables_ = 0;
  std::size_t rows_ = 0;
};

// Reads an export document as SAX events, building one row's DOM at a time (never the
// document's): `on_table(name)` when a table's array starts, `on_row(table, row)` for each
// element. Unknown members of the root are skipped; "format" and "version" are checked
// wherever they stand (`finish()` reports them missing).
class import_reader : public ormkit::detail::json_impl::sax_types {
 public:

  import_reader(std::size_t max_depth, std::function<ormkit::status(const std::string&)> on_table,
                std::function<ormkit::status(const std::string&, json&)> on_row)
      : max_depth_(max_depth), on_table_(std::move(on_table)), on_row_(std::move(on_row)) {}

  auto null() -> bool { return scalar(nullptr); }
  auto boolean(bool v) -> bool { return scalar(v); }
  auto number_integer(number_integer_t v) -> bool { return scalar(v); }
  auto number_unsigned(number_unsigned_t v) -> bool { return scalar(v); }
  auto number_float(number_float_t v, const string_t& text) -> bool {
    if (state_ == in_row) return row_->number_float(v, text);
    return scalar(v);
  }
  auto string(string_t& v) -> bool {
    if (state_ == in_row) return row_->string(v);
    return scalar(v);
  }
  auto binary(binary_t& v) -> bool {
    if (state_ == in_row) return row_->binary(v);
    return scalar(json::binary(v));
  }
  auto start_object(std::size_t n) -> bool { return open(true, n); }
  auto start_array(std::size_t n) -> bool { return open(false, n); }
  auto end_object() -> bool { return close(true); }
  auto end_array() -> bool { return close(false); }
  auto key(string_t& k) -> bool {
    switch (state_) {
      case in_row: return row_->key(k) || fail("import: " + row_->error());
      case skipping: return true;
      case in_root:
      case in_tables: key_ = std::move(k); return true;
      default: return fail("import: malformed export");
    }
  }
  auto parse_error(std::size_t position, const std::string& last_token, const json::exception& e) -> bool {
    json ignored;
    ormkit::detail::json_impl::json_dom_builder b(ignored, max_depth_);
    (void)b.parse_error(position, last_token, e);
    error_ = ormkit::error{errc::invalid_argument, "import: " + b.error()};
    return false;
  }

  /// After the parse: the first error, or one for a document that was not a whole export.
  [[nodiscard]] auto finish(bool parsed) -> ormkit::status {
    if (error_) return *error_;
    if (!parsed) return unexpected(errc::invalid_argument, "import: malformed JSON");
    if (state_ != done || !format_ok_)
      return unexpected(errc::invalid_argument, "import: not an ormkit export (no \"format\": \"ormkit-export\")");
    if (!version_ok_)
      return unexpected(errc::invalid_argument, "import: unsupported export version (this build reads version 1)");
    return {};
  }

 private:
  enum state_t { before, in_root, in_tables, in_table, in_row, skipping, done };

  auto fail(std::string message) -> bool {
    if (!error_) error_ = ormkit::error{errc::invalid_argument, std::move(message)};
    return false;
  }
  auto fail(ormkit::error e) -> bool {
    if (!error_) error_ = std::move(e);
    return false;
  }

  template <class V>
  auto scalar(V&& v) -> bool {
    switch (state_) {
      case in_row: {
        json j(std::forward<V>(v));
        return forward_scalar(j);
      }
      case skipping: return true;
      case in_root: {
        const json j(std::forward<V>(v));
        if (key_ == "format") format_ok_ = j == "ormkit-export";
        else if (key_ == "version") version_ok_ = j == 1;
        else if (key_ == "tables") return fail("import: \"tables\" must be an object");
        return true;
      }
      case in_tables: return fail("import: table \"" + key_ + "\" is not an array");
      case in_table: {  // a row that is not an object: from_json says what is wrong with it
        json row(std::forward<V>(v));
        return deliver(row);
      }
      default: return fail("import: not an ormkit export (no \"format\": \"ormkit-export\")");
    }
  }

  auto forward_scalar(json& j) -> bool {
    switch (j.type()) {
      case json::value_t::null: return row_->null();
      case json::value_t::boolean: return row_->boolean(j.get<bool>());
      case json::value_t::number_integer: return row_->number_integer(j.get<number_integer_t>());
      case json::value_t::number_unsigned: return row_->number_unsigned(j.get<number_unsigned_t>());
      default: return row_->number_float(j.get<number_float_t>(), {});
    }
  }

  auto open(bool object, std::size_t n) -> bool {
    switch (state_) {
      case before:
        if (!object) return fail("import: not an ormkit export (no \"format\": \"ormkit-export\")");
        state_ = in_root;
        return true;
      case in_root:
        if (key_ == "tables" && object) {
          state_ = in_tables;
          return true;
        }
        if (key_ == "tables") return fail("import: \"tables\" must be an object");
        state_ = skipping;
        skip_depth_ = 1;
        return true;
      case skipping: ++skip_depth_; return true;
      case in_tables: {
        if (object) return fail("import: table \"" + key_ + "\" is not an array");
        table_ = key_;
        if (auto st = on_table_(table_); !st) return fail(std::move(st).error());
        state_ = in_table;
        return true;
      }
      case in_table: {
        row_doc_ = json();
        row_.emplace(row_doc_, max_depth_ > 3 ? max_depth_ - 3 : 1);
        row_depth_ = 1;
        state_ = in_row;
        return object ? row_->start_object(n) : row_->start_array(n);
      }
      case in_row:
        ++row_depth_;
        if (!(object ? row_->start_object(n) : row_->start_array(n))) return fail("import: " + row_->error());
        return true;
      default: return fail("import: malformed export");
    }
  }

  auto close(bool object) -> bool {
    switch (state_) {
      case in_row: {
        (void)(object ? row_->end_object() : row_->end_array());
        if (--row_depth_ > 0) return true;
        state_ = in_table;
        return deliver(row_doc_);
      }
      case skipping:
        if (--skip_depth_ == 0) state_ = in_root;
        return true;
      case in_table: state_ = in_tables; return true;
      case in_tables: state_ = in_root; return true;
      case in_root: state_ = done; return true;
      default: return fail("import: malformed export");
    }
  }

  auto deliver(json& row) -> bool {
    if (auto st = on_row_(table_, row); !st) return fail(std::move(st).error());
    return true;
  }

  std::size_t max_depth_;
  std::function<ormkit::status(const std::string&)> on_table_;
  std::function<ormkit::status(const std::string&, json&)> on_row_;
  state_t state_ = before;
  std::string key_;
  std::string table_;
  json row_doc_;
  std::optional<ormkit::detail::json_impl::json_dom_builder> row_;
  std::size_t row_depth_ = 0;
  std::size_t skip_depth_ = 0;
  bool format_ok_ = false;
  bool version_ok_ = false;
  std::optional<ormkit::error> error_;
};

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
  /// Pages a SQLite backup copies between two progress reports (4 KiB pages: 4 MiB).
  static constexpr int backup_pages_per_step = 1024;

  /// Borrows `b`, which must outlive the manager. Through a `backend_ref` the manager
  /// does not know the backend's type: `migrate()`, `ormkit::status()`, `plan()`, `backup()`
  /// and the database size need the constructor taking the backend itself.
  explicit persistence_manager(backend_ref b, manager_options opts = {})
      : backend_(b), opts_(std::move(opts)), parts_(make_parts(b)) {}

  /// Borrows `b`, which must outlive the manager.
  template <backend B>
    requires(!std::is_same_v<B, backend_ref>)
  explicit persistence_manager(B& b, manager_options opts = {})
      : backend_(b), opts_(std::move(opts)), parts_(make_parts(backend_)) {
    learn_backend(b);
  }

  /// Owns the backend.
  template <backend B>
  explicit persistence_manager(std::unique_ptr<B> owned, manager_options opts = {})
      : owned_(owned.release(), [](void* p) { delete static_cast<B*>(p); }),
        backend_(*static_cast<B*>(owned_.get())),
        opts_(std::move(opts)),
        parts_(make_parts(backend_)) {
    learn_backend(*static_cast<B*>(owned_.get()));
  }

  //=== cache ===//

  /// Reads every registered entity through `store` (borrowed: it must outlive the
  /// manager), each with its policy (`cache_policy_for<T>`, else `options.cache`).
  /// Call before sharing the manager between threads.
  template <cache_store S>
  void use_cache(S& store) {
    owned_cache_.reset();
    cache_.emplace(store);
    apply_cache_policies();
  }

  /// Like `use_cache(S&)`, owning the store.
  template <cache_store S>
  void use_cache(std::unique_ptr<S> store) {
    auto* raw = store.get();
    auto previous = std::move(owned_cache_);  // kept until no repository points at it
    cache_.emplace(*raw);
    owned_cache_ = std::shared_ptr<void>(std::move(store));
    apply_cache_policies();
  }

  /// Gives `T` its own cache policy (off, TTL tier, capacity, negative TTL). With
  /// no store in use, a policy with a `capacity` gives `T` a private in-process store.
  template <class T>
  void cache_policy_for(cache_policy policy) {
    auto* p = registered<T>();
    p->policy = policy;
    apply_cache_policy<T>();
  }

  /// The store in use, if any.
  [[nodiscard]] auto cache() const -> std::optional<cache_ref> { return cache_; }

  /// The cache-aside counters of `T` (zero when it reads no cache).
  template <class T>
  [[nodiscard]] auto cache_stats() const -> cache_aside_stats {
    return registered<T>()->repo.cache_stats();
  }

  //=== migrations ===//

  /// Applies every pending migration step (`options.migrations`, or the steps the
  /// descriptors imply). Returns how many ran. Errors: as `migrator::migrate`;
  /// errc::unsupported when the manager was given only a `backend_ref`.
  auto migrate() -> result<std::size_t> {
    auto m = make_migrator();
    if (!m) return std::move(m).error();
    return (*m)->migrate();
  }

  /// Which steps are applied, pending or changed.
  auto status() -> result<migration_status> {
    auto m = make_migrator();
    if (!m) return std::move(m).error();
    return (*m)->status();
  }

  /// What `migrate()` would run (SQL text on SQLite), without running it.
  auto plan() -> result<std::vector<planned_step>> {
    auto m = make_migrator();
    if (!m) return std::move(m).error();
    return (*m)->plan();
  }

  //=== storage ===//

  /// Rows per table and the database size where the backend can tell (SQLite).
  auto storage() const -> result<storage_statistics> {
    storage_statistics out;
    auto rows = table_rows();
    if (!rows) return std::move(rows).error();
    out.rows = std::move(*rows);
    if (database_size_) {
      auto bytes = database_size_();
      if (bytes) out.database_bytes = *bytes;
    }
    return out;
  }

  /// Tells `o` about every statement the backend runs (SQL text, parameters with
  /// `secret` columns redacted, rows, duration, failure; see statement_observer.hpp);
  /// null stops it. False when the backend has no statements to tell of (memory) or
  /// the manager was given only a `backend_ref`. `o` is not owned.
  auto observe_statements(statement_observer* o) -> bool {
    if (!observe_statements_) return false;
    observe_statements_(o);
    return true;
  }

  /// Copies the database to `path`: SQLite through its online backup API (a
  /// consistent copy of everything committed); other backends as an
  /// `export_json` document written to `path`. `progress(table, done, total)`:
  /// for SQLite in pages under the table name "*", after every step of
  /// `backup_pages_per_step` pages (the last call has done == total); for an
  /// export, per table as `export_json` reports it.
  /// Errors: the backend's (cannot_open, busy, full, io_error), or io_error writing `path`.
  auto backup(const std::string& path, const progress_callback& progress = {}) -> ormkit::status {
    if (backup_) return backup_(path, progress);
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) return unexpected(errc::io_error, "backup: cannot open \"" + path + "\" for writing");
    auto st = export_json(out, {}, progress);
    if (!st && st.error().is(errc::io_error))
      return unexpected(errc::io_error, "backup: cannot write \"" + path + "\"");
    return st;
  }

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
  auto ensure_tables() -> ormkit::status {
    ormkit::status st;
    (void)((st = backend_.ensure_table(schema_of<Entities>()), static_cast<bool>(st)) && ...);
    return st;
  }

  /// Rows per registered table (soft-deleted rows excluded), in registration order.
  auto table_rows() const -> result<std::vector<std::pair<std::string_view, std::uint64_t>>> {
    std::vector<std::pair<std::string_view, std::uint64_t>> out;
    ormkit::status st;
    (void)((st = count_into<Entities>(out), static_cast<bool>(st)) && ...);
    if (!st) return std::move(st).error();
    return out;
  }

  /// Metrics in Prometheus text exposition format 0.0.4: operations by entity,
  /// operation and outcome (counter), their latency (histogram), rows per table (gauge),
  /// database size, cache-aside events and the cache store's counters, and the
  /// connections of a pooled backend (`<prefix>_backend_in_use`, `..._waits_total`,
  /// `..._reconnects_total`, ...) and of the cache store's client
  /// (`<prefix>_cache_client_...`); see resource_metrics.hpp.
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
    if (database_size_) {
      if (auto bytes = database_size_()) {
        out += "# HELP " + p + "_database_bytes Size of the database (SQLite: its file; PostgreSQL: pg_database_size).\n";
        out += "# TYPE " + p + "_database_bytes gauge\n";
        out += p + "_database_bytes " + std::to_string(*bytes) + "\n";
      }
    }
    render_cache_metrics(out);
    if (backend_resources_) render_resources(out, p + "_backend_", backend_resources_());
    if (cache_) render_resources(out, p + "_cache_client_", cache_->resource_metrics());
    return out;
  }

  /// The same metrics as JSON: {"operations": [{entity, operation, ok, error, sum_seconds,
  /// buckets: [{le, count}]}], "tables": {name: rows}, "database_bytes", "cache": {entity:
  /// {event: n}}, "cache_store": {...}, "cache_resources": {name: n}, "backend_resources":
  /// {name: n}}.
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
    if (database_size_)
      if (auto bytes = database_size_()) doc["database_bytes"] = *bytes;
    doc["cache"] = nlohmann::json::object();
    (
        [&] {
          const auto c = part<Entities>().repo.cache_stats();
          if (part<Entities>().repo.cache() == nullptr) return;
          nlohmann::json e;
          for_each_cache_counter(c, [&](std::string_view name, std::uint64_t v) { e[std::string(name)] = v; });
          e["hit_rate"] = c.hit_rate();
          doc["cache"][std::string(table_name_v<Entities>)] = std::move(e);
        }(),
        ...);
    if (cache_) {
      const auto st = cache_->stats();
      nlohmann::json store;
      store["name"] = std::string(cache_->name());
      for_each_store_counter(st, [&](std::string_view name, std::uint64_t v) { store[std::string(name)] = v; });
      store["entries"] = st.entries;
      store["bytes"] = st.bytes;
      store["hit_rate"] = st.hit_rate();
      doc["cache_store"] = std::move(store);
      if (auto r = cache_->resource_metrics(); !r.empty()) doc["cache_resources"] = resources_json(r);
    }
    if (backend_resources_) doc["backend_resources"] = resources_json(backend_resources_());
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
    if (migrator_) {
      const auto t1 = std::chrono::steady_clock::now();
      auto m = const_cast<persistence_manager*>(this)->status();
      health_check mig{"migrations", false, {}, {}};
      if (!m) {
        mig.detail = m.error().describe();
      } else if (m->current_version < m->latest_version) {
        mig.detail = "schema version " + std::to_string(m->current_version) + " of " +
                     std::to_string(m->latest_version) + ": migrations pending";
      } else {
        mig.ok = true;
      }
      mig.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t1);
      report.checks.push_back(std::move(mig));
    }
    if (cache_) report.checks.push_back(cache_health());
    report.ok = true;
    for (const auto& c : report.checks) report.ok = report.ok && c.ok;
    return report;
  }

  /// Writes every registered table to `out` as one JSON document, a row at a time:
  /// memory use does not grow with the database.
  /// `{"format":"ormkit-export","version":1,"tables":{"<table>":[<entity>...],...}}`, tables in
  /// registration order (register parents before the tables that refer to them, and an
  /// import fills them in that order), rows in key order, live rows only (soft-deleted rows
  /// are left out). `opts.indent` >= 0 pretty-prints. Secret columns are left out unless
  /// `opts.include_secrets`. `progress(table, done, total)` after every 1,000 rows and once
  /// at the end of each table (then done == total, the rows written). Each table is read
  /// in one pass; tables are not read in one snapshot (export inside `transaction` for that).
  /// Errors: those of the reads and of `to_json`; io_error when `out` fails. After an
  /// error, what was written is not a complete document.
  auto export_json(std::ostream& out, const json_options& opts = {}, const progress_callback& progress = {}) const
      -> ormkit::status {
    detail::export_writer writer(out, opts.indent);
    writer.open();
    ormkit::status st;
    (void)((st = export_table<Entities>(writer, opts, progress), static_cast<bool>(st)) && ...);
    if (!st) return st;
    writer.close();
    out.flush();
    if (!out) return unexpected(errc::io_error, "export: writing the document failed");
    return {};
  }

  /// `export_json` into a string.
  auto export_json(const json_options& opts = {}, const progress_callback& progress = {}) const
      -> result<std::string> {
    std::ostringstream out;
    ORMKIT_TRY(export_json(out, opts, progress));
    return std::move(out).str();
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
                   const progress_callback& progress = {}) -> ormkit::status {
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
    return transaction([&](ormkit::transaction&) -> ormkit::status {
      ormkit::status st;
      (void)((st = import_table<Entities>(doc["tables"], opts, replace, progress), static_cast<bool>(st)) && ...);
      return st;
    });
  }

  /// Imports an export document from `in`, reading it a row at a time (memory use does
  /// not grow with the document), in one transaction: all of it or nothing. Tables are
  /// filled in the order the document lists them (`export_json` lists parents first);
  /// otherwise as the string form: every entity decoded, validated and stored as exported,
  /// `replace` upserts. `progress(table, done, 0)` every 1,000 rows (the total is not known
  /// while streaming) and `progress(table, n, n)` at each table's end.
  /// Errors: as the string form; the row index counts from 0 within its table.
  auto import_json(std::istream& in, const json_options& opts = {}, bool replace = false,
                   const progress_callback& progress = {}) -> ormkit::status {
    return transaction([&](ormkit::transaction&) -> ormkit::status {
      std::string current;
      std::uint64_t done = 0;
      std::vector<std::string> seen;
      auto end_table = [&] {
        if (progress && !current.empty()) progress(current, done, done);
      };
      detail::import_reader reader(
          opts.max_depth,
          [&](const std::string& name) -> ormkit::status {
            end_table();
            const bool known = ((name == table_name_v<Entities>) || ...);
            if (!known) return unexpected(errc::invalid_argument, "import: table \"" + name + "\" is not registered");
            if (std::find(seen.begin(), seen.end(), name) != seen.end())
              return unexpected(errc::invalid_argument, "import: table \"" + name + "\" appears twice");
            seen.push_back(name);
            current = name;
            done = 0;
            return {};
          },
          [&](const std::string& name, nlohmann::json& row) -> ormkit::status {
            ormkit::status st;
            (void)((name == table_name_v<Entities> ? (st = import_row<Entities>(row, opts, replace, done), true)
                                                   : false) ||
                   ...);
            if (!st) return st;
            ++done;
            if (progress && done % 1000 == 0) progress(current, done, 0);
            return {};
          });
      bool parsed = false;
      try {
        parsed = nlohmann::json::sax_parse(in, &reader);
      } catch (const nlohmann::json::exception& e) {
        return unexpected(errc::invalid_argument, std::string("import: malformed JSON: ") + e.what());
      }
      ORMKIT_TRY(reader.finish(parsed));
      end_table();
      return {};
    });
  }

 private:
  template <class T>
  struct part_of {
    std::optional<cache_policy> policy;  // cache_policy_for<T>, else the manager's default
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

  // Captures what only the backend's own type can do: migrations, backup, size.
  template <class B>
  void learn_backend(B& b) {
    if constexpr (reports_resource_metrics<B>) {
      backend_resources_ = [&b] { return b.resource_metrics(); };
    }
    if constexpr (requires(statement_observer* o) { b.observe_statements(o); }) {
      observe_statements_ = [&b](statement_observer* o) { b.observe_statements(o); };
    }
    if constexpr (requires { make_migration_driver(b); }) {
      migrator_ = [&b] { return make_migration_driver(b); };
    }
    if constexpr (requires(const std::string& p) {
                    { b.backup_to(p, [](std::uint64_t, std::uint64_t) {}, 1) } -> std::same_as<ormkit::status>;
                  }) {
      backup_ = [&b](const std::string& path, const progress_callback& progress) {
        return b.backup_to(
            path,
            [&](std::uint64_t done, std::uint64_t total) {
              if (progress) progress("*", done, total);
            },
            backup_pages_per_step);
      };
    } else if constexpr (requires(const std::string& p) {
                           { b.backup_to(p) } -> std::same_as<ormkit::status>;
                         }) {
      backup_ = [&b](const std::string& path, const progress_callback& progress) {
        if (progress) progress("*", 0, 1);
        ORMKIT_TRY(b.backup_to(path));
        if (progress) progress("*", 1, 1);
        return ormkit::status{};
      };
    }
    if constexpr (requires(std::string_view sql) {
                    { b.query(sql) } -> std::same_as<result<value_rows>>;
                  }) {
      if (b.name() == "sqlite") {
        database_size_ = [&b]() -> result<std::uint64_t> {
          auto pages = b.query("PRAGMA page_count");
          if (!pages) return std::move(pages).error();
          auto size = b.query("PRAGMA page_size");
          if (!size) return std::move(size).error();
          const auto* n = pages->empty() || pages->front().empty() ? nullptr : std::get_if<std::int64_t>(&pages->front()[0]);
          const auto* z = size->empty() || size->front().empty() ? nullptr : std::get_if<std::int64_t>(&size->front()[0]);
          if (n == nullptr || z == nullptr) return unexpected(errc::backend_error, "sqlite: no page count");
          return static_cast<std::uint64_t>(*n) * static_cast<std::uint64_t>(*z);
        };
      } else if (b.name() == "postgres") {
        database_size_ = [&b]() -> result<std::uint64_t> { return postgres_database_size(b.query(postgres_size_sql)); };
      }
    } else if constexpr (requires { (*b.acquire())->query(std::string_view{}); }) {
      if (b.name() == "postgres") {  // a pool: ask one of its connections
        database_size_ = [&b]() -> result<std::uint64_t> {
          auto lease = b.acquire();
          if (!lease) return std::move(lease).error();
          return postgres_database_size((*lease)->query(postgres_size_sql));
        };
      }
    }
  }

  auto make_migrator() -> result<std::unique_ptr<migrator>> {
    if (!migrator_)
      return unexpected(errc::unsupported,
                        "persistence_manager: migrations need the backend's type; construct the manager from the "
                        "backend itself (not a backend_ref) and include its migration driver "
                        "(<ormkit/migration/sqlite.hpp>, <ormkit/migration/postgres.hpp> or "
                        "<ormkit/migration/memory.hpp>)");
    auto steps = opts_.migrations.empty() ? steps_for<Entities...>() : opts_.migrations;
    return std::make_unique<migrator>(migrator_(), std::move(steps));
  }

  template <class T>
  void apply_cache_policy() {
    auto& p = part<T>();
    const cache_policy policy = p.policy.value_or(opts_.cache);
    if (cache_) p.repo.use_cache(*cache_, policy, opts_.cache_namespace);
    else if (p.policy && policy.capacity > 0) p.repo.use_cache(policy, opts_.cache_namespace);
    else p.repo.disable_cache();
  }

  void apply_cache_policies() { (apply_cache_policy<Entities>(), ...); }

  // Writes, reads back and erases a probe key.
  auto cache_health() const -> health_check {
    health_check c{"cache", false, {}, {}};
    const auto t0 = std::chrono::steady_clock::now();
    const std::string key = opts_.cache_namespace + ":\\#health";
    auto st = cache_->set(key, "ok", std::chrono::seconds(10));
    std::optional<std::string> got;
    if (st) {
      auto r = cache_->get(key);
      if (!r) st = unexpected(r.error());
      else got = std::move(*r);
    }
    if (st) (void)cache_->erase(key);
    c.latency = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    if (!st) c.detail = std::string(cache_->name()) + ": " + st.error().describe();
    else if (!got || *got != "ok") c.detail = std::string(cache_->name()) + ": the probe value did not read back";
    else c.ok = true;
    return c;
  }

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

  template <class F>
  static void for_each_cache_counter(const cache_aside_stats& c, F&& f) {
    f("hits", c.hits);
    f("negative_hits", c.negative_hits);
    f("misses", c.misses);
    f("loads", c.loads);
    f("coalesced", c.coalesced);
    f("fills", c.fills);
    f("stale_fills", c.stale_fills);
    f("invalidations", c.invalidations);
    f("deferred", c.deferred);
    f("bypassed", c.bypassed);
    f("errors", c.errors);
    f("corrupt", c.corrupt);
    f("query_hits", c.query_hits);
    f("query_misses", c.query_misses);
  }

  template <class F>
  static void for_each_store_counter(const ormkit::cache_stats& c, F&& f) {
    f("hits", c.hits);
    f("misses", c.misses);
    f("sets", c.sets);
    f("erases", c.erases);
    f("evictions", c.evictions);
    f("expirations", c.expirations);
    f("errors", c.errors);
    f("corrupt", c.corrupt);
  }

  void render_cache_metrics(std::string& out) const {
    const std::string& p = opts_.metrics_prefix;
    bool any = false;
    (void)((any = any || part<Entities>().repo.cache() != nullptr), ...);
    if (any) {
      out += "# HELP " + p + "_cache_events_total Cache-aside events by entity (hits, misses, loads, ...).\n";
      out += "# TYPE " + p + "_cache_events_total counter\n";
      (
          [&] {
            if (part<Entities>().repo.cache() == nullptr) return;
            for_each_cache_counter(part<Entities>().repo.cache_stats(), [&](std::string_view name, std::uint64_t v) {
              out += p + "_cache_events_total{entity=\"";
              detail::append_label_value(out, table_name_v<Entities>);
              out += "\",event=\"";
              out += name;
              out += "\"} " + std::to_string(v) + "\n";
            });
          }(),
          ...);
    }
    if (!cache_) return;
    const auto st = cache_->stats();
    out += "# HELP " + p + "_cache_store_operations_total Operations of the cache store by outcome.\n";
    out += "# TYPE " + p + "_cache_store_operations_total counter\n";
    for_each_store_counter(st, [&](std::string_view name, std::uint64_t v) {
      out += p + "_cache_store_operations_total{store=\"";
      detail::append_label_value(out, cache_->name());
      out += "\",outcome=\"";
      out += name;
      out += "\"} " + std::to_string(v) + "\n";
    });
    out += "# HELP " + p + "_cache_store_entries Values the cache store holds in this process.\n";
    out += "# TYPE " + p + "_cache_store_entries gauge\n";
    out += p + "_cache_store_entries{store=\"";
    detail::append_label_value(out, cache_->name());
    out += "\"} " + std::to_string(st.entries) + "\n";
    out += "# HELP " + p + "_cache_store_bytes Key and value bytes the cache store holds in this process.\n";
    out += "# TYPE " + p + "_cache_store_bytes gauge\n";
    out += p + "_cache_store_bytes{store=\"";
    detail::append_label_value(out, cache_->name());
    out += "\"} " + std::to_string(st.bytes) + "\n";
  }

  static constexpr std::string_view postgres_size_sql = "SELECT pg_database_size(current_database())::int8";

  static auto postgres_database_size(result<value_rows> rows) -> result<std::uint64_t> {
    if (!rows) return std::move(rows).error();
    const auto* n = rows->empty() || rows->front().empty() ? nullptr : std::get_if<std::int64_t>(&rows->front()[0]);
    if (n == nullptr || *n < 0) return unexpected(errc::backend_error, "postgres: no database size");
    return static_cast<std::uint64_t>(*n);
  }

  // One family per metric: `<family_prefix><name>` for gauges, `..._total` for counters.
  static void render_resources(std::string& out, const std::string& family_prefix,
                               const std::vector<resource_metric>& metrics) {
    for (const auto& m : metrics) {
      const bool counter = m.type == resource_metric::kind::counter;
      std::string family = family_prefix;
      family += m.name;
      if (counter) family += "_total";
      out += "# HELP " + family + " ";
      out += m.help;
      out += "\n# TYPE " + family + (counter ? " counter\n" : " gauge\n");
      out += family + " " + std::to_string(m.value) + "\n";
    }
  }

  static auto resources_json(const std::vector<resource_metric>& metrics) -> nlohmann::json {
    nlohmann::json o = nlohmann::json::object();
    for (const auto& m : metrics) o[std::string(m.name)] = m.value;
    return o;
  }

  template <class T>
  auto count_into(std::vector<std::pair<std::string_view, std::uint64_t>>& out) const -> ormkit::status {
    auto n = part<T>().repo.count();
    if (!n) return std::move(n).error();
    out.emplace_back(table_name_v<T>, *n);
    return {};
  }

  template <class T>
  auto export_table(detail::export_writer& writer, const json_options& opts, const progress_callback& progress) const
      -> ormkit::status {
    const auto& repo = part<T>().repo;
    std::uint64_t total = 0;
    if (progress) {
      auto n = repo.count();
      if (!n) return std::move(n).error();
      total = *n;
    }
    auto rows = repo.stream();
    if (!rows) return std::move(rows).error();
    writer.begin_table(table_name_v<T>);
    std::uint64_t done = 0;
    try {
      for (const auto& e : *rows) {
        auto j = to_json(e, opts);
        if (!j) return std::move(j).error();
        writer.row(*j);
        ++done;
        if (progress && done % 1000 == 0) progress(table_name_v<T>, done, std::max(done, total));
      }
    } catch (const ormkit::exception& ex) {
      return ex.error();
    }
    writer.end_table();
    if (progress && (done == 0 || done % 1000 != 0 || done != total)) progress(table_name_v<T>, done, done);
    return {};
  }

  template <class T>
  auto import_table(const nlohmann::json& tables, const json_options& opts, bool replace,
                    const progress_callback& progress) -> ormkit::status {
    const std::string name(table_name_v<T>);
    if (!tables.contains(name)) return {};
    const auto& rows = tables[name];
    const std::uint64_t total = rows.size();
    std::uint64_t done = 0;
    for (const auto& j : rows) {
      ORMKIT_TRY(import_row<T>(j, opts, replace, done));
      ++done;
      if (progress && (done % 1000 == 0 || done == total)) progress(table_name_v<T>, done, total);
    }
    return {};
  }

  // Decodes, validates and stores row `index` of T's table.
  template <class T>
  auto import_row(const nlohmann::json& j, const json_options& opts, bool replace, std::uint64_t index)
      -> ormkit::status {
    auto e = from_json<T>(j, opts);
    if (!e) {
      auto err = std::move(e).error();
      err.message = "import: " + std::string(table_name_v<T>) + " row " + std::to_string(index) + ": " + err.message;
      return err;
    }
    auto stored = part<T>().repo.insert_as_stored(std::move(*e), replace);
    if (!stored) {
      auto err = std::move(stored).error();
      err.message = "import: " + std::string(table_name_v<T>) + " row " + std::to_string(index) + ": " + err.message;
      return err;
    }
    return {};
  }

  std::unique_ptr<void, void (*)(void*)> owned_{nullptr, [](void*) {}};
  backend_ref backend_;
  manager_options opts_;
  std::shared_ptr<void> owned_cache_;  // destroyed after the repositories that read it
  std::optional<cache_ref> cache_;
  parts parts_;
  std::function<std::unique_ptr<migration_driver>()> migrator_;
  std::function<ormkit::status(const std::string&, const progress_callback&)> backup_;
  std::function<void(statement_observer*)> observe_statements_;
  std::function<result<std::uint64_t>()> database_size_;
  std::function<std::vector<resource_metric>()> backend_resources_;
};

}  // namespace ormkit
