// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/reflect.hpp
//
// The only header that includes Boost.PFR (core only: never the umbrella).
// T: an aggregate entity type.

#include <boost/pfr/core.hpp>
#include <boost/pfr/tuple_size.hpp>

#include <cstddef>

namespace ormkit::detail {

template <class T>
inline constexpr std::size_t field_count = boost::pfr::tuple_size_v<T>;

template <std::size_t I, class T>
using field_type = boost::pfr::tuple_element_t<I, T>;

}  // namespace ormkit::detail
