// Splits the module's byte stream into frames as V.250 frames it:
//   - responses and URCs wrapped in CR LF ("\r\nOK\r\n"); an echoed command ends in a bare CR
//     ("AT\r" + "\r\nOK\r\n", field-notes.md 1.4 and 1.13). Any run of CR/LF ends a line and empty
//     lines are dropped, so both framings, and a lone LF, come out the same.
//   - the data prompt "> " that has no line ending (field-notes.md 1.4), recognised only while a
//     command that sends data is waiting for it, so a line that happens to start with '>' is never
//     taken for a prompt.
//   - raw blocks: "the next N bytes are payload", delivered untouched whatever they contain.
//
// Long lines. Some lines carry data that may itself hold CR, LF and whole fake module lines (a
// +QMTRECV with its payload: field-notes.md 2.1). For such a line a LineReader, registered for its
// prefix, is asked once, at the line's first CR/LF, what the line can be (LineEnds):
//   - one reading with a declared length: exactly that many bytes are the line, whatever they hold;
//   - several readings (a topic or payload that itself looks like a length field): the framer keeps
//     the bytes until every reading but one is proven wrong by the bytes that follow (a reading is
//     right only where its last byte is as declared and a CR/LF follows), or until the module falls
//     silent, which no module does in the middle of a line.
//   - no reading with a length: the line runs until the module falls silent and ends at the CR/LF
//     after the reader's closing byte, if there is exactly one such place.
// When more than one end stays right, the line is reported as one kUnframeable frame, and what
// follows is framed once for each right end until the framings agree again (all rest between
// lines at the same byte) or the module falls silent: then the frames every framing has, in order,
// are passed on. The truth is one of them, so every frame passed on is one the module sent; bytes
// that may be data never become lines, and the module's own lines after the doubtful one are not
// lost with it.
// The caller tells the framer about silence with quiet() (the channel does it after
// ChannelConfig::line_quiet without a byte while awaiting_quiet()).
//
// There is no fixed line limit that silently truncates (the 96-byte buffer of field-notes.md 2.1).
// A line longer than `max_line_bytes` (far above any documented response) is reported as an
// Overflow frame carrying its head and its full size, and nothing of its tail is passed on as if it
// were a line of its own. A long line of one reading is framed exactly however long it declares
// itself; one that is still unsure, or waits for silence, is dropped once it passes the limit.
//
// The framer is a pure state machine: same bytes (and silences) in, same frames out, however the
// bytes are split.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace modem::at {

struct Frame {
  enum class Kind {
    kLine,         // one complete line, without its CR/LF; never empty
    kPrompt,       // "> " (or a bare '>') while a prompt was expected
    kRaw,          // exactly the N bytes asked for with expect_raw()
    kOverflow,     // a line over the limit: `data` holds its first max_line_bytes, `size` its length
    kUnframeable,  // bytes dropped because they could not be framed with certainty: `data` holds
                   // their head (at most 80 bytes), `size` how many there were
  };
  Kind kind = Kind::kLine;
  std::string data;
  std::size_t size = 0;  // bytes the frame stood for on the wire (data.size() for kLine, kPrompt, kRaw)
};

struct FramerConfig {
  std::size_t max_line_bytes = 256 * 1024;
};

// What a long line can be, as its reader sees it at the line's first CR/LF.
struct LineEnds {
  struct Reading {
    std::size_t length = 0;  // the whole line, from its first byte, without the CR/LF that ends it
    char last = 0;           // what the line's last byte must be; 0: any byte
  };
  // The readings that declare the line's length. Empty, with until_quiet false: the line ends here.
  std::vector<Reading> readings;
  // No reading declares a length and the line may go on: once the module falls silent, it ends at
  // the one CR/LF that follows `quiet_last` (none, or several: it is dropped).
  bool until_quiet = false;
  char quiet_last = 0;
  std::size_t quiet_from = 0;  // the closing byte is at this index of the line or later
};

class Framer {
 public:
  // Called with the line before its first CR/LF and that CR or LF.
  using LineReader = std::function<LineEnds(std::string_view first_segment, char line_break)>;
  // Which reader, if any, a line that begins with these bytes needs (the channel picks by prefix).
  using ReaderLookup = std::function<const LineReader*(std::string_view line)>;
  using FrameSink = std::function<void(Frame&&)>;

  explicit Framer(FramerConfig config = {}) : config_(config) {}

  // The sink may call the expect_*() functions; they apply to the very next byte, even within
  // the same feed() call (a "+QIRD: 4" line followed by 4 raw bytes in one read()).
  void feed(std::string_view bytes, const FrameSink& sink);
  // The module has said nothing for a while: a long line that waits for silence is decided now.
  void quiet(const FrameSink& sink);
  // True while a long line is open: only the bytes that follow, or silence, can decide it.
  bool awaiting_quiet() const { return mode_ != Mode::kPlain; }

  void set_reader_lookup(ReaderLookup lookup) { lookup_ = std::move(lookup); }
  // Recognise "> " at the start of the next line. Cleared when the prompt is seen.
  void expect_prompt(bool expected) { prompt_expected_ = expected; }
  bool prompt_expected() const { return prompt_expected_; }
  // The next `n` bytes form one kRaw frame.
  void expect_raw(std::size_t n);
  // The module echoes data we sent (ATE1 echoes a payload after the prompt, field-notes.md 1.1):
  // swallow incoming bytes while they match `bytes`; at the first difference stop swallowing and
  // frame that byte normally, so a module that does not echo loses nothing.
  void expect_echo(std::string bytes);
  // Forget any partial line and expectation (after a module reboot or a resync).
  void reset();

  // True when a partial line, raw block or echo is still being assembled.
  bool mid_frame() const;

 private:
  enum class Mode {
    kPlain,       // up to the next CR/LF
    kUnsure,      // several readings still possible: every byte is kept, nothing is framed
    kExact,       // one reading: its bytes are the line, then a CR/LF must follow
    kUntilQuiet,  // no reading with a length: kept until silence
    kBranched,    // several ends were right: framed once per end until the framings agree
    kDropping,    // bytes no reading explains: dropped until silence
  };
  // One way of framing what follows a doubtful line, from `start` (counted from that line's first
  // byte), and the frames it gave.
  struct Branch {
    std::unique_ptr<Framer> framer;
    std::size_t start = 0;
    std::vector<Frame> frames;
  };
  struct Pending {
    LineEnds::Reading reading;
    enum class Status { kOpen, kRight, kWrong } status = Status::kOpen;
  };

  void take_line_byte(char byte, const FrameSink& sink);
  void end_line(const FrameSink& sink);
  void start_long_line(const LineEnds& ends, char line_break, const FrameSink& sink);
  std::size_t take_long(std::string_view bytes, const FrameSink& sink);
  std::size_t take_unsure(std::string_view bytes, const FrameSink& sink);
  std::size_t take_exact(std::string_view bytes, const FrameSink& sink);
  void judge_readings_at(std::size_t position);
  void settle_unsure(bool silent, const FrameSink& sink);
  void emit_long_line(std::size_t length, const FrameSink& sink);
  void start_dropping();
  void finish_dropping(const FrameSink& sink);
  void back_to_plain();
  void start_branches(const std::vector<std::size_t>& ends, const FrameSink& sink);
  std::size_t take_branched(std::string_view bytes, const FrameSink& sink);
  void feed_branches(char byte);
  bool branches_agree() const;
  void end_branches(const FrameSink& sink);
  bool at_rest() const { return !mid_frame() && !after_cr_ && !after_prompt_; }

  FramerConfig config_;
  ReaderLookup lookup_;
  std::string line_;
  std::size_t overflow_bytes_ = 0;  // > 0 while discarding the tail of an over-long line
  std::size_t raw_left_ = 0;
  std::string raw_;
  std::string echo_;
  std::size_t echo_matched_ = 0;
  bool prompt_expected_ = false;
  bool after_prompt_ = false;  // swallow the single space that follows '>'
  bool after_cr_ = false;      // a line just ended at CR: its LF may follow

  // the long line in progress (Mode != kPlain)
  Mode mode_ = Mode::kPlain;
  std::vector<Pending> pending_;     // kUnsure: by ascending length
  LineEnds::Reading exact_;          // kExact
  std::size_t exact_seen_ = 0;       // kExact: bytes of the line so far (line_ keeps max_line_bytes)
  char exact_last_byte_ = 0;         // kExact: the line's latest byte, kept even when line_ is full
  char quiet_last_ = 0;              // kUntilQuiet
  std::size_t quiet_from_ = 0;       // kUntilQuiet
  std::size_t first_break_ = 0;      // kUntilQuiet: where the line's first CR/LF is
  std::vector<Branch> branches_;     // kBranched
  std::size_t branch_position_ = 0;  // kBranched: bytes since the doubtful line's first
  std::size_t dropped_ = 0;          // kDropping: bytes dropped so far
  std::string dropped_head_;         // kDropping: their first bytes, for the report
};

}  // namespace modem::at
