"""Fine-tune the default pair's trained model: LoRA on the untrained base (every
linear layer by default) plus its classification head, on SST-2. Seeded and
reproducible: the seed sets the adapter's initialisation, the data order and
dropout; the head starts from the pair's head seed in every run, so step 0 is
exactly the untrained model (the adapter's B matrices start at zero)."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import torch
from peft import LoraConfig, get_peft_model
from safetensors.torch import load_file, save_file
from tqdm.auto import tqdm

from .. import config
from ..models import load_classifier, load_tokenizer, quiet
from ..pairs import PairSpec, get_pair


@dataclass
class TrainConfig:
    steps: int = 1800
    batch_size: int = 32
    lr: float = 1e-3
    warmup: float = 0.06
    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05
    max_length: int = 64
    seed: int = 0
    target_modules: tuple[str, ...] = ("query", "key", "value", "dense")
    weight_decay: float = 0.01


def batches(rows, tokenizer, cfg: TrainConfig, rng: random.Random):
    """Endless batches: shuffled, grouped by length (pads little), shuffled again."""
    while True:
        order = list(range(len(rows)))
        rng.shuffle(order)
        chunk = cfg.batch_size * 50
        for start in range(0, len(order), chunk):
            part = sorted(order[start : start + chunk], key=lambda i: len(rows[i][1]))
            groups = [part[i : i + cfg.batch_size] for i in range(0, len(part), cfg.batch_size)]
            rng.shuffle(groups)
            for group in groups:
                enc = tokenizer(
                    [rows[i][1] for i in group],
                    padding=True,
                    truncation=True,
                    max_length=cfg.max_length,
                    return_tensors="pt",
                )
                enc["labels"] = torch.tensor([rows[i][0] for i in group])
                yield enc


def log_steps(steps: int, first: int = 25) -> list[int]:
    """0, first, 2 first, 4 first, ... below ``steps``, then ``steps``: checkpoints
    spaced about log-wise from the untrained model to the end."""
    out, s = [0], first
    while s < steps:
        out.append(s)
        s *= 2
    return out + [steps]


def peft_model(pair: PairSpec, cfg: TrainConfig):
    """The untrained base of ``pair`` (head from the pair's head seed) with a fresh
    LoRA adapter drawn from ``cfg.seed``, and the tokenizer."""
    tokenizer = load_tokenizer(pair.untrained)
    base = load_classifier(pair.untrained, pair.labels, pair.head_seed)
    torch.manual_seed(cfg.seed)
    lora = LoraConfig(
        task_type="SEQ_CLS",
        r=cfg.rank,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
        modules_to_save=["classifier"],
    )
    with quiet():
        model = get_peft_model(base, lora)
    return model, tokenizer


def save_adapter(model, out_dir: Path, pair: PairSpec, half: bool = True) -> Path:
    """``save_pretrained`` in safetensors; with ``half`` the LoRA matrices are stored
    as float16 (the head stays float32, so its logits are exact). Loading widens
    them back to float32 (PEFT copies into the model's float32 parameters)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Record where the base comes from, not this machine's path to it.
    model.peft_config["default"].base_model_name_or_path = pair.untrained.display_name
    with quiet():
        model.save_pretrained(str(out_dir), safe_serialization=True, save_embedding_layers=False)
    (out_dir / "README.md").unlink(missing_ok=True)  # PEFT's empty model card
    if half:
        path = out_dir / "adapter_model.safetensors"
        tensors = load_file(str(path))
        tensors = {k: (v.half() if "lora_" in k else v).contiguous() for k, v in sorted(tensors.items())}
        save_file(tensors, str(path), metadata={"format": "pt"})
    return out_dir


def train(
    rows: list[tuple[int, str]],
    out_dir: Path | None,
    cfg: TrainConfig = TrainConfig(),
    pair: PairSpec | None = None,
    progress: bool = True,
    checkpoints: Iterable[int] = (),
    on_checkpoint: Callable[[int, object, object], None] | None = None,
    stop_at: int | None = None,
    half: bool = False,
):
    """Train the LoRA adapter + head on ``rows``; save it to ``out_dir`` (if given)
    and return the (PEFT) model in eval mode.

    At each step of ``checkpoints`` (0 = before any update; ``cfg.steps`` = the end)
    ``on_checkpoint(step, model, tokenizer)`` is called with the model in eval mode
    (it must not draw random numbers: the run would change). ``stop_at`` ends the run
    after that many steps of the full schedule (a reproducibility check of a prefix).
    """
    pair = pair or get_pair(config.DEFAULT_PAIR)
    random.seed(cfg.seed)
    model, tokenizer = peft_model(pair, cfg)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    warm = max(1, int(cfg.warmup * cfg.steps))

    def schedule(step):
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (cfg.steps - step) / max(1, cfg.steps - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    stream = batches(rows, tokenizer, cfg, random.Random(cfg.seed))
    checkpoints = sorted(set(checkpoints))
    end = cfg.steps if stop_at is None else min(stop_at, cfg.steps)

    def checkpoint(step):
        if on_checkpoint is not None and step in checkpoints:
            model.eval()
            with torch.inference_mode():
                on_checkpoint(step, model, tokenizer)

    checkpoint(0)
    model.train()
    bar = tqdm(range(end), desc="training", unit="step", disable=not progress, mininterval=30)
    ema = None
    for step in bar:
        batch = next(stream)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        value = loss.item()
        if not math.isfinite(value):
            raise RuntimeError(f"training diverged at step {step} (loss {value})")
        ema = value if ema is None else 0.98 * ema + 0.02 * value
        if step % 10 == 0:
            bar.set_postfix(loss=f"{ema:.3f}")
        if step + 1 in checkpoints:
            checkpoint(step + 1)
            model.train()
    model.eval()
    if out_dir is not None:
        save_adapter(model, Path(out_dir), pair, half=half)
    return model
