// Progress: a one-line progress display on stderr (rows, bytes, rates),
// redrawn at most every 100 ms, and silent when stderr is not a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace syndb {

class Progress {
 public:
  explicit Progress(std::string label);
  ~Progress();  // ends the line if anything was drawn
  // Adds to the counters; redraws when due.
  void add(uint64_t rows, uint64_t bytes);
  void finish();
  uint64_t rows() const { return rows_; }
  uint64_t bytes() const { return bytes_; }

 private:
  void draw();
  std::string label_;
  bool enabled_;
  bool drawn_ = false;
  uint64_t rows_ = 0, bytes_ = 0;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace syndb
