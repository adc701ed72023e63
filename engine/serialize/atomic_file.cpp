// atomic_file.cpp — temp file + fflush + fsync + rename; see atomic_file.h for why.
#include "engine/serialize/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "engine/error.h"

namespace fcnlab {

namespace {

// The folder that will hold <path> ("." for a bare file name).
std::string parent_folder(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  return dir.empty() ? "." : dir;
}

// Makes the rename itself durable. Best effort: some file systems refuse fsync on folders.
void sync_folder(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

}  // namespace

std::string atomic_temp_path(const std::string& path) {
  return path + ".tmp-" + std::to_string(static_cast<long>(::getpid()));
}

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)) {
  FCNLAB_CHECK(!path_.empty(), "cannot write a file with an empty path");
  temp_path_ = atomic_temp_path(path_);
  file_ = std::fopen(temp_path_.c_str(), "wb");
  if (!file_) {
    int err = errno;
    const std::string dir = parent_folder(path_);
    std::error_code ec;
    const bool dir_exists = std::filesystem::is_directory(dir, ec);
    FCNLAB_FAIL("cannot write '", path_, "': ",
                dir_exists ? "cannot create a file in folder '" : "folder '", dir,
                dir_exists ? "' (" : "' does not exist (", std::strerror(err), ")");
  }
}

AtomicFile::~AtomicFile() {
  if (!committed_) discard();
}

void AtomicFile::discard() noexcept {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  if (!committed_ && !temp_path_.empty()) std::remove(temp_path_.c_str());
}

void AtomicFile::fail(const std::string& what, int err) {
  discard();
  FCNLAB_FAIL("cannot write '", path_, "': ", what, " (", std::strerror(err), ")");
}

void AtomicFile::write(const void* data, size_t nbytes) {
  FCNLAB_CHECK(file_ && !committed_, "cannot write '", path_,
               "': the file was already committed or discarded");
  if (nbytes == 0) return;
  if (std::fwrite(data, 1, nbytes, file_) != nbytes)
    fail("writing " + std::to_string(nbytes) + " bytes to '" + temp_path_ + "' failed", errno);
  written_ += nbytes;
}

void AtomicFile::commit() {
  FCNLAB_CHECK(file_ && !committed_, "cannot commit '", path_,
               "': the file was already committed or discarded");
  if (std::fflush(file_) != 0) fail("flushing '" + temp_path_ + "' failed", errno);
  if (::fsync(::fileno(file_)) != 0) fail("fsync of '" + temp_path_ + "' failed", errno);
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fclose(f) != 0) fail("closing '" + temp_path_ + "' failed", errno);
  if (std::rename(temp_path_.c_str(), path_.c_str()) != 0)
    fail("renaming '" + temp_path_ + "' over it failed", errno);
  committed_ = true;
  sync_folder(parent_folder(path_));
}

void write_file_atomic(const std::string& path, const std::function<void(AtomicFile&)>& fill) {
  AtomicFile f(path);
  fill(f);  // on a throw, ~AtomicFile removes the temp file
  f.commit();
}

void write_file_atomic(const std::string& path, const void* data, size_t nbytes) {
  AtomicFile f(path);
  f.write(data, nbytes);
  f.commit();
}

}  // namespace fcnlab
