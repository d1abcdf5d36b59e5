"""Training-speed arithmetic: parameter count, model FLOPs utilisation (MFU), peak FLOP/s of a device."""
from __future__ import annotations

import re

# Dense peak FLOP/s per GPU from the vendors' data sheets (no sparsity): bf16 tensor cores, and fp32 (tf32
# tensor cores where matmuls may use them, which PyTorch does not by default: then the plain fp32 figure).
# Matched against torch.cuda.get_device_name() in order, first hit wins (H100 PCIe before the SXM default;
# "GH200" matches H200, which has the same figures).
GPU_PEAK_TFLOPS = [
    ("H200", {"bf16": 989.4, "fp32": 66.9}),
    ("H100 PCIe", {"bf16": 756.0, "fp32": 51.2}),
    ("H100 NVL", {"bf16": 835.0, "fp32": 60.0}),
    ("H100", {"bf16": 989.4, "fp32": 66.9}),
    ("A100", {"bf16": 312.0, "fp32": 19.5}),
    ("L40S", {"bf16": 362.1, "fp32": 91.6}),
    ("V100", {"bf16": 0.0, "fp32": 15.7}),  # no bf16 tensor cores
]


def count_params(model) -> int:
    """Distinct parameters (tied embeddings count once)."""
    return sum(p.numel() for p in {id(p): p for p in model.parameters()}.values())


def train_flops(params: int, tokens: int) -> float:
    """Model FLOPs of training on `tokens` tokens: 6 per parameter per token (2 forward, 4 backward);
    attention's sequence-length term and recomputation by gradient checkpointing are not counted."""
    return 6.0 * params * tokens


def mfu(params: int, tokens: int, seconds: float, peak_flops: float) -> float:
    """Model FLOPs utilisation: achieved training FLOP/s over the device's peak FLOP/s."""
    return train_flops(params, tokens) / seconds / peak_flops


def gpu_peak_flops(name: str, dtype: str) -> float | None:
    for key, peaks in GPU_PEAK_TFLOPS:
        if key.lower() in name.lower():
            return peaks[dtype] * 1e12 or None
    return None


def cpu_peak_flops(cpuinfo: str, threads: int) -> float | None:
    """fp32 peak of `threads` cores from /proc/cpuinfo: clock x SIMD lanes x 2 (FMA) x 2 FMA units per core
    (AVX-512: 16 lanes, AVX2 with FMA: 8, else SSE: 4 and no FMA). An estimate: turbo clocks and
    hyperthreads sharing a core's units are not accounted for."""
    mhz = re.findall(r"^cpu MHz\s*:\s*([\d.]+)", cpuinfo, flags=re.M)
    flags = re.search(r"^flags\s*:(.*)$", cpuinfo, flags=re.M)
    if not mhz or not flags:
        return None
    flags = set(flags.group(1).split())
    if "avx512f" in flags:
        per_cycle = 16 * 2 * 2
    elif "avx2" in flags and "fma" in flags:
        per_cycle = 8 * 2 * 2
    else:
        per_cycle = 4 * 2
    return float(mhz[0]) * 1e6 * per_cycle * threads


def peak_flops(device, dtype: str, override_tflops: float | None = None) -> tuple[float | None, str]:
    """Peak FLOP/s of `device` for `dtype` ('bf16' or 'fp32') and where the number comes from."""
    if override_tflops:
        return override_tflops * 1e12, "--peak-tflops"
    import torch

    if device.type == "cuda":
        name = torch.cuda.get_device_name(device)
        value = gpu_peak_flops(name, dtype)
        return value, f"data sheet of {name}" if value else f"{name} is not in the table: pass --peak-tflops"
    try:
        with open("/proc/cpuinfo") as fh:
            info = fh.read()
    except OSError:
        return None, "no /proc/cpuinfo: pass --peak-tflops"
    threads = torch.get_num_threads()
    value = cpu_peak_flops(info, threads)
    return value, f"estimate for {threads} CPU threads (clock x SIMD width x FMA)" if value else "unknown CPU"
