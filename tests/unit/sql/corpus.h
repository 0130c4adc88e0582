// The analyzer corpus: statements with the facts a DBA expects, kept as text
// files under tests/data/sql/ (format described in tests/data/sql/README.md).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace pgmoat::sql::testing {

struct CorpusCase {
    std::string file;
    int line = 0;  // of the sql line
    std::string sql;
    std::vector<std::pair<std::string, std::string>> facts;  // in order, "stmt" switches statement
};

// Throws std::runtime_error naming file:line for malformed files.
std::vector<CorpusCase> read_corpus(const std::string& path);

// Every *.corpus file in a directory, sorted by name.
std::vector<std::string> corpus_files(const std::string& dir);

// Checks one case; returns the mismatches (empty when all facts hold).
std::vector<std::string> check_case(const CorpusCase& c);

}  // namespace pgmoat::sql::testing
