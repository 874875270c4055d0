// The backtest's export file: what is written reads back the same; a damaged file is an error, never a crash.
#include "engine/backtest/export_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace alertd::backtest {
namespace {

const std::array<std::string, kInputs> kTopics{"worker-profiles", "readings", "shifts", "escalation-acks"};

std::vector<HistoryRecord> Sample() {
  return {{.input = 0, .partition = 2, .offset = 7, .timestamp = 1'741'190'400'000, .key = "W1", .value = "profile"},
          {.input = 1, .partition = 2, .offset = 0, .timestamp = -1, .key = "", .value = std::string("a\0b", 3)},
          {.input = 0, .partition = 3, .offset = 9, .timestamp = 5, .key = "W2", .tombstone = true, .value = ""},
          {.input = 3, .partition = 0, .offset = 1LL << 40, .timestamp = 6, .key = "W3", .value = ""}};
}

std::string Path(const std::string& name) { return ::testing::TempDir() + "/" + name; }

void WriteSample(const std::string& path) {
  auto w = ExportWriter::Create(path, kTopics);
  ASSERT_TRUE(w.ok()) << w.status();
  for (const HistoryRecord& r : Sample()) ASSERT_TRUE((*w)->Write(r).ok());
  ASSERT_TRUE((*w)->Close().ok());
}

std::string ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << bytes;
}

TEST(ExportFileTest, RecordsReadBackAsWrittenInOrder) {
  const std::string path = Path("sample.export");
  WriteSample(path);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
  ExportHeader header;
  std::vector<HistoryRecord> read;
  const absl::Status st = ReadExport(path, [&](const ExportHeader& h) { header = h; },
                                     [&](const HistoryRecord& r) { read.push_back(r); });
  ASSERT_TRUE(st.ok()) << st;
  EXPECT_EQ(header.records, 4u);
  EXPECT_EQ(header.topics, kTopics);
  const auto want = Sample();
  ASSERT_EQ(read.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(read[i].input, want[i].input) << i;
    EXPECT_EQ(read[i].partition, want[i].partition) << i;
    EXPECT_EQ(read[i].offset, want[i].offset) << i;
    EXPECT_EQ(read[i].timestamp, want[i].timestamp) << i;
    EXPECT_EQ(read[i].key, want[i].key) << i;
    EXPECT_EQ(read[i].tombstone, want[i].tombstone) << i;
    EXPECT_EQ(read[i].value, want[i].value) << i;
  }
}

TEST(ExportFileTest, AFileCutShortIsDataLossAfterTheWholeRecords) {
  const std::string path = Path("cut.export");
  WriteSample(path);
  const std::string bytes = ReadBytes(path);
  WriteBytes(path, bytes.substr(0, bytes.size() - 3));
  int visited = 0;
  const absl::Status st = ReadExport(path, nullptr, [&](const HistoryRecord&) { ++visited; });
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find(path), std::string::npos) << st;
  EXPECT_EQ(visited, 3);
}

TEST(ExportFileTest, DamagedLengthsAreRefusedNotAllocated) {
  const std::string path = Path("damaged.export");
  WriteSample(path);
  std::string bytes = ReadBytes(path);
  const std::size_t first_frame = bytes.find("escalation-acks\n") + 16;
  for (int i = 0; i < 4; ++i) bytes[first_frame + static_cast<std::size_t>(i)] = '\x7f';  // ~2 GB frame
  WriteBytes(path, bytes);
  const absl::Status st = ReadExport(path, nullptr, [](const HistoryRecord&) {});
  EXPECT_TRUE(absl::IsDataLoss(st)) << st;
  EXPECT_NE(st.message().find("record 1"), std::string::npos) << st;
}

TEST(ExportFileTest, AFileThatIsNotAnExportSaysWhatWasExpected) {
  const std::string path = Path("not.export");
  WriteBytes(path, "{\"topic\":\"readings\"}\n");
  const absl::Status st = ReadExport(path, nullptr, [](const HistoryRecord&) {});
  EXPECT_TRUE(absl::IsInvalidArgument(st)) << st;
  EXPECT_NE(st.message().find("alertd backtest export"), std::string::npos) << st;
  EXPECT_TRUE(absl::IsInvalidArgument(ReadExport(Path("missing.export"), nullptr, [](const HistoryRecord&) {})));
}

}  // namespace
}  // namespace alertd::backtest
