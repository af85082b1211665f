#include "histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace sider::bench {

// Values below kSubBuckets map one-to-one onto the first kSubBuckets
// buckets. A larger value with its top bit at position p (p >= kSubBucketBits)
// keeps its kSubBucketBits bits below the top one as the sub-bucket, in the
// row (p - kSubBucketBits + 1).
int Histogram::BucketOf(uint64_t nanos) {
  if (nanos < kSubBuckets) return static_cast<int>(nanos);
  const int top = 63 - std::countl_zero(nanos);
  const int shift = top - kSubBucketBits;
  const int sub = static_cast<int>((nanos >> shift) & (kSubBuckets - 1));
  return (shift + 1) * kSubBuckets + sub;
}

uint64_t Histogram::UpperEdge(int bucket) {
  if (bucket < kSubBuckets) return static_cast<uint64_t>(bucket);
  const int shift = bucket / kSubBuckets - 1;
  const uint64_t sub = static_cast<uint64_t>(bucket % kSubBuckets);
  const uint64_t low = (uint64_t{kSubBuckets} | sub) << shift;
  return low + ((uint64_t{1} << shift) - 1);
}

void Histogram::Record(uint64_t nanos) {
  ++counts_[BucketOf(nanos)];
  ++count_;
  max_ = std::max(max_, nanos);
}

void Histogram::Merge(const Histogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  max_ = std::max(max_, other.max_);
}

uint64_t Histogram::Quantile(double q) const {
  if (count_ == 0) return 0;
  const auto rank = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_))));
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(UpperEdge(static_cast<int>(i)), max_);
  }
  return max_;
}

}  // namespace sider::bench
