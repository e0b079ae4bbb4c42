// Splits the module's byte stream into frames as V.250 frames it:
//   - responses and URCs wrapped in CR LF ("\r\nOK\r\n"); an echoed command ends in a bare CR
//     ("AT\r" + "\r\nOK\r\n", field-notes.md 1.4 and 1.13). Any run of CR/LF ends a line and empty
//     lines are dropped, so both framings, and a lone LF, come out the same.
//   - the data prompt "> " that has no line ending (field-notes.md 1.4), recognised only while a
//     command that sends data is waiting for it, so a line that happens to start with '>' is never
//     taken for a prompt.
//   - raw blocks: "the next N bytes are payload", delivered untouched whatever they contain.
// Lines whose content may itself contain CR or LF (+QMTRECV with a length field: field-notes.md 2.1)
// are handled by a line-extension hook: at every CR/LF that would end a line, the hook is asked how
// many more bytes, counted from that CR/LF, still belong to the line.
//
// There is no fixed line limit that silently truncates (the 96-byte buffer of field-notes.md 2.1).
// A line longer than `max_line_bytes` (far above any documented response) is reported as an
// Overflow frame carrying its head and its full size, and nothing of its tail is passed on as if it
// were a line of its own.
//
// The framer is a pure state machine: same bytes in, same frames out, however the bytes are split.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace modem::at {

struct Frame {
  enum class Kind {
    kLine,      // one complete line, without its CR/LF; never empty
    kPrompt,    // "> " (or a bare '>') while a prompt was expected
    kRaw,       // exactly the N bytes asked for with expect_raw()
    kOverflow,  // a line over the limit: `data` holds its first max_line_bytes, `size` its length
  };
  Kind kind = Kind::kLine;
  std::string data;
  std::size_t size = 0;  // bytes the frame stood for on the wire (data.size() except for kOverflow)
};

struct FramerConfig {
  std::size_t max_line_bytes = 256 * 1024;
};

class Framer {
 public:
  // Given the line so far (without the CR/LF just seen), returns how many bytes starting with that
  // CR/LF still belong to the line; 0 ends the line here.
  using LineExtension = std::function<std::size_t(std::string_view line_so_far)>;
  using FrameSink = std::function<void(Frame&&)>;

  explicit Framer(FramerConfig config = {}) : config_(config) {}

  // The sink may call the expect_*() functions; they apply to the very next byte, even within
  // the same feed() call (a "+QIRD: 4" line followed by 4 raw bytes in one read()).
  void feed(std::string_view bytes, const FrameSink& sink);

  void set_line_extension(LineExtension extension) { extension_ = std::move(extension); }
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
  void take_line_byte(char byte, const FrameSink& sink);
  void end_line(const FrameSink& sink);

  FramerConfig config_;
  LineExtension extension_;
  std::string line_;
  std::size_t overflow_bytes_ = 0;  // > 0 while discarding the tail of an over-long line
  std::size_t extension_left_ = 0;  // bytes still to be copied verbatim into line_
  std::size_t raw_left_ = 0;
  std::string raw_;
  std::string echo_;
  std::size_t echo_matched_ = 0;
  bool prompt_expected_ = false;
  bool after_prompt_ = false;  // swallow the single space that follows '>'
  bool after_cr_ = false;      // a line just ended at CR: its LF may follow
};

}  // namespace modem::at
