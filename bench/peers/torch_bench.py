"""PyTorch (CPU) peer for bench/run.ts (request and reply: see pycommon.py).

run.ts starts it twice: as 'torch' with OMP_WAIT_POLICY=PASSIVE (without it PyTorch's OpenMP
threads spin on the cores OpenBLAS's threads need) and as 'torch-default' without.  Both use
torch.set_num_threads(2) (or SYMTENSOR_BENCH_TORCH_THREADS).  Results are left as fresh tensors and
dropped; nothing is read back.
"""
import gzip
import os

import torch
import torch.nn.functional as F

from pycommon import Skip, run_peer

# Where Debian's dataset-fashion-mnist installs Fashion-MNIST (the fit_epoch cases' data).
FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"

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


def read_idx(path):
    """An IDX file (gzipped or not) as a uint8 tensor of its shape."""
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return torch.frombuffer(bytearray(raw), dtype=torch.uint8, offset=4 + 4 * ndim).reshape(dims)


_fashion = {}


def fashion_train():
    """Fashion-MNIST's training images (float32 in [0, 1], [60000, 28, 28]) and labels (int64), once."""
    if not _fashion:
        paths = []
        for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"):
            found = [p for p in (os.path.join(FASHION_MNIST_DIR, name + e) for e in (".gz", "")) if os.path.exists(p)]
            if not found:
                raise Skip("Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist)" % FASHION_MNIST_DIR)
            paths.append(found[0])
        _fashion["x"] = read_idx(paths[0]).float().div_(255)
        _fashion["y"] = read_idx(paths[1]).long()
    return _fashion["x"], _fashion["y"]


def fit_net(spec):
    """The fit_epoch network; the softmax is in the loss (F.cross_entropy of the logits)."""
    layers = []
    if spec["net"] == "mlp":
        sizes = spec["sizes"]
        for i, (fin, fout) in enumerate(zip(sizes[:-1], sizes[1:])):
            layers.append(torch.nn.Linear(fin, fout))
            if i < len(sizes) - 2:
                layers.append(torch.nn.ReLU())
    else:
        cin, side = 1, 28
        for k, cout in spec["conv"]:
            layers += [torch.nn.Conv2d(cin, cout, k), torch.nn.ReLU(), torch.nn.MaxPool2d(2)]
            cin, side = cout, (side - k + 1) // 2
        layers.append(torch.nn.Flatten())
        fin = cin * side * side
        for i, fout in enumerate(spec["dense"]):
            layers.append(torch.nn.Linear(fin, fout))
            if i < len(spec["dense"]) - 1:
                layers.append(torch.nn.ReLU())
            fin = fout
    return torch.nn.Sequential(*layers)


def make_fit_epoch(spec):
    """A plain training loop over Fashion-MNIST: each call shuffles (torch.randperm) and trains
    spec["steps"] batches, each gathered by index_select; its warm-up trains spec["warmup_steps"].
    spec["layout"] "channels_last" runs the CNN in that memory format."""
    torch.manual_seed(int(spec.get("seed", 1)))
    x, y = fashion_train()
    n = x.shape[0]
    channels_last = spec.get("layout") == "channels_last"
    x = x.reshape(n, -1) if spec["net"] == "mlp" else x.reshape(n, 1, 28, 28)
    model = fit_net(spec)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    betas = (float(spec["beta1"]), float(spec["beta2"]))
    opt = torch.optim.Adam(model.parameters(), lr=float(spec["lr"]), betas=betas, eps=float(spec["eps"]))
    batch = int(spec["batch"])
    gen = torch.Generator().manual_seed(int(spec.get("seed", 1)))

    def train(steps):
        order = torch.randperm(n, generator=gen)
        for s in range(steps):
            rows = order[s * batch : (s + 1) * batch]
            xb = x.index_select(0, rows)
            if channels_last:
                xb = xb.contiguous(memory_format=torch.channels_last)
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), y.index_select(0, rows))
            loss.backward()
            opt.step()

    def run():
        train(int(spec["steps"]))

    run.warmup = lambda: train(int(spec["warmup_steps"]))
    return run


def make_rnn_scan(spec):
    steps, batch, units = int(spec["steps"]), int(spec["batch"]), int(spec["units"])
    x = torch.randn(steps, batch, units, generator=gen(3))
    h0 = torch.zeros(batch, units)
    wx = (torch.randn(units, units, generator=gen(1)) * 0.05).requires_grad_()
    wh = (torch.randn(units, units, generator=gen(2)) * 0.05).requires_grad_()
    b = torch.zeros(units, requires_grad=True)

    def run():
        h, hs = h0, []
        for t in range(steps):
            h = torch.tanh(x[t] @ wx + h @ wh + b)
            hs.append(h)
        loss = torch.stack(hs).square().mean()
        wx.grad = wh.grad = b.grad = None
        loss.backward()

    return run


def make_lstm_adam(spec):
    steps, batch, inputs, units = int(spec["steps"]), int(spec["batch"]), int(spec["inputs"]), int(spec["units"])
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(inputs, units, batch_first=True)
    opt = torch.optim.Adam(
        lstm.parameters(), lr=float(spec["lr"]), betas=(float(spec["beta1"]), float(spec["beta2"])), eps=float(spec["eps"])
    )
    x = torch.randn(batch, steps, inputs, generator=gen(3))

    def run():
        opt.zero_grad(set_to_none=True)
        y, _ = lstm(x)
        y.square().mean().backward()
        opt.step()

    return run


def make_mha_fwd_bwd(spec):
    batch, length, width, heads = int(spec["batch"]), int(spec["length"]), int(spec["width"]), int(spec["heads"])
    torch.manual_seed(1)
    mha = torch.nn.MultiheadAttention(width, heads, batch_first=True)
    x = torch.randn(batch, length, width, generator=gen(3))

    def run():
        for p in mha.parameters():
            p.grad = None
        y, _ = mha(x, x, x, need_weights=False)
        y.square().mean().backward()

    return run


KINDS = {
    "rnn_scan": make_rnn_scan,
    "lstm_adam": make_lstm_adam,
    "mha_fwd_bwd": make_mha_fwd_bwd,
    "sgemm": make_sgemm,
    "tanh_affine": make_tanh_affine,
    "call_overhead": make_call_overhead,
    "conv2d": make_conv2d,
    "mlp_sgd": make_mlp_sgd,
    "mlp_adam": make_mlp_adam,
    "mlp_infer": make_mlp_infer,
    "fit_epoch": make_fit_epoch,
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
