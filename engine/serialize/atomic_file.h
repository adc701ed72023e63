// atomic_file.h — all-or-nothing file writes, used by every writer in fcnlab (checkpoints,
// safetensors, CSV, PNG). Bytes go to "<path>.tmp-<pid>" in the same folder, are flushed and
// fsync'ed, and only then renamed over <path>. So a crash or an error part-way leaves the old
// file intact (or no file at all), never a half-written one, and no temp file behind.
#pragma once
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

namespace fcnlab {

class AtomicFile {
 public:
  // Creates the temp file; throws fcnlab::Error naming <path> if its folder is missing or
  // not writable.
  explicit AtomicFile(std::string path);
  // Without a successful commit() the temp file is removed.
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t nbytes);
  void write(std::string_view s) { write(s.data(), s.size()); }
  // Flushes, fsyncs, closes and renames over the target. Any failure removes the temp file
  // and throws. Calling write() after commit() is an error.
  void commit();
  // Removes the temp file now (what the destructor does when commit() was not reached).
  void discard() noexcept;

  const std::string& path() const { return path_; }
  const std::string& temp_path() const { return temp_path_; }
  size_t bytes_written() const { return written_; }

 private:
  [[noreturn]] void fail(const std::string& what, int err);
  std::string path_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  size_t written_ = 0;
  bool committed_ = false;
};

// Convenience: opens an AtomicFile, lets `fill` write into it, commits. If `fill` throws,
// the temp file is removed and the exception propagates; the target is left untouched.
void write_file_atomic(const std::string& path, const std::function<void(AtomicFile&)>& fill);
void write_file_atomic(const std::string& path, const void* data, size_t nbytes);

// The temp name used for <path> by this process: "<path>.tmp-<pid>".
std::string atomic_temp_path(const std::string& path);

}  // namespace fcnlab
