// safetensors.h — reader and writer for the safetensors format (huggingface/safetensors).
//
// Layout: [u64 LE N][N bytes of UTF-8 JSON header][byte buffer, tensors row-major LE].
// Header: {"__metadata__": {"k": "v"}, "NAME": {"dtype": "F32", "shape": [2, 3],
//          "data_offsets": [BEGIN, END]}, ...}, offsets relative to the byte buffer.
// The reader enforces the rules of the reference reader (reference/weights.md §1.3) and also
// rejects duplicate keys and non-string metadata values; every error names the file, the
// tensor or field, and what was expected. The writer produces what the reference writer
// produces: tensors sorted by dtype alignment (descending) then name, compact JSON with
// __metadata__ first, the header padded with spaces to a multiple of 8; written atomically.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/tensor_map.h"

namespace fcnlab {

// Every dtype name of the format, in the reference's declaration order ("increasing
// alignment"); the writer's sort uses this order.
enum class StDType : uint8_t {
  BOOL, F4, F6_E2M3, F6_E3M2, U8, I8, F8_E5M2, F8_E4M3, F8_E8M0, F8_E4M3FNUZ, F8_E5M2FNUZ,
  I16, U16, F16, BF16, I32, U32, F32, C64, F64, I64, U64
};

const char* st_dtype_name(StDType t);
int st_dtype_bits(StDType t);  // 4, 6, 8, 16, 32 or 64
// Looks a name up; returns false for names the format does not define.
bool st_dtype_from_name(const std::string& name, StDType* out);

using SafetensorsMetadata = std::map<std::string, std::string>;

// One header entry as stored in the file.
struct SafetensorsEntry {
  std::string name;
  StDType dtype = StDType::F32;
  std::vector<uint64_t> shape;
  uint64_t begin = 0;  // data_offsets, relative to the byte buffer
  uint64_t end = 0;
};

// A validated header: entries in data-offset order.
struct SafetensorsHeader {
  std::vector<SafetensorsEntry> tensors;
  SafetensorsMetadata metadata;
  uint64_t header_bytes = 0;  // N
  uint64_t data_start = 0;    // 8 + N: where the byte buffer starts in the file
};

struct SafetensorsContents {
  TensorMap tensors;
  SafetensorsMetadata metadata;
};

// Reads and validates only the header (cheap: for inspecting files fcnlab cannot load).
SafetensorsHeader read_safetensors_header(const std::string& path);

// Reads a whole file into CPU tensors. F32, F64, I32 and U8 load as they are; F16 and BF16
// are converted to f32; any other dtype of the format is an error naming it.
SafetensorsContents load_safetensors(const std::string& path);
// The same from bytes in memory; `source` names them in error messages.
SafetensorsContents load_safetensors_buffer(const void* data, size_t size,
                                            const std::string& source = "<memory buffer>");

// The exact bytes save_safetensors writes (tensors on any device; CUDA ones are copied).
std::vector<uint8_t> serialize_safetensors(const TensorMap& tensors,
                                           const SafetensorsMetadata& metadata = {});
// Writes atomically (engine/serialize/atomic_file.h), streaming one tensor at a time.
void save_safetensors(const std::string& path, const TensorMap& tensors,
                      const SafetensorsMetadata& metadata = {});

}  // namespace fcnlab
