#include "core/jobs/job.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <memory>

namespace animerun {

SubJob::SubJob(const JobContext* parent, double begin, double end, std::string prefix)
    : JobContext(parent, parent ? ProgressFn([parent, begin, end, prefix = std::move(prefix)](
                                                 double f, const std::string& message) {
                                    // The end exactly at f = 1, so that consecutive parts meet.
                                    parent->Report(f >= 1.0 ? end : begin + (end - begin) * f, prefix + message);
                                  })
                                : ProgressFn()) {}

JobContext::ProgressFn StderrProgress(const std::string& prefix) {
  const bool tty = ::isatty(2);
  auto last = std::make_shared<int>(-1);
  return [prefix, tty, last](double fraction, const std::string& message) {
    const int pct = static_cast<int>(std::lround(100.0 * fraction));
    if (tty) {
      std::fprintf(stderr, "\r%s %3d%% %s\033[K", prefix.c_str(), pct, message.c_str());
      if (pct >= 100) std::fprintf(stderr, "\n");
    } else if (pct / 5 != *last / 5 || pct >= 100) {
      std::fprintf(stderr, "%s %3d%% %s\n", prefix.c_str(), pct, message.c_str());
    }
    *last = pct;
    std::fflush(stderr);
  };
}

}  // namespace animerun
