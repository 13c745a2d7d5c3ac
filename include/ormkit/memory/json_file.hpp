// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/memory/json_file.hpp
//
// Durable persistence for the memory backend: the whole database in one JSON
// file, replaced atomically on every commit (write a temporary file, fsync it,
// rename it over the old one, fsync the directory). A missing file is an empty
// database; an unreadable or malformed one is errc::corrupt, never silently
// empty. Each commit rewrites the file, so this suits small data sets
// (configuration, fixtures, tests); use SQLite for more.
//
// File format (version 1):
//   {"format":"ormkit-memory","version":1,"tables":{"users":{"columns":[...],
//    "next_id":3,"rows":[[1,"ann",null,{"x":"00ff"}],...],
//    "indexes":[{"name":"uq_users_email","columns":["email"],"unique":true}]}}}
// ("indexes" is written for tables that have any; without it a table's indexes are
// taken from its entity on first use, as for files written before indexes were recorded.)
// Integers and reals keep their JSON number kind; text that is not valid UTF-8
// is stored as {"t":"<hex>"}, blobs as {"x":"<hex>"}, non-finite reals as {"r":"nan"|"inf"|"-inf"}.
//
// Example:
//
//   ormkit::memory::backend db({.store = ormkit::memory::json_file("app.json")});

#include <ormkit/json.hpp>
#include <ormkit/memory/backend.hpp>
#include <ormkit/rules.hpp>

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <sstream>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace ormkit::memory {

namespace detail {

inline auto to_hex(const unsigned char* p, std::size_t n) -> std::string {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

inline auto from_hex(const std::string& s, std::string& out) -> bool {
  if (s.size() % 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out.clear();
  for (std::size_t i = 0; i < s.size(); i += 2) {
    int hi = nibble(s[i]), lo = nibble(s[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>((hi << 4) | lo);
  }
  return true;
}

inline auto encode_value(const value& v) -> nlohmann::json {
  switch (v.index()) {
    case 1: return std::get<1>(v);
    case 2: {
      double d = std::get<2>(v);
      if (std::isnan(d)) return {{"r", "nan"}};
      if (std::isinf(d)) return {{"r", d > 0 ? "inf" : "-inf"}};
      return d;
    }
    case 3: {
      const auto& s = std::get<3>(v);
      if (rules::detail::utf8_length(s)) return s;
      return {{"t", to_hex(reinterpret_cast<const unsigned char*>(s.data()), s.size())}};
    }
    case 4: {
      const auto& b = std::get<4>(v);
      return {{"x", to_hex(reinterpret_cast<const unsigned char*>(b.data()), b.size())}};
    }
    default: return nullptr;
  }
}

inline auto decode_value(const nlohmann::json& j, value& out) -> bool {
  if (j.is_null()) out = value{};
  else if (j.is_number_integer()) {
    if (j.is_number_unsigned() && j.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return false;
    out = j.get<std::int64_t>();
  } else if (j.is_number_float()) out = j.get<double>();
  else if (j.is_string()) out = j.get<std::string>();
  else if (j.is_object() && j.size() == 1) {
    auto it = j.begin();
    if (!it.value().is_string()) return false;
    const auto& s = it.value().get_ref<const std::string&>();
    std::string raw;
    if (it.key() == "r") {
      if (s == "nan") out = std::numeric_limits<double>::quiet_NaN();
      else if (s == "inf") out = std::numeric_limits<double>::infinity();
      else if (s == "-inf") out = -std::numeric_limits<double>::infinity();
      else return false;
    } else if (it.key() == "t" && from_hex(s, raw)) {
      out = std::move(raw);
    } else if (it.key() == "x" && from_hex(s, raw)) {
      const auto* p = reinterpret_cast<const std::byte*>(raw.data());
      out = blob(p, p + raw.size());
    } else {
      return false;
    }
  } else {
    return false;
  }
  return true;
}

inline auto io_error(const std::string& what, const std::filesystem::path& p, int err) -> ormkit::error {
  return {errc::io_error, "memory: " + what + " " + p.string() + ": " + std::strerror(err), std::to_string(err)};
}

// Writes all of `data` to `fd`, retrying short writes and EINTR.
inline auto write_all(int fd, const std::string& data) -> int {
  const char* p = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    auto n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  return 0;
}

}  // namespace detail

/// A `durability` store in one JSON file.
class json_file_store final : public durability {
 public:
  explicit json_file_store(std::filesystem::path path) : path_(std::move(path)) {}

  auto load() -> result<snapshot> override {
    snapshot s;
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) {
      if (ec) return detail::io_error("cannot read", path_, ec.value());  // e.g. a symlink loop: not "empty"
      return s;
    }
    std::ifstream in(path_, std::ios::binary);
    if (!in) return detail::io_error("cannot read", path_, errno);
    std::stringstream buf;
    buf << in.rdbuf();
    auto corrupt = [&](const std::string& why) {
      return ormkit::error(errc::corrupt, "memory: " + path_.string() + " is corrupt: " + why);
    };
    // parse_json: depth-limited, rejects duplicate keys, never recurses deeply.
    auto parsed = parse_json(buf.str(), 16);
    if (!parsed) return corrupt(parsed.error().message);
    nlohmann::json& j = *parsed;
    if (!j.is_object() || !j.contains("format") || j["format"] != "ormkit-memory")  // j.value() throws on a non-string
      return corrupt("not an ormkit memory file");
    if (!j.contains("version") || j["version"] != 1) return corrupt("unsupported version");
    if (!j.contains("tables") || !j["tables"].is_object()) return corrupt("missing tables");
    for (const auto& [name, t] : j["tables"].items()) {
      if (!t.is_object() || !t.contains("columns") || !t["columns"].is_array() || !t.contains("rows") ||
          !t["rows"].is_array() || !t.contains("next_id") || !t["next_id"].is_number_integer())
        return corrupt("table " + name + " is malformed");
      table_data d;
      for (const auto& c : t["columns"]) {
        if (!c.is_string()) return corrupt("table " + name + " has a non-text column name");
        d.columns.push_back(c.get<std::string>());
      }
      d.next_id = t["next_id"].get<std::int64_t>();
      for (const auto& r : t["rows"]) {
        if (!r.is_array() || r.size() != d.columns.size())
          return corrupt("table " + name + " row " + std::to_string(d.next_rowid) + " has the wrong width");
        auto out = std::make_shared<row>();
        for (const auto& v : r) {
          value decoded;
          if (!detail::decode_value(v, decoded))
            return corrupt("table " + name + " row " + std::to_string(d.next_rowid) + " has a bad value");
          out->push_back(std::move(decoded));
        }
        d.rows.emplace(d.next_rowid++, std::move(out));
      }
      if (!t.contains("indexes")) {
        d.indexes_known = false;
      } else {
        const auto& ixs = t["indexes"];
        if (!ixs.is_array()) return corrupt("table " + name + " has malformed indexes");
        for (const auto& ix : ixs) {
          if (!ix.is_object() || !ix.contains("name") || !ix["name"].is_string() || !ix.contains("columns") ||
              !ix["columns"].is_array() || !ix.contains("unique") || !ix["unique"].is_boolean())
            return corrupt("table " + name + " has a malformed index");
          stored_index rec{ix["name"].get<std::string>(), {}, ix["unique"].get<bool>()};
          for (const auto& c : ix["columns"]) {
            if (!c.is_string()) return corrupt("table " + name + " index " + rec.name + " has a non-text column name");
            rec.columns.push_back(c.get<std::string>());
          }
          d.indexes.push_back(std::move(rec));
        }
      }
      s.tables.emplace(name, std::move(d));
    }
    return s;
  }

  auto save(const snapshot& s) -> status override {
    nlohmann::json tables = nlohmann::json::object();
    for (const auto& [name, t] : s.tables) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& [rowid, r] : t.rows) {
        nlohmann::json jr = nlohmann::json::array();
        for (const auto& v : *r) jr.push_back(detail::encode_value(v));
        rows.push_back(std::move(jr));
      }
      nlohmann::json indexes = nlohmann::json::array();
      for (const auto& ix : t.indexes)
        indexes.push_back({{"name", ix.name}, {"columns", ix.columns}, {"unique", ix.unique}});
      tables[name] = {{"columns", t.columns}, {"next_id", t.next_id}, {"rows", std::move(rows)}};
      if (!t.indexes.empty()) tables[name]["indexes"] = std::move(indexes);
    }
    nlohmann::json doc = {{"format", "ormkit-memory"}, {"version", 1}, {"tables", std::move(tables)}};
    std::string text = doc.dump() + "\n";

    auto tmp = path_;
    tmp += ".tmp";
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return detail::io_error("cannot create", tmp, errno);
    if (int err = detail::write_all(fd, text); err != 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return detail::io_error("cannot write", tmp, err);
    }
    if (::fsync(fd) != 0) {
      int err = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return detail::io_error("cannot sync", tmp, err);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), path_.c_str()) != 0) {
      int err = errno;
      ::unlink(tmp.c_str());
      return detail::io_error("cannot replace", path_, err);
    }
    // The rename is durable only once the directory entry is on disk.
    auto dir = path_.parent_path();
    if (dir.empty()) dir = ".";
    if (int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
      (void)::fsync(dfd);
      ::close(dfd);
    }
    return {};
  }

  [[nodiscard]] auto path() const -> const std::filesystem::path& { return path_; }

 private:
  std::filesystem::path path_;
};

/// Returns a JSON-file store for `backend`'s options.
inline auto json_file(std::filesystem::path path) -> std::shared_ptr<durability> {
  return std::make_shared<json_file_store>(std::move(path));
}

}  // namespace ormkit::memory
