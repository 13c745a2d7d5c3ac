// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// prometheus_problems(text): the test suites' check of Prometheus text exposition
// format 0.0.4 (promtool is not on the test machines).

#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace ormkit_test {

// Checks `text` against the Prometheus text exposition format 0.0.4: comment lines
// (# HELP name text / # TYPE name type), samples `name{label="value",...} number`,
// each sample's family declared by a TYPE line before it, histogram buckets
// cumulative and ending with le="+Inf" equal to _count. Returns the problems.
inline auto prometheus_problems(const std::string& text) -> std::vector<std::string> {
  std::vector<std::string> problems;
  const std::regex help(R"(^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .*$)");
  const std::regex type(R"(^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$)");
  const std::regex sample(
      R"(^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*")*\})? (-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$)");
  std::map<std::string, std::string> types;
  std::map<std::string, double> last_bucket;  // per series without le
  std::istringstream in(text);
  std::string line;
  int n = 0;
  if (text.empty() || text.back() != '\n') problems.push_back("text must end with a newline");
  while (std::getline(in, line)) {
    ++n;
    std::smatch m;
    if (line.rfind("# HELP ", 0) == 0) {
      if (!std::regex_match(line, help)) problems.push_back("line " + std::to_string(n) + ": bad HELP");
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      if (!std::regex_match(line, m, type)) problems.push_back("line " + std::to_string(n) + ": bad TYPE");
      else if (!types.emplace(m[1].str(), m[2].str()).second)
        problems.push_back("line " + std::to_string(n) + ": family typed twice");
      continue;
    }
    if (!std::regex_match(line, m, sample)) {
      problems.push_back("line " + std::to_string(n) + ": not a sample: " + line);
      continue;
    }
    std::string name = m[1].str();
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (!types.count(family) && family.size() > std::string(suffix).size() &&
          family.compare(family.size() - std::string(suffix).size(), std::string::npos, suffix) == 0)
        family = family.substr(0, family.size() - std::string(suffix).size());
    if (!types.count(family)) problems.push_back("line " + std::to_string(n) + ": sample before its TYPE: " + name);
    if (name.size() > 7 && name.compare(name.size() - 7, 7, "_bucket") == 0) {
      // The series: the labels without `le`.
      const std::string series = name + std::regex_replace(m[2].str(), std::regex(R"(,?le="[^"]*")"), "");
      double v = std::stod(m[7].str());
      if (last_bucket.count(series) && v < last_bucket[series])
        problems.push_back("line " + std::to_string(n) + ": buckets not cumulative");
      last_bucket[series] = v;
    }
  }
  return problems;
}

}  // namespace ormkit_test
