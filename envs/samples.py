"""Small built-in task sets, written for rlvr, so Math-v0, Code-v0 and ToolMath-v0 work offline.

They are the default data of those environments (for tests, smoke runs and `check_env`); real
training and evaluation pass `dataset=` (a hub id such as "openai/gsm8k" or a local file).
"""

from __future__ import annotations

#: Word problems in GSM8K layout (worked solution ending in "#### <answer>").
MATH_SAMPLES: list[dict[str, str]] = [
    {"question": "A baker makes 12 muffins in each batch and bakes 5 batches. How many muffins does she bake?",
     "answer": "12 * 5 = 60\n#### 60"},
    {"question": "Tom has 45 marbles and gives 17 to his sister. How many marbles does Tom have left?",
     "answer": "45 - 17 = 28\n#### 28"},
    {"question": "A train travels 60 km per hour for 3 hours and then 40 km per hour for 2 hours. How far does it travel?",
     "answer": "60 * 3 + 40 * 2 = 260\n#### 260"},
    {"question": "Four friends share 3 pizzas equally. What fraction of a pizza does each friend get?",
     "answer": "3 / 4\n#### 3/4"},
    {"question": "What is the value of x if 3x + 7 = 25?",
     "answer": "3x = 18 so x = 6\n#### 6"},
    {"question": "A shirt costs $20 and is on sale for 25% off. What is the sale price in dollars?",
     "answer": "20 * 0.75 = 15\n#### 15"},
    {"question": "The sum of two consecutive integers is 51. What is the larger integer?",
     "answer": "n + n + 1 = 51, n = 25, larger = 26\n#### 26"},
    {"question": "A rectangle is 8 cm long and 5 cm wide. What is its area in square centimetres?",
     "answer": "8 * 5 = 40\n#### 40"},
    {"question": "What is 2 to the power of 10?",
     "answer": "2^10 = 1024\n#### 1024"},
    {"question": "Sam reads 15 pages a day. How many days does he need to read a 120-page book?",
     "answer": "120 / 15 = 8\n#### 8"},
    {"question": "What is the remainder when 100 is divided by 7?",
     "answer": "100 = 14 * 7 + 2\n#### 2"},
    {"question": "A class has 30 students and 40% of them are girls. How many boys are in the class?",
     "answer": "girls = 12, boys = 18\n#### 18"},
    {"question": "What is the least common multiple of 4 and 6?",
     "answer": "multiples of 6: 6, 12; 12 is divisible by 4\n#### 12"},
    {"question": "A car uses 6 litres of fuel per 100 km. How many litres does it use for 250 km?",
     "answer": "6 * 2.5 = 15\n#### 15"},
    {"question": "If a dozen eggs cost $3, how much do 30 eggs cost in dollars?",
     "answer": "30 / 12 * 3 = 7.5\n#### 7.5"},
    {"question": "What is the square root of 144 plus the square root of 81?",
     "answer": "12 + 9 = 21\n#### 21"},
]

#: Function-completion tasks in HumanEval layout (prompt, test defining check(candidate), entry_point).
#: Every assert fails for a non-answer (a function returning None, 0, False, True, "", [] or its
#: argument unchanged), so none earns partial credit: an assert whose expected value such an answer
#: gives (`candidate([]) == []`, `not candidate(1)`) is joined with one it does not give.
CODE_SAMPLES: list[dict[str, str]] = [
    {
        "task_id": "sample/add",
        "prompt": 'def add(a, b):\n    """Return the sum of a and b."""\n',
        "entry_point": "add",
        "test": "def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-4, 4) == 0 and candidate(0, 1) == 1\n    assert candidate(10, 5) == 15\n",
    },
    {
        "task_id": "sample/reverse_words",
        "prompt": 'def reverse_words(s):\n    """Return the words of s in reverse order, separated by single spaces."""\n',
        "entry_point": "reverse_words",
        "test": ("def check(candidate):\n    assert candidate('one two three') == 'three two one'\n"
                 "    assert candidate('hello') == 'hello' and candidate('hello world') == 'world hello'\n"
                 "    assert candidate('  x   y ') == 'y x'\n"),
    },
    {
        "task_id": "sample/is_prime",
        "prompt": 'def is_prime(n):\n    """Return True if n is a prime number, else False."""\n',
        "entry_point": "is_prime",
        "test": ("def check(candidate):\n    assert candidate(2) and candidate(13) and not candidate(1) and not candidate(0)\n"
                 "    assert candidate(97) and not candidate(91) and not candidate(4) and candidate(3)\n"),
    },
    {
        "task_id": "sample/count_vowels",
        "prompt": 'def count_vowels(s):\n    """Return how many of the characters of s are vowels (a, e, i, o, u, either case)."""\n',
        "entry_point": "count_vowels",
        "test": ("def check(candidate):\n    assert candidate('Hello') == 2\n    assert candidate('xyz') == 0 and candidate('queue') == 4\n"
                 "    assert candidate('AEIOU xyz') == 5\n"),
    },
    {
        "task_id": "sample/running_max",
        "prompt": 'def running_max(xs):\n    """Return a list whose i-th item is the largest of xs[0..i]."""\n',
        "entry_point": "running_max",
        "test": ("def check(candidate):\n    assert candidate([1, 3, 2, 5]) == [1, 3, 3, 5]\n"
                 "    assert candidate([]) == [] and candidate([5, 1, 7]) == [5, 5, 7]\n"
                 "    assert candidate([-3, -1, -2]) == [-3, -1, -1]\n"),
    },
]
