// alertd-tail: prints the engine's escalations, clinic referrals and dead letters as readable lines (or
// JSON), once each.
//
// Output is at least once with deterministic event ids (DESIGN.md §6), so after a replay or failover
// the same escalation can arrive twice; the tail drops repeats within a bounded window of recent ids
// (referrals by referral_id).
#include <google/protobuf/stubs/logging.h>
#include <fmt/format.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <initializer_list>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "engine/cli/grid_time.h"
#include "engine/cli/tail_printer.h"
#include "engine/cli/tail_text.h"
#include "engine/tool/kafka_client.h"
#include "engine/tool/stop_signal.h"
#include "engine/tool/tool_main.h"
#include "health.pb.h"

namespace alertd::cli {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr auto kConsumeSlice = std::chrono::milliseconds(200);  // how soon a signal or --duration is noticed
constexpr auto kMetadataTimeout = std::chrono::seconds(10);

struct TailOptions {
  tool::KafkaClientOptions kafka;
  std::string group;
  bool from_beginning = false;
  double duration_seconds = 0;
  bool summary = false;
  bool json = false;
  bool no_color = false;
  std::string escalations_topic = "escalations";
  std::string dead_letters_topic = "dead-letters";
  std::string referrals_topic = "referrals";
  size_t dedupe_window = 100000;
  uint64_t max_events = 0;
  bool exit_at_end = false;
  bool verbose = false;
};

// The last `capacity` event ids seen. Enough to drop redeliveries after a replay or failover, and
// bounded, so a tail left running for months does not grow.
class RecentIds {
 public:
  explicit RecentIds(size_t capacity) : capacity_(capacity) { ids_.reserve(capacity + 1); }

  // True if `id` is new (it is now remembered); false if it was seen within the window.
  bool Remember(const std::string& id) {
    auto [it, inserted] = ids_.insert(id);
    if (!inserted) return false;
    order_.push_back(&*it);  // element addresses survive rehashing; iterators would not
    if (order_.size() > capacity_) {
      ids_.erase(ids_.find(*order_.front()));
      order_.pop_front();
    }
    return true;
  }

 private:
  size_t capacity_;
  std::unordered_set<std::string> ids_;
  std::deque<const std::string*> order_;  // oldest first
};

Origin OriginOf(const RdKafka::Message& message) {
  Origin o;
  o.topic = message.topic_name();
  o.partition = message.partition();
  o.offset = message.offset();
  const RdKafka::MessageTimestamp ts = message.timestamp();
  if (ts.type != RdKafka::MessageTimestamp::MSG_TIMESTAMP_NOT_AVAILABLE) o.timestamp_ms = ts.timestamp;
  o.key = KeyText(message.key());
  o.has_key = message.key() != nullptr;
  return o;
}

// Protobuf tells why a parse failed (e.g. invalid UTF-8 in a string field) only through its log.
// Keep the last complaint for the undecodable line rather than let protobuf print it to stderr.
std::string g_protobuf_complaint;

void KeepProtobufComplaint(google::protobuf::LogLevel /*level*/, const char* /*file*/, int /*line*/,
                           const std::string& message) {
  g_protobuf_complaint = message.substr(0, message.find(". "));  // the first sentence says it
}

template <typename Message>
bool Parse(const char* data, int size, Message* out, std::string* why) {
  g_protobuf_complaint.clear();
  if (out->ParseFromArray(data, size)) return true;
  *why = g_protobuf_complaint.empty() ? "protobuf parse failed" : "protobuf parse failed: " + g_protobuf_complaint;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Kafka.

// Which partitions are assigned and which of them are at their end, for --exit-at-end. Also logs
// (re)assignments, which tell a person that the tail is now listening.
class Assignment : public RdKafka::RebalanceCb {
 public:
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      Check(cooperative ? consumer->incremental_assign(partitions) : nullptr,
            cooperative ? RdKafka::ERR_NO_ERROR : consumer->assign(partitions));
      for (const RdKafka::TopicPartition* p : partitions) assigned_.insert({p->topic(), p->partition()});
      spdlog::info("listening on {} partition(s) of {}", assigned_.size(), Topics());
    } else {
      // Revoked, or an error during the rebalance: either way, let go of the partitions.
      if (err != RdKafka::ERR__REVOKE_PARTITIONS) spdlog::warn("rebalance: {}", RdKafka::err2str(err));
      Check(cooperative ? consumer->incremental_unassign(partitions) : nullptr,
            cooperative ? RdKafka::ERR_NO_ERROR : consumer->unassign());
      // Eager protocols revoke everything; cooperative ones only the partitions listed.
      if (!cooperative) {
        assigned_.clear();
        at_end_.clear();
      }
      for (const RdKafka::TopicPartition* p : partitions) {
        assigned_.erase({p->topic(), p->partition()});
        at_end_.erase({p->topic(), p->partition()});
      }
    }
  }

  void AtEnd(const std::string& topic, int32_t partition) { at_end_.insert({topic, partition}); }
  void NotAtEnd(const std::string& topic, int32_t partition) { at_end_.erase({topic, partition}); }
  bool AllAtEnd() const {
    if (assigned_.empty()) return false;
    return std::all_of(assigned_.begin(), assigned_.end(), [&](const auto& p) { return at_end_.count(p) > 0; });
  }

 private:
  static void Check(RdKafka::Error* error, RdKafka::ErrorCode code) {
    std::unique_ptr<RdKafka::Error> owned(error);
    if (owned) spdlog::error("partition assignment failed: {}", owned->str());
    if (code != RdKafka::ERR_NO_ERROR) spdlog::error("partition assignment failed: {}", RdKafka::err2str(code));
  }

  std::string Topics() const {
    std::set<std::string> names;
    for (const auto& p : assigned_) names.insert(p.first);
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out.empty() ? "(none)" : out;
  }

  std::set<std::pair<std::string, int32_t>> assigned_;
  std::set<std::pair<std::string, int32_t>> at_end_;
};

class Tail {
 public:
  Tail(const TailOptions& options, bool color)
      : options_(options), printer_(options.json, color), recent_(options.dedupe_window) {}

  int Run() {
    tool::InstallStopHandlers();
    google::protobuf::SetLogHandler(KeepProtobufComplaint);  // at start-up, as protobuf asks: not thread-safe
    // A throwaway group's offsets are never read again, so it does not commit them; a named group
    // (--group) resumes where it stopped. engine/kafka's consumer stores offsets by hand (the
    // engine keeps them in RocksDB); the tail lets librdkafka store and commit them.
    const bool named_group = !options_.group.empty();
    const std::string group = named_group ? options_.group : fmt::format("alertd-tail-{}", ::getpid());
    auto created = kafka::NewConsumer(
        options_.kafka.bootstrap, group,
        tool::ClientProperties(options_.kafka, "alertd-tail",
                         {{"auto.offset.reset", options_.from_beginning ? "earliest" : "latest"},
                          {"enable.auto.commit", named_group ? "true" : "false"},
                          {"enable.auto.offset.store", named_group ? "true" : "false"},
                          {"enable.partition.eof", options_.exit_at_end ? "true" : "false"}}),
        &assignment_, &events_);
    if (!created.ok()) throw std::runtime_error(std::string(created.status().message()));
    std::unique_ptr<RdKafka::KafkaConsumer> consumer = std::move(*created);

    std::vector<std::string> topics = {options_.escalations_topic, options_.dead_letters_topic};
    if (!options_.referrals_topic.empty()) topics.push_back(options_.referrals_topic);
    const std::map<std::string, int> existing =
        tool::TopicPartitionCounts(*consumer, options_.kafka.bootstrap, topics, kMetadataTimeout);
    for (const std::string& topic : topics) {
      if (existing.count(topic) == 0) spdlog::warn("topic '{}' does not exist (yet); listening anyway", topic);
    }
    if (const RdKafka::ErrorCode err = consumer->subscribe(topics); err != RdKafka::ERR_NO_ERROR) {
      throw std::runtime_error("subscribe: " + RdKafka::err2str(err));
    }
    spdlog::debug("consumer group {}", group);

    const int rc = Consume(*consumer);
    consumer->close();
    if (options_.summary) printer_.Summary(tally_);
    return rc;
  }

 private:
  int Consume(RdKafka::KafkaConsumer& consumer) {
    const auto deadline = options_.duration_seconds > 0
                              ? SteadyClock::now() + std::chrono::duration_cast<SteadyClock::duration>(
                                                         std::chrono::duration<double>(options_.duration_seconds))
                              : SteadyClock::time_point::max();
    while (!tool::StopRequested()) {
      const auto now = SteadyClock::now();
      if (now >= deadline) break;
      const auto slice =
          std::min<SteadyClock::duration>(kConsumeSlice, deadline - now);
      std::unique_ptr<RdKafka::Message> message(
          consumer.consume(static_cast<int>(std::chrono::ceil<std::chrono::milliseconds>(slice).count())));
      if (events_.fatal()) return 1;
      switch (message->err()) {
        case RdKafka::ERR_NO_ERROR:
          assignment_.NotAtEnd(message->topic_name(), message->partition());
          Handle(*message);
          break;
        case RdKafka::ERR__TIMED_OUT: break;
        case RdKafka::ERR__PARTITION_EOF:
          assignment_.AtEnd(message->topic_name(), message->partition());
          if (options_.exit_at_end && assignment_.AllAtEnd()) return 0;
          break;
        default:
          // Informational (a topic not there yet, a broker restarting): librdkafka retries itself.
          events_.Warn(fmt::format("consume: {}", message->errstr()));
          break;
      }
      if (options_.max_events > 0 && printed_ >= options_.max_events) break;
    }
    return 0;
  }

  void Handle(const RdKafka::Message& message) {
    const Origin origin = OriginOf(message);
    const auto* data = static_cast<const char*>(message.payload());
    const int size = static_cast<int>(message.len());
    std::string why;
    if (origin.topic == options_.escalations_topic) {
      hg::Escalation e;
      if (size == 0) return Undecodable(origin, message, "healthgrid.v1.Escalation", "empty value (tombstone?)");
      if (!Parse(data, size, &e, &why)) return Undecodable(origin, message, "healthgrid.v1.Escalation", why);
      // Protobuf accepts much noise. An escalation without an id cannot be deduplicated, and one
      // without a worker is about nobody: neither came from alertd.
      if (e.event_id().empty()) return Undecodable(origin, message, "healthgrid.v1.Escalation", "no event_id");
      if (e.worker_id().empty()) return Undecodable(origin, message, "healthgrid.v1.Escalation", "no worker_id");
      if (!recent_.Remember("e:" + e.event_id())) return Duplicate();
      ++tally_.escalation_total;
      ++tally_.escalations[{static_cast<int>(e.rule()), static_cast<int>(e.state())}];
      printer_.Escalation(origin, e);
    } else if (origin.topic == options_.referrals_topic) {
      hg::Referral r;
      if (size == 0) return Undecodable(origin, message, "healthgrid.v1.Referral", "empty value (tombstone?)");
      if (!Parse(data, size, &r, &why)) return Undecodable(origin, message, "healthgrid.v1.Referral", why);
      if (r.referral_id().empty()) return Undecodable(origin, message, "healthgrid.v1.Referral", "no referral_id");
      if (r.worker_id().empty()) return Undecodable(origin, message, "healthgrid.v1.Referral", "no worker_id");
      if (!recent_.Remember("r:" + r.referral_id())) return Duplicate();
      ++tally_.referral_total;
      ++tally_.referrals[{static_cast<int>(r.rule()), static_cast<int>(r.urgency())}];
      printer_.Referral(origin, r);
    } else {
      hg::DeadLetter d;
      if (size == 0) return Undecodable(origin, message, "healthgrid.v1.DeadLetter", "empty value (tombstone?)");
      if (!Parse(data, size, &d, &why)) return Undecodable(origin, message, "healthgrid.v1.DeadLetter", why);
      if (d.source_topic().empty()) return Undecodable(origin, message, "healthgrid.v1.DeadLetter", "no source_topic");
      // A dead letter's identity is the record it rejects: a replay rejects the same one again.
      const std::string id = fmt::format("d:{}:{}:{}:{}", d.source_topic(), d.source_partition(), d.source_offset(),
                                         static_cast<int>(d.reason()));
      if (!recent_.Remember(id)) return Duplicate();
      ++tally_.dead_letter_total;
      ++tally_.dead_letters[static_cast<int>(d.reason())];
      printer_.DeadLetter(origin, d);
    }
    ++printed_;
  }

  void Undecodable(const Origin& origin, const RdKafka::Message& message, const std::string& expected,
                   const std::string& why) {
    ++tally_.undecodable;
    ++printed_;
    const auto* data = static_cast<const char*>(message.payload());
    printer_.Undecodable(origin, std::string_view(data == nullptr ? "" : data, message.len()), expected, why);
  }

  void Duplicate() {
    ++tally_.duplicates;
    spdlog::debug("dropped a duplicate");
  }

  const TailOptions& options_;
  EventPrinter printer_;
  RecentIds recent_;
  Tally tally_;
  uint64_t printed_ = 0;
  tool::KafkaEventLog events_;
  Assignment assignment_;
};

}  // namespace
}  // namespace alertd::cli

int main(int argc, char** argv) {
  using namespace alertd::cli;
  TailOptions o;
  CLI::App app{"alertd-tail: print escalations, referrals and dead letters as readable lines, each event once"};
  alertd::tool::AddKafkaClientOptions(app, &o.kafka);
  app.add_option("--group", o.group, "Consumer group (default: a private alertd-tail-<pid>, offsets not committed)");
  app.add_flag("--from-beginning", o.from_beginning,
               "Start at the oldest retained message, not at new ones (a --group: only without committed offsets)");
  // Bounded so that now + S stays representable on the steady clock; 1e9 s is three decades.
  app.add_option("--duration", o.duration_seconds, "Stop after S seconds (0 = until SIGINT/SIGTERM)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  app.add_flag("--summary", o.summary, "On exit, print counts by rule and state, dead letters by reason, duplicates");
  app.add_flag("--json", o.json, "One JSON object per line instead of text");
  app.add_flag("--no-color", o.no_color, "Never colour (default: colour by severity when stdout is a terminal)");
  app.add_option("--escalations-topic", o.escalations_topic, "Topic of Escalation messages")->capture_default_str();
  app.add_option("--dead-letters-topic", o.dead_letters_topic, "Topic of DeadLetter messages")->capture_default_str();
  app.add_option("--referrals-topic", o.referrals_topic, "Topic of Referral messages (empty = do not read referrals)")
      ->capture_default_str();
  app.add_option("--dedupe-window", o.dedupe_window, "How many recent event ids to remember for dropping duplicates")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{100000000}));
  app.add_option("--max-events", o.max_events, "Stop after printing N events (0 = no limit)")->capture_default_str();
  app.add_flag("--exit-at-end", o.exit_at_end, "Stop once every assigned partition has been read to its end");
  app.add_flag("-v,--verbose", o.verbose, "Show debug logs");
  app.callback([&] {
    if (o.escalations_topic == o.dead_letters_topic) {
      throw CLI::ValidationError("--dead-letters-topic", "must differ from --escalations-topic");
    }
    if (o.referrals_topic == o.escalations_topic || o.referrals_topic == o.dead_letters_topic) {
      throw CLI::ValidationError("--referrals-topic", "must differ from the escalations and dead-letters topics");
    }
  });
  return alertd::tool::ToolMain(app, argc, argv, "alertd-tail", &o.verbose, [&] {
    // https://no-color.org: a set NO_COLOR turns colour off like --no-color.
    const bool color = !o.no_color && ::isatty(STDOUT_FILENO) == 1 && std::getenv("NO_COLOR") == nullptr;
    return Tail(o, color).Run();
  });
}
