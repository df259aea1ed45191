// Shared declarations for the Distillery native kernels (all float32, row-major).
#pragma once
#include <pthread.h>
#include <signal.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace distillery {

/** Number of worker threads used by the kernels (and by OpenBLAS). */
int Threads();
void SetThreads(int n);

/** Threads of the fused (row-wise, memory-bound) kernels: dropout, LayerNorm, attention softmax. */
int FusedThreads();
void SetFusedThreads(int n);

/**
 * Runs fn(begin, end) over [0, n) split across up to `threads` (default Threads()) threads of the persistent
 * pool, at least minPerThread items each; the calling thread takes the first chunk.
 */
void ParallelFor(size_t n, size_t minPerThread, const std::function<void(size_t, size_t)>& fn, int threads = 0);

/**
 * Elements per thread below which a memory-bound kernel (elementwise, reductions, transposes, the optimizer
 * update) stays on the calling thread: waking a pool worker costs ~10-30 µs, about what one thread needs to
 * stream 128 Ki floats from L3. Such kernels split across FusedThreads() threads, so that
 * DISTILLERY_FUSED_THREADS=1 keeps them all on one thread (e.g. on a machine shared with other jobs).
 */
constexpr size_t kMinElementsPerThread = size_t{1} << 17;

/**
 * Blocks every signal on the calling thread for its lifetime, then restores the mask (pending signals are taken
 * then). Around oneDNN's sgemm and the OpenMP regions whose workers later run it: a signal handled on a thread
 * inside oneDNN 2.6's sgemm corrupts the heap (gemm.cc), and threads created meanwhile inherit the mask.
 */
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  SignalsBlocked(const SignalsBlocked&) = delete;
  SignalsBlocked& operator=(const SignalsBlocked&) = delete;

 private:
  sigset_t old_;
};

/** Which pool runs the parallel kernels (threads.cc): libgomp's, shared with oneDNN, or the addon's own. */
enum class PoolKind { kOpenMp, kOwn };
/** DISTILLERY_POOL=omp|own, else OpenMP when oneDNN runs the large products and our own pool otherwise. */
PoolKind ThePoolKind();

/** Makes pool workers that are spinning for the next parallel kernel park now (before a multi-threaded product). */
void ParkPool();

/** Runs fn(c) for c in [0, chunks) on the pool (chunks capped at the pool size + 1; chunk 0 on the caller). */
void ParallelChunks(size_t chunks, const std::function<void(size_t)>& fn);

enum Activation { kLinear = 0, kRelu = 1, kRelu6 = 2, kElu = 3, kLeakyRelu = 4, kSigmoid = 5 };

struct GemmArgs {
  const float* a;
  const float* b;
  float* c;
  int batch, m, n, k;
  bool transA, transB;
  const int32_t* aIndex;  // per output batch: which matrix of a (size batch)
  const int32_t* bIndex;  // per output batch: which matrix of b (size batch)
  const float* bias;      // nullptr, or biasSize values broadcast over the last dim (1 or n)
  int biasSize;
  int activation;
  float alpha;            // leaky relu slope
};

void Gemm(const GemmArgs& args);
/** "oneDNN x.y.z" when oneDNN's sgemm was loaded for the large products, else "". */
std::string GemmEngine();
/** Threads of oneDNN's OpenMP runtime (set with the BLAS threads). */
void SetGemmThreads(int n);
void ApplyEpilogue(float* c, size_t rows, int n, const float* bias, int biasSize, int activation, float alpha);

enum BinaryOp { kAdd = 0, kSub = 1, kMul = 2, kDiv = 3, kSquaredDiff = 4, kMax = 5, kMin = 6, kBinaryOpCount = 7 };
/** out[i] = a[idx_a(i)] op b[idx_b(i)]; strides are element strides per output dim (0 = broadcast). */
void Binary(int op, const float* a, const float* b, float* out, int rank, const int32_t* shape,
            const int32_t* aStrides, const int32_t* bStrides);

enum UnaryOp { kExp = 0, kErf = 1, kTanh = 2, kSqrt = 3, kRsqrt = 4, kNeg = 5, kSquare = 6, kLog = 7,
               kSigmoidOp = 8, kReluOp = 9, kAbs = 10, kReciprocal = 11, kIdentity = 12, kUnaryOpCount = 13 };
void Unary(int op, const float* x, float* out, size_t n);

/** Sums x viewed as [outer, reduce, inner] into out [outer, inner], times scale. */
void ReduceSum(const float* x, float* out, size_t outer, size_t reduce, size_t inner, float scale);

/** Row-wise softmax of x [rows, cols]. */
void Softmax(const float* x, float* out, size_t rows, size_t cols);

/** out [outer, nIdx, inner] = x [outer, axisDim, inner] gathered along the middle axis (bad indices give 0). */
void Gather(const float* x, const int32_t* idx, float* out, size_t outer, size_t axisDim, size_t nIdx, size_t inner);

/** out [numSegments, inner] = sum of rows of x [rows, inner] by segment id (ids out of range are dropped). */
void SegmentSum(const float* x, const int32_t* ids, float* out, size_t rows, size_t inner, size_t numSegments);

/** out (row-major, shape outShape) = x read through inStrides (the input strides, permuted to output order). */
void Transpose(const float* x, float* out, int rank, const int32_t* outShape, const int32_t* inStrides);

}  // namespace distillery

namespace distillery {

/** Scalars of one Adam/AdamW step (see AdamUpdate). */
struct AdamParams {
  float beta1, beta2, eps;
  float oneMinusBeta1, oneMinusBeta2;  // 1 − β rounded once from double, as the op-by-op path does
  float l2;        // Adam's L2 penalty (g += l2·p); 0 for AdamW
  float decay;     // AdamW's decoupled decay factor 1 − lr·wd (1 for Adam)
  float stepSize;  // lr / (1 − β1ᵗ)
  float sqrtBc2;   // √(1 − β2ᵗ)
};

/** m' = β1·m + (1−β1)·g, v' = β2·v + (1−β2)·g², p' = decay·p − stepSize·m' / (√v'/sqrtBc2 + eps). */
void AdamUpdate(const float* p, const float* g, const float* m, const float* v, float* pOut, float* mOut,
                float* vOut, size_t n, const AdamParams& a);

/** One parameter of AdamUpdateMany: its regions (float offsets from the heap base) and its own scalars. */
struct AdamSlot {
  size_t p, g, m, v, n;
  float l2, decay, stepSize;
};

/**
 * AdamUpdate over many parameters in one call, p, m and v rewritten in place (the same arithmetic, bit for bit): all
 * elements of all slots split evenly across the fused-kernel threads, so small parameters share one parallel region
 * instead of each waking the pool. `a`'s l2/decay/stepSize are ignored (each slot has its own).
 */
void AdamUpdateMany(float* base, const AdamSlot* slots, size_t count, const AdamParams& a);

/** LayerNorm over rows of x [rows, cols]: y, and per row the mean and 1/√(var + eps) (biased variance). */
void LayerNormForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* rstd,
                      size_t rows, size_t cols, float eps);

/** Gradients of LayerNormForward: dx [rows, cols], dgamma and dbeta [cols]. */
void LayerNormBackward(const float* dy, const float* x, const float* gamma, const float* mean, const float* rstd,
                       float* dx, float* dgamma, float* dbeta, size_t rows, size_t cols);

/** pre = c + bias (rows × n, in place) and y = GELU(pre), one pass. */
void BiasGelu(float* c, const float* bias, float* y, size_t rows, size_t n);
void BiasGeluInPlace(float* y, const float* bias, size_t rows, size_t n);

/** Exact (erf) GELU and its gradient dx = dy · GELU'(x). */
void GeluForward(const float* x, float* y, size_t n);
void GeluBackward(const float* dy, const float* x, float* dx, size_t n);

}  // namespace distillery

namespace distillery {

struct DropoutParams;  // philox.h

/** Inverted dropout y = x · mask / (1 − rate) with the Philox mask of `p` (the gradient is the same op on dy). */
void Dropout(const float* x, float* y, size_t n, const DropoutParams& p);

/** y = LayerNorm(dropout(x) + res) over rows (p = nullptr: no dropout), with per-row mean and rstd. */
void DropoutAddLayerNormForward(const float* x, const float* res, const float* gamma, const float* beta, float* y,
                                float* mean, float* rstd, size_t rows, size_t cols, float eps, const DropoutParams* p);

/** Gradients of DropoutAddLayerNormForward (the mask regenerated from p): dx, dres, dgamma, dbeta. */
void DropoutAddLayerNormBackward(const float* dy, const float* x, const float* res, const float* gamma,
                                 const float* mean, const float* rstd, float* dx, float* dres, float* dgamma,
                                 float* dbeta, size_t rows, size_t cols, const DropoutParams* p);

/** probs = softmax(scale · s + mask) over rows of [rows, cols]; row r adds mask row r / rowsPerMask (mask may be null). */
void AttentionSoftmaxForward(const float* s, const float* mask, float* out, size_t rows, size_t cols,
                             size_t rowsPerMask, float scale);

/** ds = scale · p ⊙ (dy − Σ dy ⊙ p) per row: the gradient of AttentionSoftmaxForward with respect to s. */
void AttentionSoftmaxBackward(const float* dy, const float* probs, float* ds, size_t rows, size_t cols, float scale);
/** The same on the calling thread. */
void AttentionSoftmaxBackwardRows(const float* dy, const float* probs, float* ds, size_t rows, size_t cols,
                                  float scale);

/** Σ over regions t of Σ base[offs[t] + i]² (i < sizes[t]), in double, split across the pool (elementwise.cc). */
double SumSquares(const float* base, const int32_t* offs, const int32_t* sizes, size_t n);

/**
 * Attention on the projections' own layout (attention.cc): q [B, Lq, ·], k/v [B, Lk, ·] with heads side by side
 * (H·dh columns at row stride ldIn), probs [B, H, Lq, Lk], ctx [B, Lq, H·dh]; each (batch, head) pair reads and
 * writes its strided columns in place.
 */
struct AttentionShape {
  size_t batch, lq, lk, heads, dh;
  /** Row stride of q, k, v and of dq, dk, dv: 3·H·dh, as they are the thirds of one [q | k | v] projection. */
  size_t ldIn;
};
/**
 * probs = softmax(scale·q·kᵀ + mask) and ctx = dropout(probs)·v in one pass per (batch, head) pair (mask may be
 * null; p = nullptr: no dropout, as in inference).
 */
void MultiHeadAttentionForward(const float* q, const float* k, const float* v, const float* mask, float* probs,
                               float* ctx, const AttentionShape& s, float scale, const DropoutParams* p);
/**
 * Gradient of MultiHeadAttentionForward, both halves per pair: dv and d(probs) from dctx (plus `dprobs`, the
 * gradient the attention losses sent into probs, when not null), then dq, dk through the softmax.
 */
void AttentionBackward(const float* dctx, const float* dprobs, const float* probs, const float* q, const float* k,
                       const float* v, float* dq, float* dk, float* dv, const AttentionShape& s, float scale,
                       const DropoutParams* p);

}  // namespace distillery
