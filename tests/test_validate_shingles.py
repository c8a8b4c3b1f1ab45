"""C12's shingle containment: the vectorised version equals the plain definition, pair by pair."""

from __future__ import annotations

import random
import re

from assets.validate.shingles import containment


def reference(part: str, whole: str, size: int = 8) -> float:
    """The catalog's definition, written the obvious way."""
    part, whole = re.sub(r"\s+", "", part), re.sub(r"\s+", "", whole)
    shingles = {part[i:i + size] for i in range(max(len(part) - size + 1, 0))}
    if not shingles:
        return 0.0
    return len(shingles & {whole[i:i + size] for i in range(max(len(whole) - size + 1, 0))}) / len(shingles)


def test_matches_the_definition_on_random_pairs():
    rng = random.Random(7)
    alphabet = "政府信息公开指南制度解读文件\u3000\xa0 \nab"
    parts, wholes = [], []
    for _ in range(2000):
        whole = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80)))
        noise = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        part = whole[rng.randint(0, 20):rng.randint(0, 80)] + noise
        parts.append(part)
        wholes.append(whole)
    shares = containment(parts, wholes)
    assert [round(s, 12) for s in shares] == [round(reference(p, w), 12) for p, w in zip(parts, wholes)]


def test_edge_cases():
    text = "为加强专项资金管理，提高资金使用效益，制定本办法。"
    assert list(containment([text, "短文本", "", text], [text, text, text, "完全不同的另一段文字内容在这里"])) == [1.0, 0.0, 0.0, 0.0]
    assert list(containment([" 为加强\n专项资金管理 "], [text])) == [1.0]
    assert len(containment([], [])) == 0
