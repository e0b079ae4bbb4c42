#include "modem/at/framer.hpp"

#include <algorithm>
#include <utility>

namespace modem::at {

namespace {

bool is_line_end(char byte) {
  return byte == '\r' || byte == '\n';
}

// How much of undecidable bytes a kUnframeable frame shows, for the log line that reports them.
constexpr std::size_t kDroppedHeadBytes = 80;

}  // namespace

void Framer::expect_raw(std::size_t n) {
  raw_left_ = n;
  raw_.clear();
  raw_.reserve(n);
}

void Framer::expect_echo(std::string bytes) {
  echo_ = std::move(bytes);
  echo_matched_ = 0;
}

void Framer::reset() {
  line_.clear();
  overflow_bytes_ = 0;
  raw_left_ = 0;
  raw_.clear();
  echo_.clear();
  echo_matched_ = 0;
  prompt_expected_ = false;
  after_prompt_ = false;
  after_cr_ = false;
  back_to_plain();
}

bool Framer::mid_frame() const {
  return !line_.empty() || overflow_bytes_ > 0 || raw_left_ > 0 || echo_matched_ < echo_.size() ||
         mode_ != Mode::kPlain;
}

void Framer::feed(std::string_view bytes, const FrameSink& sink) {
  std::size_t i = 0;
  while (i < bytes.size()) {
    if (mode_ != Mode::kPlain) {
      i += take_long(bytes.substr(i), sink);
      continue;
    }
    // The LF of a CR LF that ended the previous line is part of that line's end, even when the
    // line's handler switched to raw or echo mode in between ("+QIRD: 4\r\n" + 4 raw bytes).
    if (std::exchange(after_cr_, false) && bytes[i] == '\n') {
      ++i;
      continue;
    }
    if (raw_left_ > 0) {
      const std::size_t n = std::min(raw_left_, bytes.size() - i);
      raw_.append(bytes.data() + i, n);
      raw_left_ -= n;
      i += n;
      if (raw_left_ == 0) {
        Frame frame{Frame::Kind::kRaw, std::move(raw_), 0};
        frame.size = frame.data.size();
        raw_.clear();
        sink(std::move(frame));
      }
      continue;
    }
    const char byte = bytes[i++];
    // The space after '>' belongs to the prompt, not to the echo or data that follows it.
    if (std::exchange(after_prompt_, false) && byte == ' ') continue;
    if (echo_matched_ < echo_.size()) {
      if (byte == echo_[echo_matched_]) {
        if (++echo_matched_ == echo_.size()) expect_echo({});
        continue;
      }
      expect_echo({});  // not (or no longer) an echo: frame this byte as usual
    }
    take_line_byte(byte, sink);
  }
}

void Framer::take_line_byte(char byte, const FrameSink& sink) {
  if (is_line_end(byte)) {
    if (line_.empty() && overflow_bytes_ == 0) return;  // blank line, or the LF of a CR LF pair
    if (overflow_bytes_ == 0 && lookup_) {
      if (const LineReader* reader = lookup_(line_)) {
        const LineEnds ends = (*reader)(line_, byte);
        if (!ends.readings.empty() || ends.until_quiet) return start_long_line(ends, byte, sink);
      }
    }
    after_cr_ = byte == '\r';
    end_line(sink);
    return;
  }
  if (byte == '>' && prompt_expected_ && line_.empty() && overflow_bytes_ == 0) {
    prompt_expected_ = false;
    after_prompt_ = true;
    sink(Frame{Frame::Kind::kPrompt, ">", 1});
    return;
  }
  if (overflow_bytes_ > 0) {
    ++overflow_bytes_;
    return;
  }
  line_ += byte;
  if (line_.size() > config_.max_line_bytes) {
    // A line that may carry data (it has a reader) and is this long before its first line end can
    // be neither read nor safely cut: cutting it at the next CR/LF would frame its data as lines.
    if (lookup_ && lookup_(line_) != nullptr) return start_dropping();
    overflow_bytes_ = line_.size();
    line_.resize(config_.max_line_bytes);
  }
}

void Framer::end_line(const FrameSink& sink) {
  Frame frame;
  if (overflow_bytes_ > 0) {
    frame.kind = Frame::Kind::kOverflow;
    frame.size = overflow_bytes_;
    if (line_.size() > config_.max_line_bytes) line_.resize(config_.max_line_bytes);
  } else {
    frame.kind = Frame::Kind::kLine;
    frame.size = line_.size();
  }
  frame.data = std::move(line_);
  line_.clear();
  overflow_bytes_ = 0;
  sink(std::move(frame));
}

// ---- long lines ------------------------------------------------------------------------------

void Framer::start_long_line(const LineEnds& ends, char line_break, const FrameSink& sink) {
  const std::size_t first_break = line_.size();
  pending_.clear();
  for (const LineEnds::Reading& reading : ends.readings) {
    // No reading can end before the first CR/LF: it would have needed one where there was none.
    if (reading.length < first_break) continue;
    const bool duplicate = std::any_of(pending_.begin(), pending_.end(), [&](const Pending& p) {
      return p.reading.length == reading.length && p.reading.last == reading.last;
    });
    if (!duplicate) pending_.push_back({reading, Pending::Status::kOpen});
  }
  std::sort(pending_.begin(), pending_.end(),
            [](const Pending& a, const Pending& b) { return a.reading.length < b.reading.length; });

  if (!pending_.empty()) {
    mode_ = Mode::kUnsure;
    settle_unsure(false, sink);  // one reading: exact from here
  } else if (ends.until_quiet) {
    mode_ = Mode::kUntilQuiet;
    quiet_last_ = ends.quiet_last;
    quiet_from_ = ends.quiet_from;
    first_break_ = first_break;
  } else {
    // Every reading the reader saw ends before this first line end: the line is not what it says.
    start_dropping();
  }
  // The line break itself is the long line's next byte (a step may take none of it while it
  // changes mode, as take_exact does when it finds the only reading wrong).
  std::string_view rest(&line_break, 1);
  while (!rest.empty() && mode_ != Mode::kPlain)
    rest.remove_prefix(take_long(rest, sink));
}

std::size_t Framer::take_long(std::string_view bytes, const FrameSink& sink) {
  switch (mode_) {
    case Mode::kUnsure:
      return take_unsure(bytes, sink);
    case Mode::kExact:
      return take_exact(bytes, sink);
    case Mode::kUntilQuiet:
      line_.append(bytes);
      if (line_.size() > config_.max_line_bytes) start_dropping();
      return bytes.size();
    case Mode::kBranched:
      return take_branched(bytes, sink);
    case Mode::kDropping:
      if (dropped_head_.size() < kDroppedHeadBytes)
        dropped_head_.append(bytes.substr(0, kDroppedHeadBytes - dropped_head_.size()));
      dropped_ += bytes.size();
      return bytes.size();
    case Mode::kPlain:
      break;
  }
  return 0;
}

std::size_t Framer::take_unsure(std::string_view bytes, const FrameSink& sink) {
  std::size_t used = 0;
  while (used < bytes.size() && mode_ == Mode::kUnsure) {
    // The next byte that decides something: the one right after the shortest open reading.
    std::size_t next = SIZE_MAX;
    for (const Pending& p : pending_) {
      if (p.status == Pending::Status::kOpen) next = std::min(next, p.reading.length);
    }
    const std::size_t n = std::min(next - line_.size(), bytes.size() - used);
    line_.append(bytes.substr(used, n));
    used += n;
    if (line_.size() > config_.max_line_bytes) {
      // Too much to keep while still unsure which reading is right.
      start_dropping();
      break;
    }
    if (used == bytes.size()) break;
    line_ += bytes[used++];
    judge_readings_at(next);
    settle_unsure(false, sink);
  }
  return used;
}

// The byte at `position` has just arrived; a reading of that length is right if the byte ends a
// line and the reading's last byte is what it declared.
void Framer::judge_readings_at(std::size_t position) {
  const bool ends_line = is_line_end(line_[position]);
  for (Pending& p : pending_) {
    if (p.status != Pending::Status::kOpen || p.reading.length != position) continue;
    const bool last_ok = p.reading.last == 0 || (position > 0 && line_[position - 1] == p.reading.last);
    p.status = ends_line && last_ok ? Pending::Status::kRight : Pending::Status::kWrong;
  }
}

void Framer::settle_unsure(bool silent, const FrameSink& sink) {
  std::size_t open = 0;
  std::size_t right = 0;
  const Pending* last_open = nullptr;
  const Pending* last_right = nullptr;
  std::vector<std::size_t> right_ends;
  for (Pending& p : pending_) {
    // A module does not fall silent in the middle of a line: a reading still waiting for bytes
    // when it does is wrong.
    if (silent && p.status == Pending::Status::kOpen) p.status = Pending::Status::kWrong;
    if (p.status == Pending::Status::kOpen) {
      ++open;
      last_open = &p;
    } else if (p.status == Pending::Status::kRight) {
      ++right;
      last_right = &p;
      right_ends.push_back(p.reading.length);
    }
  }
  if (open > 0 && right + open >= 2) return;             // the bytes to come decide
  if (right == 0 && open == 0) return start_dropping();  // no reading explains these bytes
  if (right >= 2) return start_branches(right_ends, sink);
  if (open == 0) return emit_long_line(last_right->reading.length, sink);
  // Only one reading is left, still open: its bytes are the line, whatever they hold.
  exact_ = last_open->reading;
  exact_seen_ = line_.size();
  exact_last_byte_ = line_.empty() ? '\0' : line_.back();
  if (line_.size() > config_.max_line_bytes) line_.resize(config_.max_line_bytes);
  pending_.clear();
  mode_ = Mode::kExact;
}

std::size_t Framer::take_exact(std::string_view bytes, const FrameSink& sink) {
  if (exact_seen_ < exact_.length) {
    const std::size_t n = std::min(exact_.length - exact_seen_, bytes.size());
    const std::size_t room = config_.max_line_bytes - std::min(line_.size(), config_.max_line_bytes);
    line_.append(bytes.substr(0, std::min(n, room)));
    exact_last_byte_ = bytes[n - 1];
    exact_seen_ += n;
    return n;
  }
  const char byte = bytes[0];
  if (!is_line_end(byte) || (exact_.last != 0 && exact_last_byte_ != exact_.last)) {
    // The only reading the line had is wrong: these bytes are not what the line declared.
    start_dropping();
    return 0;
  }
  Frame frame;
  frame.kind = exact_seen_ > config_.max_line_bytes ? Frame::Kind::kOverflow : Frame::Kind::kLine;
  frame.size = exact_seen_;
  frame.data = std::move(line_);
  back_to_plain();
  after_cr_ = byte == '\r';
  sink(std::move(frame));
  return 1;
}

// The line is the first `length` bytes kept; what came after it is framed afresh.
void Framer::emit_long_line(std::size_t length, const FrameSink& sink) {
  std::string rest = line_.substr(length);
  Frame frame;
  frame.kind = Frame::Kind::kLine;  // never over max_line_bytes: an unsure line is kept whole
  frame.size = length;
  line_.resize(length);
  frame.data = std::move(line_);
  back_to_plain();
  sink(std::move(frame));
  feed(rest, sink);
}

void Framer::quiet(const FrameSink& sink) {
  // Each step frames or drops what is kept; a line framed afresh from the rest may open another
  // long line, which this same silence decides too.
  while (mode_ != Mode::kPlain) {
    switch (mode_) {
      case Mode::kUnsure:
        settle_unsure(true, sink);
        break;
      case Mode::kExact:
        start_dropping();  // the declared bytes never came
        break;
      case Mode::kUntilQuiet: {
        // Every CR/LF after the closing byte could end the line: the payload may hold one, and
        // another line ending in that byte may have come in the same burst.
        std::vector<std::size_t> ends;
        for (std::size_t at = std::max(first_break_, quiet_from_ + 1); at < line_.size(); ++at) {
          if (is_line_end(line_[at]) && line_[at - 1] == quiet_last_) ends.push_back(at);
        }
        if (ends.empty()) {
          start_dropping();
        } else if (ends.size() == 1) {
          emit_long_line(ends.front(), sink);
        } else {
          start_branches(ends, sink);
        }
        break;
      }
      case Mode::kBranched: {
        for (Branch& b : branches_) {
          if (b.framer->awaiting_quiet()) {
            b.framer->quiet([&b](Frame&& f) { b.frames.push_back(std::move(f)); });
          }
        }
        end_branches(sink);
        break;
      }
      case Mode::kDropping:
        finish_dropping(sink);
        break;
      case Mode::kPlain:
        break;
    }
  }
}

void Framer::start_dropping() {
  dropped_ = mode_ == Mode::kExact ? exact_seen_ : line_.size();
  dropped_head_ = line_.substr(0, kDroppedHeadBytes);
  line_.clear();
  overflow_bytes_ = 0;
  pending_.clear();
  mode_ = Mode::kDropping;
}

void Framer::finish_dropping(const FrameSink& sink) {
  Frame frame{Frame::Kind::kUnframeable, std::move(dropped_head_), dropped_};
  back_to_plain();
  sink(std::move(frame));
}

void Framer::back_to_plain() {
  mode_ = Mode::kPlain;
  line_.clear();
  pending_.clear();
  exact_ = {};
  exact_seen_ = 0;
  exact_last_byte_ = 0;
  quiet_last_ = 0;
  quiet_from_ = 0;
  first_break_ = 0;
  dropped_ = 0;
  dropped_head_.clear();
  branches_.clear();
  branch_position_ = 0;
}

// ---- a doubtful line: what follows it, framed once per end ---------------------------------------

void Framer::start_branches(const std::vector<std::size_t>& ends, const FrameSink& sink) {
  const std::size_t longest = *std::max_element(ends.begin(), ends.end());
  Frame report{Frame::Kind::kUnframeable, line_.substr(0, std::min(longest, kDroppedHeadBytes)), longest};
  const std::string kept = std::move(line_);
  const bool prompt = prompt_expected_;
  back_to_plain();
  mode_ = Mode::kBranched;
  for (const std::size_t end : ends) {
    Branch branch;
    branch.framer = std::make_unique<Framer>(config_);
    branch.framer->set_reader_lookup(lookup_);
    // A prompt the channel waits for may come in these bytes: every framing may recognise it.
    branch.framer->expect_prompt(prompt);
    branch.start = end;
    branches_.push_back(std::move(branch));
  }
  sink(std::move(report));
  // Each framing starts at its end, with the CR/LF that ends the line.
  const std::size_t first = *std::min_element(ends.begin(), ends.end());
  branch_position_ = first;
  const std::string_view tail = std::string_view(kept).substr(first);
  const std::size_t used = take_branched(tail, sink);
  // The framings agreed before the end of what was kept: the rest is framed as usual.
  if (used < tail.size()) feed(tail.substr(used), sink);
}

std::size_t Framer::take_branched(std::string_view bytes, const FrameSink& sink) {
  std::size_t used = 0;
  while (used < bytes.size() && mode_ == Mode::kBranched) {
    feed_branches(bytes[used++]);
    if (branches_agree()) end_branches(sink);
  }
  return used;
}

void Framer::feed_branches(char byte) {
  const std::size_t at = branch_position_++;
  for (Branch& b : branches_) {
    if (at >= b.start)
      b.framer->feed(std::string_view(&byte, 1), [&b](Frame&& f) { b.frames.push_back(std::move(f)); });
  }
}

// Every framing has started and rests between lines at the same byte: from here on they are one.
bool Framer::branches_agree() const {
  for (const Branch& b : branches_) {
    if (branch_position_ <= b.start || !b.framer->at_rest()) return false;
  }
  return true;
}

namespace {

bool same_frame(const Frame& a, const Frame& b) {
  return a.kind == b.kind && a.size == b.size && a.data == b.data;
}

// The longest run of frames both `a` and `b` have, in order (a longest common subsequence).
std::vector<Frame> common_frames(const std::vector<Frame>& a, const std::vector<Frame>& b) {
  std::vector<std::vector<std::size_t>> longest(a.size() + 1, std::vector<std::size_t>(b.size() + 1, 0));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      longest[i][j] =
          same_frame(a[i], b[j]) ? longest[i + 1][j + 1] + 1 : std::max(longest[i + 1][j], longest[i][j + 1]);
    }
  }
  std::vector<Frame> out;
  for (std::size_t i = 0, j = 0; i < a.size() && j < b.size();) {
    if (same_frame(a[i], b[j])) {
      out.push_back(a[i]);
      ++i;
      ++j;
    } else if (longest[i + 1][j] >= longest[i][j + 1]) {
      ++i;
    } else {
      ++j;
    }
  }
  return out;
}

}  // namespace

// Passes on the frames every framing has, in their order. The module sent what one of the
// framings shows, so a frame all of them have is one the module sent; a frame only some have
// may be data, and is dropped.
void Framer::end_branches(const FrameSink& sink) {
  std::vector<Frame> common = branches_.front().frames;
  for (std::size_t i = 1; i < branches_.size(); ++i)
    common = common_frames(common, branches_[i].frames);
  bool prompt = true;
  // A line begun after the framings agreed again (at silence: the same unfinished line in all).
  std::string partial = branches_.front().framer->line_;
  for (const Branch& b : branches_) {
    prompt = prompt && b.framer->prompt_expected();
    if (b.framer->mode_ != Mode::kPlain || b.framer->line_ != partial || b.framer->overflow_bytes_ > 0)
      partial.clear();
  }
  back_to_plain();
  prompt_expected_ = prompt;
  line_ = std::move(partial);
  for (Frame& frame : common)
    sink(std::move(frame));
}

}  // namespace modem::at
