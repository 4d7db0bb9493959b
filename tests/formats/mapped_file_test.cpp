// MappedFile::release_pages: the mapped pages of a range leave resident memory and read back
// the file's bytes afterwards; a range outside the mapping (heap memory, a neighbour) is never
// touched — dropping it would zero memory someone owns.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "formats/mapped_file.hpp"

namespace inference::formats {
namespace {

class MappedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = std::filesystem::temp_directory_path() /
            ("mapped_file_test_" + std::to_string(::getpid()) + ".bin");
    page_ = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    bytes_.resize(8 * page_ + 100);
    for (size_t i = 0; i < bytes_.size(); ++i) bytes_[i] = static_cast<char>(i * 131 + 7);
    std::ofstream(path_, std::ios::binary).write(bytes_.data(), std::streamsize(bytes_.size()));
  }
  void TearDown() override { std::filesystem::remove(path_); }

  // This process's resident kB of the mapping (its Rss line in /proc/self/smaps; mincore would
  // report the page cache, which keeps the file's pages whatever this process drops).
  static long resident_kb(const MappedFile& file) {
    std::ifstream smaps("/proc/self/smaps");
    const auto start = reinterpret_cast<uintptr_t>(file.data());
    std::string line;
    bool in_mapping = false;
    while (std::getline(smaps, line)) {
      unsigned long lo = 0, hi = 0;
      if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(' ') < 40) {
        in_mapping = lo == start;
      } else if (in_mapping && line.rfind("Rss:", 0) == 0) {
        return std::strtol(line.c_str() + 4, nullptr, 10);
      }
    }
    return -1;
  }

  std::filesystem::path path_;
  size_t page_ = 0;
  std::vector<char> bytes_;
};

TEST_F(MappedFileTest, ReleasedPagesLeaveMemoryAndReadBackTheFile) {
  MappedFile file(path_);
  volatile unsigned sum = 0;
  for (size_t i = 0; i < file.size(); ++i) sum = sum + static_cast<unsigned>(file.data()[i]);
  const long before = resident_kb(file);
  ASSERT_GE(before, static_cast<long>(9 * page_ / 1024));
  // A range starting mid-page: only the whole pages inside it go (pages 1..6 of 0..8).
  file.release_pages(file.data() + page_ / 2, 6 * page_ + page_ / 2);
  EXPECT_EQ(resident_kb(file), before - static_cast<long>(6 * page_ / 1024));
  EXPECT_EQ(std::memcmp(file.data(), bytes_.data(), bytes_.size()), 0);
}

TEST_F(MappedFileTest, RangesOutsideTheMappingAreLeftAlone) {
  MappedFile file(path_);
  std::vector<std::byte> heap(4 * page_, std::byte{0x5A});
  file.release_pages(heap.data(), heap.size());
  for (std::byte b : heap) ASSERT_EQ(b, std::byte{0x5A});
  // Straddling the mapping's end, null, empty: no effect, no crash.
  file.release_pages(file.data() + page_, file.size());
  file.release_pages(nullptr, page_);
  file.release_pages(file.data(), 0);
  EXPECT_EQ(std::memcmp(file.data(), bytes_.data(), bytes_.size()), 0);
}

}  // namespace
}  // namespace inference::formats
