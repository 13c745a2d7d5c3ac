// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// tests/conformance/backends.hpp
//
// The backend fixtures the conformance suite runs against. Every conformance test is a
// TEMPLATE_TEST_CASE over ORMKIT_CONFORMANCE_BACKENDS, so a new backend joins the whole
// suite by defining one fixture here and adding it to that list (guard it with the
// backend's ORMKIT_HAS_<NAME> definition).
//
// A fixture is default-constructible (a fresh, empty database) and provides:
//
//   fx.backend()   the database: an ormkit::backend_ref, or the backend object itself
//   fx.reopen()    closes the database and opens it again from wherever it keeps its data;
//                  a no-op for a transient backend (its data simply stays). Repositories
//                  built before must be rebuilt from fx.backend() afterwards.
//   Fixture::name  a short name for messages
//
// temp_dir is shared with the unit tests of durable stores.

#include <ormkit/backend.hpp>
#include <ormkit/memory.hpp>
#include <ormkit/memory/json_file.hpp>
#ifdef ORMKIT_HAS_SQLITE
#  include <ormkit/sqlite.hpp>
#endif
#ifdef ORMKIT_HAS_POSTGRES
#  include <ormkit/postgres.hpp>
#  include <unistd.h>

#  include <atomic>
#  include <chrono>
#  include <optional>
#  include <random>

#  include "../support/catch.hpp"
#endif

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace ormkit_test {

/// A fresh directory under the system temporary directory, removed (with its contents)
/// on destruction.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "ormkit-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("temp_dir: mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  temp_dir(const temp_dir&) = delete;
  auto operator=(const temp_dir&) -> temp_dir& = delete;
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }

  [[nodiscard]] auto path() const -> const std::filesystem::path& { return path_; }
  [[nodiscard]] auto operator/(std::string_view name) const -> std::filesystem::path { return path_ / name; }

 private:
  std::filesystem::path path_;
};

/// A fresh transient memory backend.
struct memory_fixture {
  static constexpr std::string_view name = "memory";

  auto backend() -> ormkit::backend_ref { return *db; }
  void reopen() {}

  std::unique_ptr<ormkit::memory::backend> db = std::make_unique<ormkit::memory::backend>();
};

/// A memory backend kept in a JSON file in a fresh directory; `reopen()` loads the file
/// into a new backend object.
struct memory_file_fixture {
  static constexpr std::string_view name = "memory+json_file";

  auto backend() -> ormkit::backend_ref { return *db; }
  void reopen() {
    db.reset();
    db = open();
  }
  [[nodiscard]] auto path() const -> std::filesystem::path { return dir / "db.json"; }

  temp_dir dir;
  std::unique_ptr<ormkit::memory::backend> db = open();

 private:
  auto open() const -> std::unique_ptr<ormkit::memory::backend> {
    return ormkit::memory::backend::open({.store = ormkit::memory::json_file(path())}).value();
  }
};

#ifdef ORMKIT_HAS_SQLITE
/// A fresh SQLite database in memory.
struct sqlite_memory_fixture {
  static constexpr std::string_view name = "sqlite:memory";

  // The backend itself, as users hold it: repositories built on it write typed
  // (ormkit::row_writing_backend).
  auto backend() -> ormkit::sqlite::backend& { return *db; }
  void reopen() {}

  std::unique_ptr<ormkit::sqlite::backend> db = ormkit::sqlite::backend::open({}).value();
};

/// sqlite_memory_fixture through a backend_ref: repositories built on it take the
/// backend's untyped calls for every write, which the typed writes fall back to.
struct sqlite_erased_fixture {
  static constexpr std::string_view name = "sqlite:memory (backend_ref)";

  auto backend() -> ormkit::backend_ref { return *db; }
  void reopen() {}

  std::unique_ptr<ormkit::sqlite::backend> db = ormkit::sqlite::backend::open({}).value();
};

/// A SQLite database file (WAL) in a fresh directory; `reopen()` closes and opens it.
struct sqlite_file_fixture {
  static constexpr std::string_view name = "sqlite:file";

  auto backend() -> ormkit::sqlite::backend& { return *db; }  // as sqlite_memory_fixture's
  void reopen() {
    db.reset();
    db = open();
  }

  temp_dir dir;
  std::unique_ptr<ormkit::sqlite::backend> db = open();

 private:
  auto open() const -> std::unique_ptr<ormkit::sqlite::backend> {
    ormkit::sqlite::options o;
    o.path = (dir / "db.sqlite").string();
    return ormkit::sqlite::backend::open(o).value();
  }
};
#endif

#ifdef ORMKIT_HAS_POSTGRES
/// The options of the PostgreSQL server the tests use (ORMKIT_TEST_POSTGRES, a libpq
/// conninfo string that scripts/test.sh exports), or nullopt when ORMKIT_SKIP_POSTGRES=1.
/// Without either variable this throws: a missing server is a failure, never a skip.
inline auto postgres_test_options() -> std::optional<ormkit::postgres::options> {
  if (const char* skip = std::getenv("ORMKIT_SKIP_POSTGRES"); skip && std::string_view(skip) == "1")
    return std::nullopt;
  const char* conninfo = std::getenv("ORMKIT_TEST_POSTGRES");
  if (conninfo == nullptr || *conninfo == '\0')
    throw std::runtime_error(
        "ORMKIT_TEST_POSTGRES is not set. Run the tests through scripts/test.sh (it starts a PostgreSQL "
        "server), or `bash scripts/postgres.sh run <test binary>`, or export ORMKIT_SKIP_POSTGRES=1 to skip "
        "the PostgreSQL tests on purpose.");
  ormkit::postgres::options o;
  o.conninfo = conninfo;
  o.connect_timeout = std::chrono::seconds(10);
  o.call_timeout = std::chrono::seconds(60);
  return o;
}

/// A schema name no other test (process) uses: ctest runs test cases in parallel.
inline auto unique_schema_name(std::string_view prefix) -> std::string {
  static std::atomic<unsigned> counter{0};
  static const auto salt = std::random_device{}();
  return std::string(prefix) + "_" + std::to_string(::getpid()) + "_" + std::to_string(salt % 100000) + "_" +
         std::to_string(++counter);
}

/// A fresh, empty schema on the test server (search_path points at it), dropped with
/// everything in it on destruction; `reopen()` closes the connection and opens a new one.
/// With ORMKIT_SKIP_POSTGRES=1 the cases run against a memory backend instead, with a
/// warning (Catch2 v2 cannot skip a test from a fixture).
struct postgres_fixture {
  static constexpr std::string_view name = "postgres";

  postgres_fixture() {
    auto o = postgres_test_options();
    if (!o) {
      WARN("ORMKIT_SKIP_POSTGRES=1: this postgres_fixture case runs against the memory backend instead");
      fallback = std::make_unique<ormkit::memory::backend>();
      return;
    }
    o->schema = unique_schema_name("ormkit_conf");
    opts = *o;
    db = ormkit::postgres::backend::open(opts).value();
    db->execute("CREATE SCHEMA " + ormkit::postgres::quote_identifier(opts.schema)).value();
  }
  postgres_fixture(const postgres_fixture&) = delete;
  auto operator=(const postgres_fixture&) -> postgres_fixture& = delete;
  ~postgres_fixture() {
    if (opts.schema.empty()) return;
    db.reset();
    if (auto admin = ormkit::postgres::backend::open(opts))
      (void)(*admin)->execute("DROP SCHEMA IF EXISTS " + ormkit::postgres::quote_identifier(opts.schema) + " CASCADE");
  }

  auto backend() -> ormkit::backend_ref {
    if (fallback) return *fallback;
    return *db;
  }
  /// PostgreSQL text holds UTF-8 without NUL bytes only; other text is rejected (types.cpp).
  [[nodiscard]] auto utf8_text_only() const -> bool { return fallback == nullptr; }
  void reopen() {
    if (fallback) return;
    db.reset();
    db = ormkit::postgres::backend::open(opts).value();
  }

  ormkit::postgres::options opts;
  std::unique_ptr<ormkit::postgres::backend> db;
  std::unique_ptr<ormkit::memory::backend> fallback;
};
#endif

}  // namespace ormkit_test

/// The fixtures every conformance test runs against. Add a backend's fixture here.
#if defined(ORMKIT_HAS_SQLITE) && defined(ORMKIT_HAS_POSTGRES)
#  define ORMKIT_CONFORMANCE_BACKENDS                                                              \
    ormkit_test::memory_fixture, ormkit_test::memory_file_fixture, ormkit_test::sqlite_memory_fixture, \
        ormkit_test::sqlite_erased_fixture, ormkit_test::sqlite_file_fixture, ormkit_test::postgres_fixture
#elif defined(ORMKIT_HAS_SQLITE)
#  define ORMKIT_CONFORMANCE_BACKENDS                                                              \
    ormkit_test::memory_fixture, ormkit_test::memory_file_fixture, ormkit_test::sqlite_memory_fixture, \
        ormkit_test::sqlite_erased_fixture, ormkit_test::sqlite_file_fixture
#elif defined(ORMKIT_HAS_POSTGRES)
#  define ORMKIT_CONFORMANCE_BACKENDS \
    ormkit_test::memory_fixture, ormkit_test::memory_file_fixture, ormkit_test::postgres_fixture
#else
#  define ORMKIT_CONFORMANCE_BACKENDS ormkit_test::memory_fixture, ormkit_test::memory_file_fixture
#endif
