// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 05_memory_persistence: the memory backend saved to a JSON file, transactions
// with a nested savepoint and a rollback, reopening the file, and a damaged
// file reported as errc::corrupt rather than read as an empty database.

#include <ormkit/memory.hpp>
#include <ormkit/memory/json_file.hpp>  // includes nlohmann/json.hpp: kept out of <ormkit/memory.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include <fmt/core.h>
#include <unistd.h>  // getpid

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

struct note {
  std::int64_t id{};
  std::string title{};
  int stars{};

  friend constexpr auto ormkit_describe(std::type_identity<note>) {
    using namespace ormkit;
    return describe<note>("notes")
        .column(&note::id, "id", primary_key, auto_increment)
        .column(&note::title, "title", rules::not_empty{})
        .column(&note::stars, "stars", rules::range{0, 5});
  }
};

namespace {
void list(const ormkit::repository<note>& notes) {
  auto all = notes.find(ormkit::query<note>().order_by(&note::id)).value();
  fmt::print("  {} notes:", all.size());
  for (const auto& n : all) fmt::print(" #{} {}", n.id, n.title);
  fmt::print("\n");
}
}  // namespace

int main() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ormkit_example_05_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  fs::current_path(dir);  // relative paths keep the messages below free of the temporary directory
  const fs::path file = "notes.json";

  {
    // Every commit (and every write outside a transaction) rewrites the file
    // atomically: a crash leaves the old or the new file, never half of one.
    ormkit::memory::backend db({.store = ormkit::memory::json_file(file)});
    ormkit::repository<note> notes(db);
    notes.insert({.title = "buy milk", .stars = 1}).value();
    notes.insert({.title = "call mum", .stars = 4}).value();

    // transact commits when the function returns success and rolls back when it
    // returns an error or throws. A nested call becomes a savepoint: its failure
    // undoes only its own writes, and the outer transaction decides what to do.
    auto st = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(notes.insert({.title = "file taxes", .stars = 5}));
      auto inner = ormkit::transact(db, [&](ormkit::transaction& tx) -> ormkit::status {
        fmt::print("inner scope is level {}\n", tx.level());
        ORMKIT_TRY(notes.insert({.title = "learn piano", .stars = 2}));
        return notes.insert({.title = "", .stars = 9}).error();  // invalid: the savepoint is rolled back
      });
      fmt::print("inner: {}\n", inner.error().code.message());
      return {};  // carry on: the outer transaction commits "file taxes" alone
    });
    fmt::print("outer: {}\n", st ? "committed" : st.error().describe());
    list(notes);

    // An exception rolls back too, and propagates.
    try {
      (void)ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
        ORMKIT_TRY(notes.insert({.title = "never saved", .stars = 3}));
        throw std::runtime_error("network down");
      });
    } catch (const std::exception& e) {
      fmt::print("transaction threw \"{}\"; rolled back\n", e.what());
    }
    list(notes);
  }  // the backend is gone; the file stays

  // One compact JSON document (format described in <ormkit/memory/json_file.hpp>).
  std::string text;
  std::getline(std::ifstream(file), text);
  fmt::print("{}\n", text);

  {
    ormkit::memory::backend db({.store = ormkit::memory::json_file(file)});
    ormkit::repository<note> notes(db);
    fmt::print("reopened {}:\n", file.string());
    list(notes);
    // The id counter is saved with the rows; rolled-back inserts gave their ids back.
    fmt::print("  next id: {}\n", notes.insert({.title = "water plants", .stars = 2}).value().id);
  }

  // A damaged file is an error, never silently an empty database. `open`
  // returns it; the constructor would throw it as ormkit::exception.
  std::ofstream(file, std::ios::trunc) << R"({"format":"ormkit-memory","version":1,"tables":{"notes":)";
  auto broken = ormkit::memory::backend::open({.store = ormkit::memory::json_file(file)});
  fmt::print("open damaged file: is(errc::corrupt) = {}\n", broken.error().is(ormkit::errc::corrupt));
  fmt::print("  {}\n", broken.error().message);

  fs::current_path(dir.parent_path());
  fs::remove_all(dir);
}

// The block below is compared with the output line by line: keep clang-format away.
// clang-format off
// Expected output:
// inner scope is level 2
// inner: validation_failed
// outer: committed
//   3 notes: #1 buy milk #2 call mum #3 file taxes
// transaction threw "network down"; rolled back
//   3 notes: #1 buy milk #2 call mum #3 file taxes
// {"format":"ormkit-memory","tables":{"notes":{"columns":["id","title","stars"],"next_id":4,"rows":[[1,"buy milk",1],[2,"call mum",4],[3,"file taxes",5]]}},"version":1}
// reopened notes.json:
//   3 notes: #1 buy milk #2 call mum #3 file taxes
//   next id: 4
// open damaged file: is(errc::corrupt) = true
//   memory: notes.json is corrupt: malformed JSON at byte 57, line 1, column 57: syntax error while parsing value - unexpected end of input; expected '[', '{', or a literal
