"""The training loop shared by ``poseit train`` and ``poseit distill``: intermediate supervision over all stacks,
checkpoints every epoch (resumable), a progress bar, and the CPU settings that make training bearable here
(bf16 autocast and channels-last: about 5x fp32 on a Zen 4 core; a fixed thread count). bf16 is on by default only
where the CPU computes it natively (`native_bf16`): emulated, it is 8-12x slower than fp32 (measured 2026-12-02 on
an AVX2-only AMD EPYC, one thread: hg_s2_b1_mobile at 256 0.12 img/s bf16 against 1.04 fp32, tiny at 192 0.76
against 9.0)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from poseit.errors import PoseItError
from poseit.train.hourglass import HourglassConfig, HourglassNet

LossFn = Callable[[list[torch.Tensor], dict[str, torch.Tensor]], torch.Tensor]


def native_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX), so that bf16 autocast speeds training up."""
    return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())


def use_bf16(setting: bool | None) -> bool:
    """A settings' ``bf16``: as given, or `native_bf16` where None."""
    return native_bf16() if setting is None else setting


@dataclass
class TrainSettings:
    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_drops: tuple[int, ...] = (60, 90)  # epochs where the learning rate is divided by 10
    threads: int | None = None
    bf16: bool | None = None  # None: where the CPU has native bf16 (`native_bf16`)
    channels_last: bool = True
    workers: int = 0
    max_steps: int | None = None  # stop early (tests, smoke runs)
    seed: int = 0
    extra: dict = field(default_factory=dict)  # recorded in checkpoints (dataset, alpha, ...)


def save_checkpoint(
    path: Path,
    arch: str,
    model: HourglassNet,
    optimizer: torch.optim.Optimizer | None = None,
    epoch: int = 0,
    step: int = 0,
    history: list | None = None,
    settings: dict | None = None,
) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "arch": arch,
        "config": model.config.to_dict(),
        "state_dict": model.state_dict(),
        "optimizer": optimizer.state_dict() if optimizer else None,
        "epoch": epoch,
        "step": step,
        "history": history or [],
        "settings": settings or {},
    }
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    tmp.replace(path)


def load_checkpoint(path: str | Path, input_size: int | None = None) -> tuple[HourglassNet, dict]:
    """The model (eval mode) and the raw checkpoint dict (``last.pt`` or ``weights_fp16.pt``); ``input_size``
    rebuilds it at another resolution (the network is fully convolutional)."""
    path = Path(path)
    if not path.is_file():
        raise PoseItError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        config = HourglassConfig.from_dict(ckpt["config"])
        model = HourglassNet(replace(config, input_size=input_size) if input_size else config)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()})
    except Exception as exc:  # torch.load raises many kinds on foreign or corrupt files
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise PoseItError(f"{path} is not a Pose-It! hourglass checkpoint ({first})") from None
    return model.eval(), ckpt


def train_step(
    model: HourglassNet,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    batch: dict,
    memory: torch.memory_format,
    bf16: bool,
    step: int,
) -> float:
    """One optimiser step on ``batch`` (bf16 autocast when asked); the loss, which must be finite."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        outputs = model(batch["image"].to(memory_format=memory))
    loss = loss_fn(outputs, batch)
    if not math.isfinite(loss.item()):
        raise PoseItError(f"the loss is {loss.item()} at step {step}: lower the learning rate")
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    optimizer.step()
    return loss.item()


def fit(
    arch: str,
    model: HourglassNet,
    dataset,
    loss_fn: LossFn,
    settings: TrainSettings,
    out_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Train ``model`` on ``dataset`` (items as `poseit.train.data.HeatmapDataset`); checkpoint to
    ``out_dir/last.pt`` after every epoch; returns the history (one dict per epoch with the mean loss and the
    per-step losses)."""
    out = Path(out_dir)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr, weight_decay=settings.weight_decay)
    start_epoch, step, history = 0, 0, []
    last = out / "last.pt"
    if resume:
        if not last.is_file():
            raise PoseItError(f"nothing to resume: {last} does not exist")
        ckpt = torch.load(last, map_location="cpu", weights_only=True)
        if ckpt["arch"] != arch:
            raise PoseItError(f"{last} holds {ckpt['arch']}, not {arch}")
        model.load_state_dict(ckpt["state_dict"])
        if ckpt["optimizer"]:
            optimizer.load_state_dict(ckpt["optimizer"])
        start_epoch, step, history = ckpt["epoch"], ckpt["step"], ckpt["history"]
        log(f"resumed {last} at epoch {start_epoch}, step {step}")
    memory = torch.channels_last if settings.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory).train()
    loader = DataLoader(
        dataset,
        batch_size=settings.batch_size,
        shuffle=True,
        drop_last=len(dataset) > settings.batch_size,
        num_workers=settings.workers,
        generator=torch.Generator().manual_seed(settings.seed),
    )
    for epoch in range(start_epoch, settings.epochs):
        lr = settings.lr * 0.1 ** sum(epoch >= d for d in settings.lr_drops)
        for group in optimizer.param_groups:
            group["lr"] = lr
        if hasattr(dataset, "set_epoch"):
            dataset.set_epoch(epoch)
        losses: list[float] = []
        t0 = time.perf_counter()
        bar = tqdm(loader, desc=f"epoch {epoch + 1}/{settings.epochs}", disable=not progress, leave=False)
        for batch in bar:
            losses.append(train_step(model, optimizer, loss_fn, batch, memory, use_bf16(settings.bf16), step))
            step += 1
            bar.set_postfix(loss=f"{losses[-1]:.2e}", lr=f"{lr:.1e}")
            if settings.max_steps and step >= settings.max_steps:
                break
        seconds = time.perf_counter() - t0
        history.append(
            {
                "epoch": epoch + 1,
                "loss": sum(losses) / max(len(losses), 1),
                "lr": lr,
                "seconds": seconds,
                "images_per_s": len(losses) * settings.batch_size / max(seconds, 1e-9),
                "step_losses": losses,
            }
        )
        save_checkpoint(last, arch, model, optimizer, epoch + 1, step, history, asdict(settings))
        log(f"epoch {epoch + 1}: loss {history[-1]['loss']:.3e}, {history[-1]['images_per_s']:.1f} img/s -> {last}")
        if settings.max_steps and step >= settings.max_steps:
            break
    return history


@dataclass
class StepSettings:
    """A run planned in optimiser steps: cosine decay from ``lr`` to ``lr * final_lr`` over ``steps`` after a
    linear warm-up; a checkpoint every ``checkpoint_minutes`` of wall time (and at the end)."""

    steps: int = 10000
    batch_size: int = 16
    lr: float = 1e-3
    final_lr: float = 0.05
    warmup: int = 200
    threads: int | None = None
    bf16: bool | None = None  # None: where the CPU has native bf16 (`native_bf16`)
    channels_last: bool = True
    checkpoint_minutes: float = 5.0
    seed: int = 0
    extra: dict = field(default_factory=dict)

    def lr_at(self, step: int) -> float:
        if step < self.warmup:
            return self.lr * (step + 1) / self.warmup
        t = min(1.0, (step - self.warmup) / max(1, self.steps - self.warmup))
        return self.lr * (self.final_lr + (1 - self.final_lr) * 0.5 * (1 + math.cos(math.pi * t)))


def save_weights(path: Path, arch: str, model: HourglassNet, step: int, settings: dict | None = None) -> None:
    """Weights only, as FP16 (a few MB: what is committed between sessions); `load_weights` reads them back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()}
    tmp = path.with_suffix(".tmp")
    config = model.config.to_dict()
    torch.save({"arch": arch, "config": config, "state_dict": state, "step": step, "settings": settings or {}}, tmp)
    tmp.replace(path)


def load_weights(model: HourglassNet, path: str | Path) -> dict:
    """Load the weights of a checkpoint or an FP16 weights file into ``model`` (any input size: the network is
    fully convolutional); returns the file's dict."""
    path = Path(path)
    if not path.is_file():
        raise PoseItError(f"weights not found: {path}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["state_dict"].items()})
    return ckpt


def fit_steps(
    arch: str,
    model: HourglassNet,
    dataset,
    loss_fn: LossFn,
    settings: StepSettings,
    out_dir: str | Path,
    resume: bool = False,
    start_step: int = 0,
    log: Callable[[str], None] = print,
) -> list[dict]:
    """Train for ``settings.steps`` optimiser steps, batches drawn at random from a generator seeded by
    (seed, step) and augmented with ``dataset.set_epoch(step)``, so a run resumed from ``out_dir/last.pt`` (or
    started at ``start_step`` from other weights) continues exactly. Checkpoints ``last.pt`` (with the
    optimiser) and ``weights_fp16.pt``; returns the history (one record per checkpoint interval)."""
    import numpy as np

    out = Path(out_dir)
    if settings.threads:
        torch.set_num_threads(settings.threads)
    torch.manual_seed(settings.seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=settings.lr)
    step, history = start_step, []
    last = out / "last.pt"
    if resume:
        if not last.is_file():
            raise PoseItError(f"nothing to resume: {last} does not exist")
        ckpt = torch.load(last, map_location="cpu", weights_only=True)
        if ckpt["arch"] != arch or ckpt["config"]["input_size"] != model.config.input_size:
            raise PoseItError(f"{last} holds {ckpt['arch']} at {ckpt['config']['input_size']}, not this run")
        model.load_state_dict(ckpt["state_dict"])
        optimizer.load_state_dict(ckpt["optimizer"])
        step, history = ckpt["step"], ckpt["history"]
        log(f"resumed {last} at step {step}")
    memory = torch.channels_last if settings.channels_last else torch.contiguous_format
    model = model.to(memory_format=memory).train()
    n = len(dataset)
    batch = min(settings.batch_size, n)

    def checkpoint(losses: list[float], seconds: float) -> None:
        rate = len(losses) * batch / max(seconds, 1e-9)
        mean = float(np.mean(losses)) if losses else float("nan")
        lr = settings.lr_at(step)
        history.append({"step": step, "loss": mean, "seconds": seconds, "images_per_s": rate, "lr": lr})
        save_checkpoint(last, arch, model, optimizer, 0, step, history, asdict(settings))
        save_weights(out / "weights_fp16.pt", arch, model, step, asdict(settings))
        h = history[-1]
        log(f"step {step}/{settings.steps}: loss {h['loss']:.3e}, {h['images_per_s']:.1f} img/s -> {last}")

    losses: list[float] = []
    t0 = time.perf_counter()
    while step < settings.steps:
        rng = np.random.default_rng((settings.seed, step))
        dataset.set_epoch(step)
        items = [dataset[int(i)] for i in rng.choice(n, batch, replace=False)]
        b = {k: torch.stack([it[k] for it in items]) for k in items[0]}
        lr = settings.lr_at(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        losses.append(train_step(model, optimizer, loss_fn, b, memory, use_bf16(settings.bf16), step))
        step += 1
        seconds = time.perf_counter() - t0
        if seconds >= settings.checkpoint_minutes * 60 or step >= settings.steps:
            checkpoint(losses, seconds)
            losses, t0 = [], time.perf_counter()
    return history


def weights_info(path: str | Path) -> dict:
    """Provenance of a checkpoint or weights file: arch, input size, step, planned steps and the run's record."""
    ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    settings = ckpt.get("settings") or {}
    return {
        "arch": ckpt["arch"],
        "input_size": ckpt["config"]["input_size"],
        "step": ckpt["step"],
        "planned_steps": settings.get("steps"),
        "batch_size": settings.get("batch_size"),
        "run": settings.get("extra", {}),
    }
