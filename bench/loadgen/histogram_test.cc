#include "histogram.h"

#include <gtest/gtest.h>

namespace sider::bench {
namespace {

TEST(HistogramTest, EmptyReportsZero) {
  Histogram h;
  EXPECT_EQ(h.Quantile(0.5), 0u);
  EXPECT_EQ(h.count(), 0u);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 50; ++v) h.Record(v);
  EXPECT_EQ(h.Quantile(0.5), 25u);
  EXPECT_EQ(h.Quantile(1.0), 50u);
}

TEST(HistogramTest, LargeValuesAreWithinTwoPercent) {
  for (uint64_t v : {1000ull, 123456ull, 987654321ull, 5000000000000ull}) {
    Histogram h;
    h.Record(v);
    h.Record(v * 10);  // The max caps the top bucket's edge; keep v below it.
    const double q = static_cast<double>(h.Quantile(0.5));
    EXPECT_GE(q, static_cast<double>(v));
    EXPECT_LE(q, static_cast<double>(v) * 1.02) << v;
  }
}

TEST(HistogramTest, QuantilesSplitAUniformRange) {
  Histogram h;
  for (uint64_t v = 1; v <= 100000; ++v) h.Record(v * 1000);
  EXPECT_NEAR(static_cast<double>(h.Quantile(0.50)), 50e6, 50e6 * 0.02);
  EXPECT_NEAR(static_cast<double>(h.Quantile(0.99)), 99e6, 99e6 * 0.02);
  EXPECT_EQ(h.max(), 100000u * 1000u);
}

TEST(HistogramTest, MergeAddsCounts) {
  Histogram a, b;
  a.Record(10);
  b.Record(20);
  b.Record(30);
  a.Merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 30u);
  EXPECT_EQ(a.Quantile(0.5), 20u);
}

}  // namespace
}  // namespace sider::bench
