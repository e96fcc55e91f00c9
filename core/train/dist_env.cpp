#include "core/train/dist_env.h"

#include <cerrno>
#include <cstdlib>

#include "core/util/error.h"

namespace animerun::train {

namespace {

int ParseInt(const char* name, const char* text) {
  char* end = nullptr;
  errno = 0;
  const long v = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || errno != 0 || v < 0 || v > 1000000)
    throw Error(std::string(name) + "=" + text + ": expected a non-negative integer");
  return static_cast<int>(v);
}

}  // namespace

void DistributedEnv::Check() const {
  Require(world_size >= 1, "WORLD_SIZE: must be >= 1");
  Require(rank >= 0 && rank < world_size,
          "RANK=" + std::to_string(rank) + ": must be in [0, WORLD_SIZE=" + std::to_string(world_size) + ")");
  Require(local_rank >= 0, "LOCAL_RANK: must be >= 0");
  Require(!distributed() || !master_addr.empty(), "MASTER_ADDR: required with WORLD_SIZE > 1");
  Require(master_port > 0 && master_port < 65536, "MASTER_PORT: must be in 1..65535");
}

DistributedEnv DistributedEnv::FromEnvironment(const std::function<const char*(const char*)>& getenv) {
  DistributedEnv d;
  auto get = [&](const char* name) -> const char* {
    const char* v = getenv(name);
    return v && *v ? v : nullptr;
  };
  if (const char* v = get("WORLD_SIZE")) d.world_size = ParseInt("WORLD_SIZE", v);
  if (const char* v = get("RANK")) d.rank = ParseInt("RANK", v);
  else if (d.world_size > 1) throw Error("WORLD_SIZE=" + std::to_string(d.world_size) + " needs RANK as well");
  if (const char* v = get("LOCAL_RANK")) d.local_rank = ParseInt("LOCAL_RANK", v);
  if (const char* v = get("MASTER_ADDR")) d.master_addr = v;
  if (const char* v = get("MASTER_PORT")) d.master_port = ParseInt("MASTER_PORT", v);
  d.Check();
  return d;
}

DistributedEnv DistributedEnv::FromEnvironment() {
  return FromEnvironment([](const char* name) { return std::getenv(name); });
}

}  // namespace animerun::train
