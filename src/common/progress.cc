#include "common/progress.h"

#include <unistd.h>

#include <cstdio>

namespace syndb {

Progress::Progress(std::string label)
    : label_(std::move(label)), enabled_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() { finish(); }

void Progress::add(uint64_t rows, uint64_t bytes) {
  rows_ += rows;
  bytes_ += bytes;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_ >= std::chrono::milliseconds(100)) {
    last_ = now;
    draw();
  }
}

void Progress::draw() {
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (secs <= 0) secs = 1e-9;
  std::fprintf(stderr, "\r%s: %llu rows, %.1f MB  (%.0f rows/s, %.1f MB/s)   ", label_.c_str(),
               static_cast<unsigned long long>(rows_), bytes_ / 1e6, rows_ / secs, bytes_ / 1e6 / secs);
  std::fflush(stderr);
  drawn_ = true;
}

void Progress::finish() {
  if (!enabled_) return;
  draw();
  std::fprintf(stderr, "\n");
  enabled_ = false;
}

}  // namespace syndb
