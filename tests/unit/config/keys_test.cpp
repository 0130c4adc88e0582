// The key table (keys.h) against the reader, the structs' defaults and README: a
// key renamed, re-defaulted or documented in one place only fails here.
#include "pgmoat/config/keys.h"
#include "pgmoat/common/config_error.h"
#include "pgmoat/common/toml_reader.h"
#include "pgmoat/config/config.h"

#include <doctest/doctest.h>

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>

using namespace pgmoat;
using namespace pgmoat::config;

namespace {

using Tables = std::map<std::string, std::map<std::string, std::string>>;  // table -> key -> TOML value

// A config with one table for each pattern of the key table, holding the keys a
// file must have; `with` adds keys or replaces their values.
std::string config_text(const Tables& with) {
    Tables tables = {
        {"server", {{"credentials", "\"credentials.toml\""}}},
        {"server.tls", {{"cert", "\"server.crt\""}, {"key", "\"server.key\""}}},
        {"policies", {}},
        {"analyzer", {}},
        {"audit", {}},
        {"metrics", {}},
        {"approvals", {}},
        {"targets.t", {{"host", "\"db\""}, {"user", "\"pgmoat\""}, {"pool_mode", "\"transaction\""}}},
        {"apps.a", {{"targets", "[\"t\"]"}}},
        {"peers.1", {{"host", "\"peer\""}}},
    };
    for (const auto& [table, keys] : with)
        for (const auto& [key, value] : keys) tables[table][key] = value;
    std::string text;
    for (const auto& [table, keys] : tables) {
        text += "[" + table + "]\n";
        for (const auto& [key, value] : keys) text += key + " = " + value + "\n";
    }
    return text;
}

std::string concrete(std::string_view table) {
    std::string t(table);
    for (auto [pattern, name] : {std::pair{"targets.*", "targets.t"}, {"apps.*", "apps.a"}, {"peers.*", "peers.1"}})
        if (t == pattern) return name;
    return t;
}

// What no key sets: where a line is written, and the record of what was written.
Config comparable(Config c) {
    c.settings.clear();
    for (auto& [name, t] : c.targets) t.freeze_line = t.production_line = 0;
    return c;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string readme() {
    return read_file(std::string(PGMOAT_SOURCE_DIR) + "/README.md");
}

}  // namespace

TEST_CASE("every key written at its documented default reads as the key left out") {
    Tables extra;
    int written = 0;
    for (const auto& k : keys()) {
        if (k.default_value.empty() || k.path == "targets.*.pool_mode") continue;  // the base sets pool_mode
        extra[concrete(k.table())][std::string(k.name())] = k.default_value;
        ++written;
    }
    CHECK(written > 40);
    Config without = parse_config(config_text({}), "/etc/pgmoat/pgmoat.toml");
    Config with = parse_config(config_text(extra), "/etc/pgmoat/pgmoat.toml");
    CHECK(with.settings.size() >= static_cast<size_t>(written));
    CHECK(comparable(with) == comparable(without));
}

TEST_CASE("every key is read: a wrong type is an error naming it") {
    for (const auto& k : keys()) {
        CAPTURE(k.path);
        // A table where a value belongs: every reader checks the type it asked the table for.
        std::string text = config_text({{concrete(k.table()), {{std::string(k.name()), "{}"}}}});
        try {
            parse_config(text, "/etc/pgmoat/pgmoat.toml");
            FAIL("no error for " << k.path);
        } catch (const ConfigError& e) {
            std::string want = fmt::format("{}.{}: expected", concrete(k.table()), k.name());
            CHECK_MESSAGE(std::string(e.what()).find(want) != std::string::npos, e.what());
        }
    }
}

TEST_CASE("a value outside its range or its allowed values names both") {
    auto error_of = [](const std::string& table, const std::string& line) -> std::string {
        auto eq = line.find(" = ");
        try {
            parse_config(config_text({{table, {{line.substr(0, eq), line.substr(eq + 3, line.size() - eq - 4)}}}}),
                         "/etc/pgmoat/pgmoat.toml");
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "no error";
    };
    CHECK(error_of("targets.t", "sslmode = \"verify-ca\"\n")
              .find("targets.t.sslmode: expected one of disable, require, verify-full, found \"verify-ca\"") !=
          std::string::npos);
    CHECK(error_of("targets.t", "session_state = \"keep\"\n")
              .find("targets.t.session_state: expected pin or reject, found \"keep\"") != std::string::npos);
    CHECK(error_of("metrics", "readiness_interval = \"99ms\"\n")
              .find("metrics.readiness_interval: must be at least 100ms") != std::string::npos);
    CHECK(error_of("approvals", "webhook_timeout = \"61s\"\n")
              .find("approvals.webhook_timeout: must be between 100ms and 60s") != std::string::npos);
    CHECK(
        error_of("targets.t", "pool_wait_timeout = 0\n").find("targets.t.pool_wait_timeout: must be greater than 0") !=
        std::string::npos);
    CHECK(error_of("analyzer", "max_statement_size = \"1GB\"\n") == "no error");
    CHECK(error_of("analyzer", "max_statement_size = 1073741825\n")
              .find("analyzer.max_statement_size: must be between 1kB and 1GB") != std::string::npos);
    CHECK(error_of("server", "peer_id = 256\n").find("server.peer_id: 256 is out of range [0, 255]") !=
          std::string::npos);
}

TEST_CASE("a reload reports the restart-only keys that changed, and only those") {
    Config started = parse_config(config_text({{"server", {{"threads", "2"}}}}), "/etc/pgmoat/pgmoat.toml");
    Config same =
        parse_config(config_text({{"server", {{"threads", "2"}, {"idle_timeout", "\"5m\""}}}}), "/etc/pgmoat/x.toml");
    CHECK(restart_only_changes(started, same).empty());  // idle_timeout applies on reload
    Config fresh = parse_config(config_text({{"server", {{"threads", "4"}, {"listen", "\"0.0.0.0:7000\""}}},
                                             {"audit", {{"fsync", "\"every_record\""}}}}),
                                "/etc/pgmoat/pgmoat.toml");
    auto changes = restart_only_changes(started, fresh);
    REQUIRE(changes.size() == 3);
    CHECK(changes[0] == "audit.fsync (its default -> 'every_record')");
    CHECK(changes[1] == "server.listen (its default -> '0.0.0.0:7000')");
    CHECK(changes[2] == "server.threads (2 -> 4)");
    // Back to the value it started with: nothing waits for a restart any more.
    CHECK(restart_only_changes(started, started).empty());
}

TEST_CASE("[metrics] alone turns the endpoint on, and a reload sees that") {
    std::string text = config_text({});
    auto at = text.find("[metrics]\n");
    std::string without_metrics = text.substr(0, at) + text.substr(at + 10);
    Config off = parse_config(without_metrics, "/etc/pgmoat/pgmoat.toml");
    Config on = parse_config(text, "/etc/pgmoat/pgmoat.toml");
    CHECK_FALSE(off.metrics.enabled);
    CHECK(on.metrics.enabled);
    REQUIRE(restart_only_changes(off, on).size() == 1);
    CHECK(restart_only_changes(off, on)[0] == "metrics.enabled (its default -> true)");
}

TEST_CASE("README's configuration reference is the one `pgmoat config-reference` prints") {
    std::string text = readme();
    const std::string begin = "<!-- config-reference: generated by `pgmoat config-reference`, do not edit -->\n";
    const std::string end = "<!-- /config-reference -->";
    auto from = text.find(begin);
    REQUIRE(from != std::string::npos);
    from += begin.size();
    auto to = text.find(end, from);
    REQUIRE(to != std::string::npos);
    CHECK_MESSAGE(text.substr(from, to - from) == reference_markdown(),
                  "README.md's block differs: run `pgmoat config-reference` and paste its output between the markers");
}

TEST_CASE("README's annotated examples use only keys of the table, with valid values") {
    std::string text = readme();
    auto section = text.substr(text.find("\n## Configuration\n"));
    section = section.substr(0, section.find("\n### Credentials\n"));
    int blocks = 0;
    for (size_t at = section.find("```toml\n"); at != std::string::npos; at = section.find("```toml\n", at)) {
        at += 8;
        std::string block = section.substr(at, section.find("```\n", at) - at);
        ++blocks;
        toml::table doc = parse_toml(block, "README.md");
        // Walks tables; a key whose value is not a table must be in the key table.
        std::function<void(const toml::table&, const std::string&)> walk = [&](const toml::table& t,
                                                                               const std::string& path) {
            for (const auto& [k, v] : t) {
                std::string key(k.str());
                if (const auto* sub = v.as_table()) {
                    walk(*sub, path.empty() ? key : path + "." + key);
                    continue;
                }
                CHECK_MESSAGE(find_key(path, key), "README example key ", path, ".", key, " is not in keys.cpp");
            }
        };
        walk(doc, "");
        if (blocks == 1) {
            // The full example reads as a config, so its values are valid too.
            auto dir = std::filesystem::temp_directory_path() / "pgmoat-keys-test";
            std::filesystem::create_directories(dir);
            std::ofstream((dir / "prod.password").string()) << "secret\n";
            std::filesystem::permissions(dir / "prod.password",
                                         std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
            CHECK_NOTHROW(parse_config(block, (dir / "pgmoat.toml").string()));
            std::filesystem::remove_all(dir);
        }
    }
    CHECK(blocks >= 2);
}
