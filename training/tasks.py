"""The twins' task suite and tokenizer, deterministic from a seed.

Tasks (prompt -> answer; answers are sequences of single characters, decoded with spaces between tokens):
  sort     "sort 31415"        -> "11345"        digits, 3-8 of them
  reverse  "reverse c a t"     -> "tac"          letters, 3-8 (space-separated in the prompt)
  add      "add 47+385"        -> "432"          two numbers of 1-3 digits, written as people write them
  copy     "copy h e l l o"    -> "hello"        letters, 3-8
  split    "split 13 into 2"   -> e.g. "49"      k digits (k = 2 or 3) summing to N: several valid answers whose
                                                 tokens depend on each other (the parallel-decoding trap)
  chain    "chain 7 +3 +5 +8"  -> "053"          a running value (mod 10) updated by k = 1..4 additions; the
                                                 answer writes every intermediate value, so each answer token
                                                 depends on the one before it (scored per k: chain-1 .. chain-4)
  reversal "fwd a b c"         -> "xyz"          the reversal-curse probe: 60 made-up pairs A -> B. Pretraining
           "bwd x y z"         -> "abc"          states every pair forward ("fwd a b c x y z"), and the control
                                                 half also backward; fine-tuning asks every pair forward and the
                                                 control half backward. The test asks the probe half forward
                                                 (reversal-forward) and backward (reversal-backward: a direction
                                                 never seen for these pairs), and the control half backward
                                                 (reversal-control).

Two phases share one stream of examples: pretraining "documents" (an example's prompt and answer as one plain text,
no chat template, and the pairs stated as facts) and fine-tuning (the chat template around the prompt; the answer
to be produced). The held-out split: exact-answer prompts drawn first and excluded from both phases; the split
task's prompt space is small (every (k, N) with several valid answers), so its test asks every prompt once and
scores validity.
"""
from __future__ import annotations

import random
import string

DIGITS = "0123456789"
LETTERS = string.ascii_lowercase

# ---- tokenizer (shared by both models): specials, whole-word tokens, then single characters.
SPECIALS = [
    "<|endoftext|>",  # 0: EOS and pad
    "<|startoftext|>",  # 1: BOS
    "<|start_header_id|>",  # 2
    "<|end_header_id|>",  # 3
    "<|eot_id|>",  # 4: end of turn
    "<|mdm_mask|>",  # 5: LLaDA's mask
    "<unk>",  # 6
]
WORDS = ["user", "assistant", "sort", "reverse", "add", "copy", "split", "into", "fwd", "bwd", "chain"]
CHARS = ["+"] + list(DIGITS) + list(LETTERS)
RESERVED = ["<|reserved_0|>", "<|reserved_1|>"]
VOCAB = SPECIALS + WORDS + CHARS + RESERVED
ID = {tok: i for i, tok in enumerate(VOCAB)}
EOS, BOS, START_HEADER, END_HEADER, EOT, MASK, UNK = range(7)
VOCAB_SIZE = len(VOCAB)  # 57

CHAT_TEMPLATE = (
    "{{ '<|startoftext|>' }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\n\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def encode_text(text: str) -> list[int]:
    """Plain text -> ids, as the shipped tokenizer.json does: whitespace-separated words; a word in WORDS is one
    token, anything else one token per character. (Prompts keep letters space-separated, so no WORDS entry can
    occur inside a run of letters.)"""
    out: list[int] = []
    for word in text.split():
        if word in WORDS:
            out.append(ID[word])
        else:
            out.extend(ID.get(c, UNK) for c in word)
    return out


def encode_chat(prompt: str) -> list[int]:
    """The chat template applied to one user message with the generation prompt, then encoded."""
    return (
        [BOS, START_HEADER, ID["user"], END_HEADER]
        + encode_text(prompt)
        + [EOT, START_HEADER, ID["assistant"], END_HEADER]
    )


def decode(ids: list[int]) -> str:
    return " ".join(VOCAB[i] for i in ids)


def tokenizer_files(max_length: int) -> tuple[dict, dict]:
    """tokenizer.json (BPE without merges = one token per character; WORDS and specials as added tokens) and
    tokenizer_config.json with the chat template."""
    added = [
        {"id": ID[t], "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": t in SPECIALS or t in RESERVED}
        for t in SPECIALS + WORDS + RESERVED
    ]
    tokenizer = {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "WhitespaceSplit"},
        "post_processor": None,
        "decoder": None,
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": "<unk>",
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": ID,
            "merges": [],
        },
    }
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|startoftext|>",
        "eos_token": "<|endoftext|>",
        "pad_token": "<|endoftext|>",
        "unk_token": "<unk>",
        "mask_token": "<|mdm_mask|>",
        "add_bos_token": False,
        "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "model_max_length": max_length,
        "chat_template": CHAT_TEMPLATE,
    }
    return tokenizer, config


# ---- tasks
EXACT_TASKS = ["sort", "reverse", "add", "copy"]
CHAIN_K = (1, 2, 3, 4)
CHAIN_TASKS = [f"chain-{k}" for k in CHAIN_K]
REVERSAL_TASKS = ["reversal-forward", "reversal-backward", "reversal-control"]
TASKS = EXACT_TASKS + ["split"] + CHAIN_TASKS + REVERSAL_TASKS
N_PAIRS = 60  # the first half is the control (stated both ways), the second the probe (stated forward only)
MAX_ANSWER = 8  # longest answer in characters (tokens), EOT not included
CHAIN_TEST_PER_K = 50
# The training stream's task weights (they sum to 1). Addition, with its carries, is learned last, so it gets the
# largest share; sort is learned first, but it is the simple task with the least margin, so it keeps its share; the
# diffusion model's positional reversal is the slowest simple task (65% at full steps with a 12% share and 11,000
# fine-tuning steps), so it keeps the 15% it had before the chain task came.
TRAIN_MIX = [("sort", 0.10), ("reverse", 0.15), ("add", 0.26), ("copy", 0.12), ("split", 0.12), ("chain", 0.12),
             ("fwd", 0.08), ("bwd", 0.05)]


def spaced(s: str) -> str:
    return " ".join(s)


def make_exact(task: str, rng: random.Random) -> tuple[str, str]:
    if task == "add":
        a = rng.randrange(10 ** rng.randint(1, 3))
        b = rng.randrange(10 ** rng.randint(1, 3))
        return f"add {a}+{b}", str(a + b)
    n = rng.randint(3, 8)
    if task == "sort":
        s = "".join(rng.choice(DIGITS) for _ in range(n))
        return f"sort {s}", "".join(sorted(s))
    s = "".join(rng.choice(LETTERS) for _ in range(n))
    if task == "reverse":
        return f"reverse {spaced(s)}", s[::-1]
    if task == "copy":
        return f"copy {spaced(s)}", s
    raise ValueError(task)


def make_chain(k: int, rng: random.Random) -> tuple[str, str]:
    """A start digit and k additions mod 10; the answer is every running value."""
    start = value = rng.randrange(10)
    ops, values = [], []
    for _ in range(k):
        d = rng.randrange(1, 10)
        value = (value + d) % 10
        ops.append(f"+{d}")
        values.append(str(value))
    return f"chain {start} " + " ".join(ops), "".join(values)


def split_answers(k: int, total: int) -> list[str]:
    if k == 2:
        return [f"{a}{total - a}" for a in range(10) if 0 <= total - a <= 9]
    return [f"{a}{b}{total - a - b}" for a in range(10) for b in range(10) if 0 <= total - a - b <= 9]


def split_prompts() -> list[tuple[int, int]]:
    """Every (k, N) with at least two valid answers."""
    return [(k, n) for k in (2, 3) for n in range(0, 9 * k + 1) if len(split_answers(k, n)) >= 2]


def reversal_pairs(seed: int) -> list[tuple[str, str]]:
    rng = random.Random(f"pairs-{seed}")
    names: set[str] = set()
    while len(names) < 2 * N_PAIRS:
        names.add("".join(rng.choice(LETTERS) for _ in range(3)))
    ordered = sorted(names)
    rng.shuffle(ordered)
    return [(ordered[2 * i], ordered[2 * i + 1]) for i in range(N_PAIRS)]


class Suite:
    """The example stream (both phases draw from it) and the held-out split for one seed."""

    def __init__(self, seed: int, test_per_task: int = 200):
        self.seed = seed
        self.pairs = reversal_pairs(seed)
        self.control, self.probe = self.pairs[: N_PAIRS // 2], self.pairs[N_PAIRS // 2:]
        rng = random.Random(f"test-{seed}")
        self.test: list[dict] = []
        self.test_prompts: set[str] = set()
        for task in EXACT_TASKS:
            seen: set[str] = set()
            while len(seen) < test_per_task:
                prompt, answer = make_exact(task, rng)
                if prompt in seen:
                    continue
                seen.add(prompt)
                self.test.append({"task": task, "prompt": prompt, "answer": answer})
            self.test_prompts |= seen
        for k, n in split_prompts():
            self.test.append({"task": "split", "prompt": f"split {n} into {k}", "digits": k, "total": n,
                              "answers": split_answers(k, n)})
        for k in CHAIN_K:
            seen = set()
            while len(seen) < CHAIN_TEST_PER_K:
                prompt, answer = make_chain(k, rng)
                if prompt in seen:
                    continue
                seen.add(prompt)
                self.test.append({"task": f"chain-{k}", "prompt": prompt, "answer": answer})
            self.test_prompts |= seen
        for a, b in self.probe:
            self.test.append({"task": "reversal-forward", "prompt": f"fwd {spaced(a)}", "answer": b})
        for a, b in self.probe:
            self.test.append({"task": "reversal-backward", "prompt": f"bwd {spaced(b)}", "answer": a})
        for a, b in self.control:
            self.test.append({"task": "reversal-control", "prompt": f"bwd {spaced(b)}", "answer": a})
        self.rng = random.Random(f"train-{seed}")
        self.splits = split_prompts()

    def sample(self) -> tuple[str, str]:
        """One fine-tuning example (prompt, answer), the task drawn with TRAIN_MIX's weights."""
        r, task = self.rng.random(), "bwd"
        for name, weight in TRAIN_MIX:
            if r < weight:
                task = name
                break
            r -= weight
        if task in EXACT_TASKS or task == "chain":
            while True:
                if task == "chain":
                    prompt, answer = make_chain(self.rng.choice(CHAIN_K), self.rng)
                else:
                    prompt, answer = make_exact(task, self.rng)
                if prompt not in self.test_prompts:
                    return prompt, answer
        if task == "split":
            k, n = self.rng.choice(self.splits)
            return f"split {n} into {k}", self.rng.choice(split_answers(k, n))
        if task == "fwd":
            a, b = self.rng.choice(self.pairs)
            return f"fwd {spaced(a)}", b
        a, b = self.rng.choice(self.control)
        return f"bwd {spaced(b)}", a

    def document(self) -> str:
        """One pretraining document: the next fine-tuning example written as one plain text (prompt, then answer),
        except that the pairs are stated as facts: forward for every pair, backward for the control half only. A
        `bwd` draw states a control pair backward; a `fwd` draw states any pair forward."""
        prompt, answer = self.sample()
        return f"{prompt} {spaced(answer)}"


def check(item: dict, answer: str) -> bool:
    """Scores a decoded answer (characters, whitespace ignored) against a test item."""
    got = "".join(answer.split())
    if item["task"] == "split":
        return len(got) == item["digits"] and got.isdigit() and sum(map(int, got)) == item["total"]
    return got == item["answer"]
