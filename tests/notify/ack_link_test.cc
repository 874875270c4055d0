// Signed links: what VerifyLink accepts and refuses (expired, altered, other secret, alg none or
// another alg, missing claims), and the four links SignedLinks puts in a message.
#include "engine/notify/ack_link.h"

#include <gtest/gtest.h>
#include <jwt.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <ostream>
#include <string>

#include "escalation_samples.h"

namespace alertd::notify {
namespace {

namespace pb = healthgrid::v1;
using testing::kMorningMs;
using testing::Person;
using testing::SampleEscalation;

constexpr std::string_view kSecret = "grid-links-secret-0123456789abcdef";
constexpr int64_t kHourMs = 3600 * 1000;

LinkClaims AcknowledgeClaims() {
  LinkClaims c;
  c.action = LinkAction::kAcknowledge;
  c.person_id = "HM-0207";
  c.person_name = "周波";
  c.worker_id = "W000155";
  c.episode_id = "ep-19c2";
  c.rule = pb::R1_CRITICAL_BP;
  c.issued_ms = kMorningMs;
  c.expires_ms = kMorningMs + 72 * kHourMs;
  return c;
}

std::string Base64Url(std::string_view bytes) {
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(n >> s) & 63];
  }
  if (i + 1 == bytes.size()) {
    const uint32_t n = uint8_t(bytes[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
  } else if (i + 2 == bytes.size()) {
    const uint32_t n = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
  }
  return out;
}

constexpr std::string_view kWholePayload =
    R"({"act":"acknowledge","sub":"HM-0207","name":"Zhou Bo","wk":"W000155","ep":"ep-19c2","rule":"R1",)"
    R"("iat":1795476614,"exp":1795735814})";

// A token signed by libjwt itself with these grants, `alg` and `key`: claims our signer never omits.
std::string RawToken(const std::map<std::string, std::string>& grants, const std::map<std::string, long>& ints,
                     jwt_alg_t alg, std::string_view key) {
  jwt_t* jwt = nullptr;
  EXPECT_EQ(jwt_new(&jwt), 0);
  for (const auto& [k, v] : grants) jwt_add_grant(jwt, k.c_str(), v.c_str());
  for (const auto& [k, v] : ints) jwt_add_grant_int(jwt, k.c_str(), v);
  EXPECT_EQ(jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()), static_cast<int>(key.size())), 0);
  char* s = jwt_encode_str(jwt);
  std::string token = s ? s : "";
  free(s);
  jwt_free(jwt);
  return token;
}

std::map<std::string, std::string> WholeGrants() {
  return {{"act", "acknowledge"}, {"sub", "HM-0207"}, {"name", "Zhou Bo"},
          {"wk", "W000155"},      {"ep", "ep-19c2"},  {"rule", "R1"}};
}
std::map<std::string, long> WholeTimes() { return {{"iat", kMorningMs / 1000}, {"exp", kMorningMs / 1000 + 259200}}; }

std::string Without(const std::string& claim) {
  auto grants = WholeGrants();
  auto times = WholeTimes();
  grants.erase(claim);
  times.erase(claim);
  return RawToken(grants, times, JWT_ALG_HS256, kSecret);
}

std::string OneByteChanged(std::string token, size_t at) {
  token[at] = token[at] == 'A' ? 'B' : 'A';
  return token;
}

struct VerifyRow {
  const char* name;
  std::function<std::string()> token;
  int64_t now_ms;
  const char* refusal;  // nullptr: accepted
  friend void PrintTo(const VerifyRow& r, std::ostream* os) { *os << r.name; }
};

class VerifyLinkTest : public ::testing::TestWithParam<VerifyRow> {};

TEST_P(VerifyLinkTest, AcceptsOnlyAnUnexpiredWholeHs256TokenOfOurSecret) {
  const VerifyRow& row = GetParam();
  const auto got = VerifyLink(row.token(), kSecret, row.now_ms);
  if (row.refusal == nullptr) {
    ASSERT_TRUE(got.ok()) << got.status();
  } else {
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.status().code(), absl::StatusCode::kUnauthenticated);
    EXPECT_NE(got.status().message().find(row.refusal), std::string::npos) << got.status();
  }
}

const int64_t kExpiresMs = AcknowledgeClaims().expires_ms;

INSTANTIATE_TEST_SUITE_P(
    Table, VerifyLinkTest,
    ::testing::Values(
        VerifyRow{"fresh", [] { return SignLink(AcknowledgeClaims(), kSecret); }, kMorningMs, nullptr},
        VerifyRow{"last_second", [] { return SignLink(AcknowledgeClaims(), kSecret); }, kExpiresMs - 1, nullptr},
        VerifyRow{"expired_at_exp", [] { return SignLink(AcknowledgeClaims(), kSecret); }, kExpiresMs, "expired"},
        VerifyRow{"expired_a_day_later", [] { return SignLink(AcknowledgeClaims(), kSecret); },
                  kExpiresMs + 24 * kHourMs, "expired"},
        VerifyRow{"one_payload_byte_changed",
                  [] {
                    const std::string token = SignLink(AcknowledgeClaims(), kSecret);
                    return OneByteChanged(token, token.find('.') + 5);
                  },
                  kMorningMs, "signature"},
        VerifyRow{"one_signature_byte_changed",
                  [] {
                    const std::string token = SignLink(AcknowledgeClaims(), kSecret);
                    return OneByteChanged(token, token.rfind('.') + 3);
                  },
                  kMorningMs, "signature"},
        VerifyRow{"other_secret", [] { return SignLink(AcknowledgeClaims(), "another-deployment-secret"); }, kMorningMs,
                  "signature"},
        VerifyRow{"alg_none_unsigned",
                  [] { return Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + Base64Url(kWholePayload) + "."; },
                  kMorningMs, ""},
        VerifyRow{"alg_none_with_our_signature_part",
                  [] {
                    const std::string ours = SignLink(AcknowledgeClaims(), kSecret);
                    return Base64Url(R"({"alg":"none","typ":"JWT"})") + "." + Base64Url(kWholePayload) +
                           ours.substr(ours.rfind('.'));
                  },
                  kMorningMs, ""},
        VerifyRow{"hs512_with_our_secret", [] { return RawToken(WholeGrants(), WholeTimes(), JWT_ALG_HS512, kSecret); },
                  kMorningMs, "HS256"},
        VerifyRow{"libjwt_hs256_whole", [] { return RawToken(WholeGrants(), WholeTimes(), JWT_ALG_HS256, kSecret); },
                  kMorningMs, nullptr},
        VerifyRow{"missing_act", [] { return Without("act"); }, kMorningMs, "act"},
        VerifyRow{"missing_sub", [] { return Without("sub"); }, kMorningMs, "sub"},
        VerifyRow{"missing_wk", [] { return Without("wk"); }, kMorningMs, "wk"},
        VerifyRow{"missing_ep", [] { return Without("ep"); }, kMorningMs, "ep"},
        VerifyRow{"missing_rule", [] { return Without("rule"); }, kMorningMs, "rule"},
        VerifyRow{"missing_exp", [] { return Without("exp"); }, kMorningMs, "exp"},
        VerifyRow{"missing_iat", [] { return Without("iat"); }, kMorningMs, "iat"},
        VerifyRow{"unknown_act",
                  [] {
                    auto g = WholeGrants();
                    g["act"] = "delete";
                    return RawToken(g, WholeTimes(), JWT_ALG_HS256, kSecret);
                  },
                  kMorningMs, "act"},
        VerifyRow{"view_without_scope",
                  [] {
                    auto g = WholeGrants();
                    g["act"] = "view";
                    return RawToken(g, WholeTimes(), JWT_ALG_HS256, kSecret);
                  },
                  kMorningMs, "scope"},
        VerifyRow{"view_with_a_scope_of_no_kind",
                  [] {
                    auto g = WholeGrants();
                    g["act"] = "view";
                    g["scope"] = "everything:";
                    return RawToken(g, WholeTimes(), JWT_ALG_HS256, kSecret);
                  },
                  kMorningMs, "scope"},
        VerifyRow{"not_a_token", [] { return std::string("hello"); }, kMorningMs, "signature"},
        VerifyRow{"empty", [] { return std::string(); }, kMorningMs, "no link token"},
        VerifyRow{"too_long", [] { return std::string(5000, 'a'); }, kMorningMs, "too long"}),
    [](const ::testing::TestParamInfo<VerifyRow>& param) { return std::string(param.param.name); });

TEST(VerifyLinkRoundTrip, EveryClaimComesBackToTheSecond) {
  LinkClaims in = AcknowledgeClaims();
  in.action = LinkAction::kSnooze;
  in.rule = pb::R4_PRE_SHIFT_FITNESS;
  in.expires_ms += 999;  // JWT keeps seconds
  const auto out = VerifyLink(SignLink(in, kSecret), kSecret, kMorningMs);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->action, LinkAction::kSnooze);
  EXPECT_EQ(out->person_id, "HM-0207");
  EXPECT_EQ(out->person_name, "周波");
  EXPECT_EQ(out->worker_id, "W000155");
  EXPECT_EQ(out->episode_id, "ep-19c2");
  EXPECT_EQ(out->rule, pb::R4_PRE_SHIFT_FITNESS);
  EXPECT_EQ(out->issued_ms, kMorningMs);
  EXPECT_EQ(out->expires_ms, AcknowledgeClaims().expires_ms);
}

TEST(VerifyLinkRoundTrip, AViewTokenKeepsItsScope) {
  LinkClaims in = AcknowledgeClaims();
  in.action = LinkAction::kView;
  in.scope = "grid:U08-G02";
  const auto out = VerifyLink(SignLink(in, kSecret), kSecret, kMorningMs);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(out->action, LinkAction::kView);
  EXPECT_EQ(out->scope, "grid:U08-G02");
  const auto scope = ParseLinkScope(out->scope);
  ASSERT_TRUE(scope);
  EXPECT_EQ(scope->kind, "grid");
  EXPECT_EQ(scope->id, "U08-G02");
}

TEST(SignLink, RefusesToSignWhatCouldNeverBeVerified) {
  EXPECT_EQ(SignLink(AcknowledgeClaims(), ""), "");
  LinkClaims no_episode = AcknowledgeClaims();
  no_episode.episode_id.clear();
  EXPECT_EQ(SignLink(no_episode, kSecret), "");
  LinkClaims no_rule = AcknowledgeClaims();
  no_rule.rule = pb::RULE_UNSPECIFIED;
  EXPECT_EQ(SignLink(no_rule, kSecret), "");
  EXPECT_FALSE(VerifyLink(SignLink(AcknowledgeClaims(), kSecret), "", kMorningMs).ok());
}

TEST(SignedLinks, FourLinksForTheRecipientAndTheEpisode) {
  const pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  const pb::Recipient manager = Person("HM-0207", "周波", pb::ROLE_HEALTH_MANAGER);
  const MessageLinks links =
      SignedLinks(event, manager, "https://grid.example.cn/alertd/", kSecret, kMorningMs, 72 * kHourMs);
  const std::string act = "https://grid.example.cn/alertd/act?t=";
  ASSERT_EQ(links.acknowledge.rfind(act, 0), 0u) << links.acknowledge;
  ASSERT_EQ(links.worker_page.rfind("https://grid.example.cn/alertd/worker/W000155?t=", 0), 0u) << links.worker_page;
  const std::map<std::string, LinkAction> expected = {{links.acknowledge, LinkAction::kAcknowledge},
                                                      {links.resolve, LinkAction::kResolve},
                                                      {links.snooze, LinkAction::kSnooze}};
  ASSERT_EQ(expected.size(), 3u);
  for (const auto& [url, action] : expected) {
    const auto claims = VerifyLink(url.substr(act.size()), kSecret, kMorningMs);
    ASSERT_TRUE(claims.ok()) << claims.status();
    EXPECT_EQ(claims->action, action);
    EXPECT_EQ(claims->person_id, "HM-0207");
    EXPECT_EQ(claims->worker_id, "W000155");
    EXPECT_EQ(claims->episode_id, "ep-19c2");
    EXPECT_EQ(claims->rule, pb::R1_CRITICAL_BP);
    EXPECT_EQ(claims->expires_ms, kMorningMs / 1000 * 1000 + 72 * kHourMs);
  }
  const auto view = VerifyLink(links.worker_page.substr(links.worker_page.find("?t=") + 3), kSecret, kMorningMs);
  ASSERT_TRUE(view.ok()) << view.status();
  EXPECT_EQ(view->action, LinkAction::kView);
  EXPECT_EQ(view->scope, "worker:W000155");
  EXPECT_FALSE(VerifyLink(links.acknowledge.substr(act.size()), kSecret, kMorningMs + 72 * kHourMs).ok());
}

TEST(SignedLinks, NoLinksWithoutASecretOrAnEpisode) {
  const pb::Recipient manager = Person("HM-0207", "周波", pb::ROLE_HEALTH_MANAGER);
  pb::Escalation event = SampleEscalation(pb::R1_CRITICAL_BP);
  EXPECT_TRUE(SignedLinks(event, manager, "https://g", "", kMorningMs, kHourMs).acknowledge.empty());
  EXPECT_TRUE(SignedLinks(event, manager, "", kSecret, kMorningMs, kHourMs).worker_page.empty());
  event.clear_episode_id();
  EXPECT_TRUE(SignedLinks(event, manager, "https://g", kSecret, kMorningMs, kHourMs).resolve.empty());
}

}  // namespace
}  // namespace alertd::notify
