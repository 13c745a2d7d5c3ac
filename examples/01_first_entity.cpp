// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 01_first_entity: describe one entity, store it in the memory backend, read it back.
//
// An entity is a plain aggregate. It says once, in a constexpr hidden friend,
// which table it lives in and what each member is; everything else (the
// repository, validation, keys) is derived from that descriptor.

#include <ormkit.hpp>         // the backend-neutral core: describe, repository, queries ...
#include <ormkit/memory.hpp>  // the in-process backend: no server, no file

#include <fmt/core.h>

#include <cstdint>
#include <string>

struct book {
  // Defaults on every member: the repository decodes rows into a `book{}`, and
  // designated initializers may then leave members out without a warning.
  std::int64_t id{};
  std::string title{};
  std::string author{};
  int year{};

  // Found by argument-dependent lookup, so no namespace has to be reopened.
  // Columns are listed in declaration order; a compile-time check compares
  // them with the struct, so a forgotten member does not compile.
  friend constexpr auto ormkit_describe(std::type_identity<book>) {
    using namespace ormkit;
    return describe<book>("books")
        .column(&book::id, "id", primary_key, auto_increment)
        .column(&book::title, "title", rules::not_empty{})
        .column(&book::author, "author")
        .column(&book::year, "year");
  }
};

int main() {
  ormkit::memory::backend db;          // tables are created on first use
  ormkit::repository<book> books(db);  // the typed API for one entity

  // insert returns the entity as stored: here with the generated id.
  // `.value()` throws ormkit::exception on an error; later examples handle errors.
  auto dune = books.insert({.title = "Dune", .author = "Frank Herbert", .year = 1965}).value();
  books.insert({.title = "Neuromancer", .author = "William Gibson", .year = 1984}).value();
  books.insert({.title = "Hyperion", .author = "Dan Simmons", .year = 1989}).value();
  fmt::print("inserted {} books; dune has id {}\n", books.count().value(), dune.id);

  // get by primary key.
  auto got = books.get(dune.id).value();
  fmt::print("get({}): {} by {} ({})\n", dune.id, got.title, got.author, got.year);

  // A missing key is an error value, not an exception, until you ask for the value.
  auto missing = books.get(42);
  fmt::print("get(42): {}\n", missing.error().describe());

  // find with a typed condition: `col(&book::year)` only compares with ints.
  using ormkit::col;
  // `.value()` on a temporary result returns the vector itself, so looping over
  // `books.find(...).value()` directly would be safe too.
  auto recent = books.find(ormkit::query<book>(col(&book::year) > 1980).order_by(&book::year)).value();
  fmt::print("published after 1980:\n");
  for (const auto& b : recent) fmt::print("  #{} {} ({})\n", b.id, b.title, b.year);

  // update replaces the stored row that has the entity's key.
  got.year = 1966;  // the book edition, say
  books.update(got).value();
  auto again = books.get(dune.id).value();
  fmt::print("after update: {} ({})\n", again.title, again.year);
}

// Expected output:
// inserted 3 books; dune has id 1
// get(1): Dune by Frank Herbert (1965)
// get(42): [ormkit.not_found] books: no row with id=42
// published after 1980:
//   #2 Neuromancer (1984)
//   #3 Hyperion (1989)
// after update: Dune (1966)
