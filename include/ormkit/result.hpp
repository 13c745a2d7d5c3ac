// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/result.hpp
//
// `result<T>`: a value or an `ormkit::error`, with the member set of
// `std::expected` (has_value, operator bool, value, error, value_or, and_then,
// transform, or_else). `value()` on an error throws `ormkit::exception`.
// `result<void>` is the status type. `unexpected(e)` builds an error result.
//
// Example:
//
//   ormkit::result<int> r = 42;
//   ormkit::result<int> e = ormkit::unexpected(ormkit::errc::not_found, "users: no row with id=1");
//   r.value_or(0) + e.value_or(0);   // 42

#include <ormkit/error.hpp>

#include <type_traits>
#include <utility>
#include <new>

namespace ormkit {

/// Wraps an `error` so that it converts to any `result<T>`.
struct unexpected {
  ormkit::error error;
  explicit unexpected(ormkit::error e) : error(std::move(e)) {}
  unexpected(errc code, std::string message, std::string native = {})
      : error(code, std::move(message), std::move(native)) {}
};

template <class T>
class [[nodiscard]] result;

namespace detail {
template <class R>
struct is_result : std::false_type {};
template <class T>
struct is_result<result<T>> : std::true_type {};
}  // namespace detail

/// A `T` or an `error`. A plain tagged union rather than std::variant: result<T>
/// is instantiated for every entity, and this keeps that cheap to compile.
template <class T>
class [[nodiscard]] result {
  static_assert(!std::is_reference_v<T>, "ormkit: result<T&> is not supported; use result<T*> or std::reference_wrapper");

 public:
  using value_type = T;
  using error_type = ormkit::error;

  result() requires std::is_default_constructible_v<T> : ok_(true) { ::new (&value_) T(); }
  template <class U = T>
    requires(std::is_constructible_v<T, U &&> && !std::is_same_v<std::remove_cvref_t<U>, result> &&
             !std::is_same_v<std::remove_cvref_t<U>, unexpected> &&
             !std::is_same_v<std::remove_cvref_t<U>, ormkit::error>)
  result(U&& v) : ok_(true) {  // NOLINT: implicit like std::expected
    ::new (&value_) T(std::forward<U>(v));
  }
  result(unexpected e) : ok_(false) { ::new (&error_) ormkit::error(std::move(e.error)); }  // NOLINT
  result(ormkit::error e) : ok_(false) { ::new (&error_) ormkit::error(std::move(e)); }     // NOLINT

  result(const result& o) : ok_(o.ok_) {
    if (ok_) ::new (&value_) T(o.value_);
    else ::new (&error_) ormkit::error(o.error_);
  }
  result(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(o.ok_) {
    if (ok_) ::new (&value_) T(std::move(o.value_));
    else ::new (&error_) ormkit::error(std::move(o.error_));
  }
  auto operator=(const result& o) -> result& {
    if (this != &o) {
      destroy();
      ok_ = o.ok_;
      if (ok_) ::new (&value_) T(o.value_);
      else ::new (&error_) ormkit::error(o.error_);
    }
    return *this;
  }
  auto operator=(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) -> result& {
    if (this != &o) {
      destroy();
      ok_ = o.ok_;
      if (ok_) ::new (&value_) T(std::move(o.value_));
      else ::new (&error_) ormkit::error(std::move(o.error_));
    }
    return *this;
  }
  ~result() { destroy(); }

  [[nodiscard]] auto has_value() const noexcept -> bool { return ok_; }
  explicit operator bool() const noexcept { return ok_; }

  /// Returns the value. Throws: `ormkit::exception` carrying the error.
  auto value() & -> T& {
    check();
    return value_;
  }
  auto value() const& -> const T& {
    check();
    return value_;
  }
  /// On an rvalue returns the value itself (not a reference), so that
  /// `for (auto& x : repo.find(q).value())` does not iterate a destroyed temporary.
  auto value() && -> T {
    check();
    return std::move(value_);
  }

  /// Requires: `has_value()`.
  auto operator*() & noexcept -> T& { return value_; }
  auto operator*() const& noexcept -> const T& { return value_; }
  auto operator*() && -> T { return std::move(value_); }
  auto operator->() noexcept -> T* { return &value_; }
  auto operator->() const noexcept -> const T* { return &value_; }

  /// Requires: `!has_value()`.
  [[nodiscard]] auto error() const& noexcept -> const ormkit::error& { return error_; }
  [[nodiscard]] auto error() && noexcept -> ormkit::error&& { return std::move(error_); }

  template <class U>
  [[nodiscard]] auto value_or(U&& fallback) const& -> T {
    return ok_ ? value_ : static_cast<T>(std::forward<U>(fallback));
  }
  template <class U>
  [[nodiscard]] auto value_or(U&& fallback) && -> T {
    return ok_ ? std::move(value_) : static_cast<T>(std::forward<U>(fallback));
  }

  /// Calls `f(value)` (which returns a result) or propagates the error.
  template <class F>
  auto and_then(F&& f) const& {
    using R = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
    static_assert(detail::is_result<R>::value, "ormkit: and_then needs a function returning ormkit::result<U>; use transform for plain values");
    return ok_ ? std::forward<F>(f)(value_) : R(error_);
  }
  template <class F>
  auto and_then(F&& f) && {
    using R = std::remove_cvref_t<std::invoke_result_t<F, T&&>>;
    static_assert(detail::is_result<R>::value, "ormkit: and_then needs a function returning ormkit::result<U>; use transform for plain values");
    return ok_ ? std::forward<F>(f)(std::move(value_)) : R(std::move(error_));
  }

  /// Returns `result<U>` holding `f(value)`, or the error.
  template <class F>
  auto transform(F&& f) const& {
    using U = std::remove_cvref_t<std::invoke_result_t<F, const T&>>;
    if constexpr (std::is_void_v<U>) {
      // result<U>, not result<void>: a dependent name, so the explicit specialization
      // below is found at instantiation (clang instantiates non-dependent ones here).
      if (!ok_) return result<U>(error_);
      std::forward<F>(f)(value_);
      return result<U>();
    } else {
      return ok_ ? result<U>(std::forward<F>(f)(value_)) : result<U>(error_);
    }
  }

  /// Calls `f(error)` (which returns a `result<T>`) on an error, else keeps the value.
  template <class F>
  auto or_else(F&& f) const& -> result {
    return ok_ ? *this : result(std::forward<F>(f)(error_));
  }

 private:
  void check() const {
    if (!ok_) throw exception(error_);
  }
  void destroy() noexcept {
    if (ok_) value_.~T();
    else error_.~error();
  }

  union {
    T value_;
    ormkit::error error_;
  };
  bool ok_;
};

/// The status type: success, or an `error`.
template <>
class [[nodiscard]] result<void> {
 public:
  using value_type = void;
  using error_type = ormkit::error;

  // Success constructs no `error` (it sits in a union): a status is passed on
  // every call of every operation, and the happy path should cost a bool.
  result() noexcept {}  // NOLINT: the union member stays unconstructed
  result(unexpected e) : failed_(true) { ::new (&error_) ormkit::error(std::move(e.error)); }  // NOLINT
  result(ormkit::error e) : failed_(true) { ::new (&error_) ormkit::error(std::move(e)); }     // NOLINT
  result(const result& o) : failed_(o.failed_) {
    if (failed_) ::new (&error_) ormkit::error(o.error_);
  }
  result(result&& o) noexcept : failed_(o.failed_) {
    if (failed_) ::new (&error_) ormkit::error(std::move(o.error_));
  }
  auto operator=(const result& o) -> result& {
    if (this != &o) {
      destroy();
      failed_ = o.failed_;
      if (failed_) ::new (&error_) ormkit::error(o.error_);
    }
    return *this;
  }
  auto operator=(result&& o) noexcept -> result& {
    if (this != &o) {
      destroy();
      failed_ = o.failed_;
      if (failed_) ::new (&error_) ormkit::error(std::move(o.error_));
    }
    return *this;
  }
  // Success costs a test of the flag wherever a status goes out of scope; an error's
  // destruction is out of line.
  [[gnu::always_inline]] ~result() {
    if (failed_) [[unlikely]]
      destroy_error();
  }

  [[nodiscard]] auto has_value() const noexcept -> bool { return !failed_; }
  explicit operator bool() const noexcept { return !failed_; }

  /// Throws `ormkit::exception` on an error.
  void value() const {
    if (failed_) throw exception(error_);
  }
  void operator*() const noexcept {}

  /// The error; on success an empty one (code 0, no message).
  [[nodiscard]] auto error() const& noexcept -> const ormkit::error& { return failed_ ? error_ : none(); }
  [[nodiscard]] auto error() && -> ormkit::error { return failed_ ? std::move(error_) : ormkit::error{}; }

  template <class F>
  auto and_then(F&& f) const {
    using R = std::remove_cvref_t<std::invoke_result_t<F>>;
    static_assert(detail::is_result<R>::value, "ormkit: and_then needs a function returning ormkit::result<U>; use transform for plain values");
    return failed_ ? R(error_) : std::forward<F>(f)();
  }
  template <class F>
  auto transform(F&& f) const {
    using U = std::remove_cvref_t<std::invoke_result_t<F>>;
    if constexpr (std::is_void_v<U>) {
      if (failed_) return result<void>(error_);
      std::forward<F>(f)();
      return result<void>();
    } else {
      return failed_ ? result<U>(error_) : result<U>(std::forward<F>(f)());
    }
  }
  template <class F>
  auto or_else(F&& f) const -> result {
    return failed_ ? result(std::forward<F>(f)(error_)) : *this;
  }

 private:
  void destroy() noexcept {
    if (failed_) error_.~error();
  }
  [[gnu::noinline]] void destroy_error() noexcept { error_.~error(); }
  static auto none() noexcept -> const ormkit::error& {
    static const ormkit::error empty;
    return empty;
  }

  union {
    ormkit::error error_;
  };
  bool failed_ = false;
};

using status = result<void>;

}  // namespace ormkit

/// Evaluates `expr` (a `result<T>`); on error returns the error from the calling
/// function, otherwise yields nothing. For library internals and user code alike.
#define ORMKIT_TRY(expr)                                               \
  do {                                                                 \
    if (auto&& ormkit_try_r_ = (expr); !ormkit_try_r_.has_value())     \
      return ::ormkit::unexpected(std::move(ormkit_try_r_).error());   \
  } while (false)
