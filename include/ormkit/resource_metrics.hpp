// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/resource_metrics.hpp
//
// What a connection pool or a client reports about its connections, in one neutral
// shape the persistence manager renders without knowing the type behind it:
// `postgres::pool` (size, in use, idle, waits, timeouts, reconnects, ...),
// `redis::store` and `redis::two_level_store` (connects, timeouts, I/O errors, ...).
// A type reports by having
//
//   auto resource_metrics() const -> std::vector<ormkit::resource_metric>;
//
// `persistence_manager::metrics_prometheus()` shows a backend's as
// `<prefix>_backend_<name>` (gauges) and `<prefix>_backend_<name>_total` (counters), a
// cache store's as `<prefix>_cache_client_<name>[_total]`; `metrics_json()` under
// "backend_resources" and "cache_resources".

#include <concepts>
#include <cstdint>
#include <string_view>
#include <vector>

namespace ormkit {

/// One number about a pool's or a client's connections.
struct resource_metric {
  enum class kind : unsigned char {
    gauge,   ///< a level that goes up and down (connections open, in use)
    counter  ///< a count that only grows (waits, reconnects)
  };
  std::string_view name;  ///< lower snake_case, unique within its source ("in_use")
  std::string_view help;  ///< one line of text
  kind type = kind::gauge;
  std::uint64_t value = 0;
};

/// A type that reports `resource_metric`s.
template <class T>
concept reports_resource_metrics = requires(const T& t) {
  { t.resource_metrics() } -> std::same_as<std::vector<resource_metric>>;
};

}  // namespace ormkit
