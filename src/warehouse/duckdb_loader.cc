#include "warehouse/duckdb_loader.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace syndb::warehouse {

namespace {
void* g_handle = nullptr;
std::string g_error;
}  // namespace

Status load_duckdb() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* env = std::getenv("SYNDB_DUCKDB_LIBRARY");
    std::string path = env && *env ? env : SYNDB_DUCKDB_LIBRARY;
    g_handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!g_handle) {
      const char* e = dlerror();
      g_error = "cannot load DuckDB (" + path + "): " + (e ? e : "unknown error") + "; run scripts/setup.sh";
    }
  });
  if (!g_handle) return Error(ErrorCode::kUnsupported, g_error);
  return ok_status();
}

void* duckdb_symbol(const char* name) {
  void* p = g_handle ? dlsym(g_handle, name) : nullptr;
  if (!p) {
    std::fprintf(stderr, "syndb: DuckDB function %s is missing (%s)\n", name,
                 g_handle ? "libduckdb.so older than duckdb.h" : "DuckDB not loaded");
    std::abort();
  }
  return p;
}

}  // namespace syndb::warehouse
