"""Shared driver of the Python peers (numpy_bench.py, torch_bench.py) of bench/run.ts.

A peer script reads one JSON request on stdin:
  {"warmup": 3, "reps": 15, "min_reps": 5, "max_case_s": 6, "min_sample_ms": 20,
   "cases": [{"id": "sgemm/n=1024", "kind": "sgemm", "n": 1024, "timing": {"inner": 100}}, ...]}
and prints one JSON object on stdout: {"info": {...}, "results": {"<id>": {"median_ms": ...}}}.

Timing mirrors bench/harness.ts: warm-up calls, then repetitions (fast calls batched so a sample
lasts at least min_sample_ms unless the case fixes "inner"), median reported.
"""
import ctypes
import json
import os
import platform
import sys
import time


def measure(run, req, timing=None):
    t = dict(timing or {})
    warmup = int(t.get("warmup", req.get("warmup", 3)))
    reps = int(t.get("reps", req.get("reps", 15)))
    min_reps = min(reps, int(req.get("min_reps", 5)))
    max_case_s = float(t.get("maxCaseMs", req.get("max_case_s", 6) * 1e3)) / 1e3
    min_sample = float(req.get("min_sample_ms", 20))
    first = 0.0
    for _ in range(max(1, warmup)):
        t0 = time.perf_counter()
        run()
        first = (time.perf_counter() - t0) * 1e3
    if "inner" in t:
        inner = int(t["inner"])
    elif 0 < first < min_sample:
        inner = min(1000, int(-(-min_sample // max(first, 1e-3))))
    else:
        inner = 1
    samples = []
    start = time.perf_counter()
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


def openblas_info():
    """Which OpenBLAS this process loaded and the kernel ("core") it picked."""
    try:
        import threadpoolctl  # optional

        for d in threadpoolctl.threadpool_info():
            if d.get("internal_api") == "openblas":
                return {
                    "source": "threadpoolctl",
                    "core": d.get("architecture"),
                    "version": d.get("version"),
                    "threads": d.get("num_threads"),
                    "library": os.path.basename(d.get("filepath", "")),
                }
    except Exception:
        pass
    try:
        with open("/proc/self/maps") as f:
            paths = sorted({ln.split()[-1] for ln in f if "openblas" in ln and ".so" in ln})
    except OSError:
        paths = []
    for p in paths:
        try:
            lib = ctypes.CDLL(p)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            lib.openblas_get_num_threads.restype = ctypes.c_int
            return {
                "source": "ctypes",
                "core": lib.openblas_get_corename().decode().strip(),
                "config": lib.openblas_get_config().decode().strip(),
                "threads": lib.openblas_get_num_threads(),
                "library": os.path.basename(p),
            }
        except Exception:
            continue
    return {"source": "none", "core": None}


def run_peer(kinds, info, gemm_check=None):
    """Runs the requested cases with the makers in `kinds`; `info` is a dict merged into the output."""
    req = json.load(sys.stdin)
    out = {"info": dict(info), "results": {}}
    out["info"]["python"] = platform.python_version()
    out["info"]["executable"] = sys.executable
    if gemm_check is not None:
        try:
            out["info"]["gemm_check_rel_err"] = gemm_check()
        except Exception as e:
            out["info"]["gemm_check_error"] = repr(e)
    for spec in req["cases"]:
        make = kinds.get(spec["kind"])
        if make is None:
            out["results"][spec["id"]] = {"skipped": "no %s implementation" % spec["kind"]}
            continue
        try:
            run = make(spec)
            out["results"][spec["id"]] = measure(run, req, spec.get("timing"))
        except Exception as e:  # report and go on with the other cases
            out["results"][spec["id"]] = {"error": repr(e)}
        print("%s done" % spec["id"], file=sys.stderr, flush=True)
    # the library is loaded by now: ask it which kernel it runs
    out["info"]["openblas"] = openblas_info()
    json.dump(out, sys.stdout)
