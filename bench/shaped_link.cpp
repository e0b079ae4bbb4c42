// shaped-link: a TCP proxy on loopback that behaves like a slow IP link, for the benchmark of
// "what a user would use instead" (Mosquitto's own bridge over a link with the module's serial
// bandwidth and the network's round trip). This machine's kernel has no netem qdisc, so the link is
// modelled here: each direction is a line of `--bytes-per-s` that serializes the bytes in packets
// of at most one MSS, followed by `--one-way-ms` of propagation delay. At most 64 KiB wait per
// direction (the bottleneck's queue); beyond that the sender is held back by TCP flow control.
//
//   shaped-link --listen PORT --to PORT --bytes-per-s N --one-way-ms D
//
// Every connection accepted on 127.0.0.1:PORT is forwarded to 127.0.0.1:TO. It runs until killed.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <list>
#include <optional>
#include <string>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using Duration = std::chrono::nanoseconds;

constexpr std::size_t kPacketBytes = 1460;      // an Ethernet-sized TCP segment
constexpr std::size_t kQueueLimit = 64 * 1024;  // the bottleneck's buffer

struct Options {
  int listen_port = 0;
  int to_port = 0;
  double bytes_per_s = 11520;  // 115200 baud, 8N1
  Duration one_way{};
};

struct Packet {
  std::string bytes;
  Clock::time_point due;  // when its last byte has crossed the link and propagated
};

// One direction of one connection.
struct Direction {
  int from = -1;
  int to = -1;
  std::deque<Packet> in_transit;
  std::size_t queued_bytes = 0;
  Clock::time_point line_free_at{};
  bool from_closed = false;  // EOF read: shut the far side's write half once everything arrived
  bool done = false;
};

struct Connection {
  int client = -1;
  int server = -1;
  Direction up;    // client -> server
  Direction down;  // server -> client
};

void set_nonblocking_nodelay(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

sockaddr_in loopback(int port) {
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return address;
}

class ShapedLink {
 public:
  explicit ShapedLink(Options options)
      : options_(options),
        byte_time_(
            std::chrono::duration_cast<Duration>(std::chrono::duration<double>(1.0 / options.bytes_per_s))) {}

  bool listen() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    const sockaddr_in address = loopback(options_.listen_port);
    if (::bind(listener_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0) {
      std::perror("shaped-link: listen");
      return false;
    }
    return true;
  }

  void run() {
    for (;;) {
      std::vector<pollfd> fds{{listener_, POLLIN, 0}};
      std::vector<Direction*> owners{nullptr};
      std::optional<Clock::time_point> next_due;
      for (Connection& c : connections_) {
        for (Direction* d : {&c.up, &c.down}) {
          if (d->done) continue;
          short events = 0;
          if (!d->from_closed && d->queued_bytes < kQueueLimit) events |= POLLIN;
          if (!d->in_transit.empty()) {
            const auto due = d->in_transit.front().due;
            if (due <= Clock::now()) {
              events |= POLLOUT;
            } else if (!next_due || due < *next_due) {
              next_due = due;
            }
          }
          // A closed source is left out: its POLLHUP would wake the loop until the queue drains.
          fds.push_back({d->from_closed ? -1 : d->from, static_cast<short>(events & POLLIN), 0});
          owners.push_back(d);
          fds.push_back({d->to, static_cast<short>(events & POLLOUT), 0});
          owners.push_back(d);
        }
      }
      int timeout = -1;
      if (next_due) {
        const auto left = std::chrono::duration_cast<std::chrono::microseconds>(*next_due - Clock::now());
        timeout = static_cast<int>(std::max<long long>(0, (left.count() + 999) / 1000));
      }
      ::poll(fds.data(), fds.size(), timeout);
      if (fds[0].revents & POLLIN) accept_one();
      for (std::size_t i = 1; i < fds.size(); ++i) {
        Direction* d = owners[i];
        if (fds[i].fd == d->from && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) read_from(*d);
      }
      for (Connection& c : connections_) {
        deliver(c.up);
        deliver(c.down);
      }
      reap();
    }
  }

 private:
  void accept_one() {
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) return;
    const int server = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const sockaddr_in address = loopback(options_.to_port);
    if (::connect(server, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      std::perror("shaped-link: connect");
      ::close(client);
      ::close(server);
      return;
    }
    set_nonblocking_nodelay(client);
    set_nonblocking_nodelay(server);
    Connection& c = connections_.emplace_back();
    c.client = client;
    c.server = server;
    c.up.from = client;
    c.up.to = server;
    c.down.from = server;
    c.down.to = client;
  }

  void read_from(Direction& d) {
    char buffer[kPacketBytes];
    while (d.queued_bytes < kQueueLimit) {
      const ssize_t n = ::read(d.from, buffer, sizeof buffer);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
        d.from_closed = true;
        return;
      }
      if (n < 0) return;
      // The packet leaves once the line is free and all its bytes are on it, then propagates.
      const auto now = Clock::now();
      const auto start = std::max(now, d.line_free_at);
      d.line_free_at = start + byte_time_ * n;
      d.in_transit.push_back(
          Packet{std::string(buffer, static_cast<std::size_t>(n)), d.line_free_at + options_.one_way});
      d.queued_bytes += static_cast<std::size_t>(n);
    }
  }

  void deliver(Direction& d) {
    const auto now = Clock::now();
    while (!d.in_transit.empty() && d.in_transit.front().due <= now) {
      Packet& p = d.in_transit.front();
      const ssize_t n = ::write(d.to, p.bytes.data(), p.bytes.size());
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        d.done = true;  // the far end is gone
        return;
      }
      d.queued_bytes -= static_cast<std::size_t>(n);
      p.bytes.erase(0, static_cast<std::size_t>(n));
      if (!p.bytes.empty()) return;
      d.in_transit.pop_front();
    }
    if (d.from_closed && d.in_transit.empty() && !d.done) {
      ::shutdown(d.to, SHUT_WR);
      d.done = true;
    }
  }

  void reap() {
    connections_.remove_if([](Connection& c) {
      if (!c.up.done || !c.down.done) return false;
      ::close(c.client);
      ::close(c.server);
      return true;
    });
  }

  Options options_;
  Duration byte_time_;
  int listener_ = -1;
  std::list<Connection> connections_;
};

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--listen") {
      o.listen_port = std::atoi(value);
    } else if (flag == "--to") {
      o.to_port = std::atoi(value);
    } else if (flag == "--bytes-per-s") {
      o.bytes_per_s = std::atof(value);
    } else if (flag == "--one-way-ms") {
      o.one_way =
          std::chrono::duration_cast<Duration>(std::chrono::duration<double, std::milli>(std::atof(value)));
    } else {
      return std::nullopt;
    }
  }
  if (argc % 2 != 1 || o.listen_port <= 0 || o.to_port <= 0 || o.bytes_per_s <= 0) return std::nullopt;
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = parse(argc, argv);
  if (!options) {
    std::fprintf(stderr, "usage: shaped-link --listen PORT --to PORT --bytes-per-s N --one-way-ms D\n");
    return 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  ShapedLink link(*options);
  if (!link.listen()) return 1;
  std::fprintf(stderr, "shaped-link: 127.0.0.1:%d -> 127.0.0.1:%d at %.0f bytes/s, %.1f ms one way\n",
               options->listen_port, options->to_port, options->bytes_per_s,
               std::chrono::duration<double, std::milli>(options->one_way).count());
  link.run();
}
