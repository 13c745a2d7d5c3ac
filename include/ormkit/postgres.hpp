// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/postgres.hpp
//
// The PostgreSQL backend (CMake target ormkit::postgres, which links libpq). The
// only ormkit headers that include <libpq-fe.h> are this one and those under
// ormkit/postgres/.
//
// Example:
//
//   #include <ormkit.hpp>
//   #include <ormkit/postgres.hpp>
//
//   auto db = ormkit::postgres::backend::open({.conninfo = "host=db dbname=app user=app"}).value();
//   ormkit::repository<user> users(*db);   // tables are created on first use

#include <ormkit/postgres/backend.hpp>
#include <ormkit/postgres/connection.hpp>
#include <ormkit/postgres/error.hpp>
#include <ormkit/postgres/pool.hpp>
#include <ormkit/postgres/sql.hpp>
