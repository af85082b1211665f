// Histogram: a latency histogram with logarithmic buckets, in the manner of
// HdrHistogram: each power-of-two range of nanoseconds is split into
// kSubBuckets linear sub-buckets, so any recorded value is reported within
// 1/kSubBuckets (1.6%) of its true value, from 1 ns to ~2^63 ns, in a fixed
// 64 * kSubBuckets array of counters.
//
// Thread safety: none; one histogram per thread (or per strand), merged with
// Merge() after the threads have stopped.
#pragma once

#include <array>
#include <cstdint>

namespace sider::bench {

class Histogram {
 public:
  static constexpr int kSubBucketBits = 6;
  static constexpr int kSubBuckets = 1 << kSubBucketBits;

  void Record(uint64_t nanos);
  void Merge(const Histogram& other);

  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  // The value at quantile q in [0, 1]: the upper edge of the bucket that
  // holds the ceil(q * count)-th smallest value (0 if empty).
  uint64_t Quantile(double q) const;

 private:
  static int BucketOf(uint64_t nanos);
  static uint64_t UpperEdge(int bucket);

  std::array<uint64_t, 64 * kSubBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

}  // namespace sider::bench
