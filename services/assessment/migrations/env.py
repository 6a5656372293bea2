from services.assessment.storage import metadata
from services.kernel.runtime.migrations import run_env

run_env(metadata)
