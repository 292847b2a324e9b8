"""Gymnasium text environments: base classes, task sources, the registry, tools and batching.

    import rlvr
    env = rlvr.make("rlvr/Math-v0")                       # built-ins are registered by `import rlvr`
    vec = rlvr.envs.make_vec("rlvr/Countdown-v0", 64)     # a batch stepped concurrently

See docs/envs.md.
"""

from rlvr.envs.base import InfrastructureError, SingleTurnEnv, TextEnv, Turn
from rlvr.envs.fingerprint import Fingerprint
from rlvr.envs.registry import BUILTIN_ENVS, UnknownEnvError, make, register, registered_ids
from rlvr.envs.rewards import RewardWeights
from rlvr.envs.spaces import TextSpace
from rlvr.envs.tasks import DatasetError, GeneratorError, GeneratorSource, ListSource, Task, TaskSource
from rlvr.envs.tools import Tool, ToolError, ToolInfraError, tool
from rlvr.envs.vector import TextVectorEnv, make_vec

__all__ = [
    "TextEnv", "SingleTurnEnv", "Turn", "InfrastructureError", "Fingerprint", "BUILTIN_ENVS",
    "UnknownEnvError", "make", "register", "registered_ids", "RewardWeights", "TextSpace",
    "DatasetError", "GeneratorError", "GeneratorSource", "ListSource", "Task", "TaskSource", "Tool", "ToolError",
    "ToolInfraError", "tool", "TextVectorEnv", "make_vec",
]
