// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/memory.hpp
//
// The in-process backend. Durable JSON-file persistence is in
// <ormkit/memory/json_file.hpp> (it includes nlohmann/json.hpp, so it is not
// pulled in here).

#include <ormkit/memory/backend.hpp>
#include <ormkit/memory/eval.hpp>
