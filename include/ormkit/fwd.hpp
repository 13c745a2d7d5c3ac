// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/fwd.hpp
//
// Forward declarations of ormkit's public class templates, for headers that
// only name them (members, parameters) and should not pay for their definitions.

#include <cstdint>

namespace ormkit {

enum class errc;
struct error;
struct violation;
class exception;
template <class T>
class result;

template <class T, class Enable = void>
struct column_traits;
template <class T, class Enable = void>
struct entity_traits;

struct table_schema;
struct column_schema;
struct index_schema;

struct expr;
struct query_spec;
struct aggregate_spec;
template <class T>
struct condition;
template <class T, class Member>
class column_ref;
template <class T>
class query;
template <class T>
class aggregate;

class backend_ref;
class cursor;
template <class T>
class repository;
template <class T>
class entity_stream;
template <class T>
struct page;
template <class T>
struct keyset_page;
struct repository_options;

class cache_key_builder;
class transaction;
struct retry_policy;

namespace memory {
class backend;
}  // namespace memory

}  // namespace ormkit
