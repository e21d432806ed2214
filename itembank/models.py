"""Import every ORM module so that ``Base.metadata`` holds the whole schema.

Modules that add tables (workflow, assembly records, lifecycle, accounts ...) are listed here;
Alembic's env.py and the schema test import this module.
"""

from itembank import orm  # noqa: F401
from itembank import orm_accounts  # noqa: F401
from itembank import orm_analysis  # noqa: F401
from itembank import orm_assembly  # noqa: F401
from itembank import orm_jobs  # noqa: F401
from itembank import orm_lifecycle  # noqa: F401
from itembank import orm_media  # noqa: F401
from itembank import orm_sealing  # noqa: F401
from itembank import orm_workflow  # noqa: F401

metadata = orm.Base.metadata
