// Weights compiled into the binary: "builtin:NAME" loads through the same safe reader as a
// file, unknown names are refused with the list of what exists, and every embedded set loads
// strictly into its network, is labelled as the project's own and stays within the 10 MB the
// project allows a shipped file.
#include <gtest/gtest.h>

#include <algorithm>

#include <torch/torch.h>

#include "models/ant/ant.h"
#include "models/common/builtin_weights.h"
#include "models/common/checkpoint.h"
#include "models/common/flow_factory.h"
#include "models/common/flow_model.h"
#include "models/common/model_registry.h"

namespace animerun::models {
namespace {

TEST(BuiltinWeights, RefsAreRecognisedAndUnknownNamesRefused) {
  EXPECT_TRUE(IsBuiltinWeightsRef("builtin:raft-small"));
  EXPECT_FALSE(IsBuiltinWeightsRef("raft-small.pth"));
  EXPECT_FALSE(IsBuiltinWeightsRef("/tmp/builtin:x"));
  EXPECT_EQ(FindBuiltinWeights("builtin:no-such-net"), nullptr);
  EXPECT_EQ(FindBuiltinWeights("raft-small"), nullptr);  // a network name is not a reference
  try {
    LoadStateDict("builtin:no-such-net");
    FAIL() << "unknown built-in weights loaded";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("builtin:no-such-net"), std::string::npos) << msg;
    EXPECT_NE(msg.find(DescribeBuiltinWeights()), std::string::npos) << msg;
  }
}

TEST(BuiltinWeights, RefsOfAKindListOnlyThatKindOfNetwork) {
  const auto all = BuiltinWeightsRefs(), flow = BuiltinWeightsRefs("flow"), ant = BuiltinWeightsRefs("ant");
  EXPECT_EQ(all.size(), flow.size() + ant.size());
  for (const BuiltinWeights& w : BuiltinWeightsList()) {
    const auto& mine = w.network == "ant" ? ant : flow;
    const auto& other = w.network == "ant" ? flow : ant;
    EXPECT_NE(std::find(mine.begin(), mine.end(), w.Ref()), mine.end()) << w.Ref();
    EXPECT_EQ(std::find(other.begin(), other.end(), w.Ref()), other.end()) << w.Ref();
  }
  if (ant.empty()) EXPECT_EQ(DescribeBuiltinWeights("ant"), "none in this build");
}

TEST(BuiltinWeights, EachLoadsStrictlyIntoItsNetwork) {
  for (const BuiltinWeights& w : BuiltinWeightsList()) {
    SCOPED_TRACE(w.Ref());
    EXPECT_LE(w.size, size_t{10} << 20);
    EXPECT_NE(w.label.find("AnimeRun Studio"), std::string::npos) << w.label;
    EXPECT_NE(w.label.find("not the official"), std::string::npos) << w.label;
    EXPECT_EQ(FindBuiltinWeights(w.Ref()), &w);
    EXPECT_EQ(BuiltinWeightsFor(w.network), &w);
    const StateDict state = LoadStateDict(w.Ref());
    ASSERT_GT(state.size(), 0u);
    for (const auto& [key, t] : state.entries) EXPECT_TRUE(torch::isfinite(t).all().item<bool>()) << key;
    if (w.network == "ant") {
      AntNet net(AntConfig{});
      EXPECT_TRUE(LoadAntWeights(*net, w.Ref(), /*strict=*/true).ok());
    } else {
      ASSERT_NE(FindFlowModel(w.network), nullptr);
      auto net = CreateFlowModel(w.network);
      EXPECT_TRUE(net->LoadWeights(w.Ref(), /*strict=*/true).ok());
    }
  }
}

}  // namespace
}  // namespace animerun::models
