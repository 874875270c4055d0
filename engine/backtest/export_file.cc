// The backtest's export file, written and read (format in export_file.h).
#include "engine/backtest/export_file.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

namespace alertd::backtest {
namespace {

constexpr char kMagic[] = "alertd-backtest-export 1";
// A frame far beyond Kafka's message limits is damage, not data: refuse it before allocating.
constexpr uint32_t kMaxFrameBytes = 64u << 20;
constexpr std::size_t kFixedBytes = 1 + 4 + 8 + 8 + 4 + 4;

void PutU32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
void PutU64(std::string& out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}
uint64_t GetBig(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = 0; i < bytes; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string CountLine(uint64_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "records %020llu\n", static_cast<unsigned long long>(n));
  return buf;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ExportWriter>> ExportWriter::Create(const std::string& path,
                                                                   const std::array<std::string, kInputs>& topics) {
  std::unique_ptr<ExportWriter> w(new ExportWriter(path, path + ".tmp"));
  w->out_.open(w->tmp_, std::ios::binary | std::ios::trunc);
  if (!w->out_) return absl::InvalidArgumentError("cannot write the export file " + w->tmp_);
  w->out_ << kMagic << "\n" << CountLine(0) << "topics";
  for (const std::string& t : topics) w->out_ << ' ' << t;
  w->out_ << "\n";
  return w;
}

absl::Status ExportWriter::Write(const HistoryRecord& r) {
  std::string frame;
  frame.reserve(4 + kFixedBytes + r.key.size() + r.value.size());
  PutU32(frame, static_cast<uint32_t>(kFixedBytes + r.key.size() + (r.tombstone ? 0 : r.value.size())));
  frame.push_back(static_cast<char>(r.input));
  PutU32(frame, static_cast<uint32_t>(r.partition));
  PutU64(frame, static_cast<uint64_t>(r.offset));
  PutU64(frame, static_cast<uint64_t>(r.timestamp));
  PutU32(frame, static_cast<uint32_t>(r.key.size()));
  frame += r.key;
  PutU32(frame, r.tombstone ? 0xffffffffu : static_cast<uint32_t>(r.value.size()));
  if (!r.tombstone) frame += r.value;
  out_.write(frame.data(), static_cast<std::streamsize>(frame.size()));
  if (!out_) return absl::ResourceExhaustedError("writing the export file " + tmp_ + " failed (disk full?)");
  ++records_;
  return absl::OkStatus();
}

absl::Status ExportWriter::Close() {
  out_.seekp(static_cast<std::streamoff>(sizeof kMagic));  // just past the magic line
  out_ << CountLine(records_);
  out_.close();
  if (!out_) return absl::ResourceExhaustedError("finishing the export file " + tmp_ + " failed (disk full?)");
  std::error_code ec;
  std::filesystem::rename(tmp_, path_, ec);
  if (ec) return absl::InvalidArgumentError("cannot rename " + tmp_ + " to " + path_ + ": " + ec.message());
  return absl::OkStatus();
}

absl::Status ReadExport(const std::string& path, const std::function<void(const ExportHeader&)>& header,
                        const std::function<void(const HistoryRecord&)>& visit) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::InvalidArgumentError("--input " + path + ": cannot open it");
  const std::string not_export = "--input " + path + ": not an alertd backtest export (expected a first line '" +
                                 kMagic + "', as `alertd backtest export` writes)";
  std::string line;
  if (!std::getline(in, line) || line != kMagic) return absl::InvalidArgumentError(not_export);
  ExportHeader h;
  if (!std::getline(in, line) || line.rfind("records ", 0) != 0) return absl::InvalidArgumentError(not_export);
  try {
    h.records = std::stoull(line.substr(8));
  } catch (const std::exception&) {
    return absl::InvalidArgumentError(not_export);
  }
  if (!std::getline(in, line) || line.rfind("topics ", 0) != 0) return absl::InvalidArgumentError(not_export);
  {
    std::istringstream words(line.substr(7));
    for (std::string& t : h.topics) words >> t;
  }
  if (header) header(h);
  std::string body;
  HistoryRecord r;
  for (uint64_t n = 0;; ++n) {
    const std::streamoff at = in.tellg();
    char len_bytes[4];
    if (!in.read(len_bytes, 4)) {
      if (in.gcount() == 0 && n == h.records) return absl::OkStatus();
      return absl::DataLossError("--input " + path + ": cut short at byte " + std::to_string(at) + " after " +
                                 std::to_string(n) + " of " + std::to_string(h.records) + " records");
    }
    const auto len = static_cast<uint32_t>(GetBig(len_bytes, 4));
    const std::string where = "--input " + path + ": record " + std::to_string(n + 1) + " at byte " + std::to_string(at);
    if (len < kFixedBytes || len > kMaxFrameBytes) return absl::DataLossError(where + ": impossible length " + std::to_string(len));
    body.resize(len);
    if (!in.read(body.data(), len)) return absl::DataLossError(where + ": cut short");
    const char* p = body.data();
    r.input = static_cast<unsigned char>(p[0]);
    if (r.input >= kInputs) return absl::DataLossError(where + ": input " + std::to_string(r.input) + " (expected 0..3)");
    r.partition = static_cast<int32_t>(GetBig(p + 1, 4));
    r.offset = static_cast<int64_t>(GetBig(p + 5, 8));
    r.timestamp = static_cast<int64_t>(GetBig(p + 13, 8));
    const auto key_len = static_cast<uint32_t>(GetBig(p + 21, 4));
    if (r.partition < 0 || key_len > len - kFixedBytes) return absl::DataLossError(where + ": damaged record header");
    r.key.assign(p + 25, key_len);
    const auto value_len = static_cast<uint32_t>(GetBig(p + 25 + key_len, 4));
    r.tombstone = value_len == 0xffffffffu;
    const std::size_t value_bytes = r.tombstone ? 0 : value_len;
    if (kFixedBytes + key_len + value_bytes != len) return absl::DataLossError(where + ": lengths do not add up");
    r.value.assign(p + 29 + key_len, value_bytes);
    visit(r);
  }
}

}  // namespace alertd::backtest
