// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/redis.hpp
//
// The Redis cache (CMake target ormkit::redis, which links hiredis 0.14 or
// 1.x). The only ormkit headers that include hiredis are this one and those
// under ormkit/redis/.
//
// - `redis::client` (redis/client.hpp): a pool of connections with deadlines,
//   argv commands and pipelines;
// - `redis::store` (redis/store.hpp): the Redis `cache_store`, with a key
//   prefix per application, checked values and published invalidations;
// - `redis::two_level_store` (redis/two_level.hpp): an in-process LRU in front
//   of Redis, kept coherent across processes through pub/sub.
//
// Example:
//
//   #include <ormkit/redis.hpp>
//
//   ormkit::redis::two_level_store cache({
//       .l2 = {.server = ormkit::redis::options::from_url("redis://127.0.0.1:6379").value(),
//              .key_prefix = "shop:"}});
//   ormkit::cache_ref ref(cache);   // what a repository holds

#include <ormkit/cache.hpp>
#include <ormkit/cache/memory.hpp>
#include <ormkit/redis/client.hpp>
#include <ormkit/redis/store.hpp>
#include <ormkit/redis/two_level.hpp>
