// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/redis/client.hpp
//
// `ormkit::redis::client`: a small, thread-safe pool of Redis connections with
// deadlines, for the cache stores (redis/store.hpp) and for tools and tests.
//
// - Commands are argument vectors (`{"SET", key, value}`), encoded by hiredis's
//   `redisFormatCommandArgv` as length-prefixed bulk strings: keys and values
//   are bytes (NUL, CR, LF, spaces) and can never change the command. There is
//   no API that takes a format string.
// - Every call has a budget, `options::timeout`, for waiting for a free
//   connection, sending and reading every reply. reliability.md finding 9: a
//   stopped (SIGSTOP) Redis still accepts TCP connections, so only a read
//   deadline catches it; this client polls the socket against the deadline
//   itself (it never blocks in read() or write()), so a trickle of bytes cannot
//   stretch a call either. Connecting has its own budget, `connect_timeout`
//   (so a call that opens a connection may take connect_timeout + timeout).
// - A connection that failed (I/O error, timeout, protocol error) is closed,
//   never reused: a late reply would otherwise answer the next command. The
//   next call connects again (reconnect). After a failure the client fails
//   fast (errc::unavailable, without touching the network) for
//   `retry_interval`, so that callers do not each pay the timeout while Redis
//   is down or hung; then it tries again. A call that finds a pooled
//   connection closed by the server (Redis restarted) retries once on a new
//   connection.
// - Writes use send(MSG_NOSIGNAL): a closed socket is an error, never a SIGPIPE.
// - `password` never appears in a message, `redacted_url()` or an error; AUTH
//   failures say which user failed, not with what.
//
// Uses only the hiredis API that 0.14 (Debian 12) and 1.x (Conan, vcpkg) share:
// redisConnectWithTimeout / redisConnectUnixWithTimeout, redisFormatCommandArgv,
// redisReaderFeed / redisReaderGetReply, freeReplyObject, redisFree, and the RESP2
// reply types. POSIX only (poll, send, recv).
//
// Example:
//
//   ormkit::redis::client redis({.host = "127.0.0.1", .port = 6379});
//   redis.command({"SET", "k", std::string_view("a\0b", 3)}).value();
//   auto r = redis.command({"GET", "k"}).value();   // r.str() == "a\0b"

#include <ormkit/cache.hpp>
#include <ormkit/error.hpp>
#include <ormkit/result.hpp>

#include <hiredis/hiredis.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>

namespace ormkit::redis {

//=== options ===//

/// Where and how to connect.
struct options {
  /// Host name or IP address (IPv6 without brackets). Ignored when `unix_socket` is set.
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  /// Path of a Unix domain socket; when not empty, used instead of host and port.
  std::string unix_socket{};
  /// ACL user for AUTH (Redis 6+); empty: `AUTH <password>` (the default user).
  std::string username{};
  /// Sent with AUTH when not empty. Never shown in a message.
  std::string password{};
  /// Logical database (SELECT), 0 by default.
  int database = 0;
  /// Budget for establishing one connection (TCP connect). Host names are resolved
  /// before it starts, by the system resolver, outside this budget.
  std::chrono::milliseconds connect_timeout{200};
  /// Budget for each call: waiting for a free connection, sending, and reading every reply.
  std::chrono::milliseconds timeout{200};
  /// After a connection failure, calls fail fast with errc::unavailable for this long.
  std::chrono::milliseconds retry_interval{250};
  /// Most connections open at once; calls beyond it wait (within `timeout`) for one.
  std::size_t pool_size = 4;

  /// Parses `redis://[[user]:password@]host[:port][/db]`, `host:port`, `host`,
  /// `[ipv6]:port` or `unix:/path/to/socket`; other fields keep their defaults.
  ///
  /// Errors: errc::invalid_argument naming the URL with its password replaced by `***`.
  static auto from_url(std::string_view url) -> result<options>;

  /// "127.0.0.1:6379", "[::1]:6379" or "unix:/path": the subject of every message.
  [[nodiscard]] auto endpoint() const -> std::string {
    if (!unix_socket.empty()) return "unix:" + unix_socket;
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    out += ':';
    out += std::to_string(port);
    return out;
  }

  /// The options as a URL with the password replaced by `***` (safe to log).
  [[nodiscard]] auto redacted_url() const -> std::string {
    std::string out = unix_socket.empty() ? "redis://" : "unix:";
    if (unix_socket.empty()) {
      if (!username.empty() || !password.empty()) {
        out += username;
        if (!password.empty()) out += ":***";
        out += '@';
      }
      out += endpoint();
      out += '/';
      out += std::to_string(database);
    } else {
      out += unix_socket;
    }
    return out;
  }
};

namespace detail {

// `url` with the password of its user-info part replaced by "***".
inline auto redact_url(std::string_view url) -> std::string {
  std::string out(url);
  const auto scheme = out.find("://");
  const std::size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  const auto at = out.rfind('@');
  if (at == std::string::npos || at < start) return out;
  const auto colon = out.find(':', start);
  if (colon == std::string::npos || colon > at) return out;
  out.replace(colon + 1, at - colon - 1, "***");
  return out;
}

inline auto bad_url(const std::string& redacted, std::string_view what) -> ormkit::error {
  return {errc::invalid_argument, ormkit::detail::concat({"redis url \"", redacted, "\": ", what})};
}

inline auto parse_port(std::string_view text, const std::string& redacted) -> result<std::uint16_t> {
  unsigned value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || value == 0 || value > 65535)
    return unexpected(bad_url(redacted, ormkit::detail::concat(
                                            {"port must be a number from 1 to 65535 (got \"", text, "\")"})));
  return static_cast<std::uint16_t>(value);
}

}  // namespace detail

inline auto options::from_url(std::string_view url) -> result<options> {
  const std::string redacted = detail::redact_url(url);
  options o;
  if (url.substr(0, 5) == "unix:") {
    std::string_view path = url.substr(5);
    while (path.substr(0, 2) == "//") path.remove_prefix(1);  // unix:///run/r.sock
    if (path.empty()) return unexpected(detail::bad_url(redacted, "the socket path is empty"));
    o.unix_socket = std::string(path);
    return o;
  }
  std::string_view rest = url;
  if (auto scheme = rest.find("://"); scheme != std::string_view::npos) {
    if (rest.substr(0, scheme) != "redis")
      return unexpected(detail::bad_url(
          redacted, ormkit::detail::concat({"unsupported scheme \"", rest.substr(0, scheme),
                                            "\" (use redis://, host:port or unix:/path)"})));
    rest.remove_prefix(scheme + 3);
  }
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view user_info = rest.substr(0, at);
    rest.remove_prefix(at + 1);
    if (auto colon = user_info.find(':'); colon != std::string_view::npos) {
      o.username = std::string(user_info.substr(0, colon));
      o.password = std::string(user_info.substr(colon + 1));
    } else {
      o.username = std::string(user_info);
    }
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    std::string_view db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty()) {
      int value = -1;
      auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), value);
      if (ec != std::errc() || p != db.data() + db.size() || value < 0)
        return unexpected(detail::bad_url(
            redacted, ormkit::detail::concat({"database must be a number of 0 or more (got \"", db, "\")"})));
      o.database = value;
    }
  }
  std::string_view host = rest;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return unexpected(detail::bad_url(redacted, "unclosed '[' in the host"));
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return unexpected(detail::bad_url(redacted, "expected ':' after ']'"));
      auto port = detail::parse_port(after.substr(1), redacted);
      if (!port) return unexpected(std::move(port).error());
      o.port = *port;
    }
  } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    auto port = detail::parse_port(rest.substr(colon + 1), redacted);
    if (!port) return unexpected(std::move(port).error());
    o.port = *port;
  }
  if (host.empty()) return unexpected(detail::bad_url(redacted, "the host is empty"));
  o.host = std::string(host);
  return o;
}

//=== replies ===//

/// The RESP2 reply types.
enum class reply_type { string, array, integer, nil, status, error, other };

/// A non-owning view of one reply (or one element of an array reply).
class reply_view {
 public:
  explicit reply_view(const redisReply* r) noexcept : r_(r) {}

  [[nodiscard]] auto type() const noexcept -> reply_type {
    switch (r_->type) {
      case REDIS_REPLY_STRING: return reply_type::string;
      case REDIS_REPLY_ARRAY: return reply_type::array;
      case REDIS_REPLY_INTEGER: return reply_type::integer;
      case REDIS_REPLY_NIL: return reply_type::nil;
      case REDIS_REPLY_STATUS: return reply_type::status;
      case REDIS_REPLY_ERROR: return reply_type::error;
      default: return reply_type::other;
    }
  }
  [[nodiscard]] auto is_nil() const noexcept -> bool { return r_->type == REDIS_REPLY_NIL; }
  [[nodiscard]] auto is_error() const noexcept -> bool { return r_->type == REDIS_REPLY_ERROR; }
  /// The bytes of a string, status or error reply ("" for other types).
  [[nodiscard]] auto str() const noexcept -> std::string_view {
    if (r_->type != REDIS_REPLY_STRING && r_->type != REDIS_REPLY_STATUS && r_->type != REDIS_REPLY_ERROR) return {};
    return {r_->str, static_cast<std::size_t>(r_->len)};
  }
  /// The value of an integer reply (0 for other types).
  [[nodiscard]] auto integer() const noexcept -> long long {
    return r_->type == REDIS_REPLY_INTEGER ? static_cast<long long>(r_->integer) : 0;
  }
  /// The number of elements of an array reply (0 for other types).
  [[nodiscard]] auto size() const noexcept -> std::size_t {
    return r_->type == REDIS_REPLY_ARRAY ? static_cast<std::size_t>(r_->elements) : 0;
  }
  /// Requires: `i < size()`.
  [[nodiscard]] auto operator[](std::size_t i) const noexcept -> reply_view { return reply_view(r_->element[i]); }

 private:
  const redisReply* r_;
};

/// An owning reply (move-only); the same accessors as `reply_view`.
class reply {
 public:
  reply() = default;
  explicit reply(void* raw) noexcept : r_(static_cast<redisReply*>(raw)) {}

  [[nodiscard]] auto view() const noexcept -> reply_view { return reply_view(r_.get()); }
  [[nodiscard]] auto type() const noexcept -> reply_type { return view().type(); }
  [[nodiscard]] auto is_nil() const noexcept -> bool { return view().is_nil(); }
  [[nodiscard]] auto is_error() const noexcept -> bool { return view().is_error(); }
  [[nodiscard]] auto str() const noexcept -> std::string_view { return view().str(); }
  [[nodiscard]] auto integer() const noexcept -> long long { return view().integer(); }
  [[nodiscard]] auto size() const noexcept -> std::size_t { return view().size(); }
  [[nodiscard]] auto operator[](std::size_t i) const noexcept -> reply_view { return view()[i]; }
  explicit operator bool() const noexcept { return r_ != nullptr; }

 private:
  struct deleter {
    void operator()(redisReply* r) const noexcept { freeReplyObject(r); }
  };
  std::unique_ptr<redisReply, deleter> r_;
};

/// Commands to send in one round trip (a pipeline). Holds views: the bytes
/// must stay valid until the batch has been run.
class command_batch {
 public:
  void add(std::initializer_list<std::string_view> argv) { add(std::span(argv.begin(), argv.size())); }
  void add(std::span<const std::string_view> argv) {
    argc_.push_back(argv.size());
    for (auto a : argv) {
      args_.push_back(a.data() ? a.data() : "");
      lens_.push_back(a.size());
    }
  }
  [[nodiscard]] auto size() const noexcept -> std::size_t { return argc_.size(); }
  [[nodiscard]] auto empty() const noexcept -> bool { return argc_.empty(); }
  void clear() noexcept {
    args_.clear();
    lens_.clear();
    argc_.clear();
  }

 private:
  friend class client;
  std::vector<const char*> args_;
  std::vector<std::size_t> lens_;
  std::vector<std::size_t> argc_;
};

/// What a client has counted since it was made.
struct client_stats {
  std::uint64_t connects = 0;          ///< connections established
  std::uint64_t connect_failures = 0;  ///< connection attempts that failed (refused, timed out, AUTH)
  std::uint64_t timeouts = 0;          ///< calls that ran out of their budget
  std::uint64_t io_errors = 0;         ///< connections lost or broken mid-call
  std::uint64_t fast_failures = 0;     ///< calls refused without trying, within `retry_interval` of a failure
  std::uint64_t retries = 0;           ///< calls retried on a new connection after finding a pooled one closed
};

namespace detail {

using clock = std::chrono::steady_clock;

#if defined(MSG_NOSIGNAL)
inline constexpr int send_flags = MSG_NOSIGNAL | MSG_DONTWAIT;
#else
inline constexpr int send_flags = MSG_DONTWAIT;  // SO_NOSIGPIPE is set on the socket instead
#endif

inline auto to_timeval(std::chrono::milliseconds ms) noexcept -> timeval {
  const auto v = ms.count() < 1 ? 1 : ms.count();
  timeval tv{};
  tv.tv_sec = static_cast<decltype(tv.tv_sec)>(v / 1000);
  tv.tv_usec = static_cast<decltype(tv.tv_usec)>((v % 1000) * 1000);
  return tv;
}

inline auto ms_text(std::chrono::milliseconds ms) -> std::string { return std::to_string(ms.count()) + " ms"; }

// How an exchange with the server ended.
enum class io_status { ok, timeout, closed, io_error, protocol_error };

// One connection: the hiredis context (socket and reply reader) and a reusable
// output buffer. Not thread-safe: the pool hands it to one caller at a time.
struct connection {
  redisContext* ctx = nullptr;
  std::string out;
  std::string detail;  // what went wrong in the last failed exchange
  bool reused = false;

  connection() = default;
  connection(const connection&) = delete;
  auto operator=(const connection&) -> connection& = delete;
  ~connection() {
    if (ctx) redisFree(ctx);
  }

  [[nodiscard]] auto fd() const noexcept -> int { return static_cast<int>(ctx->fd); }

  // Waits until `fd` is ready for `events` or `deadline` passes: 1 ready, 0 timeout, -1 error.
  static auto wait(int fd, short events, clock::time_point deadline) -> int {
    for (;;) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) return 0;
      pollfd p{fd, events, 0};
      const int rc = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1 << 30)));
      if (rc > 0) return 1;
      if (rc == 0) continue;  // re-check the deadline (poll may wake early)
      if (errno != EINTR) return -1;
    }
  }

  // Appends one command, encoded by hiredis, to `out`.
  auto append(std::size_t argc, const char* const* argv, const std::size_t* lens) -> bool {
    char* cmd = nullptr;
    auto len = redisFormatCommandArgv(&cmd, static_cast<int>(argc), const_cast<const char**>(argv), lens);
    if (len < 0 || cmd == nullptr) return false;
    out.append(cmd, static_cast<std::size_t>(len));
    redisFreeCommand(cmd);
    return true;
  }

  // Sends `out`, then reads `count` replies, handing each to `on_reply(void*)`
  // (which takes ownership), all before `deadline`. `received` counts the
  // replies handed over (it is the index of the one being handed over).
  template <class F>
  auto exchange(std::size_t count, clock::time_point deadline, F&& on_reply, std::size_t& received) -> io_status {
    received = 0;
    if (const auto s = flush(deadline); s != io_status::ok) return s;
    char buf[16384];
    while (received < count) {
      void* raw = nullptr;
      if (redisReaderGetReply(ctx->reader, &raw) != REDIS_OK) {
        detail = ctx->reader->errstr;
        return io_status::protocol_error;
      }
      if (raw != nullptr) {
        on_reply(raw);
        ++received;
        continue;
      }
      const int w = wait(fd(), POLLIN, deadline);
      if (w == 0) return io_status::timeout;
      if (w < 0) return fail_errno(io_status::io_error);
      if (const auto s = receive(buf, sizeof buf); s != io_status::ok) return s;
    }
    return io_status::ok;
  }

  // Reads what the socket has (one recv) into the reply reader.
  auto receive(char* buf, std::size_t size) -> io_status {
    const ssize_t n = ::recv(fd(), buf, size, MSG_DONTWAIT);
    if (n > 0) {
      if (redisReaderFeed(ctx->reader, buf, static_cast<std::size_t>(n)) != REDIS_OK) {
        detail = ctx->reader->errstr;
        return io_status::protocol_error;
      }
      return io_status::ok;
    }
    if (n == 0) {
      detail = "server closed the connection";
      return io_status::closed;
    }
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) return io_status::ok;
    return fail_errno(errno == ECONNRESET ? io_status::closed : io_status::io_error);
  }

  // Sends all of `out` before `deadline`, then empties it.
  auto flush(clock::time_point deadline) -> io_status {
    std::size_t sent = 0;
    while (sent < out.size()) {
      const ssize_t n = ::send(fd(), out.data() + sent, out.size() - sent, send_flags);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        const int w = wait(fd(), POLLOUT, deadline);
        if (w == 0) return io_status::timeout;
        if (w < 0) return fail_errno(io_status::io_error);
        continue;
      }
      return fail_errno(errno == EPIPE || errno == ECONNRESET ? io_status::closed : io_status::io_error);
    }
    out.clear();
    return io_status::ok;
  }

  auto fail_errno(io_status s) -> io_status {
    detail = std::strerror(errno);
    return s;
  }
};

// "NOAUTH Authentication required." -> errc and native code.
inline auto classify_error_reply(std::string_view text) -> std::pair<errc, std::string> {
  const std::string code(text.substr(0, text.find(' ')));
  if (code == "LOADING" || code == "MASTERDOWN" || code == "TRYAGAIN" || code == "CLUSTERDOWN")
    return {errc::unavailable, code};
  if (code == "BUSY") return {errc::busy, code};
  if (code == "READONLY") return {errc::readonly, code};
  if (code == "OOM") return {errc::full, code};
  return {errc::backend_error, code};
}

}  // namespace detail

//=== client ===//

/// A thread-safe pool of connections to one Redis server. See the header comment.
class client {
 public:
  /// Connects lazily: the first call opens the first connection.
  explicit client(options o) : options_(std::move(o)), endpoint_(options_.endpoint()) {
    if (options_.pool_size == 0) options_.pool_size = 1;
  }
  client(const client&) = delete;
  auto operator=(const client&) -> client& = delete;
  ~client() = default;

  [[nodiscard]] auto config() const noexcept -> const options& { return options_; }
  /// "127.0.0.1:6379": how messages name this server.
  [[nodiscard]] auto endpoint() const noexcept -> const std::string& { return endpoint_; }

  /// Runs one command; an error reply becomes an error (errc::backend_error, or
  /// unavailable / busy / readonly / full by its code, with the code in `native`).
  /// `what` names the command in messages (default: the command name); pass it
  /// when the key is worth naming.
  auto command(std::initializer_list<std::string_view> argv, std::string_view what = {}) -> result<reply> {
    return command(std::span(argv.begin(), argv.size()), what);
  }
  auto command(std::span<const std::string_view> argv, std::string_view what = {}) -> result<reply> {
    constexpr std::size_t inline_args = 8;
    const char* ptrs_inline[inline_args];
    std::size_t lens_inline[inline_args];
    std::vector<const char*> ptrs_heap;
    std::vector<std::size_t> lens_heap;
    const char** ptrs = ptrs_inline;
    std::size_t* lens = lens_inline;
    if (argv.size() > inline_args) {
      ptrs_heap.resize(argv.size());
      lens_heap.resize(argv.size());
      ptrs = ptrs_heap.data();
      lens = lens_heap.data();
    }
    for (std::size_t i = 0; i < argv.size(); ++i) {
      ptrs[i] = argv[i].data() ? argv[i].data() : "";
      lens[i] = argv[i].size();
    }
    const std::string_view name = what.empty() && !argv.empty() ? argv[0] : what;
    reply out;
    auto st = run(
        name, 1, [&](detail::connection& c) { return c.append(argv.size(), ptrs, lens); },
        [&](std::size_t, void* raw) { out = reply(raw); });
    if (!st) return unexpected(std::move(st).error());
    if (out.is_error()) return unexpected(reply_error(out.view(), name));
    return out;
  }

  /// Sends every command of `batch` in one round trip and returns their replies
  /// in order. Error replies are returned as replies (check `is_error()`), so
  /// one failed command does not hide the others' results.
  auto pipeline(const command_batch& batch, std::string_view what = "pipeline") -> result<std::vector<reply>> {
    std::vector<reply> out;
    out.reserve(batch.size());
    auto st = pipeline(batch, what, [&](std::size_t, reply_view) {}, &out);
    if (!st) return unexpected(std::move(st).error());
    return out;
  }

  /// Like `pipeline(batch)`, but hands each reply to `on_reply(index, view)`
  /// while it is alive instead of returning it; the view is valid only during
  /// the call.
  template <class F>
  auto pipeline(const command_batch& batch, std::string_view what, F&& on_reply, std::vector<reply>* keep = nullptr)
      -> status {
    if (batch.empty()) return {};
    return run(
        what, batch.size(),
        [&](detail::connection& c) {
          std::size_t arg = 0;
          for (std::size_t argc : batch.argc_) {
            if (!c.append(argc, batch.args_.data() + arg, batch.lens_.data() + arg)) return false;
            arg += argc;
          }
          return true;
        },
        [&](std::size_t i, void* raw) {
          reply r(raw);
          on_reply(i, r.view());
          if (keep) keep->push_back(std::move(r));
        });
  }

  /// Sends PING; succeeds when the server answers PONG within the budget.
  auto ping() -> status {
    auto r = command({"PING"});
    if (!r) return unexpected(std::move(r).error());
    return {};
  }

  /// A snapshot of the counters.
  [[nodiscard]] auto stats() const noexcept -> client_stats {
    client_stats s;
    s.connects = connects_.load(std::memory_order_relaxed);
    s.connect_failures = connect_failures_.load(std::memory_order_relaxed);
    s.timeouts = timeouts_.load(std::memory_order_relaxed);
    s.io_errors = io_errors_.load(std::memory_order_relaxed);
    s.fast_failures = fast_failures_.load(std::memory_order_relaxed);
    s.retries = retries_.load(std::memory_order_relaxed);
    return s;
  }

  /// The pool's connections and `stats()` as resource metrics, for persistence_manager.
  [[nodiscard]] auto resource_metrics() const -> std::vector<resource_metric> {
    std::size_t open = 0;
    std::size_t idle = 0;
    {
      std::lock_guard lock(mu_);
      open = open_;
      idle = idle_.size();
    }
    const auto s = stats();
    using k = resource_metric::kind;
    return {
        {"connections", "Connections open to Redis (or being opened).", k::gauge, open},
        {"in_use", "Connections busy with a call right now.", k::gauge, open - idle},
        {"idle", "Connections waiting in the pool.", k::gauge, idle},
        {"max_connections", "The pool's limit on open connections.", k::gauge, options_.pool_size},
        {"connects", "Connections established.", k::counter, s.connects},
        {"connect_failures", "Connection attempts that failed.", k::counter, s.connect_failures},
        {"timeouts", "Calls that ran out of their budget.", k::counter, s.timeouts},
        {"io_errors", "Connections lost or broken mid-call.", k::counter, s.io_errors},
        {"fast_failures", "Calls refused without trying, soon after a failure.", k::counter, s.fast_failures},
        {"retries", "Calls retried on a new connection.", k::counter, s.retries},
    };
  }

  /// Turns an error reply into an error naming the server and `what`.
  [[nodiscard]] auto reply_error(reply_view r, std::string_view what) const -> ormkit::error {
    auto [code, native] = detail::classify_error_reply(r.str());
    return {code, ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": ", r.str()}), native};
  }

  /// Opens a connection outside the pool (for a subscriber, which keeps its
  /// connection for itself). Same budget, AUTH and SELECT as pooled ones.
  auto open_connection() -> result<std::unique_ptr<detail::connection>> { return connect(); }

  /// The error for an exchange on `c` that ended with `s` (for users of `open_connection`).
  [[nodiscard]] auto io_error(const detail::connection& c, detail::io_status s, std::string_view what) const
      -> ormkit::error {
    switch (s) {
      case detail::io_status::timeout:
        return {errc::timeout, ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": no reply within ",
                                                       detail::ms_text(options_.timeout)})};
      case detail::io_status::closed:
        return {errc::unavailable,
                ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": connection lost (", c.detail, ")"})};
      case detail::io_status::protocol_error:
        return {errc::corrupt,
                ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": protocol error (", c.detail, ")"})};
      case detail::io_status::io_error:
      case detail::io_status::ok:
        break;
    }
    return {errc::unavailable, ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": ", c.detail})};
  }

 private:
  // Acquires a connection, lets `build` append the commands, exchanges them,
  // and returns the connection to the pool (or closes it after a failure).
  template <class Build, class OnReply>
  auto run(std::string_view what, std::size_t count, Build&& build, OnReply&& on_reply) -> status {
    const auto deadline = detail::clock::now() + options_.timeout;
    for (int attempt = 0;; ++attempt) {
      auto lease = acquire(deadline, what);
      if (!lease) return unexpected(std::move(lease).error());
      std::unique_ptr<detail::connection> c = std::move(*lease);
      c->out.clear();
      if (!build(*c)) {
        release(std::move(c));
        return unexpected(errc::invalid_argument,
                          ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": cannot encode the command"}));
      }
      std::size_t received = 0;
      const auto s = c->exchange(count, deadline, [&](void* raw) { on_reply(received, raw); }, received);
      if (s == detail::io_status::ok) {
        c->reused = true;
        release(std::move(c));
        return {};
      }
      // A pooled connection the server closed while it sat idle (a restart):
      // nothing was answered, so running the commands again is safe.
      if (s == detail::io_status::closed && c->reused && received == 0 && attempt == 0) {
        retries_.fetch_add(1, std::memory_order_relaxed);
        discard(std::move(c));
        continue;
      }
      if (s == detail::io_status::timeout) timeouts_.fetch_add(1, std::memory_order_relaxed);
      else io_errors_.fetch_add(1, std::memory_order_relaxed);
      auto e = io_error(*c, s, what);
      trip(e.message);
      discard(std::move(c));
      return unexpected(std::move(e));
    }
  }

  auto acquire(detail::clock::time_point deadline, std::string_view what)
      -> result<std::unique_ptr<detail::connection>> {
    std::unique_lock lock(mu_);
    for (;;) {
      const auto now = detail::clock::now();
      if (now < down_until_) {
        fast_failures_.fetch_add(1, std::memory_order_relaxed);
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(down_until_ - now);
        return unexpected(errc::unavailable,
                          ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": unavailable, next attempt in ",
                                                  detail::ms_text(left), " (last error: ", last_error_, ")"}));
      }
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());
        idle_.pop_back();
        return c;
      }
      if (open_ < options_.pool_size) {
        ++open_;
        lock.unlock();
        auto c = connect();
        if (!c) {
          lock.lock();
          --open_;
          cv_.notify_one();
          lock.unlock();
          trip(c.error().message);
          return unexpected(std::move(c).error());
        }
        return std::move(*c);
      }
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          open_ >= options_.pool_size) {
        timeouts_.fetch_add(1, std::memory_order_relaxed);
        return unexpected(errc::timeout,
                          ormkit::detail::concat({"redis ", endpoint_, ": ", what, ": all ",
                                                  std::to_string(options_.pool_size), " connections stayed busy for ",
                                                  detail::ms_text(options_.timeout)}));
      }
    }
  }

  void release(std::unique_ptr<detail::connection> c) {
    std::lock_guard lock(mu_);
    idle_.push_back(std::move(c));
    cv_.notify_one();
  }

  void discard(std::unique_ptr<detail::connection> c) {
    c.reset();
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
  }

  // After a failure: fail fast for retry_interval, and close the idle
  // connections (they most likely share the failure).
  void trip(const std::string& message) {
    std::vector<std::unique_ptr<detail::connection>> closing;
    {
      std::lock_guard lock(mu_);
      down_until_ = detail::clock::now() + options_.retry_interval;
      last_error_ = message;
      closing.swap(idle_);
      open_ -= closing.size();
      cv_.notify_all();
    }
  }

  auto connect() -> result<std::unique_ptr<detail::connection>> {
    const timeval tv = detail::to_timeval(options_.connect_timeout);
    auto c = std::make_unique<detail::connection>();
    errno = 0;
    c->ctx = options_.unix_socket.empty() ? redisConnectWithTimeout(options_.host.c_str(), options_.port, tv)
                                          : redisConnectUnixWithTimeout(options_.unix_socket.c_str(), tv);
    const int saved_errno = errno;
    if (c->ctx == nullptr) {
      connect_failures_.fetch_add(1, std::memory_order_relaxed);
      return unexpected(errc::unavailable,
                        ormkit::detail::concat({"redis ", endpoint_, ": cannot connect: out of memory"}));
    }
    if (c->ctx->err != 0) {
      connect_failures_.fetch_add(1, std::memory_order_relaxed);
      const std::string_view text = c->ctx->errstr;
      bool timed_out = saved_errno == ETIMEDOUT || text == std::strerror(ETIMEDOUT) ||
                       text.find("timed out") != std::string_view::npos ||
                       text.find("Timeout") != std::string_view::npos;
#if defined(REDIS_ERR_TIMEOUT)
      timed_out = timed_out || c->ctx->err == REDIS_ERR_TIMEOUT;
#endif
      if (timed_out)
        return unexpected(errc::timeout, ormkit::detail::concat({"redis ", endpoint_, ": connect timed out after ",
                                                                 detail::ms_text(options_.connect_timeout)}));
      return unexpected(errc::unavailable,
                        ormkit::detail::concat({"redis ", endpoint_, ": cannot connect: ", text}));
    }
    // Not inherited across exec; no SIGPIPE where MSG_NOSIGNAL does not exist.
    const int fd = c->fd();
    if (int flags = ::fcntl(fd, F_GETFD); flags >= 0) ::fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
#if !defined(MSG_NOSIGNAL) && defined(SO_NOSIGPIPE)
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#endif
    if (options_.unix_socket.empty()) redisEnableKeepAlive(c->ctx);

    const auto deadline = detail::clock::now() + options_.timeout;
    if (!options_.password.empty()) {
      const std::string_view auth = "AUTH";
      std::string_view args[3] = {auth, options_.username, options_.password};
      const std::size_t argc = options_.username.empty() ? 2 : 3;
      if (argc == 2) args[1] = options_.password;
      if (auto st = handshake(*c, std::span(args, argc), deadline, "AUTH"); !st) {
        connect_failures_.fetch_add(1, std::memory_order_relaxed);
        auto e = std::move(st).error();
        if (!options_.username.empty()) e.message += ormkit::detail::concat({" (user \"", options_.username, "\")"});
        return unexpected(std::move(e));
      }
    }
    if (options_.database != 0) {
      const std::string db = std::to_string(options_.database);
      const std::string_view args[2] = {"SELECT", db};
      if (auto st = handshake(*c, std::span(args, 2), deadline, ormkit::detail::concat({"SELECT ", db})); !st) {
        connect_failures_.fetch_add(1, std::memory_order_relaxed);
        return unexpected(std::move(st).error());
      }
    }
    connects_.fetch_add(1, std::memory_order_relaxed);
    return c;
  }

  // One command on a connection that is not in the pool yet.
  auto handshake(detail::connection& c, std::span<const std::string_view> argv, detail::clock::time_point deadline,
                 std::string_view what) -> status {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    for (auto a : argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    c.out.clear();
    c.append(argv.size(), ptrs.data(), lens.data());
    reply r;
    std::size_t received = 0;
    const auto s = c.exchange(1, deadline, [&](void* raw) { r = reply(raw); }, received);
    if (s != detail::io_status::ok) return unexpected(io_error(c, s, what));
    if (r.is_error()) return unexpected(reply_error(r.view(), what));
    return {};
  }

  options options_;
  std::string endpoint_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<detail::connection>> idle_;
  std::size_t open_ = 0;
  detail::clock::time_point down_until_{};
  std::string last_error_;
  std::atomic<std::uint64_t> connects_{0}, connect_failures_{0}, timeouts_{0}, io_errors_{0}, fast_failures_{0},
      retries_{0};
};

}  // namespace ormkit::redis
