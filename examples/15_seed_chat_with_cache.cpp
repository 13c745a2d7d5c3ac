// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 15: the seed 002 scenario as one program: the persistence layer of a
// multi-tenant chat backend (tenants, users, conversations, messages) held as
// one persistence_manager, with a cache in front of every repository:
// get-with-cache for tenants, users and conversations, a page of messages
// cached under a key built with cache_key_builder, posting a message (the
// conversation's counters and the message in one transaction; the cached
// conversation invalidated at commit), per-tenant statistics, and the cache
// statistics at the end.
//
// The cache is Redis (a two-level store: in-process L1, Redis L2, pub/sub
// invalidation) when ORMKIT_TEST_REDIS=host:port names a server (scripts/test.sh
// starts one), else the in-process store alone; the output is the same.

#include <ormkit/cache/memory.hpp>
#include <ormkit/cache_key.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/persistence_manager.hpp>
#include <ormkit/query.hpp>
#include <ormkit/redis.hpp>
#include <ormkit/rules.hpp>
#include <ormkit/rules/pattern.hpp>
#include <ormkit/sqlite.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

namespace chat {

using time_point = std::chrono::system_clock::time_point;

struct tenant {
  std::int64_t id{};
  std::string slug{};
  std::string name{};
  std::string plan{};
  time_point created{};
  time_point updated{};

  friend constexpr auto ormkit_describe(std::type_identity<tenant>) {
    using namespace ormkit;
    return describe<tenant>("tenants")
        .column(&tenant::id, "id", primary_key, auto_increment)
        .column(&tenant::slug, "slug", unique, rules::pattern{"[a-z][a-z0-9-]{2,31}"})
        .column(&tenant::name, "name", rules::length{1, 80})
        .column(&tenant::plan, "plan", rules::one_of{"free", "basic", "premium", "enterprise"})
        .column(&tenant::created, "created_at", created_at)
        .column(&tenant::updated, "updated_at", updated_at);
  }
};

struct user {
  std::int64_t id{};
  std::int64_t tenant_id{};
  std::string username{};
  std::string email{};
  std::optional<std::string> phone{};
  std::string password_hash{};
  std::string role{"user"};
  std::string status{"active"};
  std::int64_t version{};
  time_point created{};
  time_point updated{};
  std::optional<time_point> deleted{};

  friend constexpr auto ormkit_describe(std::type_identity<user>) {
    using namespace ormkit;
    return describe<user>("users")
        .column(&user::id, "id", primary_key, auto_increment)
        .column(&user::tenant_id, "tenant_id", references<&tenant::id>)
        .column(&user::username, "username", rules::length{3, 32}, rules::pattern{"[a-z][a-z0-9_]*"})
        .column(&user::email, "email", rules::email{})
        .column(&user::phone, "phone", rules::pattern{"\\+[0-9]{8,15}"})
        .column(&user::password_hash, "password_hash", secret, rules::not_empty{})
        .column(&user::role, "role", rules::one_of{"user", "admin", "super_admin"})
        .column(&user::status, "status", rules::one_of{"active", "inactive", "banned"})
        .column(&user::version, "version", version_column)
        .column(&user::created, "created_at", created_at)
        .column(&user::updated, "updated_at", updated_at)
        .column(&user::deleted, "deleted_at", soft_delete)
        // Usernames and e-mail addresses are unique per tenant, not globally.
        .unique("uq_users_tenant_username", &user::tenant_id, &user::username)
        .unique("uq_users_tenant_email", &user::tenant_id, &user::email)
        .rule(
            "banned_is_not_admin", [](const user& u) { return !(u.status == "banned" && u.role != "user"); },
            "a banned user cannot keep an admin role");
  }
};

struct conversation {
  std::int64_t id{};
  std::int64_t tenant_id{};
  std::int64_t user_id{};
  std::string title{};
  std::string status{"active"};
  int msg_count{};
  std::int64_t token_count{};
  std::int64_t version{};
  time_point created{};
  time_point updated{};

  friend constexpr auto ormkit_describe(std::type_identity<conversation>) {
    using namespace ormkit;
    return describe<conversation>("conversations")
        .column(&conversation::id, "id", primary_key, auto_increment)
        .column(&conversation::tenant_id, "tenant_id", references<&tenant::id>)
        .column(&conversation::user_id, "user_id", references<&user::id>)
        .column(&conversation::title, "title", rules::length{1, 200})
        .column(&conversation::status, "status", rules::one_of{"active", "archived"})
        .column(&conversation::msg_count, "msg_count", rules::range{0, 1'000'000})
        .column(&conversation::token_count, "token_count", rules::range{0, 1'000'000'000})
        .column(&conversation::version, "version", version_column)
        .column(&conversation::created, "created_at", created_at)
        .column(&conversation::updated, "updated_at", updated_at)
        .index("ix_conversations_user", &conversation::user_id);
  }
};

struct message {
  std::int64_t id{};
  std::int64_t conversation_id{};
  std::string role{};
  std::string content{};
  std::string modality{"text"};
  int token_count{};
  time_point created{};

  friend constexpr auto ormkit_describe(std::type_identity<message>) {
    using namespace ormkit;
    return describe<message>("messages")
        .column(&message::id, "id", primary_key, auto_increment)
        .column(&message::conversation_id, "conversation_id", references<&conversation::id>)
        .column(&message::role, "role", rules::one_of{"user", "assistant", "system"})
        .column(&message::content, "content", rules::length{1, 4000})
        .column(&message::modality, "modality", rules::one_of{"text", "voice", "image"})
        .column(&message::token_count, "token_count", rules::range{0, 100'000})
        .column(&message::created, "created_at", created_at)
        .index("ix_messages_conversation_time", &message::conversation_id, &message::created);
  }
};

}  // namespace chat

namespace {

using namespace chat;
using chat_store = ormkit::persistence_manager<tenant, user, conversation, message>;

// A fixed clock (one second per reading) so the output is the same on every run.
std::int64_t ticks = 0;
auto demo_clock() -> time_point {
  using namespace std::chrono;
  return sys_days{year{2026} / 3 / 14} + 9h + seconds{ticks++};
}

// The page of messages a client shows: newest first, `size` per page.
auto messages_page(chat_store& db, std::int64_t conversation_id, std::uint64_t page, std::uint64_t size)
    -> std::vector<message> {
  const auto q = ormkit::query<message>(ormkit::col(&message::conversation_id) == conversation_id)
                     .order_by(&message::id, ormkit::direction::desc)
                     .offset((page - 1) * size)
                     .limit(size);
  // Like seed 002's MessagesCacheKey(conversationID, page).
  const auto key = ormkit::cache_key_builder("chat").add("messages").add(conversation_id).add(page).add(size).str();
  return db.repository<message>().find_cached(q, key).value();
}

// CreateMessageWithCache: the message and the conversation's counters together.
auto post(chat_store& db, std::int64_t conversation_id, std::string role, std::string content, int tokens)
    -> ormkit::result<message> {
  return db.transaction([&](ormkit::transaction&) -> ormkit::result<message> {
    auto c = db.repository<conversation>().get(conversation_id);
    if (!c) return std::move(c).error();
    c->msg_count += 1;
    c->token_count += tokens;
    ORMKIT_TRY(db.repository<conversation>().update(*c));
    return db.repository<message>().insert(
        {.conversation_id = conversation_id, .role = std::move(role), .content = std::move(content), .token_count = tokens});
  });
}

template <class T>
void print_cache(chat_store& db) {
  const auto s = db.cache_stats<T>();
  fmt::print("  {:<13} hits {:>2}  misses {:>2}  loads {:>2}  invalidations {:>2}  queries {}/{}  hit rate {:>3.0f}%\n",
             ormkit::table_name_v<T>, s.hits, s.misses, s.loads, s.invalidations, s.query_hits,
             s.query_hits + s.query_misses, 100 * s.hit_rate());
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  const auto path = std::filesystem::temp_directory_path() / ("ormkit_example15_" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);

  chat_store db(ormkit::sqlite::backend::open({.path = path.string()}).value(),
                ormkit::manager_options{.repository = {.clock = &demo_clock},
                                        .cache = {.tier = ormkit::cache_tier::standard, .negative_ttl = 5s},
                                        .cache_namespace = "chat:" + std::to_string(::getpid())});
  db.migrate().value();

  // The cache: Redis two-level when a server is named, else in process.
  const char* redis_address = std::getenv("ORMKIT_TEST_REDIS");
  if (redis_address != nullptr && *redis_address != '\0') {
    ormkit::redis::two_level_options o;
    o.l2.server = ormkit::redis::options::from_url(redis_address).value();
    o.l2.key_prefix = "example15:" + std::to_string(::getpid()) + ":";
    auto two_level = std::make_unique<ormkit::redis::two_level_store>(o);
    two_level->wait_coherent(5s);
    db.use_cache(std::move(two_level));
  } else {
    db.use_cache(std::make_unique<ormkit::cache::memory_store>());
  }
  // Messages are read by page far more than by key: a short-lived tier for them.
  db.cache_policy_for<message>({.tier = ormkit::cache_tier::short_lived});

  fmt::print("== tenants and users ==\n");
  auto& tenants = db.repository<tenant>();
  auto& users = db.repository<user>();
  const auto acme = tenants.insert({.slug = "acme", .name = "Acme Corp", .plan = "premium"}).value();
  const auto globex = tenants.insert({.slug = "globex", .name = "Globex", .plan = "free"}).value();
  auto add_user = [&](const tenant& t, std::string name, std::string role) {
    return users
        .insert({.tenant_id = t.id, .username = name, .email = name + "@" + t.slug + ".example",
                 .password_hash = "pbkdf2$" + name, .role = std::move(role)})
        .value();
  };
  const auto alice = add_user(acme, "alice", "admin");
  const auto bob = add_user(acme, "bob", "user");
  add_user(globex, "dave", "admin");

  // GetTenantWithCache / GetUserWithCache: the first read loads, the next ones hit.
  for (int i = 0; i < 3; ++i) {
    const auto t = tenants.get(acme.id).value();
    const auto u = users.get(alice.id).value();
    if (i == 0) fmt::print("tenant {} ({}), user {} ({})\n", t.slug, t.plan, u.username, u.role);
  }
  fmt::print("missing user: {}\n", users.get(std::int64_t{999}).error().is(ormkit::errc::not_found) ? "not_found" : "?");
  fmt::print("missing user again: {} (answered from the cache)\n",
             users.get(std::int64_t{999}).error().is(ormkit::errc::not_found) ? "not_found" : "?");

  fmt::print("== conversations and messages ==\n");
  auto& conversations = db.repository<conversation>();
  const auto chat = conversations.insert({.tenant_id = acme.id, .user_id = alice.id, .title = "Quarterly plan"}).value();
  conversations.insert({.tenant_id = acme.id, .user_id = bob.id, .title = "Onboarding"}).value();
  post(db, chat.id, "user", "Draft the Q3 plan", 12).value();
  post(db, chat.id, "assistant", "Here is a first draft", 240).value();
  post(db, chat.id, "user", "Shorter, please", 5).value();
  const auto c = conversations.get(chat.id).value();  // cached after this read
  fmt::print("conversation \"{}\": {} messages, {} tokens\n", c.title, c.msg_count, c.token_count);
  for (int i = 0; i < 2; ++i) {
    const auto page = messages_page(db, chat.id, 1, 2);
    if (i == 0)
      for (const auto& m : page) fmt::print("  #{} {:<9} {}\n", m.id, m.role, m.content);
  }
  post(db, chat.id, "assistant", "Q3: grow, hire, ship", 30).value();  // invalidates the conversation and the pages
  fmt::print("after a new message: page 1 starts with #{}, conversation has {} messages\n",
             messages_page(db, chat.id, 1, 2).front().id, conversations.get(chat.id).value().msg_count);

  fmt::print("== tenant statistics ==\n");
  for (const auto& t : {acme, globex}) {
    const auto n_users = users.count(ormkit::col(&user::tenant_id) == t.id).value();
    const auto n_conversations = conversations.count(ormkit::col(&conversation::tenant_id) == t.id).value();
    fmt::print("  {:<7} users {}  conversations {}\n", t.slug, n_users, n_conversations);
  }
  fmt::print("  messages in \"{}\": {}\n", chat.title,
             db.repository<message>().count(ormkit::col(&message::conversation_id) == chat.id).value());

  fmt::print("== cache statistics ==\n");
  print_cache<tenant>(db);
  print_cache<user>(db);
  print_cache<conversation>(db);
  print_cache<message>(db);
  bool healthy = true;
  for (const auto& check : db.health().checks) healthy = healthy && check.ok;
  fmt::print("health: {}\n", healthy ? "ok" : "FAILED");
  (void)db.cache()->clear("chat:" + std::to_string(::getpid()));
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
}

// Expected output:
// == tenants and users ==
// tenant acme (premium), user alice (admin)
// missing user: not_found
// missing user again: not_found (answered from the cache)
// == conversations and messages ==
// conversation "Quarterly plan": 3 messages, 257 tokens
//   #3 user      Shorter, please
//   #2 assistant Here is a first draft
// after a new message: page 1 starts with #4, conversation has 4 messages
// == tenant statistics ==
//   acme    users 2  conversations 2
//   globex  users 1  conversations 0
//   messages in "Quarterly plan": 4
// == cache statistics ==
//   tenants       hits  2  misses  1  loads  1  invalidations  2  queries 0/0  hit rate  67%
//   users         hits  3  misses  2  loads  2  invalidations  3  queries 0/0  hit rate  60%
//   conversations hits  0  misses  2  loads  2  invalidations  6  queries 0/0  hit rate   0%
//   messages      hits  0  misses  0  loads  0  invalidations  4  queries 1/3  hit rate   0%
// health: ok
