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
//   fx.backend()   an ormkit::backend_ref to the database
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

  auto backend() -> ormkit::backend_ref { return *db; }
  void reopen() {}

  std::unique_ptr<ormkit::sqlite::backend> db = ormkit::sqlite::backend::open({}).value();
};

/// A SQLite database file (WAL) in a fresh directory; `reopen()` closes and opens it.
struct sqlite_file_fixture {
  static constexpr std::string_view name = "sqlite:file";

  auto backend() -> ormkit::backend_ref { return *db; }
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

}  // namespace ormkit_test

/// The fixtures every conformance test runs against. Add a backend's fixture here.
#ifdef ORMKIT_HAS_SQLITE
#  define ORMKIT_CONFORMANCE_BACKENDS                                                              \
    ormkit_test::memory_fixture, ormkit_test::memory_file_fixture, ormkit_test::sqlite_memory_fixture, \
        ormkit_test::sqlite_file_fixture
#else
#  define ORMKIT_CONFORMANCE_BACKENDS ormkit_test::memory_fixture, ormkit_test::memory_file_fixture
#endif
