// Gauntlet's CUDA kernels: the reductions that candle would run as several
// passes (or copy to the host), fused into one pass each.
//
// - rmsnorm:        RMSNorm with the rounding of transformers (f32 statistics)
// - masked_softmax: attention probabilities in place, with the causal / window
//                   / padding mask, the score scale and the soft-cap computed in
//                   the kernel instead of read from a mask tensor
// - lse_gather:     log p(target) per row of logits (log-sum-exp in f32), so only
//                   one float per scored token leaves the device
// - greedy:         repetition penalty, argmax (ties to the lowest id, as
//                   torch.argmax) and the seen-token update of one generation step
//
// Every kernel is instantiated for bf16, f16 and f32 storage and computes in f32.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <stdint.h>

__device__ __forceinline__ float to_f(float x) { return x; }
__device__ __forceinline__ float to_f(__nv_bfloat16 x) { return __bfloat162float(x); }
__device__ __forceinline__ float to_f(__half x) { return __half2float(x); }

template <typename T> __device__ __forceinline__ T from_f(float x);
template <> __device__ __forceinline__ float from_f<float>(float x) { return x; }
template <> __device__ __forceinline__ __nv_bfloat16 from_f<__nv_bfloat16>(float x) { return __float2bfloat16(x); }
template <> __device__ __forceinline__ __half from_f<__half>(float x) { return __float2half(x); }

// Rounds through T (a no-op for f32).
template <typename T> __device__ __forceinline__ float round_t(float x) { return to_f(from_f<T>(x)); }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffff, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffff, v, o));
  return v;
}

// Sum over the block (blockDim.x a multiple of 32, at most 1024); every thread
// gets the result.
__device__ float block_sum(float v) {
  __shared__ float part[32];
  __shared__ float total;
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float x = lane < (int)(blockDim.x >> 5) ? part[lane] : 0.f;
    x = warp_sum(x);
    if (lane == 0) total = x;
  }
  __syncthreads();
  return total;
}

__device__ float block_max(float v) {
  __shared__ float part[32];
  __shared__ float total;
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) part[warp] = v;
  __syncthreads();
  if (warp == 0) {
    float x = lane < (int)(blockDim.x >> 5) ? part[lane] : -INFINITY;
    x = warp_max(x);
    if (lane == 0) total = x;
  }
  __syncthreads();
  return total;
}

// Any thread's flag, for every thread.
__device__ bool block_any(bool f) {
  return __syncthreads_or(f ? 1 : 0) != 0;
}

// ---------------------------------------------------------------- rmsnorm
// y = x / rms(x) * w, one block per row. `round_first` rounds the normalised
// value to T before the weight multiplies it (Llama-style: weight * x.to(T));
// otherwise the product is taken in f32 and rounded once (Gemma-style, whose
// weight already holds 1 + w).
template <typename T>
__device__ void rmsnorm(const T *x, const float *w, T *y, uint32_t cols, float eps, uint32_t round_first) {
  const T *row = x + (size_t)blockIdx.x * cols;
  T *out = y + (size_t)blockIdx.x * cols;
  float ss = 0.f;
  for (uint32_t i = threadIdx.x; i < cols; i += blockDim.x) {
    float v = to_f(row[i]);
    ss += v * v;
  }
  ss = block_sum(ss);
  float r = rsqrtf(ss / (float)cols + eps);
  for (uint32_t i = threadIdx.x; i < cols; i += blockDim.x) {
    float n = to_f(row[i]) * r;
    if (round_first) n = round_t<T>(n);
    out[i] = from_f<T>(n * w[i]);
  }
}

// --------------------------------------------------------- masked softmax
// In place over rows of `cols` scores. Row r sees columns [lo[k], hi[k]) with
// k = (r / div) % n_int; the others get probability 0. Scores are multiplied
// by `scale`, then soft-capped when `cap` > 0: cap · tanh(s / cap).
template <typename T>
__device__ void masked_softmax(T *s, const uint32_t *lo, const uint32_t *hi, uint32_t cols, uint32_t div,
                               uint32_t n_int, float scale, float cap) {
  T *row = s + (size_t)blockIdx.x * cols;
  uint32_t k = (blockIdx.x / div) % n_int;
  uint32_t a = lo[k], b = min(hi[k], cols);
  float m = -INFINITY;
  for (uint32_t j = a + threadIdx.x; j < b; j += blockDim.x) {
    float v = to_f(row[j]) * scale;
    if (cap > 0.f) v = cap * tanhf(v / cap);
    m = fmaxf(m, v);
  }
  m = block_max(m);
  float sum = 0.f;
  for (uint32_t j = a + threadIdx.x; j < b; j += blockDim.x) {
    float v = to_f(row[j]) * scale;
    if (cap > 0.f) v = cap * tanhf(v / cap);
    sum += __expf(v - m);
  }
  sum = block_sum(sum);
  float inv = 1.f / sum;
  for (uint32_t j = threadIdx.x; j < cols; j += blockDim.x) {
    float p = 0.f;
    if (j >= a && j < b) {
      float v = to_f(row[j]) * scale;
      if (cap > 0.f) v = cap * tanhf(v / cap);
      p = __expf(v - m) * inv;
    }
    row[j] = from_f<T>(p);
  }
}

// ------------------------------------------------------------ lse_gather
// out[r] = v[t_r] − log Σ_j exp(v_j) with v = logits (soft-capped when cap > 0);
// NaN when the row holds a NaN or the target is out of range.
template <typename T>
__device__ void lse_gather(const T *logits, const uint32_t *targets, float *out, uint32_t vocab, float cap) {
  const T *row = logits + (size_t)blockIdx.x * vocab;
  bool bad = false;
  float m = -INFINITY;
  for (uint32_t j = threadIdx.x; j < vocab; j += blockDim.x) {
    float v = to_f(row[j]);
    if (cap > 0.f) v = cap * tanhf(v / cap);
    bad |= isnan(v);
    m = fmaxf(m, v);
  }
  m = block_max(m);
  bad = block_any(bad);
  float sum = 0.f;
  for (uint32_t j = threadIdx.x; j < vocab; j += blockDim.x) {
    float v = to_f(row[j]);
    if (cap > 0.f) v = cap * tanhf(v / cap);
    sum += expf(v - m);
  }
  sum = block_sum(sum);
  if (threadIdx.x == 0) {
    uint32_t t = targets[blockIdx.x];
    float r = NAN;
    if (!bad && t < vocab && isfinite(m)) {
      float v = to_f(row[t]);
      if (cap > 0.f) v = cap * tanhf(v / cap);
      r = v - (m + logf(sum));
    }
    out[blockIdx.x] = r;
  }
}

// ---------------------------------------------------------------- greedy
// The greedy token of each row after the transformers repetition penalty (a
// seen token's logit divided by `penalty` when positive, multiplied when
// negative); ties go to the lowest id. Marks the token seen. Writes
// 0xFFFFFFFF for a row that holds a NaN.
__device__ __forceinline__ bool better(float v, uint32_t i, float bv, uint32_t bi) {
  return v > bv || (v == bv && i < bi);
}

template <typename T>
__device__ void greedy(const T *logits, uint8_t *seen, uint32_t *out, uint32_t vocab, float penalty, float cap) {
  const T *row = logits + (size_t)blockIdx.x * vocab;
  uint8_t *srow = seen + (size_t)blockIdx.x * vocab;
  float bv = -INFINITY;
  uint32_t bi = 0xFFFFFFFFu;
  bool bad = false;
  for (uint32_t j = threadIdx.x; j < vocab; j += blockDim.x) {
    float v = to_f(row[j]);
    if (cap > 0.f) v = cap * tanhf(v / cap);
    bad |= isnan(v);
    if (penalty != 1.f && srow[j]) v = v < 0.f ? v * penalty : v / penalty;
    if (better(v, j, bv, bi)) { bv = v; bi = j; }
  }
  for (int o = 16; o > 0; o >>= 1) {
    float ov = __shfl_xor_sync(0xffffffff, bv, o);
    uint32_t oi = __shfl_xor_sync(0xffffffff, bi, o);
    if (better(ov, oi, bv, bi)) { bv = ov; bi = oi; }
  }
  __shared__ float pv[32];
  __shared__ uint32_t pi[32];
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) { pv[warp] = bv; pi[warp] = bi; }
  bad = block_any(bad);
  if (threadIdx.x == 0) {
    for (int w = 1; w < (int)(blockDim.x >> 5); ++w)
      if (better(pv[w], pi[w], bv, bi)) { bv = pv[w]; bi = pi[w]; }
    if (bad || bi >= vocab) {
      out[blockIdx.x] = 0xFFFFFFFFu;
    } else {
      out[blockIdx.x] = bi;
      srow[bi] = 1;
    }
  }
}

#define INSTANTIATE(T, SUF)                                                                              \
  extern "C" __global__ void rmsnorm_##SUF(const T *x, const float *w, T *y, uint32_t cols, float eps,  \
                                           uint32_t round_first) {                                      \
    rmsnorm<T>(x, w, y, cols, eps, round_first);                                                         \
  }                                                                                                      \
  extern "C" __global__ void masked_softmax_##SUF(T *s, const uint32_t *lo, const uint32_t *hi,         \
                                                  uint32_t cols, uint32_t div, uint32_t n_int,           \
                                                  float scale, float cap) {                              \
    masked_softmax<T>(s, lo, hi, cols, div, n_int, scale, cap);                                          \
  }                                                                                                      \
  extern "C" __global__ void lse_gather_##SUF(const T *logits, const uint32_t *targets, float *out,     \
                                              uint32_t vocab, float cap) {                               \
    lse_gather<T>(logits, targets, out, vocab, cap);                                                     \
  }                                                                                                      \
  extern "C" __global__ void greedy_##SUF(const T *logits, uint8_t *seen, uint32_t *out, uint32_t vocab, \
                                          float penalty, float cap) {                                    \
    greedy<T>(logits, seen, out, vocab, penalty, cap);                                                   \
  }

INSTANTIATE(float, f32)
INSTANTIATE(__nv_bfloat16, bf16)
INSTANTIATE(__half, f16)
