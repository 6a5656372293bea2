from services.kernel.runtime.migrations import run_env
from services.spaces.storage.tables import metadata

run_env(metadata)
