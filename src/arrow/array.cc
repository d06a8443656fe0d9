#include "arrow/array.h"

#include <cstdlib>
#include <new>

namespace syndb::arrow {

std::shared_ptr<Memory> Memory::allocate(size_t size) {
  const size_t padded = (size + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, padded == 0 ? 64 : padded);
  if (p == nullptr) return nullptr;
  // Only the padding needs zeroing: callers overwrite the first `size` bytes.
  if (padded > size) std::memset(static_cast<uint8_t*>(p) + size, 0, padded - size);
  auto* mem = new (std::nothrow) Memory(static_cast<uint8_t*>(p), size);
  if (mem == nullptr) {
    std::free(p);
    return nullptr;
  }
  return std::shared_ptr<Memory>(mem);
}

Memory::~Memory() { std::free(data_); }

const void* zero_buffer() {
  alignas(64) static const uint8_t kZeros[64] = {};
  return kZeros;
}

const void* make_buffer(ArrayData& owner, std::span<const uint8_t> bytes) {
  auto mem = Memory::allocate(bytes.size());
  if (!mem) return nullptr;
  if (!bytes.empty()) std::memcpy(mem->data(), bytes.data(), bytes.size());
  const void* p = mem->data();
  owner.memory.push_back(std::move(mem));
  return p;
}

namespace {

struct ArrayPrivate {
  std::shared_ptr<const ArrayData> data;
  std::unique_ptr<const void*[]> buffers;
  std::unique_ptr<ArrowArray[]> children;
  std::unique_ptr<ArrowArray*[]> child_ptrs;
  int64_t n_children = 0;
  std::unique_ptr<ArrowArray> dictionary;
};

void release_array(ArrowArray* a) {
  if (a == nullptr || a->release == nullptr) return;
  auto* p = static_cast<ArrayPrivate*>(a->private_data);
  for (int64_t i = 0; i < p->n_children; ++i) {
    ArrowArray* c = p->child_ptrs[i];
    if (c->release) c->release(c);
  }
  if (p->dictionary && p->dictionary->release) p->dictionary->release(p->dictionary.get());
  delete p;
  a->release = nullptr;
  a->private_data = nullptr;
}

}  // namespace

void export_array(std::shared_ptr<const ArrayData> data, ArrowArray* out) {
  auto* p = new ArrayPrivate;
  const size_t nb = data->buffers.size();
  p->buffers = std::make_unique<const void*[]>(nb == 0 ? 1 : nb);
  for (size_t i = 0; i < nb; ++i) p->buffers[i] = data->buffers[i];
  const size_t nc = data->children.size();
  p->n_children = static_cast<int64_t>(nc);
  if (nc > 0) {
    p->children = std::make_unique<ArrowArray[]>(nc);
    p->child_ptrs = std::make_unique<ArrowArray*[]>(nc);
    for (size_t i = 0; i < nc; ++i) {
      p->child_ptrs[i] = &p->children[i];
      export_array(data->children[i], &p->children[i]);
    }
  }
  if (data->dictionary) {
    p->dictionary = std::make_unique<ArrowArray>();
    export_array(data->dictionary, p->dictionary.get());
  }
  out->length = data->length;
  out->null_count = data->null_count;
  out->offset = data->offset;
  out->n_buffers = static_cast<int64_t>(nb);
  out->n_children = p->n_children;
  out->buffers = p->buffers.get();
  out->children = nc > 0 ? p->child_ptrs.get() : nullptr;
  out->dictionary = p->dictionary.get();
  out->release = &release_array;
  out->private_data = p;
  p->data = std::move(data);
}

void export_batch(int64_t length, std::vector<std::shared_ptr<const ArrayData>> columns, ArrowArray* out) {
  auto root = std::make_shared<ArrayData>();
  root->length = length;
  root->null_count = 0;
  root->buffers = {nullptr};
  root->children = std::move(columns);
  export_array(std::move(root), out);
}

}  // namespace syndb::arrow
