#include "app/cli/arg_parser.h"

#include <gtest/gtest.h>

namespace animerun::cli {
namespace {

std::vector<char*> Argv(std::vector<std::string>& s) {
  std::vector<char*> v;
  for (auto& x : s) v.push_back(x.data());
  return v;
}

TEST(ArgParser, ParsesOptionsFlagsAndPositionals) {
  std::string out, model = "raft", a, b;
  int iters = 32;
  double max_flow = 0;
  bool viz = false;
  std::vector<std::string> sets;
  ArgParser p("animerun x", "test");
  p.Add("--out", &out, "output", "-o", true);
  p.Add("--model", &model, "model");
  p.Add("--iters", &iters, "iterations");
  p.Add("--max-flow", &max_flow, "max");
  p.AddFlag("--viz", &viz, "viz");
  p.AddRepeated("--set", &sets, "k=v");
  p.AddPositional("IMG1", &a, "first");
  p.AddPositional("IMG2", &b, "second");
  std::vector<std::string> args = {"animerun x", "1.png", "-o", "f.flo", "--iters=12", "--max-flow", "-3.5",
                                   "--viz", "--set", "a=1", "2.png", "--set=b=2"};
  auto argv = Argv(args);
  ASSERT_TRUE(p.Parse(static_cast<int>(argv.size()), argv.data()));
  EXPECT_EQ(out, "f.flo");
  EXPECT_EQ(model, "raft");
  EXPECT_EQ(iters, 12);
  EXPECT_DOUBLE_EQ(max_flow, -3.5);
  EXPECT_TRUE(viz);
  EXPECT_EQ(a, "1.png");
  EXPECT_EQ(b, "2.png");
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[1], "b=2");
}

TEST(ArgParser, RejectsBadUsage) {
  std::string out;
  int n = 1;
  ArgParser p("animerun x", "test");
  p.Add("--out", &out, "output", "-o", true);
  p.Add("--n", &n, "count");
  std::vector<std::string> missing = {"x"};
  auto a1 = Argv(missing);
  EXPECT_THROW(p.Parse(1, a1.data()), UsageError);
  std::vector<std::string> unknown = {"x", "--out", "o", "--bogus"};
  auto a2 = Argv(unknown);
  EXPECT_THROW(p.Parse(4, a2.data()), UsageError);
  std::vector<std::string> notint = {"x", "--out", "o", "--n", "abc"};
  auto a3 = Argv(notint);
  EXPECT_THROW(p.Parse(5, a3.data()), UsageError);
  std::vector<std::string> extra = {"x", "--out", "o", "stray"};
  auto a4 = Argv(extra);
  EXPECT_THROW(p.Parse(4, a4.data()), UsageError);
}

TEST(ArgParser, ListPositionalLeavesRoomForTrailing) {
  std::vector<std::string> frames;
  std::string last;
  ArgParser p("animerun x", "test");
  p.AddPositionalList("FRAMES", &frames, "frames");
  p.AddPositional("OUT", &last, "out");
  std::vector<std::string> args = {"x", "a", "b", "c"};
  auto argv = Argv(args);
  ASSERT_TRUE(p.Parse(4, argv.data()));
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_EQ(last, "c");
}

}  // namespace
}  // namespace animerun::cli
