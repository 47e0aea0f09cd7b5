"""Custom column types, kept in the tree's own python/ folder as upstream keeps its pg_sphere types."""

from sqlalchemy.types import UserDefinedType


class SkyPosition(UserDefinedType):
    """A composite type the first revision creates (upstream's SPoint needs pg_sphere)."""

    cache_ok = True

    def get_col_spec(self) -> str:
        return "cdb_latiss.sky_position"
