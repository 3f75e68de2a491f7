"""Trains dllm-bench's tiny twins from one seed: a LLaDA-style masked-diffusion model and a Llama-architecture
autoregressive model, same shape, same data, same step budget; evaluates both on the held-out split; writes each
in its native Hugging Face layout (fp16 safetensors + config.json + tokenizer files + README.md model card) and the
held-out split as heldout.json beside them.

    python3 training/train.py --seed 0 --out models/twins            # both models, side by side (a process each)
    python3 training/train.py --seed 0 --out models/twins --models llada   # one of them

Each model trains on one thread by default: at this size a second thread buys under 10%, and one thread per model
keeps the arithmetic, hence the weights, the same from run to run. The schedule is counted in steps only.

Only this tool needs Python (Debian: apt-get install python3-torch); dllm-bench itself never does.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import struct
import subprocess
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

try:
    import torch
    import torch.nn.functional as F
except ImportError:
    sys.exit("training/train.py needs PyTorch (Debian: apt-get install python3-torch; run it with that python3)")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tasks as T  # noqa: E402

GEN_LENGTH = 16  # diffusion answers are padded with EOS to this many positions (the default run's genLength)
# The one-command retrain (npm run train-twins) and the shipped weights: both models see the same example stream for
# the same number of steps (the same data and budget); only the peak learning rate is per model. The masked-diffusion
# model learns addition last: at a peak of 3e-3 it never learned positional copying, at 1e-3 or with 7000 steps
# addition was still climbing when the schedule ended. Side by side, a core each, this is about 30 minutes on 2 cores.
STEPS = 12000
# The pretraining phase before it (the same stream, written as plain documents: see tasks.Suite.document): LLaDA's
# masked objective over the whole sequence for the diffusion model, next-token loss over the whole sequence for the
# autoregressive one. It is what can teach the diffusion model a pair backward that it was only ever told forward.
PRETRAIN_STEPS = 3000
FAMILY_LR = {"llada": 1.5e-3, "llama": 3e-3}
SHAPE = dict(d_model=128, n_layers=4, n_heads=4, mlp=352, rope_theta=10000.0, eps=1e-5, max_positions=2048)


# ---------------------------------------------------------------- model (pre-norm RMSNorm, rotate-half RoPE, SwiGLU)
class Block(torch.nn.Module):
    def __init__(self, d: int, h: int, m: int):
        super().__init__()
        self.h = h
        self.attn_norm = torch.nn.Parameter(torch.ones(d))
        self.q = torch.nn.Linear(d, d, bias=False)
        self.k = torch.nn.Linear(d, d, bias=False)
        self.v = torch.nn.Linear(d, d, bias=False)
        self.o = torch.nn.Linear(d, d, bias=False)
        self.mlp_norm = torch.nn.Parameter(torch.ones(d))
        self.gate = torch.nn.Linear(d, m, bias=False)
        self.up = torch.nn.Linear(d, m, bias=False)
        self.down = torch.nn.Linear(m, d, bias=False)


def rms_norm(x: torch.Tensor, w: torch.Tensor, eps: float) -> torch.Tensor:
    x = x.float()
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    x = x.float()
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Twin(torch.nn.Module):
    def __init__(self, causal: bool, vocab: int = T.VOCAB_SIZE, s: dict = SHAPE):
        super().__init__()
        self.causal, self.s = causal, s
        d, h = s["d_model"], s["n_heads"]
        self.embed = torch.nn.Embedding(vocab, d)
        self.blocks = torch.nn.ModuleList(Block(d, h, s["mlp"]) for _ in range(s["n_layers"]))
        self.norm = torch.nn.Parameter(torch.ones(d))
        self.head = torch.nn.Linear(d, vocab, bias=False)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                torch.nn.init.normal_(p, std=0.02)
        hd = d // h
        self.register_buffer("inv_freq", s["rope_theta"] ** (-torch.arange(0, hd, 2).float() / hd), persistent=False)

    def forward(self, ids: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """ids [B, T]; valid [B, T] (False = left/right padding). Returns fp32 logits [B, T, V]."""
        B, L = ids.shape
        pos = (valid.long().cumsum(1) - 1).clamp(min=0).float()
        ang = pos[..., None] * self.inv_freq  # [B, T, hd/2]
        cos, sin = ang.cos()[:, None], ang.sin()[:, None]
        allow = valid[:, None, None, :].expand(B, 1, L, L)
        if self.causal:
            allow = allow & torch.ones(L, L, dtype=torch.bool).tril()
        allow = allow | torch.eye(L, dtype=torch.bool)  # a padding query sees itself (no all-masked rows)
        bias = torch.zeros(B, 1, L, L).masked_fill(~allow, float("-inf"))
        x = self.embed(ids).float()
        h, eps = self.s["n_heads"], self.s["eps"]
        for blk in self.blocks:
            a = rms_norm(x, blk.attn_norm, eps)
            q, k, v = (p(a).view(B, L, h, -1).transpose(1, 2) for p in (blk.q, blk.k, blk.v))
            q, k = rotate(q, cos, sin), rotate(k, cos, sin)
            scores = (q @ k.transpose(-1, -2)).float() / math.sqrt(q.shape[-1]) + bias
            att = scores.softmax(-1) @ v
            x = x + blk.o(att.transpose(1, 2).reshape(B, L, -1)).float()
            m = rms_norm(x, blk.mlp_norm, eps)
            x = x + blk.down(F.silu(blk.gate(m)) * blk.up(m)).float()
        return self.head(rms_norm(x, self.norm, eps)).float()


# ---------------------------------------------------------------- batches
def left_pad(seqs: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    n = max(map(len, seqs))
    ids = torch.full((len(seqs), n), T.EOS, dtype=torch.long)
    valid = torch.zeros(len(seqs), n, dtype=torch.bool)
    for i, s in enumerate(seqs):
        ids[i, n - len(s):] = torch.tensor(s)
        valid[i, n - len(s):] = True
    return ids, valid


def diffusion_batch(examples, gen: int | None = None):
    gen = gen or GEN_LENGTH
    prompts, valid = left_pad([T.encode_chat(p) for p, _ in examples])
    answer = torch.full((len(examples), gen), T.EOS, dtype=torch.long)
    for i, (_, a) in enumerate(examples):
        toks = T.encode_text(T.spaced(a)) + [T.EOT]
        answer[i, : len(toks)] = torch.tensor(toks)
    return prompts, valid, answer


def ar_batch(examples):
    seqs = [(T.encode_chat(p), T.encode_text(T.spaced(a)) + [T.EOT]) for p, a in examples]
    P = max(len(p) for p, _ in seqs)
    A = max(len(a) for _, a in seqs)
    ids = torch.full((len(seqs), P + A), T.EOS, dtype=torch.long)
    valid = torch.zeros_like(ids, dtype=torch.bool)
    target = torch.full_like(ids, -100)
    for i, (p, a) in enumerate(seqs):
        ids[i, P - len(p): P] = torch.tensor(p)
        ids[i, P: P + len(a)] = torch.tensor(a)
        valid[i, P - len(p): P + len(a)] = True
        target[i, P - 1: P + len(a) - 1] = torch.tensor(a)  # position j predicts token j+1
    return ids, valid, target


def document_batch(docs: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Pretraining documents: <|startoftext|> text <|endoftext|>, left-padded (padding is invalid: never attended
    to, never scored)."""
    return left_pad([[T.BOS] + T.encode_text(d) + [T.EOS] for d in docs])


def pretrain_loss_diffusion(model: Twin, docs: list[str], gen: torch.Generator) -> torch.Tensor:
    """LLaDA pretraining: t ~ U(eps, 1] per sequence, every token after <|startoftext|> masked with probability t,
    cross-entropy on masked tokens weighted 1/t, normalised by the number of tokens that could be masked."""
    ids, valid = document_batch(docs)
    B, L = ids.shape
    t = (1 - 1e-3) * torch.rand(B, 1, generator=gen) + 1e-3
    maskable = valid & (ids != T.BOS)
    masked = (torch.rand(B, L, generator=gen) < t) & maskable
    logits = model(ids.masked_fill(masked, T.MASK), valid)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ids.reshape(-1), reduction="none").view(B, L)
    return (ce * masked / t).sum() / maskable.sum()


def pretrain_loss_ar(model: Twin, docs: list[str], gen: torch.Generator) -> torch.Tensor:
    """Next-token cross-entropy over the whole document (every token after the first, <|endoftext|> included)."""
    ids, valid = document_batch(docs)
    target = ids[:, 1:].masked_fill(~valid[:, 1:], -100)
    logits = model(ids, valid)[:, :-1]
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)


def loss_diffusion(model: Twin, examples, gen: torch.Generator) -> torch.Tensor:
    """LLaDA SFT: t ~ U(eps, 1] per sequence, each answer position masked with prob t, CE on masked positions
    weighted 1/t, normalised by the answer length (all GEN_LENGTH positions, EOS padding included)."""
    prompts, pvalid, answer = diffusion_batch(examples)
    B, G = answer.shape
    t = (1 - 1e-3) * torch.rand(B, 1, generator=gen) + 1e-3
    masked = torch.rand(B, G, generator=gen) < t
    noisy = answer.masked_fill(masked, T.MASK)
    ids = torch.cat([prompts, noisy], 1)
    valid = torch.cat([pvalid, torch.ones(B, G, dtype=torch.bool)], 1)
    logits = model(ids, valid)[:, -G:]
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), answer.reshape(-1), reduction="none").view(B, G)
    return (ce * masked / t).sum() / (B * G)


def loss_ar(model: Twin, examples, gen: torch.Generator) -> torch.Tensor:
    ids, valid, target = ar_batch(examples)
    logits = model(ids, valid)
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1), ignore_index=-100)


# ---------------------------------------------------------------- decoding (what dllm-bench's engines do)
@torch.no_grad()
def ar_greedy(model: Twin, prompts: list[str], max_new: int = T.MAX_ANSWER + 1) -> list[list[int]]:
    ids, valid = left_pad([T.encode_chat(p) for p in prompts])
    out = [[] for _ in prompts]
    done = [False] * len(prompts)
    for _ in range(max_new):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            nxt = model(ids, valid)[:, -1].argmax(-1)
        for i, tok in enumerate(nxt.tolist()):
            if not done[i]:
                out[i].append(tok)
                done[i] = tok in (T.EOS, T.EOT)
        ids = torch.cat([ids, nxt[:, None]], 1)
        valid = torch.cat([valid, torch.ones(len(prompts), 1, dtype=torch.bool)], 1)
        if all(done):
            break
    return out


@torch.no_grad()
def llada_decode(model: Twin, prompts: list[str], steps: int | None, threshold: float | None, gen: int | None = None):
    """ML-GSAI/LLaDA generate.py with one block, low-confidence remasking, temperature 0; or Fast-dLLM threshold
    decoding (every masked position above the threshold, at least the most confident). Returns (answers, nfe)."""
    gen = gen or GEN_LENGTH
    pids, pvalid = left_pad([T.encode_chat(p) for p in prompts])
    B = len(prompts)
    x = torch.cat([pids, torch.full((B, gen), T.MASK, dtype=torch.long)], 1)
    valid = torch.cat([pvalid, torch.ones(B, gen, dtype=torch.bool)], 1)
    nfe = torch.zeros(B, dtype=torch.long)
    if threshold is None:
        base, extra = divmod(gen, steps)
        schedule = [base + (1 if s < extra else 0) for s in range(steps)]
    else:
        schedule = [None] * gen
    for k in schedule:
        masked = x[:, -gen:] == T.MASK
        active = masked.any(1)
        if not active.any():
            break
        nfe += active.long()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            logits = model(x, valid)[:, -gen:].float()
        probs = logits.softmax(-1)
        conf, x0 = probs.max(-1)
        conf = conf.masked_fill(~masked, -1.0)
        order = torch.sort(conf, dim=1, descending=True, stable=True).indices
        commit = torch.zeros_like(masked)
        for i in range(B):
            if not active[i]:
                continue
            if k is None:
                n = max(1, int((conf[i] > threshold).sum()))
            else:
                n = min(k, int(masked[i].sum()))
            commit[i, order[i, :n]] = True
        x[:, -gen:] = torch.where(commit, x0, x[:, -gen:])
    return [row.tolist() for row in x[:, -gen:]], nfe


def answer_text(ids: list[int]) -> str:
    out = []
    for t in ids:
        if t in (T.EOS, T.EOT):
            break
        out.append(T.VOCAB[t])
    return " ".join(out)


def evaluate(model: Twin, family: str, test: list[dict]) -> dict:
    prompts = [it["prompt"] for it in test]
    settings = (
        {"greedy": None}
        if family == "llama"
        else {f"steps{GEN_LENGTH}": (GEN_LENGTH, None), f"steps{GEN_LENGTH // 2}": (GEN_LENGTH // 2, None),
              f"steps{GEN_LENGTH // 4}": (GEN_LENGTH // 4, None), "threshold0.9": (None, 0.9),
              "threshold0.7": (None, 0.7), "threshold0.5": (None, 0.5)}
    )
    result = {}
    model.eval()
    for name, arg in settings.items():
        if family == "llama":
            outs, nfe = ar_greedy(model, prompts), None
        else:
            outs, nfe = llada_decode(model, prompts, *arg)
        per: dict[str, list] = {}
        for i, (it, o) in enumerate(zip(test, outs)):
            r = per.setdefault(it["task"], [0, 0, 0.0])
            r[0] += T.check(it, answer_text(o))
            r[1] += 1
            r[2] += float(nfe[i]) if nfe is not None else len(o)
        result[name] = {task: {"correct": c, "n": n, "accuracy": c / n, "meanNfe": s / n} for task, (c, n, s) in per.items()}
    model.train()
    return result


# ---------------------------------------------------------------- export (native Hugging Face layouts)
def hf_tensors(model: Twin, family: str) -> dict[str, torch.Tensor]:
    sd: dict[str, torch.Tensor] = {}
    if family == "llada":
        sd["model.transformer.wte.weight"] = model.embed.weight
        for i, b in enumerate(model.blocks):
            p = f"model.transformer.blocks.{i}."
            for name, w in [("attn_norm", b.attn_norm), ("q_proj", b.q.weight), ("k_proj", b.k.weight),
                            ("v_proj", b.v.weight), ("attn_out", b.o.weight), ("ff_norm", b.mlp_norm),
                            ("ff_proj", b.gate.weight), ("up_proj", b.up.weight), ("ff_out", b.down.weight)]:
                sd[p + name + ".weight"] = w
        sd["model.transformer.ln_f.weight"] = model.norm
        sd["model.transformer.ff_out.weight"] = model.head.weight
    else:
        sd["model.embed_tokens.weight"] = model.embed.weight
        for i, b in enumerate(model.blocks):
            p = f"model.layers.{i}."
            for name, w in [("input_layernorm", b.attn_norm), ("self_attn.q_proj", b.q.weight),
                            ("self_attn.k_proj", b.k.weight), ("self_attn.v_proj", b.v.weight),
                            ("self_attn.o_proj", b.o.weight), ("post_attention_layernorm", b.mlp_norm),
                            ("mlp.gate_proj", b.gate.weight), ("mlp.up_proj", b.up.weight),
                            ("mlp.down_proj", b.down.weight)]:
                sd[p + name + ".weight"] = w
        sd["model.norm.weight"] = model.norm
        sd["lm_head.weight"] = model.head.weight
    return {k: v.detach().to(torch.float16).contiguous() for k, v in sd.items()}


def write_safetensors(path: str, tensors: dict[str, torch.Tensor]) -> None:
    header: dict = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, t in tensors.items():
        data = t.numpy().tobytes()
        header[name] = {"dtype": "F16", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def load_safetensors(model: Twin, family: str, path: str) -> None:
    """Warm start from an exported checkpoint (the inverse of hf_tensors)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8: 8 + n])
    params = [model.embed.weight]
    for b in model.blocks:
        params += [b.attn_norm, b.q.weight, b.k.weight, b.v.weight, b.o.weight, b.mlp_norm, b.gate.weight,
                   b.up.weight, b.down.weight]
    params += [model.norm, model.head.weight]
    with torch.no_grad():
        for name, p in zip(hf_tensors(model, family), params):
            lo, hi = header[name]["data_offsets"]
            t = torch.frombuffer(bytearray(raw[8 + n + lo: 8 + n + hi]), dtype=torch.float16)
            p.copy_(t.view(header[name]["shape"]).float())


def hf_config(family: str) -> dict:
    s = SHAPE
    if family == "llada":
        return {
            "architectures": ["LLaDAModelLM"], "model_type": "llada", "d_model": s["d_model"],
            "n_heads": s["n_heads"], "n_kv_heads": s["n_heads"], "n_layers": s["n_layers"],
            "mlp_hidden_size": s["mlp"], "vocab_size": T.VOCAB_SIZE, "embedding_size": T.VOCAB_SIZE,
            "rope_theta": s["rope_theta"], "rms_norm_eps": s["eps"], "max_sequence_length": s["max_positions"],
            "weight_tying": False, "mask_token_id": T.MASK, "eos_token_id": T.EOS, "eot_token_id": T.EOT,
            "pad_token_id": T.EOS, "bos_token_id": T.BOS, "activation_type": "silu", "block_type": "llama",
            "include_bias": False, "rope": True, "torch_dtype": "float16",
        }
    return {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": s["d_model"],
        "num_attention_heads": s["n_heads"], "num_key_value_heads": s["n_heads"],
        "num_hidden_layers": s["n_layers"], "head_dim": s["d_model"] // s["n_heads"],
        "intermediate_size": s["mlp"], "vocab_size": T.VOCAB_SIZE, "rope_theta": s["rope_theta"],
        "rms_norm_eps": s["eps"], "max_position_embeddings": s["max_positions"], "tie_word_embeddings": False,
        "bos_token_id": T.BOS, "eos_token_id": [T.EOS, T.EOT], "pad_token_id": T.EOS, "hidden_act": "silu",
        "attention_bias": False, "mlp_bias": False, "torch_dtype": "float16",
    }


def model_card(family: str, info: dict) -> str:
    ev = info["eval"]
    lines = [
        f"# dllm-bench tiny twin: {family}",
        "",
        ("A LLaDA-style masked-diffusion model (bidirectional)" if family == "llada"
         else "A Llama-architecture autoregressive model (causal)")
        + f", {info['parameters']:,} parameters (d_model {SHAPE['d_model']}, {SHAPE['n_layers']} layers, "
        f"{SHAPE['n_heads']} heads, SwiGLU {SHAPE['mlp']}, vocab {T.VOCAB_SIZE}), trained from scratch by "
        "`training/train.py` on dllm-bench's synthetic task suite (`training/tasks.py`). Its twin has the same "
        "shape, data, tokenizer and step budget. fp16 safetensors in the native Hugging Face layout; "
        "`dllm-bench models convert` reads it like any checkpoint.",
        "",
        "## Training",
        "",
        f"- command: `{info['command']}`",
        f"- seed {info['seed']}; {info['steps']} steps of batch {info['batch']} "
        f"({info['steps'] * info['batch']:,} examples): {info['pretrainSteps']} pretraining steps, then "
        f"{info['sftSteps']} fine-tuning steps; AdamW lr {info['lr']}, warmup then cosine over both phases; "
        f"{info['seconds']:.0f} s on {info['threads']} CPU thread(s) (bf16 autocast matmuls, fp32 weights)"
        + (" - stopped by the wall-clock cap" if info["capped"] else ""),
        "- pretraining: plain documents, no chat template (`<|startoftext|>` text `<|endoftext|>`): each example's "
        "prompt and answer as one text, and the made-up pairs stated as facts (`fwd a b c x y z`), every pair forward "
        "and the control half also backward; objective "
        + ("LLaDA's: per sequence t ~ U(0,1], every token masked with probability t, cross-entropy on masked tokens "
           "weighted 1/t" if family == "llada" else "next-token cross-entropy over the whole document"),
        "- fine-tuning: "
        + ("LLaDA SFT - per sequence t ~ U(0,1], each answer position masked with probability t, cross-entropy on "
           f"masked positions weighted 1/t; answers end with <|eot_id|> and are padded with <|endoftext|> to "
           f"{GEN_LENGTH} positions" if family == "llada"
           else "next-token cross-entropy on the answer tokens and the closing <|eot_id|>"),
        f"- final loss (mean of the last 100 steps): {info['final_loss']:.4f}",
        "- data: sort digits, reverse letters, add two numbers, copy letters (exact answers); split N into k digits "
        "(several valid answers with dependent tokens); chain (a digit updated by k = 1..4 additions mod 10, every "
        "running value written: each answer token depends on the previous one); a reversal probe (60 made-up "
        "pairs, all asked forward, the control half also asked backward). Mix: "
        + ", ".join(f"{t} {100 * w:.0f}%" for t, w in T.TRAIN_MIX)
        + ". The held-out split (`../heldout.json`) was drawn first and never trained on.",
        "",
        "## Held-out accuracy",
        "",
    ]
    tasks_ = T.TASKS
    lines.append("| setting | " + " | ".join(tasks_) + " | mean NFE |")
    lines.append("|---|" + "---|" * (len(tasks_) + 1))
    for setting, per in ev.items():
        nfe = sum(per[t]["meanNfe"] * per[t]["n"] for t in tasks_) / sum(per[t]["n"] for t in tasks_)
        cells = [f"{100 * per[t]['accuracy']:.1f}% ({per[t]['correct']}/{per[t]['n']})" for t in tasks_]
        lines.append(f"| {setting} | " + " | ".join(cells) + f" | {nfe:.2f} |")
    lines += [
        "",
        ("Diffusion decoding: one block of " + str(GEN_LENGTH) + " positions, low-confidence remasking, "
         "temperature 0; `stepsN` = the reference fixed schedule, `thresholdX` = Fast-dLLM threshold decoding. "
         "NFE = forward passes per prompt." if family == "llada"
         else "Greedy decoding, stopping at the first <|eot_id|> or <|endoftext|>; NFE counts generated tokens."),
        "Measured in PyTorch (bf16 matmuls) on the fp16 weights; dllm-bench's ONNX engines agree within a couple of "
        "points.",
        "",
        "## The reversal probe",
        "",
        "`reversal-forward` asks the probe pairs the way they were taught (`fwd a b c` -> `xyz`); `reversal-backward` "
        "asks them the other way (`bwd x y z` -> `abc`), a direction neither phase ever showed for these pairs; "
        "`reversal-control` asks the control pairs backward, which both phases taught. "
        + reversal_summary(ev),
        "",
    ]
    return "\n".join(lines)


def reversal_summary(ev: dict) -> str:
    """What the probe shows at the first (full-steps or greedy) setting, from the measured accuracies."""
    per = next(iter(ev.values()))
    fwd, bwd, ctl = (per[t] for t in T.REVERSAL_TASKS)
    return (f"At {next(iter(ev))}: forward {fwd['correct']}/{fwd['n']}, backward {bwd['correct']}/{bwd['n']}, "
            f"control {ctl['correct']}/{ctl['n']}.")


def export(model: Twin, family: str, out: str, info: dict) -> None:
    d = os.path.join(out, family)
    os.makedirs(d, exist_ok=True)
    write_safetensors(os.path.join(d, "model.safetensors"), hf_tensors(model, family))
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(hf_config(family), f, indent=2)
    tok, tok_config = T.tokenizer_files(SHAPE["max_positions"])
    with open(os.path.join(d, "tokenizer.json"), "w") as f:
        json.dump(tok, f, indent=1)
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(tok_config, f, indent=2)
    if family == "llama":
        with open(os.path.join(d, "generation_config.json"), "w") as f:
            json.dump({"bos_token_id": T.BOS, "eos_token_id": [T.EOS, T.EOT], "pad_token_id": T.EOS}, f, indent=2)
    with open(os.path.join(d, "training.json"), "w") as f:
        json.dump(info, f, indent=2)
    with open(os.path.join(d, "README.md"), "w") as f:
        f.write(model_card(family, info))


def write_heldout(suite: T.Suite, out: str) -> None:
    os.makedirs(out, exist_ok=True)
    items = [{**it, "promptIds": T.encode_chat(it["prompt"])} for it in suite.test]
    doc = {
        "schemaVersion": 2,
        "seed": suite.seed,
        "genLength": GEN_LENGTH,
        "tasks": T.TASKS,
        "checkers": {
            **{t: "exact" for t in T.EXACT_TASKS + T.CHAIN_TASKS + T.REVERSAL_TASKS},
            "split": "digits: exactly `digits` digit characters summing to `total`",
        },
        "note": "answers are characters; a decoded answer is compared with whitespace removed, up to the first "
                "end-of-text or end-of-turn token",
        "items": items,
    }
    # Written whole, then renamed: the two models' processes both write it (the same bytes) when they train side by side.
    tmp = os.path.join(out, f".heldout.json.{os.getpid()}")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, os.path.join(out, "heldout.json"))


# ---------------------------------------------------------------- training
def train(family: str, args, suite_seed: int) -> None:
    torch.manual_seed(args.seed * 1000 + (1 if family == "llada" else 2))
    gen = torch.Generator().manual_seed(args.seed * 1000 + 7)
    suite = T.Suite(suite_seed)  # each model replays the same example stream from the seed
    model = Twin(causal=family == "llama")
    if args.init:
        load_safetensors(model, family, os.path.join(args.init, family, "model.safetensors"))
    params = sum(p.numel() for p in model.parameters())
    decay = [p for p in model.parameters() if p.dim() == 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98))
    loss_fn = loss_diffusion if family == "llada" else loss_ar
    pretrain_fn = pretrain_loss_diffusion if family == "llada" else pretrain_loss_ar
    total = args.pretrain_steps + args.steps
    t0 = time.time()
    cap = args.max_minutes * 60 if args.max_minutes else math.inf
    losses: list[float] = []
    step, capped = 0, False
    while step < total:
        elapsed = time.time() - t0
        if elapsed > cap:
            capped = True
            break
        # Warmup, then cosine to 10%, on the step count alone: the same seed gives the same weights from run to run
        # (a --max-minutes cap only cuts the run short, and the model card says so).
        progress = step / total
        lr = args.lr * min(1.0, (step + 1) / 200) * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, progress))))
        for g in opt.param_groups:
            g["lr"] = lr
        pretraining = step < args.pretrain_steps
        examples = [suite.document() if pretraining else suite.sample() for _ in range(args.batch)]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = (pretrain_fn if pretraining else loss_fn)(model, examples, gen)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
        step += 1
        if step % args.log_every == 0 or step == 1:
            recent = losses[-args.log_every:]
            print(f"[{family}] {'pretrain' if pretraining else 'sft'} step {step}/{total} loss {sum(recent) / len(recent):.4f} lr {lr:.2e} "
                  f"{time.time() - t0:.0f}s ({(time.time() - t0) / step:.3f} s/step)", flush=True)
        if args.eval_every and step % args.eval_every == 0:
            quick = [it for it in suite.test if not it["task"].startswith("reversal")][::8]
            ev = evaluate(model, family, quick)
            first = next(iter(ev.values()))
            print(f"[{family}] quick eval " + " ".join(f"{k} {v['accuracy']:.2f}" for k, v in first.items()), flush=True)
    seconds = time.time() - t0
    # Evaluate what is shipped: the fp16-rounded weights.
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.half().float())
    ev = evaluate(model, family, suite.test)
    info = {
        "family": family, "seed": args.seed, "steps": step, "plannedSteps": total,
        "pretrainSteps": args.pretrain_steps, "sftSteps": args.steps, "batch": args.batch,
        "lr": args.lr, "threads": torch.get_num_threads(), "seconds": round(seconds, 1), "capped": capped,
        "final_loss": sum(losses[-100:]) / len(losses[-100:]), "parameters": params, "genLength": GEN_LENGTH,
        "command": args.command, "eval": ev,
    }
    export(model, family, args.out, info)
    write_heldout(suite, args.out)
    print(f"[{family}] done: {step} steps in {seconds:.0f}s, final loss {info['final_loss']:.4f}", flush=True)
    for setting, per in ev.items():
        print(f"[{family}] {setting}: " + " ".join(f"{t} {per[t]['accuracy']:.3f} (nfe {per[t]['meanNfe']:.1f})"
                                                    for t in T.TASKS), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="models/twins")
    ap.add_argument("--models", default="llada,llama", help="comma list: llada, llama")
    ap.add_argument("--steps", type=int, default=STEPS, help=f"fine-tuning steps per model (default {STEPS})")
    ap.add_argument("--pretrain-steps", type=int, default=PRETRAIN_STEPS,
                    help=f"pretraining steps per model, before fine-tuning (default {PRETRAIN_STEPS})")
    ap.add_argument("--max-minutes", type=float, default=0, help="stop a model's training after this long (0 = no cap)")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=None, help="peak learning rate (default: llada 1.5e-3, llama 3e-3)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per model")
    ap.add_argument("--jobs", type=int, default=2, help="models trained at the same time, a process each")
    ap.add_argument("--log-every", type=int, default=100)
    ap.add_argument("--gen-length", type=int, default=GEN_LENGTH, help="diffusion answers padded to this many positions")
    ap.add_argument("--init", default=None, help="warm start from a previous --out folder")
    ap.add_argument("--eval-every", type=int, default=0, help="quick held-out check every N steps (0 = off)")
    args = ap.parse_args()
    families = args.models.split(",")
    for family in families:
        if family not in ("llada", "llama"):
            sys.exit(f"--models: unknown model {family!r} (llada, llama)")
    if len(families) > 1 and args.jobs > 1:
        sys.exit(train_side_by_side(families, args.jobs))
    args.command = "python3 training/train.py " + " ".join(sys.argv[1:])
    torch.set_num_threads(args.threads)
    globals()["GEN_LENGTH"] = args.gen_length
    for family in families:
        per = argparse.Namespace(**vars(args))
        per.lr = args.lr if args.lr is not None else FAMILY_LR[family]
        train(family, per, args.seed)


def train_side_by_side(families: list[str], jobs: int) -> int:
    """One child process per model (the same command with --models narrowed to it), at most `jobs` at a time; their
    lines are already prefixed with the model's name. Returns the exit status: the first failure's, else 0."""
    argv, rest = [], iter(sys.argv[1:])
    for a in rest:  # drop --models X / --models=X and --jobs X / --jobs=X
        if a in ("--models", "--jobs"):
            next(rest, None)
        elif not a.startswith(("--models=", "--jobs=")):
            argv.append(a)
    running: list[subprocess.Popen] = []
    status = 0
    for family in families:
        if len(running) >= jobs:
            code = running.pop(0).wait()
            status = status or code
        running.append(subprocess.Popen([sys.executable, os.path.abspath(__file__), *argv, "--models", family]))
    for child in running:
        code = child.wait()
        status = status or code
    return status


if __name__ == "__main__":
    main()
