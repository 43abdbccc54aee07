"""Shared driver of the Python peers (numpy_bench.py, torch_bench.py) of bench/run.ts.

A peer script is a small server for run.ts: JSON requests and replies, one a line (see run_peer).

Timing mirrors lib/bench/harness.ts: warm-up calls, then repetitions (fast calls batched so a sample
lasts at least min_sample_ms unless the case fixes "inner"), median reported.
"""
import ctypes
import json
import os
import platform
import sys
import time


class Skip(Exception):
    """Raised by a maker whose case cannot run here (e.g. its data set is absent): reported as skipped."""


def measure(run, st):
    """st: warmup, reps, min_reps, max_case_s, min_sample_ms and optionally inner (calls a sample).

    A run with a `warmup` attribute has its warm-up calls go to that instead (a short run that
    prepares the same state).  A fractional inner f < 1 means one call does f of the unit timed:
    each sample is one call's time divided by f (the bench's workloads scale a few steps to an epoch so).
    """
    warmup = int(st.get("warmup", 3))
    reps = int(st.get("reps", 15))
    min_reps = min(reps, int(st.get("min_reps", 5)))
    max_case_s = float(st.get("max_case_s", 6))
    min_sample = float(st.get("min_sample_ms", 20))
    first = 0.0
    warm = getattr(run, "warmup", run)
    for _ in range(max(1, warmup)):
        t0 = time.perf_counter()
        warm()
        first = (time.perf_counter() - t0) * 1e3
    if st.get("inner"):
        inner = float(st["inner"])
        inner = int(inner) if inner >= 1 else inner
    elif 0 < first < min_sample:
        inner = min(1000, int(-(-min_sample // max(first, 1e-3))))
    else:
        inner = 1
    samples = []
    start = time.perf_counter()
    while len(samples) < reps:
        t0 = time.perf_counter()
        for _ in range(max(1, int(inner))):
            run()
        samples.append((time.perf_counter() - t0) * 1e3 / inner)
        if len(samples) >= min_reps and time.perf_counter() - start > max_case_s:
            break
    s = sorted(samples)
    m = len(s) // 2
    med = s[m] if len(s) % 2 else (s[m - 1] + s[m]) / 2
    return {"median_ms": med, "min_ms": s[0], "max_ms": s[-1], "reps": len(s), "inner": inner, "samples": samples}


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
    """Serves bench/run.ts: one JSON request a line on stdin, one JSON reply a line on stdout.

    {"info": true}                                  -> {"info": {...}} (versions, OpenBLAS core, GEMM check)
    {"id": ..., "spec": {...}, "settings": {...}}   -> {"id": ..., "result": {"median_ms": ..., "samples": [...]}}

    settings: see measure().  The function made for a case id is kept while the same id is requested again (run.ts
    measures each case in a few rounds, interleaved with the other implementations).
    """
    out_info = dict(info)
    out_info["python"] = platform.python_version()
    out_info["executable"] = sys.executable
    current = {"id": None, "run": None}
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req.get("info"):
            if gemm_check is not None and "gemm_check_rel_err" not in out_info:
                try:
                    out_info["gemm_check_rel_err"] = gemm_check()
                except Exception as e:
                    out_info["gemm_check_error"] = repr(e)
            out_info["openblas"] = openblas_info()
            reply = {"info": out_info}
        else:
            spec = req["spec"]
            try:
                make = kinds.get(spec["kind"])
                if make is None:
                    result = {"skipped": "no %s implementation" % spec["kind"]}
                else:
                    if current["id"] != req["id"]:
                        current["id"], current["run"] = None, None
                        current["run"] = make(spec)
                        current["id"] = req["id"]
                    result = measure(current["run"], req["settings"])
            except Skip as e:
                current["id"], current["run"] = None, None
                result = {"skipped": str(e)}
            except Exception as e:  # report and go on with the other cases
                current["id"], current["run"] = None, None
                result = {"error": repr(e)}
            reply = {"id": req["id"], "result": result}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
