"""The core's inputs and outputs: offerings, workloads (struct of arrays) and result records."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from model.core.consts import BF16_PER_FP8, FORMATS, KINDS, TRAIN

WORKLOADS_CSV: Path = Path(__file__).resolve().parents[1] / "data" / "workloads.csv"
#: Serving parameters per workload id (multi-token prediction, attention format, MLA latent KV,
#: expert count), kept beside workloads.csv; a workloads file with these columns needs none.
SERVING_CSV: Path = Path(__file__).resolve().parents[1] / "data" / "serving.csv"
#: column: (default, lowest, highest) of the serving parameters
SERVING_COLUMNS: dict[str, tuple[float, float, float]] = {
    "mtp_depth": (0.0, 0.0, 4.0), "mtp_accept": (0.0, 0.0, 1.0), "kv_latent": (0.0, 0.0, 1.0),
    "n_experts": (np.nan, 1.0, 1e6),
}


@dataclass(frozen=True)
class Offerings:
    """Struct of arrays, one entry per offering (a system: chip + domain + network + price).

    Rates are dense per accelerator; bandwidths in GB/s (``scaleup_gb_s`` bidirectional per
    accelerator inside its scale-up domain, ``scaleout_gb_s`` one direction per accelerator).
    """

    ids: np.ndarray
    chip: np.ndarray
    stack: np.ndarray
    bf16_tflops: np.ndarray
    fp8_tflops: np.ndarray
    int8_tops: np.ndarray
    hbm_gb: np.ndarray
    hbm_tb_s: np.ndarray
    scaleup_gb_s: np.ndarray
    scaleout_gb_s: np.ndarray
    domain: np.ndarray
    watts_allin: np.ndarray
    price_usd_per_accel: np.ndarray
    n_per_system: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.ids)
        for f in _OFFERINGS_FIELDS:
            arr = getattr(self, f)
            shape = arr.shape if type(arr) is np.ndarray else np.shape(arr)
            if shape != (n,):
                raise ValueError(f"Offerings.{f} has shape {shape}, expected ({n},)")

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx: ArrayLike) -> Offerings:
        """A subset (or reordering) of offerings by integer index or boolean mask."""
        return Offerings(**{f: np.asarray(getattr(self, f))[idx] for f in _OFFERINGS_FIELDS})

    @classmethod
    def from_frame(cls, systems: pd.DataFrame, chips: pd.DataFrame) -> Offerings:
        """Join system rows (index = id, column ``chip``) with their chip rows (index = id).

        No catalog lookup: the market model calls this with derived rows too. A system's own
        ``scaleup_gb_s`` wins over its chip's; a chip with no BF16 figure gets
        BF16_PER_FP8 x its FP8 rate.
        """
        missing = sorted(set(systems["chip"]) - set(chips.index))
        if missing:
            raise ValueError(f"systems name chips not in the chips table: {', '.join(map(str, missing))}")
        ch = chips.loc[systems["chip"].to_numpy()]

        def num(frame: pd.DataFrame, col: str) -> np.ndarray:
            if col not in frame.columns:
                return np.full(len(frame), np.nan)
            return pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)

        bf16 = num(ch, "bf16_tflops")
        fp8 = num(ch, "fp8_tflops")
        bf16 = np.where(np.isnan(bf16), BF16_PER_FP8 * fp8, bf16)
        scaleup = num(systems, "scaleup_gb_s")
        scaleup = np.where(np.isnan(scaleup), num(ch, "scaleup_gb_s"), scaleup)
        n_sys = num(systems, "n_accel")
        domain = num(systems, "scaleup_domain")
        domain = np.where(np.isnan(domain), 1.0, domain)
        stack = systems["stack"] if "stack" in systems.columns else ch["stack"]
        return cls(
            ids=np.asarray(systems.index.astype(str), dtype=object),
            chip=np.asarray(systems["chip"].astype(str), dtype=object),
            stack=np.asarray(pd.Series(stack).astype(str), dtype=object),
            bf16_tflops=bf16,
            fp8_tflops=fp8,
            int8_tops=num(ch, "int8_tops"),
            hbm_gb=num(ch, "hbm_gb"),
            hbm_tb_s=num(ch, "hbm_tb_s"),
            scaleup_gb_s=np.nan_to_num(scaleup, nan=0.0),
            scaleout_gb_s=np.nan_to_num(num(systems, "scaleout_gb_s"), nan=0.0),
            domain=np.maximum(domain, 1.0).astype(np.int64),
            watts_allin=num(systems, "watts_allin"),
            price_usd_per_accel=num(systems, "price_usd") / n_sys,
            n_per_system=np.nan_to_num(n_sys, nan=1.0).astype(np.int64),
        )


#: the Offerings fields, in order (read in loops that run every month)
_OFFERINGS_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Offerings))


_WL_NUMERIC: tuple[str, ...] = (
    "params_total", "params_active", "params_expert", "n_layers", "moe_layers", "d_model",
    "seq_len", "batch_tokens", "tp", "ep", "top_k", "attn_flops_per_ctx", "kv_bytes_per_token",
    "tpot_s",
)


#: Training layout columns of workloads.csv (optional; blank = left open): column -> (default,
#: lowest, highest). ``pp`` pipeline stages and ``interleave`` virtual stages per device (1 = plain
#: 1F1B) as the published run used them, NaN where the core searches / uses its fitted value;
#: ``microbatch`` sequences per micro-batch (docs/ODD.md [C2a], [C2e]).
LAYOUT_COLUMNS: dict[str, tuple[float, float, float]] = {
    "pp": (np.nan, 1.0, 1e4), "microbatch": (1.0, 1.0, 1e6), "interleave": (np.nan, 1.0, 64.0),
}


@dataclass(frozen=True)
class Workloads:
    """Struct of arrays, one entry per workload (see model/data/workloads.csv for meanings).

    ``precision`` is an ordered preference list such as ``"int8|fp8"``; the first format the
    chip has wins and BF16 is the final fallback. ``pref_rank`` (W, 3) encodes it over FORMATS.
    Serving parameters (model/data/serving.csv): ``mtp_depth`` draft tokens per step and
    ``mtp_accept`` the acceptance rate of each; ``kv_latent`` 1 where the KV cache is one latent
    shared by all heads (MLA: tensor parallelism does not split it); ``n_experts`` routed experts
    (caps expert parallelism); ``attn_fp8`` 1 where attention and KV run in FP8 on FP8 chips.
    """

    ids: np.ndarray
    kind: np.ndarray
    params_total: np.ndarray
    params_active: np.ndarray
    params_expert: np.ndarray
    n_layers: np.ndarray
    moe_layers: np.ndarray
    d_model: np.ndarray
    seq_len: np.ndarray
    batch_tokens: np.ndarray
    tp: np.ndarray
    ep: np.ndarray
    top_k: np.ndarray
    attn_flops_per_ctx: np.ndarray
    kv_bytes_per_token: np.ndarray
    tpot_s: np.ndarray
    precision: np.ndarray
    pref_rank: np.ndarray
    mtp_depth: np.ndarray = None  # type: ignore[assignment]  # filled by __post_init__ if absent
    mtp_accept: np.ndarray = None  # type: ignore[assignment]
    kv_latent: np.ndarray = None  # type: ignore[assignment]
    n_experts: np.ndarray = None  # type: ignore[assignment]
    attn_fp8: np.ndarray = None  # type: ignore[assignment]  # attention + KV in FP8 where the chip has it
    pp: np.ndarray = None  # type: ignore[assignment]  # training pipeline depth; NaN: the core searches
    microbatch: np.ndarray = None  # type: ignore[assignment]  # sequences per pipeline micro-batch
    interleave: np.ndarray = None  # type: ignore[assignment]  # virtual stages per device; NaN: fitted

    def __post_init__(self) -> None:
        n = len(self.ids)
        for c, (default, _, _) in (*SERVING_COLUMNS.items(), ("attn_fp8", (0.0, 0.0, 1.0)),
                                   *LAYOUT_COLUMNS.items()):
            if getattr(self, c) is None:
                object.__setattr__(self, c, np.full(n, default))

    def __len__(self) -> int:
        return len(self.ids)

    def take(self, idx: ArrayLike) -> Workloads:
        """A subset of workloads by integer index or boolean mask."""
        return Workloads(**{f.name: np.asarray(getattr(self, f.name))[idx] for f in fields(self)})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Workloads:
        """Build from a frame with the workloads.csv columns (index or column ``id``)."""
        df = frame.reset_index() if "id" not in frame.columns else frame
        kinds = df["kind"].astype(str).to_numpy()
        bad = sorted(set(kinds) - set(KINDS))
        if bad:
            raise ValueError(f"workload kind {bad[0]!r}: expected one of {', '.join(KINDS)}")
        prec = df["precision"].astype(str).to_numpy()
        rank = np.full((len(df), len(FORMATS)), 50.0)
        for i, p in enumerate(prec):  # parsing text, once per load (not the hot path)
            for r, fmt in enumerate(p.split("|")):
                if fmt.strip() not in FORMATS:
                    raise ValueError(f"workload {df['id'].iloc[i]!r}: precision {p!r}: "
                                     f"expected formats from {', '.join(FORMATS)} joined by '|'")
                rank[i, FORMATS.index(fmt.strip())] = min(rank[i, FORMATS.index(fmt.strip())], r)
        rank[:, FORMATS.index("bf16")] = np.minimum(rank[:, FORMATS.index("bf16")], 10.0)
        nums = {c: pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
                for c in _WL_NUMERIC}
        for c in ("params_expert", "moe_layers", "top_k", "batch_tokens", "kv_bytes_per_token"):
            nums[c] = np.nan_to_num(nums[c], nan=0.0)
        for c in ("tp", "ep"):
            nums[c] = np.maximum(np.nan_to_num(nums[c], nan=1.0), 1.0)
        return cls(ids=np.asarray(df["id"].astype(str), dtype=object),
                   kind=np.array([KINDS.index(k) for k in kinds], dtype=np.int64),
                   precision=np.asarray(prec, dtype=object), pref_rank=rank, **nums,
                   **_serving_columns(df), **_layout_columns(df))

    @classmethod
    def load(cls, path: Path | str | None = None, ids: list[str] | None = None) -> Workloads:
        """Read model/data/workloads.csv (or ``path``), optionally only ``ids`` in that order.
        The packaged file is read once per process (read-only arrays, shared by every model)."""
        if path is None:
            return _packaged_workloads(None if ids is None else tuple(ids))
        return cls._read(path, ids)

    @classmethod
    def _read(cls, path: Path | str, ids: Sequence[str] | None) -> Workloads:
        df = pd.read_csv(path)
        if ids is not None:
            known = list(df["id"].astype(str))
            unknown = [i for i in ids if i not in known]
            if unknown:
                raise KeyError(f"unknown workload {unknown[0]!r}; valid: {', '.join(known)}")
            df = df.set_index("id").loc[list(ids)].reset_index()
        missing = [c for c in (*SERVING_COLUMNS, "attn_precision") if c not in df.columns]
        if missing and SERVING_CSV.exists():
            side = pd.read_csv(SERVING_CSV)
            df = df.merge(side[["id", *missing]], on="id", how="left")
        return cls.from_frame(df)


def _ranged_columns(df: pd.DataFrame, spec: dict[str, tuple[float, float, float]]) -> dict[str, np.ndarray]:
    """Optional numeric columns of a workloads frame, defaults where blank; ValueError out of range."""
    out: dict[str, np.ndarray] = {}
    for c, (default, lo, hi) in spec.items():
        x = (pd.to_numeric(df[c], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
             if c in df.columns else np.full(len(df), np.nan))
        bad = np.flatnonzero(np.isfinite(x) & ((x < lo) | (x > hi)))
        if len(bad):
            raise ValueError(f"workload {df['id'].iloc[bad[0]]!r}: {c} = {x[bad[0]]}: expected "
                             f"a number from {lo:g} to {hi:g}")
        out[c] = np.where(np.isfinite(x), x, default)
    return out


def _layout_columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The training layout of a workloads frame; ValueError where a stage count is not whole."""
    out = _ranged_columns(df, LAYOUT_COLUMNS)
    for c in ("pp", "interleave"):
        bad = np.flatnonzero(np.isfinite(out[c]) & (out[c] != np.round(out[c])))
        if len(bad):
            raise ValueError(f"workload {df['id'].iloc[bad[0]]!r}: {c} = {out[c][bad[0]]}: expected "
                             f"a whole number of stages (or blank: left to the core)")
    return out


def _serving_columns(df: pd.DataFrame) -> dict[str, np.ndarray]:
    """The serving parameters of a workloads frame, defaults where absent; ValueError out of range."""
    out = _ranged_columns(df, SERVING_COLUMNS)
    att = df["attn_precision"].fillna("bf16").astype(str) if "attn_precision" in df.columns \
        else pd.Series(["bf16"] * len(df))
    first = att.str.split("|").str[0].str.strip()
    bad = sorted(set(first) - {"fp8", "bf16"})
    if bad:
        raise ValueError(f"attn_precision {bad[0]!r}: expected 'fp8|bf16' or 'bf16'")
    out["attn_fp8"] = (first == "fp8").to_numpy(dtype=np.float64)
    return out


@functools.lru_cache(maxsize=16)
def _packaged_workloads(ids: tuple[str, ...] | None) -> Workloads:
    wl = Workloads._read(WORKLOADS_CSV, ids)
    for f in fields(wl):
        getattr(wl, f.name).flags.writeable = False  # shared between models: nobody may write
    return wl


_WL_MEMO: dict[tuple[int, str], tuple[Workloads, Any]] = {}


def workload_memo(wl: Workloads, name: str, build: Callable[[Workloads], Any]) -> Any:
    """``build(wl)`` (a pure function of the workloads), kept per process under ``name`` when every
    field of ``wl`` is read-only (the packaged workloads of ``Workloads.load``: nothing can change
    them); computed afresh for any other workloads. An entry holds ``wl``: its id is not reused."""
    hit = _WL_MEMO.get((id(wl), name))
    if hit is not None and hit[0] is wl:
        return hit[1]
    value = build(wl)
    if not any(np.asarray(getattr(wl, f.name)).flags.writeable for f in fields(wl)):
        if len(_WL_MEMO) >= 256:
            _WL_MEMO.clear()
        _WL_MEMO[(id(wl), name)] = (wl, value)
    return value


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CoreResult:
    """Every field has shape (O, W, R); NaN where not applicable (e.g. cost of zero output).

    ``peak_pflops`` is at the numeric format the workload runs in on that chip (see
    ``precision``); totals are for ``n_accel`` accelerators.
    """

    peak_pflops: np.ndarray
    effective_pflops: np.ndarray
    mfu: np.ndarray
    tokens_per_s_per_accel: np.ndarray
    power_kw: np.ndarray
    facility_kw: np.ndarray
    usd_per_hour: np.ndarray
    usd_per_effective_pflop_hour: np.ndarray
    usd_per_mtok: np.ndarray
    j_per_token: np.ndarray
    precision: np.ndarray  # index into FORMATS actually used, (O, W, R)

    def unit_cost(self, kind: np.ndarray) -> np.ndarray:
        """Cost per unit of useful work: USD/Mtok for serving, USD/effective-PFLOP-h for training."""
        train = (np.asarray(kind) == TRAIN)[None, :, None]
        return np.where(train, self.usd_per_effective_pflop_hour, self.usd_per_mtok)


@dataclass(frozen=True)
class _Perf:
    """Per (O, W) performance, independent of region."""

    peak_flops: np.ndarray          # per accelerator, FLOP/s at the chosen format
    tokens_per_s_total: np.ndarray  # whole deployment of n accelerators
    useful_flops_per_token: np.ndarray
    n: np.ndarray
    fmt: np.ndarray
    ep: np.ndarray | None = None     # serving deployment chosen: expert-parallel degree (NaN: training)
    tp: np.ndarray | None = None     # tensor-parallel degree of attention and dense weights
    batch: np.ndarray | None = None  # sequences per accelerator per decode step; prefill tokens per pass
    bound: np.ndarray | None = None  # index into BOUNDS of the binding resource; -1 for training

    def __post_init__(self) -> None:
        for c, fill in (("ep", np.nan), ("tp", np.nan), ("batch", np.nan), ("bound", -1.0)):
            if getattr(self, c) is None:
                object.__setattr__(self, c, np.full(np.shape(self.peak_flops), fill))

    def take(self, idx: ArrayLike) -> _Perf:
        """The rows (offerings) ``idx`` of every array."""
        return _Perf(**{f.name: np.asarray(getattr(self, f.name))[idx] for f in fields(self)})

    @staticmethod
    def concat(parts: list[_Perf]) -> _Perf:
        """Offerings of several results stacked (same workloads)."""
        return _Perf(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(_Perf)})

