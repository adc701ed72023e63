// pth.cpp — format detection, the zip and legacy-stream containers, and turning the unpickled
// TensorRefs (storage, element offset, sizes, strides) into contiguous fcnlab tensors.
#include "engine/serialize/pth.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <new>
#include <set>
#include <utility>

#include "engine/serialize/unpickler.h"
#include "engine/serialize/zip_reader.h"

namespace fcnlab {

static_assert(std::endian::native == std::endian::little, "the .pth reader assumes a little-endian host");

namespace {

// Where the bytes of one storage live in the file.
struct StorageLocation {
  uint64_t offset = 0;
  uint64_t nbytes = 0;
};
using StorageLocations = std::map<std::string, StorageLocation>;
using NamedTensorRefs = std::vector<std::pair<std::string, std::shared_ptr<pickle::TensorRef>>>;

// The 15 bytes pickle.dump(0x1950a86a20f9469cfc6c) writes: PROTO n, LONG1 10 <LE bytes>, STOP.
constexpr uint8_t kLegacyMagicLong[12] = {0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                          0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

bool looks_like_legacy(const uint8_t* h, size_t n) {
  return n >= 15 && h[0] == 0x80 && std::memcmp(h + 2, kLegacyMagicLong, 12) == 0 && h[14] == '.';
}

uint64_t u64le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

// ---------------------------------------------------------------- flattening the object tree

void flatten(const pickle::Ref& o, const std::string& name, NamedTensorRefs& out,
             std::vector<std::string>& skipped) {
  auto child = [&](const std::string& k) { return name.empty() ? k : name + "." + k; };
  switch (o->kind) {
    case pickle::Kind::tensor: out.emplace_back(name, o->tensor); break;
    case pickle::Kind::dict:
      for (const auto& [k, v] : o->pairs)
        flatten(v, child(k->kind == pickle::Kind::string ? k->s : std::to_string(k->i)), out, skipped);
      break;
    case pickle::Kind::list:
    case pickle::Kind::tuple:
      for (size_t i = 0; i < o->items.size(); ++i) flatten(o->items[i], child(std::to_string(i)), out, skipped);
      break;
    default: skipped.push_back(name); break;
  }
}

// ---------------------------------------------------------------- tensors

enum class Src { f32, f64, f16, bf16, i64, i32, i16, i8, u8, boolean };

Src source_type(const std::string& storage_type) {
  static const std::pair<const char*, Src> table[] = {
      {"FloatStorage", Src::f32}, {"DoubleStorage", Src::f64}, {"HalfStorage", Src::f16},
      {"BFloat16Storage", Src::bf16}, {"LongStorage", Src::i64}, {"IntStorage", Src::i32},
      {"ShortStorage", Src::i16}, {"CharStorage", Src::i8}, {"ByteStorage", Src::u8},
      {"BoolStorage", Src::boolean}};
  for (const auto& [n, s] : table)
    if (storage_type == n) return s;
  FCNLAB_FAIL("unsupported storage type ", storage_type);
}

DType target_dtype(Src s) {
  switch (s) {
    case Src::f32: case Src::f16: case Src::bf16: return DType::f32;
    case Src::f64: return DType::f64;
    case Src::i64: case Src::i32: case Src::i16: case Src::i8: return DType::i32;
    case Src::u8: case Src::boolean: return DType::u8;
  }
  return DType::f32;
}

// IEEE binary16 -> binary32, exact (normals, subnormals, inf, nan).
float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (man << 13);
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (man << 13);
  } else if (man == 0) {
    bits = sign;
  } else {  // subnormal: normalise the mantissa
    int e = -1;
    do { man <<= 1; ++e; } while (!(man & 0x400));
    bits = sign | (uint32_t(112 - e) << 23) | ((man & 0x3ff) << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Converts element `i` of `src` (type s) into element `k` of dst. Integer narrowing is checked.
void convert_one(Src s, const uint8_t* src, void* dst, int64_t k, const std::string& name) {
  switch (s) {
    case Src::f32: std::memcpy(static_cast<float*>(dst) + k, src, 4); break;
    case Src::f64: std::memcpy(static_cast<double*>(dst) + k, src, 8); break;
    case Src::f16: {
      uint16_t h;
      std::memcpy(&h, src, 2);
      static_cast<float*>(dst)[k] = half_to_float(h);
      break;
    }
    case Src::bf16: {
      uint32_t bits = uint32_t(src[0]) << 16 | uint32_t(src[1]) << 24;
      std::memcpy(static_cast<float*>(dst) + k, &bits, 4);
      break;
    }
    case Src::i64: {
      int64_t v;
      std::memcpy(&v, src, 8);
      FCNLAB_CHECK(v >= INT32_MIN && v <= INT32_MAX, "tensor '", name, "' (int64): value ", v,
                   " at flat index ", k, " does not fit fcnlab's 32-bit integer type i32");
      static_cast<int32_t*>(dst)[k] = static_cast<int32_t>(v);
      break;
    }
    case Src::i32: std::memcpy(static_cast<int32_t*>(dst) + k, src, 4); break;
    case Src::i16: {
      int16_t v;
      std::memcpy(&v, src, 2);
      static_cast<int32_t*>(dst)[k] = v;
      break;
    }
    case Src::i8: static_cast<int32_t*>(dst)[k] = static_cast<int8_t>(src[0]); break;
    case Src::u8: static_cast<uint8_t*>(dst)[k] = src[0]; break;
    case Src::boolean: static_cast<uint8_t*>(dst)[k] = src[0] ? 1 : 0; break;
  }
}

Tensor materialise(const RandomAccessFile& file, const StorageLocations& where,
                   const pickle::TensorRef& t, const std::string& name) {
  FCNLAB_CHECK(t.storage, "tensor '", name, "' was created but never given a storage");
  const pickle::StorageRef& st = *t.storage;
  const Src src = source_type(st.type);
  const size_t es = pickle::storage_element_size(st.type);
  const int nd = static_cast<int>(t.sizes.size());
  FCNLAB_CHECK(nd <= Shape::kMaxDims, "tensor '", name, "' has ", nd, " dimensions; fcnlab supports ",
               "at most ", Shape::kMaxDims);
  // numel and the highest element touched, with overflow checks (sizes come from the file).
  unsigned __int128 numel = 1, last = static_cast<uint64_t>(t.offset);
  for (int d = 0; d < nd; ++d) {
    numel *= static_cast<uint64_t>(t.sizes[d]);
    FCNLAB_CHECK(numel < (uint64_t{1} << 48), "tensor '", name, "' is implausibly large");
  }
  // Zero or overlapping strides (expand, as_strided) can make a view larger than its storage;
  // allow that only up to 2^31 elements so a hostile file cannot demand terabytes.
  FCNLAB_CHECK(numel <= std::max<uint64_t>(static_cast<uint64_t>(st.numel), uint64_t{1} << 31),
               "tensor '", name, "' has ", uint64_t(numel), " elements, more than its storage '",
               st.key, "' (", st.numel, ") and more than 2^31");
  if (numel > 0) {
    for (int d = 0; d < nd; ++d)
      last += static_cast<unsigned __int128>(t.sizes[d] - 1) * static_cast<uint64_t>(t.strides[d]);
    FCNLAB_CHECK(last < static_cast<uint64_t>(st.numel), "tensor '", name, "' (storage offset ",
                 t.offset, ", size and stride from the file) reaches element ", uint64_t(last),
                 " of storage '", st.key, "', which has only ", st.numel, " elements");
  }
  Tensor out = Tensor::empty(Shape(t.sizes), target_dtype(src));
  if (numel == 0) return out;
  const StorageLocation& loc = where.at(st.key);
  const uint64_t first_byte = loc.offset + static_cast<uint64_t>(t.offset) * es;

  bool contiguous = true;
  for (int64_t d = nd - 1, expect = 1; d >= 0; --d) {
    if (t.sizes[d] != 1 && t.strides[d] != expect) contiguous = false;
    expect *= t.sizes[d];
  }
  const bool same_bits = src == Src::f32 || src == Src::f64 || src == Src::i32 || src == Src::u8;
  if (contiguous && same_bits) {  // the common case (all of VGG16): straight into the tensor
    file.read(first_byte, out.raw_data(), static_cast<uint64_t>(numel) * es, name.c_str());
    return out;
  }
  // Read the span the view touches, then gather element by element in row-major order.
  const uint64_t span = static_cast<uint64_t>(last) - static_cast<uint64_t>(t.offset) + 1;
  std::vector<uint8_t> buf = file.read(first_byte, span * es, name.c_str());
  std::vector<int64_t> idx(static_cast<size_t>(nd), 0);
  int64_t at = 0;  // element index inside buf
  for (int64_t k = 0; k < static_cast<int64_t>(numel); ++k) {
    convert_one(src, buf.data() + static_cast<size_t>(at) * es, out.raw_data(), k, name);
    for (int d = nd - 1; d >= 0; --d) {  // odometer step
      if (++idx[d] < t.sizes[d]) {
        at += t.strides[d];
        break;
      }
      at -= (t.sizes[d] - 1) * t.strides[d];
      idx[d] = 0;
    }
  }
  return out;
}

// Turns the unpickled root object into named tensors.
PthFile collect(const pickle::Ref& root, const RandomAccessFile& file, const StorageLocations& where,
                PthFormat format) {
  FCNLAB_CHECK(root->kind == pickle::Kind::dict, "the pickled object is a ",
               pickle::kind_name(root->kind), ", expected a dict (a state_dict or a checkpoint)");
  PthFile r;
  r.format = format;
  NamedTensorRefs refs;
  flatten(root, "", refs, r.skipped);
  for (const auto& [name, ref] : refs) {
    FCNLAB_CHECK(!r.tensors.count(name), "two tensors are both named '", name, "' after flattening");
    r.tensors.emplace(name, materialise(file, where, *ref, name));
  }
  return r;
}

// ---------------------------------------------------------------- the zip container

PthFile read_zip(RandomAccessFile file) {
  ZipReader zip(std::move(file));
  FCNLAB_CHECK(!zip.entries().empty(), "zip archive has no entries");
  const std::string& first = zip.entries().front().name;
  size_t slash = first.find('/');
  FCNLAB_CHECK(slash != std::string::npos && slash > 0, "zip entry '", first, "' has no '<root>/' "
               "prefix: not a torch.save archive");
  const std::string root = first.substr(0, slash + 1);
  FCNLAB_CHECK(!zip.find(root + "constants.pkl"), "this is a TorchScript archive (torch.jit.save), "
               "not a state_dict: in Python, torch.save(model.state_dict(), path) instead");
  const ZipEntry* pkl = zip.find(root + "data.pkl");
  FCNLAB_CHECK(pkl, "no '", root, "data.pkl' record: not a torch.save archive");
  if (const ZipEntry* bo = zip.find(root + "byteorder")) {
    std::vector<uint8_t> b = zip.read(*bo);
    FCNLAB_CHECK(std::string(b.begin(), b.end()) == "little", "storages are stored '",
                 std::string(b.begin(), b.end()), "'-endian; only little-endian is supported");
  }
  std::vector<uint8_t> bytes = zip.read(*pkl);
  pickle::Result res = pickle::unpickle(bytes.data(), bytes.size(), root + "data.pkl");
  StorageLocations where;
  for (const auto& [key, st] : res.storages) {
    const ZipEntry* e = zip.find(root + "data/" + key);
    FCNLAB_CHECK(e, "storage '", key, "' has no record '", root, "data/", key, "'");
    uint64_t need = static_cast<uint64_t>(st->numel) * pickle::storage_element_size(st->type);
    FCNLAB_CHECK(e->size == need, "record '", e->name, "' has ", e->size, " bytes, but storage '",
                 key, "' is ", st->type, "[", st->numel, "] = ", need, " bytes");
    where[key] = {zip.data_offset(*e), need};
  }
  return collect(res.value, zip.file(), where, PthFormat::zip);
}

// ---------------------------------------------------------------- the legacy stream

struct LegacyPickles {
  pickle::Result main;
  std::vector<std::string> keys;  // storage keys in the order their data follows
  uint64_t end = 0;               // offset of the first storage header
};

// Parses the five pickles from a prefix of the file; throws pickle::Truncated if it is too short.
LegacyPickles parse_legacy_pickles(const std::vector<uint8_t>& b) {
  size_t pos = 15;  // after the magic number (checked by the caller)
  auto next = [&](const char* what) {
    pickle::Result r = pickle::unpickle(b.data() + pos, b.size() - pos, what);
    pos += r.consumed;
    return r;
  };
  pickle::Result version = next("legacy protocol version");
  FCNLAB_CHECK(version.value->kind == pickle::Kind::integer && version.value->i == 1001,
               "legacy protocol version is not 1001");
  pickle::Result sys = next("legacy sys_info");
  FCNLAB_CHECK(sys.value->kind == pickle::Kind::dict, "legacy sys_info is not a dict");
  bool little = false;
  for (const auto& [k, v] : sys.value->pairs)
    if (k->kind == pickle::Kind::string && k->s == "little_endian")
      little = v->kind == pickle::Kind::boolean && v->b;
  FCNLAB_CHECK(little, "file was written on a big-endian machine (sys_info little_endian is not "
               "True); only little-endian files are supported");
  LegacyPickles r{next("legacy main pickle"), {}, 0};
  pickle::Result keys = next("legacy storage key list");
  FCNLAB_CHECK(keys.value->kind == pickle::Kind::list, "legacy storage key list is not a list");
  for (const pickle::Ref& k : keys.value->items) {
    FCNLAB_CHECK(k->kind == pickle::Kind::string, "legacy storage key is not a string");
    r.keys.push_back(k->s);
  }
  r.end = pos;
  return r;
}

PthFile read_legacy(RandomAccessFile file) {
  // The pickles are small but of unknown length: parse a prefix, growing it if it was too short.
  uint64_t len = std::min<uint64_t>(file.size(), 1 << 16);
  LegacyPickles p;
  while (true) {
    std::vector<uint8_t> head = file.read(0, len, "legacy header");
    try {
      p = parse_legacy_pickles(head);
      break;
    } catch (const pickle::Truncated&) {
      if (len == file.size()) throw;
      len = std::min<uint64_t>(file.size(), len * 4);
    }
  }
  // Storages follow in key-list order: int64 LE element count, then count * itemsize bytes.
  StorageLocations where;
  std::set<std::string> seen;
  uint64_t pos = p.end;
  for (const std::string& key : p.keys) {
    FCNLAB_CHECK(seen.insert(key).second, "storage key '", key, "' is listed twice");
    auto it = p.main.storages.find(key);
    FCNLAB_CHECK(it != p.main.storages.end(), "storage key '", key, "' is listed but no tensor uses "
                 "it, so its element size is unknown");
    const pickle::StorageRef& st = *it->second;
    uint8_t count[8];
    file.read(pos, count, 8, "legacy storage header");
    FCNLAB_CHECK(u64le(count) == static_cast<uint64_t>(st.numel), "storage '", key, "' at byte ",
                 pos, " says ", u64le(count), " elements, the pickle says ", st.numel);
    uint64_t nbytes = static_cast<uint64_t>(st.numel) * pickle::storage_element_size(st.type);
    FCNLAB_CHECK(nbytes <= file.size() - pos - 8, "file is truncated: storage '", key, "' needs bytes [",
                 pos + 8, ", ", pos + 8 + nbytes, ") but the file has only ", file.size(), " bytes");
    where[key] = {pos + 8, nbytes};
    pos += 8 + nbytes;
  }
  for (const auto& [key, st] : p.main.storages)
    FCNLAB_CHECK(where.count(key), "storage '", key, "' is used by a tensor but has no data");
  FCNLAB_CHECK(pos == file.size(), file.size() - pos, " unexpected bytes after the last storage "
               "(ends at byte ", pos, ")");
  return collect(p.main.value, file, where, PthFormat::legacy);
}

std::string hex_bytes(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (i) s += ' ';
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

PthFile read_any(RandomAccessFile file) {
  FCNLAB_CHECK(file.size() > 0, "file is empty");
  std::vector<uint8_t> h = file.read(0, std::min<uint64_t>(file.size(), 512), "file header");
  if (looks_like_zip(h.data(), h.size())) return read_zip(std::move(file));
  if (looks_like_legacy(h.data(), h.size())) return read_legacy(std::move(file));
  FCNLAB_CHECK(!(h.size() >= 262 && std::memcmp(h.data() + 257, "ustar", 5) == 0),
               "this is a legacy tar .pth (torch <= 0.1.9), which is not supported: load it in "
               "Python and torch.save it again");
  FCNLAB_CHECK(!(h.size() >= 9 && h[8] == '{' && u64le(h.data()) < file.size()),
               "this looks like a safetensors file, not a PyTorch .pth: use the safetensors reader");
  FCNLAB_FAIL("not a PyTorch file: it starts with ", hex_bytes(h.data(), std::min<size_t>(h.size(), 8)),
              ", which is neither a ZIP header (50 4b 03 04) nor the legacy torch magic "
              "(80 02 8a 0a 6c fc 9c 46 ...)");
}

}  // namespace

const char* pth_format_name(PthFormat f) { return f == PthFormat::zip ? "zip" : "legacy"; }

PthFile read_pth(const std::string& path) {
  try {
    return read_any(RandomAccessFile(path));
  } catch (const Error& e) {
    throw Error(detail::concat("load_pth('", path, "'): ", e.what()));
  } catch (const std::bad_alloc&) {
    throw Error(detail::concat("load_pth('", path, "'): out of memory while reading its tensors"));
  }
}

PthFile read_pth_bytes(const std::string& name, std::vector<uint8_t> bytes) {
  try {
    return read_any(RandomAccessFile(name, std::make_shared<const std::vector<uint8_t>>(std::move(bytes))));
  } catch (const Error& e) {
    throw Error(detail::concat("load_pth('", name, "'): ", e.what()));
  } catch (const std::bad_alloc&) {
    throw Error(detail::concat("load_pth('", name, "'): out of memory while reading its tensors"));
  }
}

TensorMap load_pth(const std::string& path) { return read_pth(path).tensors; }

}  // namespace fcnlab
