// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 13: two processes sharing one database and one Redis, each with its own
// in-process cache, seeing each other's writes.
//
// Each process reads through a `redis::two_level_store`: an in-process LRU (L1)
// in front of Redis (L2). A write in one process commits, deletes the key in
// Redis and publishes an invalidation; the other process's subscriber drops its
// L1 copy, so its next read loads the new row. Here the second process is a
// fork() of the first; in production they are separate hosts.
//
// Needs a redis-server: ORMKIT_TEST_REDIS=host:port (scripts/test.sh starts
// one), else 127.0.0.1:6379.

#include <ormkit/cache_key.hpp>
#include <ormkit/redis.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

struct article {
  std::int64_t id{};
  std::string title{};
  std::int64_t version{};

  friend constexpr auto ormkit_describe(std::type_identity<article>) {
    using namespace ormkit;
    return describe<article>("articles")
        .column(&article::id, "id", primary_key, auto_increment)
        .column(&article::title, "title", rules::length{1, 200})
        .column(&article::version, "version", version_column);
  }
};

namespace {

using namespace std::chrono_literals;

auto redis_server() -> ormkit::redis::options {
  const char* address = std::getenv("ORMKIT_TEST_REDIS");
  auto o = ormkit::redis::options::from_url(address != nullptr && *address != '\0' ? address : "127.0.0.1:6379");
  if (!o) {
    fmt::print(stderr, "ORMKIT_TEST_REDIS is not host:port\n");
    std::exit(2);
  }
  return *o;
}

auto cache_options(const std::string& prefix) -> ormkit::redis::two_level_options {
  ormkit::redis::two_level_options o;
  o.l2.server = redis_server();
  o.l2.key_prefix = prefix;  // one application's keys (and channel) in a shared Redis
  return o;
}

// Waits for one byte on `fd`.
auto wait_for(int fd) -> char {
  char c = 0;
  return ::read(fd, &c, 1) == 1 ? c : '\0';
}

void signal(int fd, char c) {
  if (::write(fd, &c, 1) != 1) std::exit(3);
}

// The second process: reads the article (cached in its L1), lets the first one
// update it, then reads again and sees the update.
auto reader(const std::string& path, const std::string& prefix, int from_writer, int to_writer) -> int {
  auto db = ormkit::sqlite::backend::open({.path = path}).value();
  ormkit::redis::two_level_store cache(cache_options(prefix));
  if (!cache.wait_coherent(5s)) return 1;
  ormkit::repository<article> articles(*db, cache);
  const std::int64_t id = 1;
  const auto before = articles.get(id).value();  // now in this process's L1 (until invalidated)
  signal(to_writer, 'r');           // "I have it cached"
  if (wait_for(from_writer) != 'u') return 2;  // the writer has updated it
  // The invalidation travels over pub/sub; wait until it has dropped our copy.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (cache.l1().contains(ormkit::cache_key<article>(id)) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(1ms);
  const auto after = articles.get(id).value();
  fmt::print("reader: before \"{}\", after \"{}\"\n", before.title, after.title);
  fmt::print("reader: invalidations received: {}\n", cache.coherence().invalidations > 0 ? "yes" : "no");
  std::fflush(stdout);
  return 0;
}

}  // namespace

int main() {
  const auto path =
      (std::filesystem::temp_directory_path() / ("ormkit_example13_" + std::to_string(::getpid()) + ".db")).string();
  const std::string prefix = "example13:" + std::to_string(::getpid()) + ":";
  {
    auto db = ormkit::sqlite::backend::open({.path = path}).value();
    db->ensure_table(ormkit::schema_of<article>()).value();
    ormkit::repository<article>(*db).insert({.title = "Hello"}).value();
  }
  int to_reader[2], to_writer[2];
  if (::pipe(to_reader) != 0 || ::pipe(to_writer) != 0) return 1;
  std::fflush(stdout);
  const pid_t pid = ::fork();  // before either process starts threads
  if (pid < 0) return 1;
  if (pid == 0) ::_exit(reader(path, prefix, to_reader[0], to_writer[1]));

  int rc = 0;
  {
    auto db = ormkit::sqlite::backend::open({.path = path}).value();
    ormkit::redis::two_level_store cache(cache_options(prefix));
    if (!cache.wait_coherent(5s)) return 1;
    ormkit::repository<article> articles(*db, cache);
    auto a = articles.get(1).value();
    fmt::print("writer: read \"{}\"\n", a.title);
    if (wait_for(to_writer[0]) != 'r') return 1;
    a.title = "Hello, world";
    articles.update(a).value();  // commit, then DEL + PUBLISH
    fmt::print("writer: updated to \"{}\"\n", a.title);
    std::fflush(stdout);
    signal(to_reader[1], 'u');
    int status = 0;
    ::waitpid(pid, &status, 0);
    rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
    fmt::print("writer: reader exited with {}\n", rc);
    (void)cache.clear();
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  return rc;
}

// Expected output:
// writer: read "Hello"
// writer: updated to "Hello, world"
// reader: before "Hello", after "Hello, world"
// reader: invalidations received: yes
// writer: reader exited with 0
