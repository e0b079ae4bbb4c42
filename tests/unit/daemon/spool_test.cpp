// The spool is what guarantees nothing is lost, so these tests are about data: every message
// accounted for, byte-exact, in order, across a real crash of a real process.
#include "spool.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>  // mkdtemp
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "support/log_capture.hpp"
#include "support/temp_dir.hpp"

namespace cellmqttd {
namespace {

namespace fs = std::filesystem;
using Stored = Spool::Stored;

using TempDir = test_support::TempDir;

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<std::string> payloads_of(const std::vector<SpooledMessage>& messages) {
  std::vector<std::string> out;
  for (const SpooledMessage& message : messages)
    out.push_back(message.payload);
  return out;
}

std::vector<std::string> numbered(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i)
    out.push_back("m" + std::to_string(i));
  return out;
}

// A child process's verdict travels back as its exit code; it must never return into GoogleTest.
[[noreturn]] void child_exit(int code) {
  ::_exit(code);
}

// Whether some process holds a lock on SQLite's lock bytes of `path` (the page at 1 GiB, where
// its unix VFS places them), as the kernel sees it: asked from a child, because F_GETLK does not
// report the caller's own locks.
bool locked_by_another_process(const std::string& path) {
  const pid_t child = ::fork();
  if (child < 0) return false;
  if (child == 0) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) child_exit(2);
    struct flock lock {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    lock.l_start = 0x40000000;  // PENDING_BYTE
    lock.l_len = 512 + 2;       // PENDING, RESERVED and the SHARED range
    if (::fcntl(fd, F_GETLK, &lock) != 0) child_exit(3);
    child_exit(lock.l_type == F_UNLCK ? 0 : 1);
  }
  int status = 0;
  if (::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return false;
  EXPECT_LE(WEXITSTATUS(status), 1) << "the lock probe failed";
  return WEXITSTATUS(status) == 1;
}

class SpoolTest : public ::testing::Test {
 protected:
  SpoolConfig config(std::size_t max_messages = 100000, std::size_t max_bytes = 64 * 1024 * 1024,
                     Overflow overflow = Overflow::kDropOldest) const {
    SpoolConfig config;
    config.path = path();
    config.max_messages = max_messages;
    config.max_bytes = max_bytes;
    config.overflow = overflow;
    return config;
  }
  std::string path() const { return (dir_.path() / "spool.db").string(); }

  static std::unique_ptr<Spool> open_ok(const SpoolConfig& config) {
    modem::Outcome<std::unique_ptr<Spool>> spool = Spool::open(config);
    EXPECT_TRUE(spool.ok()) << (spool.ok() ? "" : spool.error().message);
    return spool.ok() ? std::move(spool).value() : nullptr;
  }
  static void commit_ok(Spool& spool) {
    modem::Outcome<bool> committed = spool.commit();
    ASSERT_TRUE(committed.ok()) << committed.error().message;
  }

  TempDir dir_;
};

TEST_F(SpoolTest, PeekAndRemoveKeepArrivalOrder) {
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  for (const std::string& payload : numbered(0, 10)) {
    EXPECT_EQ(spool->enqueue("up/t", payload, 1, false), Stored::kStored);
  }
  commit_ok(*spool);

  std::vector<SpooledMessage> first = spool->peek(3);
  ASSERT_EQ(payloads_of(first), numbered(0, 3));
  EXPECT_LT(first[0].id, first[1].id);
  EXPECT_LT(first[1].id, first[2].id);
  std::vector<SpooledMessage> next = spool->peek(3, first.back().id);
  ASSERT_EQ(payloads_of(next), numbered(3, 6));

  // Deliveries complete out of order (the module's window); what is left keeps its order.
  spool->remove(next[1].id);   // m4
  spool->remove(first[0].id);  // m0
  spool->remove(first[1].id);  // m1
  EXPECT_EQ(payloads_of(spool->peek(100)),
            (std::vector<std::string>{"m2", "m3", "m5", "m6", "m7", "m8", "m9"}));
  EXPECT_EQ(spool->size(), 7u);
  EXPECT_EQ(spool->bytes(), 7u * (4 + 2));
  EXPECT_EQ(spool->stats().delivered, 3u);
  EXPECT_EQ(spool->stats().stored, 10u);

  // Removing an id that is not there (already removed) changes nothing.
  spool->remove(first[0].id);
  EXPECT_EQ(spool->size(), 7u);
  EXPECT_EQ(spool->stats().delivered, 3u);
}

TEST_F(SpoolTest, IdsAreNeverReusedAfterTheSpoolEmpties) {
  // The bridge's after_id cursor would skip a message that reused an old id.
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  spool->enqueue("t", "a", 1, false);
  spool->enqueue("t", "b", 1, false);
  commit_ok(*spool);
  std::vector<SpooledMessage> before = spool->peek(10);
  ASSERT_EQ(before.size(), 2u);
  for (const SpooledMessage& message : before)
    spool->remove(message.id);
  EXPECT_EQ(spool->size(), 0u);
  spool->enqueue("t", "c", 1, false);
  commit_ok(*spool);
  std::vector<SpooledMessage> after = spool->peek(10, before.back().id);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_GT(after[0].id, before.back().id);

  spool.reset();
  spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  spool->remove(after[0].id);
  spool->enqueue("t", "d", 1, false);
  commit_ok(*spool);
  std::vector<SpooledMessage> reopened = spool->peek(10, after[0].id);
  ASSERT_EQ(reopened.size(), 1u);
  EXPECT_EQ(reopened[0].payload, "d");
}

TEST_F(SpoolTest, PeekDoesNotReturnUncommittedMessages) {
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  for (const std::string& payload : numbered(0, 3))
    spool->enqueue("t", payload, 1, false);
  commit_ok(*spool);
  for (const std::string& payload : numbered(3, 5))
    spool->enqueue("t", payload, 1, false);

  // Sending an uncommitted message upstream would let a crash take back what the cloud already has
  // while the local sender was never acknowledged: the bridge only ever sees committed ones.
  std::vector<SpooledMessage> committed = spool->peek(100);
  EXPECT_EQ(payloads_of(committed), numbered(0, 3));
  EXPECT_TRUE(spool->peek(100, committed.back().id).empty());
  EXPECT_EQ(spool->size(), 5u);  // the depth counts the open batch: the limits apply to it

  commit_ok(*spool);
  EXPECT_EQ(payloads_of(spool->peek(100)), numbered(0, 5));
  EXPECT_EQ(payloads_of(spool->peek(100, committed.back().id)), numbered(3, 5));
}

TEST_F(SpoolTest, PayloadsOfEveryByteValueRoundTripExactly) {
  std::vector<std::string> payloads;
  std::string all_bytes;
  for (int byte = 0; byte < 256; ++byte) {
    all_bytes.push_back(static_cast<char>(byte));
    payloads.emplace_back(1, static_cast<char>(byte));  // NUL, CR, LF, 0xFF ... each on its own
  }
  payloads.push_back(all_bytes);
  payloads.push_back(std::string("\0\0\0", 3));
  payloads.push_back("");  // must come back empty, not as NULL or a lost row
  std::mt19937 random(42);
  std::string large(1024 * 1024 + 7, '\0');
  for (char& c : large)
    c = static_cast<char>(random() & 0xff);
  payloads.push_back(large);
  const std::string topic = "gw/h\xc3\xa4user/\xe6\xb8\xa9\xe5\xba\xa6";  // UTF-8 in the topic too

  {
    auto spool = open_ok(config());
    ASSERT_NE(spool, nullptr);
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      spool->enqueue(topic, payloads[i], static_cast<int>(i % 3), i % 2 == 1);
    }
    commit_ok(*spool);
    std::vector<SpooledMessage> messages = spool->peek(payloads.size() + 1);
    ASSERT_EQ(messages.size(), payloads.size());
    for (std::size_t i = 0; i < payloads.size(); ++i) {
      EXPECT_EQ(messages[i].payload, payloads[i]) << "message " << i;
      EXPECT_EQ(messages[i].topic, topic);
      EXPECT_EQ(messages[i].qos, static_cast<int>(i % 3));
      EXPECT_EQ(messages[i].retain, i % 2 == 1);
    }
  }
  auto reopened = open_ok(config());
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(payloads_of(reopened->peek(payloads.size() + 1)), payloads);
}

TEST_F(SpoolTest, ReopenFindsTheSameMessagesOrderAndDepth) {
  std::vector<SpooledMessage> before;
  std::size_t size = 0;
  std::uint64_t bytes = 0;
  {
    auto spool = open_ok(config());
    ASSERT_NE(spool, nullptr);
    for (int i = 0; i < 50; ++i) {
      spool->enqueue("topic/" + std::to_string(i % 4),
                     std::string(static_cast<std::size_t>(i * 13), 'x') + std::to_string(i), i % 3,
                     i % 5 == 0);
    }
    commit_ok(*spool);
    std::vector<SpooledMessage> all = spool->peek(100);
    spool->remove(all[0].id);
    spool->remove(all[17].id);
    before = spool->peek(100);
    size = spool->size();
    bytes = spool->bytes();
    ASSERT_EQ(before.size(), 48u);
  }  // destroyed without removing the rest
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->size(), size);
  EXPECT_EQ(spool->bytes(), bytes);
  std::vector<SpooledMessage> after = spool->peek(100);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ(after[i].id, before[i].id);
    EXPECT_EQ(after[i].topic, before[i].topic);
    EXPECT_EQ(after[i].payload, before[i].payload);
    EXPECT_EQ(after[i].qos, before[i].qos);
    EXPECT_EQ(after[i].retain, before[i].retain);
  }
}

TEST_F(SpoolTest, DestroyingWithAnOpenBatchKeepsIt) {
  {
    auto spool = open_ok(config());
    ASSERT_NE(spool, nullptr);
    spool->enqueue("t", "uncommitted", 0, false);
  }
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(payloads_of(spool->peek(10)), std::vector<std::string>{"uncommitted"});
}

// A real crash: a child process commits and dies without closing anything (no destructor, no
// checkpoint, the WAL left behind); the parent reopens the file and must find every committed
// message, and none of the batch the child never committed.
class SpoolCrashTest : public SpoolTest, public ::testing::WithParamInterface<bool> {};

TEST_P(SpoolCrashTest, CommittedMessagesSurviveTheProcessDying) {
  const bool sigkill = GetParam();
  constexpr int kCommitted = 1000;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    modem::Outcome<std::unique_ptr<Spool>> opened = Spool::open(config());
    if (!opened) child_exit(2);
    Spool& spool = *opened.value();
    for (int i = 0; i < kCommitted; ++i) {
      if (spool.enqueue("t", "m" + std::to_string(i), 1, false) != Stored::kStored) child_exit(3);
      if (i % 100 == 99 && !spool.commit()) child_exit(4);
    }
    for (int i = 0; i < 7; ++i)
      spool.enqueue("t", "never committed", 1, false);
    if (sigkill) ::kill(::getpid(), SIGKILL);
    child_exit(0);  // no destructor, no sqlite3_close
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  if (sigkill) {
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  } else {
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  }
  // The committed data is in the WAL, not yet checkpointed: reopening must recover it from there.
  ASSERT_TRUE(fs::exists(path() + "-wal"));
  EXPECT_GT(fs::file_size(path() + "-wal"), 0u);
  // Exclusive locking mode keeps the WAL index in memory: no -shm file for anyone else to map.
  EXPECT_FALSE(fs::exists(path() + "-shm"));

  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->size(), static_cast<std::size_t>(kCommitted));
  EXPECT_EQ(payloads_of(spool->peek(kCommitted + 100)), numbered(0, kCommitted));
}

INSTANTIATE_TEST_SUITE_P(KillOrExit, SpoolCrashTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "Sigkill" : "ExitWithoutClosing";
                         });

TEST_F(SpoolTest, DropOldestByCount) {
  test_support::LogCapture log("spool", spdlog::level::warn);
  auto spool = open_ok(config(5));
  ASSERT_NE(spool, nullptr);
  std::vector<Stored> results;
  for (const std::string& payload : numbered(0, 8))
    results.push_back(spool->enqueue("t", payload, 1, false));
  commit_ok(*spool);
  EXPECT_EQ(results,
            (std::vector<Stored>{Stored::kStored, Stored::kStored, Stored::kStored, Stored::kStored,
                                 Stored::kStored, Stored::kStoredAfterDroppingOldest,
                                 Stored::kStoredAfterDroppingOldest, Stored::kStoredAfterDroppingOldest}));
  EXPECT_EQ(payloads_of(spool->peek(100)), numbered(3, 8));
  EXPECT_EQ(spool->size(), 5u);
  EXPECT_EQ(spool->bytes(), 5u * 3);
  EXPECT_EQ(spool->stats().dropped_oldest, 3u);
  EXPECT_EQ(spool->stats().dropped_new, 0u);
  EXPECT_EQ(spool->stats().stored, 8u);
  EXPECT_TRUE(log.contains("spool full")) << "a drop must be logged";
}

TEST_F(SpoolTest, DropOldestByBytes) {
  // Topic "t" + 9 payload bytes = 10 bytes each; 35 bytes hold three.
  auto spool = open_ok(config(1000, 35));
  ASSERT_NE(spool, nullptr);
  for (const char* payload : {"aaaaaaaaa", "bbbbbbbbb", "ccccccccc"}) {
    EXPECT_EQ(spool->enqueue("t", payload, 1, false), Stored::kStored);
  }
  EXPECT_EQ(spool->enqueue("t", "ddddddddd", 1, false), Stored::kStoredAfterDroppingOldest);
  EXPECT_EQ(spool->bytes(), 30u);
  // 25 bytes: 30 + 25 > 35, 20 + 25 > 35, 10 + 25 fits: two dropped for one.
  EXPECT_EQ(spool->enqueue("t", std::string(24, 'e'), 1, false), Stored::kStoredAfterDroppingOldest);
  commit_ok(*spool);
  EXPECT_EQ(payloads_of(spool->peek(100)), (std::vector<std::string>{"ddddddddd", std::string(24, 'e')}));
  EXPECT_EQ(spool->bytes(), 35u);
  EXPECT_EQ(spool->size(), 2u);
  EXPECT_EQ(spool->stats().dropped_oldest, 3u);
  EXPECT_EQ(spool->stats().dropped_new, 0u);
}

TEST_F(SpoolTest, DropNewByCount) {
  auto spool = open_ok(config(3, 1 << 20, Overflow::kDropNew));
  ASSERT_NE(spool, nullptr);
  std::vector<Stored> results;
  for (const std::string& payload : numbered(0, 5))
    results.push_back(spool->enqueue("t", payload, 1, false));
  commit_ok(*spool);
  EXPECT_EQ(results, (std::vector<Stored>{Stored::kStored, Stored::kStored, Stored::kStored,
                                          Stored::kDroppedNew, Stored::kDroppedNew}));
  std::vector<SpooledMessage> kept = spool->peek(100);
  EXPECT_EQ(payloads_of(kept), numbered(0, 3));
  EXPECT_EQ(spool->stats().dropped_new, 2u);
  EXPECT_EQ(spool->stats().dropped_oldest, 0u);
  EXPECT_EQ(spool->stats().stored, 3u);

  // A delivery makes room again.
  spool->remove(kept[0].id);
  EXPECT_EQ(spool->enqueue("t", "m5", 1, false), Stored::kStored);
  commit_ok(*spool);
  EXPECT_EQ(payloads_of(spool->peek(100)), (std::vector<std::string>{"m1", "m2", "m5"}));
}

TEST_F(SpoolTest, DropNewByBytes) {
  auto spool = open_ok(config(1000, 35, Overflow::kDropNew));
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->enqueue("t", "aaaaaaaaa", 1, false), Stored::kStored);
  EXPECT_EQ(spool->enqueue("t", "bbbbbbbbb", 1, false), Stored::kStored);
  EXPECT_EQ(spool->enqueue("t", "ccccccccc", 1, false), Stored::kStored);
  EXPECT_EQ(spool->enqueue("t", "ddddddddd", 1, false), Stored::kDroppedNew);  // 40 > 35
  EXPECT_EQ(spool->enqueue("t", "eeee", 1, false), Stored::kStored);           // 35 fits exactly
  EXPECT_EQ(spool->enqueue("t", "", 1, false), Stored::kDroppedNew);           // 36
  commit_ok(*spool);
  EXPECT_EQ(payloads_of(spool->peek(100)),
            (std::vector<std::string>{"aaaaaaaaa", "bbbbbbbbb", "ccccccccc", "eeee"}));
  EXPECT_EQ(spool->bytes(), 35u);
  EXPECT_EQ(spool->stats().dropped_new, 2u);
  EXPECT_EQ(spool->stats().dropped_oldest, 0u);
}

TEST_F(SpoolTest, AMessageLargerThanMaxBytesIsRefusedWhateverThePolicy) {
  for (Overflow overflow : {Overflow::kDropOldest, Overflow::kDropNew}) {
    TempDir dir;
    SpoolConfig small = config(1000, 100, overflow);
    small.path = (dir.path() / "spool.db").string();
    auto spool = open_ok(small);
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(spool->enqueue("t", "keep me", 1, false), Stored::kStored);
    // 1 + 100 bytes: dropping everything else would not make room, so nothing else is dropped.
    EXPECT_EQ(spool->enqueue("t", std::string(100, 'x'), 1, false), Stored::kDroppedNew);
    commit_ok(*spool);
    EXPECT_EQ(payloads_of(spool->peek(10)), std::vector<std::string>{"keep me"});
    EXPECT_EQ(spool->stats().dropped_new, 1u);
    EXPECT_EQ(spool->stats().dropped_oldest, 0u);
    // Exactly max_bytes fits (after dropping the rest under drop-oldest).
    const Stored exact = spool->enqueue("t", std::string(99, 'y'), 1, false);
    EXPECT_EQ(exact,
              overflow == Overflow::kDropOldest ? Stored::kStoredAfterDroppingOldest : Stored::kDroppedNew);
  }
}

// A topic comes from a local app; in a log line it is shown escaped, so a terminal reading the
// journal never acts on it. A message larger than the whole spool is a setting to fix: said once,
// not once per message.
TEST_F(SpoolTest, AMessageLargerThanMaxBytesIsLoggedOnceWithItsTopicEscaped) {
  test_support::LogCapture log("spool", spdlog::level::warn);
  auto spool = open_ok(config(1000, 100));
  ASSERT_NE(spool, nullptr);
  for (int n = 0; n < 3; ++n)
    EXPECT_EQ(spool->enqueue("t/\x1b[2J\x1b]0;owned\x07", std::string(100, 'x'), 1, false),
              Stored::kDroppedNew);
  EXPECT_EQ(spool->stats().dropped_new, 3u);
  ASSERT_EQ(log.lines().size(), 1u);
  const std::string line = log.lines().front();
  EXPECT_NE(line.find("refused a message for t/\\x1b[2J\\x1b]0;owned\\x07: "), std::string::npos) << line;
  EXPECT_EQ(line.find('\x1b'), std::string::npos) << line;
}

// The spooled messages are for the daemon's user only, whatever the umask it was started with
// (the packaged unit sets UMask=0077; a daemon started by hand may have 000). SQLite gives the
// -wal and -shm files the database file's mode, so all of them are 0600.
class UmaskForThisTest {
 public:
  explicit UmaskForThisTest(mode_t mask) : old_(::umask(mask)) {}
  ~UmaskForThisTest() { ::umask(old_); }
  UmaskForThisTest(const UmaskForThisTest&) = delete;
  UmaskForThisTest& operator=(const UmaskForThisTest&) = delete;

 private:
  mode_t old_;
};

std::optional<mode_t> mode_of(const std::string& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  return st.st_mode & 07777;
}

TEST_F(SpoolTest, ItsFilesAreCreatedOwnerOnlyWhateverTheUmask) {
  const UmaskForThisTest permissive(0);
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->enqueue("t", "private", 1, false), Stored::kStored);
  commit_ok(*spool);
  EXPECT_EQ(mode_of(path()), 0600u);
  ASSERT_TRUE(mode_of(path() + "-wal").has_value()) << "the test expects the WAL to exist while open";
  EXPECT_EQ(mode_of(path() + "-wal"), 0600u);
  // In exclusive locking mode SQLite keeps the WAL index in memory: no -shm; if one ever appears,
  // it must be owner-only too.
  if (const auto shm = mode_of(path() + "-shm")) {
    EXPECT_EQ(*shm, 0600u);
  }
  // A file created by the daemon's own logic (none today but the spool) would show up here.
  for (const auto& entry : fs::directory_iterator(dir_.path()))
    EXPECT_EQ(mode_of(entry.path().string()), 0600u) << entry.path();
}

TEST_F(SpoolTest, AnExistingSpoolOthersCouldReadIsMadeOwnerOnly) {
  {
    auto spool = open_ok(config());
    ASSERT_NE(spool, nullptr);
    EXPECT_EQ(spool->enqueue("t", "private", 1, false), Stored::kStored);
    commit_ok(*spool);
  }
  fs::permissions(
      path(), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read,
      fs::perm_options::replace);
  const UmaskForThisTest permissive(0);
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(mode_of(path()), 0600u);
  EXPECT_EQ(payloads_of(spool->peek(10)), std::vector<std::string>{"private"});
  EXPECT_EQ(spool->enqueue("t", "more", 1, false), Stored::kStored);
  commit_ok(*spool);
  EXPECT_EQ(mode_of(path() + "-wal"), 0600u);
}

TEST_F(SpoolTest, SetLimitsAppliesFromTheNextEnqueue) {
  auto spool = open_ok(config(10));
  ASSERT_NE(spool, nullptr);
  for (const std::string& payload : numbered(0, 10))
    EXPECT_EQ(spool->enqueue("t", payload, 1, false), Stored::kStored);
  commit_ok(*spool);

  spool->set_limits(config(5, 1 << 20, Overflow::kDropOldest));
  EXPECT_EQ(spool->size(), 10u);  // nothing happens until the next message
  EXPECT_EQ(spool->enqueue("t", "m10", 1, false), Stored::kStoredAfterDroppingOldest);
  commit_ok(*spool);
  EXPECT_EQ(payloads_of(spool->peek(100)), numbered(6, 11));
  EXPECT_EQ(spool->stats().dropped_oldest, 6u);

  spool->set_limits(config(5, 1 << 20, Overflow::kDropNew));
  EXPECT_EQ(spool->enqueue("t", "m11", 1, false), Stored::kDroppedNew);
  EXPECT_EQ(spool->stats().dropped_new, 1u);

  spool->set_limits(config(100, 3 * 5 + 3, Overflow::kDropNew));  // bytes now the binding limit
  EXPECT_EQ(spool->enqueue("t", "m12", 1, false), Stored::kDroppedNew);
  EXPECT_EQ(spool->stats().dropped_new, 2u);

  spool->set_limits(config(100, 1 << 20, Overflow::kDropNew));
  EXPECT_EQ(spool->enqueue("t", "m13", 1, false), Stored::kStored);
  commit_ok(*spool);
  EXPECT_EQ(spool->size(), 6u);
}

TEST_F(SpoolTest, ASecondOpenInTheSameProcessFailsClearly) {
  auto first = open_ok(config());
  ASSERT_NE(first, nullptr);
  modem::Outcome<std::unique_ptr<Spool>> second = Spool::open(config());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().message.rfind(path() + ": in use by another process", 0), 0u)
      << second.error().message;
  // SQLite's locks are POSIX record locks, which a process loses when it closes *any* descriptor of
  // the file: the failed second open must not have cost the first its lock.
  EXPECT_TRUE(locked_by_another_process(path()));
  first.reset();
  EXPECT_FALSE(locked_by_another_process(path()));
  EXPECT_NE(open_ok(config()), nullptr);
}

TEST_F(SpoolTest, ASecondProcessCannotOpenTheSpoolWhileTheFirstHasIt) {
  // Another process, so the exclusion is the kernel's file lock and not SQLite's in-process
  // bookkeeping. The child opens first; this process never had the file open before.
  int ready[2];
  int done[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(done), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    ::close(done[1]);
    modem::Outcome<std::unique_ptr<Spool>> opened = Spool::open(config());
    if (!opened) child_exit(2);
    opened.value()->enqueue("t", "from the first daemon", 1, false);
    if (!opened.value()->commit()) child_exit(3);
    char byte = 'r';
    if (::write(ready[1], &byte, 1) != 1) child_exit(4);
    (void)::read(done[0], &byte, 1);  // until the parent has tried
    child_exit(0);
  }
  ::close(ready[1]);
  ::close(done[0]);
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1) << "the child could not open the spool";

  modem::Outcome<std::unique_ptr<Spool>> second = Spool::open(config());
  const std::string message = second.ok() ? "" : second.error().message;
  ::close(done[1]);
  ::close(ready[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(message.rfind(path() + ": in use by another process", 0), 0u) << message;

  // The kernel released the lock with the process: the file is usable, its message intact.
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(payloads_of(spool->peek(10)), std::vector<std::string>{"from the first daemon"});
}

TEST_F(SpoolTest, AMissingDirectoryIsReportedClearly) {
  SpoolConfig missing = config();
  missing.path = (dir_.path() / "no-such-dir" / "spool.db").string();
  modem::Outcome<std::unique_ptr<Spool>> spool = Spool::open(missing);
  ASSERT_FALSE(spool.ok());
  EXPECT_EQ(spool.error().message,
            missing.path + ": cannot create: No such file or directory (does the StateDirectory exist?)");
  EXPECT_EQ(spool.error().errnum, ENOENT);
  EXPECT_FALSE(fs::exists(dir_.path() / "no-such-dir"));
}

TEST_F(SpoolTest, AnUnwritableDirectoryIsReportedClearly) {
  // Root writes anywhere, and CI runs as root: the attempt is made by a child that, if root, first
  // becomes nobody (as the daemon runs as its own user).
  fs::permissions(dir_.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                   fs::perms::others_read | fs::perms::others_exec);
  fs::create_directory(dir_.path() / "ro");
  fs::permissions(dir_.path() / "ro", fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                          fs::perms::group_exec | fs::perms::others_read |
                                          fs::perms::others_exec);
  SpoolConfig ro = config();
  ro.path = (dir_.path() / "ro" / "spool.db").string();
  const std::string expected = ro.path +
                               ": cannot create: Permission denied (can the daemon's user write to " +
                               (dir_.path() / "ro").string() + "?";
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) child_exit(2);
    modem::Outcome<std::unique_ptr<Spool>> spool = Spool::open(ro);
    if (spool.ok()) child_exit(3);
    if (spool.error().message.rfind(expected, 0) != 0) {
      std::cerr << "child got: " << spool.error().message << "\n";
      child_exit(4);
    }
    if (spool.error().errnum != EACCES) child_exit(5);
    child_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  fs::permissions(dir_.path() / "ro", fs::perms::owner_all);
  ASSERT_TRUE(WIFEXITED(status)) << "child status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "see the child_exit() codes; expected a message starting " << expected;
  EXPECT_FALSE(fs::exists(ro.path));
}

TEST_F(SpoolTest, AFileThatIsNotADatabaseIsReportedAndLeftAlone) {
  std::string garbage(8192, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i)
    garbage[i] = static_cast<char>((i * 7919) & 0xff);
  std::ofstream(path(), std::ios::binary) << garbage;
  modem::Outcome<std::unique_ptr<Spool>> spool = Spool::open(config());
  ASSERT_FALSE(spool.ok());
  EXPECT_NE(spool.error().message.find("not a SQLite database, or corrupt"), std::string::npos)
      << spool.error().message;
  EXPECT_NE(spool.error().message.find("move it aside"), std::string::npos);
  EXPECT_EQ(read_file(path()), garbage) << "a corrupt spool must never be replaced silently";
}

TEST_F(SpoolTest, ADamagedSpoolIsReportedAndLeftAlone) {
  {
    auto spool = open_ok(config());
    ASSERT_NE(spool, nullptr);
    for (int i = 0; i < 200; ++i)
      spool->enqueue("t", std::string(500, static_cast<char>('a' + i % 26)), 1, false);
    commit_ok(*spool);
  }
  ASSERT_FALSE(fs::exists(path() + "-wal")) << "closing should have checkpointed";
  // Scribble over pages 2 to 4 (the table's b-tree), as a failing SD card might.
  std::string bytes = read_file(path());
  ASSERT_GT(bytes.size(), 5u * 4096);
  for (std::size_t i = 4096; i < 4 * 4096; ++i)
    bytes[i] = static_cast<char>(0xa5 ^ (i & 0xff));
  std::ofstream(path(), std::ios::binary | std::ios::trunc) << bytes;

  modem::Outcome<std::unique_ptr<Spool>> spool = Spool::open(config());
  ASSERT_FALSE(spool.ok());
  EXPECT_NE(spool.error().message.find("corrupt"), std::string::npos) << spool.error().message;
  EXPECT_EQ(read_file(path()), bytes);
}

TEST_F(SpoolTest, ADamagedFreeListIsReportedAtOpenNotAtTheNextStore) {
  // Reading the messages does not touch the free-page list; only the check at open does. Left
  // undetected, the first enqueue() to reuse a free page would fail in the middle of operation.
  {
    auto spool = open_ok(config());
    ASSERT_NE(spool, nullptr);
    for (int i = 0; i < 200; ++i)
      spool->enqueue("t", std::string(500, 'f'), 1, false);
    commit_ok(*spool);
    for (const SpooledMessage& message : spool->peek(150))
      spool->remove(message.id);
  }
  std::string bytes = read_file(path());
  const std::size_t pages = bytes.size() / 4096;
  // The header's first free-list trunk page (offset 32, big-endian): point it past the end.
  ASSERT_NE(bytes.substr(32, 4), std::string(4, '\0')) << "the test needs free pages";
  const auto bogus = static_cast<std::uint32_t>(pages + 1000);
  for (int i = 0; i < 4; ++i)
    bytes[32 + i] = static_cast<char>((bogus >> (24 - 8 * i)) & 0xff);
  std::ofstream(path(), std::ios::binary | std::ios::trunc) << bytes;

  modem::Outcome<std::unique_ptr<Spool>> spool = Spool::open(config());
  ASSERT_FALSE(spool.ok());
  EXPECT_NE(spool.error().message.find("corrupt"), std::string::npos) << spool.error().message;
  EXPECT_EQ(spool.error().message.find('\n'), std::string::npos) << spool.error().message;
  EXPECT_EQ(read_file(path()), bytes);
}

TEST_F(SpoolTest, ADatabaseOfSomethingElseOrOfANewerReleaseIsRefused) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "CREATE TABLE other (x)", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  modem::Outcome<std::unique_ptr<Spool>> foreign = Spool::open(config());
  ASSERT_FALSE(foreign.ok());
  EXPECT_NE(foreign.error().message.find("not a cellmqttd spool"), std::string::npos)
      << foreign.error().message;

  fs::remove(path());
  open_ok(config()).reset();
  ASSERT_EQ(sqlite3_open(path().c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  modem::Outcome<std::unique_ptr<Spool>> newer = Spool::open(config());
  ASSERT_FALSE(newer.ok());
  EXPECT_NE(newer.error().message.find("written by a newer cellmqttd (spool schema 99"), std::string::npos)
      << newer.error().message;
}

TEST_F(SpoolTest, AFailedWriteIsReportedByCommitAndUndoesTheWholeBatch) {
  // A full disk, simulated in a child process with RLIMIT_FSIZE: the WAL cannot grow.
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of dying
    modem::Outcome<std::unique_ptr<Spool>> opened = Spool::open(config());
    if (!opened) child_exit(2);
    Spool& spool = *opened.value();
    for (int i = 0; i < 3; ++i)
      spool.enqueue("t", "kept" + std::to_string(i), 1, false);
    if (!spool.commit()) child_exit(3);
    const rlimit unlimited{RLIM_INFINITY, RLIM_INFINITY};
    std::uintmax_t largest = std::max(fs::file_size(path()), fs::file_size(path() + "-wal"));
    const rlimit tight{static_cast<rlim_t>(largest + 8192), RLIM_INFINITY};
    if (::setrlimit(RLIMIT_FSIZE, &tight) != 0) child_exit(4);
    // 4 MiB: more than SQLite's page cache, so the failure shows while storing (a cache spill to
    // the WAL), not only at commit. From the first refusal on, every message is refused: storing
    // the rest would let commit() pass off a half-lost batch as durable.
    int first_refused = -1;
    for (int i = 0; i < 64; ++i) {
      const Stored stored = spool.enqueue("t", std::string(64 * 1024, 'z'), 1, false);
      if (stored == Stored::kDroppedNew && first_refused < 0) first_refused = i;
      if (stored != Stored::kDroppedNew && first_refused >= 0) child_exit(12);
    }
    if (first_refused < 0) child_exit(13);
    if (spool.commit()) child_exit(5);    // must report the failure
    if (!spool.commit()) child_exit(14);  // reported once; nothing pending now
    if (spool.size() != 3 || spool.stats().stored != 3 || spool.stats().dropped_new != 0) child_exit(6);
    if (payloads_of(spool.peek(100)) != std::vector<std::string>{"kept0", "kept1", "kept2"}) child_exit(7);
    // Once there is room again, the spool works again.
    if (::setrlimit(RLIMIT_FSIZE, &unlimited) != 0) child_exit(8);
    if (spool.enqueue("t", "after", 1, false) != Stored::kStored) child_exit(9);
    if (!spool.commit()) child_exit(10);
    if (spool.size() != 4) child_exit(11);
    child_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child status " << status;
  ASSERT_EQ(WEXITSTATUS(status), 0) << "see the child_exit() codes in the test";
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(payloads_of(spool->peek(100)), (std::vector<std::string>{"kept0", "kept1", "kept2", "after"}));
}

// Not a pass/fail criterion (DESIGN.md: performance is measured, never asserted in a test): the
// figures are printed and recorded in the test's XML output.
TEST_F(SpoolTest, ThroughputIsPrinted) {
  constexpr int kMessages = 20000;
  constexpr int kBatch = 100;
  auto spool = open_ok(config());
  ASSERT_NE(spool, nullptr);
  const std::string payload(64, 'p');
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < kMessages; ++i) {
    spool->enqueue("sensors/gw1/temperature", payload, 1, false);
    if (i % kBatch == kBatch - 1) commit_ok(*spool);
  }
  const auto enqueued = std::chrono::steady_clock::now();
  std::int64_t after = 0;
  int drained = 0;
  while (true) {
    std::vector<SpooledMessage> messages = spool->peek(5, after);
    if (messages.empty()) break;
    for (const SpooledMessage& message : messages)
      spool->remove(message.id);
    drained += static_cast<int>(messages.size());
    after = messages.back().id;
  }
  const auto end = std::chrono::steady_clock::now();
  ASSERT_EQ(drained, kMessages);
  const auto per_second = [](int count, std::chrono::steady_clock::duration elapsed) {
    return static_cast<int>(count / std::chrono::duration<double>(elapsed).count());
  };
  const int enqueue_rate = per_second(kMessages, enqueued - start);
  const int drain_rate = per_second(kMessages, end - enqueued);
  RecordProperty("enqueue_msgs_per_s", enqueue_rate);
  RecordProperty("drain_msgs_per_s", drain_rate);
  std::cout << "[ spool    ] enqueue " << enqueue_rate << " msgs/s (batches of " << kBatch
            << ", fsync per batch); drain " << drain_rate << " msgs/s (peek 5, remove each)\n";
}

}  // namespace
}  // namespace cellmqttd
