from services.kernel.runtime.migrations import run_env
from tests.support.witness.service import metadata

run_env(metadata)
