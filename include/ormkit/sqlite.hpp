// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/sqlite.hpp
//
// The SQLite backend (CMake target ormkit::sqlite, which links SQLite3). The
// only ormkit headers that include <sqlite3.h> are this one and those under
// ormkit/sqlite/.
//
// Example:
//
//   #include <ormkit.hpp>
//   #include <ormkit/sqlite.hpp>
//
//   ormkit::sqlite::backend db({.path = "app.db"});   // WAL, foreign keys on, ...
//   ormkit::repository<user> users(db);               // tables are created on first use

#include <ormkit/sqlite/backend.hpp>
#include <ormkit/sqlite/error.hpp>
#include <ormkit/sqlite/sql.hpp>
#include <ormkit/sqlite/statement.hpp>
