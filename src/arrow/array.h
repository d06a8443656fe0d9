// Owned Arrow arrays: an immutable tree of buffers (ArrayData) that can be
// exported as Arrow C Data Interface ArrowArrays without copying.
//
// The IPC reader builds ArrayData trees pointing into one 64-byte-aligned
// copy of each message body (plus any decompressed buffers); the exported
// ArrowArray of every node holds a reference to its ArrayData, so the memory
// lives until the last exported node (the root, or a child a consumer moved
// out) is released. Tests and metadata replies build small arrays the same
// way from vectors (see make_buffer).
//
// Thread-safety: ArrayData is immutable once built and may be shared across
// threads; exported ArrowArrays follow the C Data Interface rules (one owner).
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "common/arrow_c_data.h"

namespace syndb::arrow {

// A block of memory, 64-byte aligned, zero-filled up to a multiple of 64.
class Memory {
 public:
  // Allocates `size` bytes (zeroed padding after them); nullptr on failure.
  static std::shared_ptr<Memory> allocate(size_t size);
  ~Memory();
  Memory(const Memory&) = delete;
  Memory& operator=(const Memory&) = delete;
  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  Memory(uint8_t* data, size_t size) : data_(data), size_(size) {}
  uint8_t* data_;
  size_t size_;
};

// 64 zero bytes, 64-byte aligned: stands in for empty buffers (an empty
// offsets buffer reads as a single 0 offset).
const void* zero_buffer();

struct ArrayData {
  int64_t length = 0;
  int64_t null_count = 0;
  int64_t offset = 0;
  std::vector<const void*> buffers;  // as the C Data Interface lays them out
  std::vector<std::shared_ptr<const ArrayData>> children;
  std::shared_ptr<const ArrayData> dictionary;
  std::vector<std::shared_ptr<const Memory>> memory;  // keeps `buffers` alive
};

// Copies `bytes` into new aligned memory and records it in `owner`; returns the data pointer.
const void* make_buffer(ArrayData& owner, std::span<const uint8_t> bytes);
template <typename T>
const void* make_buffer(ArrayData& owner, const std::vector<T>& values) {
  return make_buffer(owner, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()),
                                                     values.size() * sizeof(T)));
}

// Exports `data` as a new owned ArrowArray (*out must be released by its consumer).
void export_array(std::shared_ptr<const ArrayData> data, ArrowArray* out);

// Exports a record batch: a struct array of `length` rows whose children are `columns`.
void export_batch(int64_t length, std::vector<std::shared_ptr<const ArrayData>> columns, ArrowArray* out);

}  // namespace syndb::arrow
