"""Runtimes: one Python virtual environment per Spark line, built once, cached and reused."""

from certify.runtimes.envs import EnvCache, EnvStatus, env_dir
from certify.runtimes.spec import RuntimeSpec, runtime_specs

__all__ = ["EnvCache", "EnvStatus", "RuntimeSpec", "env_dir", "runtime_specs"]
