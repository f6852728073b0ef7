"""The fusion MLP: one small network per modality, fused, with two outputs (viral logit, velocity).

    metadata (n, m) ──► standardise, NaN→0 + missing flags ──► Linear(2m, p) ─┐
    text     (n, dt) ─────────────────────────────────────► Linear(dt, p) ─┼─► concat (n, k·p) ─► MLP ─► (n, 2)
    image    (n, di) ─────────────────────────────────────► Linear(di, p) ─┘

Loss: BCE on the viral logit (unweighted, so the probability is an estimate of the rate, not pushed
toward 0.5) plus MSE on the standardised velocity (each output trained when its target is given). AdamW;
early stopping on the validation loss, best epoch kept. Seeded and deterministic
on CPU; bf16 autocast on CUDA.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.metaestimators import available_if

from miles.heads.base import HeadMixin, Task, blocks_of, is_viral


def _fusion_class():
    import torch
    from torch import nn

    class Fusion(nn.Module):
        def __init__(self, block_dims: dict[str, int], proj: int, hidden: int, dropout: float):
            super().__init__()
            self.names = list(block_dims)
            self.proj = nn.ModuleDict({n: nn.Sequential(nn.Linear(d, proj), nn.GELU(), nn.Dropout(dropout))
                                       for n, d in block_dims.items()})
            self.head = nn.Sequential(nn.Linear(proj * len(block_dims), hidden), nn.GELU(), nn.Dropout(dropout),
                                      nn.Linear(hidden, 2))

        def forward(self, parts: list[torch.Tensor]) -> torch.Tensor:  # parts[i]: (n, d_i)
            fused = torch.cat([self.proj[n](x) for n, x in zip(self.names, parts)], dim=1)  # (n, k·proj)
            return self.head(fused)  # (n, 2): viral logit, standardised velocity

    Fusion.__module__ = __name__
    Fusion.__qualname__ = "Fusion"
    return Fusion


def __getattr__(name):  # the module-level ``Fusion`` exists once torch is imported (pickling finds it here)
    if name == "Fusion":
        cls = _fusion_class()
        globals()["Fusion"] = cls
        return cls
    raise AttributeError(name)  # internal: a bug, not input


def _build(block_dims: dict[str, int], proj: int, hidden: int, dropout: float):
    import sys

    return sys.modules[__name__].Fusion(block_dims, proj, hidden, dropout)


class MLPHead(HeadMixin, BaseEstimator):
    def __init__(self, task: Task = "viral", block_sizes: dict[str, int] | None = None, proj: int = 64,
                 hidden: int = 128, dropout: float = 0.2, lr: float = 2e-3, weight_decay: float = 1e-3,
                 epochs: int = 60, batch_size: int = 256, patience: int = 8, validation_fraction: float = 0.15,
                 random_state: int = 0, device: str = "cpu"):
        self.task, self.block_sizes, self.proj, self.hidden, self.dropout = task, block_sizes, proj, hidden, dropout
        self.lr, self.weight_decay, self.epochs, self.batch_size = lr, weight_decay, epochs, batch_size
        self.patience, self.validation_fraction, self.random_state, self.device = (
            patience, validation_fraction, random_state, device)

    # ---- inputs -------------------------------------------------------------------------------
    def _parts(self, X):
        import torch

        X = np.asarray(X, dtype=np.float32)
        parts = []
        for name, sl in self.blocks_:
            x = X[:, sl]
            if name == "metadata":
                miss = np.isnan(x)
                x = np.where(miss, 0.0, (x - self.mean_) / self.std_)
                x = np.hstack([x, miss.astype(np.float32)])
            parts.append(torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32), device=self.device))
        return parts

    def fit(self, X, y, y_aux=None):
        """``y``: the task's target; ``y_aux``: the other output's target (velocity for a viral head,
        viral for a velocity head), trained jointly when given."""
        import torch

        X, y = self._check_Xy(X, y)
        y = (y == self.classes_[-1]).astype(np.float32) if self.task == "viral" else y.astype(np.float32)
        self.blocks_ = blocks_of(self.block_sizes, X.shape[1])
        meta = next((sl for n, sl in self.blocks_ if n == "metadata"), None)
        if meta is not None:
            with warnings.catch_warnings():  # an all-NaN column (no creator history anywhere) is allowed
                warnings.simplefilter("ignore", RuntimeWarning)
                self.mean_ = np.nan_to_num(np.nanmean(X[:, meta], axis=0))
                self.std_ = np.nan_to_num(np.nanstd(X[:, meta], axis=0), nan=1.0)
            self.std_[self.std_ == 0] = 1.0
        viral = y if self.task == "viral" else (None if y_aux is None else np.asarray(y_aux, dtype=np.float32))
        vel = y if self.task == "velocity" else (None if y_aux is None else np.asarray(y_aux, dtype=np.float32))
        if vel is not None:
            self.vel_mean_, self.vel_std_ = float(np.mean(vel)), float(np.std(vel) or 1.0)
            vel = (vel - self.vel_mean_) / self.vel_std_
        else:
            self.vel_mean_, self.vel_std_ = 0.0, 1.0
        self.block_dims_ = {n: (sl.stop - sl.start) * (2 if n == "metadata" else 1) for n, sl in self.blocks_}
        # The seed and determinism are set for this fit and put back after it: fitting a head must not
        # change the caller's torch state.
        deterministic = torch.are_deterministic_algorithms_enabled()
        try:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.random_state)
                if self.device == "cpu":
                    torch.use_deterministic_algorithms(True, warn_only=True)
                self._train(X, y, viral, vel)
        finally:
            torch.use_deterministic_algorithms(deterministic)
        return self

    def _train(self, X, y, viral, vel) -> None:
        import copy

        import torch

        rng = np.random.default_rng(self.random_state)
        self.model_ = _build(self.block_dims_, self.proj, self.hidden, self.dropout).to(self.device)
        n = len(X)
        n_val = int(n * self.validation_fraction) if n >= 50 else 0
        tr, va = np.arange(n - n_val), np.arange(n - n_val, n)
        parts = self._parts(X)
        val_parts = [p[n - n_val:] for p in parts]
        tv = lambda a: None if a is None else torch.as_tensor(a, device=self.device)  # noqa: E731
        t_viral, t_vel = tv(viral), tv(vel)
        opt = torch.optim.AdamW(self.model_.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        cuda = self.device.startswith("cuda")
        best, best_state, bad = -np.inf, None, 0
        self.history_ = []
        for epoch in range(self.epochs):
            self.model_.train()
            order = torch.as_tensor(rng.permutation(tr), device=self.device)
            for b in range(0, len(order), self.batch_size):
                idx = order[b:b + self.batch_size]
                with torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda):
                    out = self.model_([p[idx] for p in parts]).float()  # (b, 2)
                loss = out.new_zeros(())
                if t_viral is not None:
                    loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], t_viral[idx])
                if t_vel is not None:
                    loss = loss + torch.nn.functional.mse_loss(out[:, 1], t_vel[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
            if not n_val:
                continue
            score = self._val_score(val_parts, None if t_viral is None else t_viral[va],
                                    None if t_vel is None else t_vel[va])
            self.history_.append(score)
            if score > best + 1e-6:
                best, best_state, bad, self.best_epoch_ = score, copy.deepcopy(self.model_.state_dict()), 0, epoch
            else:
                bad += 1
                if bad >= self.patience:
                    break
        if best_state is not None:
            self.model_.load_state_dict(best_state)
        self.model_.eval()

    def _val_score(self, parts, viral, vel) -> float:
        """Minus the validation loss (the training loss on the held-out slice): smoother than AUROC on the
        few dozen rows a small store holds out, so early stopping does not stop on noise."""
        import torch

        self.model_.eval()
        with torch.inference_mode():
            out = self.model_(parts).float()
            loss = out.new_zeros(())
            if viral is not None:
                loss = loss + torch.nn.functional.binary_cross_entropy_with_logits(out[:, 0], viral)
            if vel is not None:
                loss = loss + torch.nn.functional.mse_loss(out[:, 1], vel)
        return -float(loss)

    def _raw(self, X) -> np.ndarray:
        import torch

        X = self._check_X(X, reset=False)
        self.model_.eval()
        with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16,
                                                    enabled=self.device.startswith("cuda")):
            return self.model_(self._parts(X)).float().cpu().numpy()

    @available_if(is_viral)
    def predict_proba(self, X):
        p = 1.0 / (1.0 + np.exp(-self._raw(X)[:, 0]))
        return np.column_stack([1 - p, p])

    def predict_velocity(self, X) -> np.ndarray:
        return self._raw(X)[:, 1] * self.vel_std_ + self.vel_mean_

    def predict(self, X):
        if self.task == "viral":
            p = self.predict_proba(X)[:, 1]
            return self.classes_[(p >= 0.5).astype(int)]
        return self.predict_velocity(X)

    # ---- persistence ----------------------------------------------------------------------------
    def state(self):
        tensors = {f"model.{k}": v.detach().cpu().numpy() for k, v in self.model_.state_dict().items()}
        if hasattr(self, "mean_"):
            tensors.update(mean=self.mean_, std=self.std_)
        cfg = {"block_dims": self.block_dims_, "vel_mean": self.vel_mean_, "vel_std": self.vel_std_,
               "n_features_in": self.n_features_in_}
        return cfg, tensors

    @classmethod
    def restore(cls, params, config, tensors):
        import torch

        head = cls(**params)
        head.block_dims_ = config["block_dims"]
        head.blocks_ = blocks_of(params["block_sizes"], config["n_features_in"])
        head.vel_mean_, head.vel_std_ = config["vel_mean"], config["vel_std"]
        head.n_features_in_ = config["n_features_in"]
        if "mean" in tensors:
            head.mean_, head.std_ = tensors["mean"], tensors["std"]
        head.model_ = _build(head.block_dims_, head.proj, head.hidden, head.dropout)
        head.model_.load_state_dict({k[len("model."):]: torch.from_numpy(v.copy()) for k, v in tensors.items()
                                     if k.startswith("model.")})
        head.model_.eval()
        if head.task == "viral":
            head.classes_ = np.array([0, 1])
        return head
