/*
 * dino_blas: single-precision GEMM for the DINO engine over the system's BLAS, computed in place on
 * Float32Arrays (views into tfjs-wasm's heap). The BLAS is opened with dlopen at load time, so building
 * needs only a C compiler and Node's headers (no cblas.h / -dev package). Taken, first found: macOS's
 * Accelerate; OpenBLAS, BLIS or MKL by name; any other CBLAS (FlexiBLAS, ATLAS, Debian's libblas.so.3
 * alternative) when a timed product shows it faster than wasm. Without one, init() fails and the JS side
 * falls back to wasm's own kernels.
 *
 * Exports:
 *   init(paths?: string[]) -> string | null  library opened (null: none usable)
 *   gemm(a, b, c, batch, m, n, k, transA, transB, strideA, strideB)  c[i] = op(a[i]) op(b[i]), row-major;
 *       strideA/strideB are element strides between batch items (0 broadcasts one matrix)
 *   unary(op, x, y)  y = f(x) elementwise, op 0 = erf, 1 = exp (wasm's scalar erf / exp are several times slower)
 *   colsum(x, y, rows, cols)  y[j] = sum_i x[i, j] (tfjs-wasm transposes before reducing a leading axis)
 *   rowsum(x, y, rows, cols, mean)  y[i] = sum_j x[i, j], divided by cols when mean (last-axis Sum / Mean)
 *   setThreads(n), getThreads() -> n, config() -> string (OpenBLAS's build line, else "BLIS 0.9.0", "MKL",
 *       "Accelerate" or "CBLAS 40 GFLOP/s")
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CBLAS enums (values fixed by the CBLAS standard), declared here so no cblas.h is needed */
enum { RowMajor = 101 };
enum { NoTrans = 111, Trans = 112 };
typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_config_fn)(void);
typedef const char *(*version_fn)(void);

static void *lib = NULL;
static sgemm_fn sgemm = NULL;
static set_threads_fn set_threads = NULL;
static get_threads_fn get_threads = NULL;
static get_config_fn get_config = NULL;
/* what config() reports for a BLAS other than OpenBLAS (which describes its own build) */
static char lib_config[256] = "";
static char lib_name[512] = "";

#define CHECK(call)                                                                 \
  do {                                                                              \
    if ((call) != napi_ok) {                                                        \
      napi_throw_error(env, NULL, "dino_blas: N-API call failed: " #call);          \
      return NULL;                                                                  \
    }                                                                               \
  } while (0)

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/*
 * GFLOP/s of f on a 256 x 256 x 256 product, the best of three (load only slows a run down). A CBLAS
 * we cannot name is accepted only when it is fast: the reference BLAS (~2.5 GFLOP/s here) is slower
 * than wasm's own matMul (~15), an optimised one runs at 50-100 a core.
 */
#define PROBE_N 256
#define MIN_GFLOPS 8.0
static double probe_gflops(sgemm_fn f) {
  size_t n = (size_t)PROBE_N * PROBE_N;
  float *a = malloc(3 * n * sizeof(float));
  if (!a) return 0;
  float *b = a + n, *c = b + n;
  for (size_t i = 0; i < n; i++) {
    a[i] = (float)(i % 7) * 0.125f;
    b[i] = (float)(i % 5) * 0.25f;
  }
  double best = 1e30;
  for (int r = 0; r < 3; r++) {
    double t0 = now_seconds();
    f(RowMajor, NoTrans, NoTrans, PROBE_N, PROBE_N, PROBE_N, 1.0f, a, PROBE_N, b, PROBE_N, 0.0f, c, PROBE_N);
    double dt = now_seconds() - t0;
    if (dt < best) best = dt;
  }
  free(a);
  return best > 0 ? 2.0 * PROBE_N * PROBE_N * PROBE_N / best / 1e9 : 0;
}

/* BLIS's and MKL's thread controls, wrapped to OpenBLAS's signatures */
typedef void (*bli_set_fn)(long long);
typedef long long (*bli_get_fn)(void);
static bli_set_fn bli_set = NULL;
static bli_get_fn bli_get = NULL;
static void bli_set_threads(int n) { bli_set((long long)n); }
static int bli_get_threads(void) { return (int)bli_get(); }

static int try_open(const char *path) {
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!h) return 0;
  sgemm_fn f = (sgemm_fn)dlsym(h, "cblas_sgemm");
  if (!f) {
    dlclose(h);
    return 0;
  }
  get_config_fn cfg = (get_config_fn)dlsym(h, "openblas_get_config");
  version_fn blis = (version_fn)dlsym(h, "bli_info_get_version_str");
  set_threads_fn mkl_set = (set_threads_fn)dlsym(h, "MKL_Set_Num_Threads");
  if (cfg) {
    get_config = cfg;
    set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
  } else if (blis) {
    snprintf(lib_config, sizeof lib_config, "BLIS %s", blis());
    bli_set = (bli_set_fn)dlsym(h, "bli_thread_set_num_threads");
    bli_get = (bli_get_fn)dlsym(h, "bli_thread_get_num_threads");
    if (bli_set && bli_get) {
      set_threads = bli_set_threads;
      get_threads = bli_get_threads;
    }
  } else if (mkl_set) {
    snprintf(lib_config, sizeof lib_config, "MKL");
    set_threads = mkl_set;
    get_threads = (get_threads_fn)dlsym(h, "MKL_Get_Max_Threads");
  } else if (strstr(path, "Accelerate.framework")) {
    /* macOS's own BLAS, always present; it manages its threads itself */
    snprintf(lib_config, sizeof lib_config, "Accelerate");
  } else {
    double g = probe_gflops(f);
    if (g < MIN_GFLOPS) {
      dlclose(h);
      return 0;
    }
    snprintf(lib_config, sizeof lib_config, "CBLAS %.0f GFLOP/s", g);
  }
  lib = h;
  sgemm = f;
  snprintf(lib_name, sizeof lib_name, "%s", path);
  return 1;
}

static const char *DEFAULT_PATHS[] = {
#ifdef __APPLE__
    "/System/Library/Frameworks/Accelerate.framework/Accelerate",
    "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
    "/usr/local/opt/openblas/lib/libopenblas.dylib",
#else
    "libopenblas.so.0",
    "libopenblas.so",
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
    "libopenblaso.so.0", /* Fedora's OpenMP build */
    "libopenblasp.so.0", /* Fedora's pthread build */
    "libblis.so.4",
    "libblis.so.3",
    "libmkl_rt.so.2",
    "libmkl_rt.so",
    "libflexiblas.so.3", /* Fedora's default BLAS switch (speed-checked: it may point at any backend) */
    "libcblas.so.3",     /* ATLAS or the reference CBLAS (speed-checked) */
    "libblas.so.3",      /* Debian alternatives: OpenBLAS, BLIS, ATLAS or the reference BLAS */
#endif
    NULL,
};

static napi_value js_init(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_value result;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  /*
   * OpenBLAS's idle threads spin for 2^28 cycles after each call by default; between matMuls the JS
   * thread runs wasm's elementwise kernels and the spinning thread takes the other core from it (and
   * from everything else on a 2-core machine). Let them sleep almost at once (read at library load;
   * a value the user set wins).
   */
  setenv("OPENBLAS_THREAD_TIMEOUT", "4", 0);
  if (!lib && argc >= 1) {
    uint32_t len = 0;
    bool is_array = false;
    CHECK(napi_is_array(env, argv[0], &is_array));
    if (is_array) {
      CHECK(napi_get_array_length(env, argv[0], &len));
      for (uint32_t i = 0; i < len && !lib; i++) {
        napi_value el;
        char buf[512];
        size_t n = 0;
        CHECK(napi_get_element(env, argv[0], i, &el));
        if (napi_get_value_string_utf8(env, el, buf, sizeof buf, &n) == napi_ok) try_open(buf);
      }
    }
  }
  for (int i = 0; !lib && DEFAULT_PATHS[i]; i++) try_open(DEFAULT_PATHS[i]);
  if (!lib) {
    CHECK(napi_get_null(env, &result));
    return result;
  }
  CHECK(napi_create_string_utf8(env, lib_name, NAPI_AUTO_LENGTH, &result));
  return result;
}

static int get_f32(napi_env env, napi_value v, float **data, size_t *len) {
  napi_typedarray_type type;
  void *ptr = NULL;
  napi_value buf;
  size_t offset = 0;
  if (napi_get_typedarray_info(env, v, &type, len, &ptr, &buf, &offset) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *data = (float *)ptr;
  return 1;
}

static napi_value js_gemm(napi_env env, napi_callback_info info) {
  size_t argc = 11;
  napi_value argv[11];
  float *a, *b, *c;
  size_t la, lb, lc;
  int64_t d[5];
  bool ta, tb;
  int64_t sa, sb;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (!sgemm) {
    napi_throw_error(env, NULL, "dino_blas: init() found no BLAS");
    return NULL;
  }
  if (argc < 11 || !get_f32(env, argv[0], &a, &la) || !get_f32(env, argv[1], &b, &lb) || !get_f32(env, argv[2], &c, &lc)) {
    napi_throw_type_error(env, NULL, "dino_blas.gemm(a, b, c: Float32Array, batch, m, n, k, transA, transB, strideA, strideB)");
    return NULL;
  }
  for (int i = 0; i < 4; i++) CHECK(napi_get_value_int64(env, argv[3 + i], &d[i]));
  CHECK(napi_get_value_bool(env, argv[7], &ta));
  CHECK(napi_get_value_bool(env, argv[8], &tb));
  CHECK(napi_get_value_int64(env, argv[9], &sa));
  CHECK(napi_get_value_int64(env, argv[10], &sb));
  int64_t batch = d[0], m = d[1], n = d[2], k = d[3];
  if (batch < 0 || m < 0 || n < 0 || k < 0 || sa < 0 || sb < 0 || m > INT32_MAX || n > INT32_MAX || k > INT32_MAX) {
    napi_throw_range_error(env, NULL, "dino_blas.gemm: bad dimensions");
    return NULL;
  }
  /* bounds: never read or write outside the arrays, whatever the caller passes */
  if (batch > 0 && ((uint64_t)(batch - 1) * sa + (uint64_t)m * k > la || (uint64_t)(batch - 1) * sb + (uint64_t)k * n > lb ||
                    (uint64_t)batch * m * n > lc)) {
    napi_throw_range_error(env, NULL, "dino_blas.gemm: arrays smaller than the dimensions say");
    return NULL;
  }
  int lda = ta ? (int)m : (int)k;
  int ldb = tb ? (int)k : (int)n;
  for (int64_t i = 0; i < batch; i++) {
    if (k == 0) {
      memset(c + i * m * n, 0, sizeof(float) * (size_t)(m * n));
      continue;
    }
    sgemm(RowMajor, ta ? Trans : NoTrans, tb ? Trans : NoTrans, (int)m, (int)n, (int)k, 1.0f, a + i * sa, lda, b + i * sb, ldb,
          0.0f, c + i * m * n, (int)n);
  }
  return NULL;
}

/*
 * erf as a rational function of x (odd 13th / even 8th degree, x clamped to [-4, 4]; the float
 * approximation XLA and Eigen use): max abs error 4.7e-7 against double erf, 3x faster than glibc's
 * erff, and it vectorises. target_clones picks AVX2 + FMA code where the CPU has it.
 */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define VECTOR_CLONES __attribute__((target_clones("avx2,fma", "default")))
#else
#define VECTOR_CLONES
#endif

VECTOR_CLONES static void erf_range(const float *restrict x, float *restrict y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float v = x[i];
    v = v < -4.f ? -4.f : v;
    v = v > 4.f ? 4.f : v;
    float v2 = v * v;
    float p = -2.72614225801306e-10f;
    p = p * v2 + 2.77068142495902e-08f;
    p = p * v2 + -2.10102402082508e-06f;
    p = p * v2 + -5.69250639462346e-05f;
    p = p * v2 + -7.34990630326855e-04f;
    p = p * v2 + -2.95459980854025e-03f;
    p = p * v2 + -1.60960333262415e-02f;
    float q = -1.45660718464996e-05f;
    q = q * v2 + -2.13374055278905e-04f;
    q = q * v2 + -1.68282697438203e-03f;
    q = q * v2 + -7.37332916720468e-03f;
    q = q * v2 + -1.42647390514189e-02f;
    y[i] = v * p / q;
  }
}

/*
 * exp as Cephes' expf (Cody-Waite reduction by ln 2, degree-6 polynomial, 2^k from the exponent bits),
 * vectorised: at most 1 ulp from glibc's / musl's expf. Inputs outside [-87, 88] (and NaN) take expf
 * itself, a block at a time, so overflow, denormals and NaN come out as libm gives them.
 */
VECTOR_CLONES static void exp_range(const float *restrict x, float *restrict y, size_t n) {
  for (size_t i = 0; i < n; i += 1024) {
    size_t e = i + 1024 < n ? i + 1024 : n;
    int bad = 0;
    for (size_t j = i; j < e; j++) {
      float v = x[j];
      bad |= !(v >= -87.f && v <= 88.f);
      v = v < -87.f ? -87.f : v;
      v = v > 88.f ? 88.f : v;
      float k = (v * 1.44269504088896341f + 12582912.f) - 12582912.f;
      float r = v - k * 0.693359375f;
      r = r - k * -2.12194440e-4f;
      float p = 1.9875691500e-4f;
      p = p * r + 1.3981999507e-3f;
      p = p * r + 8.3334519073e-3f;
      p = p * r + 4.1665795894e-2f;
      p = p * r + 1.6666665459e-1f;
      p = p * r + 5.0000001201e-1f;
      p = p * (r * r) + r + 1.f;
      union { int32_t i; float f; } s;
      s.i = ((int32_t)k + 127) << 23;
      y[j] = p * s.f;
    }
    if (bad)
      for (size_t j = i; j < e; j++)
        if (!(x[j] >= -87.f && x[j] <= 88.f)) y[j] = expf(x[j]);
  }
}

typedef struct {
  int op;
  const float *x;
  float *y;
  size_t n;
} unary_job;

static void *unary_run(void *arg) {
  unary_job *j = (unary_job *)arg;
  if (j->op == 0)
    erf_range(j->x, j->y, j->n);
  else
    exp_range(j->x, j->y, j->n);
  return NULL;
}

#define MAX_UNARY_THREADS 16

static napi_value js_unary(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  int32_t op = -1;
  float *x, *y;
  size_t lx, ly;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 3 || napi_get_value_int32(env, argv[0], &op) != napi_ok || !get_f32(env, argv[1], &x, &lx) ||
      !get_f32(env, argv[2], &y, &ly) || ly < lx || op < 0 || op > 1) {
    napi_throw_type_error(env, NULL, "dino_blas.unary(op: 0 erf | 1 exp, x, y: Float32Array)");
    return NULL;
  }
  /*
   * The JS thread waits meanwhile: split only very large arrays over as many threads as BLAS uses.
   * Vectorised, erf / exp take ~0.8 ns an element, near memory speed: at ViT-Tiny sizes (1.6M
   * elements) starting threads per call made a step slower on a 2-vCPU machine (Erf 48 -> 68 ms,
   * Exp 23 -> 28-40 ms a step), so below 4M elements they run on the calling thread.
   */
  int nt = get_threads ? get_threads() : 1;
  if (nt > MAX_UNARY_THREADS) nt = MAX_UNARY_THREADS;
  if (lx < (1u << 22) || nt < 2) nt = 1;
  unary_job jobs[MAX_UNARY_THREADS];
  pthread_t tids[MAX_UNARY_THREADS];
  int started[MAX_UNARY_THREADS] = {0};
  size_t chunk = (lx + (size_t)nt - 1) / (size_t)nt;
  for (int t = 0; t < nt; t++) {
    size_t a = (size_t)t * chunk, b = a + chunk > lx ? lx : a + chunk;
    jobs[t] = (unary_job){op, x + a, y + a, b > a ? b - a : 0};
    if (t > 0) started[t] = pthread_create(&tids[t], NULL, unary_run, &jobs[t]) == 0;
  }
  unary_run(&jobs[0]);
  for (int t = 1; t < nt; t++) {
    if (started[t])
      pthread_join(tids[t], NULL);
    else
      unary_run(&jobs[t]); /* thread creation failed: do its share here */
  }
  return NULL;
}

VECTOR_CLONES static void colsum_range(const float *x, float *y, size_t rows, size_t cols) {
  for (size_t j = 0; j < cols; j++) y[j] = 0.f;
  for (size_t i = 0; i < rows; i++) {
    const float *r = x + i * cols;
    for (size_t j = 0; j < cols; j++) y[j] += r[j];
  }
}

static napi_value js_colsum(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  float *x, *y;
  size_t lx, ly;
  int64_t rows = -1, cols = -1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 4 || !get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &y, &ly) ||
      napi_get_value_int64(env, argv[2], &rows) != napi_ok || napi_get_value_int64(env, argv[3], &cols) != napi_ok ||
      rows < 0 || cols < 0 || (uint64_t)rows * (uint64_t)cols > lx || (uint64_t)cols > ly) {
    napi_throw_type_error(env, NULL, "dino_blas.colsum(x, y: Float32Array, rows, cols)");
    return NULL;
  }
  colsum_range(x, y, (size_t)rows, (size_t)cols);
  return NULL;
}

/*
 * y[i] = sum_j x[i, j] (mean: divided by cols) over a row-major [rows, cols]: LayerNorm's means and
 * the loss's sums reduce the last axis, which wasm adds up one element at a time. Eight partial sums
 * (one AVX register) in a fixed order: a different rounding from wasm's, well within 1e-6 relative.
 */
VECTOR_CLONES static void rowsum_range(const float *restrict x, float *restrict y, size_t rows, size_t cols, int mean) {
  for (size_t i = 0; i < rows; i++) {
    const float *r = x + i * cols;
    float acc[8] = {0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f, 0.f};
    size_t j = 0;
    for (; j + 8 <= cols; j += 8)
      for (int k = 0; k < 8; k++) acc[k] += r[j + k];
    float s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
    for (; j < cols; j++) s += r[j];
    y[i] = mean ? s / (float)cols : s;
  }
}

static napi_value js_rowsum(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  float *x, *y;
  size_t lx, ly;
  int64_t rows = -1, cols = -1;
  bool mean = false;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 5 || !get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &y, &ly) ||
      napi_get_value_int64(env, argv[2], &rows) != napi_ok || napi_get_value_int64(env, argv[3], &cols) != napi_ok ||
      napi_get_value_bool(env, argv[4], &mean) != napi_ok || rows < 0 || cols < 1 ||
      (uint64_t)rows * (uint64_t)cols > lx || (uint64_t)rows > ly) {
    napi_throw_type_error(env, NULL, "dino_blas.rowsum(x, y: Float32Array, rows, cols >= 1, mean: boolean)");
    return NULL;
  }
  rowsum_range(x, y, (size_t)rows, (size_t)cols, mean);
  return NULL;
}

static napi_value js_set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t n = 1;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc >= 1) CHECK(napi_get_value_int32(env, argv[0], &n));
  if (set_threads && n > 0) set_threads(n);
  return NULL;
}

static napi_value js_get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_int32(env, get_threads ? get_threads() : 1, &r));
  return r;
}

static napi_value js_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_string_utf8(env, get_config ? get_config() : lib_config, NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value module_init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"init", NULL, js_init, NULL, NULL, NULL, napi_default, NULL},
      {"gemm", NULL, js_gemm, NULL, NULL, NULL, napi_default, NULL},
      {"unary", NULL, js_unary, NULL, NULL, NULL, napi_default, NULL},
      {"colsum", NULL, js_colsum, NULL, NULL, NULL, napi_default, NULL},
      {"rowsum", NULL, js_rowsum, NULL, NULL, NULL, napi_default, NULL},
      {"setThreads", NULL, js_set_threads, NULL, NULL, NULL, napi_default, NULL},
      {"getThreads", NULL, js_get_threads, NULL, NULL, NULL, napi_default, NULL},
      {"config", NULL, js_config, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
