"""numpy peer for bench/run.ts.

Reads a JSON request on stdin:
  {"warmup": 2, "reps": 15, "min_reps": 3, "max_case_s": 8, "min_sample_ms": 20,
   "cases": [{"id": "sgemm/n=1024", "kind": "sgemm", "n": 1024}, ...]}
and prints one JSON object on stdout:
  {"numpy": "1.24.2", "python": "3.11.2", "blas": "...", "results": {"<id>": {"median_ms": ..}}}

Timing mirrors bench/harness.ts: warm-up calls, then repetitions (fast calls batched so a sample
lasts at least min_sample_ms), median reported.  A new workload kind: add a maker to KINDS.
"""
import json
import platform
import sys
import time

import numpy as np


def make_sgemm(spec):
    n = int(spec["n"])
    rng = np.random.default_rng(1)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)

    def run():
        np.dot(a, b)

    return run


def make_tanh_affine(spec):
    size = int(spec["size"])
    a = np.float32(spec["a"])
    b = np.float32(spec["b"])
    x = np.random.default_rng(3).standard_normal(size, dtype=np.float32)

    def run():
        np.tanh(x * a + b)

    return run


KINDS = {"sgemm": make_sgemm, "tanh_affine": make_tanh_affine}


def measure(run, req):
    first = 0.0
    for _ in range(max(1, int(req.get("warmup", 2)))):
        t0 = time.perf_counter()
        run()
        first = (time.perf_counter() - t0) * 1e3
    min_sample = float(req.get("min_sample_ms", 20))
    inner = 1
    if 0 < first < min_sample:
        inner = min(1000, int(-(-min_sample // max(first, 1e-3))))
    samples = []
    start = time.perf_counter()
    reps = int(req.get("reps", 15))
    min_reps = int(req.get("min_reps", 3))
    max_case_s = float(req.get("max_case_s", 8))
    while len(samples) < reps:
        t0 = time.perf_counter()
        for _ in range(inner):
            run()
        samples.append((time.perf_counter() - t0) * 1e3 / inner)
        if len(samples) >= min_reps and time.perf_counter() - start > max_case_s:
            break
    s = sorted(samples)
    m = len(s) // 2
    med = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    return {"median_ms": med, "min_ms": s[0], "max_ms": s[-1], "reps": len(s), "inner": inner}


def blas_info():
    try:
        from numpy.__config__ import get_info  # numpy < 1.26

        for key in ("openblas_info", "blas_opt_info", "blas_ilp64_opt_info"):
            info = get_info(key)
            if info:
                return "%s: %s" % (key, ",".join(info.get("libraries", [])))
    except Exception:
        pass
    try:
        import numpy.__config__ as cfg  # numpy >= 1.26

        return json.dumps(cfg.CONFIG["Build Dependencies"]["blas"])
    except Exception:
        return "unknown"


def main():
    req = json.load(sys.stdin)
    out = {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "blas": blas_info(),
        "results": {},
    }
    for spec in req["cases"]:
        make = KINDS.get(spec["kind"])
        if make is None:
            out["results"][spec["id"]] = {"skipped": "unknown kind %s" % spec["kind"]}
            continue
        try:
            out["results"][spec["id"]] = measure(make(spec), req)
        except Exception as e:  # report and go on with the other cases
            out["results"][spec["id"]] = {"error": repr(e)}
        print("numpy: %s done" % spec["id"], file=sys.stderr, flush=True)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
