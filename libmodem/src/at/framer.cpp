#include "modem/at/framer.hpp"

#include <algorithm>
#include <utility>

namespace modem::at {

namespace {
bool is_line_end(char byte) {
  return byte == '\r' || byte == '\n';
}
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
  extension_left_ = 0;
  raw_left_ = 0;
  raw_.clear();
  echo_.clear();
  echo_matched_ = 0;
  prompt_expected_ = false;
  after_prompt_ = false;
  after_cr_ = false;
}

bool Framer::mid_frame() const {
  return !line_.empty() || overflow_bytes_ > 0 || raw_left_ > 0 || echo_matched_ < echo_.size();
}

void Framer::feed(std::string_view bytes, const FrameSink& sink) {
  std::size_t i = 0;
  while (i < bytes.size()) {
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
  if (extension_left_ > 0) {
    --extension_left_;
    if (overflow_bytes_ > 0) {
      ++overflow_bytes_;
    } else {
      line_ += byte;
    }
    return;
  }
  if (is_line_end(byte)) {
    if (line_.empty() && overflow_bytes_ == 0) return;  // blank line, or the LF of a CR LF pair
    if (extension_ && overflow_bytes_ == 0) {
      const std::size_t more = extension_(line_);
      if (more > 0) {
        if (line_.size() + more > config_.max_line_bytes) {
          overflow_bytes_ = line_.size();  // the line will not fit: count it instead of keeping it
        } else {
          line_ += byte;
        }
        if (overflow_bytes_ > 0) ++overflow_bytes_;
        extension_left_ = more - 1;
        return;
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

}  // namespace modem::at
