"""The assessment service's tables (none yet)."""

from sqlalchemy import MetaData

metadata = MetaData()
