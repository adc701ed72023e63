// pth.h — native import of PyTorch state_dict files (no Python at run time).
//
// Both containers torch.save has used since 0.1.10 are read, detected from the first bytes:
//   zip     torch >= 1.6 default: <root>/data.pkl + <root>/data/<key> stored records;
//   legacy  torch 0.1.10-1.5 and _use_new_zipfile_serialization=False: five pickles + raw storages
//           (torchvision's vgg16-397923af.pth, whose tensors use torch._utils._rebuild_tensor).
// Not supported, with a clear error: the legacy tar container (torch <= 0.1.9), TorchScript
// archives (torch.jit.save), compressed zip entries, big-endian files, pickled modules/objects.
//
// Tensors become fcnlab dtypes: f32 <- float32, float16, bfloat16 (exact widening);
// f64 <- float64; i32 <- int32, int16, int8 and int64 (each value range-checked: an int64
// outside int32 is an Error naming the tensor); u8 <- uint8, bool. Non-contiguous strides are
// materialised row-major; tensors sharing one storage (views, offsets) each get their own copy.
// Nested dicts are flattened with dots ({'model': {'fc.weight': ..}} -> "model.fc.weight"),
// list/tuple elements by index; non-tensor values (epoch, lr, _metadata) are skipped.
// Every error names the file: "load_pth('x.pth'): ...".
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/tensor_map.h"

namespace fcnlab {

enum class PthFormat { zip, legacy };
const char* pth_format_name(PthFormat f);

struct PthFile {
  PthFormat format = PthFormat::zip;
  TensorMap tensors;
  std::vector<std::string> skipped;  // dotted names of non-tensor leaves that were ignored
};

PthFile read_pth(const std::string& path);
TensorMap load_pth(const std::string& path);  // read_pth(path).tensors
// The same from bytes already in memory; `name` stands for the file in error messages.
PthFile read_pth_bytes(const std::string& name, std::vector<uint8_t> bytes);

// A published weight file that can be checked with verify_file (engine/serialize/sha256.h).
struct KnownWeightFile {
  const char* name;
  const char* url;
  int64_t size;
  const char* sha256;
};

// torchvision VGG16 IMAGENET1K_V1 (legacy stream, _rebuild_tensor); see weights/README.md.
inline constexpr KnownWeightFile kVgg16Torchvision = {
    "vgg16-397923af.pth", "https://download.pytorch.org/models/vgg16-397923af.pth", 553433881,
    "397923af8e79cdbb6a7127f12361acd7a2f83e06b05044ddf496e83de57a5bf0"};

}  // namespace fcnlab
