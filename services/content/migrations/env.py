from services.content.storage.tables import metadata
from services.kernel.runtime.migrations import run_env

run_env(metadata)
