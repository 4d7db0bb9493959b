// formats/mapped_file.cpp — read-only mmap of a whole file, released by the destructor.
#include "formats/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "inference/error.hpp"

namespace inference::formats {
namespace {

// Closes the descriptor on every exit path; the mapping stays valid after close().
struct FdGuard {
  int fd;
  ~FdGuard() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text(int err) {
  return std::strerror(err);
}

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path) : path_(path) {
  FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (guard.fd < 0) {
    int err = errno;
    ErrorCode code = (err == ENOENT || err == ENOTDIR) ? ErrorCode::not_found : ErrorCode::backend;
    throw Error(code, path.string() + ": cannot open: " + errno_text(err));
  }
  struct stat st {};
  if (::fstat(guard.fd, &st) != 0) {
    throw Error(ErrorCode::backend, path.string() + ": cannot stat: " + errno_text(errno));
  }
  if (S_ISDIR(st.st_mode)) {
    throw Error(ErrorCode::invalid_model, path.string() + ": is a directory, not a file");
  }
  if (!S_ISREG(st.st_mode)) {
    // Pipes and devices have no stable size to map.
    throw Error(ErrorCode::invalid_model, path.string() + ": is not a regular file");
  }
  size_ = static_cast<uint64_t>(st.st_size);
  if (size_ == 0) return;  // mmap of length 0 fails; an empty span is the honest answer.
  void* addr = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, guard.fd, 0);
  if (addr == MAP_FAILED) {
    size_ = 0;
    throw Error(ErrorCode::backend, path.string() + ": cannot map: " + errno_text(errno));
  }
  data_ = static_cast<const std::byte*>(addr);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : path_(std::move(other.path_)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
    path_ = std::move(other.path_);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void MappedFile::release_pages(const void* p, size_t n) const noexcept {
  if (data_ == nullptr || p == nullptr || n == 0) return;
  const auto begin = reinterpret_cast<uintptr_t>(p), end = begin + n;
  const auto map_begin = reinterpret_cast<uintptr_t>(data_), map_end = map_begin + size_;
  if (begin < map_begin || end > map_end || end < begin) return;
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t first = (begin + page - 1) / page * page, last = end / page * page;
  if (first >= last) return;
  // MAP_PRIVATE and never written: DONTNEED only forgets clean file pages.
  ::madvise(reinterpret_cast<void*>(first), last - first, MADV_DONTNEED);
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

}  // namespace inference::formats
