"""The training loop shared by ``poseit train`` and ``poseit distill``: intermediate supervision over all stacks,
checkpoints every epoch (resumable), a progress bar, and the CPU settings that make training bearable here
(bf16 autocast and channels-last: about 5x fp32 on a Zen 4 core; a fixed thread count)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from torch.utils.data import DataLoader
from tqdm import tqdm

from poseit.errors import PoseItError
from poseit.train.hourglass import HourglassConfig, HourglassNet

LossFn = Callable[[list[torch.Tensor], dict[str, torch.Tensor]], torch.Tensor]


@dataclass
class TrainSettings:
    epochs: int = 100
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    lr_drops: tuple[int, ...] = (60, 90)  # epochs where the learning rate is divided by 10
    threads: int | None = None
    bf16: bool = True
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


def load_checkpoint(path: str | Path) -> tuple[HourglassNet, dict]:
    """The model (eval mode) and the raw checkpoint dict."""
    path = Path(path)
    if not path.is_file():
        raise PoseItError(f"checkpoint not found: {path}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = HourglassNet(HourglassConfig.from_dict(ckpt["config"]))
        model.load_state_dict(ckpt["state_dict"])
    except Exception as exc:  # torch.load raises many kinds on foreign or corrupt files
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise PoseItError(f"{path} is not a Pose-It! hourglass checkpoint ({first})") from None
    return model.eval(), ckpt


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
            images = batch["image"].to(memory_format=memory)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=settings.bf16):
                outputs = model(images)
            loss = loss_fn(outputs, batch)
            if not math.isfinite(loss.item()):
                raise PoseItError(f"the loss is {loss.item()} at step {step}: lower the learning rate")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
            step += 1
            bar.set_postfix(loss=f"{loss.item():.2e}", lr=f"{lr:.1e}")
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
