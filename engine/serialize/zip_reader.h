// zip_reader.h — random access to a file, and the central directory of a ZIP archive as torch.save
// writes it (stored entries, ZIP64 records, 64-byte-aligned data behind padded local headers).
//
// Only stored (method 0) entries can be read: torch's writer never compresses, so a compressed
// entry means the archive was re-packed by another tool, and reading it fails with a message that
// says so. CRCs are not verified (torch itself skips them; its writer may not even compute them).
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace fcnlab {

// A read-only file (or a named in-memory copy of one, for tests) with bounds-checked positioned
// reads. Errors say what was being read and where.
class RandomAccessFile {
 public:
  explicit RandomAccessFile(const std::string& path);
  RandomAccessFile(std::string name, std::shared_ptr<const std::vector<uint8_t>> bytes);
  const std::string& path() const { return path_; }
  uint64_t size() const { return size_; }
  // Reads exactly n bytes at offset; throws naming `what` if the file ends first.
  void read(uint64_t offset, void* dst, uint64_t n, const char* what) const;
  std::vector<uint8_t> read(uint64_t offset, uint64_t n, const char* what) const;

 private:
  std::string path_;
  std::unique_ptr<FILE, int (*)(FILE*)> file_;
  std::shared_ptr<const std::vector<uint8_t>> bytes_;  // set instead of file_ for in-memory data
  uint64_t size_ = 0;
};

struct ZipEntry {
  std::string name;
  uint16_t method = 0;       // 0 = stored, 8 = deflate, ...
  uint16_t flags = 0;        // general purpose bits (bit 0: encrypted)
  uint64_t size = 0;         // uncompressed size (central directory)
  uint64_t csize = 0;        // compressed size (central directory)
  uint64_t header_offset = 0;  // local file header
};

class ZipReader {
 public:
  // Reads the end-of-central-directory record (classic or ZIP64) and every central entry.
  explicit ZipReader(const std::string& path) : ZipReader(RandomAccessFile(path)) {}
  explicit ZipReader(RandomAccessFile file);

  const std::string& path() const { return file_.path(); }
  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& name) const;  // nullptr if absent

  // Offset of the entry's first data byte. Read from the *local* header, whose extra field (torch's
  // "FB" alignment padding) differs from the central one. Checks method, encryption and bounds.
  uint64_t data_offset(const ZipEntry& e) const;
  std::vector<uint8_t> read(const ZipEntry& e) const;
  const RandomAccessFile& file() const { return file_; }

 private:
  RandomAccessFile file_;
  std::vector<ZipEntry> entries_;
};

// True if the file starts with a ZIP local header ("PK\3\4").
bool looks_like_zip(const uint8_t* head, size_t n);

}  // namespace fcnlab
