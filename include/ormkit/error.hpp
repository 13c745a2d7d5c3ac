// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/error.hpp
//
// The run-time error vocabulary: a closed `errc` wired into `std::error_code`,
// the `error` value every operation reports, and `exception`, thrown only by
// `result<T>::value()` on an error and by constructors that cannot return one.
//
// Example:
//
//   ormkit::error e{ormkit::errc::not_found, "users: no row with id=42"};
//   e.code == ormkit::errc::not_found;   // true
//   ormkit::exception(e).what();         // "[ormkit.not_found] users: no row with id=42"

#include <initializer_list>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace ormkit {

/// Outcomes that callers handle. Values are stable: they may be stored or logged.
enum class errc {
  not_found = 1,          ///< no row with that key
  validation_failed = 2,  ///< a rule rejected the entity; `error::violations` lists all
  conflict = 3,           ///< unique / primary key / foreign key / version conflict
  busy = 4,               ///< locked by another writer; transient, retried by policy
  unavailable = 5,        ///< backend or cache cannot be reached; transient
  timeout = 6,            ///< a deadline passed
  corrupt = 7,            ///< stored data is damaged or unreadable
  schema_mismatch = 8,    ///< stored schema differs from the descriptors
  invalid_argument = 9,   ///< a value cannot be represented (range, encoding, size)
  io_error = 10,          ///< the operating system failed a read or write
  readonly = 11,          ///< the database is opened read-only
  full = 12,              ///< disk or database full
  cannot_open = 13,       ///< the database file or server cannot be opened
  transaction_state = 14, ///< the call is not valid in the current transaction state
  commit_unknown = 15,    ///< the outcome of a commit is unknown (connection lost mid-commit)
  unsupported = 16,       ///< the backend does not support the operation
  backend_error = 17,     ///< any other backend failure; `error::native` has the details
  rejected = 18,          ///< a hook vetoed the operation (nothing was written)
};

/// Returns the stable name of `code` ("not_found", ...), or "unknown".
[[nodiscard]] constexpr auto to_string(errc code) noexcept -> std::string_view {
  switch (code) {
    case errc::not_found: return "not_found";
    case errc::validation_failed: return "validation_failed";
    case errc::conflict: return "conflict";
    case errc::busy: return "busy";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::corrupt: return "corrupt";
    case errc::schema_mismatch: return "schema_mismatch";
    case errc::invalid_argument: return "invalid_argument";
    case errc::io_error: return "io_error";
    case errc::readonly: return "readonly";
    case errc::full: return "full";
    case errc::cannot_open: return "cannot_open";
    case errc::transaction_state: return "transaction_state";
    case errc::commit_unknown: return "commit_unknown";
    case errc::unsupported: return "unsupported";
    case errc::backend_error: return "backend_error";
    case errc::rejected: return "rejected";
  }
  return "unknown";
}

/// Returns true for the categories a retry policy may retry (busy, unavailable, timeout).
[[nodiscard]] constexpr auto is_transient(errc code) noexcept -> bool {
  return code == errc::busy || code == errc::unavailable || code == errc::timeout;
}

namespace detail {
class error_category_impl final : public std::error_category {
 public:
  [[nodiscard]] auto name() const noexcept -> const char* override { return "ormkit"; }
  [[nodiscard]] auto message(int value) const -> std::string override {
    return std::string(to_string(static_cast<errc>(value)));
  }
};
}  // namespace detail

/// Returns the category of `errc` values; its name is "ormkit".
[[nodiscard]] inline auto error_category() noexcept -> const std::error_category& {
  static const detail::error_category_impl category;
  return category;
}

[[nodiscard]] inline auto make_error_code(errc code) noexcept -> std::error_code {
  return {static_cast<int>(code), error_category()};
}

namespace detail {
/// Concatenates `parts` into one message. Out of line on purpose: GCC 12 at -O2
/// reports a false -Warray-bounds when `std::string(a) + "b"` is inlined into
/// template code (GCC PR 105651), which -Werror turns into a build failure.
[[gnu::noinline]] inline auto concat(std::initializer_list<std::string_view> parts) -> std::string {
  std::size_t n = 0;
  for (auto p : parts) n += p.size();
  std::string out;
  out.reserve(n);
  for (auto p : parts) out.append(p);
  return out;
}
}  // namespace detail

/// One broken rule: `users.email` / `email` / `must be a valid e-mail address (got "x@")`.
struct violation {
  std::string column;   ///< column name, or empty for an entity-level rule
  std::string rule;     ///< rule name: "email", "length", or a custom rule's name
  std::string message;  ///< full message, subject first; no value for `secret` columns

  friend auto operator==(const violation&, const violation&) -> bool = default;
};

/// What every failed operation reports.
///
/// `message` is lowercase, subject first, includes the values involved and never a
/// secret. `native` keeps the backend's own code (SQLite extended result code,
/// PostgreSQL SQLSTATE) when there is one.
struct error {
  std::error_code code;
  std::string message;
  std::string native;
  std::vector<violation> violations;  ///< filled for errc::validation_failed

  error() = default;
  error(errc c, std::string msg, std::string native_code = {})
      : code(make_error_code(c)), message(std::move(msg)), native(std::move(native_code)) {}
  error(std::error_code c, std::string msg, std::string native_code = {})
      : code(c), message(std::move(msg)), native(std::move(native_code)) {}

  /// Returns true when the error is `c` (only ormkit codes compare equal).
  [[nodiscard]] auto is(errc c) const noexcept -> bool { return code == make_error_code(c); }

  /// Returns "[ormkit.<code>] <message>", the form exceptions and logs use.
  [[nodiscard]] auto describe() const -> std::string {
    std::string out = "[";
    out += code.category().name();
    out += '.';
    out += code.category() == error_category() ? std::string(to_string(static_cast<errc>(code.value())))
                                               : code.message();
    out += "] ";
    out += message;
    return out;
  }
};

/// Thrown by `result<T>::value()` on an error; carries the whole `error`.
class exception : public std::system_error {
 public:
  explicit exception(ormkit::error e)
      : std::system_error(e.code), what_(e.describe()), error_(std::move(e)) {}
  [[nodiscard]] auto error() const noexcept -> const ormkit::error& { return error_; }
  [[nodiscard]] auto what() const noexcept -> const char* override { return what_.c_str(); }

 private:
  std::string what_;
  ormkit::error error_;
};

}  // namespace ormkit

template <>
struct std::is_error_code_enum<ormkit::errc> : std::true_type {};
