"""Calibration constants of the cluster core (one set for every system) and shared enums.

Every value is listed with its source and fit in docs/ODD.md, "Submodels -> Cluster-performance
core"; tags such as [C4b] point there. Read at call time through the module (``consts.X``), so a
calibration script may set them.
"""

from __future__ import annotations

# ---------------------------------------------------------------------------------------------
# Calibration constants (one set for every system; see docs/ODD.md for sources)
# ---------------------------------------------------------------------------------------------
#: Sustained fraction of peak reached by training math (GEMMs + elementwise), before any
#: communication or pipeline bubble. Fitted (least squares in log, all in band) with
#: PIPELINE_INTERLEAVE on the four training runs only: Llama 3 405B (8K and 16K H100), Megatron-LM
#: 1T (3,072 A100), MT-NLG 530B (2,240-3,360 A100), DeepSeek-V3 (2,048 H800); docs/ODD.md [C2].
ETA_COMPUTE_TRAIN: float = 0.54
#: Achieved collective bus bandwidth / nominal link bandwidth (NCCL busbw on NVLink and
#: 400G NICs is ~70-80 % of line rate; nccl-tests).
ETA_LINK: float = 0.75
#: Per-step latency (alpha) of one collective hop inside a scale-up domain and across NICs, s.
ALPHA_SCALEUP_S: float = 5e-6
ALPHA_SCALEOUT_S: float = 15e-6
#: Virtual pipeline stages per device (interleaved 1F1B) of a workload that leaves its schedule
#: open (workloads.csv ``interleave`` blank): bubble = (pp-1)/(v*m) of compute. Fitted with
#: ETA_COMPUTE_TRAIN, restricted to Megatron's usual v = 2..4 (Llama 3 and DeepSeek-V3 leave it open).
PIPELINE_INTERLEAVE: float = 4.0
#: Fraction of backward compute that can hide the data-parallel gradient reduction.
DP_OVERLAP: float = 0.8
#: Fraction of training compute that can hide MoE all-to-all (DeepSeek DualPipe).
A2A_OVERLAP: float = 0.6
#: Bytes of training state per parameter held by its shard: bf16 weight (2) + fp32 gradient
#: (4) + a ZeRO-1 share of fp32 Adam state (~2 at data-parallel degree >= 6).
TRAIN_STATE_BYTES_PER_PARAM: float = 8.0
#: Fraction of HBM given to training state (the rest is activations and workspace).
HBM_STATE_FRACTION: float = 0.5
#: Fraction of HBM usable for serving weights + KV cache.
HBM_SERVING_FRACTION: float = 0.9
#: Bytes per activation element (bf16) for tensor- and pipeline-parallel traffic.
ACT_BYTES: float = 2.0
#: Bytes per gradient element in the data-parallel reduction (bf16 reduce-scatter/all-gather).
GRAD_BYTES: float = 2.0
#: Collectives per transformer layer per micro-batch under Megatron tensor parallelism with
#: sequence parallelism (2 forward + 2 backward all-reduce equivalents; Korthikanti et al. 2022).
TP_COLLECTIVES_PER_LAYER: float = 4.0
# ---- serving [C3]-[C4]: one roofline with separate terms, efficiencies per term ----
#: Sustained / peak rate of the (grouped) weight GEMMs at the serving format. Physical bound:
#: DeepGEMM reaches ~1,550 of 1,979 dense FP8 TFLOPS on H800 (0.78). Fitted (docs/ODD.md [C4f]).
ETA_GEMM: float = 0.65
#: Sustained / peak rate of attention math (QK, AV). Bound: FlashMLA ~660 of 989 BF16 TFLOPS on
#: H800 (0.67). Fitted.
ETA_ATTN: float = 0.45
#: Software factor on the compute efficiencies (ETA_GEMM, ETA_ATTN) by stack: kernels of the
#: CUDA stack reach the fitted values (SGLang on H100); CANN's fitted on CloudMatrix 384; other
#: stacks ASSUMED like the nearest (ROCm as CUDA, the other Chinese stacks as CANN).
STACK_COMPUTE_FACTOR: dict[str, float] = {"cuda": 1.0, "rocm": 1.0, "cann": 0.65, "other_cn": 0.65}
#: Achieved / nominal HBM bandwidth streaming weights and KV cache. Bound: FlashMLA ~3,000 of
#: 3,350 GB/s on H800 (0.90). Fitted.
ETA_HBM: float = 0.89
#: Fixed time per layer and decode/prefill step (kernel launches, synchronisation,
#: gating/top-k, scheduling), s. Fitted to CloudMatrix 384 at 15 and 50 ms TPOT.
STEP_LAYER_OVERHEAD_S: float = 250e-6
STEP_OVERHEAD_S: float = 2e-3
#: Fraction of the step's compute + HBM time that can hide the MoE all-to-all (two-micro-batch
#: overlap, DeepSeek / SGLang TBO / CloudMatrix micro-batch pipelining). Fitted.
SERVE_A2A_OVERLAP: float = 0.15
#: Tokens each accelerator processes per prefill forward pass (a few 4K prompts, chunked).
PREFILL_TOKENS_PER_ACCEL: float = 16384.0
#: Expert-parallel degrees searched (accelerator packages); the workload's n_experts x
#: EP_REDUNDANCY caps it (redundant experts, e.g. 288 slots for 256 experts).
EP_GRID: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 48, 64, 72, 96, 128, 144, 160, 192, 256, 288, 320)
EP_REDUNDANCY: float = 1.25
#: Tensor-parallel degrees searched for attention and dense weights (1 = data-parallel attention);
#: never beyond the scale-up domain.
TP_GRID: tuple[int, ...] = (1, 2, 4, 8)
#: Binding resources, in the order of the ``bound`` code of serving results.
BOUNDS: tuple[str, ...] = ("compute", "hbm", "scale-up", "scale-out", "latency", "capacity")
#: Average / nameplate power while running (Epoch AI energy model: 0.75 x peak).
AVG_POWER_FRACTION: float = 0.75
#: Dense BF16 rate as a fraction of dense FP8 rate, used only when a chip has no BF16 figure
#: (roadmap parts announced with FP8 only). Nvidia Hopper/Blackwell and AMD CDNA3: 0.5.
BF16_PER_FP8: float = 0.5
#: Pipeline depths tried, as multiples of the smallest that fits in memory (deeper pipelines
#: shrink each accelerator's gradient shard at the cost of a larger bubble).
PP_MULTIPLIERS: tuple[int, ...] = (1, 2, 4, 8)
#: Numerical cap on the decode batch when neither TPOT nor HBM bounds it (tokens per step).
MAX_DECODE_BATCH: float = 1e9

#: Workload kinds.
TRAIN, PREFILL, DECODE = 0, 1, 2
KINDS: tuple[str, ...] = ("train", "prefill", "decode")
#: Numeric formats in the order of the Offerings rate columns.
FORMATS: tuple[str, ...] = ("fp8", "int8", "bf16")

_TINY = 1e-300
