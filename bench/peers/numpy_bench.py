"""numpy peer for bench/run.ts (request and reply: see pycommon.py).

Each maker gets the case's spec and returns the timed function.  Results are left as fresh arrays
and dropped, as numpy code does; nothing is read back.  A new workload kind: add a maker to KINDS.
"""
import numpy as np

from pycommon import run_peer


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


def make_call_overhead(spec):
    x = np.arange(int(spec["size"]), dtype=np.float32)
    one = np.float32(1)

    def run():
        np.add(x, one)

    return run


# ---- MLP: Linear-ReLU-Linear-ReLU-Linear, softmax cross-entropy, written out by hand ----


class Mlp:
    def __init__(self, spec):
        sizes = spec["sizes"]
        rng = np.random.default_rng(int(spec.get("seed", 1)))
        self.params = []
        for fin, fout in zip(sizes[:-1], sizes[1:]):
            k = 1.0 / np.sqrt(fin)  # PyTorch's Linear init: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))
            self.params.append(rng.uniform(-k, k, (fin, fout)).astype(np.float32))
            self.params.append(rng.uniform(-k, k, (fout,)).astype(np.float32))
        self.batch = int(spec["batch"])
        self.x = rng.standard_normal((self.batch, sizes[0]), dtype=np.float32)
        self.y = rng.integers(0, sizes[-1], self.batch)
        self.rows = np.arange(self.batch)

    def forward(self, x):
        w1, b1, w2, b2, w3, b3 = self.params
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def grads(self):
        w1, b1, w2, b2, w3, b3 = self.params
        x, y, b = self.x, self.y, self.batch
        h1 = np.maximum(x @ w1 + b1, 0)
        h2 = np.maximum(h1 @ w2 + b2, 0)
        z = h2 @ w3 + b3
        e = np.exp(z - z.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(p[self.rows, y]).mean()
        d3 = p
        d3[self.rows, y] -= 1
        d3 /= b
        d2 = d3 @ w3.T
        d2 *= h2 > 0
        d1 = d2 @ w2.T
        d1 *= h1 > 0
        return loss, [x.T @ d1, d1.sum(0), h1.T @ d2, d2.sum(0), h2.T @ d3, d3.sum(0)]


def make_mlp_sgd(spec):
    m = Mlp(spec)
    lr = np.float32(spec["lr"])

    def run():
        _, gs = m.grads()
        for p, g in zip(m.params, gs):
            g *= lr
            p -= g

    return run


def make_mlp_adam(spec):
    m = Mlp(spec)
    lr, b1, b2, eps = (float(spec[k]) for k in ("lr", "beta1", "beta2", "eps"))
    ms = [np.zeros_like(p) for p in m.params]
    vs = [np.zeros_like(p) for p in m.params]
    state = {"t": 0}

    def run():
        _, gs = m.grads()
        state["t"] += 1
        t = state["t"]
        step = np.float32(lr / (1 - b1**t))
        bc2 = np.float32(np.sqrt(1 - b2**t))
        for p, g, mm, vv in zip(m.params, gs, ms, vs):
            mm *= np.float32(b1)
            mm += np.float32(1 - b1) * g
            vv *= np.float32(b2)
            g *= g
            g *= np.float32(1 - b2)
            vv += g
            denom = np.sqrt(vv)
            denom /= bc2
            denom += np.float32(eps)
            p -= step * mm / denom

    return run


def make_mlp_infer(spec):
    m = Mlp(spec)

    def run():
        m.forward(m.x)

    return run


def make_mlp_gemms(spec):
    """The matrix products of one training step, on their own."""
    sizes, b = spec["sizes"], int(spec["batch"])
    rng = np.random.default_rng(5)
    acts = [rng.standard_normal((b, n), dtype=np.float32) for n in sizes]
    ws = [rng.standard_normal((i, o), dtype=np.float32) for i, o in zip(sizes[:-1], sizes[1:])]

    def run():
        for layer, w in enumerate(ws):
            acts[layer] @ w  # forward
            acts[layer].T @ acts[layer + 1]  # weight gradient
            if layer > 0:
                acts[layer + 1] @ w.T  # input gradient (not needed for the first layer)

    return run


KINDS = {
    "sgemm": make_sgemm,
    "tanh_affine": make_tanh_affine,
    "call_overhead": make_call_overhead,
    "mlp_sgd": make_mlp_sgd,
    "mlp_adam": make_mlp_adam,
    "mlp_infer": make_mlp_infer,
    "mlp_gemms": make_mlp_gemms,
}


def gemm_check():
    rng = np.random.default_rng(9)
    worst = 0.0
    for m, k, n in ((300, 200, 170), (1024, 1024, 1024), (128, 784, 512)):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        ref = a.astype(np.float64) @ b.astype(np.float64)
        for got in (a @ b, (b.T @ a.T).T):
            worst = max(worst, float(np.abs(got - ref).max() / np.abs(ref).max()))
    return worst


def blas_info():
    try:
        from numpy.__config__ import get_info  # numpy < 1.26

        for key in ("openblas_info", "blas_opt_info", "blas_ilp64_opt_info"):
            info = get_info(key)
            if info:
                return "%s: %s" % (key, ",".join(info.get("libraries", [])))
    except Exception:
        pass
    return "unknown"


if __name__ == "__main__":
    run_peer(KINDS, {"numpy": np.__version__, "blas": blas_info()}, gemm_check)
