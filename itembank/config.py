"""Settings, read from the environment (prefix ``ITEMBANK_``) or a ``.env`` file."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///itembank.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ITEMBANK_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL. The embedded default is a SQLite file in the working directory;
    for PostgreSQL use ``postgresql+psycopg://user:password@host/dbname``."""

    echo_sql: bool = False
    centre_name: str = "职业技能等级认定中心"
    """Printed on papers and reports."""

    section_order: str = ""
    """The centre's order of a paper's sections, item types separated by commas
    (``single_choice,true_false,...``); types it leaves out follow in the national template's
    order (一、单项选择题 二、多项选择题 三、判断题 …), which is the default."""

    default_locale: str = "zh_CN"
    """The language of pages, errors, documents and the CLI when a request or the
    environment asks for none: ``zh_CN`` (default) or ``en``."""

    time_zone: str = "Asia/Shanghai"
    """The centre's time zone: times are stored in UTC and shown in this zone."""

    token_lifetime_hours: float = 8.0
    """Bearer tokens expire after this many hours."""

    host: str = "127.0.0.1"
    port: int = 8000
