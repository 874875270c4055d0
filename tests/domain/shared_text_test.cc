// SharedText, and the rulebook sharing a window's repeated station and device ids.
#include "engine/domain/shared_text.h"

#include <gtest/gtest.h>

#include <string>

#include "tests/domain/domain_test_support.h"

namespace alertd::domain {
namespace {

using test_support::Timeline;

TEST(SharedTextTest, ReadsAndComparesAsItsText) {
  const SharedText empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.str(), "");
  EXPECT_EQ(empty, SharedText(""));
  const SharedText a("station-east-gate");
  const std::string& text = a;
  EXPECT_EQ(text, "station-east-gate");
  EXPECT_EQ(a, "station-east-gate");
  EXPECT_EQ(a, std::string("station-east-gate"));
  EXPECT_EQ(a, SharedText(std::string("station-east-gate")));
  EXPECT_FALSE(a == "station-west-gate");
  EXPECT_FALSE(a.SharesCopyWith(SharedText("station-east-gate")));
}

TEST(SharedTextTest, ShareWithTakesTheOthersCopyOnlyForTheSameText) {
  SharedText a("omron-hbp-9020-0042");
  const SharedText b("omron-hbp-9020-0042");
  const SharedText c("yuwell-ye680a-0007");
  EXPECT_FALSE(a.ShareWith(c));
  EXPECT_FALSE(a.SharesCopyWith(c));
  EXPECT_EQ(a, "omron-hbp-9020-0042");
  EXPECT_TRUE(a.ShareWith(b));
  EXPECT_TRUE(a.SharesCopyWith(b));
  EXPECT_TRUE(a.ShareWith(b)) << "already shared";
  EXPECT_EQ(a, b);
  const SharedText copy = a;  // copies share
  EXPECT_TRUE(copy.SharesCopyWith(b));
}

TEST(SharedTextTest, AWindowHoldsEachRepeatedIdOnce) {
  Timeline t;
  for (int i = 0; i < 5; ++i) t.Bp(test_support::At(-(5 - i) * 60000), 128 + i, 82);
  const std::vector<BpSample>& window = t.state.bp_window;
  ASSERT_EQ(window.size(), 5u);
  for (std::size_t i = 1; i < window.size(); ++i) {
    EXPECT_TRUE(window[i].station_id.SharesCopyWith(window[0].station_id)) << i;
    EXPECT_TRUE(window[i].device_id.SharesCopyWith(window[0].device_id)) << i;
  }
  EXPECT_EQ(window[4].station_id, "station-east-gate");
}

// A station has several monitors and a worker reads at home and before shifts: ids that alternate are
// still held once each, as long as the same id came within the newest kIdsSharedWithin samples.
TEST(SharedTextTest, IdsThatAlternateAreEachHeldOnce) {
  Timeline t;
  const char* const devices[] = {"omron-hbp-9020-0042", "yuwell-ye680a-0007", "omron-hbp-9020-0043"};
  for (int i = 0; i < 12; ++i) {
    Reading r = test_support::BpReading(test_support::Ev(test_support::At(-(12 - i) * 60000)), 128 + i, 82);
    r.device_id = devices[i % 3];
    r.station_id = i % 2 == 0 ? "station-east-gate" : "home";
    t.Apply(t.book.OnReading(r, t.state, t.clock.Now()));
  }
  const std::vector<BpSample>& window = t.state.bp_window;
  ASSERT_EQ(window.size(), 12u);
  for (std::size_t i = 3; i < window.size(); ++i) {
    EXPECT_TRUE(window[i].device_id.SharesCopyWith(window[i % 3].device_id)) << i;
    EXPECT_TRUE(window[i].station_id.SharesCopyWith(window[i % 2].station_id)) << i;
  }
  EXPECT_FALSE(window[0].device_id.SharesCopyWith(window[1].device_id));
}

// Further back than the newest kIdsSharedWithin samples, an id is not looked for: it is copied again.
TEST(SharedTextTest, ShareIdsLooksOnlyAtTheNewestSamples) {
  std::vector<BpSample> window(kIdsSharedWithin + 1);
  window[0].device_id = "omron-hbp-9020-0042";
  for (std::size_t i = 1; i < window.size(); ++i) window[i].device_id = "yuwell-ye680a-0007";
  BpSample late;
  late.device_id = "omron-hbp-9020-0042";
  ShareIds(late, window);
  EXPECT_FALSE(late.device_id.SharesCopyWith(window[0].device_id));
  window.pop_back();
  ShareIds(late, window);
  EXPECT_TRUE(late.device_id.SharesCopyWith(window[0].device_id));
}

}  // namespace
}  // namespace alertd::domain
