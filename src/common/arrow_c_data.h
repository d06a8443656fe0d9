// The Arrow C Data Interface (docs/source/format/CDataInterface.rst in
// apache/arrow): the stable ABI through which DuckDB hands us columnar
// batches. Guarded by the macro the spec prescribes, so it coexists with
// other headers (duckdb.h) that define the same structs.
#pragma once

#include <cstdint>

#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE

#define ARROW_FLAG_DICTIONARY_ORDERED 1
#define ARROW_FLAG_NULLABLE 2
#define ARROW_FLAG_MAP_KEYS_SORTED 4

struct ArrowSchema {
  const char* format;
  const char* name;
  const char* metadata;
  int64_t flags;
  int64_t n_children;
  struct ArrowSchema** children;
  struct ArrowSchema* dictionary;
  void (*release)(struct ArrowSchema*);
  void* private_data;
};

struct ArrowArray {
  int64_t length;
  int64_t null_count;
  int64_t offset;
  int64_t n_buffers;
  int64_t n_children;
  const void** buffers;
  struct ArrowArray** children;
  struct ArrowArray* dictionary;
  void (*release)(struct ArrowArray*);
  void* private_data;
};

#endif  // ARROW_C_DATA_INTERFACE

// The Arrow C Stream Interface (docs/source/format/CStreamInterface.rst).
#ifndef ARROW_C_STREAM_INTERFACE
#define ARROW_C_STREAM_INTERFACE

struct ArrowArrayStream {
  int (*get_schema)(struct ArrowArrayStream*, struct ArrowSchema* out);
  int (*get_next)(struct ArrowArrayStream*, struct ArrowArray* out);
  const char* (*get_last_error)(struct ArrowArrayStream*);
  void (*release)(struct ArrowArrayStream*);
  void* private_data;
};

#endif  // ARROW_C_STREAM_INTERFACE

namespace syndb {

// Owns an ArrowSchema or ArrowArray and calls its release callback once.
template <typename T>
class ArrowOwned {
 public:
  ArrowOwned() { raw_.release = nullptr; }
  ~ArrowOwned() { reset(); }
  ArrowOwned(ArrowOwned&& o) noexcept : raw_(o.raw_) { o.raw_.release = nullptr; }
  ArrowOwned& operator=(ArrowOwned&& o) noexcept {
    if (this != &o) {
      reset();
      raw_ = o.raw_;
      o.raw_.release = nullptr;
    }
    return *this;
  }
  ArrowOwned(const ArrowOwned&) = delete;
  ArrowOwned& operator=(const ArrowOwned&) = delete;
  T* get() { return &raw_; }
  const T* get() const { return &raw_; }
  T* operator->() { return &raw_; }
  const T* operator->() const { return &raw_; }
  void reset() {
    if (raw_.release) raw_.release(&raw_);
    raw_.release = nullptr;
  }

 private:
  T raw_{};
};

using OwnedArrowSchema = ArrowOwned<ArrowSchema>;
using OwnedArrowArray = ArrowOwned<ArrowArray>;

}  // namespace syndb
