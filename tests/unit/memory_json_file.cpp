// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::memory::json_file: the durable store of the memory backend. Data (and the key
// counter) survive a reopen; commits write and rollbacks do not; the file is replaced
// atomically; a missing file is an empty database; a damaged file is errc::corrupt
// naming the file, never silently empty; text that is not UTF-8, blobs and non-finite
// reals survive; a failed save changes nothing.

#include <ormkit/memory/json_file.hpp>

#include <ormkit/memory/backend.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../conformance/backends.hpp"
#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::col;
using ormkit::errc;
namespace fs = std::filesystem;
using names = std::vector<std::string>;

auto read_file(const fs::path& p) -> std::string {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

auto open(const fs::path& p) -> ormkit::result<std::unique_ptr<ormkit::memory::backend>> {
  return ormkit::memory::backend::open({.store = ormkit::memory::json_file(p)});
}

auto files_in(const fs::path& dir) -> std::set<std::string> {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// A valid file holding one person; `row` replaces the row's JSON text.
auto people_file(const std::string& row = R"([1,"ann",30,null,1.5])", const std::string& next_id = "2")
    -> std::string {
  return R"({"format":"ormkit-memory","version":1,"tables":{"people":{"columns":["id","name","age","city","score"],"next_id":)" +
         next_id + R"(,"rows":[)" + row + "]}}}";
}

}  // namespace

TEST_CASE("memory::json_file: data and the key counter survive a reopen", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  {
    ormkit::memory::backend db({.store = ormkit::memory::json_file(path)});
    ormkit::repository<person> people(db);
    REQUIRE(people.insert_many({make_person("a", 1, "Oslo", 0.5), make_person("b"), make_person("c", 3)}).has_value());
    REQUIRE(people.erase(3).has_value());
  }
  auto doc = nlohmann::json::parse(read_file(path));
  CHECK(doc["format"] == "ormkit-memory");
  CHECK(doc["version"] == 1);
  CHECK(doc["tables"]["people"]["next_id"] == 4);
  CHECK(doc["tables"]["people"]["columns"] == nlohmann::json({"id", "name", "age", "city", "score"}));
  CHECK(doc["tables"]["people"]["rows"].size() == 2);

  ormkit::memory::backend db({.store = ormkit::memory::json_file(path)});
  CHECK(db.row_count("people") == 2);
  ormkit::repository<person> people(db);
  auto a = people.get(1).value();
  CHECK(a.name == "a");
  CHECK(a.age == 1);
  CHECK(a.city == std::optional<std::string>("Oslo"));
  CHECK(a.score == 0.5);
  CHECK(people.get(2).value().age == std::nullopt);
  CHECK(people.insert(make_person("d")).value().id == 4);  // 3 is never handed out again
}

TEST_CASE("memory::json_file: each write outside a transaction is saved at once", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  auto db = open(path).value();
  ormkit::repository<person> people(*db);
  REQUIRE(people.insert(make_person("a")).has_value());
  CHECK(open(path).value()->row_count("people") == 1);
  REQUIRE(people.update(people.get(1).value()).has_value());
  REQUIRE(people.erase(1).has_value());
  CHECK(open(path).value()->row_count("people") == 0);
}

TEST_CASE("memory::json_file: a commit writes the file and a rollback does not", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  auto db = open(path).value();
  ormkit::repository<person> people(*db);
  REQUIRE(people.insert(make_person("before")).has_value());
  const auto saved = read_file(path);

  SECTION("commit") {
    auto tx = ormkit::transaction::begin(*db);
    REQUIRE(tx.has_value());
    REQUIRE(people.insert(make_person("inside")).has_value());
    REQUIRE(people.erase(1).has_value());
    CHECK(read_file(path) == saved);  // nothing is written before the commit
    REQUIRE(tx->commit().has_value());
    CHECK(read_file(path) != saved);
    auto other = open(path).value();
    CHECK(names_of(ormkit::repository<person>(*other).find_all().value()) == names{"inside"});
  }
  SECTION("rollback") {
    auto st = ormkit::transact(*db, [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(people.insert(make_person("inside")));
      ORMKIT_TRY(people.erase(1));
      return ormkit::unexpected(errc::conflict, "undo");
    });
    CHECK(st.error().is(errc::conflict));
    CHECK(read_file(path) == saved);
    auto other = open(path).value();
    CHECK(names_of(ormkit::repository<person>(*other).find_all().value()) == names{"before"});
  }
}

TEST_CASE("memory::json_file: the file is replaced atomically", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  auto db = open(path).value();
  ormkit::repository<person> people(*db);
  REQUIRE(people.insert(make_person("first")).has_value());
  const auto first = read_file(path);

  // A hard link keeps the old file's inode: a rename over the path leaves it intact,
  // an in-place rewrite would change it.
  fs::create_hard_link(path, dir / "old.json");
  REQUIRE(people.insert(make_person("second")).has_value());
  CHECK(read_file(dir / "old.json") == first);
  CHECK(read_file(path) != first);
  CHECK(files_in(dir.path()) == std::set<std::string>{"db.json", "old.json"});  // no db.json.tmp left behind
  CHECK(fs::hard_link_count(path) == 1);
}

TEST_CASE("memory::json_file: a missing file is an empty database", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  auto db = open(path);
  REQUIRE(db.has_value());
  CHECK((*db)->row_count("people") == 0);
  CHECK_FALSE(fs::exists(path));  // opening writes nothing

  REQUIRE((*db)->flush().has_value());
  REQUIRE(fs::exists(path));
  CHECK(nlohmann::json::parse(read_file(path)) ==
        nlohmann::json::parse(R"({"format":"ormkit-memory","version":1,"tables":{}})"));
}

TEST_CASE("memory::json_file: a path that cannot be checked is io_error and not empty", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "loop.json";
  fs::create_symlink("loop.json", path);  // stat() fails with ELOOP
  auto r = open(path);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::io_error));
  CHECK(r.error().message.rfind("memory: cannot read " + path.string() + ": ", 0) == 0);
}

TEST_CASE("memory::json_file: a damaged file is corrupt and never read as empty", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  const std::string valid = people_file();
  write_file(path, valid);
  REQUIRE(open(path).has_value());
  CHECK(open(path).value()->row_count("people") == 1);

  struct damage {
    const char* what;
    std::string text;
    std::string reason;  // after "memory: <path> is corrupt: "; empty: any parser message
  };
  const std::vector<damage> cases{
      {"truncated JSON", valid.substr(0, valid.size() / 2), ""},
      {"an empty file", "", ""},
      {"trailing garbage", valid + "x", ""},
      {"another format tag", R"({"format":"sqlite","version":1,"tables":{}})", "not an ormkit memory file"},
      {"a format tag that is not text", R"({"format":5,"version":1,"tables":{}})", "not an ormkit memory file"},
      {"no format tag", R"({"version":1,"tables":{}})", "not an ormkit memory file"},
      {"not an object", "[1,2,3]", "not an ormkit memory file"},
      {"another version", R"({"format":"ormkit-memory","version":2,"tables":{}})", "unsupported version"},
      {"a version that is text", R"({"format":"ormkit-memory","version":"1","tables":{}})", "unsupported version"},
      {"no tables", R"({"format":"ormkit-memory","version":1})", "missing tables"},
      {"tables that are a list", R"({"format":"ormkit-memory","version":1,"tables":[]})", "missing tables"},
      {"a table without next_id",
       R"({"format":"ormkit-memory","version":1,"tables":{"people":{"columns":[],"rows":[]}}})",
       "table people is malformed"},
      {"a next_id that is text", people_file(R"([1,"ann",30,null,1.5])", "\"2\""), "table people is malformed"},
      {"a column name that is not text",
       R"({"format":"ormkit-memory","version":1,"tables":{"people":{"columns":[1],"next_id":1,"rows":[]}}})",
       "table people has a non-text column name"},
      {"a short row", people_file(R"([1,"ann",30,null])"), "table people row 1 has the wrong width"},
      {"a long row", people_file(R"([1,"ann",30,null,1.5,7])"), "table people row 1 has the wrong width"},
      {"a row that is not a list", people_file(R"({"id":1})"), "table people row 1 has the wrong width"},
      {"a blob that is not hex", people_file(R"([1,{"x":"zz"},30,null,1.5])"), "table people row 1 has a bad value"},
      {"text of odd hex length", people_file(R"([1,{"t":"abc"},30,null,1.5])"), "table people row 1 has a bad value"},
      {"an unknown value tag", people_file(R"([1,{"q":"00"},30,null,1.5])"), "table people row 1 has a bad value"},
      {"a bad real tag", people_file(R"([1,"ann",30,null,{"r":"1.5"}])"), "table people row 1 has a bad value"},
      {"two value tags", people_file(R"([1,{"x":"00","t":"00"},30,null,1.5])"), "table people row 1 has a bad value"},
      {"a boolean value", people_file(R"([1,"ann",true,null,1.5])"), "table people row 1 has a bad value"},
      {"a nested list value", people_file(R"([1,"ann",[30],null,1.5])"), "table people row 1 has a bad value"},
      {"an integer beyond int64", people_file(R"([1,"ann",18446744073709551615,null,1.5])"),
       "table people row 1 has a bad value"},
      {"deep nesting", people_file("[1,\"ann\"," + std::string(20, '[') + std::string(20, ']') + ",null,1.5]"),
       "JSON nesting depth 17 exceeds the limit of 16"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.what);
    write_file(path, c.text);
    auto r = open(path);
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::corrupt));
    const std::string prefix = "memory: " + path.string() + " is corrupt: ";
    CHECK(r.error().message.rfind(prefix, 0) == 0);
    if (!c.reason.empty()) CHECK(r.error().message == prefix + c.reason);

    // The constructor reports the same error by throwing.
    try {
      ormkit::memory::backend db({.store = ormkit::memory::json_file(path)});
      FAIL("the constructor accepted a damaged file");
    } catch (const ormkit::exception& e) {
      CHECK(e.error().is(errc::corrupt));
      CHECK(std::string(e.what()) == "[ormkit.corrupt] " + r.error().message);
    }
    CHECK(read_file(path) == c.text);  // a failed open never rewrites the file
  }
}

TEST_CASE("memory::json_file: stored rows that break the schema are corrupt on every use", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";

  SECTION("a duplicate primary key") {
    write_file(path, people_file(R"([1,"ann",30,null,1.5],[1,"bob",31,null,2.5])", "3"));
    auto db = open(path).value();
    CHECK(db->row_count("people") == 2);
    ormkit::repository<person> people(*db);
    for (int attempt = 0; attempt < 2; ++attempt) {  // not only the first use
      CAPTURE(attempt);
      auto r = people.get(1);
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().is(errc::corrupt));
      CHECK(r.error().message == "stored data violates a key: people.id: value 1 already exists (primary key)");
      CHECK(people.insert(make_person("new")).error().is(errc::corrupt));
      CHECK(people.count().error().is(errc::corrupt));
    }
    CHECK(db->row_count("people") == 2);
  }
  SECTION("a value of the wrong storage class") {
    write_file(path, people_file(R"([1,"ann","thirty",null,1.5])"));
    auto db = open(path).value();
    ormkit::repository<person> people(*db);
    for (int attempt = 0; attempt < 2; ++attempt) {
      CAPTURE(attempt);
      auto r = people.find_all();
      REQUIRE_FALSE(r.has_value());
      CHECK(r.error().is(errc::corrupt));
      CHECK(r.error().message == "stored row 1: people.age: expected integer, got text");
    }
  }
  SECTION("other columns than the entity's") {
    write_file(path, R"({"format":"ormkit-memory","version":1,"tables":{"people":{"columns":["id","name"],"next_id":2,"rows":[[1,"ann"]]}}})");
    auto db = open(path).value();
    ormkit::repository<person> people(*db);
    auto r = people.get(1);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is(errc::schema_mismatch));
    CHECK(r.error().message ==
          "people: stored columns (id, name) differ from the entity's (id, name, age, city, score)");
  }
  // Whatever was found, the file is left as it was.
  CHECK_FALSE(read_file(path).empty());
}

TEST_CASE("memory::json_file: text that is not UTF-8 and blobs survive exactly", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  all_types e;
  e.text = std::string("\xff\xfe\0z", 4);
  e.maybe_text = "\xe6\x97\xa5\xe6\x9c\xac";  // valid UTF-8 stays readable text
  e.bytes = bytes_of({0, 1, 254, 255});
  e.ubytes = {};
  std::int64_t id = 0;
  {
    auto db = open(path).value();
    id = ormkit::repository<all_types>(*db).insert(e).value().id;
  }
  e.id = id;
  const auto text = read_file(path);
  CHECK(text.find(R"({"t":"fffe007a"})") != std::string::npos);
  CHECK(text.find(R"({"x":"0001feff"})") != std::string::npos);
  CHECK(text.find("\"\xe6\x97\xa5\xe6\x9c\xac\"") != std::string::npos);
  CHECK(text.find(R"({"x":""})") != std::string::npos);  // the empty blob

  auto db = open(path).value();
  CHECK(ormkit::repository<all_types>(*db).get(id).value() == e);
}

TEST_CASE("memory::json_file: infinities and NaN survive", "[memory][json_file]") {
  temp_dir dir;
  const auto path = dir / "db.json";
  all_types e;
  e.f64 = std::numeric_limits<double>::quiet_NaN();
  e.f32 = -std::numeric_limits<float>::infinity();
  e.maybe_real = std::numeric_limits<double>::infinity();
  e.seconds = std::chrono::duration<double>(-0.0);
  std::int64_t id = 0;
  {
    auto db = open(path).value();
    id = ormkit::repository<all_types>(*db).insert(e).value().id;
  }
  const auto text = read_file(path);
  CHECK(text.find(R"({"r":"nan"})") != std::string::npos);
  CHECK(text.find(R"({"r":"-inf"})") != std::string::npos);
  CHECK(text.find(R"({"r":"inf"})") != std::string::npos);

  auto db = open(path).value();
  auto got = ormkit::repository<all_types>(*db).get(id).value();
  CHECK(std::isnan(got.f64));
  CHECK(got.f32 == -std::numeric_limits<float>::infinity());
  CHECK(got.maybe_real == std::numeric_limits<double>::infinity());
  CHECK(std::signbit(got.seconds.count()));
}

TEST_CASE("memory::json_file: a failed save changes nothing", "[memory][json_file]") {
  temp_dir dir;
  fs::create_directory(dir / "sub");
  const auto path = dir / "sub" / "db.json";
  auto db = open(path).value();
  ormkit::repository<person> people(*db);
  REQUIRE(people.insert(make_person("kept")).has_value());
  fs::remove_all(dir / "sub");  // the next save cannot create its temporary file

  auto r = people.insert(make_person("lost"));
  REQUIRE_FALSE(r.has_value());
  CAPTURE(r.error().message);
  CHECK(r.error().is(errc::io_error));
  CHECK(r.error().message.rfind("memory: cannot create " + path.string() + ".tmp: ", 0) == 0);
  CHECK(db->row_count("people") == 1);
  CHECK(people.update(people.get(1).value()).error().is(errc::io_error));
  CHECK(people.erase(1).error().is(errc::io_error));
  CHECK(names_of(people.find_all().value()) == names{"kept"});

  // A failed commit undoes the whole transaction.
  auto st = ormkit::transact(*db, [&](ormkit::transaction&) -> ormkit::status {
    ORMKIT_TRY(people.insert(make_person("in tx")));
    ORMKIT_TRY(people.erase(1));
    return {};
  });
  CHECK(st.error().is(errc::io_error));
  CHECK(names_of(people.find_all().value()) == names{"kept"});
  CHECK_FALSE(db->in_transaction());

  // Once the directory is back, the next generated id follows the kept row's.
  fs::create_directory(dir / "sub");
  CHECK(people.insert(make_person("back")).value().id == 2);
  CHECK(open(path).value()->row_count("people") == 2);
}
