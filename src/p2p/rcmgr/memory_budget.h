// MemoryBudget: a node in a tree of memory limits (bytes), in the manner of
// go-libp2p's resource manager scopes (system → peer class → connection).
// A reservation succeeds only if it fits at every level up to the root, and
// is then counted at every level; release() gives it back the same way.
// The yamux session reserves a stream's receive window here before granting
// it to the peer, so the data a peer can make us buffer is bounded per
// connection, per class of peer (members, strangers) and in total.
// Single-threaded: the io_context's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

namespace syndb::p2p {

class MemoryBudget {
 public:
  // limit: bytes this scope and its children may hold together.
  MemoryBudget(std::string name, uint64_t limit, std::shared_ptr<MemoryBudget> parent = nullptr)
      : name_(std::move(name)), limit_(limit), parent_(std::move(parent)) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Reserves n bytes here and in every ancestor; false (and nothing
  // reserved) when any of them would exceed its limit. An optional
  // reservation (a window growing beyond its minimum) may fill only 3/4 of
  // each limit, so new streams still find their minimum.
  bool reserve(uint64_t n, bool optional = false) {
    const uint64_t cap = optional ? limit_ / 4 * 3 : limit_;
    if (used_ + n > cap) {
      ++refused_;
      return false;
    }
    if (parent_ && !parent_->reserve(n, optional)) {
      ++refused_;
      return false;
    }
    used_ += n;
    return true;
  }
  // Gives back n bytes reserved earlier (here and in every ancestor).
  void release(uint64_t n) {
    used_ = n > used_ ? 0 : used_ - n;
    if (parent_) parent_->release(n);
  }

  const std::string& name() const { return name_; }
  uint64_t limit() const { return limit_; }
  uint64_t used() const { return used_; }
  uint64_t refused() const { return refused_; }  // reservations refused at or below this scope

 private:
  std::string name_;
  uint64_t limit_;
  uint64_t used_ = 0;
  uint64_t refused_ = 0;
  std::shared_ptr<MemoryBudget> parent_;
};

}  // namespace syndb::p2p
