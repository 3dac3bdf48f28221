"""Fine-tune the default pair's trained model: LoRA on every linear layer of the
untrained base plus its classification head, on SST-2. Seeded and reproducible."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .. import config
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


def train(
    rows: list[tuple[int, str]],
    out_dir: Path,
    cfg: TrainConfig = TrainConfig(),
    pair: PairSpec | None = None,
    progress: bool = True,
) -> Path:
    """Train the LoRA adapter + head on ``rows`` and save it to ``out_dir``."""
    from peft import LoraConfig, get_peft_model

    from ..models import load_classifier, load_tokenizer, quiet

    pair = pair or get_pair(config.DEFAULT_PAIR)
    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    tokenizer = load_tokenizer(pair.untrained)
    base = load_classifier(pair.untrained, pair.labels, pair.head_seed)
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
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.01)
    warm = max(1, int(cfg.warmup * cfg.steps))

    def schedule(step):
        if step < warm:
            return (step + 1) / warm
        return max(0.0, (cfg.steps - step) / max(1, cfg.steps - warm))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, schedule)
    stream = batches(rows, tokenizer, cfg, random.Random(cfg.seed))
    bar = tqdm(range(cfg.steps), desc="training", unit="step", disable=not progress)
    ema = None
    for step in bar:
        batch = next(stream)
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        sched.step()
        opt.zero_grad(set_to_none=True)
        ema = loss.item() if ema is None else 0.98 * ema + 0.02 * loss.item()
        if step % 10 == 0:
            bar.set_postfix(loss=f"{ema:.3f}")
        if not math.isfinite(loss.item()):
            raise RuntimeError(f"training diverged at step {step} (loss {loss.item()})")
    model.eval()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    # Record where the base comes from, not this machine's path to it.
    model.peft_config["default"].base_model_name_or_path = pair.untrained.display_name
    with quiet():
        model.save_pretrained(str(out_dir), safe_serialization=True, save_embedding_layers=False)
    (out_dir / "README.md").unlink(missing_ok=True)  # PEFT's empty model card
    return out_dir
