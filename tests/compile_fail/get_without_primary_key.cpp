// expect: get() needs a primary key
// get(key) on an entity that has no primary key is rejected with a remedy.
#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>

#include <cstdint>
#include <string>

struct log_line {
  std::int64_t at{};
  std::string text;

  friend constexpr auto ormkit_describe(std::type_identity<log_line>) {
    return ormkit::describe<log_line>("log_lines").column(&log_line::at, "at").column(&log_line::text, "text");
  }
};

auto lookup(ormkit::memory::backend& db) {
  ormkit::repository<log_line> lines(db);
  return lines.get(42);
}
