// Compile-cost benchmark: 10 entities x 6 columns, insert + get + find-all each.
// Measured by benchmarks/compile/measure.sh; not part of the test suite.
#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>

#include <cstdint>
#include <string>

namespace bench {
struct entity0 {
  std::int64_t c0{};
  std::string c1{};
  int c2{};
  double c3{};
  bool c4{};
  std::int64_t c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity0>) {
    return ormkit::describe<entity0>("entity0")
        .column(&entity0::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity0::c1, "c1")
        .column(&entity0::c2, "c2")
        .column(&entity0::c3, "c3")
        .column(&entity0::c4, "c4")
        .column(&entity0::c5, "c5");
  }
};
struct entity1 {
  std::int64_t c0{};
  int c1{};
  double c2{};
  bool c3{};
  std::int64_t c4{};
  std::string c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity1>) {
    return ormkit::describe<entity1>("entity1")
        .column(&entity1::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity1::c1, "c1")
        .column(&entity1::c2, "c2")
        .column(&entity1::c3, "c3")
        .column(&entity1::c4, "c4")
        .column(&entity1::c5, "c5");
  }
};
struct entity2 {
  std::int64_t c0{};
  double c1{};
  bool c2{};
  std::int64_t c3{};
  std::string c4{};
  int c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity2>) {
    return ormkit::describe<entity2>("entity2")
        .column(&entity2::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity2::c1, "c1")
        .column(&entity2::c2, "c2")
        .column(&entity2::c3, "c3")
        .column(&entity2::c4, "c4")
        .column(&entity2::c5, "c5");
  }
};
struct entity3 {
  std::int64_t c0{};
  bool c1{};
  std::int64_t c2{};
  std::string c3{};
  int c4{};
  double c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity3>) {
    return ormkit::describe<entity3>("entity3")
        .column(&entity3::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity3::c1, "c1")
        .column(&entity3::c2, "c2")
        .column(&entity3::c3, "c3")
        .column(&entity3::c4, "c4")
        .column(&entity3::c5, "c5");
  }
};
struct entity4 {
  std::int64_t c0{};
  std::int64_t c1{};
  std::string c2{};
  int c3{};
  double c4{};
  bool c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity4>) {
    return ormkit::describe<entity4>("entity4")
        .column(&entity4::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity4::c1, "c1")
        .column(&entity4::c2, "c2")
        .column(&entity4::c3, "c3")
        .column(&entity4::c4, "c4")
        .column(&entity4::c5, "c5");
  }
};
struct entity5 {
  std::int64_t c0{};
  std::string c1{};
  int c2{};
  double c3{};
  bool c4{};
  std::int64_t c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity5>) {
    return ormkit::describe<entity5>("entity5")
        .column(&entity5::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity5::c1, "c1")
        .column(&entity5::c2, "c2")
        .column(&entity5::c3, "c3")
        .column(&entity5::c4, "c4")
        .column(&entity5::c5, "c5");
  }
};
struct entity6 {
  std::int64_t c0{};
  int c1{};
  double c2{};
  bool c3{};
  std::int64_t c4{};
  std::string c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity6>) {
    return ormkit::describe<entity6>("entity6")
        .column(&entity6::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity6::c1, "c1")
        .column(&entity6::c2, "c2")
        .column(&entity6::c3, "c3")
        .column(&entity6::c4, "c4")
        .column(&entity6::c5, "c5");
  }
};
struct entity7 {
  std::int64_t c0{};
  double c1{};
  bool c2{};
  std::int64_t c3{};
  std::string c4{};
  int c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity7>) {
    return ormkit::describe<entity7>("entity7")
        .column(&entity7::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity7::c1, "c1")
        .column(&entity7::c2, "c2")
        .column(&entity7::c3, "c3")
        .column(&entity7::c4, "c4")
        .column(&entity7::c5, "c5");
  }
};
struct entity8 {
  std::int64_t c0{};
  bool c1{};
  std::int64_t c2{};
  std::string c3{};
  int c4{};
  double c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity8>) {
    return ormkit::describe<entity8>("entity8")
        .column(&entity8::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity8::c1, "c1")
        .column(&entity8::c2, "c2")
        .column(&entity8::c3, "c3")
        .column(&entity8::c4, "c4")
        .column(&entity8::c5, "c5");
  }
};
struct entity9 {
  std::int64_t c0{};
  std::int64_t c1{};
  std::string c2{};
  int c3{};
  double c4{};
  bool c5{};
  friend constexpr auto ormkit_describe(std::type_identity<entity9>) {
    return ormkit::describe<entity9>("entity9")
        .column(&entity9::c0, "c0", ormkit::primary_key, ormkit::auto_increment)
        .column(&entity9::c1, "c1")
        .column(&entity9::c2, "c2")
        .column(&entity9::c3, "c3")
        .column(&entity9::c4, "c4")
        .column(&entity9::c5, "c5");
  }
};
}  // namespace bench

auto main() -> int {
  ormkit::memory::backend db;
  std::size_t n = 0;
  {
    ormkit::repository<bench::entity0> repo(db);
    auto stored = repo.insert(bench::entity0{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity1> repo(db);
    auto stored = repo.insert(bench::entity1{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity2> repo(db);
    auto stored = repo.insert(bench::entity2{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity3> repo(db);
    auto stored = repo.insert(bench::entity3{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity4> repo(db);
    auto stored = repo.insert(bench::entity4{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity5> repo(db);
    auto stored = repo.insert(bench::entity5{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity6> repo(db);
    auto stored = repo.insert(bench::entity6{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity7> repo(db);
    auto stored = repo.insert(bench::entity7{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity8> repo(db);
    auto stored = repo.insert(bench::entity8{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  {
    ormkit::repository<bench::entity9> repo(db);
    auto stored = repo.insert(bench::entity9{}).value();
    n += repo.get(stored.c0).has_value() ? 1 : 0;
    n += repo.find_all().value().size();
  }
  return n == 20 ? 0 : 1;
}
