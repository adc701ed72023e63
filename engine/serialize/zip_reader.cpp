// zip_reader.cpp — the parts of the ZIP format (APPNOTE 6.3) that torch archives use:
// EOCD / ZIP64 EOCD, central directory entries with ZIP64 extra fields, local headers.
#include "engine/serialize/zip_reader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <utility>

#include "engine/error.h"

namespace fcnlab {

namespace {

uint16_t u16(const uint8_t* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t u32(const uint8_t* p) { return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24; }
uint64_t u64(const uint8_t* p) { return uint64_t(u32(p)) | uint64_t(u32(p + 4)) << 32; }

constexpr uint32_t kLocalSig = 0x04034b50, kCentralSig = 0x02014b50, kEocdSig = 0x06054b50;
constexpr uint32_t kZip64LocatorSig = 0x07064b50, kZip64EocdSig = 0x06064b50;
constexpr size_t kEocdSize = 22, kCentralSize = 46, kLocalSize = 30;

}  // namespace

// ---------------------------------------------------------------- RandomAccessFile

RandomAccessFile::RandomAccessFile(const std::string& path)
    : path_(path), file_(std::fopen(path.c_str(), "rb"), &std::fclose) {
  FCNLAB_CHECK(file_, "cannot open '", path, "' for reading");
  FCNLAB_CHECK(!std::filesystem::is_directory(path), "'", path, "' is a directory, not a file");
  FCNLAB_CHECK(std::fseek(file_.get(), 0, SEEK_END) == 0, "cannot seek in '", path, "'");
  long end = std::ftell(file_.get());
  FCNLAB_CHECK(end >= 0, "cannot determine the size of '", path, "' (is it a directory?)");
  size_ = static_cast<uint64_t>(end);
}

RandomAccessFile::RandomAccessFile(std::string name, std::shared_ptr<const std::vector<uint8_t>> bytes)
    : path_(std::move(name)), file_(nullptr, &std::fclose), bytes_(std::move(bytes)),
      size_(bytes_->size()) {}

void RandomAccessFile::read(uint64_t offset, void* dst, uint64_t n, const char* what) const {
  FCNLAB_CHECK(offset <= size_ && n <= size_ - offset, "file is truncated: ", what, " needs bytes [",
               offset, ", ", offset + n, ") but the file has only ", size_, " bytes");
  if (n == 0) return;
  if (bytes_) {
    std::memcpy(dst, bytes_->data() + offset, n);
    return;
  }
  FCNLAB_CHECK(std::fseek(file_.get(), static_cast<long>(offset), SEEK_SET) == 0,
               "cannot seek to ", offset, " for ", what);
  FCNLAB_CHECK(std::fread(dst, 1, n, file_.get()) == n, "read error at ", offset, " for ", what);
}

std::vector<uint8_t> RandomAccessFile::read(uint64_t offset, uint64_t n, const char* what) const {
  FCNLAB_CHECK(offset <= size_ && n <= size_ - offset, "file is truncated: ", what, " needs bytes [",
               offset, ", ", offset + n, ") but the file has only ", size_, " bytes");
  std::vector<uint8_t> out(n);
  read(offset, out.data(), n, what);
  return out;
}

// ---------------------------------------------------------------- ZipReader

bool looks_like_zip(const uint8_t* head, size_t n) {
  return n >= 4 && u32(head) == kLocalSig;
}

ZipReader::ZipReader(RandomAccessFile file) : file_(std::move(file)) {
  const uint64_t size = file_.size();
  FCNLAB_CHECK(size >= kEocdSize, "zip: file of ", size, " bytes is too short for a ZIP archive");

  // The EOCD is the last 22 bytes plus an optional comment of up to 65535 bytes: scan backwards.
  uint64_t tail_len = std::min<uint64_t>(size, kEocdSize + 65535);
  std::vector<uint8_t> tail = file_.read(size - tail_len, tail_len, "zip end of central directory");
  int64_t at = -1;
  for (int64_t i = static_cast<int64_t>(tail_len - kEocdSize); i >= 0; --i) {
    const uint8_t* p = tail.data() + i;
    if (u32(p) == kEocdSig && static_cast<uint64_t>(i) + kEocdSize + u16(p + 20) == tail_len) {
      at = i;
      break;
    }
  }
  FCNLAB_CHECK(at >= 0, "zip: no end-of-central-directory record (the archive is truncated or not "
                        "a ZIP file)");
  const uint64_t eocd_pos = size - tail_len + static_cast<uint64_t>(at);
  const uint8_t* e = tail.data() + at;
  uint64_t count = u16(e + 10), cd_size = u32(e + 12), cd_offset = u32(e + 16);
  uint64_t cd_end_limit = eocd_pos;

  // torch always writes a ZIP64 EOCD + locator just before the classic EOCD; prefer it when present.
  if (eocd_pos >= 20) {
    std::vector<uint8_t> loc = file_.read(eocd_pos - 20, 20, "zip64 locator");
    if (u32(loc.data()) == kZip64LocatorSig) {
      uint64_t z64 = u64(loc.data() + 8);
      FCNLAB_CHECK(z64 + 56 <= eocd_pos - 20, "zip: ZIP64 end record offset ", z64, " is out of range");
      std::vector<uint8_t> r = file_.read(z64, 56, "zip64 end of central directory");
      FCNLAB_CHECK(u32(r.data()) == kZip64EocdSig, "zip: no ZIP64 end record at offset ", z64);
      count = u64(r.data() + 32);
      cd_size = u64(r.data() + 40);
      cd_offset = u64(r.data() + 48);
      cd_end_limit = z64;
    }
  }
  FCNLAB_CHECK(cd_offset <= cd_end_limit && cd_size <= cd_end_limit - cd_offset,
               "zip: central directory [", cd_offset, ", +", cd_size, ") lies outside the file");
  FCNLAB_CHECK(count <= cd_size / kCentralSize, "zip: ", count, " entries cannot fit in a ",
               cd_size, "-byte central directory");

  std::vector<uint8_t> cd = file_.read(cd_offset, cd_size, "zip central directory");
  size_t pos = 0;
  entries_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    FCNLAB_CHECK(pos + kCentralSize <= cd.size() && u32(cd.data() + pos) == kCentralSig,
                 "zip: central directory entry ", i, " is corrupt (bad signature or size)");
    const uint8_t* c = cd.data() + pos;
    size_t name_len = u16(c + 28), extra_len = u16(c + 30), comment_len = u16(c + 32);
    FCNLAB_CHECK(pos + kCentralSize + name_len + extra_len + comment_len <= cd.size(),
                 "zip: central directory entry ", i, " runs past the directory");
    ZipEntry z;
    z.flags = u16(c + 8);
    z.method = u16(c + 10);
    z.csize = u32(c + 20);
    z.size = u32(c + 24);
    z.header_offset = u32(c + 42);
    z.name.assign(reinterpret_cast<const char*>(c + kCentralSize), name_len);
    // ZIP64 extra field (id 1): 64-bit values for exactly the fields that hold 0xFFFFFFFF.
    const uint8_t* x = c + kCentralSize + name_len;
    for (size_t k = 0; k + 4 <= extra_len;) {
      uint16_t id = u16(x + k), len = u16(x + k + 2);
      FCNLAB_CHECK(k + 4 + len <= extra_len, "zip: extra field of '", z.name, "' is corrupt");
      if (id == 1) {
        const uint8_t* v = x + k + 4;
        size_t left = len;
        auto take = [&](uint64_t& field) {
          if (field != 0xFFFFFFFFu) return;
          FCNLAB_CHECK(left >= 8, "zip: ZIP64 extra field of '", z.name, "' is too short");
          field = u64(v);
          v += 8;
          left -= 8;
        };
        take(z.size);
        take(z.csize);
        take(z.header_offset);
      }
      k += 4 + len;
    }
    entries_.push_back(std::move(z));
    pos += kCentralSize + name_len + extra_len + comment_len;
  }
}

const ZipEntry* ZipReader::find(const std::string& name) const {
  for (const ZipEntry& e : entries_)
    if (e.name == name) return &e;
  return nullptr;
}

uint64_t ZipReader::data_offset(const ZipEntry& e) const {
  FCNLAB_CHECK(!(e.flags & 1), "zip: entry '", e.name, "' is encrypted");
  FCNLAB_CHECK(e.method == 0, "zip: entry '", e.name, "' is compressed (method ", e.method,
               (e.method == 8 ? ", deflate" : ""), "); torch.save writes only stored (method 0) "
               "entries, so this archive was re-packed by another tool: load it in Python and "
               "torch.save it again");
  FCNLAB_CHECK(e.csize == e.size, "zip: stored entry '", e.name, "' has compressed size ", e.csize,
               " != size ", e.size);
  std::vector<uint8_t> h = file_.read(e.header_offset, kLocalSize, "zip local header");
  FCNLAB_CHECK(u32(h.data()) == kLocalSig, "zip: no local header for '", e.name, "' at offset ",
               e.header_offset);
  uint64_t off = e.header_offset + kLocalSize + u16(h.data() + 26) + u16(h.data() + 28);
  FCNLAB_CHECK(off <= file_.size() && e.size <= file_.size() - off, "file is truncated: zip entry '",
               e.name, "' needs bytes [", off, ", ", off + e.size, ") but the file has only ",
               file_.size(), " bytes");
  return off;
}

std::vector<uint8_t> ZipReader::read(const ZipEntry& e) const {
  return file_.read(data_offset(e), e.size, e.name.c_str());
}

}  // namespace fcnlab
