// Filesystem helpers shared by the unit, interop and integration tests: a
// fresh per-test directory (MakeTempDir / RemoveTree, and the TempDirTest
// fixture built on them) and whole-file reads.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace syndb::test_support {

// Creates a fresh directory $TMPDIR/<prefix>XXXXXX (/tmp when TMPDIR is unset
// or empty) with mkdtemp. Returns its path, or "" with errno set on failure.
inline std::string MakeTempDir(std::string_view prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/" + std::string(prefix) + "XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

// Removes dir and everything below it, first giving the owner full access to
// every entry (so read-only files and directories do not stop it). Errors are
// ignored; an empty dir is a no-op.
inline void RemoveTree(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  if (dir.empty()) return;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(dir, ec);
}

// The whole file ("" when it cannot be read).
inline std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Fixture: dir_ is a fresh MakeTempDir(prefix) per test, removed by TearDown
// (RemoveTree). A derived fixture passes its prefix to the constructor, and
// calls TempDirTest::SetUp() / TearDown() first / last when it overrides them.
class TempDirTest : public ::testing::Test {
 protected:
  explicit TempDirTest(std::string prefix) : prefix_(std::move(prefix)) {}

  void SetUp() override {
    dir_ = MakeTempDir(prefix_);
    ASSERT_FALSE(dir_.empty()) << "mkdtemp: " << std::strerror(errno);
  }
  void TearDown() override { RemoveTree(dir_); }

  std::string dir_;

 private:
  std::string prefix_;
};

}  // namespace syndb::test_support
