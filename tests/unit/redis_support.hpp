// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// Shared by the tests/unit/redis_*.cpp files (compiled only when ormkit::redis exists):
//
// - `shared_server()`: the redis-server that scripts/test.sh started, from
//   ORMKIT_TEST_REDIS=127.0.0.1:PORT. With ORMKIT_SKIP_REDIS=1 the test WARNs and
//   returns (the only way to skip); with neither variable set it FAILs.
// - `private_server`: a redis-server of the test's own on a free port (for
//   stopping, freezing and restarting it mid-test), found on PATH.
// - `unique_prefix()`: a key prefix no other test process uses, since ctest runs
//   test cases in parallel against the shared server.

#include <ormkit/redis.hpp>

#include "../support/catch.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace redis_test {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

inline auto skip_requested() -> bool {
  const char* v = std::getenv("ORMKIT_SKIP_REDIS");
  return v != nullptr && std::string_view(v) == "1";
}

/// The shared server's options, or nullopt when the run asked to skip Redis tests.
inline auto shared_server() -> std::optional<ormkit::redis::options> {
  if (skip_requested()) {
    WARN("ORMKIT_SKIP_REDIS=1: Redis test skipped");
    return std::nullopt;
  }
  const char* address = std::getenv("ORMKIT_TEST_REDIS");
  if (address == nullptr || *address == '\0')
    FAIL("ORMKIT_TEST_REDIS is not set. Run the tests through scripts/test.sh (it starts a redis-server), "
         "or start one and export ORMKIT_TEST_REDIS=127.0.0.1:PORT, or export ORMKIT_SKIP_REDIS=1 to skip "
         "the Redis tests on purpose.");
  auto o = ormkit::redis::options::from_url(address);
  INFO("ORMKIT_TEST_REDIS=" << address);
  REQUIRE(o.has_value());
  o->connect_timeout = 1000ms;
  o->timeout = 2000ms;
  return *o;
}

/// Whether tests that start their own redis-server should run (same rule as the shared one).
inline auto private_servers_allowed() -> bool {
  if (skip_requested()) {
    WARN("ORMKIT_SKIP_REDIS=1: Redis test skipped");
    return false;
  }
  return true;
}

/// A key prefix unique to this process and call: "t:<what>:<pid>:<n>:".
inline auto unique_prefix(std::string_view what) -> std::string {
  static std::atomic<int> n{0};
  std::ostringstream out;
  out << "t:" << what << ':' << ::getpid() << ':' << n++ << ':'
      << steady::now().time_since_epoch().count() % 1000000 << ':';
  return out.str();
}

/// A TCP port on 127.0.0.1 nobody listens on right now.
inline auto free_port() -> std::uint16_t {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(fd);
  return ntohs(a.sin_port);
}

/// Milliseconds since `start`.
inline auto elapsed_ms(steady::time_point start) -> long long {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start).count();
}

/// Waits until `pred()` holds or `limit` passes; returns `pred()`.
template <class P>
auto eventually(P&& pred, std::chrono::milliseconds limit = 3000ms) -> bool {
  const auto end = steady::now() + limit;
  while (!pred()) {
    if (steady::now() >= end) return pred();
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

/// A redis-server of the test's own: 127.0.0.1 on a free port, no persistence
/// (unless `extra` asks for it), in a temporary directory; stopped (and reaped)
/// by the destructor.
class private_server {
 public:
  explicit private_server(std::vector<std::string> extra = {}) : extra_(std::move(extra)) {
    char tmpl[] = "/tmp/ormkit-redis-XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    port_ = free_port();
    start();
  }
  private_server(const private_server&) = delete;
  auto operator=(const private_server&) -> private_server& = delete;
  ~private_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGCONT);
      ::kill(pid_, SIGKILL);
      reap();
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  [[nodiscard]] auto port() const -> std::uint16_t { return port_; }
  [[nodiscard]] auto pid() const -> pid_t { return pid_; }

  /// Options for this server with short budgets (the fault tests measure them).
  [[nodiscard]] auto options(std::chrono::milliseconds timeout = 200ms) const -> ormkit::redis::options {
    ormkit::redis::options o;
    o.host = "127.0.0.1";
    o.port = port_;
    o.connect_timeout = timeout;
    o.timeout = timeout;
    o.retry_interval = 100ms;
    return o;
  }

  /// Starts the server (again, on the same port) and waits until it answers PING.
  void start() {
    REQUIRE(pid_ <= 0);
    std::vector<std::string> args = {"redis-server", "--port", std::to_string(port_), "--bind", "127.0.0.1",
                                     "--save", "", "--appendonly", "no", "--dir", dir_, "--logfile",
                                     dir_ + "/redis.log", "--daemonize", "no", "--protected-mode", "yes"};
    for (const auto& e : extra_) args.push_back(e);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = ::posix_spawnp(&pid_, "redis-server", nullptr, nullptr, argv.data(), environ);
    INFO("posix_spawnp(redis-server): " << std::strerror(rc) << " (is redis-server on PATH? scripts/setup.sh installs it)");
    REQUIRE(rc == 0);
    ormkit::redis::options o = options(200ms);
    o.retry_interval = 0ms;
    const bool up = eventually([&] {
      ormkit::redis::client c(o);
      auto pong = c.ping();
      return pong.has_value() || pong.error().native == "NOAUTH";  // answering, but wants a password
    }, 10s);
    INFO("redis-server on port " << port_ << " did not answer PING; log: " << log());
    REQUIRE(up);
  }

  /// SIGTERM (a clean shutdown without saving, given --save "") and reap.
  void stop() {
    REQUIRE(pid_ > 0);
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    reap();
  }

  /// SIGKILL and reap (a crash).
  void crash() {
    REQUIRE(pid_ > 0);
    ::kill(pid_, SIGKILL);
    reap();
  }

  void freeze() { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
  void thaw() { REQUIRE(::kill(pid_, SIGCONT) == 0); }

  [[nodiscard]] auto log() const -> std::string {
    std::ifstream in(dir_ + "/redis.log");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  void reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  std::vector<std::string> extra_;
  std::string dir_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace redis_test
