from services.kernel.runtime.migrations import run_env
from services.reporting.storage.tables import metadata

run_env(metadata)
