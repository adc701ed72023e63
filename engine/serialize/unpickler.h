// unpickler.h — a minimal, strict reader for the pickles inside PyTorch files (state_dicts).
//
// It is a stack machine over the ~35 opcodes that torch.save emits (protocol 2, plus the few
// protocol-4 ones), never executes anything and never imports by name: a GLOBAL is only accepted
// if it is on a short allow-list (collections.OrderedDict, the torch._utils tensor rebuilders, torch.Size,
// the torch.*Storage / torch.*Tensor classes); anything else is an Error "module.name is not allowed".
// A container may not be mutated once it sits inside another container (pickle never needs it
// for state_dicts), which rules out reference cycles and keeps nesting depth exact and bounded.
// Allowed calls are evaluated symbolically: OrderedDict() gives an empty dict, _rebuild_tensor*
// gives a TensorRef (storage, element offset, sizes, strides) — no tensor data is touched here.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/error.h"

namespace fcnlab::pickle {

// Thrown when the pickle runs past the end of the bytes given (the caller may retry with more).
class Truncated : public Error {
 public:
  using Error::Error;
};

// A torch storage named by a persistent id ('storage', torch.FloatStorage, key, location, numel).
struct StorageRef {
  std::string key;       // "0", "1", ... (zip) or an address string (legacy)
  std::string type;      // "FloatStorage", "LongStorage", ...
  int64_t numel = 0;     // elements of `type` in the whole storage
  std::string location;  // "cpu", "cuda:0": ignored
};

// A tensor view of a storage; offset and strides are in elements.
struct TensorRef {
  std::shared_ptr<StorageRef> storage;  // null only for a 0.1.x placeholder before its BUILD
  int64_t offset = 0;
  std::vector<int64_t> sizes, strides;
};

enum class Kind { none, boolean, integer, floating, string, tuple, list, dict, global, storage, tensor };
const char* kind_name(Kind k);

struct Object;
using Ref = std::shared_ptr<Object>;

// One Python value. Containers hold Refs so that the memo aliases them as Python does.
struct Object {
  Kind kind = Kind::none;
  bool b = false;
  int64_t i = 0;
  double f = 0.0;
  std::string s;                            // string, or "module.name" of a global
  std::vector<Ref> items;                   // tuple, list
  std::vector<std::pair<Ref, Ref>> pairs;   // dict, in insertion order (a repeated key: last wins)
  std::shared_ptr<StorageRef> storage;      // storage
  std::shared_ptr<TensorRef> tensor;        // tensor
  int depth = 0;        // container nesting below this object (capped, see unpickler.cpp)
  bool frozen = false;  // a container already placed inside another one: no longer mutable
};

struct Result {
  Ref value;        // what STOP returned
  size_t consumed;  // bytes up to and including STOP
  // Every storage referenced by a persistent id, by key (one object per key, shared by views).
  std::map<std::string, std::shared_ptr<StorageRef>> storages;
};

// Parses one pickle from data[0, size). `what` names the source in error messages.
// Persistent ids must be ('storage', cls, key, location, numel) [zip] or the same plus a sixth
// field view_metadata that must be None [legacy stream].
Result unpickle(const uint8_t* data, size_t size, const std::string& what);

// Bytes per element of a torch storage type ("FloatStorage" -> 4); throws for unknown types.
size_t storage_element_size(const std::string& type);

}  // namespace fcnlab::pickle
