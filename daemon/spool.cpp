#include "spool.hpp"

#include <fcntl.h>  // AT_FDCWD, open
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>  // faccessat, close

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "modem/log.hpp"

namespace cellmqttd {
namespace {

// PRAGMA user_version of the schema this release writes. A later release adds a step to
// kMigrations and bumps this; open() applies the missing steps in one transaction.
constexpr int kSchemaVersion = 1;
// PRAGMA application_id: marks the file as a cellmqttd spool, so a SQLite file that belongs to
// something else is reported instead of having a table added to it. "cmqd" in ASCII.
constexpr int kApplicationId = 0x636d7164;

// kMigrations[n] takes the schema from version n to n + 1.
constexpr const char* kMigrations[kSchemaVersion] = {
    // 0 -> 1. AUTOINCREMENT so an id is never reused, even after the spool empties: the bridge
    // keeps an "after_id" cursor over what it already sent, and a reused id would hide a new
    // message behind it. `bytes` is topic + payload as the limits count them (length() of TEXT
    // counts characters, not bytes, and would have to read the row).
    "CREATE TABLE messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " topic TEXT NOT NULL,"
    " payload BLOB NOT NULL,"
    " qos INTEGER NOT NULL,"
    " retain INTEGER NOT NULL,"
    " bytes INTEGER NOT NULL)",
};

// After a checkpoint the WAL is cut back to this size, so one big burst does not leave a large
// -wal file behind for the life of the process.
constexpr const char* kJournalSizeLimit = "PRAGMA journal_size_limit = 4194304";

std::shared_ptr<spdlog::logger> log() {
  return modem::logger("spool");
}

std::string errno_text(int err) {
  return std::system_category().message(err);
}

std::string directory_of(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

// Never replaced or repaired here: the file may hold messages that exist nowhere else.
modem::Error corrupt_error(const std::string& path, const std::string& what, const std::string& detail) {
  return modem::Error{path + ": " + what + " (" + detail +
                          "): left untouched; move it aside and restart to begin an empty spool (`sqlite3 " +
                          path + " .recover` may save its messages)",
                      0};
}

// Why a file could not be opened or created. SQLite's own errno is unreliable here: after open()
// with O_CREAT fails with EACCES it retries read-only, and that attempt's ENOENT is what it keeps,
// which would send a person looking for a missing directory that is there. So ask the file system
// directly: the directory must be writable (the WAL lives next to the file), then the file itself.
int cannot_open_errno(const std::string& path, sqlite3* db) {
  if (::faccessat(AT_FDCWD, directory_of(path).c_str(), W_OK | X_OK, AT_EACCESS) != 0) return errno;
  if (::faccessat(AT_FDCWD, path.c_str(), F_OK, AT_EACCESS) == 0 &&
      ::faccessat(AT_FDCWD, path.c_str(), R_OK | W_OK, AT_EACCESS) != 0) {
    return errno;
  }
  return db != nullptr ? sqlite3_system_errno(db) : 0;
}

// Turns a SQLite failure into a sentence naming the file, what failed and what to do about it.
modem::Error db_error(const std::string& path, sqlite3* db, int rc, const std::string& action) {
  const int err = (rc & 0xff) == SQLITE_CANTOPEN ? cannot_open_errno(path, db)
                  : db != nullptr                ? sqlite3_system_errno(db)
                                                 : 0;
  switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return modem::Error{path +
                              ": in use by another process (another cellmqttd with the same spool.path?); "
                              "it holds an exclusive lock until it exits",
                          0};
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
      return corrupt_error(path, "not a SQLite database, or corrupt",
                           db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    default:
      break;
  }
  if (err != 0) {
    std::string hint;
    switch (err) {
      case ENOENT:
        hint = " (does the StateDirectory exist?)";
        break;
      case EACCES:
      case EPERM:
        hint = " (can the daemon's user write to " + directory_of(path) +
               "? systemd's StateDirectory= makes it so)";
        break;
      case EROFS:
        hint = " (the file system is mounted read-only)";
        break;
      case ENOSPC:
        hint = " (the disk is full)";
        break;
      default:
        break;
    }
    return modem::Error{path + ": " + action + ": " + errno_text(err) + hint, err};
  }
  return modem::Error{path + ": " + action + ": " + (db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)),
                      0};
}

// Resets a reused statement however the function using it returns, so it never holds a read
// transaction open or points at a caller's buffer (binds are SQLITE_STATIC) after the call.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* statement) : statement_(statement) {}
  ~ResetOnExit() {
    sqlite3_reset(statement_);
    sqlite3_clear_bindings(statement_);
  }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* statement_;
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

// Runs a statement that returns at most one row and gives its first column as text (PRAGMAs).
int query_text(sqlite3* db, const char* sql, std::string& out) {
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db, sql, -1, &statement, nullptr);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(statement);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(statement, 0);
    out = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    out.clear();
    rc = SQLITE_OK;
  }
  sqlite3_finalize(statement);
  return rc;
}

int query_int(sqlite3* db, const char* sql, std::int64_t& out) {
  std::string text;
  const int rc = query_text(db, sql, text);
  if (rc == SQLITE_OK) out = text.empty() ? 0 : std::stoll(text);
  return rc;
}

// Brings the schema to kSchemaVersion inside the caller's transaction, or says why it cannot.
std::optional<modem::Error> migrate(const std::string& path, sqlite3* db) {
  std::int64_t version = 0;
  std::int64_t application_id = 0;
  std::int64_t tables = 0;
  int rc = query_int(db, "PRAGMA user_version", version);
  if (rc == SQLITE_OK) rc = query_int(db, "PRAGMA application_id", application_id);
  if (rc == SQLITE_OK) rc = query_int(db, "SELECT count(*) FROM sqlite_schema", tables);
  if (rc != SQLITE_OK) return db_error(path, db, rc, "cannot read");

  const bool fresh = version == 0 && application_id == 0 && tables == 0;
  if (!fresh && application_id != kApplicationId) {
    return modem::Error{path +
                            ": a SQLite database but not a cellmqttd spool: left untouched; point spool.path "
                            "at another file",
                        0};
  }
  if (version > kSchemaVersion) {
    return modem::Error{path + ": written by a newer cellmqttd (spool schema " + std::to_string(version) +
                            ", this one knows up to " + std::to_string(kSchemaVersion) +
                            "): left untouched; run the newer release, or move the file aside",
                        0};
  }
  for (std::int64_t step = version; step < kSchemaVersion; ++step) {
    rc = sqlite3_exec(db, kMigrations[step], nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return db_error(path, db, rc, "cannot write the schema");
  }
  if (version != kSchemaVersion) {
    const std::string stamp = "PRAGMA application_id = " + std::to_string(kApplicationId) +
                              "; PRAGMA user_version = " + std::to_string(kSchemaVersion);
    rc = sqlite3_exec(db, stamp.c_str(), nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return db_error(path, db, rc, "cannot write the schema");
    if (version != 0)
      log()->info("{}: spool schema migrated from version {} to {}", path, version, kSchemaVersion);
  }
  return std::nullopt;
}

// The spool holds what local apps publish, which may be as private as anything on the gateway, so
// its files are for the daemon's user only (0600), whatever the umask: the packaged unit's
// UMask=0077 does not cover a daemon started by hand or by another init. SQLite creates a database
// file with 0644 minus the umask, and then gives its -wal and -shm files the database file's mode
// (os_unix.c: robust_open() with the mode findCreateFileMode() takes from the database file). So
// the database file is created first, 0600; the files SQLite adds next to it follow. (The file is
// closed before SQLite opens it and takes its locks, so this costs no lock; see open() below.)
void create_owner_only(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  // On failure sqlite3_open_v2() fails the same way, and its error says why.
  if (fd >= 0) ::close(fd);
}

// A spool from before (or one someone copied in) may be readable by others: made 0600 too, with
// the -wal a crash left behind, which SQLite reuses with the mode it has.
void make_owner_only(const std::string& path) {
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0 || (st.st_mode & 077) == 0) continue;
    const mode_t owner_only = st.st_mode & 0700;
    if (::chmod(file.c_str(), owner_only) == 0) {
      log()->info("{}: mode {:04o} let others read the spooled messages; now {:04o}", file,
                  st.st_mode & 07777, owner_only);
    } else {
      log()->warn(
          "{}: mode {:04o} lets others read the spooled messages, and it cannot be changed ({}): "
          "chmod 600 {}",
          file, st.st_mode & 07777, errno_text(errno), file);
    }
  }
}

}  // namespace

modem::Outcome<std::unique_ptr<Spool>> Spool::open(const SpoolConfig& config) {
  const std::string& path = config.path;
  std::error_code ignored;
  const bool existed = std::filesystem::exists(path, ignored);
  if (existed) {
    make_owner_only(path);
  } else {
    create_owner_only(path);
  }

  sqlite3* raw = nullptr;
  // NOMUTEX: the daemon has one thread. EXRESCODE: extended codes, so BUSY and CANTOPEN keep
  // their detail.
  int rc = sqlite3_open_v2(
      path.c_str(), &raw,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) return db_error(path, db.get(), rc, existed ? "cannot open" : "cannot create");
  // SQLite quietly opens a write-protected file read-only; every enqueue would then fail.
  if (sqlite3_db_readonly(db.get(), "main") == 1) {
    return modem::Error{
        path + ": cannot write: " + errno_text(EACCES) + " (is the file owned by the daemon's user?)",
        EACCES};
  }

  // One cellmqttd per spool: locking_mode=EXCLUSIVE set before the first access makes SQLite open
  // the WAL with an exclusive lock on the database file (a POSIX record lock, released by the
  // kernel when the process dies, even by kill -9) and keep it until close. A second process then
  // fails its first read with SQLITE_BUSY at once (no busy_timeout), which open() reports as "in
  // use". The lock is on the database file itself, so two paths to the same file (a symlink, a
  // bind mount) are caught too, which a side lock file next to one of the names would miss.
  // Bonus: in exclusive mode the WAL index lives in heap memory, with no -shm file.
  // The catch with POSIX locks: a process loses them when it closes *any* descriptor of the file,
  // so nothing else in cellmqttd may open() spool.db (stat() is fine). SQLite itself knows this.
  rc = sqlite3_exec(db.get(), "PRAGMA locking_mode = EXCLUSIVE", nullptr, nullptr, nullptr);
  std::string journal_mode;
  if (rc == SQLITE_OK) rc = query_text(db.get(), "PRAGMA journal_mode = WAL", journal_mode);
  if (rc != SQLITE_OK) return db_error(path, db.get(), rc, existed ? "cannot open" : "cannot create");
  if (journal_mode != "wal") {
    return modem::Error{path + ": cannot use write-ahead logging (journal_mode is \"" + journal_mode +
                            "\"): put the spool on a local file system",
                        0};
  }
  // FULL: a commit returns only after the WAL is fsynced, so an acknowledged message survives
  // power loss, not just a crash. Removals relax this per transaction (see remove()).
  rc = sqlite3_exec(db.get(), "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_exec(db.get(), kJournalSizeLimit, nullptr, nullptr, nullptr);
  // The spool touches few pages (the newest leaf on enqueue, the oldest on peek and remove), so
  // SQLite's default 2 MiB page cache would only grow a gateway's memory, not speed anything up.
  if (rc == SQLITE_OK) rc = sqlite3_exec(db.get(), "PRAGMA cache_size = -256", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return db_error(path, db.get(), rc, "cannot configure");

  // A corrupt page would otherwise surface in the middle of a drain, where the only choice left is
  // to skip messages. Checking costs one read of the file at start-up (bounded by max_bytes).
  std::string check;
  rc = query_text(db.get(), "PRAGMA quick_check(1)", check);
  if (rc != SQLITE_OK) return db_error(path, db.get(), rc, "cannot read");
  if (check != "ok") {
    std::replace(check.begin(), check.end(), '\n', ' ');  // one log line
    return corrupt_error(path, "corrupt", check);
  }

  rc = sqlite3_exec(db.get(), "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return db_error(path, db.get(), rc, "cannot write");
  if (std::optional<modem::Error> error = migrate(path, db.get())) {
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return *error;
  }
  rc = sqlite3_exec(db.get(), "COMMIT", nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_exec(db.get(), "ROLLBACK", nullptr, nullptr, nullptr);
    return db_error(path, db.get(), rc, "cannot write");
  }

  std::unique_ptr<Spool> spool(new Spool(db.release(), config));
  rc = spool->prepare_statements();
  if (rc != SQLITE_OK) return db_error(path, spool->db_, rc, "cannot prepare statements");
  spool->load_depth();
  std::int64_t max_id = 0;
  rc = query_int(spool->db_, "SELECT coalesce(max(id), 0) FROM messages", max_id);
  if (rc != SQLITE_OK) return db_error(path, spool->db_, rc, "cannot read");
  spool->committed_max_id_ = max_id;
  log()->info("{}: {} messages ({} bytes) waiting; limits {} messages, {} bytes, overflow {}", path,
              spool->count_, spool->bytes_, config.max_messages, config.max_bytes,
              config.overflow == Overflow::kDropOldest ? "drop-oldest" : "drop-new");
  return spool;
}

Spool::Spool(sqlite3* db, SpoolConfig config) : db_(db), config_(std::move(config)) {}

Spool::~Spool() {
  // Committing (rather than rolling back) what the caller did not commit yet: duplicates are
  // acceptable, losses are not, and a QoS 0 sender will not send its message again.
  if (in_batch_) {
    modem::Outcome<bool> committed = commit();
    if (!committed) log()->error("{}", committed.error().message);
  }
  for (sqlite3_stmt* statement : {begin_, commit_, rollback_, insert_, delete_oldest_, delete_id_, peek_}) {
    sqlite3_finalize(statement);
  }
  // The last connection closing checkpoints the WAL into the database and deletes it.
  sqlite3_close_v2(db_);
}

int Spool::prepare_statements() {
  const std::pair<sqlite3_stmt**, const char*> statements[] = {
      // IMMEDIATE: take the write lock at BEGIN, so a failure shows there and not halfway in.
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&insert_, "INSERT INTO messages (topic, payload, qos, retain, bytes) VALUES (?1, ?2, ?3, ?4, ?5)"},
      // (DELETE ... ORDER BY ... LIMIT needs a compile option Debian's SQLite does not have.)
      {&delete_oldest_,
       "DELETE FROM messages WHERE id = (SELECT min(id) FROM messages) RETURNING id, topic, bytes"},
      {&delete_id_, "DELETE FROM messages WHERE id = ?1 RETURNING bytes"},
      {&peek_,
       "SELECT id, topic, payload, qos, retain FROM messages WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT "
       "?3"},
  };
  for (const auto& [statement, sql] : statements) {
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, statement, nullptr);
    if (rc != SQLITE_OK) return rc;
  }
  return SQLITE_OK;
}

void Spool::load_depth() {
  sqlite3_stmt* statement = nullptr;
  int rc = sqlite3_prepare_v2(db_, "SELECT count(*), coalesce(sum(bytes), 0) FROM messages", -1, &statement,
                              nullptr);
  if (rc == SQLITE_OK) rc = sqlite3_step(statement);
  if (rc == SQLITE_ROW) {
    count_ = static_cast<std::size_t>(sqlite3_column_int64(statement, 0));
    bytes_ = static_cast<std::uint64_t>(sqlite3_column_int64(statement, 1));
  } else {
    log()->error("{}: cannot count the spooled messages: {}", config_.path, sqlite3_errmsg(db_));
  }
  sqlite3_finalize(statement);
}

void Spool::set_limits(const SpoolConfig& config) {
  if (config.path != config_.path) {
    log()->warn("{}: spool.path changed to {}: takes effect at the next restart", config_.path, config.path);
  }
  config_.max_messages = config.max_messages;
  config_.max_bytes = config.max_bytes;
  config_.overflow = config.overflow;
}

bool Spool::fits(std::uint64_t message_bytes) const {
  return count_ < config_.max_messages && bytes_ + message_bytes <= config_.max_bytes;
}

bool Spool::begin_batch() {
  if (in_batch_) return true;
  ResetOnExit reset(begin_);
  const int rc = sqlite3_step(begin_);
  if (rc != SQLITE_DONE) {
    fail_batch("begin a transaction", rc);
    return false;
  }
  in_batch_ = true;
  batch_start_stats_ = stats_;
  batch_max_id_ = committed_max_id_;
  return true;
}

void Spool::fail_batch(const char* what, int rc) {
  const int err = sqlite3_system_errno(db_);
  std::string message = std::string("cannot ") + what + ": " + sqlite3_errstr(rc);
  if (err != 0) message += " (" + errno_text(err) + ")";
  const std::uint64_t lost = in_batch_ ? stats_.stored - batch_start_stats_.stored : 0;
  if (in_batch_) {
    // After SQLITE_FULL or an I/O error SQLite may already have rolled back on its own; roll back
    // whatever is left so the file and the in-memory depth agree again.
    if (sqlite3_get_autocommit(db_) == 0) {
      ResetOnExit reset(rollback_);
      sqlite3_step(rollback_);
    }
    in_batch_ = false;
    // The batch's stores, drops and removals are undone; refusals (dropped_new) really happened.
    stats_.stored = batch_start_stats_.stored;
    stats_.delivered = batch_start_stats_.delivered;
    stats_.dropped_oldest = batch_start_stats_.dropped_oldest;
    load_depth();
  }
  log()->error(
      "{}: {}: the {} messages stored since the last commit are not in the spool; the next commit() "
      "reports it and until then nothing more is stored",
      config_.path, message, lost);
  if (batch_error_.empty()) batch_error_ = message;
}

void Spool::note_drop(const char* what, std::int64_t id, const std::string& topic) {
  // Warn once when a run of drops starts, not at every message of a long outage; each drop is
  // still counted in the stats (and so in the status) and logged at debug.
  if (!overflowing_) {
    log()->warn(
        "{}: spool full ({} messages, {} bytes; limits {} messages, {} bytes): {} (spool.overflow = {})",
        config_.path, count_, bytes_, config_.max_messages, config_.max_bytes, what,
        config_.overflow == Overflow::kDropOldest ? "drop-oldest" : "drop-new");
    overflowing_ = true;
  }
  ++overflow_run_drops_;
  log()->debug("{}: dropped {} message {} for {}", config_.path, id == 0 ? "new" : "oldest", id,
               modem::printable(topic, 80));
}

void Spool::end_overflow_run() {
  if (!overflowing_) return;
  log()->info("{}: room in the spool again, after dropping {} messages", config_.path, overflow_run_drops_);
  overflowing_ = false;
  overflow_run_drops_ = 0;
}

bool Spool::drop_oldest_one() {
  ResetOnExit reset(delete_oldest_);
  int rc = sqlite3_step(delete_oldest_);
  if (rc == SQLITE_DONE) {
    // Nothing left although count_ said otherwise: trust the file.
    log()->error("{}: spool depth out of step with the file ({} messages counted, none found)", config_.path,
                 count_);
    count_ = 0;
    bytes_ = 0;
    return true;
  }
  if (rc != SQLITE_ROW) {
    fail_batch("drop the oldest message", rc);
    return false;
  }
  const std::int64_t id = sqlite3_column_int64(delete_oldest_, 0);
  const auto* topic = static_cast<const char*>(sqlite3_column_blob(delete_oldest_, 1));
  const std::string topic_text(topic != nullptr ? topic : "",
                               static_cast<std::size_t>(sqlite3_column_bytes(delete_oldest_, 1)));
  const auto dropped_bytes = static_cast<std::uint64_t>(sqlite3_column_int64(delete_oldest_, 2));
  // RETURNING hands the row over before the delete is finished: step to the end to complete it.
  rc = sqlite3_step(delete_oldest_);
  if (rc != SQLITE_DONE) {
    fail_batch("drop the oldest message", rc);
    return false;
  }
  --count_;
  bytes_ -= dropped_bytes;
  ++stats_.dropped_oldest;
  note_drop("dropping the oldest messages to make room", id, topic_text);
  return true;
}

Spool::Stored Spool::enqueue(const std::string& topic, const std::string& payload, int qos, bool retain) {
  // The batch is already rolled back; storing more now would make commit() report a half-lost
  // batch as a success for these. The error was logged once, in fail_batch().
  if (!batch_error_.empty()) return Stored::kDroppedNew;

  const std::uint64_t size = topic.size() + payload.size();
  if (size > config_.max_bytes || config_.max_messages == 0) {
    // Dropping every other message would not make room for this one.
    ++stats_.dropped_new;
    // A spool.max_bytes below one message is a setting to fix, said once; not a line per message.
    log()->log(warned_too_large_ ? spdlog::level::debug : spdlog::level::warn,
               "{}: refused a message for {}: {} bytes (topic + payload) do not fit spool.max_bytes = {}{}",
               config_.path, modem::printable(topic, 80), size, config_.max_bytes,
               warned_too_large_ ? "" : " (the next ones only at debug level)");
    warned_too_large_ = true;
    return Stored::kDroppedNew;
  }
  if (!fits(size) && config_.overflow == Overflow::kDropNew) {
    ++stats_.dropped_new;
    note_drop("refusing new messages", 0, topic);
    return Stored::kDroppedNew;
  }

  if (!begin_batch()) return Stored::kDroppedNew;
  bool dropped = false;
  while (!fits(size)) {
    // (count_ == 0 cannot happen after the checks above; the guard keeps the loop finite anyway.)
    if (count_ == 0 || !drop_oldest_one()) return Stored::kDroppedNew;
    dropped = true;
  }

  {
    ResetOnExit reset(insert_);
    // SQLITE_STATIC: the strings outlive the step. std::string::data() is never null, so an empty
    // payload is stored as an empty BLOB, not NULL.
    sqlite3_bind_text(insert_, 1, topic.data(), static_cast<int>(topic.size()), SQLITE_STATIC);
    sqlite3_bind_blob(insert_, 2, payload.data(), static_cast<int>(payload.size()), SQLITE_STATIC);
    sqlite3_bind_int(insert_, 3, qos);
    sqlite3_bind_int(insert_, 4, retain ? 1 : 0);
    sqlite3_bind_int64(insert_, 5, static_cast<sqlite3_int64>(size));
    const int rc = sqlite3_step(insert_);
    if (rc != SQLITE_DONE) {
      fail_batch("store a message", rc);
      return Stored::kDroppedNew;
    }
  }
  batch_max_id_ = sqlite3_last_insert_rowid(db_);
  ++count_;
  bytes_ += size;
  ++stats_.stored;
  if (!dropped) end_overflow_run();
  return dropped ? Stored::kStoredAfterDroppingOldest : Stored::kStored;
}

modem::Outcome<bool> Spool::commit() {
  if (!batch_error_.empty()) {
    modem::Error error{
        config_.path + ": " + batch_error_ +
            ": the messages stored since the last commit are not in the spool (do not acknowledge "
            "them)",
        0};
    batch_error_.clear();
    return error;
  }
  if (!in_batch_) return true;
  int rc = SQLITE_OK;
  {
    ResetOnExit reset(commit_);
    rc = sqlite3_step(commit_);
  }
  if (rc != SQLITE_DONE) {
    fail_batch("commit", rc);
    modem::Error error{
        config_.path + ": " + batch_error_ +
            ": the messages stored since the last commit are not in the spool (do not acknowledge "
            "them)",
        sqlite3_system_errno(db_)};
    batch_error_.clear();
    return error;
  }
  in_batch_ = false;
  committed_max_id_ = batch_max_id_;
  return true;
}

std::vector<SpooledMessage> Spool::peek(std::size_t max, std::int64_t after_id) {
  std::vector<SpooledMessage> messages;
  if (max == 0) return messages;
  // Inside an open batch this connection sees its own uncommitted rows; the id <= committed_max_id_
  // bound keeps them out (their ids are all above it) without forcing an fsync here. Committed
  // rows that the open batch dropped to make room are already invisible, as they should be.
  messages.reserve(std::min(max, count_));
  ResetOnExit reset(peek_);
  sqlite3_bind_int64(peek_, 1, after_id);
  sqlite3_bind_int64(peek_, 2, committed_max_id_);
  sqlite3_bind_int64(peek_, 3, static_cast<sqlite3_int64>(std::min<std::size_t>(max, INT64_MAX)));
  int rc = SQLITE_OK;
  while ((rc = sqlite3_step(peek_)) == SQLITE_ROW) {
    SpooledMessage& message = messages.emplace_back();
    message.id = sqlite3_column_int64(peek_, 0);
    // (column_blob on a TEXT column gives its bytes as stored, with no conversion)
    const auto* topic = static_cast<const char*>(sqlite3_column_blob(peek_, 1));
    message.topic.assign(topic != nullptr ? topic : "",
                         static_cast<std::size_t>(sqlite3_column_bytes(peek_, 1)));
    // A zero-length BLOB comes back as a null pointer.
    const auto* payload = static_cast<const char*>(sqlite3_column_blob(peek_, 2));
    message.payload.assign(payload != nullptr ? payload : "",
                           static_cast<std::size_t>(sqlite3_column_bytes(peek_, 2)));
    message.qos = sqlite3_column_int(peek_, 3);
    message.retain = sqlite3_column_int(peek_, 4) != 0;
  }
  if (rc != SQLITE_DONE) {
    log()->error("{}: cannot read spooled messages after id {}: {}", config_.path, after_id,
                 sqlite3_errmsg(db_));
    // An I/O error can end the open transaction behind our back.
    if (in_batch_ && sqlite3_get_autocommit(db_) != 0) fail_batch("read spooled messages", rc);
  }
  return messages;
}

void Spool::remove(std::int64_t id) {
  // Outside a batch the removal gets its own transaction with synchronous=NORMAL: written to the
  // WAL but not fsynced, so a drain costs no fsync per delivered message. It becomes durable with
  // the next FULL commit (which fsyncs the WAL, earlier frames included) or checkpoint; power
  // loss before then can only bring the message back, to be sent again: a duplicate, never a
  // loss. (The setting is compiled into the PRAGMA statement, so it is executed, not reused, and
  // may only change outside a transaction.)
  const bool own_transaction = !in_batch_;
  if (own_transaction) sqlite3_exec(db_, "PRAGMA synchronous = NORMAL", nullptr, nullptr, nullptr);
  int rc = SQLITE_OK;
  bool found = false;
  std::uint64_t removed_bytes = 0;
  {
    ResetOnExit reset(delete_id_);
    sqlite3_bind_int64(delete_id_, 1, id);
    rc = sqlite3_step(delete_id_);
    if (rc == SQLITE_ROW) {
      found = true;
      removed_bytes = static_cast<std::uint64_t>(sqlite3_column_int64(delete_id_, 0));
      rc = sqlite3_step(delete_id_);
    }
  }
  if (own_transaction &&
      sqlite3_exec(db_, "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr) != SQLITE_OK) {
    // Cannot happen short of running out of memory; if it did, commits would stop being fsynced.
    log()->critical("{}: cannot restore synchronous=FULL: {}", config_.path, sqlite3_errmsg(db_));
  }
  if (rc != SQLITE_DONE) {
    if (in_batch_) {
      fail_batch("remove a delivered message", rc);
    } else {
      log()->error("{}: cannot remove delivered message {}: {}: it will be sent again after a restart",
                   config_.path, id, sqlite3_errmsg(db_));
    }
    return;
  }
  if (!found) {
    // Dropped to make room while it was in flight, or removed twice.
    log()->debug("{}: delivered message {} was no longer in the spool", config_.path, id);
    return;
  }
  --count_;
  bytes_ -= removed_bytes;
  ++stats_.delivered;
}

}  // namespace cellmqttd
