// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/list.hpp
//
// A minimal constexpr heterogeneous list for descriptors. std::tuple (and
// above all std::tuple_cat) costs far more to instantiate; descriptors are
// built for every entity, so this stays tiny: one leaf base per element,
// aggregate initialization, `get<I>` by base-class deduction.
// Ts: element types.

#include <cstddef>
#include <tuple>  // std::tuple_size / std::tuple_element specializations only
#include <utility>

namespace ormkit::detail {

template <std::size_t I, class T>
struct leaf {
  T value;
};

template <class Seq, class... Ts>
struct list_impl;

template <std::size_t... I, class... Ts>
struct list_impl<std::index_sequence<I...>, Ts...> : leaf<I, Ts>... {
  static constexpr std::size_t size = sizeof...(Ts);
};

template <class... Ts>
using list = list_impl<std::index_sequence_for<Ts...>, Ts...>;

template <std::size_t I, class T>
constexpr auto get(const leaf<I, T>& l) noexcept -> const T& {
  return l.value;
}

template <std::size_t I, class T>
auto element_type(const leaf<I, T>&) -> T;

/// The type of element `I` of list `L`.
template <std::size_t I, class L>
using element_t = decltype(element_type<I>(std::declval<const L&>()));

/// Calls `f(elements...)`.
template <class F, class L>
constexpr decltype(auto) apply(F&& f, const L& l) {
  return [&]<std::size_t... I>(std::index_sequence<I...>) -> decltype(auto) {
    return static_cast<F&&>(f)(get<I>(l)...);
  }(std::make_index_sequence<L::size>{});
}

/// Returns `l` with `x` appended. The parameter spells out `list_impl` rather than the
/// `list` alias: clang cannot deduce `Ts...` through `std::index_sequence_for`.
template <std::size_t... J, class... Ts, class U>
constexpr auto append(const list_impl<std::index_sequence<J...>, Ts...>& l, const U& x) -> list<Ts..., U> {
  return [&]<std::size_t... I>(std::index_sequence<I...>) -> list<Ts..., U> {
    return {leaf<I, Ts>{get<I>(l)}..., leaf<sizeof...(Ts), U>{x}};
  }(std::index_sequence_for<Ts...>{});
}

}  // namespace ormkit::detail

template <class Seq, class... Ts>
struct std::tuple_size<ormkit::detail::list_impl<Seq, Ts...>> : std::integral_constant<std::size_t, sizeof...(Ts)> {};

template <std::size_t I, class Seq, class... Ts>
struct std::tuple_element<I, ormkit::detail::list_impl<Seq, Ts...>> {
  using type = ormkit::detail::element_t<I, ormkit::detail::list_impl<Seq, Ts...>>;
};
