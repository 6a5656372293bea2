from services.kernel.runtime.migrations import run_env
from services.scheduling.storage.tables import metadata

run_env(metadata)
