// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// test_package: a program that uses ormkit the way an application does, through whatever
// the build links (ormkit::core always; ormkit::sqlite / ormkit::redis when they exist, which
// define ORMKIT_HAS_SQLITE / ORMKIT_HAS_REDIS). It stores one row in the memory backend, one
// in an in-memory SQLite database, and for Redis only parses a URL (no server is contacted),
// then prints one line naming what ran:
//
//   ormkit 0.1.0 consumer: memory=1 sqlite=1 redis=linked

#include <ormkit.hpp>
#include <ormkit/memory.hpp>
#if defined(ORMKIT_HAS_SQLITE)
#include <ormkit/sqlite.hpp>
#endif
#if defined(ORMKIT_HAS_REDIS)
#include <ormkit/redis.hpp>
#endif

#include <cstdint>
#include <cstdio>
#include <string>
#include <type_traits>

namespace {

struct note {
  std::int64_t id{};
  std::string text{};

  friend constexpr auto ormkit_describe(std::type_identity<note>) {
    using namespace ormkit;
    return describe<note>("notes").column(&note::id, "id", primary_key, auto_increment).column(&note::text, "text");
  }
};

// Inserts one note and reads it back; returns how many notes the backend then holds.
template <class Backend>
auto round_trip(Backend& db) -> std::string {
  ormkit::repository<note> notes(db);
  const auto stored = notes.insert({.text = "hello"}).value();
  if (notes.get(stored.id).value().text != "hello") return "mismatch";
  return std::to_string(notes.count().value());
}

}  // namespace

int main() {
  std::string line = "ormkit " ORMKIT_VERSION_STRING " consumer:";

  ormkit::memory::backend memory;
  line += " memory=" + round_trip(memory);

#if defined(ORMKIT_HAS_SQLITE)
  auto sqlite = ormkit::sqlite::backend::open({.path = ":memory:"}).value();
  line += " sqlite=" + round_trip(*sqlite);
#endif

#if defined(ORMKIT_HAS_REDIS)
  // Parsing only; taking hiredis's redisFree makes the link need hiredis.
  const auto server = ormkit::redis::options::from_url("redis://127.0.0.1:6399/2").value();
  void (*volatile release)(redisContext*) = &redisFree;
  line += (server.port == 6399 && release != nullptr) ? " redis=linked" : " redis=wrong";
#endif

  std::printf("%s\n", line.c_str());
  return 0;
}
