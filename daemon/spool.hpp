// The durable spool: every local message accepted for upstream is written here before anything
// else happens, and leaves only when the session reports it delivered. SQLite in WAL mode (no
// hand-rolled file format); ordered by arrival; bounded by count and bytes with an explicit
// overflow policy whose every drop is counted and logged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.hpp"
#include "modem/outcome.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace cellmqttd {

struct SpooledMessage {
  std::int64_t id = 0;  // increasing with arrival
  std::string topic;    // already mapped to its upstream topic
  std::string payload;  // byte-exact
  int qos = 1;
  bool retain = false;
};

struct SpoolStats {
  std::uint64_t stored = 0;
  std::uint64_t delivered = 0;
  std::uint64_t dropped_oldest = 0;  // removed to make room (overflow = "drop-oldest")
  std::uint64_t dropped_new = 0;     // refused for lack of room (overflow = "drop-new")
};

class Spool {
 public:
  // Opens (creating if needed) the database at config.path, in WAL mode with synchronous=FULL so
  // a committed message survives power loss. An error says what to do (a directory that does not
  // exist, permissions, a corrupt file).
  static modem::Outcome<std::unique_ptr<Spool>> open(const SpoolConfig& config);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  enum class Stored { kStored, kStoredAfterDroppingOldest, kDroppedNew };
  // Adds a message inside the current batch (see commit()). A message larger than max_bytes on
  // its own is refused as kDroppedNew whatever the policy. If SQLite fails to write (disk full,
  // I/O error), the batch is rolled back, this and every later enqueue() until commit() return
  // kDroppedNew (not counted as policy drops) and commit() reports the error.
  Stored enqueue(const std::string& topic, const std::string& payload, int qos, bool retain);
  // Makes every enqueue() since the last commit durable in one transaction (group commit: one
  // fsync for a burst). Call before acknowledging the messages to their sender. All or nothing:
  // true when every message stored since the last commit() is durable (also when there was
  // nothing to commit); an error when none of them is (do not acknowledge them).
  modem::Outcome<bool> commit();

  // Up to `max` messages with id > after_id, oldest first (committed ones only).
  std::vector<SpooledMessage> peek(std::size_t max, std::int64_t after_id = 0);
  // The message was delivered: it leaves the spool, in the current batch if one is open, else in
  // its own transaction that is not fsynced (it becomes durable with the next commit() or WAL
  // checkpoint). A removal lost to power loss only means the message is sent again after restart:
  // a duplicate upstream, never a loss. An id that is not there (already dropped) is ignored.
  void remove(std::int64_t id);

  // Depth including the open batch (what the limits are checked against); restored from the file
  // on open(), so a restart after kill -9 knows it.
  std::size_t size() const { return count_; }
  std::uint64_t bytes() const { return bytes_; }
  const SpoolStats& stats() const { return stats_; }
  // Replaces the limits and policy (SIGHUP); applied from the next enqueue().
  void set_limits(const SpoolConfig& config);

 private:
  Spool(sqlite3* db, SpoolConfig config);
  bool begin_batch();
  bool fits(std::uint64_t message_bytes) const;
  bool drop_oldest_one();
  void fail_batch(const char* what, int rc);
  void load_depth();
  int prepare_statements();
  void note_drop(const char* what, std::int64_t id, const std::string& topic);
  void end_overflow_run();

  sqlite3* db_;
  SpoolConfig config_;
  std::size_t count_ = 0;    // committed + open batch: what the limits are checked against
  std::uint64_t bytes_ = 0;  // topic + payload bytes of those messages
  SpoolStats stats_;
  bool in_batch_ = false;
  // Highest id made durable by a commit: peek() never looks past it, so the bridge never sends a
  // message that a crash could still take back (the open batch's ids are all above it).
  std::int64_t committed_max_id_ = 0;
  std::int64_t batch_max_id_ = 0;
  // What to restore when a batch fails and SQLite rolls it back.
  SpoolStats batch_start_stats_;
  // Set when a statement of the open batch failed; the next commit() reports it.
  std::string batch_error_;
  bool overflowing_ = false;       // inside a run of drops: warn at its start, not at every drop
  bool warned_too_large_ = false;  // a message larger than max_bytes: warned once
  std::uint64_t overflow_run_drops_ = 0;
  // Prepared once, reused for every call (reset after each use).
  sqlite3_stmt* begin_ = nullptr;
  sqlite3_stmt* commit_ = nullptr;
  sqlite3_stmt* rollback_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* delete_oldest_ = nullptr;
  sqlite3_stmt* delete_id_ = nullptr;
  sqlite3_stmt* peek_ = nullptr;
};

}  // namespace cellmqttd
