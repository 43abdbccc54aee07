"""PyTorch (CPU) peer for bench/run.ts (request and reply: see pycommon.py).

run.ts starts it twice: as 'torch' with OMP_WAIT_POLICY=PASSIVE (without it PyTorch's OpenMP
threads spin on the cores OpenBLAS's threads need) and as 'torch-default' without.  Both use
torch.set_num_threads(2) (or SYMTENSOR_BENCH_TORCH_THREADS).  Results are left as fresh tensors and
dropped; nothing is read back.
"""
import os

import torch
import torch.nn.functional as F

from pycommon import run_peer

torch.set_num_threads(int(os.environ.get("SYMTENSOR_BENCH_TORCH_THREADS", "2")))


def gen(seed):
    return torch.Generator().manual_seed(seed)


def make_sgemm(spec):
    n = int(spec["n"])
    a = torch.randn(n, n, generator=gen(1))
    b = torch.randn(n, n, generator=gen(2))

    def run():
        torch.mm(a, b)

    return run


def make_tanh_affine(spec):
    x = torch.randn(int(spec["size"]), generator=gen(3))
    a, b = float(spec["a"]), float(spec["b"])

    def run():
        torch.tanh(x * a + b)

    return run


def make_call_overhead(spec):
    x = torch.arange(int(spec["size"]), dtype=torch.float32)

    def run():
        x.add(1)

    return run


def make_conv2d(spec):
    n, h, w, cin = spec["x"]
    kh, kw, _, cout = spec["w"]
    x = torch.randn(n, cin, h, w, generator=gen(4))  # NCHW: PyTorch's layout
    f = torch.randn(cout, cin, kh, kw, generator=gen(5)) * 0.1

    def run():
        with torch.no_grad():
            F.conv2d(x, f, padding="same")

    return run


def mlp(spec):
    torch.manual_seed(int(spec.get("seed", 1)))
    sizes = spec["sizes"]
    layers = []
    for i, (fin, fout) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fin, fout))  # uniform(-1/sqrt(fan_in), 1/sqrt(fan_in))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    b = int(spec["batch"])
    x = torch.randn(b, sizes[0], generator=gen(11))
    y = torch.randint(0, sizes[-1], (b,), generator=gen(12))
    return model, x, y


def make_train(spec, opt_factory):
    model, x, y = mlp(spec)
    opt = opt_factory(model.parameters())

    def run():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    return run


def make_mlp_sgd(spec):
    return make_train(spec, lambda p: torch.optim.SGD(p, lr=float(spec["lr"])))


def make_mlp_adam(spec):
    return make_train(
        spec,
        lambda p: torch.optim.Adam(
            p, lr=float(spec["lr"]), betas=(float(spec["beta1"]), float(spec["beta2"])), eps=float(spec["eps"])
        ),
    )


def make_mlp_infer(spec):
    model, x, _ = mlp(spec)
    model.eval()

    def run():
        with torch.no_grad():
            torch.softmax(model(x), dim=1)

    return run


KINDS = {
    "sgemm": make_sgemm,
    "tanh_affine": make_tanh_affine,
    "call_overhead": make_call_overhead,
    "conv2d": make_conv2d,
    "mlp_sgd": make_mlp_sgd,
    "mlp_adam": make_mlp_adam,
    "mlp_infer": make_mlp_infer,
}


def gemm_check():
    g = gen(9)
    worst = 0.0
    for m, k, n in ((300, 200, 170), (1024, 1024, 1024), (128, 784, 512)):
        a = torch.randn(m, k, generator=g)
        b = torch.randn(k, n, generator=g)
        ref = a.double() @ b.double()
        for got in (a @ b, (b.t() @ a.t()).t()):
            worst = max(worst, float((got.double() - ref).abs().max() / ref.abs().max()))
    return worst


if __name__ == "__main__":
    run_peer(
        KINDS,
        {
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY"),
            "blas": getattr(torch.__config__, "show", lambda: "")().split("BLAS_INFO=")[-1].split(",")[0],
        },
        gemm_check,
    )
