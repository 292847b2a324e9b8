"""Small local stand-ins for each built-in benchmark, in the real column layout of its hub release.

There is no network on the machines the project is built and tested on, so tests, examples and
`benchmarks/perf/eval_bench.py` write these rows to a file and pass it as `--data`. The problems
are written for this project (not taken from the datasets); only the columns match the releases,
including their quirks (GSM8K's "#### n", MATH's \\boxed solutions, HumanEval's prompt +
continuation, MBPP sanitized's `test_imports`, APPS's JSON-encoded `input_output` and
`solutions`, and an APPS call-based problem answered by a LeetCode-style `class Solution`).
"""

from __future__ import annotations

import json
import os
from typing import Any

GSM8K = [
    {"question": "Mia has 3 boxes with 6 pencils each. She gives away 4 pencils. How many pencils does she have left?",
     "answer": "Mia had 3 * 6 = <<3*6=18>>18 pencils.\nAfter giving 4 away she has 18 - 4 = <<18-4=14>>14.\n#### 14"},
    {"question": "A bus ticket costs $2. How much do 7 tickets and a $5 snack cost together?",
     "answer": "Tickets cost 7 * 2 = <<7*2=14>>14 dollars.\nWith the snack: 14 + 5 = <<14+5=19>>19.\n#### 19"},
    {"question": "A farm sells 1,200 eggs a week. How many eggs does it sell in 3 weeks?",
     "answer": "3 * 1,200 = <<3*1200=3600>>3,600 eggs.\n#### 3,600"},
    {"question": "Tom reads 12 pages a day. How many days does a 96-page book take him?",
     "answer": "96 / 12 = <<96/12=8>>8 days.\n#### 8"},
]

MATH500 = [
    {"problem": "Compute $\\frac{3}{4} + \\frac{1}{6}$.", "solution": "Common denominator 12: $\\frac{9}{12} + \\frac{2}{12} = \\boxed{\\frac{11}{12}}$.",
     "answer": "\\frac{11}{12}", "subject": "Prealgebra", "level": 1, "unique_id": "test/prealgebra/9001.json"},
    {"problem": "Find $x$ if $2x + 7 = 19$.", "solution": "Subtract 7 and divide by 2: $x = \\boxed{6}$.",
     "answer": "6", "subject": "Algebra", "level": 1, "unique_id": "test/algebra/9002.json"},
    {"problem": "What is the distance between $(0,0)$ and $(2,2)$?", "solution": "By Pythagoras it is $\\sqrt{2^2+2^2} = \\boxed{2\\sqrt{2}}$.",
     "answer": "2\\sqrt{2}", "subject": "Geometry", "level": 2, "unique_id": "test/geometry/9003.json"},
    {"problem": "Solve $x^2 - 5x + 6 = 0$ and give the larger root.", "solution": "It factors as $(x-2)(x-3)$, so the larger root is $\\boxed{3}$.",
     "answer": "3", "subject": "Algebra", "level": 2, "unique_id": "test/algebra/9004.json"},
]

AIME2024 = [
    {"id": 60, "problem": "Find the remainder when $2^{10}$ is divided by $1000$.", "solution": "$2^{10} = 1024$, remainder $\\boxed{024}$.",
     "answer": "24", "url": "https://example.invalid/aime/2024/1", "year": 2024},
    {"id": 61, "problem": "How many positive divisors does $360$ have?", "solution": "$360 = 2^3 3^2 5$, so $4 \\cdot 3 \\cdot 2 = 24$.",
     "answer": "24", "url": "https://example.invalid/aime/2024/2", "year": 2024},
    {"id": 62, "problem": "What is $7 \\cdot 11 \\cdot 13$?", "solution": "It is $1001$.",
     "answer": "1001", "url": "https://example.invalid/aime/2024/3", "year": 2024},
]

AIME2025 = [
    {"id": "I-1", "problem": "Find the sum of all positive integers $n < 10$ that are prime.", "answer": "17",
     "url": "https://example.invalid/aime/2025/1", "year": "2025"},
    {"id": "I-2", "problem": "Compute $\\binom{8}{3}$.", "answer": "56", "url": "https://example.invalid/aime/2025/2", "year": "2025"},
]

HUMANEVAL = [
    {"task_id": "HumanEval/0", "prompt": "def add(a: int, b: int) -> int:\n    \"\"\"Return the sum of a and b.\n    >>> add(2, 3)\n    5\n    \"\"\"\n",
     "canonical_solution": "    return a + b\n",
     "test": "\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n    assert candidate(10, 0) == 10\n",
     "entry_point": "add"},
    {"task_id": "HumanEval/1", "prompt": "from typing import List\n\n\ndef evens(xs: List[int]) -> List[int]:\n    \"\"\"Keep the even numbers of xs, in order.\n    >>> evens([1, 2, 3, 4])\n    [2, 4]\n    \"\"\"\n",
     "canonical_solution": "    return [x for x in xs if x % 2 == 0]\n",
     "test": "\n\ndef check(candidate):\n    assert candidate([1, 2, 3, 4]) == [2, 4]\n    assert candidate([]) == []\n    assert candidate([7, 9]) == []\n",
     "entry_point": "evens"},
    {"task_id": "HumanEval/2", "prompt": "def is_palindrome(text: str) -> bool:\n    \"\"\"Whether text reads the same backwards.\n    >>> is_palindrome('aba')\n    True\n    \"\"\"\n",
     "canonical_solution": "    return text == text[::-1]\n",
     "test": "\n\ndef check(candidate):\n    assert candidate('aba') is True\n    assert candidate('ab') is False\n    assert candidate('') is True\n",
     "entry_point": "is_palindrome"},
]

MBPP = [
    {"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 2, "prompt": "Write a function to find the shared elements of two lists, sorted.",
     "code": "def shared(a, b):\n    return sorted(set(a) & set(b))", "test_imports": [],
     "test_list": ["assert shared([1, 2, 3], [2, 3, 4]) == [2, 3]", "assert shared([1], [2]) == []"]},
    {"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 3, "prompt": "Write a function to compute the area of a circle of radius r.",
     "code": "import math\ndef circle_area(r):\n    return math.pi * r * r", "test_imports": ["import math"],
     "test_list": ["assert math.isclose(circle_area(1), 3.141592653589793)", "assert math.isclose(circle_area(2), 12.566370614359172)"]},
    {"source_file": "Benchmark Questions Verification V2.ipynb", "task_id": 4, "prompt": "Write a python function to count the vowels in a string.",
     "code": "def count_vowels(s):\n    return sum(ch in 'aeiouAEIOU' for ch in s)", "test_imports": [],
     "test_list": ["assert count_vowels('hello') == 2", "assert count_vowels('xyz') == 0", "assert count_vowels('AEIOU') == 5"]},
]

APPS = [
    {"problem_id": 4001, "question": "Read two integers a and b on one line and print their sum.",
     "solutions": json.dumps(["a, b = map(int, input().split())\nprint(a + b)"]),
     "input_output": json.dumps({"inputs": ["1 2\n", "10 -3\n"], "outputs": ["3\n", "7\n"]}),
     "difficulty": "introductory", "url": "https://example.invalid/apps/4001", "starter_code": ""},
    {"problem_id": 4002, "question": "Read a line and print it reversed.",
     "solutions": json.dumps(["print(input()[::-1])"]),
     "input_output": json.dumps({"inputs": ["abc\n", "racecar\n"], "outputs": ["cba\n", "racecar\n"]}),
     "difficulty": "introductory", "url": "https://example.invalid/apps/4002", "starter_code": ""},
    {"problem_id": 4003, "question": "Read n and then n integers, one per line; print the largest.",
     "solutions": json.dumps(["n = int(input())\nprint(max(int(input()) for _ in range(n)))"]),
     "input_output": json.dumps({"inputs": ["3\n1\n5\n2\n", "1\n-4\n"], "outputs": ["5\n", "-4\n"]}),
     "difficulty": "interview", "url": "https://example.invalid/apps/4003", "starter_code": ""},
    {"problem_id": 4004, "question": "Implement double(x): return twice x (call-based: the tests call it).",
     "solutions": json.dumps(["class Solution:\n    def double(self, x):\n        return 2 * x"]),
     "input_output": json.dumps({"fn_name": "double", "inputs": [[1]], "outputs": [2]}),
     "difficulty": "interview", "url": "https://example.invalid/apps/4004", "starter_code": "class Solution:\n    def double(self, x):\n"},
]

SAMPLE_ROWS: dict[str, list[dict[str, Any]]] = {
    "gsm8k": GSM8K, "math500": MATH500, "aime2024": AIME2024, "aime2025": AIME2025,
    "humaneval": HUMANEVAL, "mbpp": MBPP, "apps": APPS,
}


def write_sample(name: str, path: str, *, repeat: int = 1) -> str:
    """Write benchmark `name`'s sample rows as JSONL to `path` (`repeat` copies with fresh ids)."""
    rows = SAMPLE_ROWS[name]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        for r in range(repeat):
            for row in rows:
                row = dict(row)
                if r:
                    for key in ("task_id", "unique_id", "id", "problem_id"):
                        if key in row:
                            row[key] = f"{row[key]}-{r}" if isinstance(row[key], str) else int(row[key]) + 100000 * r
                    if name == "gsm8k":
                        row["question"] = row["question"] + f" (copy {r})"
                handle.write(json.dumps(row) + "\n")
    return path
